"""Per-submission cost of the sandbox: spawn -> READY -> one linear_forward call -> close.

Variants, interleaved in one process so machine noise hits them alike:

* ``fork floor``  -- this process forks a child that computes the same call and pipes the
  result back: no runner, no protocol, no isolation. The least any fork design can cost.
* ``mode none``   -- the Sandbox with rlimits + seccomp (+ own uid and sweep as root): the
  "bare fork" baseline of the real code path.
* ``full``        -- the Sandbox in the strongest mode here (root: uid, net/mount/ipc
  namespaces, hidepid /proc, read-only view, private /tmp, seccomp, rlimits, uid sweep).
* ``fresh python``-- a new interpreter per submission (``python -I -c``: import numpy, read
  the inputs as .npy on stdin, write the result to stdout), with no isolation at all.

Usage: ``.venv/bin/python benchmarks/isolation.py [-n 50]``. Prints medians and ratios, then a
Markdown results section for docs/isolation.md. Target: ``full`` within 2x ``mode none``.
Under a Python without pyseccomp (or without the system's libseccomp2) the sandbox runs
without seccomp and these are not grading's times: the script warns on stderr, and says so in
the results.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

from autograder.sandbox import Limits, Sandbox  # noqa: E402
from autograder.sandbox.model import SECCOMP, IsolationReport  # noqa: E402

SOURCE = """
import numpy as np

def linear_forward(x, W, b):
    return x @ W + b, (x, W)
"""
FRESH = (
    "import sys, io, numpy as np\n"
    "data = np.load(io.BytesIO(sys.stdin.buffer.read()))\n"
    "x, W, b = data['x'], data['W'], data['b']\n"
    "out = io.BytesIO(); np.save(out, x @ W + b); sys.stdout.buffer.write(out.getvalue())\n"
)
RNG = np.random.default_rng(0)
X, W, B = RNG.normal(size=(8, 5)), RNG.normal(size=(5, 3)), RNG.normal(size=3)
EXPECTED = X @ W + B


def sandbox_run(sandbox: Sandbox) -> Callable[[], None]:
    def run() -> None:
        worker = sandbox.spawn(SOURCE, filename="linear.py", module="linear", limits=Limits())
        y, _ = worker.call("linear_forward", X, W, B)
        worker.close()
        assert np.allclose(y, EXPECTED)

    return run


def fork_floor() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        buffer = io.BytesIO()
        np.save(buffer, X @ W + B)
        os.write(write_end, buffer.getvalue())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        y = np.load(io.BytesIO(pipe.read()))
    os.waitpid(pid, 0)
    assert np.allclose(y, EXPECTED)


def fresh_python() -> None:
    payload = io.BytesIO()
    np.savez(payload, x=X, W=W, b=B)
    done = subprocess.run(
        [sys.executable, "-I", "-c", FRESH],
        input=payload.getvalue(),
        capture_output=True,
        check=True,
        env={"OPENBLAS_NUM_THREADS": "1"},
    )
    assert np.allclose(np.load(io.BytesIO(done.stdout)), EXPECTED)


def seccomp_warning(*reports: IsolationReport) -> str | None:
    """Why the numbers are not grading's, if a measured sandbox runs without seccomp."""
    if all(SECCOMP in report.enforced for report in reports):
        return None
    return (
        f"seccomp is not enforced: {sys.executable} lacks pyseccomp (or the system lacks "
        "libseccomp2), so these times leave out what it costs in grading; run with the "
        "venv's Python, .venv/bin/python"
    )


def measure(variants: dict[str, Callable[[], None]], n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for run in variants.values():  # warm-up: first-touch page faults, lazy imports
        run()
    for _ in range(n):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="runs per variant (default 50)")
    args = parser.parse_args()
    with Sandbox(slot=90, mode="none") as bare, Sandbox(slot=91) as full:
        variants = {
            "fork floor": fork_floor,
            "mode none": sandbox_run(bare),
            f"full ({full.report.mode})": sandbox_run(full),
            "fresh python": fresh_python,
        }
        warning = seccomp_warning(bare.report, full.report)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        times = measure(variants, args.n)
        enforced = ", ".join(full.report.enforced)
    medians = {name: statistics.median(values) for name, values in times.items()}
    full_name = next(name for name in medians if name.startswith("full"))
    print(f"{'variant':<14} {'median ms':>10} {'min':>8} {'max':>8}")
    for name, values in times.items():
        print(f"{name:<14} {medians[name]:>10.2f} {min(values):>8.2f} {max(values):>8.2f}")
    ratio_none = medians[full_name] / medians["mode none"]
    ratio_fresh = medians["fresh python"] / medians[full_name]
    print(
        f"\nfull / mode none = {ratio_none:.2f}x (target <= 2x); "
        f"fresh python / full = {ratio_fresh:.1f}x"
    )
    print("\n## Results\n")
    print(
        f"`python benchmarks/isolation.py -n {args.n}` on {os.cpu_count()} CPUs, "
        f"numpy {np.__version__}, Python {sys.version.split()[0]}; spawn -> READY -> one "
        "`linear_forward` (8x5 @ 5x3) -> close, interleaved.\n"
    )
    print("| variant | median ms | min | max |\n|---|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {medians[name]:.1f} | {min(values):.1f} | {max(values):.1f} |")
    print(
        f"\nfull = {enforced}. full / mode none = {ratio_none:.2f}x; "
        f"fresh python / full = {ratio_fresh:.1f}x."
    )
    if warning:
        print(f"\n**Not grading's times**: {warning}.")
        print(f"warning: {warning}", file=sys.stderr)  # again, below the tables


if __name__ == "__main__":
    main()
