"""Batched Jacobians and Hessians with ``torch.func`` (no Python loop over samples).

``jacobian(f, z)`` evaluates J_f at every row of z: forward mode (n tangent passes)
when the input dimension is below the output dimension, reverse mode (m cotangent
passes) otherwise; for square maps reverse mode measured faster. Row-wise batched maps
(every Mixing) are differentiated over the whole batch at once: reverse mode is one
forward pass and m backward passes of plain autograd over the batch (one per output
coordinate, none per sample), forward mode vmaps ``jvp`` over the n basis directions;
other functions are vmapped over samples. ``chunk_size`` bounds memory. Checks run in
float64 (``dtype``); training code may pass float32.

Reverse mode avoids ``torch.func.vjp``: it measured 1.3-1.6x slower than these m
backward passes at d = 10-50, and its first call imports ``torch._dynamo`` (1-2 s per
process).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import hessian as _hessian
from torch.func import jacfwd, jacrev, jvp, vmap

from theory.errors import InvalidArgument

Fn = Callable[[torch.Tensor], torch.Tensor]


def _prepare(z: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    z = torch.as_tensor(z)
    if z.ndim != 2:
        raise InvalidArgument(f"points must have shape (N, n), got {tuple(z.shape)}")
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
    batched: bool | None = None,
) -> torch.Tensor:
    """J[k] = ∂f/∂z at z[k]; shape (N, m, n). ``mode``: "auto", "forward" or "reverse".

    ``batched``: f maps a batch (N, n) -> (N, m) row by row (every ``theory`` Mixing and
    compiled sympy map does; None: True for Mixings). Then the Jacobian is taken over the
    whole batch at once, vmapping only over the m (or n) basis directions: one ``vjp``
    of the batch with m cotangents (reverse) or n ``jvp`` tangents (forward). Otherwise
    f is a per-sample function and the transform is vmapped over samples.
    ``chunk_size=None`` chunks only when the result would exceed 2^24 entries.
    """
    z = _prepare(z, dtype)
    m = f(z[:1]).shape[-1]
    n = z.shape[1]
    if mode == "auto":
        mode = "forward" if n < m else "reverse"
    if mode not in ("forward", "reverse"):
        raise InvalidArgument(f"mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    if batched is None:
        from theory.mixings import Mixing

        batched = isinstance(f, Mixing)
    chunk_size = chunk_size or _auto_chunk(len(z), n * m)
    if not batched:
        transform = jacfwd if mode == "forward" else jacrev
        return vmap(transform(f), chunk_size=chunk_size)(z)
    step = chunk_size or len(z)
    parts = [_batched_jacobian(f, z[i : i + step], m, mode) for i in range(0, len(z), step)]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def _batched_jacobian(f: Fn, z: torch.Tensor, m: int, mode: str) -> torch.Tensor:
    """Jacobian of a row-wise batched f over a whole batch, vmapping over basis directions."""
    if mode == "reverse":
        with torch.enable_grad():
            x = z.detach().requires_grad_(True)
            y = f(x)
            if not y.requires_grad:  # f does not depend on z: J = 0
                return y.new_zeros(len(z), m, z.shape[1])
            rows = []
            for i in range(m):  # one backward pass per output coordinate, over the batch
                cotangent = torch.zeros_like(y)
                cotangent[:, i] = 1
                (row,) = torch.autograd.grad(
                    y, x, cotangent, retain_graph=i < m - 1, allow_unused=True
                )
                rows.append(torch.zeros_like(x) if row is None else row)
        return torch.stack(rows, 1)  # (N, m, n)
    basis = torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
    cols = vmap(lambda v: jvp(f, (z,), (v.expand_as(z),))[1])(basis)  # (n, N, m)
    return cols.permute(1, 2, 0)


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
