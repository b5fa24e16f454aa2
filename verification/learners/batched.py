"""Ensembles of small networks trained side by side: K independent copies in one model.

Every weight has a leading axis of size K and every activation is (K, B, width), so one
``torch.baddbmm`` runs a layer of all K copies at once. The copies share nothing but the
input rows: their losses are summed, so each copy's gradient is its own loss's gradient,
and Adam (elementwise) updates each exactly as it would alone. For the small networks of
identifiability experiments a step costs about the per-operation overhead, so K copies
cost little more than one; a learner can train several initialisations and keep the best
by its own training objective (practice mode) at a fraction of the cost of K runs.

The layers mirror :mod:`verification.learners.encoders`: a residual block computes
h -> A h + b + MLP(h) with the MLP's last layer zero at initialisation.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from verification.learners.encoders import ACTIVATIONS, EncoderConfig


class BatchedLinear(nn.Module):
    """K linear maps R^n_in -> R^n_out: (K, B, n_in) -> (K, B, n_out).

    Initialised like ``torch.nn.Linear`` (weights and biases uniform in ±1/sqrt(n_in)),
    each copy from the generator's stream in turn; ``zero=True`` starts all at 0."""

    def __init__(self, k: int, n_in: int, n_out: int, *, zero: bool = False) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)
        self.weight = nn.Parameter(torch.empty(k, n_in, n_out))
        self.bias = nn.Parameter(torch.empty(k, 1, n_out))
        with torch.no_grad():
            if zero:
                self.weight.zero_()
                self.bias.zero_()
            else:
                self.weight.uniform_(-bound, bound)
                self.bias.uniform_(-bound, bound)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, h, self.weight)


def batched_mlp(k: int, n_in: int, n_out: int, config: EncoderConfig) -> nn.Sequential:
    """K MLPs with ``config.depth`` hidden layers of ``config.width`` units; the last
    layer starts at zero (so a residual block starts as its linear part)."""
    layers: list[nn.Module] = []
    width_in = n_in
    for _ in range(config.depth):
        layers += [BatchedLinear(k, width_in, config.width), ACTIVATIONS[config.activation]()]
        width_in = config.width
    layers.append(BatchedLinear(k, width_in, n_out, zero=True))
    return nn.Sequential(*layers)


class BatchedResidual(nn.Module):
    """K residual blocks h -> A h + b + MLP(h)."""

    def __init__(self, k: int, n_in: int, n_out: int, config: EncoderConfig) -> None:
        super().__init__()
        self.linear = BatchedLinear(k, n_in, n_out)
        self.mlp = batched_mlp(k, n_in, n_out, config)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h) + self.mlp(h)


def residual_stack(k: int, dims: list[int], config: EncoderConfig) -> nn.Sequential:
    """Blocks dims[0] -> dims[1] -> ... (one BatchedResidual per step)."""
    return nn.Sequential(*[BatchedResidual(k, a, b, config) for a, b in itertools.pairwise(dims)])


__all__ = ["BatchedLinear", "BatchedResidual", "batched_mlp", "residual_stack"]
