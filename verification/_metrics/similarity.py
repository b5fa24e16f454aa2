"""Representation similarity: linear CKA and mutual k-nearest neighbours.

Private: import the public names from :mod:`verification.metrics`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from theory.errors import InvalidArgument
from verification._metrics._arrays import _as_pair, _center

if TYPE_CHECKING:
    import torch

    Array = np.ndarray | torch.Tensor

# Inputs of at most this many dimensions use a k-d tree for nearest neighbours.
_KDTREE_MAX_DIM = 8
# Largest number of entries of a distance block held in memory at once (mutual_knn).
_KNN_BLOCK_ENTRIES = 4_000_000


def linear_cka(x: Array, y: Array) -> float:
    r"""Linear centred kernel alignment (Kornblith et al., 2019, "Similarity of Neural
    Network Representations Revisited").

    With column-centred :math:`X \in \mathbb{R}^{N \times p}`, :math:`Y \in \mathbb{R}^{N
    \times q}` (widths may differ),

    .. math:: \mathrm{CKA}(X, Y) = \frac{\|Y^\top X\|_F^2}{\|X^\top X\|_F \, \|Y^\top Y\|_F}
        \in [0, 1],

    equal to the normalised HSIC with linear kernels. Invariant to orthogonal
    transformations and isotropic scaling of either side. Returns 0 if either side is
    constant (collapsed).
    """
    a, b = _as_pair(x, y, names=("x", "y"))
    a, b = _center(a)[0], _center(b)[0]
    denom = float(np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b))
    if denom == 0:
        return 0.0
    return float(np.linalg.norm(b.T @ a) ** 2 / denom)


def _knn_indices(x: np.ndarray, k: int) -> np.ndarray:
    """Indices ``(N, k)`` of the ``k`` nearest neighbours of each row (self excluded).

    Low-dimensional inputs use a k-d tree; otherwise exact brute force in row blocks.
    """
    n = x.shape[0]
    if x.shape[1] <= _KDTREE_MAX_DIM:
        from scipy.spatial import cKDTree  # imported where used

        _, idx = cKDTree(x).query(x, k=k + 1)
        idx = idx.reshape(n, k + 1)
        drop = idx == np.arange(n)[:, None]
        # with duplicate points, self may be absent from its own list: drop the farthest
        drop[~drop.any(axis=1), -1] = True
        return idx[~drop].reshape(n, k)
    sq_norms = np.einsum("ij,ij->i", x, x)
    out = np.empty((n, k), dtype=np.intp)
    chunk = max(1, _KNN_BLOCK_ENTRIES // n)
    for start in range(0, n, chunk):  # loop over blocks of rows, not samples
        stop = min(start + chunk, n)
        dist = sq_norms[start:stop, None] + sq_norms[None, :] - 2.0 * x[start:stop] @ x.T
        dist[np.arange(stop - start), np.arange(start, stop)] = np.inf
        out[start:stop] = np.argpartition(dist, k - 1, axis=1)[:, :k]
    return out


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit Euclidean norm; all-zero rows stay zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def mutual_knn(x: Array, y: Array, *, k: int = 10, normalize: bool = False) -> float:
    r"""Mutual k-nearest-neighbour alignment (Huh et al., 2024, "The Platonic
    Representation Hypothesis").

    With :math:`\mathcal N^x_k(i)` and :math:`\mathcal N^y_k(i)` the ``k`` nearest
    neighbours of sample :math:`i` (Euclidean, itself excluded) in ``x``- and ``y``-space,

    .. math:: \mathrm{mKNN}(x, y) = \frac{1}{N} \sum_{i=1}^{N}
        \frac{|\mathcal N^x_k(i) \cap \mathcal N^y_k(i)|}{k} \in [0, 1].

    Equals 1 when both spaces have the same neighbourhood structure (e.g. ``y`` a rotation
    and scaling of ``x``); unrelated representations score about :math:`k / (N - 1)`.
    Memory is bounded by processing rows in blocks.

    Arguments:
        k: the number of neighbours, ``1 <= k < N`` (Huh et al. use 10).
        normalize: scale every row of ``x`` and of ``y`` to unit Euclidean norm first
            (an all-zero row stays zero), so neighbours are those of the cosine
            similarity, as Huh et al. do for the features of different models. Default
            False: plain Euclidean neighbours of the rows as given, which is what
            comparing a representation with latents in :math:`\mathbb R^n` needs (the
            norm of ``z`` carries information there). The normalised score is invariant
            to a separate positive scaling of each sample, the default one is not.
    """
    if not isinstance(normalize, bool):
        raise InvalidArgument(f"normalize must be True or False, got {normalize!r}")
    a, b = _as_pair(x, y, names=("x", "y"))
    n = a.shape[0]
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k < n:
        raise InvalidArgument(f"k must be an integer with 1 <= k < N={n}, got {k!r}")
    if normalize:
        a, b = _unit_rows(a), _unit_rows(b)
    nx = _knn_indices(a, k)
    ny = _knn_indices(b, k)
    chunk = max(1, _KNN_BLOCK_ENTRIES // (k * k))
    overlap = 0
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        overlap += int((nx[sl, :, None] == ny[sl, None, :]).sum())
    return float(overlap / (n * k))
