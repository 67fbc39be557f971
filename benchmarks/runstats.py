"""Measuring one command the way the throughput benchmark needs it.

``run_measured`` starts a command and, while it runs, samples the resident memory of its whole
process tree (from /proc) and, optionally, tails an ``autograder grade`` journal to timestamp
every finished submission. It reaps the command with ``os.wait4``, whose rusage covers the
command and every descendant that was waited for: ``ru_maxrss`` is the peak RSS of the largest
single process in the tree (the same number ``getrusage(RUSAGE_CHILDREN)`` gives, but for this
one command instead of everything the benchmark ever started), and the CPU times are the tree's.
Other CPU use on the machine during the run (from /proc/stat) is recorded as a noise indicator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class RunStats:
    """What one measured command did."""

    command: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mb: float  # largest single process in the tree (wait4 rusage)
    tree_peak_mb: float  # largest sum of RSS over the live tree (sampled)
    peak_by_depth_mb: dict[int, float]  # largest single-process RSS at each tree depth
    processes_seen: int
    peak_grading_processes: int  # most grading processes (shards) alive at once
    foreign_cpu_s: float  # CPU used by anything else on the machine during the run
    observer_cpu_s: float  # CPU this benchmark spent watching (sampling /proc, the journal)
    stdout_tail: str
    stderr_tail: str
    completions: list[tuple[float, str]] = field(default_factory=list)  # (s since start, id)

    def summary(self) -> dict[str, Any]:
        """The JSON-friendly fields (completions are summarised elsewhere)."""
        return {
            "command": self.command,
            "returncode": self.returncode,
            "wall_s": round(self.wall_s, 3),
            "cpu_user_s": round(self.user_s, 3),
            "cpu_sys_s": round(self.sys_s, 3),
            "maxrss_mb": round(self.maxrss_mb, 1),
            "tree_peak_rss_mb": round(self.tree_peak_mb, 1),
            "peak_rss_by_tree_depth_mb": {
                str(k): round(v, 1) for k, v in sorted(self.peak_by_depth_mb.items())
            },
            "processes_seen": self.processes_seen,
            "peak_grading_processes": self.peak_grading_processes,
            "foreign_cpu_s": round(self.foreign_cpu_s, 2),
            "observer_cpu_s": round(self.observer_cpu_s, 2),
            "stderr_tail": self.stderr_tail,
        }


def _busy_cpu_s() -> float:
    """Non-idle CPU seconds of the whole machine since boot."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user time
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, RSS in KiB) for every process visible in /proc."""
    table: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses; fields resume after the last ')'
        rest = stat[stat.rfind(")") + 2 :].split()
        table[int(name)] = (int(rest[1]), int(rest[21]) * PAGE_KB)
    return table


class _TreeSampler(threading.Thread):
    """Samples the RSS of ``root``'s process tree every ``interval`` seconds."""

    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.stop = threading.Event()
        self.peak_kb = 0
        self.by_depth_kb: dict[int, int] = {}
        self.seen: set[int] = set()
        self.peak_children = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)

    def sample(self) -> None:
        table = _process_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        total = 0
        frontier = [(self.root, 0)]
        while frontier:
            pid, depth = frontier.pop()
            if pid not in table:
                continue
            rss = table[pid][1]
            total += rss
            self.seen.add(pid)
            self.by_depth_kb[depth] = max(self.by_depth_kb.get(depth, 0), rss)
            frontier += [(child, depth + 1) for child in children.get(pid, [])]
        self.peak_kb = max(self.peak_kb, total)
        # Grading processes: the command's children with a sandbox runner of their own (the
        # zygote that forks them has none). A lone child is the grading process (nbgrader's,
        # between kernels); several without runners are the zygote and shards starting up.
        direct = children.get(self.root, [])
        grading = direct if len(direct) == 1 else [pid for pid in direct if children.get(pid)]
        self.peak_children = max(self.peak_children, len(grading))


class _JournalTail(threading.Thread):
    """Timestamps each line appended to an ``autograder grade`` journal."""

    def __init__(self, path: Path, start: float, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.start_time = start
        self.interval = interval
        self.stop = threading.Event()
        self.completions: list[tuple[float, str]] = []
        self._inode: int | None = None
        self._offset = 0
        self._partial = ""

    def run(self) -> None:
        while not self.stop.is_set():
            self.poll()
            self.stop.wait(self.interval)
        self.poll()

    def poll(self) -> None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return
        if info.st_ino != self._inode:  # the grader rewrites the journal once at start
            self._inode, self._offset, self._partial = info.st_ino, 0, ""
            self.completions = []
        if info.st_size <= self._offset:
            return
        now = time.perf_counter() - self.start_time
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
            self._offset = handle.tell()
        text = self._partial + chunk
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "student" in entry:
                self.completions.append((now, str(entry["student"])))


def _kill_group_after(pid: int, seconds: float) -> threading.Timer:
    """Kill ``pid``'s process group (it leads one) after ``seconds``."""

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()
    return timer


def _tail(path: Path, limit: int = 2000) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return text[-limit:]


def run_measured(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    journal: Path | None = None,
    sample_interval: float = 0.25,
    log_dir: Path,
    name: str,
    timeout: float | None = None,
) -> RunStats:
    """Run ``command`` to completion and measure it (see the module docstring).

    The command runs in its own session; after ``timeout`` seconds its process group is killed
    (a hung grader must not hang the benchmark) and the return code says so.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    busy_before = _busy_cpu_s()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        watchdog = _kill_group_after(process.pid, timeout) if timeout else None
        sampler = _TreeSampler(process.pid, sample_interval)
        sampler.start()
        tail = _JournalTail(journal, start) if journal is not None else None
        if tail is not None:
            tail.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if watchdog is not None:
            watchdog.cancel()
        sampler.stop.set()
        sampler.join()
        if tail is not None:
            tail.stop.set()
            tail.join()
    busy = _busy_cpu_s() - busy_before
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    own = (self_after.ru_utime - self_before.ru_utime) + (
        self_after.ru_stime - self_before.ru_stime
    )
    return RunStats(
        command=list(command),
        returncode=process.returncode,
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024,
        tree_peak_mb=sampler.peak_kb / 1024,
        peak_by_depth_mb={d: kb / 1024 for d, kb in sampler.by_depth_kb.items()},
        processes_seen=len(sampler.seen),
        peak_grading_processes=sampler.peak_children,
        foreign_cpu_s=max(0.0, busy - usage.ru_utime - usage.ru_stime - own),
        observer_cpu_s=own,
        stdout_tail=_tail(out_path),
        stderr_tail=_tail(err_path),
        completions=tail.completions if tail is not None else [],
    )


def service_times(journal: Path) -> dict[str, float] | None:
    """Seconds each submission occupied a grading process, as the grader journaled them."""
    times: dict[str, float] = {}
    try:
        lines = journal.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        entry = json.loads(line)
        if "student" in entry and "seconds" in entry:
            times[str(entry["student"])] = float(entry["seconds"])
    return times or None


def bare_fork_ms(reps: int = 200) -> dict[str, float]:
    """fork + ``_exit`` + waitpid from this process (numpy imported): the floor of a worker."""
    import numpy  # noqa: F401  (the parent of a real worker has numpy loaded)

    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        samples.append((time.perf_counter() - started) * 1000)
    return describe(samples, digits=3)


def describe(samples: Sequence[float], digits: int = 1) -> dict[str, float]:
    """Median, 10th and 90th percentile, min, max and count of ``samples``."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "median": round(statistics.median(ordered), digits),
        "p10": round(pick(0.1), digits),
        "p90": round(pick(0.9), digits),
        "min": round(ordered[0], digits),
        "max": round(ordered[-1], digits),
        "sum": round(sum(ordered), digits),
    }


def machine_info(repo: Path) -> dict[str, Any]:
    """Where and with what the numbers were measured."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    versions: dict[str, str] = {}
    for module in ("numpy", "pytest", "nbgrader"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = "not installed"
    commit = _git(repo, "rev-parse", "HEAD")
    dirty = bool(_git(repo, "status", "--porcelain", "--untracked-files=no"))
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "mem_total_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        **{f"{k}_version": v for k, v in versions.items()},
        "repo_commit": commit,
        "repo_dirty": dirty,
        "loadavg_at_start": list(os.getloadavg()),
    }


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()
