"""The grading pool grows while cores idle and submissions wait, and only then."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.course import load_course
from autograder.grading import IdleMeter, default_max_jobs, grade

REPO = Path(__file__).resolve().parents[1]
SLEEPER = """\
import time

import numpy as np

calls = 0


def linear_forward(x, W, b):
    global calls
    calls += 1
    if calls == 1:
        time.sleep(1.5)  # once: a slow start, not a slow function
    return x @ W + b, (x, W)


def linear_backward(dy, cache):
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
"""


def _sleepers(folder: Path, n: int) -> Path:
    for i in range(n):
        (folder / f"s{i}").mkdir(parents=True)
        (folder / f"s{i}" / "linear.py").write_text(SLEEPER)
    return folder


def write_stat(path: Path, idle: int, iowait: int) -> None:
    path.write_text(f"cpu  100 0 50 {idle} {iowait} 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")


def test_idle_meter_reports_idle_cores_over_a_whole_window(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    meter = IdleMeter(window=1.0, path=str(stat))
    meter.tick = 100
    write_stat(stat, 1000, 10)
    meter.sample(0.0)
    assert meter.idle_cores() is None  # one sample
    write_stat(stat, 1080, 20)  # 0.8 s idle + 0.1 s iowait
    meter.sample(0.5)
    assert meter.idle_cores() is None  # half a window
    write_stat(stat, 1150, 30)  # 1.5 s idle + 0.2 s iowait since the start
    meter.sample(1.0)
    assert meter.idle_cores() == pytest.approx(1.7)
    meter.reset()
    assert meter.idle_cores() is None


def test_idle_meter_reads_proc_stat_at_most_ten_times_a_window(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    meter = IdleMeter(window=1.0, path=str(stat))
    write_stat(stat, 1000, 0)
    meter.sample(0.0)
    write_stat(stat, 1050, 0)
    meter.sample(0.05)  # too soon: not read
    assert len(meter.samples) == 1
    meter.sample(0.1)
    assert meter.samples[-1] == (0.1, 1050 / meter.tick)


def test_idle_meter_without_proc_stat_never_claims_idle_cores(tmp_path: Path) -> None:
    meter = IdleMeter(path=str(tmp_path / "missing"))
    for now in (0.0, 1.0, 2.0):
        meter.sample(now)
    assert meter.idle_cores() is None


def test_default_max_jobs_is_between_jobs_and_three_times_jobs() -> None:
    for jobs in (1, 2, 8):
        assert jobs <= default_max_jobs(jobs) <= 3 * jobs


def test_sleeping_submissions_get_more_processes_and_the_same_grades(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While submissions sleep a core idles, so the pool grows; the grades do not change.

    The meter itself is tested above on a fake /proc/stat. Here it reports the idle core these
    sleepers leave on a quiet machine, so that other load on the machine (a parallel test run,
    a build) cannot keep the pool from growing and fail the test.
    """
    from autograder import grading

    monkeypatch.setattr(grading.IdleMeter, "idle_cores", lambda self: 1.0)
    _sleepers(tmp_path / "class", 6)
    course = load_course(REPO / "course.yml")
    fixed = grade(
        course, "linear", tmp_path / "class", tmp_path / "fixed", jobs=1, max_jobs=1, secret="s"
    )
    grown = grade(
        course, "linear", tmp_path / "class", tmp_path / "grown", jobs=1, max_jobs=3, secret="s"
    )
    assert fixed.processes == 1  # an idle core never takes the pool past --max-jobs
    # Each submission sleeps 1.5 s in its first call: the core idles, so the pool grows.
    assert grown.processes > 1
    grades = [json.loads((tmp_path / d / "grades.json").read_text()) for d in ("fixed", "grown")]
    assert grades[0] == grades[1]
    assert {s["score"] for s in grades[0]["students"].values()} == {20.0}


def test_a_process_that_cannot_start_while_others_grade_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Growth must never cost the run: an extra process that dies at start is left out."""
    import subprocess
    import sys

    from autograder import grading

    real_start = grading._ShardPool._start

    def start(pool: grading._ShardPool, index: int) -> grading._Shard:
        if index == 0:
            return real_start(pool, index)
        dies = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.exit(3)"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        return grading._Shard(index, dies)

    monkeypatch.setattr(grading._ShardPool, "_start", start)
    monkeypatch.setattr(grading.IdleMeter, "idle_cores", lambda self: 2.0)  # always "idle"
    _sleepers(tmp_path / "class", 4)
    course = load_course(REPO / "course.yml")
    run = grade(
        course, "linear", tmp_path / "class", tmp_path / "out", jobs=1, max_jobs=3, secret="s"
    )
    assert run.processes >= 2  # it did try to grow
    assert not run.internal_failures
    assert [g.score for g in run.grades] == [20.0] * 4


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def test_grading_processes_are_forked_by_the_zygote_as_the_graders_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each grading process skips start-up and collection, yet is ours to wait for and kill."""
    import os

    from autograder import grading

    forked: list[tuple[int, int]] = []
    popened: list[int] = []
    real_fork, real_popen = grading._ShardPool._fork, grading._ShardPool._popen

    def fork(pool: grading._ShardPool, index: int, log: str) -> grading._ForkedProcess:
        process = real_fork(pool, index, log)
        forked.append((process.pid, _parent_of(process.pid)))
        return process

    def popen(pool: grading._ShardPool, header: dict, log: str, pass_fds=()):  # type: ignore[no-untyped-def]
        popened.append(header["slot"])
        return real_popen(pool, header, log, pass_fds)

    monkeypatch.setattr(grading._ShardPool, "_fork", fork)
    monkeypatch.setattr(grading._ShardPool, "_popen", popen)
    monkeypatch.setattr(grading.IdleMeter, "idle_cores", lambda self: 2.0)  # always "idle"
    course = load_course(REPO / "course.yml")
    classroom = _sleepers(tmp_path / "class", 4)
    run = grade(course, "linear", classroom, tmp_path / "z", jobs=1, max_jobs=3, secret="s")
    assert popened == [-1]  # only the zygote was started as a new process
    assert len(forked) == run.processes >= 2
    assert all(parent == os.getpid() for _, parent in forked)
    for pid, _ in forked:  # all reaped by us: nothing of them is left
        assert not Path(f"/proc/{pid}").exists() or _parent_of(pid) != os.getpid()
    plain = grade(
        course, "linear", classroom, tmp_path / "p", jobs=1, max_jobs=3, secret="s", zygote=False
    )
    assert run.grades == plain.grades
    assert (tmp_path / "z" / "grades.json").read_text() == (
        tmp_path / "p" / "grades.json"
    ).read_text()


def test_when_the_zygote_is_gone_grading_processes_start_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autograder import grading

    problems: list[str] = []
    real_start_zygote, real_stop = grading._ShardPool._start_zygote, grading._ShardPool._stop_zygote

    def start_zygote(pool: grading._ShardPool) -> None:
        real_start_zygote(pool)
        assert pool.zygote is not None
        pool.zygote.kill()  # it collected the tests, then died
        pool.zygote.wait()

    def stop(pool: grading._ShardPool) -> None:
        if pool.zygote_problem:
            problems.append(pool.zygote_problem)
        real_stop(pool)

    zygotes: list[int] = []
    real_popen = grading._ShardPool._popen

    def popen(pool: grading._ShardPool, header: dict, log: str, pass_fds=()):  # type: ignore[no-untyped-def]
        if header["slot"] == -1:
            zygotes.append(1)
        return real_popen(pool, header, log, pass_fds)

    monkeypatch.setattr(grading._ShardPool, "_start_zygote", start_zygote)
    monkeypatch.setattr(grading._ShardPool, "_stop_zygote", stop)
    monkeypatch.setattr(grading._ShardPool, "_popen", popen)
    course = load_course(REPO / "course.yml")
    classroom = _sleepers(tmp_path / "class", 3)
    run = grade(course, "linear", classroom, tmp_path / "out", jobs=3, max_jobs=3, secret="s")
    assert problems and "zygote" in problems[0]
    assert len(zygotes) == 1  # not started again for each later process
    assert not run.internal_failures
    assert [g.score for g in run.grades] == [20.0] * 3
