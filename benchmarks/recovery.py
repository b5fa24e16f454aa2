"""Seconds to reach each catalogue theorem's claim threshold on its canonical process.

For every case and seed, the theorem's default learner trains while a monitor measures
the claim metric on 2000 held-out samples every few steps (monitor time is not
counted); the run stops when the threshold is reached or the learner's budget is spent.
Prints median and worst seconds over the seeds and how many seeds got there.

The negative control ``linear-ica-gauss-5`` (Gaussian sources: not identifiable) must
not reach its threshold.

Run: python benchmarks/recovery.py [--seeds 5] [--cases cl-ica-3 cl-ica-10 linear-ica-5]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import theory as th
from verification import learners as L
from verification.recovery import TEST_STREAM, score

CASES = {
    "cl-ica-3": ("cl-ica", lambda: th.theorems.get("cl-ica").canonical_process(), 0.99),
    "cl-ica-10": (
        "cl-ica",
        lambda: th.Process(
            th.latents.UniformSphere(10),
            th.mixings.InvertibleMLP(10, depth=3, seed=0),
            th.conditionals.VonMisesFisher(10.0),
        ),
        0.95,
    ),
    "linear-ica-5": ("linear-ica", lambda: th.theorems.get("linear-ica").canonical_process(), 0.95),
    "linear-ica-gauss-5": (
        "linear-ica",
        lambda: th.Process(th.latents.Normal(5), th.mixings.Linear.random(5, seed=0)),
        0.95,
    ),
    "content-style-4": (
        "content-style",
        lambda: th.theorems.get("content-style").canonical_process(),
        0.9,
    ),
    "tcl-3": ("tcl", lambda: th.theorems.get("tcl").canonical_process(), 0.9),
}


def time_to_threshold(case: str, seed: int, mixing_seed: int) -> tuple[float, float, bool]:
    """(seconds, final claim value, reached) for one seed (mixing and training)."""
    name, make, threshold = CASES[case]
    theorem = th.theorems.get(name)
    process = make()
    if hasattr(process.mixing, "seed"):
        spec = process.mixing.to_dict() | {"seed": mixing_seed}
        process = th.Process(process.latent, th.mixings.Mixing.from_dict(spec), process.conditional)
    z, x = process.sample(2000, np.random.default_rng([seed, TEST_STREAM]))
    learner = L.for_theorem(theorem)
    best = {"value": float("nan")}

    def claim_value(encode) -> float:
        # one BLAS thread: idle-spinning BLAS workers would otherwise steal the cores
        # from torch between monitor calls and slow the (timed) training several-fold
        with threadpool_limits(1):
            return score(theorem, process, z, encode(x), seed=seed, fast=True)[theorem.claim.metric]

    def monitor(step, encode) -> bool:
        best["value"] = claim_value(encode)
        return best["value"] >= threshold

    fit = learner.fit(process, seed=seed, monitor=monitor)
    value = claim_value(fit.encode)
    return fit.seconds, value, value >= threshold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(
        f"{'case':<16} {'threshold':>9} {'median s':>9} {'worst s':>8} {'reached':>8} "
        f"{'median value':>13}"
    )
    for case in args.cases:
        runs = [time_to_threshold(case, seed, seed) for seed in range(args.seeds)]
        seconds = [s for s, _, _ in runs]
        reached = sum(ok for _, _, ok in runs)
        print(
            f"{case:<16} {CASES[case][2]:>9} {statistics.median(seconds):>9.2f} "
            f"{max(seconds):>8.2f} {reached:>5}/{args.seeds} "
            f"{statistics.median(v for _, v, _ in runs):>13.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
