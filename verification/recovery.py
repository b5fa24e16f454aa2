"""recover(): generate data, train the theorem's learner, score recovery held-out.

The claim decides "recovered": its metric (e.g. linear R² for an affine/orthogonal
indeterminacy, MCC for permutation+elementwise, block R² for content) must pass its
threshold on samples the learner never saw (a separate seeded stream).

Modes. By default (practice mode) nothing derived from the true latents decides anything
during training: learners choose restarts, budgets and stopping from their training loss
alone. ``recover(..., oracle=True)`` lets a learner that has an oracle mode use the truth
while training (InfoNCE: stop at, and restart above, the loss the true latents reach).
Every RecoveryResult says which mode produced it (``oracle``).

Diagnostics, reported and never used by training:
- ``optimality_gap``: the final encoder's training objective minus the true latents'
  under the same objective on the same fresh data (``Learner.optimality_gap``); None
  where it is undefined (e.g. FastICA, a content block, a cosine critic off the sphere);
- ``claim_curve``: (step, claim metric) on a small held-out probe (``PROBE_ROWS`` rows)
  at the learner's log points, thinned to ``CURVE_POINTS`` per doubling of the steps,
  ending at the final encoder (the kept run's, when a learner trains several);
- ``diagnosis`` (:func:`diagnose`): "recovered"; else, where the gap is defined,
  "not-converged" (gap above ``GAP_TOLERANCE``: the optimiser stopped short of the
  optimum the truth reaches, e.g. in a fold) or "converged-not-recovered" (the objective
  is at the truth's level, yet the claim fails: the objective does not identify the
  latents here, or the claim metric's threshold is too strict for it); where no gap
  is defined, "not-recovered" (convergence cannot be told from the truth's loss then).
"""

from __future__ import annotations

import copy
import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import theory as th
from theory.errors import InvalidArgument, InvalidProcess
from verification import learners as L
from verification import metrics as M

TEST_STREAM = 7  # held-out samples come from rng([seed, TEST_STREAM]); learners use others
GAP_TOLERANCE = 0.05  # optimality gap (loss units) above which training "did not converge"
PROBE_ROWS = 512  # held-out rows the claim curve is measured on
CURVE_POINTS = 8  # claim-curve evaluations per doubling of the steps (see _ClaimCurve)
DIAGNOSES = ("recovered", "not-converged", "converged-not-recovered", "not-recovered")


def diagnose(
    recovered: bool, optimality_gap: float | None, tolerance: float = GAP_TOLERANCE
) -> str:
    """Why a run ended where it did (see the module docstring): "recovered", or, where
    the optimality gap is defined, "not-converged" (gap > tolerance) or
    "converged-not-recovered", else "not-recovered"."""
    if recovered:
        return "recovered"
    if optimality_gap is None or not math.isfinite(optimality_gap):
        return "not-recovered"
    return "not-converged" if optimality_gap > tolerance else "converged-not-recovered"


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
    oracle: bool = False  # True: the truth steered training (recover(oracle=True))
    optimality_gap: float | None = None  # diagnostic: final loss - true latents' loss
    claim_curve: list[tuple[int, float]] = field(default_factory=list)  # diagnostic

    @property
    def final_loss(self) -> float | None:
        return self.curve[-1][1] if self.curve else None

    @property
    def diagnosis(self) -> str:
        """See :func:`diagnose`."""
        return diagnose(self.recovered, self.optimality_gap)

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
            "oracle": self.oracle,
            "optimality_gap": num(self.optimality_gap),
            "claim_curve": [[s, num(v)] for s, v in self.claim_curve],
            "diagnosis": self.diagnosis,
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
    oracle: bool = False,
    on_fit: Callable[[L.Fit], None] | None = None,
) -> RecoveryResult:
    """Train ``theorem``'s learner on ``process`` (default: canonical) and score it.

    Arguments:
        theorem: a :class:`theory.Theorem` or the name of a catalogue theorem.
        process: the data-generating process; default: the theorem's canonical one.
        seed: seeds training and the held-out samples (a separate stream).
        learner: a Learner (used as given), a registered learner name, or
            ``(name, {option: value})``; default: the theorem's learner, with the
            settings its paper analyses derived from the process (cl-ica: InfoNCE at
            τ = 1/κ). To test the theorem, keep it; for an encoder that works in
            practice, a named variant (cl-ica: ``"infonce-practical"``, τκ = 3), which
            the theorem's learner assumptions report as outside it.
        learner_options: dotted options (``{"train.steps": 200}``) set on a copy of the
            learner, validated like ``sith recover --set``.
        n_test: number of held-out samples the metrics are computed on.
        fast_metrics: skip the expensive metrics the claim does not need.
        oracle: let the learner use the true latents while training (its oracle mode,
            e.g. InfoNCE's stop-at / restart-above the true latents' loss). Default
            False: practice mode, where nothing derived from the truth decides anything
            during training. A learner configured with ``oracle=True`` is oracle mode
            too; a learner without an oracle mode trains in practice mode (the result
            says so). ``RecoveryResult.oracle`` records the mode that produced it.
        on_fit: called with the trained :class:`~verification.learners.Fit` before it
            is scored (e.g. ``sith align`` encodes its common held-out set with it).

    Besides the metrics, every result carries diagnostics that never feed back into
    training: the optimality gap (after training), the claim metric along training on a
    held-out probe of ``PROBE_ROWS`` rows (the monitor's time is not training time), and a
    diagnosis (:func:`diagnose`).

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
    if not isinstance(oracle, bool):
        raise InvalidArgument(f"oracle must be True or False, got {oracle!r}")
    learner = _learner(theorem, learner, learner_options, oracle=oracle)
    process = process if process is not None else theorem.canonical_process()
    if not isinstance(process, th.Process):
        raise InvalidArgument(f"process must be a theory.Process, got {type(process).__name__}")
    start = time.perf_counter()
    claim = theorem.claim
    curve = _ClaimCurve(theorem, process, n_test, seed)
    fit = learner.fit(process, seed=seed, **({"monitor": curve} if _takes_monitor(learner) else {}))
    if on_fit is not None:
        on_fit(fit)
    z, x = curve.held_out()
    claim_curve = curve.of(fit) if fit.status == "ok" else []
    used_oracle = bool(fit.extras.get("oracle", False)) if isinstance(fit.extras, dict) else False
    status, message = fit.status, fit.message
    if oracle and not used_oracle:
        note = f"learner {learner.name!r} has no oracle mode: trained in practice mode"
        message = f"{message}; {note}" if message else note
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
    gap = learner.optimality_gap(process, fit, seed=seed) if status == "ok" else None
    if status == "ok" and claim.metric not in metrics:  # e.g. a block claim, no block
        raise InvalidProcess(
            f"claim metric {claim.metric!r} was not computed; available: {sorted(metrics)}"
        )
    return _decided(
        claim,
        metrics,
        status,
        theorem=theorem.name,
        process=process.to_dict(),
        learner=learner.config(),
        seed=seed,
        curve=fit.curve,
        steps=fit.steps,
        train_seconds=fit.seconds,
        seconds=time.perf_counter() - start,
        message=message,
        sample=sample,
        oracle=used_oracle,
        optimality_gap=None if gap is None else float(gap),
        claim_curve=claim_curve if status == "ok" else [],
    )


SAMPLE_ROWS = 200


def _decided(
    claim: th.claims.Claim, metrics: dict[str, float], status: str, **fields: Any
) -> RecoveryResult:
    """The result the claim decides: recovered iff training ended "ok" and the claim's
    metric (NaN when it was not computed) passes its threshold; ``fields`` the rest."""
    value = metrics.get(claim.metric, float("nan"))
    return RecoveryResult(
        metrics=metrics,
        claim_name=claim.metric,
        claim_metric=value,
        threshold=claim.threshold,
        higher_is_better=claim.higher_is_better,
        recovered=status == "ok" and claim.passes(value),
        status=status,
        **fields,
    )


class _ClaimCurve:
    """recover's training monitor: the claim metric of each ``encode`` it is shown, on a
    small held-out probe. A diagnostic only: it always answers False (never stops
    training) and nothing reads it until training is over."""

    def __init__(self, theorem, process, n_test, seed) -> None:
        self.metric = theorem.claim.metric
        self.content = list(range(theorem.claim.content)) if theorem.claim.content else None
        self.process, self.n_test, self.seed = process, n_test, seed
        self._held_out: tuple[torch.Tensor, torch.Tensor] | None = None
        self.runs: list[tuple[Any, list[tuple[int, float]]]] = []  # (encode, points) per run
        self.calls = 0  # monitor calls in the current run

    def held_out(self) -> tuple[torch.Tensor, torch.Tensor]:
        """recover's held-out (z, x), drawn once from rng([seed, TEST_STREAM]); the probe
        is its first PROBE_ROWS rows."""
        if self._held_out is None:
            rng = np.random.default_rng([self.seed, TEST_STREAM])
            self._held_out = self.process.sample(self.n_test, rng)
        return self._held_out

    def __call__(self, step: int, encode) -> bool:
        if not self.runs or self.runs[-1][0] is not encode:
            self.runs.append((encode, []))
            self.calls = 0
        points = self.runs[-1][1]
        # every log point while there are few, then every 2nd, 4th, ...: at most
        # CURVE_POINTS evaluations per doubling of the steps (some claim metrics cost)
        if self.calls % (2 ** (len(points) // CURVE_POINTS)) == 0:
            points.append((int(step), self.value(encode)))
        self.calls += 1
        return False

    def value(self, encode, fit: L.Fit | None = None) -> float:
        """The claim metric of ``encode`` on the probe; NaN where it cannot be computed
        (non-finite or constant output, or a metric that needs the finished fit): a
        diagnostic never stops or fails a recovery."""
        from threadpoolctl import threadpool_limits

        z, x = (t[:PROBE_ROWS] for t in self.held_out())
        # one BLAS thread: idle-spinning BLAS workers would slow the training between calls
        with threadpool_limits(1):
            try:
                z_hat = torch.as_tensor(encode(x)).double()
                if z_hat.ndim != 2 or not torch.isfinite(z_hat).all() or _collapsed(z_hat):
                    return math.nan
                values = M.compute_metrics(
                    [self.metric],
                    z,
                    z_hat,
                    seed=self.seed,
                    content=self.content,
                    process=self.process,
                    fit=fit,
                )
            except Exception:  # a user's metric may need what training lacks (the fit)
                return math.nan
        return float(values.get(self.metric, math.nan))

    def of(self, fit: L.Fit) -> list[tuple[int, float]]:
        """The curve of the run ``fit`` kept (its ``encode``), ending with the final
        encoder's value at its last step (also when the learner never called the
        monitor)."""
        last = fit.curve[-1][0] if fit.curve else fit.steps  # the kept run's last step
        points = next((p for encode, p in self.runs if encode is fit.encode), None)
        if points is None:
            points = self.runs[0][1] if len(self.runs) == 1 else []
        if not points or points[-1][0] != last:
            points = [*points, (last, self.value(fit.encode, fit))]
        return points


def _takes_monitor(learner: L.Learner) -> bool:
    """Does ``learner.fit`` accept ``monitor=`` (the Learner signature)? A user's learner
    written as ``fit(process, *, seed=0)`` is still called as the contract promises."""
    try:
        params = inspect.signature(learner.fit).parameters
    except (TypeError, ValueError):
        return False
    return "monitor" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _learner(
    theorem: th.Theorem, spec: Any, options: dict[str, Any] | None, *, oracle: bool = False
) -> L.Learner:
    """The learner to train, resolved and configured (nothing is trained or sampled)."""
    if options is not None and not isinstance(options, dict):
        raise InvalidArgument(f"learner_options must be a dict of KEY: VALUE, got {options!r}")
    if spec is None:
        learner = L.for_theorem(theorem)
    elif isinstance(spec, L.Learner):
        learner = copy.deepcopy(spec) if options else spec
    elif isinstance(spec, (str, tuple)):  # sized to the claim and validated, as by default
        learner = L.for_theorem(theorem, spec)
    else:
        raise InvalidArgument(
            "learner must be a Learner, a registered learner name or (name, {option: value}); "
            f"got {type(spec).__name__}"
        )
    if options:
        from verification._options import apply_options

        apply_options(learner, options)
    if oracle and hasattr(learner, "oracle") and learner.oracle is not True:
        learner = copy.deepcopy(learner) if learner is spec else learner
        learner.oracle = True
    return learner


def _rows(t: torch.Tensor) -> list[list[float]]:
    return torch.round(t.detach().cpu().double(), decimals=5).tolist()


__all__ = [
    "DIAGNOSES",
    "GAP_TOLERANCE",
    "RecoveryResult",
    "diagnose",
    "recover",
    "score",
    "sufficient_statistics",
]
