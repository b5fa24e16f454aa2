"""The rank of a float matrix, decided exactly where it can be, and how it was decided.

A float64 matrix is a matrix of dyadic rationals, so its rank is a well-posed exact
question. ``matrix_rank`` answers it in three steps and says which one decided:

1. modulo the prime p = 2^31 - 1 (numpy, O(n^3)): the entries times their common
   power-of-two denominator are integers; Gaussian elimination modulo p gives a lower
   bound on the rational rank (a minor nonzero mod p is nonzero), so full rank modulo p
   *proves* full rank;
2. otherwise over the rationals with sympy (``DomainMatrix`` over QQ, in a time-limited
   child process), which also gives an exact kernel vector;
3. when sympy gives no answer in time: ``numpy.linalg.matrix_rank`` with its default
   tolerance σ_max · max(rows, cols) · ε, stated in the message (not exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

PRIME = 2**31 - 1  # products of two residues stay below 2^62: int64 arithmetic is exact
MAX_EXACT_COLUMNS = 512  # the exact steps are O(n^3) in Python-driven numpy: bounded


@dataclass(frozen=True)
class Rank:
    rank: int
    exact: bool
    how: str  # a sentence fragment for the Evidence message
    kernel: np.ndarray | None = None  # a unit vector with matrix @ kernel = 0 (if rank < cols)


def _integer_residues(a: np.ndarray) -> np.ndarray:
    """The entries of ``a`` scaled by their common power-of-two denominator, modulo PRIME."""
    fractions = [Fraction(float(x)) for x in a.reshape(-1)]
    common = max(f.denominator for f in fractions)  # powers of two: the max is the lcm
    ints = [f.numerator * (common // f.denominator) % PRIME for f in fractions]
    return np.array(ints, dtype=np.int64).reshape(a.shape)


def rank_mod_prime(a: np.ndarray) -> int:
    """The rank of the (exactly scaled) integer matrix modulo PRIME: a lower bound on the
    rank of ``a`` over the rationals."""
    m = _integer_residues(np.asarray(a, dtype=np.float64))
    rows, cols = m.shape
    rank = 0
    for col in range(cols):
        if rank == rows:
            break
        pivots = np.nonzero(m[rank:, col])[0]
        if not pivots.size:
            continue
        r = rank + int(pivots[0])
        m[[rank, r]] = m[[r, rank]]
        inv = pow(int(m[rank, col]), PRIME - 2, PRIME)
        pivot = (m[rank, col:] * inv) % PRIME
        below = m[rank + 1 :, col:]  # only the rows below need clearing to count the rank
        below -= (below[:, :1] * pivot[None, :]) % PRIME
        below %= PRIME
        rank += 1
    return rank


def _sympy_rank(a: list[list[float]]):
    """Rank and one kernel vector over QQ (run in the time-limited child)."""
    import sympy as sp
    from sympy.polys.matrices import DomainMatrix

    exact = sp.Matrix([[sp.Rational(x) for x in row] for row in a])
    dm = DomainMatrix.from_Matrix(exact)
    rank = int(dm.rank())
    kernel = None
    if rank < exact.cols:
        basis = dm.nullspace().to_Matrix()
        kernel = [float(v) for v in basis.row(0)]
    return [rank, kernel]


def matrix_rank(a: np.ndarray, ctx) -> Rank:
    """The rank of ``a``: exact (mod p, then sympy over QQ), else numpy's, said which."""
    from verification.checks._core import _try_sympy

    a = np.asarray(a, dtype=np.float64)
    cols = a.shape[1]
    if cols <= MAX_EXACT_COLUMNS and rank_mod_prime(a) == cols:
        return Rank(
            cols,
            True,
            "exact rank of the float entries as given (integer elimination modulo the "
            "prime 2^31 - 1, a lower bound on the rational rank)",
        )
    answer = None
    if cols <= MAX_EXACT_COLUMNS:
        answer = _try_sympy(lambda: _sympy_rank(a.tolist()), ctx)
    if answer is not None:
        rank, kernel = answer
        v = None
        if kernel is not None:
            v = np.asarray(kernel, dtype=np.float64)
            v = v / np.linalg.norm(v)
        how = "exact rank over the rationals of the float entries as given (sympy)"
        return Rank(int(rank), True, how, v)
    sv = np.linalg.svd(a, compute_uv=False)
    tol = float(sv.max() * max(a.shape) * np.finfo(np.float64).eps) if sv.size else 0.0
    rank = int(np.linalg.matrix_rank(a))
    v = np.linalg.svd(a)[2][-1] if rank < cols else None
    return Rank(
        rank,
        False,
        f"numerical rank (numpy.linalg.matrix_rank, tolerance σ_max·max(rows, cols)·ε = "
        f"{tol:.3g}; no exact answer: "
        + ("the exact attempt gave none)" if cols <= MAX_EXACT_COLUMNS else "too many columns)"),
        v,
    )


__all__ = ["PRIME", "Rank", "matrix_rank", "rank_mod_prime"]
