"""Self-check of compiled sympy maps: autodiff Jacobian vs sympy's exact Jacobian."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from theory._lazy import torch
from theory._random import as_rng
from theory.errors import SithError


class CompilerMismatchError(SithError, RuntimeError):
    """The compiled torch function disagrees with the sympy expressions it came from."""


def check_against_sympy(
    fn: Callable[[torch.Tensor], torch.Tensor],
    exprs: Sequence[sp.Expr],
    symbols: Sequence[sp.Symbol],
    *,
    n_points: int = 8,
    seed: int = 0,
    rtol: float = 1e-7,
) -> None:
    """Compare ``vmap(jacfwd(fn))`` with ``sympy.Matrix.jacobian`` (via numpy) at points.

    Points are drawn from N(0, 0.5^2); points where the exact Jacobian is not finite
    (outside the expressions' domain) are skipped. Raises CompilerMismatchError.
    """
    z = as_rng(seed).normal(0.0, 0.5, size=(n_points, len(symbols)))
    # numpy's printer emits select(..., True) for Heaviside, which numpy 2 rejects
    jac = (
        sp.Matrix(exprs).jacobian(symbols).replace(sp.Heaviside, lambda x, *_: (sp.sign(x) + 1) / 2)
    )
    columns = [z[:, i] for i in range(len(symbols))]
    with np.errstate(all="ignore"):
        entries = [
            np.broadcast_to(
                np.asarray(sp.lambdify(symbols, e, modules="numpy")(*columns), float), (n_points,)
            )
            for e in jac
        ]
    exact = np.stack(entries, axis=-1).reshape(n_points, *jac.shape)
    auto = torch.func.vmap(torch.func.jacfwd(fn))(torch.from_numpy(z)).detach().numpy()
    ok = np.isfinite(exact).all(axis=(1, 2))
    if not ok.any():
        return
    err = np.abs(auto[ok] - exact[ok]).max()
    scale = max(1.0, np.abs(exact[ok]).max())
    if not err <= rtol * scale:
        raise CompilerMismatchError(
            f"compiled Jacobian differs from sympy's exact Jacobian by {err:.3g} "
            f"(tolerance {rtol * scale:.3g}); expressions: {[str(e) for e in exprs]}"
        )
