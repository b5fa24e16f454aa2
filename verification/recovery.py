"""recover(): generate data, train the theorem's learner, score recovery held-out.

The claim decides "recovered": its metric (e.g. linear R² for an affine/orthogonal
indeterminacy, MCC for permutation+elementwise, block R² for content) must pass its
threshold on samples the learner never saw (a separate seeded stream).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import theory as th
from theory.errors import InvalidArgument
from verification import learners as L
from verification import metrics as M

TEST_STREAM = 7  # held-out samples come from rng([seed, TEST_STREAM]); learners use others


@dataclass
class RecoveryResult:
    """Outcome of one recovery run; ``to_dict()`` is the ``sith recover --json`` shape."""

    theorem: str
    process: dict[str, Any]
    learner: dict[str, Any]
    seed: int
    metrics: dict[str, float]
    claim_name: str  # the claim's metric, e.g. "r2_linear"
    claim_metric: float  # its held-out value
    threshold: float
    higher_is_better: bool
    recovered: bool
    status: str
    curve: list[tuple[int, float]] = field(default_factory=list)
    steps: int = 0
    train_seconds: float = 0.0
    seconds: float = 0.0
    message: str = ""
    sample: dict[str, list] = field(default_factory=dict)  # a few held-out (z, z_hat) rows

    @property
    def final_loss(self) -> float | None:
        return self.curve[-1][1] if self.curve else None

    def to_dict(self) -> dict[str, Any]:
        def num(v):
            return None if v is None or not math.isfinite(v) else float(v)

        return {
            "theorem": self.theorem,
            "process": self.process,
            "learner": self.learner,
            "seed": self.seed,
            "recovered": self.recovered,
            "claim_metric": {
                "name": self.claim_name,
                "value": num(self.claim_metric),
                "threshold": self.threshold,
                "higher_is_better": self.higher_is_better,
            },
            "metrics": {k: num(v) for k, v in self.metrics.items()},
            "train": {
                "steps": self.steps,
                "seconds": round(self.train_seconds, 3),
                "final_loss": num(self.final_loss),
                "status": self.status,
                "curve": [[s, num(v)] for s, v in self.curve],
            },
            "seconds": round(self.seconds, 3),
            "message": self.message,
            "sample": self.sample,
        }


def sufficient_statistics(latent: th.latents.Latent, z: torch.Tensor) -> torch.Tensor:
    """t(z) of the exponential family the latent is modulated in (|z| or z²)."""
    if isinstance(latent, th.latents.Segmented) and latent.base == "normal":
        return z**2
    return z.abs()


def _fast_metrics(z, z_hat, seed, content, claim_metric) -> dict[str, float]:
    """The cheap metrics plus whatever the claim needs."""
    out = {
        "mcc": M.mcc(z, z_hat),
        "r2_linear": M.r2_linear(z, z_hat, seed=seed),
        "cka_linear": M.linear_cka(z, z_hat),
    }
    if z.shape[1] == z_hat.shape[1]:
        out["procrustes_error"] = M.procrustes_error(z, z_hat, seed=seed)
    if content is not None:
        out["block_r2"] = M.block_r2(z, z_hat, content, seed=seed)
    if claim_metric == "r2_nonlinear":
        out["r2_nonlinear"] = M.r2_nonlinear(z, z_hat, seed=seed)
    if claim_metric == "mcc_spearman":
        out["mcc_spearman"] = M.mcc(z, z_hat, method="spearman")
    return out


def score(
    theorem: th.Theorem,
    process: th.Process,
    z: torch.Tensor,
    z_hat: torch.Tensor,
    *,
    seed: int = 0,
    fit: L.Fit | None = None,
    fast: bool = False,
) -> dict[str, float]:
    """Held-out metrics for (z, z_hat), including the theorem's claim metric.

    ``fast=True`` skips the expensive metrics the claim does not need (kernel ridge R²,
    mutual k-NN); searches use it.
    """
    claim = theorem.claim
    content = list(range(claim.content)) if claim.content else None
    if fast:
        out = _fast_metrics(z, z_hat, seed, content, claim.metric)
    else:
        out = M.recovery_metrics(z, z_hat, seed=seed, content=content)
    if content is not None and claim.content < process.dim:
        out["block_r2_style"] = M.block_r2(
            z, z_hat, list(range(claim.content, process.dim)), seed=seed
        )
    if isinstance(process.latent, th.latents.Segmented):
        out["r2_sufficient_stats"] = M.r2_linear(
            sufficient_statistics(process.latent, z), z_hat, seed=seed
        )
    if (
        fit is not None
        and "unmixing" in fit.extras
        and isinstance(process.mixing, th.mixings.Linear)
    ):
        a = np.asarray(process.mixing.matrix)
        if a.shape[0] == a.shape[1]:
            out["amari_distance"] = M.amari_distance(fit.extras["unmixing"], a)
    return out


def _collapsed(z_hat: torch.Tensor) -> bool:
    std = z_hat.std(0)
    return bool(std.max() < 1e-6) or bool(torch.linalg.matrix_rank(z_hat - z_hat.mean(0)) < 1)


def recover(
    theorem: th.Theorem | str,
    process: th.Process | None = None,
    *,
    seed: int = 0,
    learner: L.Learner | None = None,
    n_test: int = 4000,
    fast_metrics: bool = False,
) -> RecoveryResult:
    """Train ``theorem``'s learner on ``process`` (default: canonical) and score it.

    Never raises for training trouble: divergence (NaN loss) or collapse (constant
    representation) come back as ``status="diverged"``/``"collapsed"``, recovered=False,
    with whatever was measured.
    """
    if isinstance(theorem, str):
        theorem = th.theorems.get(theorem)
    if not isinstance(theorem, th.Theorem):
        raise InvalidArgument(
            f"theorem must be a theory.Theorem or a name, got {type(theorem).__name__}"
        )
    process = process if process is not None else theorem.canonical_process()
    if not isinstance(process, th.Process):
        raise InvalidArgument(f"process must be a theory.Process, got {type(process).__name__}")
    learner = learner if learner is not None else L.for_theorem(theorem)
    start = time.perf_counter()
    fit = learner.fit(process, seed=seed)
    z, x = process.sample(n_test, np.random.default_rng([seed, TEST_STREAM]))
    claim = theorem.claim
    status, message = fit.status, fit.message
    metrics: dict[str, float] = {}
    sample: dict[str, list] = {}
    if status == "ok":
        z_hat = fit.encode(x)
        if not torch.isfinite(z_hat).all():
            status, message = "diverged", "the encoder outputs non-finite values"
        elif _collapsed(z_hat):
            status, message = "collapsed", "the representation is (numerically) constant"
        else:
            metrics = score(theorem, process, z, z_hat, seed=seed, fit=fit, fast=fast_metrics)
            sample = {"z": _rows(z[:SAMPLE_ROWS]), "z_hat": _rows(z_hat[:SAMPLE_ROWS])}
    value = metrics.get(claim.metric, float("nan"))
    if status == "ok" and claim.metric not in metrics:
        raise InvalidArgument(
            f"claim metric {claim.metric!r} was not computed; available: {sorted(metrics)}"
        )
    return RecoveryResult(
        theorem=theorem.name,
        process=process.to_dict(),
        learner=learner.config(),
        seed=seed,
        metrics=metrics,
        claim_name=claim.metric,
        claim_metric=value,
        threshold=claim.threshold,
        higher_is_better=claim.higher_is_better,
        recovered=status == "ok" and claim.passes(value),
        status=status,
        curve=fit.curve,
        steps=fit.steps,
        train_seconds=fit.seconds,
        seconds=time.perf_counter() - start,
        message=message,
        sample=sample,
    )


SAMPLE_ROWS = 200


def _rows(t: torch.Tensor) -> list[list[float]]:
    return torch.round(t.detach().cpu().double(), decimals=5).tolist()


__all__ = ["RecoveryResult", "recover", "score", "sufficient_statistics"]
