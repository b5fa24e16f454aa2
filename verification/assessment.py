"""assess(): score a claim on arrays from your own training code (no training here).

``recover`` trains a theorem's learner and scores it; ``assess`` only scores: you pass
the true latents ``z`` and your representation ``z_hat`` of the same samples (ideally
held-out ones, a few thousand rows as ``recover`` uses), and get the same
:class:`~verification.recovery.RecoveryResult`, decided by the same claim metric and
threshold, with the same metrics beside it::

    from verification import assess
    result = assess("cl-ica", z, encoder(x))     # a catalogue theorem's claim
    result = assess(th.claims.orthogonal(), z, z_hat)
    result.recovered, result.claim_metric, result.metrics

What only training has (steps, curve, learner) is neutral: ``learner`` is
``{"name": "user-arrays"}``, ``steps`` 0, ``curve`` empty, and ``message`` says the
arrays were assessed as given.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import theory as th
from theory.errors import InvalidArgument
from verification import metrics as M
from verification._metrics._arrays import as_array
from verification.recovery import SAMPLE_ROWS, RecoveryResult, _decided

USER_ARRAYS = {"name": "user-arrays"}
"""The ``learner`` of an assessed result: no learner of sith's produced the arrays."""

# the fewest rows every metric can be computed on (two per split half)
MIN_ROWS = 4


def assess(
    theorem_or_claim: th.Theorem | th.claims.Claim | str,
    z: Any,
    z_hat: Any,
    *,
    seed: int = 0,
    process: th.Process | None = None,
) -> RecoveryResult:
    """Score ``z_hat`` against the true latents ``z`` by a theorem's claim.

    Arguments:
        theorem_or_claim: a :class:`theory.Theorem`, the name of a registered theorem,
            or a :class:`theory.claims.Claim` (its metric must be registered, see
            ``verification.metrics.register_metric``).
        z: the true latents, shape ``(N, d)``: a numpy array, a torch tensor (any
            device; detached) or nested sequences of numbers.
        z_hat: the representation of the same ``N`` samples, shape ``(N, d_hat)``.
        seed: seeds the metrics' train/held-out splits and shuffles.
        process: the :class:`theory.Process` ``z`` was drawn from, for the metrics that
            need it (``r2_sufficient_stats`` of segmented latents); optional otherwise.

    Returns:
        A :class:`~verification.recovery.RecoveryResult`: ``recovered`` iff the claim's
        metric passes its threshold, ``claim_metric`` its value, ``metrics`` the
        standard ones beside it; ``learner`` is ``{"name": "user-arrays"}``, ``steps``
        0 and ``curve`` empty (nothing was trained); ``status`` is ``"ok"``, or
        ``"collapsed"`` (and not recovered) when ``z_hat`` is numerically constant.

    Raises:
        InvalidArgument: with one line, before anything is computed: an unknown theorem
            or unregistered claim metric, arrays that are not 2-D, not numeric, have
            different numbers of rows, fewer than 4 rows, non-finite values or a constant
            column of ``z``; also when the claim's metric does not apply to these arrays
            (e.g. ``r2_orthogonal`` with ``d != d_hat``).
    """
    start = time.perf_counter()
    name, claim = _claim(theorem_or_claim)
    M.check_claim_metric(claim, where=name)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidArgument(f"seed must be an integer >= 0, got {seed!r}")
    if process is not None and not isinstance(process, th.Process):
        raise InvalidArgument(
            f"process must be a theory.Process or None, got {type(process).__name__}"
        )
    a = as_array(z, "z")
    b = as_array(z_hat, "z_hat")
    if a.shape[0] != b.shape[0]:
        raise InvalidArgument(
            f"z and z_hat must have the same number of rows (samples), "
            f"got {a.shape[0]} and {b.shape[0]}"
        )
    if a.shape[0] < MIN_ROWS:
        raise InvalidArgument(f"need at least {MIN_ROWS} rows (samples), got {a.shape[0]}")
    constant = np.flatnonzero(a.std(axis=0) <= 1e-12 * np.abs(a).max(axis=0))
    if constant.size:
        raise InvalidArgument(
            f"z has constant columns {constant.tolist()}: recovery of a constant is undefined"
        )
    if process is not None and process.dim != a.shape[1]:
        raise InvalidArgument(
            f"z has {a.shape[1]} columns but the process has latent dimension {process.dim}"
        )

    content = list(range(claim.content)) if claim.content else None
    if content and a.shape[1] <= max(content):
        raise InvalidArgument(
            f"the claim's content block has {claim.content} latents but z has only "
            f"{a.shape[1]} columns"
        )
    names = [*M.STANDARD, claim.metric, *M.DERIVED]
    metrics = M.compute_metrics(names, a, b, seed=seed, content=content, process=process)
    if claim.metric not in metrics:
        raise InvalidArgument(
            f"the claim's metric {claim.metric!r} does not apply to these arrays "
            f"(z: {a.shape[1]} columns, z_hat: {b.shape[1]}"
            f"{', no process' if process is None else ''}); computed: {', '.join(metrics)}"
        )
    status = "collapsed" if float(b.std(axis=0).max()) < 1e-6 else "ok"
    message = (
        f"assessed on user arrays (no training): {a.shape[0]} rows, "
        f"d={a.shape[1]}, d_hat={b.shape[1]}"
    )
    if status == "collapsed":
        message += "; z_hat is (numerically) constant"
    return _decided(
        claim,
        metrics,
        status,
        theorem=name,
        process=process.to_dict() if process is not None else {},
        learner=dict(USER_ARRAYS),
        seed=int(seed),
        curve=[],
        steps=0,
        train_seconds=0.0,
        seconds=time.perf_counter() - start,
        message=message,
        sample={"z": _rows(a), "z_hat": _rows(b)},
    )


def _claim(spec: Any) -> tuple[str, th.claims.Claim]:
    """(name for the result, claim) of a theorem, a theorem's name or a claim."""
    if isinstance(spec, str):
        spec = th.theorems.get(spec)  # UnknownName listing the known ones
    if isinstance(spec, th.Theorem):
        return spec.name, spec.claim
    if isinstance(spec, th.claims.Claim):
        return f"claim {spec}", spec
    raise InvalidArgument(
        "assess needs a theory.Theorem, a theorem's name or a theory.claims.Claim, "
        f"got {type(spec).__name__}"
    )


def _rows(x: np.ndarray) -> list[list[float]]:
    return np.round(x[:SAMPLE_ROWS], 5).tolist()


__all__ = ["USER_ARRAYS", "assess"]
