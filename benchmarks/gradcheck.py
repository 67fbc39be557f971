"""Gradient-check cost against parameter count, and the sweep behind the thresholds.

Part 1 (always): for square layers D = F from 16 to 1024 (B = 32), time the full
element-by-element finite-difference check of dW (``gradient_check``: two forward passes per
entry of W, so cost grows with D*F) against the random-projection check
(``directional_check``: two forward passes per direction, independent of D*F), in one run.
Full finite differences stop once one check would exceed ``--budget`` seconds; the table shows
the measured time where it ran and the extrapolation where it did not.

Part 2 (``--sweep N``): the threshold measurement quoted in ``autograder/gradcheck.py`` --
N random layers, correct implementations in four styles, float32 and structural mistakes --
and whether every correct one passes and every wrong one fails.

    python benchmarks/gradcheck.py                 # part 1, about a minute
    python benchmarks/gradcheck.py --sweep 2000    # plus the full sweep (minutes)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.gradcheck import directional_check, gradient_check  # noqa: E402


def linear(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return x @ W + b


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cost_table(sizes: list[int], batch: int, budget: float) -> list[dict[str, float]]:
    rng = np.random.default_rng(0)
    rows = []
    per_entry: float | None = None
    for size in sizes:
        inputs = {
            "x": rng.standard_normal((batch, size)),
            "W": rng.standard_normal((size, size)),
            "b": rng.standard_normal(size),
        }
        g = rng.standard_normal((batch, size))
        dW = inputs["x"].T @ g
        directional = timed(
            lambda inputs=inputs, g=g, dW=dW: directional_check(
                linear, inputs, g, {"W": dW}, rng=np.random.default_rng(1)
            )
        )
        estimate = per_entry * size * size if per_entry is not None else 0.0
        if per_entry is None or estimate <= budget:
            full = timed(
                lambda inputs=inputs, g=g, dW=dW: gradient_check(linear, inputs, g, {"W": dW}),
                repeat=1,
            )
            per_entry = full / (size * size)
            measured = True
        else:
            full, measured = estimate, False
        rows.append(
            {
                "D=F": size,
                "parameters": size * size,
                "full_s": full,
                "full_measured": measured,
                "directional_s": directional,
                "ratio": full / directional,
            }
        )
        mark = "" if measured else " (extrapolated)"
        print(
            f"D=F={size:5d}  params={size * size:8d}  full FD {full:10.4f} s{mark:15s}"
            f"  directional {directional * 1000:8.2f} ms  ratio {full / directional:10.0f}x",
            flush=True,
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="16,32,64,128,256,512,1024")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--budget", type=float, default=20.0, help="max seconds per full check")
    parser.add_argument("--sweep", type=int, default=0, help="cases for the threshold sweep")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/gradcheck.json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("Part 1: cost of checking dW, full finite differences vs random projections")
    result: dict[str, object] = {
        "machine": {"python": platform.python_version(), "numpy": np.__version__},
        "cost": cost_table(sizes, args.batch, args.budget),
    }
    if args.sweep:
        from tests.test_gradcheck import assert_thresholds_separate, measure

        print(f"\nPart 2: threshold sweep over {args.sweep} random layers")
        start = time.perf_counter()
        m = measure(cases=args.sweep, max_size=256, max_elementwise=16, seed=2024)
        print(m)
        assert_thresholds_separate(m)
        print(
            f"every correct implementation passed, every mistake failed "
            f"({time.perf_counter() - start:.0f} s)"
        )
        result["sweep"] = {"cases": args.sweep, **vars(m)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
