"""What the learners on an observed auxiliary variable share (iVAE, GCL).

Both train on (x, u) with u the segment label of a :class:`theory.latents.Segmented`
latent (Khemakhem et al. 2020; Hyvärinen, Sasaki & Turner 2019), draw a fixed training
set of ``n_train`` samples from the process (seeded, never the held-out stream), and race
a few initialisations on their own training objective (practice mode: observations and
labels only, never the latents) before training the best one to the end (GCL through
:func:`verification.learners.racing.run_race`; iVAE batches its candidates in one model).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

import theory as th
from theory.errors import InvalidProcess
from verification._seeds import random_stream
from verification.learners.base import Fit, data_problem, failed_fit

SELECTION_ROWS = 8192  # training rows every candidate of a race is scored on


@dataclass
class SegmentData:
    """Training observations x (N, m) float32 and their segment labels u (N,) int64."""

    x: torch.Tensor
    u: torch.Tensor
    n_segments: int


def segment_data(
    process: th.Process, learner: str, n_train: int, seed: int, stream: str
) -> SegmentData | Fit:
    """The training set: ``n_train`` draws of (z, u) from the named stream of ``seed``, observed
    as x = g(z); z itself is dropped. Raises InvalidProcess for a latent without segment
    labels; returns a failed Fit when x cannot be trained on (non-finite or overflowing)."""
    latent = process.latent
    if not isinstance(latent, th.latents.Segmented):
        raise InvalidProcess(
            f"{learner} needs an observed auxiliary variable: a latent with segment labels "
            f"(theory.latents.Segmented), got {latent.family}"
        )
    z, u = latent.sample_with_segments(n_train, random_stream(seed, stream))
    x = process.observe(z).float()
    problem = data_problem(x)
    if problem is not None:
        return failed_fit(process.dim, problem)
    return SegmentData(x, u.long(), latent.n_segments)


def selection_rows(n: int, seed: int) -> torch.Tensor:
    """The training rows a race scores every candidate on (the same for all)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[: min(n, SELECTION_ROWS)]


__all__ = ["SegmentData", "segment_data", "selection_rows"]
