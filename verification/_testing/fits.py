"""The checks of what ``fit`` returns: a well-typed Fit, the same fit for the same
seed, and a reported (not raised) failure on broken training data.

Private: the public names live in :mod:`verification.testing`."""

from __future__ import annotations

import math

import numpy as np
import torch

from verification._testing.harness import STATUSES, Harness, _difference
from verification._testing.watch import _BAD_DATA, _GlobalRandomState, _Watch, _watched


def check_fit_result(h: Harness) -> None:
    check = "fit_result"
    learner = h.subject(check)
    _, before = h.config_of(check, learner)
    fit, _ = h.watched_fit(check)
    _, after = h.config_of(check, learner)
    if after != before:
        raise h.fail(
            check,
            f"fit changed the learner's config (from {before} to {after}); a run must "
            "leave the learner it was given as it was",
        )
    problems = []
    if fit.status not in STATUSES:
        problems.append(f"status {fit.status!r} is not one of {', '.join(STATUSES)}")
    if not callable(fit.encode):
        problems.append("encode is not callable")
    if not isinstance(fit.curve, list) or not all(
        isinstance(p, (tuple, list))
        and len(p) == 2
        and isinstance(p[0], (int, np.integer))
        and not isinstance(p[0], bool)
        and isinstance(p[1], (int, float, np.floating))
        for p in fit.curve
    ):
        problems.append(f"curve must be a list of (step, loss) pairs, got {fit.curve!r:.80}")
    if isinstance(fit.steps, bool) or not isinstance(fit.steps, (int, np.integer)):
        problems.append(f"steps must be an integer, got {fit.steps!r}")
    elif fit.steps < 0:
        problems.append(f"steps must be >= 0, got {fit.steps}")
    if not isinstance(fit.seconds, (int, float)) or not 0 <= fit.seconds < math.inf:
        problems.append(f"seconds must be a finite number >= 0, got {fit.seconds!r}")
    if not isinstance(fit.message, str):
        problems.append(f"message must be a string, got {type(fit.message).__name__}")
    if not isinstance(fit.extras, dict):
        problems.append(f"extras must be a dict, got {type(fit.extras).__name__}")
    if problems:
        raise h.fail(check, "; ".join(problems))


def check_deterministic(h: Harness) -> None:
    check = "deterministic"
    fit, _ = h.watched_fit(check)
    learner = h.subject(check)
    with _GlobalRandomState(4321):  # another global state: only `seed` may matter
        again = h.fit(check, learner, h.process, "when fitted a second time")
    if again.status != fit.status:
        raise h.fail(
            check,
            f"two fits with seed={h.seed} ended with status {fit.status!r} and {again.status!r}",
        )
    probe = h.observations(64)
    first = h.encode(check, fit, probe)
    second = h.encode(check, again, probe)
    diff = _difference(first, second, rtol=1e-5, atol=1e-6)
    if diff is not None:
        raise h.fail(
            check,
            f"two fits with seed={h.seed} on the same process encode a probe "
            f"differently (max |difference| {diff}); seed every source of randomness from "
            "`seed` (a torch.Generator / numpy default_rng), not from global state",
        )


def check_divergence(h: Harness) -> None:
    check = "divergence"
    learner = h.subject(check)
    probe = h.observations(16)
    dim = h.latent_dim(learner)
    for what, tamper in _BAD_DATA:
        watch = _Watch()
        process = _watched(h.process, watch, tamper)
        with np.errstate(all="ignore"):
            fit = h.fit(
                check,
                learner,
                process,
                f"on training data with {what}",
                "report it as Fit(status='diverged', message=...) instead: recover never "
                "raises for training trouble",
            )
        watch.closed = True
        if fit.status not in STATUSES:
            raise h.fail(check, f"status {fit.status!r} is not one of {', '.join(STATUSES)}")
        if fit.status != "ok":
            if not isinstance(fit.message, str) or not fit.message.strip():
                raise h.fail(
                    check,
                    f"fit returned status {fit.status!r} on training data with {what} "
                    "but no message saying why",
                )
            continue
        out = h.encode(check, fit, probe)
        if tuple(out.shape) != (len(probe), dim) or not torch.isfinite(out).all():
            raise h.fail(
                check,
                f"fit returned status 'ok' on training data with {what}, but its encoder "
                "outputs non-finite values (or the wrong shape); report training trouble "
                "as Fit(status='diverged') instead of NaNs",
            )
