"""recover(): generate data, train the theorem's learner, score recovery held-out.

The claim decides "recovered": its metric (e.g. linear R² for an affine/orthogonal
indeterminacy, MCC for permutation+elementwise, block R² for content) must pass its
threshold on samples the learner never saw (a separate seeded stream).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import theory as th
from theory.errors import InvalidArgument, InvalidProcess
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
    return M.sufficient_statistics(latent, z)


# the cheap metrics a search computes (fast=True), before the claim's and the derived ones
FAST = ("mcc", "r2_linear", "cka_linear", "procrustes_error", "block_r2")


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

    The standard metrics (``verification.metrics.STANDARD``), then the claim's metric
    (any registered one, e.g. a user's), then the diagnostics that need the process or
    the fit (``verification.metrics.DERIVED``), each where it applies. ``fast=True``
    computes only the cheap standard ones (no kernel ridge R², no mutual k-NN) besides
    the claim's; searches use it.
    """
    claim = theorem.claim
    M.check_claim_metric(claim, where=f"theorem {theorem.name!r}")
    content = list(range(claim.content)) if claim.content else None
    base = FAST if fast else M.STANDARD
    names = [*base]
    if claim.metric not in names and claim.metric not in M.DERIVED:
        names.append(claim.metric)
    names += M.DERIVED
    return M.compute_metrics(names, z, z_hat, seed=seed, content=content, process=process, fit=fit)


def _collapsed(z_hat: torch.Tensor) -> bool:
    std = z_hat.std(0)
    return bool(std.max() < 1e-6) or bool(torch.linalg.matrix_rank(z_hat - z_hat.mean(0)) < 1)


def recover(
    theorem: th.Theorem | str,
    process: th.Process | None = None,
    *,
    seed: int = 0,
    learner: L.Learner | str | tuple | None = None,
    learner_options: dict[str, Any] | None = None,
    n_test: int = 4000,
    fast_metrics: bool = False,
) -> RecoveryResult:
    """Train ``theorem``'s learner on ``process`` (default: canonical) and score it.

    Arguments:
        theorem: a :class:`theory.Theorem` or the name of a catalogue theorem.
        process: the data-generating process; default: the theorem's canonical one.
        seed: seeds training and the held-out samples (a separate stream).
        learner: a Learner (used as given), a registered learner name, or
            ``(name, {option: value})``; default: the theorem's learner.
        learner_options: dotted options (``{"train.steps": 200}``) set on a copy of the
            learner, validated like ``sith recover --set``.
        n_test: number of held-out samples the metrics are computed on.
        fast_metrics: skip the expensive metrics the claim does not need.

    Everything that can be refused is refused before any data is generated or any
    training starts: the theorem, the claim's metric (it must be registered, see
    ``verification.metrics.register_metric``, with the claim's direction), the learner
    (name, options and their types) and the process. Never raises for training trouble:
    divergence (NaN loss) or collapse (constant representation) come back as
    ``status="diverged"``/``"collapsed"``, recovered=False, with whatever was measured.
    """
    if isinstance(theorem, str):
        theorem = th.theorems.get(theorem)
    if not isinstance(theorem, th.Theorem):
        raise InvalidArgument(
            f"theorem must be a theory.Theorem or a name, got {type(theorem).__name__}"
        )
    M.check_claim_metric(theorem.claim, where=f"theorem {theorem.name!r}")
    for what, value, low in (("seed", seed, 0), ("n_test", n_test, 4)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidArgument(f"{what} must be an integer >= {low}, got {value!r}")
    learner = _learner(theorem, learner, learner_options)
    process = process if process is not None else theorem.canonical_process()
    if not isinstance(process, th.Process):
        raise InvalidArgument(f"process must be a theory.Process, got {type(process).__name__}")
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
    if status == "ok" and claim.metric not in metrics:  # e.g. a block claim, no block
        raise InvalidProcess(
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


def _learner(theorem: th.Theorem, spec: Any, options: dict[str, Any] | None) -> L.Learner:
    """The learner to train, resolved and configured (nothing is trained or sampled)."""
    if options is not None and not isinstance(options, dict):
        raise InvalidArgument(f"learner_options must be a dict of KEY: VALUE, got {options!r}")
    if spec is None:
        learner = L.for_theorem(theorem)
    elif isinstance(spec, L.Learner):
        learner = copy.deepcopy(spec) if options else spec
    elif isinstance(spec, (str, tuple)):
        learner = L.resolve(spec)
        if theorem.claim.content and getattr(learner, "content", 0) is None:
            learner.content = theorem.claim.content
    else:
        raise InvalidArgument(
            "learner must be a Learner, a registered learner name or (name, {option: value}); "
            f"got {type(spec).__name__}"
        )
    if options:
        from verification.spaces import apply_options

        apply_options(learner, options)
    return learner


def _rows(t: torch.Tensor) -> list[list[float]]:
    return torch.round(t.detach().cpu().double(), decimals=5).tolist()


__all__ = ["RecoveryResult", "recover", "score", "sufficient_statistics"]
