"""Calibration and power of the sample tests behind ``factorized`` and ``non-gaussian``.

Each cell runs the check itself (``verification.check`` on a latent known only by its
sampler, so neither sympy nor a declared family can decide) with seeds 0..R-1 and
reports how often it rejects at the assumption's level (0.01 by default):

- ``factorized`` (copula HSIC test, ``rank_hsic_test``, Holm over the pairs): rejects =
  verdict ``violated``. Nulls (independent coordinates): Laplace, Gaussian; the rate
  must stay <= 2 x level. Power cases (z1 and z2 dependent, the other coordinates
  independent Laplace): ``cos-variance`` z2 = e √(1 + 0.9 cos 4πz1), z1 ~ U(-1, 1);
  ``sign`` z2 = |e| sign(z1); ``circle`` (z1, z2) uniform on the unit circle (dependent,
  uncorrelated). Power must be >= 0.9.
- ``non-gaussian`` (Anderson–Darling per component, Holm over the components): rejects =
  at least one component declared non-Gaussian. Null: Gaussian latents (a rejection is a
  Gaussian component taken for non-Gaussian, which can turn the verdict to ``holds``
  wrongly); power cases: Laplace, Uniform and a Uniform/Laplace mixture with Gaussian
  skewness and kurtosis, where the row's rate is that of *every* component rejected.

The last column is the mean seconds of one check (wall clock, this machine's load).

Run: python benchmarks/independence.py [--replications 200] [--dims 2 5 10] [--level 0.01]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch

import theory as th
from verification import check

A = th.assumptions
MIX_WEIGHT = 5 / 7  # uniform weight of the mixture with kurtosis 3 (E z⁴ = 9/5 w + 6 (1 - w))


@dataclass
class Sampled(th.latents.Latent):
    """A latent known only by its sampler: the sample tests decide."""

    n: int
    kind: str = "laplace"

    def _draw(self, rng, n):
        z = rng.laplace(size=(n, self.n))
        if self.kind == "normal":
            return rng.standard_normal((n, self.n))
        if self.kind == "uniform":
            return rng.uniform(-1, 1, (n, self.n))
        if self.kind == "kurtosis3":
            uniform = rng.uniform(-np.sqrt(3), np.sqrt(3), (n, self.n))
            laplace = rng.laplace(0.0, 1 / np.sqrt(2), (n, self.n))
            return np.where(rng.uniform(size=(n, self.n)) < MIX_WEIGHT, uniform, laplace)
        if self.kind == "cos-variance":
            z[:, 0] = rng.uniform(-1, 1, n)
            z[:, 1] = rng.standard_normal(n) * np.sqrt(1 + 0.9 * np.cos(4 * np.pi * z[:, 0]))
        elif self.kind == "sign":
            z[:, 1] = np.abs(rng.standard_normal(n)) * np.sign(z[:, 0])
        elif self.kind == "circle":
            angle = rng.uniform(0, 2 * np.pi, n)
            z[:, 0], z[:, 1] = np.cos(angle), np.sin(angle)
        elif self.kind != "laplace":
            raise ValueError(self.kind)
        return z


def rate(assumption, kind: str, n: int, replications: int) -> tuple[float, float]:
    """(rejection rate, mean seconds per check) over seeds 0..replications-1."""
    process = th.Process(Sampled(n, kind), th.mixings.Linear(np.eye(n).tolist()))
    rejected, start = 0, time.perf_counter()
    for seed in range(replications):
        e = check(assumption, process, seed=seed, n_points=256)
        if isinstance(assumption, A.Factorized):
            rejected += e.verdict == "violated"
        elif kind == "normal":  # some Gaussian component taken for non-Gaussian
            rejected += e.statistic < n
        else:  # every component taken for non-Gaussian
            rejected += e.statistic == 0
    return rejected / replications, (time.perf_counter() - start) / replications


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5, 10])
    parser.add_argument("--level", type=float, default=0.01)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from verification.checks import density as D

    print(
        f"{args.replications} replications per cell, level {args.level:g}; factorized: "
        f"copula HSIC on {D.INDEPENDENCE_SAMPLES} samples, orders {D.INDEPENDENCE_ORDERS}; "
        f"non-gaussian: Anderson–Darling on {D.NORMALITY_SAMPLES} samples\n"
    )
    rows = [
        (A.Factorized(level=args.level), "laplace", "null: false positive", "<= 0.02"),
        (A.Factorized(level=args.level), "normal", "null: false positive", "<= 0.02"),
        (A.Factorized(level=args.level), "cos-variance", "power", ">= 0.9"),
        (A.Factorized(level=args.level), "sign", "power", ">= 0.9"),
        (A.Factorized(level=args.level), "circle", "power", ">= 0.9"),
        (A.NonGaussian(level=args.level), "normal", "null: false positive", "<= 0.02"),
        (A.NonGaussian(level=args.level), "laplace", "power (all rejected)", ">= 0.9"),
        (A.NonGaussian(level=args.level), "uniform", "power (all rejected)", ">= 0.9"),
        (A.NonGaussian(level=args.level), "kurtosis3", "power (all rejected)", ">= 0.9"),
    ]
    dims = " ".join(f"{'n = ' + str(n):>8}" for n in args.dims)
    print(f"{'check':<13} {'latent':<13} {'rate':<21} {'target':<8} {dims}  s/check")
    for assumption, kind, what, target in rows:
        cells = [rate(assumption, kind, n, args.replications) for n in args.dims]
        rates = " ".join(f"{r:>8.3f}" for r, _ in cells)
        seconds = "/".join(f"{s:.2f}" for _, s in cells)
        print(f"{assumption.name:<13} {kind:<13} {what:<21} {target:<8} {rates}  {seconds}")


if __name__ == "__main__":
    main()
