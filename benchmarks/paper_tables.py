"""The settings of the papers' synthetic tables, measured with sith (practice mode).

Zimmermann et al. 2021 ("Contrastive learning inverts the data generating process",
Table 1) vary the latent space (sphere, box), the data's conditional p(z̃|z) and the
critic the model assumes, at n = 10 with a 3-layer invertible MLP mixing; von Kügelgen
et al. 2021 ("Self-supervised learning with data augmentations provably isolates content
from style", numerical table) vary the probability that the style changes and whether
content and style are dependent, at n_c = n_s = 5. Each row here is that setting with
sith's learners at their default (CPU) budgets, scored on held-out samples; the numbers
beside them in docs/reproductions.md are the papers' where we could read them.

Every row trains the named theorem's learner (or the row's), ``--seeds`` seeds, on a
process whose mixing is drawn with the seed (InvertibleMLP(n, depth=3, seed=s)), and
prints per-seed and median values of the row's metrics; ``--workers`` runs rows' seeds
in parallel (one torch thread each).

Run: python benchmarks/paper_tables.py [--rows ...] [--seeds 5] [--workers 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time

import numpy as np

import theory as th
from theory import claims as C

N = 10  # the papers' latent dimension (n_c + n_s = 5 + 5 for content/style)


def _mixing(seed: int) -> th.mixings.Mixing:
    return th.mixings.InvertibleMLP(N, depth=3, seed=seed)


def _dependent_normal(seed: int) -> th.latents.Normal:
    """N(0, Σ) with Σ = W Wᵀ / n + I / 2, W standard normal (seed 1000 + seed): content
    and style statistically dependent, as the paper's Wishart-drawn covariance."""
    w = np.random.default_rng(1000 + seed).standard_normal((N, N))
    return th.latents.Normal(N, cov=(w @ w.T / N + 0.5 * np.eye(N)).tolist())


def _theorem(name: str, **changes) -> th.Theorem:
    return dataclasses.replace(th.theorems.get(name), **changes)


CONTENT = C.block(content=5, threshold=0.9)

# row: (table, setting, theorem, process for a seed, metrics to report)
ROWS = {
    "sphere-vmf": (
        "Zimmermann Table 1",
        "sphere, p(z) uniform, vMF(κ=10) positives, cosine critic (τ ≈ 2/κ)",
        _theorem("cl-ica", learner="infonce-practical"),  # τ ≈ 2/κ at n = 10
        lambda s: th.Process(
            th.latents.UniformSphere(N), _mixing(s), th.conditionals.VonMisesFisher(10.0)
        ),
        ("r2_linear", "r2_orthogonal"),
    ),
    "sphere-laplace": (
        "Zimmermann Table 1",
        "sphere, Laplace(0.1) positives projected to the sphere, cosine critic (mismatched)",
        _theorem("cl-ica", learner="infonce-practical"),  # τ ≈ 2/κ at n = 10
        lambda s: th.Process(th.latents.UniformSphere(N), _mixing(s), th.conditionals.Laplace(0.1)),
        ("r2_linear", "r2_orthogonal"),
    ),
    "sphere-normal": (
        "Zimmermann Table 1",
        "sphere, Normal(0.1) positives projected to the sphere, cosine critic (mismatched)",
        _theorem("cl-ica", learner="infonce-practical"),  # τ ≈ 2/κ at n = 10
        lambda s: th.Process(th.latents.UniformSphere(N), _mixing(s), th.conditionals.Normal(0.1)),
        ("r2_linear", "r2_orthogonal"),
    ),
    "box-laplace-l1": (
        "Zimmermann Table 1",
        "box [-1, 1]^n, uniform, Laplace(0.1) positives truncated to the box, L1 critic",
        "cl-ica-box",
        lambda s: th.Process(
            th.latents.Uniform(N), _mixing(s), th.conditionals.GeneralizedNormal(1.0, 0.1)
        ),
        ("mcc_crossfit", "r2_linear"),
    ),
    "box-normal-l1": (
        "Zimmermann Table 1",
        "box, Normal positives (β = 2, scale 0.14) truncated to the box, L1 critic (mismatched)",
        "cl-ica-box",
        lambda s: th.Process(
            th.latents.Uniform(N), _mixing(s), th.conditionals.GeneralizedNormal(2.0, 0.14)
        ),
        ("mcc_crossfit", "r2_linear"),
    ),
    "box-normal-l2": (
        "Zimmermann Table 1",
        "box, Normal positives truncated to the box, L2 critic (α = 2: affine only)",
        _theorem(
            "cl-ica-box",
            learner=("infonce-lp", {"p": 2.0, "tau": 0.2, "train.batch_size": 256}),
        ),
        lambda s: th.Process(
            th.latents.Uniform(N), _mixing(s), th.conditionals.GeneralizedNormal(2.0, 0.14)
        ),
        ("mcc_crossfit", "r2_linear"),
    ),
    "style-p1": (
        "von Kügelgen Table 1",
        "n_c = n_s = 5, independent N(0, I), every style dimension changes (p = 1)",
        _theorem("content-style", claim=CONTENT),
        lambda s: th.Process(
            th.latents.Normal(N), _mixing(s), th.conditionals.ContentStyle(content=5, p=1.0)
        ),
        ("block_r2", "block_r2_style"),
    ),
    "style-p075": (
        "von Kügelgen Table 1",
        "n_c = n_s = 5, independent, each style dimension changes with p = 0.75",
        _theorem("content-style", claim=CONTENT),
        lambda s: th.Process(
            th.latents.Normal(N), _mixing(s), th.conditionals.ContentStyle(content=5, p=0.75)
        ),
        ("block_r2", "block_r2_style"),
    ),
    "style-p075-dependent": (
        "von Kügelgen Table 1",
        "n_c = n_s = 5, statistically dependent N(0, Σ), p = 0.75",
        _theorem("content-style", claim=CONTENT),
        lambda s: th.Process(
            _dependent_normal(s), _mixing(s), th.conditionals.ContentStyle(content=5, p=0.75)
        ),
        ("block_r2", "block_r2_style"),
    ),
}


def run_one(task: tuple[str, int]) -> dict:
    """One (row, seed): train, score, and the row's metrics (a top-level function: it
    travels to the workers)."""
    from verification.recovery import recover

    row, seed = task
    _, _, theorem, make, metrics = ROWS[row]
    theorem = th.theorems.get(theorem) if isinstance(theorem, str) else theorem
    start = time.process_time()
    result = recover(theorem, make(seed), seed=seed)
    return {
        "row": row,
        "seed": seed,
        "recovered": result.recovered,
        "claim": result.claim_name,
        "values": {m: result.metrics.get(m) for m in metrics},
        "status": result.status,
        "diagnosis": result.diagnosis,
        "train_seconds": round(result.train_seconds, 2),
        "cpu_seconds": round(time.process_time() - start, 2),
    }


def summarise(row: str, results: list[dict]) -> str:
    table, setting, _, _, metrics = ROWS[row]
    parts = []
    for m in metrics:
        values = [r["values"][m] for r in results if r["values"].get(m) is not None]
        if values:
            per_seed = " ".join(f"{v:.3f}" for v in values)
            parts.append(f"{m} median {statistics.median(values):.3f} [{per_seed}]")
    recovered = sum(bool(r["recovered"]) for r in results)
    median_s = statistics.median(r["train_seconds"] for r in results)
    return (
        f"{row} ({table}: {setting}): "
        + "; ".join(parts)
        + f"; recovered {recovered}/{len(results)}; median training {median_s:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    from verification.executors import get_executor

    print(f"load average at start: {os.getloadavg()}", flush=True)
    tasks = [(row, seed) for row in args.rows for seed in range(args.seeds)]
    results: dict[str, list[dict]] = {row: [] for row in args.rows}
    kind = "serial" if args.workers == 1 else "local"
    with get_executor(kind, args.workers, 1) as executor:
        for outcome in executor.map_unordered(run_one, tasks):
            if not outcome.ok:
                print(f"{tasks[outcome.index]}: {outcome.error}", flush=True)
                continue
            r = outcome.value
            results[r["row"]].append(r)
            print(json.dumps(r), flush=True)
            if len(results[r["row"]]) == args.seeds:
                ordered = sorted(results[r["row"]], key=lambda x: x["seed"])
                print(summarise(r["row"], ordered), flush=True)
    print(f"load average at end: {os.getloadavg()}", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


# --- figures for python -m benchmarks (see benchmarks/__init__) ------------------------

FIGURE_SIZES = {"quick": (("sphere-vmf",), 1), "full": (tuple(ROWS), 5)}


def figures(size: str) -> list[dict]:
    """The median of each row's metrics over its seeds (no floors: the papers' own
    figures are in docs/reproductions.md). Quick: sphere-vmf, seed 0."""
    rows, seeds = FIGURE_SIZES[size]
    out = []
    for row in rows:
        results = [run_one((row, seed)) for seed in range(seeds)]
        for metric in ROWS[row][4]:
            values = [r["values"][metric] for r in results if r["values"].get(metric) is not None]
            if values:
                out.append(
                    {
                        "name": f"paper_tables.{row}.{metric}",
                        "value": statistics.median(values),
                        "unit": "median",
                        "better": "higher" if not metric.endswith("_style") else "lower",
                        "floor": None,
                        "reference": None,
                        "note": f"{ROWS[row][0]}, {len(values)} seeds",
                    }
                )
    return out


if __name__ == "__main__":
    main()
