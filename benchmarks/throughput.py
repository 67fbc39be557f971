"""Throughput of ``autograder grade`` on a large mixed class, against ``nbgrader autograde``.

Issue: "A thousand submissions in under half a minute". One run of this script:

1. builds a seeded class of ``--n`` ``linear`` submissions (``classmix.py``: ~60% correct in
   several styles, ~25% with one classic mistake, ~10% that do not run, ~5% slow or endless);
2. times ``autograder grade --quiet --fresh`` on it (wall clock, CPU, peak RSS of the grader's
   process tree), on a class a tenth the size (memory must not grow with the class), and on one
   submission (the fixed cost);
3. times ``--isolation none`` against the default sandbox, alternating ``--isolation-reps``
   times, on a fast class (no sleeps, no loops) -- the cost of isolation per submission -- and a
   bare fork from a numpy-loaded parent (its floor); ``--also-jobs J ...`` grades the full
   class again with other shard counts (more shards than cores let sleeping submissions
   overlap);
4. grades a ``--nbgrader-n`` subset with the mix of the class with ``nbgrader autograde`` on an
   equivalent nbgrader assignment (``nbgrader_baseline.py``) and with ours (from the .py files
   and from nbgrader's submitted notebooks), for the ratio;
5. checks every grade against what its kind deserves, prints a table and writes JSON.

Per-submission times come from the grader's journal (see ``runstats.service_times``), so the
report can say where the time goes without instrumenting the grader.

Run from the repository root: ``make bench`` or ``.venv/bin/python benchmarks/throughput.py``;
a quick smoke check: ``--n 50 --nbgrader-n 3 --out /tmp/throughput.json`` (without ``--out``
it replaces the committed ``benchmarks/results/throughput.json``).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import classmix
import nbgrader_baseline
from runstats import RunStats, bare_fork_ms, describe, machine_info, run_measured, service_times

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "linear"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "throughput.json"
SECRET = "throughput-benchmark"  # fixed, so hidden inputs (and grades) are reproducible
NO_NBGRADER = frozenset({"slow_infinite_loop"})  # costs nbgrader timeout x cells; see README
SLOW_KINDS = frozenset({"slow_sleep_in_call", "slow_infinite_loop"})

TARGET_SECONDS = 30.0
TARGET_N = 1000
TARGET_CORES = 2
TARGET_RATIO = 100.0
MEMORY_TOLERANCE = 1.25  # "independent of class size": full class within 25% of a tenth of it


@dataclass
class GradeRun:
    """One timed ``autograder grade`` (or ``nbgrader autograde``) run and what it produced."""

    name: str
    label: str
    students: int
    jobs: int
    stats: RunStats
    kinds: dict[str, str]
    scores: dict[str, float | None] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    max_score: float = 20.0
    service: dict[str, float] | None = None
    warnings: list[str] = field(default_factory=list)
    shard_errors: dict[str, int] = field(default_factory=dict)
    files_mb: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.students / self.stats.wall_s if self.stats.wall_s > 0 else 0.0

    def row(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "students": self.students,
            "jobs": self.jobs,
            "submissions_per_s": round(self.rate, 2),
            "ms_per_submission": round(1000 * self.stats.wall_s / max(1, self.students), 1),
            **self.stats.summary(),
            "graded": sum(1 for s in self.scores.values() if s is not None),
            "files_mb": self.files_mb,
            "warnings": self.warnings,
        }


# -- running the graders ------------------------------------------------------------------------


def autograder_command() -> list[str]:
    """The ``autograder`` console script of the interpreter running this benchmark."""
    script = Path(sys.executable).parent / "autograder"
    if script.exists():
        return [str(script)]
    found = shutil.which("autograder")
    if found:
        return [found]
    return [sys.executable, "-m", "autograder"]


def grader_env() -> dict[str, str]:
    env = dict(os.environ)
    env["AUTOGRADER_SECRET"] = SECRET
    return env


def run_ours(
    name: str,
    label: str,
    folder: Path,
    kinds: Mapping[str, str],
    work: Path,
    jobs: int,
    *,
    isolation: str | None = None,
    max_jobs: int | None = None,
    timeout: float,
) -> GradeRun:
    """Time ``autograder grade`` on ``folder`` and read back its grades."""
    out = work / "out" / name
    command = [
        *autograder_command(),
        "grade",
        ASSIGNMENT,
        str(folder),
        "--out",
        str(out),
        "--jobs",
        str(jobs),
        "--quiet",
        "--fresh",
        "--course",
        str(REPO / "course.yml"),
    ]
    if isolation is not None:
        command += ["--isolation", isolation]
    if max_jobs is not None:
        command += ["--max-jobs", str(max_jobs)]
    print(f"  {label}: {len(kinds)} submissions, --jobs {jobs} ...", flush=True)
    stats = run_measured(
        command,
        cwd=REPO,
        env=grader_env(),
        journal=out / ".autograder" / "journal.jsonl",
        log_dir=work / "logs",
        name=name,
        timeout=timeout,
    )
    run = GradeRun(name, label, len(kinds), jobs, stats, dict(kinds))
    grades_path = out / "grades.json"
    if grades_path.exists():
        grades = json.loads(grades_path.read_text(encoding="utf-8"))
        run.max_score = float(grades.get("max_score", 20.0))
        for student, entry in grades.get("students", {}).items():
            run.scores[student] = float(entry.get("score", 0.0))
            run.statuses[student] = str(entry.get("status", "?"))
    run.warnings = [
        ln for ln in stats.stderr_tail.splitlines() if ln.startswith(("warning", "error"))
    ]
    if stats.returncode != 0:
        run.warnings.append(f"exit status {stats.returncode}")
    run.service = service_times(out / ".autograder" / "journal.jsonl")
    run.shard_errors = shard_errors(out / ".autograder")
    # Sizes that should grow linearly with the class (the journal) or not at all (shard logs).
    run.files_mb = {
        p.name: round(p.stat().st_size / 2**20, 2)
        for p in sorted((out / ".autograder").glob("*"))
        if p.is_file()
    }
    print(f"    {stats.wall_s:.1f} s, {run.rate:.1f}/s, exit {stats.returncode}", flush=True)
    return run


_E_LINE = re.compile(r"^E\s+(\w+(?:\.\w+)*(?:Error|Exception|Crash|Timeout|Exhausted|Answer)\w*)")


def shard_errors(state_dir: Path) -> dict[str, int]:
    """Which exceptions the shards' pytest logs show, by class name, with counts.

    Student mistakes appear here too (WrongAnswer and the like); what matters is anything a
    correct submission should never cause (e.g. a worker killed during a call).
    """
    counts: Counter[str] = Counter()
    for log in sorted(state_dir.glob("shard-*.log")):
        with log.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                match = _E_LINE.match(line)
                if match:
                    detail = line[match.end() :].strip()
                    detail = re.sub(r"\d+(\.\d+)?", "N", detail)[:90]
                    counts[f"{match.group(1).rsplit('.', 1)[-1]} {detail}".strip()] += 1
    return dict(counts.most_common(15))


def run_nbgrader(
    subset: Mapping[str, str], sources: Mapping[str, str], work: Path, *, timeout: float
) -> tuple[GradeRun, float, Path]:
    """Time ``nbgrader autograde`` on the subset; returns the run, generate time, course dir."""
    root = nbgrader_baseline.build_course(work / "nbgrader_course")
    env = nbgrader_baseline.nbgrader_env(Path(sys.executable).parent, root)
    print("  nbgrader generate_assignment ...", flush=True)
    started = time.perf_counter()
    generated = subprocess.run(
        ["nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    generate_s = time.perf_counter() - started
    if generated.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{generated.stderr[-2000:]}")
    nbgrader_baseline.submit(root, sources)
    print(f"  nbgrader autograde: {len(subset)} submissions ...", flush=True)
    stats = run_measured(
        ["nbgrader", "autograde", ASSIGNMENT, "--force"],
        cwd=root,
        env=env,
        log_dir=work / "logs",
        name="nbgrader_autograde",
        timeout=timeout,
    )
    run = GradeRun("nbgrader", "nbgrader autograde", len(subset), 1, stats, dict(subset))
    run.max_score = nbgrader_baseline.MAX_SCORE
    run.scores = nbgrader_baseline.scores(root, sorted(subset))
    run.statuses = {s: "graded" if v is not None else "missing" for s, v in run.scores.items()}
    if stats.returncode != 0:
        run.warnings.append(f"exit status {stats.returncode}")
    print(f"    {stats.wall_s:.1f} s, {run.rate:.2f}/s, exit {stats.returncode}", flush=True)
    return run, generate_s, root


# -- checking and summarising -------------------------------------------------------------------


def meets(expect: str, score: float | None, max_score: float) -> bool:
    """Whether a grade is what a submission of this kind deserves."""
    if score is None:
        return False
    full = score >= max_score - 1e-6
    if expect == classmix.FULL:
        return full
    if expect == classmix.ZERO:
        return score <= 1e-6
    if expect == classmix.PARTIAL:
        return 1e-6 < score < max_score - 1e-6
    return not full  # LOSES


def per_kind(run: GradeRun) -> dict[str, dict[str, Any]]:
    """Per kind: count, expected outcome, how many got it, scores, statuses, shard time."""
    table: dict[str, dict[str, Any]] = {}
    for kind in classmix.KINDS:
        members = sorted(s for s, k in run.kinds.items() if k == kind.name)
        if not members:
            continue
        scores = [run.scores.get(s) for s in members]
        wrong = [
            s
            for s, v in zip(members, scores, strict=True)
            if not meets(kind.expect, v, run.max_score)
        ]
        times = [run.service[s] * 1000 for s in members if run.service and s in run.service]
        present = [v for v in scores if v is not None]
        table[kind.name] = {
            "family": kind.family,
            "n": len(members),
            "expect": kind.expect,
            "as_expected": len(members) - len(wrong),
            "unexpected": wrong[:8],
            "mean_score": round(sum(present) / len(present), 2) if present else None,
            "statuses": dict(Counter(run.statuses.get(s, "absent") for s in members)),
            "service_ms": describe(times),
        }
    return table


def where_time_goes(run: GradeRun, sources: Mapping[str, str]) -> dict[str, Any]:
    """Shard-seconds by family, fixed costs, and the floor the slow submissions impose."""
    stats = run.stats
    first = stats.completions[0][0] if stats.completions else None
    last = stats.completions[-1][0] if stats.completions else None
    sleep_total = sum(classmix.sleep_of(sources[s]) for s in run.kinds)
    info: dict[str, Any] = {
        "first_result_s": round(first, 3) if first is not None else None,
        "after_last_result_s": round(stats.wall_s - last, 3) if last is not None else None,
        "cpu_s": round(stats.user_s + stats.sys_s, 2),
        "cpu_utilisation_of_jobs": round(
            (stats.user_s + stats.sys_s) / (stats.wall_s * run.jobs), 2
        )
        if stats.wall_s
        else None,
        "cpu_ms_per_submission": round(
            1000 * (stats.user_s + stats.sys_s) / max(1, run.students), 1
        ),
        # however the work is scheduled, the tree's CPU time spread over every core
        "cpu_floor_s": round((stats.user_s + stats.sys_s) / len(os.sched_getaffinity(0)), 2),
        "deliberate_sleep_s": round(sleep_total, 2),
        "sleep_floor_s": round(sleep_total / max(run.jobs, stats.peak_grading_processes), 2),
    }
    if run.service:
        by_family: dict[str, float] = {}
        for student, spent in run.service.items():
            family = classmix.KIND_BY_NAME[run.kinds[student]].family
            by_family[family] = by_family.get(family, 0.0) + spent
        total = sum(by_family.values())
        info["measured_shard_s"] = round(total, 2)
        ranked = sorted(by_family.items(), key=lambda kv: -kv[1])
        info["shard_s_by_family"] = {f: round(v, 2) for f, v in ranked}
        info["shard_share_by_family"] = {f: round(v / total, 3) for f, v in ranked} if total else {}
        fast = [
            1000 * t
            for s, t in run.service.items()
            if classmix.KIND_BY_NAME[run.kinds[s]].family != "slow"
        ]
        info["service_ms_excluding_slow"] = describe(fast)
        slow_s = sum(t for s, t in run.service.items() if run.kinds[s] in SLOW_KINDS)
        info["slow_shard_s"] = round(slow_s, 2)
    return info


def isolation_overhead(auto: Sequence[GradeRun], none: Sequence[GradeRun]) -> dict[str, Any]:
    """Per-submission cost of the sandbox: the same fast class with and without it.

    The runs alternate (auto, none, auto, none, ...) so that drifting machine load hits both
    modes alike; the medians over the repetitions are compared.
    """

    def correct_median_ms(run: GradeRun) -> float | None:
        if not run.service:
            return None
        times = [
            1000 * t
            for st, t in run.service.items()
            if run.kinds[st].startswith("correct_") and run.kinds[st] != "correct_pure_loops"
        ]
        return statistics.median(times) if times else None

    def summary(runs: Sequence[GradeRun]) -> dict[str, Any]:
        medians = [m for m in (correct_median_ms(r) for r in runs) if m is not None]
        return {
            "wall_s": [round(r.stats.wall_s, 2) for r in runs],
            "median_wall_s": round(statistics.median(r.stats.wall_s for r in runs), 3),
            "correct_service_ms_medians": [round(m, 1) for m in medians],
            "median_correct_service_ms": round(statistics.median(medians), 1) if medians else None,
        }

    with_sandbox, without = summary(auto), summary(none)
    result: dict[str, Any] = {"sandbox": with_sandbox, "isolation_none": without}
    if auto:
        students, jobs = auto[0].students, auto[0].jobs
        delta = with_sandbox["median_wall_s"] - without["median_wall_s"]
        result["ms_per_submission_from_wall"] = round(1000 * delta * jobs / max(1, students), 1)
    a, n = with_sandbox["median_correct_service_ms"], without["median_correct_service_ms"]
    if a is not None and n is not None:
        result["ms_per_submission_from_service"] = round(a - n, 1)
    result["none_mode_warning"] = next((w for r in none for w in r.warnings), "")
    return result


def targets(
    full: GradeRun, small: GradeRun, nbgrader: GradeRun | None, nproc: int
) -> dict[str, dict[str, Any]]:
    """The issue's three targets, each with the number measured and whether it is met."""
    # ``autograder grade`` prints a "warning:" line only when it cannot isolate fully
    isolated = not any(w.startswith("warning") for w in full.warnings)
    per_1000 = full.stats.wall_s * TARGET_N / max(1, full.students)
    speed_ok = (
        full.students >= TARGET_N
        and full.stats.wall_s < TARGET_SECONDS
        and isolated
        and full.stats.returncode == 0
    )
    result: dict[str, dict[str, Any]] = {
        "1000_in_30s_on_2_cores": {
            "target": f"{TARGET_N} submissions in < {TARGET_SECONDS:g} s on {TARGET_CORES} cores, "
            "full isolation",
            "measured": f"{full.students} in {full.stats.wall_s:.1f} s with --jobs {full.jobs} on "
            f"{nproc} cores ({per_1000:.1f} s per 1000)"
            + ("" if isolated else "; isolation degraded: " + "; ".join(full.warnings)),
            "met": speed_ok if full.students >= TARGET_N and nproc == TARGET_CORES else None,
        },
    }
    if nbgrader is not None and nbgrader.rate > 0:
        ratio = full.rate / nbgrader.rate
        result["100x_nbgrader"] = {
            "target": f">= {TARGET_RATIO:g}x nbgrader autograde throughput",
            "measured": f"{ratio:.0f}x ({full.rate:.1f}/s vs {nbgrader.rate:.2f}/s)",
            "ratio": round(ratio, 1),
            "met": ratio >= TARGET_RATIO,
        }
    # The pool starts more grading processes while cores idle, so the whole tree's memory
    # follows how many run at once (which the class's slow submissions decide), not its
    # size: the tree is compared per grading process.
    maxrss_ratio = full.stats.maxrss_mb / max(1e-9, small.stats.maxrss_mb)
    per_full = full.stats.tree_peak_mb / max(1, full.stats.peak_grading_processes)
    per_small = small.stats.tree_peak_mb / max(1, small.stats.peak_grading_processes)
    tree_ratio = per_full / max(1e-9, per_small)
    result["memory_independent_of_class_size"] = {
        "target": f"peak RSS for {full.students} within {MEMORY_TOLERANCE:g}x of {small.students}",
        "measured": f"largest process {full.stats.maxrss_mb:.0f} MB vs "
        f"{small.stats.maxrss_mb:.0f} MB ({maxrss_ratio:.2f}x); whole tree "
        f"{full.stats.tree_peak_mb:.0f} MB with {full.stats.peak_grading_processes} grading "
        f"processes vs {small.stats.tree_peak_mb:.0f} MB with "
        f"{small.stats.peak_grading_processes} ({tree_ratio:.2f}x per process)",
        "met": maxrss_ratio <= MEMORY_TOLERANCE and tree_ratio <= MEMORY_TOLERANCE,
    }
    return result


# -- output -------------------------------------------------------------------------------------


def _fmt(value: Any, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def print_report(results: dict[str, Any], runs: Sequence[GradeRun]) -> None:
    machine = results["machine"]
    print()
    print(
        f"Throughput on {machine['nproc']} x {machine['cpu_model']}, Python {machine['python']}, "
        f"numpy {machine['numpy_version']}, nbgrader {machine['nbgrader_version']}, "
        f"{machine['date_utc']}"
    )
    header = (
        f"{'run':<44}{'subs':>6}{'jobs':>5}{'procs':>6}{'wall s':>9}{'subs/s':>9}{'ms/sub':>9}"
        f"{'CPU s':>8}{'maxRSS MB':>11}{'tree MB':>9}{'other CPU s':>12}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        s = run.stats
        print(
            f"{run.label:<44}{run.students:>6}{run.jobs:>5}{s.peak_grading_processes:>6}"
            f"{s.wall_s:>9.2f}{run.rate:>9.2f}"
            f"{1000 * s.wall_s / max(1, run.students):>9.1f}{s.user_s + s.sys_s:>8.1f}"
            f"{s.maxrss_mb:>11.0f}{s.tree_peak_mb:>9.0f}{s.foreign_cpu_s:>12.1f}"
        )
    print()
    print("Files the grader left in OUT/.autograder (MB); the journal should grow linearly")
    for run in runs:
        if run.files_mb:
            files = ", ".join(f"{name} {size:g}" for name, size in run.files_mb.items())
            print(f"  {run.label}: {files}")
    print()
    print("Targets")
    for target in results["targets"].values():
        met = {True: "MET", False: "NOT MET", None: "n/a"}[target["met"]]
        print(f"  [{met:>7}] {target['target']}: {target['measured']}")
    print()
    print(
        "Per kind (full class): grades checked against what each kind deserves; ms each held a"
        " grading process (wall time: with more processes than cores, a multiple of its CPU)"
    )
    header = (
        f"  {'kind':<26}{'n':>5}{'expect':>8}{'ok':>6}{'mean':>7}{'median':>9}{'p90':>9}"
        f"{'max':>9}  statuses"
    )
    print(header)
    for kind, row in results["per_kind"].items():
        t = row["service_ms"]
        statuses = ", ".join(f"{k} {v}" for k, v in row["statuses"].items())
        print(
            f"  {kind:<26}{row['n']:>5}{row['expect']:>8}{row['as_expected']:>6}"
            f"{_fmt(row['mean_score'], '.1f'):>7}{_fmt(t.get('median'), '.0f'):>9}"
            f"{_fmt(t.get('p90'), '.0f'):>9}{_fmt(t.get('max'), '.0f'):>9}  {statuses}"
        )
    time_info = results["where_time_goes"]
    print()
    print("Where the time goes (full class)")
    for key, value in time_info.items():
        print(f"  {key}: {value}")
    iso = results.get("isolation")
    if iso:
        print()
        box, bare = iso["sandbox"], iso["isolation_none"]
        print(
            f"Isolation, fast subclass, {len(box['wall_s'])} alternating runs per mode: "
            f"sandbox {box['median_wall_s']} s (correct: {box['median_correct_service_ms']} ms "
            f"each), --isolation none {bare['median_wall_s']} s "
            f"({bare['median_correct_service_ms']} ms each): "
            f"{iso.get('ms_per_submission_from_service')} ms per submission from shard times, "
            f"{iso.get('ms_per_submission_from_wall')} ms from wall clock"
        )
    print(f"Bare fork + _exit + waitpid (numpy loaded), ms: {results['bare_fork_ms']}")
    nb = results.get("nbgrader")
    if nb:
        print()
        print(
            f"nbgrader: generate_assignment {nb['generate_assignment_s']} s; autograde "
            f"{nb['wall_s']} s for {nb['students']} ({nb['s_per_submission']} s each); "
            f"grades as expected for {nb['as_expected']}/{nb['students']}"
        )
    for run in runs:
        if run.warnings:
            print(f"warnings from {run.label}: {run.warnings}")


def _convert(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {str(k): _convert(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_convert(v) for v in value]
    return value


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=TARGET_N, help="class size (default 1000)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="grader shards (default: cores)"
    )
    parser.add_argument(
        "--nbgrader-n", type=int, default=20, help="submissions graded by nbgrader (default 20)"
    )
    parser.add_argument("--skip-nbgrader", action="store_true", help="do not run nbgrader")
    parser.add_argument(
        "--skip-fixed",
        action="store_true",
        help="do not grade the full class again with --max-jobs = --jobs (no pool growth)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--also-jobs",
        type=int,
        nargs="*",
        default=[],
        metavar="J",
        help="grade the full class again with each of these --jobs (e.g. more shards than "
        "cores, which lets sleeping submissions overlap)",
    )
    parser.add_argument(
        "--isolation-reps",
        type=int,
        default=3,
        metavar="R",
        help="alternating sandbox / --isolation none runs on the fast subclass (default 3)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the class (default 0)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="kill a grading run after this many seconds (default: generous, from --n)",
    )
    args = parser.parse_args(argv)
    smallest = min([args.jobs, args.nbgrader_n, args.isolation_reps, *args.also_jobs])
    if args.n < 10 or smallest < 1:
        parser.error("need --n >= 10 and --jobs, --also-jobs, --nbgrader-n, --isolation-reps >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    timeout = args.timeout or max(600.0, 1.5 * args.n)
    work = Path(tempfile.mkdtemp(prefix="autograder-throughput-"))
    try:
        return _run(args, work, timeout)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path, timeout: float) -> int:
    machine = machine_info(REPO)
    # Up-to-date bytecode, as `make setup` leaves it: with PYTHONDONTWRITEBYTECODE set (as on
    # some CI images) every grading process would otherwise compile the grader again.
    compileall.compile_dir(REPO / "autograder", quiet=1)
    print(f"Building classes in {work} (seed {args.seed}) ...", flush=True)
    full_kinds = classmix.build_class(work / "class_full", args.n, args.seed)
    small_n = max(10, args.n // 10)
    small_kinds = classmix.build_class(work / "class_small", small_n, args.seed + 1)
    fast_kinds = {s: k for s, k in small_kinds.items() if k not in SLOW_KINDS}
    classmix.write_class(work / "class_fast", fast_kinds, args.seed + 1)
    one = {"s0001": "correct_plain"}
    classmix.write_class(work / "class_one", one, args.seed)
    sources = {
        s: (work / "class_full" / s / "linear.py").read_text(encoding="utf-8") for s in full_kinds
    }
    subset = classmix.stratified_subset(full_kinds, args.nbgrader_n, args.seed, NO_NBGRADER)
    classmix.write_class(work / "class_subset", subset, args.seed)

    print("Timing a bare fork ...", flush=True)
    fork = bare_fork_ms()
    print("Grading with autograder ...", flush=True)
    jobs = args.jobs
    fixed = run_ours(
        "one", "ours: 1 submission (fixed cost)", work / "class_one", one, work, 1, timeout=timeout
    )
    small = run_ours(
        "small",
        f"ours: class of {small_n}",
        work / "class_small",
        small_kinds,
        work,
        jobs,
        timeout=timeout,
    )
    full = run_ours(
        "full",
        f"ours: class of {args.n}",
        work / "class_full",
        full_kinds,
        work,
        jobs,
        timeout=timeout,
    )
    fast_auto: list[GradeRun] = []
    fast_none: list[GradeRun] = []
    for rep in range(1, args.isolation_reps + 1):
        for mode, into in (("auto", fast_auto), ("none", fast_none)):
            into.append(
                run_ours(
                    f"fast_{mode}_{rep}",
                    f"ours: fast subclass, --isolation {mode} #{rep}",
                    work / "class_fast",
                    fast_kinds,
                    work,
                    jobs,
                    isolation=mode,
                    max_jobs=jobs,  # the same processes both ways: only isolation differs
                    timeout=timeout,
                )
            )
    runs = [fixed, small, full, *fast_auto, *fast_none]
    if not args.skip_fixed:
        runs.append(
            run_ours(
                "full_fixed",
                f"ours: class of {args.n}, --max-jobs {jobs} (the pool never grows)",
                work / "class_full",
                full_kinds,
                work,
                jobs,
                max_jobs=jobs,
                timeout=timeout,
            )
        )
    for extra in args.also_jobs:
        runs.append(
            run_ours(
                f"full_jobs{extra}",
                f"ours: class of {args.n}, --jobs {extra}",
                work / "class_full",
                full_kinds,
                work,
                extra,
                timeout=timeout,
            )
        )

    nbgrader_info: dict[str, Any] | None = None
    nb_run: GradeRun | None = None
    if not args.skip_nbgrader:
        sub_ours = run_ours(
            "subset",
            f"ours: nbgrader's {len(subset)} (.py)",
            work / "class_subset",
            subset,
            work,
            jobs,
            timeout=timeout,
        )
        runs.append(sub_ours)
        print("Grading with nbgrader ...", flush=True)
        nb_run, generate_s, course = run_nbgrader(
            subset, {s: sources[s] for s in subset}, work, timeout=timeout
        )
        sub_nb = run_ours(
            "subset_ipynb",
            f"ours: nbgrader's {len(subset)} (.ipynb)",
            course / "submitted",
            subset,
            work,
            jobs,
            timeout=timeout,
        )
        runs += [sub_nb, nb_run]
        nb_kinds = per_kind(nb_run)
        nbgrader_info = {
            "students": nb_run.students,
            "wall_s": round(nb_run.stats.wall_s, 2),
            "s_per_submission": round(nb_run.stats.wall_s / nb_run.students, 2),
            "submissions_per_s": round(nb_run.rate, 3),
            "generate_assignment_s": round(generate_s, 2),
            "execute_timeout_s": nbgrader_baseline.EXECUTE_TIMEOUT,
            "excluded_kinds": sorted(NO_NBGRADER),
            "subset": subset,
            "scores": nb_run.scores,
            "as_expected": sum(r["as_expected"] for r in nb_kinds.values()),
            "per_kind": nb_kinds,
            "ratio_full_class_over_nbgrader": round(full.rate / nb_run.rate, 1)
            if nb_run.rate
            else None,
            "ratio_same_subset_over_nbgrader": round(sub_ours.rate / nb_run.rate, 1)
            if nb_run.rate
            else None,
            # the same code graded from .py files and from nbgrader's notebooks
            "ours_py_and_ipynb_grades_identical": sub_ours.scores == sub_nb.scores,
        }

    results: dict[str, Any] = {
        "benchmark": "throughput",
        "machine": machine,
        "config": {
            "n": args.n,
            "small_n": small_n,
            "jobs": jobs,
            "seed": args.seed,
            "nbgrader_n": args.nbgrader_n,
            "skip_nbgrader": args.skip_nbgrader,
            "secret": SECRET,
            "mix_percent": {k.name: k.weight for k in classmix.KINDS},
            "sleep_range_s": list(classmix.SLEEP_RANGE),
        },
        "class_counts": dict(Counter(full_kinds.values())),
        "runs": {run.name: run.row() for run in runs},
        "per_kind": per_kind(full),
        "where_time_goes": where_time_goes(full, sources),
        "isolation": isolation_overhead(fast_auto, fast_none),
        "isolation_reference": "benchmarks/isolation.py times spawn -> call -> close per mode",
        "bare_fork_ms": fork,
        "nbgrader": nbgrader_info,
        "shard_errors_full": full.shard_errors,
        # max over every child this benchmark started (nbgrader's kernel included)
        "getrusage_children_maxrss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
    }
    results["targets"] = targets(full, small, nb_run, machine["nproc"])
    print_report(results, runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(_convert(results), indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0 if all(r.stats.returncode == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
