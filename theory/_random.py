"""Seeded randomness: every draw in sith goes through a numpy ``Generator``.

numpy's PCG64 streams are reproducible across platforms and versions of torch, and
offer the distributions sith needs (beta, laplace, ...). Tensors are made from them.
"""

from __future__ import annotations

import numpy as np

from theory._lazy import torch
from theory.errors import InvalidArgument

RNG = int | np.random.Generator


def as_rng(seed: RNG) -> np.random.Generator:
    """A numpy Generator from a seed (int) or an existing Generator (returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise InvalidArgument(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise InvalidArgument(f"seed must be an int or a numpy Generator, got {type(seed).__name__}")


def tensor(array: np.ndarray, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``array`` as a tensor of ``dtype`` (default float64)."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(dtype or torch.float64)
