"""Supports of latent distributions: where z lives, and how to stay there.

A support knows membership, a projection (used by adversarial searches that take
gradient steps and must stay inside the support) and whether it is a Cartesian product
of one-dimensional sets (needed for independence of coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass

from theory import _validate as valid
from theory._lazy import torch
from theory._spec import Spec
from theory.errors import InvalidArgument


class Support(Spec):
    kind = "support"
    dim: int

    @property
    def is_product(self) -> bool:
        """True when the support is a product of intervals (independence is possible)."""
        raise NotImplementedError

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """Map points onto the support (identity inside it)."""
        raise NotImplementedError

    def contains(self, z: torch.Tensor, atol: float = 1e-9) -> torch.Tensor:
        return (self.project(z) - z).abs().amax(dim=-1) <= atol

    @property
    def scale(self) -> float:
        """A typical length on the support (used to set distance tolerances)."""
        return 1.0


@dataclass(eq=True)
class _OfDimension(Support):
    """A support given by its dimension alone."""

    dim: int

    def __post_init__(self) -> None:
        self.dim = valid.positive_int(type(self).__name__, "dim", self.dim)


@dataclass(eq=True)
class RealSpace(_OfDimension):
    """All of R^dim."""

    @property
    def is_product(self) -> bool:
        return True

    def project(self, z: torch.Tensor) -> torch.Tensor:
        return z


@dataclass(eq=True)
class Box(Support):
    dim: int
    low: float = -1.0
    high: float = 1.0

    def __post_init__(self) -> None:
        self.dim = valid.positive_int("Box", "dim", self.dim)
        valid.bounded_float("Box", "low", self.low)
        valid.bounded_float("Box", "high", self.high)
        if not self.high > self.low:
            raise InvalidArgument(f"Box: needs high > low, got low={self.low}, high={self.high}")

    @property
    def is_product(self) -> bool:
        return True

    def project(self, z: torch.Tensor) -> torch.Tensor:
        return z.clamp(self.low, self.high)

    @property
    def scale(self) -> float:
        return float(self.high - self.low)


@dataclass(eq=True)
class Sphere(_OfDimension):
    """The unit sphere S^{dim-1} in R^dim."""

    @property
    def is_product(self) -> bool:
        return self.dim == 1

    def project(self, z: torch.Tensor) -> torch.Tensor:
        return z / z.norm(dim=-1, keepdim=True).clamp_min(1e-12)


@dataclass(eq=True)
class ProductSupport(Support):
    blocks: tuple[Support, ...]

    def __post_init__(self) -> None:
        self.blocks = valid.blocks("ProductSupport", self.blocks, Support)

    @property
    def dim(self) -> int:  # type: ignore[override]
        return sum(b.dim for b in self.blocks)

    @property
    def is_product(self) -> bool:
        return all(b.is_product for b in self.blocks)

    def project(self, z: torch.Tensor) -> torch.Tensor:
        parts, start = [], 0
        for block in self.blocks:
            parts.append(block.project(z[..., start : start + block.dim]))
            start += block.dim
        return torch.cat(parts, dim=-1)

    @property
    def scale(self) -> float:
        return max(b.scale for b in self.blocks)


__all__ = [
    "Box",
    "ProductSupport",
    "RealSpace",
    "Sphere",
    "Support",
]
