"""Conditionals p(z' | z): how the positive view (augmentation) is made from z.

Each conditional maps a batch z (N, n) to z' (N, n) with a seeded numpy Generator, and
projects onto the latent's support when told to (``support``). ``check_coherent(latent)``
refuses (``InvalidProcess``) a latent the conditional cannot be drawn around at all; a
combination that can be drawn but is not the declared family (vMF around anchors off the
sphere, additive noise projected onto a bounded support) is left to the
``conditional-family`` check, which says ``violated``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from theory import _validate as valid
from theory._random import RNG, as_rng, tensor
from theory._spec import Spec
from theory.errors import InvalidArgument, InvalidProcess
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
            raise InvalidArgument(f"z must have shape (N, n), got {tuple(z.shape)}")
        out = tensor(self._draw(z.numpy(), as_rng(seed)))
        return out if support is None else support.project(out)

    def _draw(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def check_coherent(self, latent) -> None:
        """Raise ``InvalidProcess`` when positives cannot be drawn around ``latent``."""


@dataclass
class VonMisesFisher(Conditional):
    """von Mises–Fisher around z on the sphere: p(z'|z) ∝ exp(kappa z·z').

    Exact sampler: Wood (1994), "Simulation of the von Mises Fisher distribution",
    rejection sampling of w = z·z' followed by a uniform tangent direction. The rejection
    loop runs over rounds (each vectorised over all pending rows), not over samples.
    """

    kappa: float = 10.0

    def __post_init__(self) -> None:
        valid.positive_float("VonMisesFisher", "kappa", self.kappa, maximum=valid.MAX_KAPPA)

    def check_coherent(self, latent) -> None:
        if latent.dim < 2:
            raise InvalidProcess(
                f"VonMisesFisher needs a latent on the unit sphere S^(n-1) with n >= 2, got "
                f"{latent.family} of dimension {latent.dim}"
            )

    def _draw(self, z, rng):
        n, p = z.shape
        if p < 2:
            raise InvalidProcess("VonMisesFisher needs dimension >= 2")
        mu = z / np.linalg.norm(z, axis=1, keepdims=True)
        w = self._sample_w(n, p, rng)
        v = rng.standard_normal((n, p))
        v -= np.sum(v * mu, axis=1, keepdims=True) * mu
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return w[:, None] * mu + np.sqrt(np.clip(1 - w**2, 0, None))[:, None] * v

    def _sample_w(self, n: int, p: int, rng: np.random.Generator) -> np.ndarray:
        """Wood's rejection sampler for w = z·z'.

        Accept cand when kappa cand + (p-1) log(1 - x0 cand) - c >= log U, with
        c = kappa x0 + (p-1) log(1 - x0^2). For large kappa both sides are ~kappa and
        1 - x0^2 cancels, so the test uses the algebraically equal form
        kappa (cand - x0) + (p-1) log((1 - x0 cand) / (1 - x0^2))
          = 2 kappa b (1 - 2 beta) / ((1 + b) d) + (p-1) log((1 + b) / (2 d)),
        d = 1 - (1 - b) beta, which has no cancellation (kappa b <= (p-1)/4). The
        acceptance rate stays high for every kappa in (0, 1e6] and p <= 4096 (checked
        numerically), so the loop ends after a few rounds; a hard cap guards against bugs.
        """
        kappa = float(self.kappa)
        b = (p - 1) / (2 * kappa + np.sqrt(4 * kappa**2 + (p - 1) ** 2))  # stable form
        w = np.empty(n)
        pending = np.arange(n)
        for _ in range(_MAX_ROUNDS):
            if not pending.size:
                return w
            m = pending.size
            beta = rng.beta((p - 1) / 2, (p - 1) / 2, size=m)
            d = 1 - (1 - b) * beta
            cand = (1 - (1 + b) * beta) / d
            log_ratio = 2 * kappa * b * (1 - 2 * beta) / ((1 + b) * d) + (p - 1) * np.log(
                (1 + b) / (2 * d)
            )
            accept = log_ratio >= np.log(rng.uniform(size=m))
            w[pending[accept]] = cand[accept]
            pending = pending[~accept]
        if not pending.size:
            return w
        raise RuntimeError(  # a bug, not a user error: acceptance is high for valid kappa
            f"VonMisesFisher sampler did not finish in {_MAX_ROUNDS} rounds "
            f"(kappa={kappa}, dimension {p})"
        )


_MAX_ROUNDS = 10_000


@dataclass
class Normal(Conditional):
    """z' = z + scale * eps, eps ~ N(0, I)."""

    scale: float = 0.1

    def __post_init__(self) -> None:
        valid.positive_float("Normal", "scale", self.scale)

    def _draw(self, z, rng):
        return z + self.scale * rng.standard_normal(z.shape)


@dataclass
class Laplace(Conditional):
    """z' = z + eps, eps_i ~ Laplace(0, scale) independently."""

    scale: float = 0.1

    def __post_init__(self) -> None:
        valid.positive_float("Laplace", "scale", self.scale)

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
        self.content = valid.positive_int("ContentStyle", "content", self.content, minimum=0)
        valid.probability("ContentStyle", "p", self.p)
        valid.positive_float("ContentStyle", "scale", self.scale)

    def check_coherent(self, latent) -> None:
        self.content_indices(latent.dim)

    def content_indices(self, n: int) -> list[int]:
        if self.content > n:
            raise InvalidProcess(
                f"ContentStyle: content block of size {self.content} exceeds the latent "
                f"dimension {n}"
            )
        return list(range(self.content))

    def _draw(self, z, rng):
        n = z.shape[1]
        self.content_indices(n)
        change = rng.uniform(size=z.shape) < self.p
        change[:, : self.content] = False
        return z + change * self.scale * rng.standard_normal(z.shape)


__all__ = ["Conditional", "ContentStyle", "Laplace", "Normal", "VonMisesFisher"]
