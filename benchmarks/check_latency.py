"""How long a student waits for ``autograder check``, against plain ``pytest`` in the same folder.

For each assignment, in temporary copies of ``assignments/<a>/``, three files a student really
runs the check on: the untouched stub (the first thing every student runs), the reference (all
checks pass) and the reference with one unclosed bracket (the file does not run). Each is
checked with ``autograder check`` and with ``python -m pytest -q`` (what the handouts also
offer), alternately, ``--reps`` times; the table gives the median wall time of each and their
ratio. Both run the same public tests in the same sandbox; check adds the rubric-shaped summary
and skips pytest's tracebacks.

    python benchmarks/check_latency.py            # about a minute
    python benchmarks/check_latency.py --reps 1 --out /tmp/check_latency.json   # smoke check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("linear", "mlp", "linear_nd")


def variants(assignment: str) -> dict[str, str]:
    """The module's source for each kind of attempt."""
    reference = (ROOT / "solutions" / assignment / f"{assignment}.py").read_text()
    broken = reference.replace("\ndef ", "\nX = (1\n\n\ndef ", 1)
    return {
        "stub": (ROOT / "assignments" / assignment / f"{assignment}.py").read_text(),
        "reference": reference,
        "syntax error": broken,
    }


def timed(command: list[str], cwd: Path) -> float:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=600, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "check_latency.json"
    )
    args = parser.parse_args()
    check = [sys.executable, "-m", "autograder", "check"]
    plain = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="check-latency-") as tmp:
        for assignment in ASSIGNMENTS:
            for kind, source in variants(assignment).items():
                folder = Path(tmp) / f"{assignment}-{kind.replace(' ', '-')}"
                shutil.copytree(ROOT / "assignments" / assignment, folder)
                (folder / f"{assignment}.py").write_text(source)
                times: dict[str, list[float]] = {"check": [], "pytest": []}
                for _ in range(args.reps):  # alternately, so drift hits both alike
                    times["check"].append(timed(check, folder))
                    times["pytest"].append(timed(plain, folder))
                row = {
                    "assignment": assignment,
                    "attempt": kind,
                    "check_s": statistics.median(times["check"]),
                    "pytest_s": statistics.median(times["pytest"]),
                }
                row["ratio"] = row["check_s"] / row["pytest_s"]
                rows.append(row)
                print(
                    f"{assignment:10} {kind:13} check {row['check_s']:5.2f} s   "
                    f"pytest {row['pytest_s']:5.2f} s   check/pytest {row['ratio']:4.2f}",
                    flush=True,
                )
    worst = max(row["check_s"] for row in rows)
    print(f"\nslowest check: {worst:.2f} s (median of {args.reps})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                },
                "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                "reps": args.reps,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
