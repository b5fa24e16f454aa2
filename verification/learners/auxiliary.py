"""What the learners on an observed auxiliary variable share (iVAE, GCL).

Both train on (x, u) with u the segment label of a :class:`theory.latents.Segmented`
latent (Khemakhem et al. 2020; Hyvärinen, Sasaki & Turner 2019), draw a fixed training
set of ``n_train`` samples from the process (seeded, never the held-out stream), and race
a few initialisations on their own training objective (practice mode: observations and
labels only, never the latents) before training the best one to the end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

import theory as th
from theory.errors import InvalidProcess
from verification.learners.base import Fit, Training, data_problem, failed_fit

SELECTION_ROWS = 8192  # training rows every candidate of a race is scored on


@dataclass
class SegmentData:
    """Training observations x (N, m) float32 and their segment labels u (N,) int64."""

    x: torch.Tensor
    u: torch.Tensor
    n_segments: int


def segment_data(
    process: th.Process, learner: str, n_train: int, seed: int, stream: int
) -> SegmentData | Fit:
    """The training set: ``n_train`` draws of (z, u) from rng([seed, stream]), observed
    as x = g(z); z itself is dropped. Raises InvalidProcess for a latent without segment
    labels; returns a failed Fit when x cannot be trained on (non-finite or overflowing)."""
    latent = process.latent
    if not isinstance(latent, th.latents.Segmented):
        raise InvalidProcess(
            f"{learner} needs an observed auxiliary variable: a latent with segment labels "
            f"(theory.latents.Segmented), got {latent.family}"
        )
    z, u = latent.sample_with_segments(n_train, np.random.default_rng([seed, stream]))
    x = process.observe(z).float()
    problem = data_problem(x)
    if problem is not None:
        return failed_fit(process.dim, problem)
    return SegmentData(x, u.long(), latent.n_segments)


class Candidate:
    """One initialisation: its Training and the Fit it makes at any point."""

    def __init__(self, training: Training, make_fit: Callable[[], Fit]) -> None:
        self.training, self.make_fit = training, make_fit


def race(
    candidates: Sequence[Candidate], fraction: float, score: Callable[[Candidate], float]
) -> Fit:
    """Train every candidate for the first ``fraction`` of its steps, keep the one with
    the lowest ``score`` (its training objective on training data), train it to the end.

    The kept Fit counts the seconds and steps of every candidate; ``extras`` records the
    race (``attempts``, ``kept``, ``race_steps``, ``race_losses``, ``run_steps``)."""
    if len(candidates) == 1:
        only = candidates[0]
        only.training.run()
        fit = only.make_fit()
        fit.extras.update(attempts=1, kept=0, run_steps=only.training.step)
        return fit
    steps = candidates[0].training.config.steps
    until = max(1, round(fraction * steps))
    spent = 0.0
    for c in candidates:
        c.training.run(until=until)
        spent += c.training.seconds
    start = time.perf_counter()
    losses = [score(c) if c.training.status == "ok" else math.inf for c in candidates]
    spent += time.perf_counter() - start
    finite = [v for v in losses if math.isfinite(v)]
    best = int(np.argmin(losses)) if finite else 0
    kept = candidates[best]
    kept.training.seconds = spent
    kept.training.run()
    fit = kept.make_fit()
    fit.steps = sum(c.training.step for c in candidates)
    fit.extras.update(
        attempts=len(candidates),
        kept=best,
        race_steps=until,
        race_losses=[float(v) for v in losses],
        run_steps=kept.training.step,
    )
    note = (
        f"{len(candidates)} initialisations raced for {until} steps; kept #{best} "
        "(lowest training objective)"
    )
    fit.message = f"{note}; {fit.message}" if fit.message else note
    return fit


def selection_rows(n: int, seed: int) -> torch.Tensor:
    """The training rows a race scores every candidate on (the same for all)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[: min(n, SELECTION_ROWS)]


__all__ = ["Candidate", "SegmentData", "race", "segment_data", "selection_rows"]
