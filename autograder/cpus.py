"""The CPUs this process may use: what ``--jobs`` defaults to.

``os.cpu_count()`` is the machine's; a process may be allowed fewer, by its CPU affinity
(``taskset``, a batch scheduler's cpuset) or by a cgroup CPU quota (a container started with
``--cpus 2`` on a 64-core host). Starting one grading process per host core there would run
dozens of processes on two CPUs' worth of time.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cpus:
    """``allowed``: the CPU numbers this process may run on; ``quota``: the CPUs' worth of
    time its cgroups allow (None: no limit)."""

    allowed: frozenset[int]
    quota: float | None

    @property
    def usable(self) -> int:
        """Whole CPUs to keep busy: the allowed ones, fewer under a quota (at least one)."""
        count = len(self.allowed)
        if self.quota is not None:
            count = min(count, math.ceil(self.quota - 1e-9))
        return max(1, count)

    @property
    def by_quota(self) -> bool:
        """The quota allows less than the allowed CPUs: how idle they are says nothing of
        the time this process may still use."""
        return self.quota is not None and self.quota < len(self.allowed)


def usable_cpus(proc: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup") -> Cpus:
    try:
        allowed = frozenset(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        allowed = frozenset(range(os.cpu_count() or 1))
    return Cpus(allowed or frozenset({0}), cgroup_quota(proc, root))


def cgroup_quota(proc: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup") -> float | None:
    """The tightest CPU quota of this process's cgroup and its ancestors, in CPUs (cgroup v2
    ``cpu.max``, or v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``); None if there is none
    or it cannot be read."""
    try:
        lines = Path(proc).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, path = parts[1].split(","), parts[2].strip().lstrip("/")
        if parts[0] == "0" and parts[1] == "":  # v2: one hierarchy
            quotas += _v2_quotas(Path(root), path)
        elif "cpu" in controllers:  # v1: the cpu controller's own hierarchy
            for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
                if (Path(root) / mount).is_dir():
                    quotas += _v1_quotas(Path(root) / mount, path)
                    break
    return min(quotas) if quotas else None


def _ancestors(base: Path, path: str) -> list[Path]:
    """``base/path`` and every folder above it up to ``base``; in a container whose
    cgroup namespace hides the path, ``base`` itself is its cgroup."""
    parts = [p for p in path.split("/") if p and p != ".."]
    return [base.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _v2_quotas(base: Path, path: str) -> list[float]:
    quotas = []
    for folder in _ancestors(base, path):
        try:
            limit, period = (folder / "cpu.max").read_text(encoding="ascii").split()[:2]
            if limit != "max" and float(period) > 0:
                quotas.append(float(limit) / float(period))
        except (OSError, ValueError):
            continue
    return quotas


def _v1_quotas(base: Path, path: str) -> list[float]:
    quotas = []
    for folder in _ancestors(base, path):
        try:
            limit = float((folder / "cpu.cfs_quota_us").read_text(encoding="ascii"))
            period = float((folder / "cpu.cfs_period_us").read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
        if limit > 0 and period > 0:
            quotas.append(limit / period)
    return quotas
