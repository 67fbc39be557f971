"""Hostile submissions against the real grader: one class, one ``autograder grade`` run.

The module-scoped ``main_run`` fixture copies the files of ``submissions/`` into a class
folder (in the order of ``expected.MAIN_ORDER``, honest neighbours among them), runs
``autograder grade linear CLASS --out OUT --jobs 2`` once from the repository root with the
real course, and records everything around it: exit status, grades, the processes left, the
files changed, what reached a loopback server, the grading processes' peak memory.
``tight_run`` does the same for the endless submissions in a copy of the course with tight
time limits (``expected.TIGHT_LIMITS``), ``solo_run`` grades the honest copies of both alone
(same ids, same secret) for comparison, and ``ordering_run`` grades a planter and its victim
one after the other with ``--jobs 1``.

Each test then asserts one property. A failure here is a finding about the sandbox or the
grader (the message carries the evidence), never a reason to loosen the test.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.adversarial.expected import (
    CONTROL,
    EXPECTED,
    HONEST,
    ITEMS,
    MAIN_ORDER,
    MAX_SCORE,
    ORDERING_CLASS,
    TIGHT_LIMITS,
    TIGHT_ORDER,
    student_ids,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="the full sandbox (a uid of its own per slot) needs root; CI runs as root",
    ),
]

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SUBMISSIONS = HERE / "submissions"
SANDBOX_UIDS = range(64000, 65000)  # BASE_UID + slot (autograder.sandbox.sandbox)
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
RUN_TIMEOUT = 600.0
SETTLE_SECONDS = 10.0
# A grading process may hold a 64 MiB reply, its decoded copy and a few working copies; 16x
# the frame cap leaves room for all of that and none for an amplification attack.
PEAK_RSS_LIMIT_KB = 1024 * 1024
SECRET = "ag-adversarial-" + secrets.token_hex(16)
SKIP_TREE = frozenset({".git", ".ruff_cache", ".mypy_cache", ".pytest_cache"})
# Names only a hostile submission creates (ag_pwned_*, ag_plant_*, ag_shadow, ag_cwd).
MARKER_NAMES = ("ag_pwned*", "ag_plant*", "ag_shadow", "ag_cwd")
MARKER_DIRS = ("/", "/root", *SCRATCH_DIRS)
# A notebook's "__AG_JSON_BOMB__" becomes this many empty lists: just under the grader's
# 64 MiB limit for a notebook (too large to keep in the repository).
JSON_BOMB_LISTS = (64 * 1024 * 1024 - 4096) // 3


# -- observation helpers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    """One process as /proc shows it."""

    pid: int
    uid: int
    ppid: int
    name: str
    cmdline: str
    marked: bool
    peak_kb: int
    start: int  # clock ticks after boot (/proc/<pid>/stat field 22): tells pids apart

    def describe(self) -> str:
        return (
            f"pid {self.pid} uid {self.uid} ppid {self.ppid} {self.name!r} {self.cmdline[:160]!r}"
        )


def _read(path: str, limit: int = 1 << 20) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return b""


def processes(marker: str) -> dict[int, Proc]:
    """Every process, with whether its environment carries ``marker`` (our run's tag)."""
    table: dict[int, Proc] = {}
    needle = f"AG_ADVERSARIAL_RUN={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        status = _read(f"/proc/{entry}/status").decode(errors="replace")
        if not status:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            uid = int(fields["Uid"].split()[0])
            ppid = int(fields["PPid"])
        except (KeyError, ValueError, IndexError):
            continue
        peak = fields.get("VmHWM", "0 kB").split()[0]
        stat = _read(f"/proc/{entry}/stat").decode(errors="replace")
        after_name = stat.rsplit(")", 1)[-1].split()
        start = int(after_name[19]) if len(after_name) > 19 and after_name[19].isdigit() else 0
        table[int(entry)] = Proc(
            pid=int(entry),
            uid=uid,
            ppid=ppid,
            name=fields.get("Name", "").strip(),
            cmdline=_read(f"/proc/{entry}/cmdline").replace(b"\0", b" ").decode(errors="replace"),
            marked=needle in _read(f"/proc/{entry}/environ"),
            peak_kb=int(peak) if peak.isdigit() else 0,
            start=start,
        )
    return table


def now_ticks() -> int:
    """The current time in the clock ticks of /proc/<pid>/stat's start times."""
    uptime = float(_read("/proc/uptime").split()[0])
    return int(uptime * os.sysconf("SC_CLK_TCK"))


def slot_uids(holders: set[int]) -> set[int]:
    """The sandbox uids whose slot lock (/run/autograder-sandbox) is held by ``holders``."""
    inodes = {}
    for lock in Path("/run/autograder-sandbox").glob("slot-*.lock"):
        with contextlib.suppress(OSError, ValueError):
            inodes[lock.stat().st_ino] = SANDBOX_UIDS.start + int(lock.stem.split("-")[1])
    uids = set()
    for line in _read("/proc/locks").decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) > 5 and parts[1] == "FLOCK" and parts[4].isdigit():
            inode = parts[5].rsplit(":", 1)[-1]
            if int(parts[4]) in holders and inode.isdigit() and int(inode) in inodes:
                uids.add(inodes[int(inode)])
    return uids


def _held_by_another_run(proc: Proc, table: dict[int, Proc], watch: RunWatch) -> bool:
    """Is ``proc``, through its parents, still held by a live grading process not of our run?

    Slots (and so sandbox uids) are reused machine-wide: a later run's sandbox runner can get
    a uid our run held. What our run leaves behind has lost its grader and been re-parented
    to pid 1, or to a sandbox runner that is itself left over; another run's process still
    hangs under that run's own grading process (root's, not ours).
    """
    seen = set()
    while proc.ppid in table and proc.ppid > 1 and proc.pid not in seen:
        seen.add(proc.pid)
        proc = table[proc.ppid]
        if (proc.pid, proc.start) in watch.descendants:
            return False
        if proc.uid not in SANDBOX_UIDS:
            return True
    return False


def _ours(proc: Proc, table: dict[int, Proc], watch: RunWatch, ended: int, tmp_root: Path) -> bool:
    """Was ``proc`` started by our run (so it must be gone after it)?

    Attribution, not guesswork, because other grading runs may share the machine: a
    descendant of our grader seen during the run, a process carrying our environment tag or a
    hostile's name, or a process of a sandbox uid our run held the slot lock of, started
    before our run ended and not held by another run's grader.
    """
    return (
        proc.marked
        or (proc.pid, proc.start) in watch.descendants
        or (
            proc.uid in watch.uids
            and proc.start <= ended
            and not _held_by_another_run(proc, table, watch)
        )
        or proc.name.startswith("ag_hostile")
        or "ag_hostile_marker" in proc.cmdline
        or str(tmp_root) in proc.cmdline
    )


class RunWatch:
    """Polls, while the run grades: its processes, their peak RSS and its sandbox uids."""

    def __init__(self, marker: str, root: int, journal: Path) -> None:
        self.marker = marker
        self.root = root
        self.journal = journal
        self.started = time.monotonic()
        self.finished: dict[str, float] = {}  # student -> seconds into the run (evidence)
        self.peaks: dict[int, tuple[int, str]] = {}
        self.descendants: set[tuple[int, int]] = set()
        self.uids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def poll(self) -> None:
        table = processes(self.marker)
        children: dict[int, list[int]] = {}
        for proc in table.values():
            children.setdefault(proc.ppid, []).append(proc.pid)
        todo = [self.root]
        while todo:
            pid = todo.pop()
            if pid in table:
                self.descendants.add((pid, table[pid].start))
                if table[pid].uid in SANDBOX_UIDS:
                    self.uids.add(table[pid].uid)
            todo += children.get(pid, [])
        marked = {p.pid for p in table.values() if p.marked}
        self.uids |= slot_uids(marked)
        for proc in table.values():
            if proc.marked and proc.peak_kb > self.peaks.get(proc.pid, (0, ""))[0]:
                self.peaks[proc.pid] = (proc.peak_kb, proc.cmdline[:120])
        journal = _read(str(self.journal), 1 << 26).decode(errors="replace")
        for student in re.findall(r'"student": "([^"]+)"', journal):
            self.finished.setdefault(student, time.monotonic() - self.started)

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.poll()

    def __enter__(self) -> RunWatch:
        self.poll()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()  # the last journal lines


class LoopbackServer:
    """TCP and UDP on one 127.0.0.1 port, plus an abstract unix socket; records every visit."""

    def __init__(self) -> None:
        self.visits: list[str] = []
        self.unix_name = "ag_adversarial_" + secrets.token_hex(8)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.unix_name)
        self.unix.listen(16)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._accept, args=(s, k), daemon=True)
            for s, k in ((self.tcp, "tcp"), (self.unix, "unix"))
        ] + [threading.Thread(target=self._datagrams, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _accept(self, server: socket.socket, kind: str) -> None:
        server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    data = conn.recv(200)
                except OSError:
                    data = b""
            self.visits.append(f"{kind} from {peer!r}: {data!r}")

    def _datagrams(self) -> None:
        self.udp.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(200)
            except OSError:
                continue
            self.visits.append(f"udp from {peer!r}: {data!r}")

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


def tree_state(root: Path, *, hash_limit: int = 2 << 20) -> dict[str, tuple[Any, ...]]:
    """path -> (uid, mode, size, mtime, ctime[, sha256]) for every file under ``root``.

    ``.venv`` is compared by metadata only (fast); compiled ``.pyc`` files are left out because
    Python writes them legitimately, but any other file inside ``__pycache__`` counts.
    """
    state: dict[str, tuple[Any, ...]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_TREE]
        in_cache = os.path.basename(folder) == "__pycache__"
        for name in files:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if in_cache and name.endswith(".pyc") and info.st_uid not in SANDBOX_UIDS:
                continue
            meta: tuple[Any, ...] = (
                info.st_uid,
                info.st_mode,
                info.st_size,
                info.st_mtime_ns,
                info.st_ctime_ns,
            )
            if "/.venv/" not in path and info.st_size <= hash_limit and os.path.isfile(path):
                meta += (hashlib.sha256(Path(path).read_bytes()).hexdigest(),)
            state[os.path.relpath(path, root)] = meta
    return state


def tree_changes(
    before: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]]
) -> list[str]:
    changes = [f"new {p}" for p in sorted(after.keys() - before.keys())]
    changes += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    changes += [
        f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]
    ]
    return changes


def scratch_state() -> dict[str, int]:
    """Top-level entries of the shared scratch directories -> owner uid."""
    entries: dict[str, int] = {}
    for folder in SCRATCH_DIRS:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            with contextlib.suppress(OSError):
                entries[os.path.join(folder, name)] = os.lstat(os.path.join(folder, name)).st_uid
    return entries


def marker_files() -> set[str]:
    found = {str(p) for d in MARKER_DIRS for n in MARKER_NAMES for p in Path(d).glob(n)}
    return found | ({"/autograder"} if os.path.exists("/autograder") else set())


# -- building and running a class -------------------------------------------------------------


@dataclass
class Run:
    """Everything observed around one ``autograder grade`` run."""

    out: Path
    classdir: Path
    students: dict[str, str]  # student id -> submission name
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    finished: bool = False
    leftovers: list[str] = field(default_factory=list)
    peaks: dict[int, tuple[int, str]] = field(default_factory=dict)
    repo_changes: list[str] = field(default_factory=list)
    class_changes: list[str] = field(default_factory=list)
    tmpdir_left: list[str] = field(default_factory=list)
    scratch_new: dict[str, int] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)
    visits: list[str] = field(default_factory=list)
    finished_at: dict[str, float] = field(default_factory=dict)

    @property
    def grades(self) -> dict[str, Any]:
        path = self.out / "grades.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def grade(self, student: str) -> dict[str, Any]:
        return self.grades.get("students", {}).get(student, {})

    def feedback(self, student: str) -> str:
        path = self.out / "feedback" / f"{student}.md"
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""

    def printed(self, student: str) -> str:
        """What the submission printed, as journaled by the grader (evidence only)."""
        journal = self.out / ".autograder" / "journal.jsonl"
        text = journal.read_text(encoding="utf-8", errors="replace") if journal.is_file() else ""
        found = ""
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("student") == student:
                found = str(entry.get("output", ""))
        return found

    def evidence(self, student: str) -> str:
        grade = self.grade(student)
        items = {k: v.get("score") for k, v in grade.get("items", {}).items()}
        return (
            f"\n--- {student}: status={grade.get('status')} score={grade.get('score')} "
            f"items={items}\n--- feedback:\n{self.feedback(student)[:3000]}"
            f"\n--- printed:\n{self.printed(student)[:2000]}"
        )


def build_class(classdir: Path, students: dict[str, str], fills: dict[str, str]) -> None:
    """One folder per student holding its submission as linear.py (or linear.ipynb, for a
    notebook in ``submissions/``), placeholders filled in.

    Each submission also learns its own student id (``__AG_SELF__``), as a real student knows.
    """
    for student, name in students.items():
        notebook = SUBMISSIONS / f"{name}.ipynb"
        path = notebook if notebook.is_file() else SUBMISSIONS / f"{name}.py"
        source = path.read_text(encoding="utf-8")
        for placeholder, value in {**fills, "__AG_SELF__": student}.items():
            source = source.replace(placeholder, value.replace("\\", "\\\\").replace('"', '\\"'))
        if '"__AG_JSON_BOMB__"' in source:
            source = source.replace('"__AG_JSON_BOMB__"', ("[]," * JSON_BOMB_LISTS)[:-1])
        folder = classdir / student
        folder.mkdir(parents=True)
        (folder / f"linear{path.suffix}").write_text(source, encoding="utf-8")


def grade_class(
    root: Path,
    order: tuple[str, ...],
    *,
    jobs: int,
    server: LoopbackServer | None = None,
    course: Path | None = None,
    prefix: str = "",
) -> Run:
    """Build the class under ``root``, grade it once, and record what happened around it."""
    students = student_ids(order, prefix)
    run = Run(out=root / "out", classdir=root / "class", students=students)
    private_tmp = root / "grader-tmp"
    private_tmp.mkdir()
    marker = secrets.token_hex(8)
    fills = {
        "__AG_OUT__": str(run.out),
        "__AG_CLASS__": str(run.classdir),
        "__AG_REPO__": str(REPO),
        "__AG_PORT__": str(server.port if server else 9),
        "__AG_UNIX__": server.unix_name if server else "ag_adversarial_none",
    }
    build_class(run.classdir, students, fills)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(AUTOGRADER_SECRET=SECRET, AG_ADVERSARIAL_RUN=marker, TMPDIR=str(private_tmp))
    repo_before = tree_state(REPO)
    class_before = tree_state(run.classdir)
    scratch_before = scratch_state()
    markers_before = marker_files()
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        "linear",
        str(run.classdir),
        "--out",
        str(run.out),
        "--jobs",
        str(jobs),
        *(["--course", str(course)] if course else []),
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    with RunWatch(marker, process.pid, run.out / ".autograder" / "journal.jsonl") as watch:
        try:
            run.stdout, run.stderr = process.communicate(timeout=RUN_TIMEOUT)
            run.finished = True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            run.stdout, run.stderr = process.communicate()
    ended = now_ticks()
    run.seconds = time.monotonic() - started
    run.returncode = process.returncode
    run.peaks = watch.peaks
    run.finished_at = watch.finished
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:  # a clean shutdown may take a moment; what is left after that is a leak
        table = processes(marker)
        left = [p for p in table.values() if _ours(p, table, watch, ended, root)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    run.leftovers = [p.describe() for p in left]
    for proc in left:  # clean up what is certainly ours, by pid
        if proc.marked or proc.name.startswith("ag_hostile") or str(root) in proc.cmdline:
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGKILL)
    run.repo_changes = tree_changes(repo_before, tree_state(REPO))
    run.class_changes = tree_changes(class_before, tree_state(run.classdir))
    run.tmpdir_left = sorted(os.listdir(private_tmp))
    run.scratch_new = {p: u for p, u in scratch_state().items() if p not in scratch_before}
    run.markers = sorted(marker_files() - markers_before)
    if server is not None:
        run.visits = list(server.visits)
    return run


@pytest.fixture(scope="module")
def main_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    server = LoopbackServer()
    try:
        yield grade_class(tmp_path_factory.mktemp("hostile"), MAIN_ORDER, jobs=2, server=server)
    finally:
        server.close()


def tight_course(root: Path) -> Path:
    """A copy of the course with only its linear assignment, limited to ``TIGHT_LIMITS``."""
    data = yaml.safe_load((REPO / "course.yml").read_text())
    linear = data["assignments"]["linear"]
    linear["limits"] = dict(TIGHT_LIMITS)
    data["assignments"] = {"linear": linear}
    (root / "course.yml").write_text(yaml.safe_dump(data))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "solutions" / "linear", root / "solutions" / "linear", ignore=ignore)
    return root / "course.yml"


@pytest.fixture(scope="module")
def tight_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    course = tight_course(tmp_path_factory.mktemp("tight-course"))
    root = tmp_path_factory.mktemp("tight")
    return grade_class(root, TIGHT_ORDER, jobs=2, course=course, prefix="t")


@pytest.fixture(params=["main_run", "tight_run"])
def each_run(request: pytest.FixtureRequest) -> Run:
    """The main and the tight run in turn: whole-run properties hold for both."""
    run: Run = request.getfixturevalue(request.param)
    return run


@pytest.fixture(scope="module")
def solo_run(tmp_path_factory: pytest.TempPathFactory, main_run: Run, tight_run: Run) -> Run:
    """The honest copies of both classes, same ids and secret, graded with nobody else."""
    root = tmp_path_factory.mktemp("solo")
    students = {s: n for r in (main_run, tight_run) for s, n in r.students.items() if n in HONEST}
    run = Run(out=root / "out", classdir=root / "class", students=students)
    build_class(run.classdir, students, {})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["AUTOGRADER_SECRET"] = SECRET
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "linear",
            str(run.classdir),
            "--out",
            str(run.out),
            "--jobs",
            "2",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    run.returncode, run.stdout, run.stderr = result.returncode, result.stdout, result.stderr
    return run


@pytest.fixture(scope="module")
def ordering_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return grade_class(tmp_path_factory.mktemp("ordering"), ORDERING_CLASS, jobs=1)


def ids_of(run: Run, name: str) -> list[str]:
    return [s for s, n in run.students.items() if n == name]


# -- one test per hostile submission ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_submission_earns_only_what_it_computes(
    request: pytest.FixtureRequest, name: str
) -> None:
    expectation = EXPECTED[name]
    run: Run = request.getfixturevalue("tight_run" if name in TIGHT_ORDER else "main_run")
    (student,) = ids_of(run, name)
    grade = run.grade(student)
    evidence = run.evidence(student)
    assert grade, f"{student} is missing from grades.json{evidence}"
    assert grade["status"] in expectation.statuses, f"status {grade['status']}{evidence}"
    for item in expectation.zero:
        assert grade["items"][item]["score"] == 0, f"{name} earned {item}{evidence}"
    assert grade["score"] <= expectation.max_score, f"{name} scored {grade['score']}{evidence}"
    if expectation.probe and grade["status"] == "graded":
        probe = f"AGPROBE {name}: ran"
        seen = probe in run.feedback(student) or probe in run.printed(student)
        assert seen, f"the attack code never ran (no {probe!r} in its output){evidence}"


def test_control_submission_scores_zero_everywhere(main_run: Run) -> None:
    (student,) = ids_of(main_run, CONTROL)
    grade = main_run.grade(student)
    assert grade.get("status") == "graded", main_run.evidence(student)
    assert {k: v["score"] for k, v in grade["items"].items()} == dict.fromkeys(ITEMS, 0.0), (
        "the hostile files' fallback answers earn points, so their expectations mean nothing"
        + main_run.evidence(student)
    )


def test_honest_neighbours_get_exactly_their_solo_grades(each_run: Run, solo_run: Run) -> None:
    assert solo_run.returncode == 0, solo_run.stderr[-3000:]
    honest = [s for s, n in each_run.students.items() if n in HONEST]
    assert len(honest) >= 3
    for student in honest:
        assert each_run.grade(student) == solo_run.grade(student), (
            f"{student} graded differently beside hostile neighbours"
            + each_run.evidence(student)
            + "\n=== alone:"
            + solo_run.evidence(student)
        )
    full = [s for s in honest if each_run.students[s] == "honest"]
    assert all(each_run.grade(s)["score"] == MAX_SCORE for s in full), [
        each_run.evidence(s) for s in full
    ]


# -- the run as a whole ----------------------------------------------------------------------


def test_run_finishes_and_exits_zero(each_run: Run) -> None:
    print(f"graded {len(each_run.students)} submissions in {each_run.seconds:.0f} s; done at:")
    print(", ".join(f"{s} {t:.0f}s" for s, t in sorted(each_run.finished_at.items())))
    assert each_run.finished, f"no result within {RUN_TIMEOUT:.0f} s\n{each_run.stderr[-3000:]}"
    assert each_run.returncode == 0, (
        f"exit status {each_run.returncode} after {each_run.seconds:.0f} s\n"
        f"{each_run.stderr[-3000:]}\n{each_run.stdout[-2000:]}"
    )
    assert "Traceback" not in each_run.stderr, each_run.stderr[-3000:]


def test_grades_json_follows_the_contract(each_run: Run) -> None:
    grades = each_run.grades
    assert grades.get("assignment") == "linear"
    assert grades.get("max_score") == MAX_SCORE
    assert set(grades.get("students", {})) == set(each_run.students)
    for student, grade in grades["students"].items():
        assert set(grade) >= {"score", "max_score", "status", "items", "feedback"}, student
        assert grade["status"] in ("graded", "error", "missing"), student
        assert grade["max_score"] == MAX_SCORE, student
        assert isinstance(grade["feedback"], str), student
        assert {k: v["max_score"] for k, v in grade["items"].items()} == ITEMS, student
        for item in grade["items"].values():
            assert 0 <= item["score"] <= item["max_score"], (student, item)
            assert isinstance(item["feedback"], str), student
        assert grade["score"] == pytest.approx(sum(i["score"] for i in grade["items"].values()))
    csv_rows = (each_run.out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_rows) == 1 + len(each_run.students)


def test_no_check_ended_as_an_internal_error_of_the_grader(each_run: Run) -> None:
    """Student data must never make the grader's own test code raise ("not your fault")."""
    broken = {}
    for student, grade in each_run.grades.get("students", {}).items():
        texts = [grade.get("feedback", "")] + [i["feedback"] for i in grade["items"].values()]
        hits = [t for t in texts if "not your fault" in t]
        if hits:
            broken[student] = hits[0][:400]
    assert not broken, json.dumps(broken, indent=1)


def test_no_process_of_the_run_survives_it(each_run: Run) -> None:
    assert not each_run.leftovers, "\n".join(each_run.leftovers)


def test_a_sandbox_uid_counts_as_ours_only_when_no_other_grader_holds_it() -> None:
    """Slot uids are reused: another run's runner on our old uid is not our leftover."""

    def proc(pid: int, uid: int, ppid: int) -> Proc:
        return Proc(pid, uid, ppid, "python", "", marked=False, peak_kb=0, start=pid)

    watch = RunWatch("tag", 10, Path("/nonexistent"))
    watch.descendants.add((11, 11))  # our own runner, seen during the run
    watch.uids.add(64003)
    table = {
        p.pid: p
        for p in (
            proc(1, 0, 0),
            proc(11, 64003, 1),  # our runner, left over: re-parented to pid 1
            proc(12, 64003, 11),  # its worker
            proc(20, 64003, 1),  # a worker of ours that daemonised
            proc(30, 0, 1),  # another run's grading process
            proc(31, 64003, 30),  # its runner, on the uid our run held earlier
            proc(32, 64003, 31),  # and that runner's worker
        )
    }
    ours = [p.pid for p in table.values() if _ours(p, table, watch, ended=100, tmp_root=REPO)]
    assert ours == [11, 12, 20]


def test_nothing_changed_outside_the_out_folder(each_run: Run) -> None:
    assert not each_run.repo_changes, "repository changed:\n" + "\n".join(each_run.repo_changes)
    assert not each_run.class_changes, "class folder changed:\n" + "\n".join(each_run.class_changes)
    assert not each_run.tmpdir_left, f"the grader left files in its TMPDIR: {each_run.tmpdir_left}"
    suspicious = {
        p: uid
        for p, uid in each_run.scratch_new.items()
        if uid in SANDBOX_UIDS or os.path.basename(p).startswith(("ag_", "autograder", "sandbox"))
    }
    assert not suspicious, f"left in shared scratch dirs: {suspicious}"


def test_no_marker_file_was_ever_created(each_run: Run) -> None:
    """Markers are created only by a payload that escaped: unpickled, daemonised, planted."""
    assert not each_run.markers, each_run.markers


def test_nothing_reached_the_loopback_server(main_run: Run) -> None:
    assert not main_run.visits, main_run.visits


def test_grading_processes_memory_stays_bounded(each_run: Run) -> None:
    for peak_kb, command in sorted(each_run.peaks.values(), reverse=True)[:4]:
        print(f"peak RSS {peak_kb >> 10} MiB: {command[:80]!r}")
    assert len(each_run.peaks) >= 3, f"watched too few grading processes: {each_run.peaks}"
    over = {pid: peak for pid, peak in each_run.peaks.items() if peak[0] > PEAK_RSS_LIMIT_KB}
    assert not over, (
        f"peak RSS above {PEAK_RSS_LIMIT_KB >> 10} MiB (kB, command): {over}"
        + "".join(each_run.evidence(s)[:600] for s in ids_of(each_run, "json_bomb"))
    )


def test_feedback_pages_cannot_be_forged_by_students(each_run: Run) -> None:
    """One score line and one heading per item, matching grades.json, on every page."""
    problems = []
    for student, grade in each_run.grades.get("students", {}).items():
        outside, fenced = [], False
        for line in each_run.feedback(student).splitlines():
            if line.startswith("```"):
                fenced = not fenced
            elif not fenced:
                outside.append(line)
        scores = [line for line in outside if line.startswith("**Score:")]
        if scores != [f"**Score: {grade['score']:g} / {MAX_SCORE:g}**"]:
            problems.append(f"{student}: score lines {scores}")
        for item in ITEMS:
            heads = [ln for ln in outside if ln.startswith("## ") and f"(`{item}`):" in ln]
            if len(heads) != 1:
                problems.append(f"{student}: {len(heads)} headings for {item}: {heads}")
    assert not problems, "\n".join(problems[:20])


def _leak_patterns() -> dict[str, str]:
    """Distinctive strings of the secret, the reference and the hidden tests."""
    patterns = {"the course secret": SECRET, "the solution marker": "### BEGIN SOLUTION"}
    public = "\n".join(p.read_text() for p in (REPO / "solutions").glob("*/public/*.py"))
    reference = (REPO / "solutions" / "linear" / "linear.py").read_text()
    for line in reference.splitlines():
        text = line.strip()
        if text.startswith("#") and len(text) >= 30 and "SOLUTION" not in text:
            patterns[f"reference line {text[:40]!r}"] = text
    for path in (REPO / "solutions" / "linear" / "tests").glob("*.py"):
        for line in path.read_text().splitlines():
            text = line.strip()
            codey = text.startswith(("def ", "@pytest.mark")) or re.match(r"^\w+ = \S", text)
            if codey and len(text) >= 30 and text not in public:
                patterns[f"hidden test line {text[:40]!r}"] = text
    return patterns


def test_nothing_secret_reaches_any_report(each_run: Run) -> None:
    texts = {
        str(p): p.read_text(errors="replace")
        for p in each_run.out.rglob("*")
        if p.is_file() and p.suffix in (".json", ".csv", ".md")
    }
    texts.update({f"printed by {s}": each_run.printed(s) for s in each_run.students})
    leaks = [
        f"{what} in {where}"
        for what, pattern in _leak_patterns().items()
        for where, text in texts.items()
        if pattern in text
    ]
    assert not leaks, "\n".join(leaks[:20])


# -- ordering: nothing of one worker reaches the next -----------------------------------------


def test_victim_graded_after_planter_finds_nothing(ordering_run: Run) -> None:
    assert ordering_run.returncode == 0, ordering_run.stderr[-3000:]
    (planter,) = ids_of(ordering_run, "planter")
    (victim,) = ids_of(ordering_run, "victim_reader")
    assert planter < victim  # graded first with --jobs 1
    for student in (planter, victim):
        grade = ordering_run.grade(student)
        assert grade.get("status") == "graded", ordering_run.evidence(student)
        assert grade["score"] == 0, ordering_run.evidence(student)
    assert "/tmp/ag_plant_note.txt" in ordering_run.printed(planter), (
        "the planter could not even write its private /tmp" + ordering_run.evidence(planter)
    )
    assert not ordering_run.markers, ordering_run.markers
    left = {
        p: u for p, u in ordering_run.scratch_new.items() if os.path.basename(p).startswith("ag_")
    }
    assert not left, left
    assert not ordering_run.leftovers, ordering_run.leftovers


# -- documentation -------------------------------------------------------------------------------


def test_readme_covers_every_submission() -> None:
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    missing = [n for n in (*EXPECTED, *HONEST, CONTROL) if f"`{n}`" not in readme]
    assert not missing, f"README.md does not describe: {missing}"
    on_disk = {p.stem for p in [*SUBMISSIONS.glob("*.py"), *SUBMISSIONS.glob("*.ipynb")]}
    assert on_disk == {*EXPECTED, *HONEST, CONTROL}, on_disk ^ {*EXPECTED, *HONEST, CONTROL}


def test_each_submission_is_graded_in_exactly_one_class() -> None:
    assert set(MAIN_ORDER) | set(TIGHT_ORDER) == {*EXPECTED, *HONEST, CONTROL}
    hostile_in_both = (set(MAIN_ORDER) & set(TIGHT_ORDER)) - set(HONEST)
    assert not hostile_in_both, hostile_in_both
