"""``--jobs`` defaults to the CPUs this process may use: its affinity, any cgroup CPU quota."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.cpus import Cpus, cgroup_quota
from autograder.grading import IdleMeter

REPO = Path(__file__).resolve().parents[1]


def _cgroup(tmp_path: Path, line: str, files: dict[str, str]) -> tuple[str, str]:
    proc = tmp_path / "proc-cgroup"
    proc.write_text(line + "\n")
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    return str(proc), str(root)


@pytest.mark.parametrize(
    ("line", "files", "quota"),
    [
        # cgroup v2: the tightest of the cgroup and its ancestors.
        ("0::/a/b", {"a/b/cpu.max": "150000 100000\n", "a/cpu.max": "max 100000\n"}, 1.5),
        ("0::/a/b", {"a/b/cpu.max": "max 100000\n", "a/cpu.max": "50000 100000\n"}, 0.5),
        ("0::/a/b", {"a/b/cpu.max": "max 100000\n"}, None),
        ("0::/", {"cpu.max": "200000 100000\n"}, 2.0),  # a container's own namespace
        # cgroup v1: the cpu controller's hierarchy; -1 is no quota.
        (
            "4:cpu,cpuacct:/x",
            {
                "cpu,cpuacct/x/cpu.cfs_quota_us": "250000\n",
                "cpu,cpuacct/x/cpu.cfs_period_us": "100000\n",
            },
            2.5,
        ),
        ("1:cpu:/", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ("0::/a", {"a/cpu.max": "not a number\n"}, None),  # unreadable: no limit claimed
    ],
)
def test_the_cgroup_quota_is_read_in_cpus(
    tmp_path: Path, line: str, files: dict[str, str], quota: float | None
) -> None:
    assert cgroup_quota(*_cgroup(tmp_path, line, files)) == quota


def test_usable_cpus_are_the_allowed_ones_fewer_under_a_quota() -> None:
    four = frozenset(range(4))
    assert Cpus(four, None).usable == 4 and not Cpus(four, None).by_quota
    assert Cpus(four, 1.5).usable == 2 and Cpus(four, 1.5).by_quota
    assert Cpus(four, 0.2).usable == 1
    assert Cpus(four, 8.0).usable == 4 and not Cpus(four, 8.0).by_quota
    assert Cpus(frozenset({3}), None).usable == 1


def test_idle_cores_are_counted_only_among_the_allowed_ones(tmp_path: Path) -> None:
    stat = tmp_path / "stat"

    def write(idle0: int, idle1: int) -> None:
        total = idle0 + idle1
        stat.write_text(
            f"cpu  1 0 1 {total} 0 0 0 0\ncpu0 1 0 1 {idle0} 0 0 0 0\ncpu1 1 0 1 {idle1} 0 0 0 0\n"
        )

    meter = IdleMeter(window=1.0, path=str(stat), cpus=frozenset({1}))
    meter.tick = 100
    write(0, 0)
    meter.sample(0.0)
    write(100, 10)  # cpu0, not ours, idled the whole second; cpu1 a tenth of it
    meter.sample(1.0)
    assert meter.idle_cores() == pytest.approx(0.1)
    missing = IdleMeter(window=1.0, path=str(stat), cpus=frozenset({7}))
    missing.sample(0.0)
    missing.sample(1.0)
    assert missing.idle_cores() is None  # a CPU not in /proc/stat: never claim idle cores


def _grade_on(cpus: Cpus, tmp_path: Path) -> dict[str, int]:
    """Grade six sleepers with the CPUs ``cpus``, the idle meter saying a core idles."""
    program = f"""
import json, sys
from pathlib import Path
from autograder import grading
from autograder.course import load_course
from autograder.cpus import Cpus
from tests.test_pool import _sleepers
grading.usable_cpus = lambda: Cpus(frozenset({sorted(cpus.allowed)}), {cpus.quota})
grading.IdleMeter.idle_cores = lambda self: 1.0
tmp = Path({str(tmp_path)!r})
_sleepers(tmp / "class", 6)
run = grading.grade(load_course(Path("course.yml")), "linear", tmp / "class", tmp / "out",
                    secret="s")
print(json.dumps({{"processes": run.processes, "graded": len(run.grades)}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_grading_starts_one_process_per_usable_cpu_and_never_grows_past_a_quota(
    tmp_path: Path,
) -> None:
    # One allowed CPU: one process, growing while it idles (the sleepers' first calls).
    one = _grade_on(Cpus(frozenset({0}), None), tmp_path / "one")
    assert one["graded"] == 6 and one["processes"] > 1
    # Four CPUs but a quota of 1.5: two processes, and no more, however idle the CPUs look.
    quota = _grade_on(Cpus(frozenset(range(4)), 1.5), tmp_path / "quota")
    assert quota == {"processes": 2, "graded": 6}


def test_the_default_in_help_follows_the_affinity() -> None:
    program = (
        "import os, sys; os.sched_setaffinity(0, {0}); "
        "from autograder.cli import main; sys.argv = ['autograder', 'grade', '--help']; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert "default: the CPUs this process may use, 1," in " ".join(done.stdout.split())
    assert os.cpu_count() is not None
