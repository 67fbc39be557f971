"""``autograder grade``: a whole class, in parallel, resumable, with progress.

The parent process never imports hidden tests or runs student code. It finds submissions, starts
``jobs`` shards (``autograder.shard``; each owns a sandbox), hands each shard one submission at
a time, journals every result as it arrives, and at the end
scores everything (pure) and writes the reports atomically.

Shards are forked from a zygote (``autograder.shard.Zygote``): one process imports pytest,
numpy and the grader and collects the hidden tests, once per run; each shard is a copy of it,
ready in milliseconds instead of about 0.4 s of CPU, and made the parent's own child
(``clone(CLONE_PARENT)``). If the zygote cannot fork, shards start as new processes.

A shard whose submission sleeps, blocks or waits out a timeout leaves its core idle. So while
the machine has idle CPU (``IdleMeter``), every shard is busy and submissions are waiting, the
pool starts another shard, up to ``max_jobs`` (default ``default_max_jobs``): a class with a
few slow submissions keeps every core busy, and a class of fast ones runs about one shard more
than ``jobs`` (a shard waits for its worker at every call, so one per core leaves some idle).

The journal (``OUT/.autograder/journal.jsonl``) makes runs resumable: killing the grader at any
moment and running the same command again grades only the submissions without a journaled
result. A journal written with other tests, rubric, reference, limits or secret is ignored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from autograder.course import Assignment, Course
from autograder.cpus import usable_cpus
from autograder.errors import (
    RUNNER_LOST_EXIT,
    STOPPED_EXIT,
    BindingError,
    OutputError,
    SandboxError,
    UsageError,
    describe,
)
from autograder.progress import Progress
from autograder.report import (
    atomic_write_bytes,
    feedback_path,
    gradescope_path,
    note_reports,
    private_folder,
    remove_reports_of_others,
    remove_stale_temporaries,
    reported_students,
    sync_filesystem,
    write_gradebooks,
    write_student_reports,
)
from autograder.rubric import Rubric
from autograder.scoring import (
    ERROR,
    FAILED,
    INTERNAL,
    INTERNAL_PROBLEM,
    PASSED,
    STATUS_ERROR,
    STATUS_GRADED,
    STATUS_MISSING,
    StudentGrade,
    TestOutcome,
    score,
)
from autograder.submissions import (
    ClassNotes,
    Submission,
    discover,
    holds_submission,
    released_sources,
)

JOURNAL_VERSION = 1
PYTEST_USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR (the grader itself does not import pytest)


# Grow the pool by one shard when at least this many cores were idle over the last window.
# Low on purpose: a shard waits for its worker at every call, so even a class of fast
# submissions leaves a fifth of a core idle with one shard per core. (1,000 fast ones on 2
# cores, five alternating pairs against a threshold of 0.5, which never grew past 2: the
# third shard this one starts was faster every time, by 0.5-3 s of about 22 s.)
GROW_IDLE_CORES = 0.2
ZYGOTE_FORK_TIMEOUT = 30.0  # a fork takes milliseconds; this only guards a wedged zygote
IDLE_WINDOW = 0.5  # seconds
SHARD_MEMORY_MB = 300  # a shard with its runner and worker, with room to spare


def _cores() -> int:
    return os.cpu_count() or 1


def default_max_jobs(jobs: int) -> int:
    """Up to three shards per requested one, as far as available memory allows."""
    available = _mem_available_mb()
    by_memory = jobs if available is None else int(available // SHARD_MEMORY_MB)
    return max(jobs, min(3 * jobs, by_memory))


def _mem_available_mb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class IdleMeter:
    """How many cores were idle over the last ``window`` seconds (/proc/stat): of ``cpus``
    (the ones this process may run on), or of the machine."""

    def __init__(
        self,
        window: float = IDLE_WINDOW,
        path: str = "/proc/stat",
        cpus: frozenset[int] | None = None,
    ) -> None:
        self.window = window
        self.path = path
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.samples: list[tuple[float, float]] = []
        self.cpus = {f"cpu{n}" for n in cpus} if cpus is not None else None

    def _idle_seconds(self) -> float | None:
        try:
            with open(self.path, encoding="ascii") as stat:
                if self.cpus is None:
                    rows = [stat.readline().split()]  # "cpu": the whole machine
                else:
                    rows = [f for f in map(str.split, stat) if f and f[0] in self.cpus]
                    if len(rows) != len(self.cpus):
                        return None
            return sum(int(f[4]) + int(f[5]) for f in rows) / self.tick  # idle + iowait
        except (OSError, ValueError, IndexError):
            return None

    def sample(self, now: float) -> None:
        if self.samples and now - self.samples[-1][0] < self.window / 10:
            return  # often enough: reading /proc/stat for every result cost the loop time
        idle = self._idle_seconds()
        if idle is None:
            return
        self.samples.append((now, idle))
        # Keep one sample at least a window old, so a full window can always be measured.
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.window:
            self.samples.pop(0)

    def idle_cores(self) -> float | None:
        """Idle cores over the last window, or None until a whole window was sampled."""
        if len(self.samples) < 2:
            return None
        (t0, idle0), (t1, idle1) = self.samples[0], self.samples[-1]
        if t1 - t0 < self.window:
            return None
        return (idle1 - idle0) / (t1 - t0)

    def reset(self) -> None:
        self.samples.clear()


def grouped_failures(failures: Sequence[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """``(what failed, [students])`` per distinct failure, in order: a broken hidden test
    fails every submission the same way, and is said once."""
    by_problem: dict[str, list[str]] = {}
    for student, problem in failures:
        # Said to the instructor, whose test it is: the student's reassurance does not fit.
        problem = problem.removesuffix("; not your fault")
        by_problem.setdefault(problem, []).append(student)
    return list(by_problem.items())


@dataclass(frozen=True)
class GradeRun:
    """What a grading run produced, for the CLI's summary and exit code."""

    grades: tuple[StudentGrade, ...]
    reused: int
    internal_failures: tuple[tuple[str, str], ...]  # (student, what failed), in order
    seconds: float
    isolation_warning: str | None = None
    processes: int = 0  # the most grading processes that ran at once
    notes: ClassNotes = field(default_factory=ClassNotes)  # about the class, for warnings
    # (student, what the TA should look at): an empty file, a copy beside the graded file...
    submission_warnings: tuple[tuple[str, str], ...] = ()


class _ForkedProcess:
    """A grading process the zygote forked as *our* child (``clone(CLONE_PARENT)``), with the
    part of ``Popen``'s interface the pool uses. Being our unreaped child, its pid cannot be
    reused before ``wait`` reaps it, so ``kill`` never hits another process."""

    def __init__(self, pid: int, stdin: IO[str], stdout: IO[str]) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            if self.returncode is None:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"grading process {self.pid}", timeout)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


@dataclass
class _Shard:
    index: int
    process: subprocess.Popen[str] | _ForkedProcess
    ready: bool = False
    task: Submission | None = None
    started: float = 0.0
    buffer: str = ""
    tests: dict[str, list[str]] = field(default_factory=dict)


def fingerprint(assignment: Assignment, rubric: Rubric, secret: str) -> str:
    """Hash of everything that decides a grade besides the submission itself: the rubric, the
    reference, every file of the hidden tests (data files too), every other file beside the
    reference (conftest.py, helpers, an ini file), the limits, the secret and the grader's own
    code."""
    digest = hashlib.sha256()
    paths = [rubric.path, assignment.solution_dir / rubric.module]
    tests = assignment.hidden_tests_dir
    paths += sorted(p for p in tests.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    # Beside the reference: conftest.py, an ini file, helper modules the tests import (grading
    # processes run there); only the handout is not read by any test.
    paths += sorted(
        p
        for p in assignment.solution_dir.iterdir()
        if p.is_file() and p.name != "README.md" and p not in paths
    )
    for path in paths:
        digest.update(str(path.relative_to(assignment.root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    digest.update(_grader_code_hash())
    digest.update(json.dumps(asdict(assignment.limits), sort_keys=True).encode())
    digest.update(hashlib.sha256(secret.encode()).digest())
    return digest.hexdigest()


@functools.cache
def _grader_code_hash() -> bytes:
    """A new version of the grader may grade differently: its journals are not reused."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.digest()


def source_hash(submission: Submission) -> str:
    """What a journal entry is reused for: the source, or, with none, why there is none (a
    student who sent no file, then an unreadable one, must not keep the first feedback)."""
    if submission.source is None:
        text = "\0no source\0" + submission.problem
    else:
        text = submission.source
    if submission.note:  # a copy beside it, said in the feedback: gone or new, a new report
        text += "\0note\0" + submission.note
    return hashlib.sha256(text.encode()).hexdigest()


class Journal:
    """Append-only record of finished submissions; a torn last line is ignored.

    Each record reaches the kernel before ``record`` returns, so killing the grader (SIGINT,
    SIGKILL) at any moment loses nothing recorded. Records are also fsync'ed, at most every
    ``sync_interval`` seconds and on close: one fsync per submission cost the grading loop
    about 3 ms each, and only a crash of the machine itself can lose the unsynced last
    moments, which the next run grades again.

    Only each student's source hash is kept in memory; full entries (outcomes, printed output)
    live in the file and are streamed back by ``entries()``, so memory does not grow with the
    class.
    """

    def __init__(self, path: Path, fingerprint: str, sync_interval: float = 0.5) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.sync_interval = sync_interval
        self.done: dict[str, str] = {}  # student -> source hash of the graded submission
        self._handle: IO[str] | None = None
        self._synced = 0.0

    def _valid_lines(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(line, entry) for each intact entry of a journal with our fingerprint."""
        if not self.path.exists():
            return
        if not self.path.is_file():  # a folder or a FIFO in its place: there is no journal
            return
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            try:
                header = json.loads(handle.readline())
            except ValueError:
                return
            if (
                not isinstance(header, dict)
                or header.get("journal") != JOURNAL_VERSION
                or header.get("fingerprint") != self.fingerprint
            ):
                return
            for line in handle:
                try:
                    entry = clean_text(json.loads(line))
                except (ValueError, RecursionError):  # RecursionError: "[[[[...", no entry
                    continue  # the line being written when the grader was killed
                if _well_formed(entry):  # anything else was not written by us: ignored
                    # Written anew only where clean_text may have changed it (an escaped
                    # surrogate: json.dumps writes them as \ud...), not for every line.
                    yield (json.dumps(entry) if "\\ud" in line else line.rstrip("\n")), entry

    def open(self, keep: Mapping[str, str] | None) -> None:
        """Start a run: keep entries whose student and source hash are in ``keep`` (None: none).

        The journal is rewritten with those entries only (the last one per student wins), then
        appended to; a rerun after a kill therefore never sees duplicates or torn lines.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept: dict[str, str] = {}
        if keep is not None:
            for line, entry in self._valid_lines():
                student = str(entry.get("student"))
                if entry.get("load_problem") == INTERNAL_PROBLEM:
                    kept.pop(student, None)  # the grader failed on it: always graded again
                elif student in keep and entry.get("source_sha") == keep[student]:
                    kept[student] = line
        header = {"journal": JOURNAL_VERSION, "fingerprint": self.fingerprint}
        lines = [json.dumps(header), *kept.values()]
        atomic_write_bytes(self.path, ("\n".join(lines) + "\n").encode("utf-8"))
        self.done = {student: keep[student] for student in kept} if keep is not None else {}
        # Readable too: if the file is removed meanwhile, ``close`` writes it back from here.
        self._handle = self.path.open("a+", encoding="utf-8")

    def record(self, entry: dict[str, Any]) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(entry) + "\n")
        self._handle.flush()
        now = time.monotonic()
        if now - self._synced >= self.sync_interval:
            os.fsync(self._handle.fileno())
            self._synced = now
        self.done[entry["student"]] = entry["source_sha"]

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every recorded entry, streamed from disk (one per student after ``open``)."""
        for _, entry in self._valid_lines():
            yield entry

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                handle.flush()
                os.fsync(handle.fileno())
                self._put_back(handle.fileno())
            finally:
                with contextlib.suppress(OSError):  # what could not be flushed: torn, ignored
                    handle.close()

    def _put_back(self, fd: int) -> None:
        """Write the journal ``fd`` holds back to ``path`` if the file there is no longer it
        (removed or replaced during the run: ``rm -r OUT/.autograder``). ``entries`` and the
        next run read ``path``: without this, the run would write a gradebook of nobody and
        remove every feedback page. (The whole journal in memory, in this rare case only.)"""
        try:
            there = os.stat(self.path)
        except FileNotFoundError:  # the file, or its folder
            there = None
        if there is not None and os.path.samestat(there, os.fstat(fd)):
            return
        data = bytearray()
        while chunk := os.pread(fd, 1 << 20, len(data)):
            data += chunk
        atomic_write_bytes(self.path, bytes(data))


def grade_entry(entry: dict[str, Any], rubric: Rubric) -> StudentGrade:
    outcomes = [TestOutcome.from_json(o) for o in entry.get("outcomes", [])]
    return score(
        rubric,
        entry["student"],
        outcomes,
        status=entry["status"],
        load_problem=entry.get("load_problem", ""),
        load_error=str(entry.get("load_error", "")),
        output=entry.get("output", ""),
        filename=entry["filename"] if isinstance(entry.get("filename"), str) else "",
    )


@contextlib.contextmanager
def only_run_in(out: Path) -> Iterator[None]:
    """Hold ``OUT/.autograder/lock`` for the run. A second ``grade`` into the same folder at
    the same time would rewrite the journal under the first one (whose records would then be
    lost, and whose grades.json could miss students) and clear its temporaries."""
    with writing(out, started=False):
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW  # never truncate a target
        fd = os.open(out / ".autograder" / "lock", flags, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise UsageError(
                f"another 'autograder grade' (pid {holder or '?'}) is writing into {out}: "
                "wait for it to finish (or stop it), or choose another --out"
            ) from None
        with contextlib.suppress(OSError):  # the pid is for the message above only
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # also releases the lock; a killed grader's lock is released by the kernel


def grade(
    course: Course,
    assignment_name: str,
    submissions: Path,
    out: Path,
    *,
    jobs: int | None = None,
    isolation: str = "auto",
    progress_stream: IO[str] | None = None,
    fresh: bool = False,
    secret: str | None = None,
    direct: bool = True,
    max_jobs: int | None = None,
    zygote: bool = True,
    prune: bool = False,
) -> GradeRun:
    """Grade every submission under ``submissions`` and write the reports into ``out``.

    Students whose grades ``out`` holds but who are not in this class are refused
    (``UsageError``), unless ``prune``: their grades and feedback would go."""
    started = time.monotonic()
    assignment = course.assignment(assignment_name)
    rubric = assignment.rubric()
    assignment.reference_source(rubric)  # a missing or broken file stops here, named
    # Every run rewrites every feedback page, so one after the due date shows these items.
    before_due = assignment.due is not None and dt.datetime.now(dt.UTC) < assignment.due
    assignment.check_hidden_tests()
    secret = secret if secret is not None else course.secret()
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; name a folder for the results")
    for part in (".autograder", ".autograder/lock", "feedback", "gradescope"):
        if (out / part).is_symlink():  # what we write there would land wherever it points
            raise UsageError(f"{out / part} is a symbolic link; remove it and grade again")
    # Found only at the end otherwise, after the whole class was graded.
    for folder in (".autograder", "feedback", "gradescope"):
        if (out / folder).exists() and not (out / folder).is_dir():
            raise UsageError(f"{out / folder} is not a folder; move it away and grade again")
    for name in ("grades.json", "grades.csv"):
        if (out / name).exists() and not (out / name).is_file():
            raise UsageError(f"{out / name} is not a file; move it away and grade again")
    class_folders = (submissions.resolve(), submissions.resolve() / "submitted")
    if out in class_folders:
        # Its feedback/ and gradescope/ folders would be taken for students on the next run.
        raise UsageError(f"--out {out} is the submissions folder itself; name another folder")
    if out.parent in class_folders and holds_submission(out, rubric.module):
        # Grading would skip it as its own output folder: that student would silently vanish.
        raise UsageError(
            f"--out {out} is a student's folder (it holds their {rubric.module}); "
            "write the results elsewhere"
        )
    for kept in ("solutions", "assignments"):
        kept_dir = (course.root / kept).resolve()  # a link to a private repository, say
        if out.is_relative_to(kept_dir):
            # A release or a Gradescope bundle would carry every student's grades, and the
            # grades would count as course files (every later run would regrade everyone).
            raise UsageError(
                f"--out {out} is inside the course's {kept}/ folder; write the results "
                f"elsewhere (e.g. {course.root / 'out' / assignment.name})"
            )
    earlier = _gradebook_assignment(out)
    if earlier is not None and earlier != assignment.name:
        raise UsageError(
            f"--out {out} holds the grades of assignment '{earlier}' (grades.json); grading "
            f"'{assignment.name}' there would replace them and their feedback: name another "
            "folder"
        )
    state_dir = out / ".autograder"
    with writing(out, started=False):
        private_folder(state_dir)
    with only_run_in(out):
        with writing(out, started=False):
            remove_stale_temporaries(out)  # half-written reports of a run killed mid-write
        found = discover(
            submissions.resolve(),
            module=rubric.module,
            assignment=assignment.name,
            workdir=state_dir,
            exclude=[out],  # --out inside the submissions folder is not a student
            untouched=released_sources(assignment.release_dir, rubric.module),
            notes=(notes := ClassNotes()),
        )
        earlier_grades = _gradebook(out)  # read once, under the lock
        if found and all(s.missing for s in found) and _graded_in(earlier_grades):
            # Found only at the end otherwise, with the grades it replaced already gone.
            raise UsageError(
                f"none of the {len(found)} submissions in {submissions} has {rubric.module}, and "
                f"{out} holds grades of them: is it the class of another assignment? Nothing "
                "was written (to record them all as missing, grade into another --out)"
            )
        if not prune:
            _refuse_to_drop(earlier_grades, out, submissions, {s.student for s in found})
        journal = Journal(state_dir / "journal.jsonl", fingerprint(assignment, rubric, secret))
        with writing(out):
            journal.open(None if fresh else {s.student: source_hash(s) for s in found})
            note_reports(out, [s.student for s in found])
        reused = len(journal.done)
        todo = [s for s in found if s.student not in journal.done]
        progress = Progress(len(found), done=reused, stream=progress_stream)
        internal: list[tuple[str, str]] = []
        warning: str | None = None
        processes = 0
        reported: dict[str, StudentGrade] = {}

        def record(entry: dict[str, Any]) -> None:
            with writing(out):
                journal.record(entry)

        def report(entry: dict[str, Any]) -> float:
            """Score a journaled result and write its reports at once, while the shards work."""
            grade_ = grade_entry(entry, rubric)
            with writing(out):  # synced before grades.json
                write_student_reports(out, rubric, grade_, durable=False, before_due=before_due)
            # What the student printed is in their feedback file now; do not hold it for all.
            reported[grade_.student] = replace(grade_, output="")
            return grade_.score

        try:
            runnable = []
            for sub in todo:
                if sub.ok:
                    runnable.append(sub)
                else:
                    status = STATUS_MISSING if sub.missing else STATUS_ERROR
                    entry = _entry(sub, status, sub.problem, [], "")
                    record(entry)
                    report(entry)
                    progress.advance(status, instant=True)
            progress.show()
            if runnable:
                hide = [course.root, out, submissions.resolve()]
                pool = _ShardPool(
                    assignment,
                    rubric,
                    secret,
                    hide,
                    isolation,
                    course.secret_source.env,
                    state_dir,
                    direct=direct,
                    zygote=zygote,
                )
                cpus = usable_cpus()
                if jobs is None:  # the usable CPUs; an explicit --max-jobs below them caps it
                    jobs = min(cpus.usable, max_jobs or cpus.usable)
                if max_jobs is None:
                    # Under a CPU quota idle cores say nothing of the time left: no growing.
                    max_jobs = jobs if cpus.by_quota else default_max_jobs(jobs)
                most = max(jobs, max_jobs)
                meter = IdleMeter(cpus=cpus.allowed if len(cpus.allowed) < _cores() else None)
                warning = pool.run(runnable, jobs, most, record, progress, internal, report, meter)
                processes = pool.peak
        except BaseException:
            with contextlib.suppress(OSError):  # the first problem is the one to report
                journal.close()
            raise
        else:
            with writing(out):
                journal.close()
        finally:
            progress.finish()
        grades = []
        for entry in journal.entries():
            grade_ = reported.get(entry["student"])
            if grade_ is None:  # journaled by an earlier, interrupted run
                report(entry)
                grade_ = reported[entry["student"]]
            grades.append(grade_)
        with writing(out):
            sync_filesystem(out)  # every report on disk before grades.json says the run is complete
            write_gradebooks(out, rubric, grades)
            remove_reports_of_others(out, [g.student for g in grades])
        # A hidden test that broke (not the student's doing) is the grader failing, too.
        internal += [(g.student, g.internal_errors[0]) for g in grades if g.internal_errors]
        return GradeRun(
            tuple(grades),
            reused,
            tuple(internal),
            time.monotonic() - started,
            warning,
            processes,
            notes,
            submission_warnings=tuple((s.student, s.warning) for s in found if s.warning),
        )


def _exit_reason(code: int) -> str:
    """Why a grading process ended under a submission, as its exit status says."""
    if code == RUNNER_LOST_EXIT:
        return "the sandbox runner of its grading process died"
    if code == STOPPED_EXIT:
        return "its grading process was stopped (Ctrl-Z, SIGSTOP) while it graded it"
    return f"grading process exited with status {code}"


def _gradebook(out: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None  # none, or not one of ours: nothing to protect
    return doc if isinstance(doc, dict) else None


def _refuse_to_drop(
    doc: dict[str, Any] | None, out: Path, submissions: Path, students: set[str]
) -> None:
    """Grading writes the gradebook of this class alone: refuse to drop students graded
    earlier in ``doc`` (``out``'s grades.json: late submissions graded on their own, a section
    graded into another's --out). With a grades.json there that cannot be read (cut short or
    broken by an edit), those whose feedback or Gradescope results are in ``out``
    (``reported.json``): the run would delete them. (Without one, those are the reports of an
    interrupted run, never published with a gradebook: they go as their students leave.)"""
    earlier = doc.get("students") if doc is not None else None
    if isinstance(earlier, dict):
        what, note = "grades", ""
        gone = sorted(str(student) for student in earlier if student not in students)
    elif not (out / "grades.json").is_file():
        return
    else:
        what, note = "feedback", " (and a grades.json that cannot be read)"
        gone = sorted(
            student
            for student in reported_students(out)
            if student not in students
            and (feedback_path(out, student).is_file() or gradescope_path(out, student).is_file())
        )
    if not gone:
        return
    names = ", ".join(gone[:5]) + (f" and {len(gone) - 5} more" if len(gone) > 5 else "")
    raise UsageError(
        f"--out {out} holds the {what} of {len(gone)} student(s) who are not in {submissions} "
        f"({names}){note}; grading would remove their grades and feedback, so nothing was "
        "graded. "
        "To grade late submissions, put them into the class folder beside the others and run "
        "the same command (only what is new or changed is graded); to drop those students, "
        "add --prune"
    )


def _gradebook_assignment(out: Path) -> str | None:
    """The assignment whose grades ``out/grades.json`` holds, if it is a gradebook."""
    doc = _gradebook(out)
    name = doc.get("assignment") if doc is not None else None
    return name if isinstance(name, str) else None


def _graded_in(doc: dict[str, Any] | None) -> bool:
    """Whether ``doc`` (a grades.json) holds a submission that was found (not only missing
    ones)."""
    students = doc.get("students") if doc is not None else None
    return isinstance(students, dict) and any(
        isinstance(s, dict) and s.get("status") != STATUS_MISSING for s in students.values()
    )


@contextlib.contextmanager
def writing(out: Path, *, started: bool = True) -> Iterator[None]:
    """Turn a failure to write into ``out`` (a full disk, no permission) into an
    ``OutputError`` that says what happened and what to do; nothing already written is lost:
    results are journaled before their reports, and every file is replaced atomically."""
    try:
        yield
    except OSError as exc:
        what = describe(exc)
        if not started:
            raise OutputError(f"cannot write the results in {out} ({what})") from None
        raise OutputError(
            f"cannot write the results in {out} ({what}). Everything graded until now is "
            "kept: make room (or fix the permissions) and run the same command again to resume."
        ) from None


def clean_text(value: Any) -> Any:
    """``value`` with every string made encodable: a student's exception message may hold lone
    surrogates (``"\\udcff"``), which no file can store; they become ``?``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, list):
        return [clean_text(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): clean_text(v) for k, v in value.items()}
    return value


_OUTCOME_KEYS = ("nodeid", "item_id", "outcome")
_OUTCOMES = (PASSED, FAILED, ERROR, INTERNAL)
_TEXT_KEYS = ("filename", "source_sha", "load_problem", "load_error", "output")


def _well_formed(entry: Any) -> bool:
    """A journal entry as ``_entry`` makes them (checked on reading: the file is only data)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("student"), str):
        return False
    if entry.get("status") not in (STATUS_GRADED, STATUS_ERROR, STATUS_MISSING):
        return False
    if not all(isinstance(entry.get(key, ""), str) for key in _TEXT_KEYS):
        return False
    outcomes = entry.get("outcomes", [])
    if not isinstance(outcomes, list):
        return False
    nodeids = [o.get("nodeid") for o in outcomes if isinstance(o, dict)]
    return len(set(nodeids)) == len(outcomes) and all(
        all(isinstance(o.get(k), str) for k in _OUTCOME_KEYS)
        and o["outcome"] in _OUTCOMES
        and isinstance(o.get("message", ""), str)
        and isinstance(o.get("error", ""), str)
        and isinstance(o.get("properties", []), list)
        and all(isinstance(p, list) and len(p) == 2 for p in o.get("properties", []))
        for o in outcomes
    )


def _entry(
    sub: Submission,
    status: str,
    problem: str,
    outcomes: Sequence[dict[str, Any]],
    output: str,
    load_error: str = "",
    seconds: float | None = None,
) -> dict[str, Any]:
    if sub.note and load_error != "internal":  # the grader's failure is said on its own
        problem = f"{problem} {sub.note}" if problem else sub.note
    entry: dict[str, Any] = {
        "student": sub.student,
        "filename": sub.filename,
        "source_sha": source_hash(sub),
        "status": status,
        "load_problem": problem,
        "load_error": load_error,
        "outcomes": list(outcomes),
        "output": output,
    }
    if seconds is not None:  # how long a grading process spent on it (never in the reports)
        entry["seconds"] = round(seconds, 4)
    return clean_text(entry)  # type: ignore[no-any-return]


class _ShardPool:
    """Start shards, feed them submissions one at a time, collect and journal the results."""

    def __init__(
        self,
        assignment: Assignment,
        rubric: Rubric,
        secret: str,
        hide: Sequence[Path],
        isolation: str,
        secret_env: str,
        log_dir: Path,
        *,
        direct: bool = True,
        zygote: bool = True,
    ) -> None:
        self.assignment = assignment
        self.rubric = rubric
        self.secret_env = secret_env
        self.header = {
            "rubric_path": str(rubric.path),
            "reference_path": str(assignment.solution_dir / rubric.module),
            "tests": [str(assignment.hidden_tests_dir)],
            "rootdir": str(assignment.solution_dir),
            "secret": secret,
            "limits": asdict(assignment.limits),
            "hide": [str(p) for p in hide],
            "isolation": isolation,
            "direct": direct,
            "grader_pid": os.getpid(),
        }
        self.log_dir = log_dir
        # A log tells about this run only: an error quoting an earlier run's would mislead.
        for old in [*log_dir.glob("shard-*.log"), log_dir / "zygote.log"]:
            with contextlib.suppress(OSError):
                old.unlink()
        # A submission that has used its whole budget is cut off by the shard; this is the
        # backstop for a shard that stops answering at all.
        limits = assignment.limits
        self.task_deadline = limits.budget_seconds + limits.import_timeout + 30.0
        self.peak = 0
        # Grading processes are forked from a zygote that collected the tests once (see
        # ``autograder.shard.Zygote``); if it cannot fork, they start as new processes.
        self.use_zygote = zygote
        self.zygote: subprocess.Popen[str] | None = None
        self.control: socket.socket | None = None
        self.zygote_problem = ""

    def _env(self, log: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop(self.secret_env, None)
        env.update(
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            AUTOGRADER_SHARD_LOG=log,
        )
        return env

    def _popen(self, header: dict[str, Any], log: str, pass_fds: Sequence[int] = ()) -> Any:
        # stderr goes to the log from the start: what fails before the shard redirects its own
        # output (an import, the interpreter) is in the log the error message points to.
        # Private (0600) like everything else in the output folder.
        with open(log, "ab", opener=lambda path, flags: os.open(path, flags, 0o600)) as errors:
            process = subprocess.Popen(
                [sys.executable, "-m", "autograder.shard"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=self._env(log),
                cwd=str(self.assignment.solution_dir),
                close_fds=True,
                pass_fds=tuple(pass_fds),
            )
        assert process.stdin is not None
        process.stdin.write(json.dumps(header) + "\n")
        process.stdin.flush()
        return process

    def _start(self, index: int) -> _Shard:
        """A grading process for slot ``index``: forked by the zygote, else started anew."""
        log = str(self.log_dir / f"shard-{index}.log")
        if self.use_zygote and self.zygote is None:
            self._start_zygote()
        if self.zygote is not None:
            try:
                return _Shard(index, self._fork(index, log))
            except (OSError, ValueError) as exc:
                # The zygote is gone or cannot fork here: start processes the usual way.
                self.zygote_problem = f"the zygote could not fork a grading process: {exc}"
                self.use_zygote = False  # for the rest of the run
                self._stop_zygote()
        return _Shard(index, self._popen(dict(self.header, slot=index), log))

    def _start_zygote(self) -> None:
        """Start the zygote and wait until it has collected the tests (or says why not)."""
        ours, theirs = socket.socketpair()
        log = str(self.log_dir / "zygote.log")
        try:
            header = dict(self.header, slot=-1, control_fd=theirs.fileno())
            process = self._popen(header, log, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        self.zygote, self.control = process, ours
        line = process.stdout.readline()  # its first line: collected, or why not
        try:
            message = json.loads(line) if line else {}
        except ValueError:
            message = {}
        kind = message.get("type")
        if kind == "zygote":
            return
        self._stop_zygote()
        if kind == "config_error":
            raise BindingError(str(message["message"]))
        if process.returncode == PYTEST_USAGE_ERROR:  # what a conftest that fails to load gives
            raise BindingError(f"the hidden tests cannot be loaded: {self._tail(Path(log))}")
        ended = f"a grading process exited with status {process.returncode} before it was ready"
        if process.returncode is not None and process.returncode >= 0:
            # The zygote only imports the grader and collects the tests before it is ready (no
            # sandbox yet): a test module or conftest that exits, or one that shadows a module.
            raise BindingError(
                f"the hidden tests cannot be loaded ({ended}): {self._tail(Path(log))}"
            )
        raise SandboxError(f"{ended}: {self._tail(Path(log))}")  # killed: memory, most likely

    def _fork(self, index: int, log: str) -> _ForkedProcess:
        assert self.control is not None
        task_r, task_w = os.pipe2(os.O_CLOEXEC)
        result_r, result_w = os.pipe2(os.O_CLOEXEC)
        ends = [task_w, result_r]
        try:
            request = json.dumps({"slot": index, "log": log}).encode()
            socket.send_fds(self.control, [request], [task_r, result_w])
            self.control.settimeout(ZYGOTE_FORK_TIMEOUT)
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = self.control.recv(4096)
                if not chunk:
                    raise OSError("the zygote closed its control socket")
                reply += chunk
            answer = json.loads(reply)
            if "pid" not in answer:
                raise OSError(f"the zygote could not fork: {answer.get('error')}")
            forked = _ForkedProcess(
                int(answer["pid"]),
                os.fdopen(task_w, "w", encoding="utf-8"),
                os.fdopen(result_r, "r", encoding="utf-8"),
            )
            ends = []
            return forked
        finally:
            for fd in (task_r, result_w, *ends):
                os.close(fd)

    def _stop_zygote(self) -> None:
        if self.control is not None:
            self.control.close()  # EOF: the zygote exits
            self.control = None
        if self.zygote is not None:
            try:
                self.zygote.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.zygote.kill()
                self.zygote.wait()
            if self.zygote.stdout is not None:
                self.zygote.stdout.close()
            self.zygote = None

    def _log_tail(self, shard: _Shard) -> str:
        return self._tail(self.log_dir / f"shard-{shard.index}.log")

    @staticmethod
    def _tail(log: Path) -> str:
        try:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            lines = []
        tail = " | ".join(line[:300] for line in lines[-3:])
        return f"{tail or 'no output'} (full log: {log})"

    def run(
        self,
        todo: Sequence[Submission],
        jobs: int,
        max_jobs: int,
        record: Callable[[dict[str, Any]], None],
        progress: Progress,
        internal: list[tuple[str, str]],
        on_result: Callable[[dict[str, Any]], float],
        meter: IdleMeter | None = None,
    ) -> str | None:
        """Grade ``todo`` with ``jobs`` shards, growing to ``max_jobs`` while cores idle."""
        queue = list(reversed(todo))
        retried: set[str] = set()
        count = max(1, min(jobs, len(todo)))
        most = max(count, min(max_jobs, len(todo)))
        meter = meter or IdleMeter()
        shards: list[_Shard] = []
        selector = selectors.DefaultSelector()

        def add(index: int) -> _Shard:
            shard = self._start(index)
            assert shard.process.stdout is not None
            os.set_blocking(shard.process.stdout.fileno(), False)
            selector.register(shard.process.stdout, selectors.EVENT_READ, shard)
            return shard

        def grow(now: float) -> None:
            """One more shard if cores idle while every shard is busy and work waits."""
            meter.sample(now)
            if not queue or len(shards) >= most:
                return
            if not all(shard.ready and shard.task is not None for shard in shards):
                return  # a shard is starting or free: nothing to gain yet
            idle = meter.idle_cores()
            if idle is not None and idle >= GROW_IDLE_CORES:
                shards.append(add(len(shards)))
                self.peak = max(self.peak, len(shards))
                meter.reset()  # judge the next one on the load with this one running

        shards.extend(add(i) for i in range(count))
        self.peak = len(shards)
        warning: str | None = None

        def dispatch(shard: _Shard) -> None:
            if not queue:
                shard.task = None
                assert shard.process.stdin is not None
                shard.process.stdin.close()
                return
            sub = queue.pop()
            shard.task, shard.started = sub, time.monotonic()
            task = {
                "student": sub.student,
                "source": sub.source,
                "filename": sub.filename,
                "beside": list(sub.beside),
            }
            assert shard.process.stdin is not None
            shard.process.stdin.write(json.dumps(task) + "\n")
            shard.process.stdin.flush()

        def fail(shard: _Shard, why: str) -> None:
            """A shard died or hung: retry its submission once elsewhere, then give up on it."""
            assert shard.process.stdout is not None
            selector.unregister(shard.process.stdout)
            shard.process.kill()
            shard.process.wait()
            sub = shard.task
            shard.task = None
            if sub is not None:
                if sub.student in retried:
                    internal.append((sub.student, why))
                    entry = _entry(sub, STATUS_ERROR, INTERNAL_PROBLEM, [], "", "internal")
                    record(entry)
                    on_result(entry)
                    progress.advance(STATUS_ERROR)
                else:
                    retried.add(sub.student)
                    queue.append(sub)
            if queue:
                shards[shards.index(shard)] = add(shard.index)

        try:
            while selector.get_map():
                for key, _ in selector.select(timeout=0.25):
                    shard = key.data
                    chunk = shard.process.stdout.read()
                    if not chunk:
                        if not shard.ready:
                            code = shard.process.wait()
                            if not any(other.ready for other in shards if other is not shard):
                                # It died before collecting the tests: every shard would, so
                                # stop instead of restarting it forever.
                                raise SandboxError(
                                    f"a grading process exited with status {code} before it "
                                    f"was ready: {self._log_tail(shard)}"
                                )
                            # Others grade fine, so this one could not start here and now
                            # (short of memory, say): go on without it, and grow no more.
                            selector.unregister(shard.process.stdout)
                            shards.remove(shard)
                            most = len(shards)
                            continue
                        if shard.task is not None:
                            code = shard.process.wait()
                            fail(shard, _exit_reason(code))
                        else:
                            selector.unregister(shard.process.stdout)
                            shard.process.wait()
                        continue
                    shard.buffer += chunk
                    while "\n" in shard.buffer:
                        line, shard.buffer = shard.buffer.split("\n", 1)
                        message = json.loads(line)
                        kind = message.get("type")
                        if kind == "config_error":
                            raise BindingError(str(message["message"]))
                        if kind == "ready":
                            shard.ready = True
                            warning = warning or message.get("isolation_warning")
                            dispatch(shard)
                        elif kind == "result":
                            sub = shard.task
                            assert sub is not None and sub.student == message["student"]
                            status = message["status"]
                            problem = message.get("load_problem", "")
                            load_error = str(message.get("load_error", ""))
                            outcomes = message.get("outcomes", [])
                            if any(o.get("outcome") == INTERNAL for o in outcomes):
                                # A hidden test broke by itself: whatever the other tests
                                # said, this is no grade; the next run grades it again.
                                status, problem, load_error = (
                                    STATUS_ERROR,
                                    INTERNAL_PROBLEM,
                                    "internal",
                                )
                            entry = _entry(
                                sub,
                                status,
                                problem,
                                outcomes,
                                message.get("output", ""),
                                load_error,
                                time.monotonic() - shard.started,
                            )
                            record(entry)  # journaled first: nothing else is lost in a crash
                            dispatch(shard)
                            progress.advance(status, on_result(entry))
                now = time.monotonic()
                grow(now)
                progress.tick()
                for shard in list(shards):
                    if shard.task is not None and now - shard.started > self.task_deadline:
                        fail(shard, f"no answer within {self.task_deadline:.0f} s")
        except BaseException:
            for shard in shards:
                shard.process.kill()
            raise
        finally:
            for shard in shards:
                if shard.process.poll() is None:
                    if shard.process.stdin and not shard.process.stdin.closed:
                        shard.process.stdin.close()
                    try:
                        shard.process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        shard.process.kill()
                        shard.process.wait()
            selector.close()
            self._stop_zygote()
        return warning
