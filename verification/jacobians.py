"""Batched Jacobians and Hessians with ``torch.func`` (no Python loop over samples).

``jacobian(f, z)`` evaluates J_f at every row of z with ``vmap(jacfwd)`` when the
input dimension is at most the output dimension (forward mode costs n passes) and
``vmap(jacrev)`` otherwise (reverse mode costs m passes). ``chunk_size`` bounds memory.
Checks run in float64 (``dtype``); training code may pass float32.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import hessian as _hessian
from torch.func import jacfwd, jacrev, vmap

Fn = Callable[[torch.Tensor], torch.Tensor]


def _prepare(z: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    z = torch.as_tensor(z)
    if z.ndim != 2:
        raise ValueError(f"points must have shape (N, n), got {tuple(z.shape)}")
    return z.to(dtype) if dtype is not None else z


MAX_ENTRIES = 2**24


def _auto_chunk(n_points: int, per_point: int) -> int | None:
    """None (one vmap call) when the result is small; else a chunk that bounds memory."""
    if n_points * per_point <= MAX_ENTRIES:
        return None
    return max(1, MAX_ENTRIES // per_point)


def jacobian(
    f: Fn,
    z: torch.Tensor,
    *,
    chunk_size: int | None = None,
    dtype: torch.dtype | None = torch.float64,
    mode: str = "auto",
) -> torch.Tensor:
    """J[k] = ∂f/∂z at z[k]; shape (N, m, n). ``mode``: "auto", "forward" or "reverse".

    ``chunk_size=None`` chunks only when the result would exceed 2^24 entries.
    """
    z = _prepare(z, dtype)
    m = f(z[:1]).shape[-1]
    if mode == "auto":
        mode = "forward" if z.shape[1] <= m else "reverse"
    chunk_size = chunk_size or _auto_chunk(len(z), z.shape[1] * m)
    if mode not in ("forward", "reverse"):
        raise ValueError(f"mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    transform = jacfwd if mode == "forward" else jacrev
    return vmap(transform(f), chunk_size=chunk_size)(z)


def hessian(
    f: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    *,
    chunk_size: int | None = None,
    dtype: torch.dtype | None = torch.float64,
) -> torch.Tensor:
    """H[k] = ∂²f/∂z² at z[k] for a scalar function f; shape (N, n, n)."""
    z = _prepare(z, dtype)
    chunk_size = chunk_size or _auto_chunk(len(z), z.shape[1] ** 2)
    return vmap(_hessian(f), chunk_size=chunk_size)(z)


def finite_difference_jacobian(f: Fn, z: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Central finite differences (a second method to test autodiff against); (N, m, n)."""
    z = _prepare(z, torch.float64)
    n = z.shape[1]
    steps = eps * torch.eye(n, dtype=z.dtype)  # (n, n)
    plus = f((z[:, None, :] + steps).reshape(-1, n))
    minus = f((z[:, None, :] - steps).reshape(-1, n))
    diff = ((plus - minus) / (2 * eps)).reshape(z.shape[0], n, -1)
    return diff.transpose(1, 2)


__all__ = ["finite_difference_jacobian", "hessian", "jacobian"]
