"""Conditionals p(z' | z): how the positive view (augmentation) is made from z.

Each conditional maps a batch z (N, n) to z' (N, n) with a seeded numpy Generator, and
projects onto the latent's support when told to (``support``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from theory._random import RNG, as_rng, tensor
from theory._spec import Spec
from theory.supports import Support


class Conditional(Spec):
    kind = "conditional"

    @property
    def family(self) -> str:
        return type(self).__name__

    def sample(self, z: torch.Tensor, seed: RNG = 0, support: Support | None = None):
        """Draw z' ~ p(z' | z) for every row of z; float64 tensor of z's shape."""
        z = torch.as_tensor(z, dtype=torch.float64)
        if z.ndim != 2:
            raise ValueError(f"z must have shape (N, n), got {tuple(z.shape)}")
        out = tensor(self._draw(z.numpy(), as_rng(seed)))
        return out if support is None else support.project(out)

    def _draw(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


@dataclass
class VonMisesFisher(Conditional):
    """von Mises–Fisher around z on the sphere: p(z'|z) ∝ exp(kappa z·z').

    Exact sampler: Wood (1994), "Simulation of the von Mises Fisher distribution",
    rejection sampling of w = z·z' followed by a uniform tangent direction. The rejection
    loop runs over rounds (each vectorised over all pending rows), not over samples.
    """

    kappa: float = 10.0

    def __post_init__(self) -> None:
        _positive("kappa", self.kappa)

    def _draw(self, z, rng):
        n, p = z.shape
        if p < 2:
            raise ValueError("VonMisesFisher needs dimension >= 2")
        mu = z / np.linalg.norm(z, axis=1, keepdims=True)
        w = self._sample_w(n, p, rng)
        v = rng.standard_normal((n, p))
        v -= np.sum(v * mu, axis=1, keepdims=True) * mu
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return w[:, None] * mu + np.sqrt(np.clip(1 - w**2, 0, None))[:, None] * v

    def _sample_w(self, n: int, p: int, rng: np.random.Generator) -> np.ndarray:
        kappa = float(self.kappa)
        b = (p - 1) / (2 * kappa + np.sqrt(4 * kappa**2 + (p - 1) ** 2))  # stable form
        x0 = (1 - b) / (1 + b)
        c = kappa * x0 + (p - 1) * np.log(1 - x0**2)
        w = np.empty(n)
        pending = np.arange(n)
        while pending.size:
            m = pending.size
            beta = rng.beta((p - 1) / 2, (p - 1) / 2, size=m)
            cand = (1 - (1 + b) * beta) / (1 - (1 - b) * beta)
            accept = kappa * cand + (p - 1) * np.log(1 - x0 * cand) - c >= np.log(
                rng.uniform(size=m)
            )
            w[pending[accept]] = cand[accept]
            pending = pending[~accept]
        return w


@dataclass
class Normal(Conditional):
    """z' = z + scale * eps, eps ~ N(0, I)."""

    scale: float = 0.1

    def __post_init__(self) -> None:
        _positive("scale", self.scale)

    def _draw(self, z, rng):
        return z + self.scale * rng.standard_normal(z.shape)


@dataclass
class Laplace(Conditional):
    """z' = z + eps, eps_i ~ Laplace(0, scale) independently."""

    scale: float = 0.1

    def __post_init__(self) -> None:
        _positive("scale", self.scale)

    def _draw(self, z, rng):
        return z + rng.laplace(0.0, self.scale, size=z.shape)


@dataclass
class ContentStyle(Conditional):
    """Content/style augmentation (von Kügelgen et al. 2021, Sec. 4).

    The first ``content`` coordinates are kept; each style coordinate is, independently
    with probability ``p``, resampled as s'_i = s_i + scale * eps_i, eps_i ~ N(0, 1)
    (so every subset of style coordinates changes with positive probability).
    """

    content: int
    p: float = 0.5
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.content < 0:
            raise ValueError(f"content must be >= 0, got {self.content}")
        if not 0 <= self.p <= 1:
            raise ValueError(f"p must be in [0, 1], got {self.p}")
        _positive("scale", self.scale)

    def content_indices(self, n: int) -> list[int]:
        if self.content > n:
            raise ValueError(f"content block of size {self.content} exceeds dimension {n}")
        return list(range(self.content))

    def _draw(self, z, rng):
        n = z.shape[1]
        self.content_indices(n)
        change = rng.uniform(size=z.shape) < self.p
        change[:, : self.content] = False
        return z + change * self.scale * rng.standard_normal(z.shape)


__all__ = ["Conditional", "ContentStyle", "Laplace", "Normal", "VonMisesFisher"]
