"""The full assumption report of a d-dimensional process, timed assumption by assumption.

Every assumption of the catalogue that is about the process (not the learner) is
checked on Laplace(d) latents through ``InvertibleMLP(d, depth=3, seed=0)``, as ``sith
check NAME`` would (default points, seed 0, 2 s for each exact sympy attempt). Floor
(issue 25): the whole report at d = 50 within 5 s. The verdicts and each assumption's
seconds are printed and saved beside the total: a speed-up must never change the
verdicts. (Measured 2026-12-06: four Jacobian conditions spend their whole 2 s on a sympy
attempt that cannot finish on a 50-dimensional 3-layer MLP; without exact attempts,
``factorized`` falls back from a sympy proof to a 30 s HSIC test and says ``holds``.)

Run: python benchmarks/checks.py [--dims 10 50]
"""

from __future__ import annotations

import argparse
import time

import torch

import theory as th
from verification.checks import check

FLOOR = 5.0  # seconds for the full report at d = 50
SIZES = {"quick": (10,), "full": (10, 50)}


def process(d: int) -> th.Process:
    return th.Process(th.latents.Laplace(d), th.mixings.InvertibleMLP(d, depth=3, seed=0))


def process_assumptions() -> list[str]:
    """Catalogue names of the assumptions about the process (learner ones need a learner)."""
    return [
        name
        for name in th.assumptions.names()
        if not isinstance(th.assumptions.get(name), th.learner_conditions.LearnerAssumption)
    ]


def report(d: int) -> tuple[float, dict[str, tuple[str, float]]]:
    """(seconds for the whole report, {assumption: (verdict, seconds)})."""
    p = process(d)
    out = {}
    start = time.perf_counter()
    for name in process_assumptions():
        evidence = check(name, p)
        out[name] = (evidence.verdict, evidence.seconds)
    return time.perf_counter() - start, out


def figures(size: str) -> list[dict]:
    """Seconds of the full report per d (floor 5 s at d = 50; see benchmarks/__init__)."""
    out = []
    for d in SIZES[size]:
        seconds, rows = report(d)
        out.append(
            {
                "name": f"checks.d{d}.full_report_s",
                "value": seconds,
                "unit": "s",
                "better": "lower",
                "floor": FLOOR if d == 50 else None,
                "reference": None,
                "note": f"{len(rows)} assumptions, Laplace({d}) + InvertibleMLP(depth 3)",
                "details": {name: {"verdict": v, "seconds": s} for name, (v, s) in rows.items()},
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 50])
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for d in args.dims:
        seconds, rows = report(d)
        print(f"d = {d}: full report {seconds:.2f} s (floor {FLOOR} s at d = 50)")
        for name, (verdict, s) in rows.items():
            print(f"  {name:28s} {verdict:15s} {s:7.2f} s")


if __name__ == "__main__":
    main()
