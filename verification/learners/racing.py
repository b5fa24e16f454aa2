"""Racing initialisations (practice mode): train several, keep the lowest training loss.

A learner trained from one initialisation sometimes stops in a poor local minimum (for
the objectives on the sphere, a *fold*: one latent direction kept only up to its sign,
R² ≈ 1 - 1/n). Racing spends a little more training to avoid most of them without
looking at the truth:

1. ``restarts + 1`` candidates (each its own initialisation and data stream) train for
   the first ``race_steps`` steps (``Training.run(until=race_steps)``);
2. each candidate that is still healthy is scored by ``selection_loss(candidate)``: the
   learner's own training objective on fresh training data that is the same for every
   candidate (observations only, never latents);
3. the lowest score continues to the end of its budget; the others are dropped.

Time accounting: each candidate is charged its own start (:func:`start_candidates`) and
what ran before it, so ``time_budget`` bounds the whole race, and the kept run's ``seconds`` (hence ``Fit.seconds``) counts
every candidate and the scoring. ``Fit.steps`` counts every candidate's steps;
``Fit.extras`` says how the race went (``attempts``, ``kept``, ``race_steps``,
``race_losses``).

Every learner that races shares this one implementation (:func:`run_race`): InfoNCE
(Zimmermann et al. 2021's objective) and AnInfoNCE, VICReg, Barlow Twins, multi-view
InfoNCE and GCL. (iVAE trains its candidates side by side in one batched model.)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from verification.learners.base import Fit, Training


class Candidate(Protocol):
    """One initialisation: its :class:`Training`, and the Fit it makes at any point."""

    training: Training

    def fit(self) -> Fit: ...


def race_length(fraction: float, steps: int) -> int:
    """The steps every candidate trains: ``fraction`` of the budget, at least one."""
    return max(1, round(fraction * steps))


def start_candidates(start: Callable[[int], Candidate | Fit], count: int) -> list | Fit:
    """Candidates ``start(0)``, ..., ``start(count - 1)`` (the k-th seeded with
    ``derive_seed(seed, "restart", k)`` by its learner), each charged the time its own
    start took (models, whitening, reference samples: part of the race, so of
    ``time_budget``). The first Fit a start returns instead (training data that cannot
    be trained on) is returned as it is."""
    candidates = []
    for k in range(count):
        clock = time.perf_counter()
        run = start(k)
        if isinstance(run, Fit):
            return run
        run.training.seconds += time.perf_counter() - clock
        candidates.append(run)
    return candidates


def race_restarts(
    learner: Any,
    seed: int,
    steps: int,
    start: Callable[[int], Candidate | Fit],
    selection_loss: Callable[[Candidate], float],
) -> Fit:
    """The race of a learner with ``restarts`` and ``race`` options: ``start(seed_k)`` for
    the ``restarts + 1`` derived seeds (``derive_seed(seed, "restart", k)``), raced over
    the first ``race`` of ``steps`` (:func:`start_candidates`, :func:`run_race`)."""
    from verification._seeds import derive_seed

    candidates = start_candidates(
        lambda k: start(derive_seed(seed, "restart", k)), getattr(learner, "restarts", 0) + 1
    )  # or the Fit of data that cannot be trained on
    return run_race(
        candidates, race_length(getattr(learner, "race", 0.0), steps), selection_loss
    )


def run_race(
    candidates: Sequence[Candidate] | Fit,
    race_steps: int,
    selection_loss: Callable[[Candidate], float],
) -> Fit:
    """Race ``candidates`` for ``race_steps`` steps, train the lowest ``selection_loss``
    on to the end and return its Fit (see the module docstring).

    The whole race is charged to ``time_budget``: every candidate starts with the
    seconds of those before it, the scoring is added, and the kept one finishes with
    the total, so a fit stops within its budget plus one step. One candidate: no race,
    it simply trains to the end. ``candidates`` may be the Fit :func:`start_candidates`
    returns for training data that cannot be trained on: it is returned as it is. A candidate whose training is no longer "ok" after
    the race (diverged) scores +inf, as does a NaN score; when all of them do, the first
    is kept (its Fit says how it failed).
    """
    if isinstance(candidates, Fit):  # a start that cannot train (see start_candidates)
        return candidates
    if not candidates:
        raise ValueError("run_race needs at least one candidate")
    racing = len(candidates) > 1
    spent = 0.0  # each run is charged what ran before it: time_budget bounds the total
    losses: list[float] = []
    for run in candidates:
        run.training.seconds += spent
        if racing:
            run.training.run(until=race_steps)
        spent = run.training.seconds
    if racing:
        start = time.perf_counter()
        for run in candidates:
            ok = run.training.status == "ok"
            value = float(selection_loss(run)) if ok else math.inf
            losses.append(value if math.isfinite(value) else math.inf)  # NaN never wins
        spent += time.perf_counter() - start
    best = int(np.argmin(losses)) if losses and min(losses) < math.inf else 0
    kept = candidates[best]
    kept.training.seconds = spent if racing else kept.training.seconds
    kept.training.run()
    fit = kept.fit()
    fit.steps = sum(run.training.step for run in candidates)
    fit.extras.update(
        attempts=len(candidates),
        kept=best,
        race_steps=race_steps,
        race_losses=losses,
        run_steps=kept.training.step,
    )
    if racing:
        note = (
            f"{len(candidates)} initialisations raced for {race_steps} steps; kept #{best} "
            "(lowest training loss)"
        )
        fit.message = f"{note}; {fit.message}" if fit.message else note
    return fit


__all__ = ["Candidate", "race_length", "run_race", "start_candidates"]
