"""Linear indeterminacies: the Amari distance, Procrustes error, orthogonal R².

Private: import the public names from :mod:`verification.metrics`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from theory.errors import InvalidArgument
from verification._metrics._arrays import _CONST_RTOL, _as_pair, _split, as_array, r2_uniform

if TYPE_CHECKING:
    import torch

    Array = np.ndarray | torch.Tensor


def amari_distance(A: Array, B: Array) -> float:
    r"""Normalised Amari index of :math:`P = A B` (e.g. unmixing estimate times true mixing).

    With :math:`R = |P| \in \mathbb{R}^{d \times d}`,

    .. math:: \mathrm{Amari}(P) = \frac{1}{2d(d-1)} \Big[
        \sum_i \Big(\frac{\sum_j R_{ij}}{\max_j R_{ij}} - 1\Big) +
        \sum_j \Big(\frac{\sum_i R_{ij}}{\max_i R_{ij}} - 1\Big) \Big] \in [0, 1],

    which is 0 iff :math:`P` is a scaled permutation matrix (Amari, Cichocki & Yang, 1996,
    "A New Learning Algorithm for Blind Signal Separation"). For ``d == 1`` the distance
    is 0. Raises ``ValueError`` if ``P`` has an all-zero row or column (not invertible).
    """
    a = as_array(A, "A")
    b = as_array(B, "B")
    for name, m in (("A", a), ("B", b)):
        if m.shape[0] != m.shape[1]:
            raise InvalidArgument(f"{name} must be square, got shape {m.shape}")
    if a.shape != b.shape:
        raise InvalidArgument(f"A and B must have the same size, got {a.shape} and {b.shape}")
    d = a.shape[0]
    r = np.abs(a @ b)
    row_max, col_max = r.max(axis=1), r.max(axis=0)
    if np.any(row_max == 0) or np.any(col_max == 0):
        raise InvalidArgument(
            "P = A @ B has an all-zero row or column; the Amari index is undefined"
        )
    if d == 1:
        return 0.0
    rows = (r.sum(axis=1) / row_max - 1.0).sum()
    cols = (r.sum(axis=0) / col_max - 1.0).sum()
    return float((rows + cols) / (2.0 * d * (d - 1)))


def procrustes_error(z: Array, z_hat: Array, *, test_fraction: float = 0.5, seed: int = 0) -> float:
    r"""Held-out relative residual after the best orthogonal map plus global scale.

    On the train split, with both sides centred by their train means, solve

    .. math:: (s, Q) = \arg\min_{s > 0,\, Q^\top Q = I} \|Z - s \hat Z Q\|_F,

    via :func:`scipy.linalg.orthogonal_procrustes` (Schönemann, 1966): :math:`Q = UV^\top`
    from the SVD :math:`\hat Z^\top Z = U \Sigma V^\top` and
    :math:`s = \mathrm{tr}(\Sigma) / \|\hat Z\|_F^2`. Report on the test split (centred
    with the train means)

    .. math:: \|Z_{\mathrm{test}} - s \hat Z_{\mathrm{test}} Q\|_F / \|Z_{\mathrm{test}}\|_F,

    which is 0 for exact recovery up to rotation/reflection and scale -- the
    indeterminacy class of contrastive learning on the hypersphere (Zimmermann et al.,
    2021, "Contrastive Learning Inverts the Data Generating Process"). Requires
    ``d == d_hat``.
    """
    a, b = _as_pair(z, z_hat)
    a_te, pred = _procrustes_predict(a, b, "procrustes_error", test_fraction, seed)
    denom = float(np.linalg.norm(a_te))
    if denom == 0:
        raise InvalidArgument("z has zero variance on the test split; relative error is undefined")
    return float(np.linalg.norm(a_te - pred) / denom)


def r2_orthogonal(z: Array, z_hat: Array, *, test_fraction: float = 0.5, seed: int = 0) -> float:
    r"""Held-out :math:`R^2` of predicting ``z`` from ``z_hat`` by an orthogonal map, one
    global scale and a shift: the score of the orthogonal indeterminacy.

    The fit is that of :func:`procrustes_error` (train split, both sides centred by their
    train means; :math:`Q` orthogonal, :math:`s > 0` one number for all directions):

    .. math:: \tilde z = \bar z + s \, (\hat z - \bar{\hat z}) \, Q,

    scored like :func:`r2_linear` (same split for the same ``seed``, uniform average of
    the held-out :math:`R^2` over the ``d`` columns of ``z``). It is 1 iff
    ``z_hat = c Q' z + b`` for an orthogonal :math:`Q'` and a scalar :math:`c \neq 0`
    (Zimmermann et al., 2021, "Contrastive Learning Inverts the Data Generating
    Process", Theorem 2), about 0 or below for unrelated representations, and never
    above :func:`r2_linear` on the training split (an orthogonal map is one affine map
    among all), so the gap ``r2_linear - r2_orthogonal`` is the part of the recovery
    that needed a non-orthogonal (sheared or anisotropic) map. Unlike :func:`r2_linear`
    it tells orthogonal from affine: for isotropic ``z`` and ``z_hat = A z`` with
    singular values :math:`\sigma_1, \dots, \sigma_d` of :math:`A`, it tends to

    .. math:: \frac{(\sum_i \sigma_i)^2}{d \sum_i \sigma_i^2} \in (0, 1],

    e.g. 0.9 for :math:`\sigma = (1, 2)` and 0.69 for :math:`(1, 5)`. In ``d = 2, 3``
    every :math:`A` with :math:`\sigma_{\max} / \sigma_{\min} \geq 2` scores at most
    14/15 (about 0.933); in higher ``d`` one anisotropic direction among many is diluted (one
    :math:`\sigma = 2` among twenty ones: 0.96). Requires ``d == d_hat``.
    """
    a, b = _as_pair(z, z_hat)
    a_te, pred = _procrustes_predict(a, b, "r2_orthogonal", test_fraction, seed)
    return r2_uniform(a_te, pred)


def r2_orthogonal_min(
    z: Array, z_hat: Array, *, test_fraction: float = 0.5, seed: int = 0
) -> float:
    r"""The worst direction of :func:`r2_orthogonal`: the smallest held-out :math:`R^2`
    of :math:`v^\top z` over all unit vectors :math:`v`, for the same fit.

    With :math:`E = \sum_t e_t e_t^\top` the residuals :math:`e = z - \tilde z` of the
    orthogonal fit on the test split and :math:`S = \sum_t (z_t - \bar z)(z_t - \bar
    z)^\top` the test scatter of ``z``, the :math:`R^2` of direction :math:`v` is
    :math:`1 - v^\top E v / v^\top S v`, and its minimum over :math:`v` is

    .. math:: 1 - \lambda_{\max}(S^{-1} E)

    (a generalised symmetric eigenproblem). For :math:`v` a coordinate vector it is that
    column's :math:`R^2`, so this is at most the smallest per-coordinate :math:`R^2`,
    which is at most :func:`r2_orthogonal` (their mean), and, unlike a per-coordinate
    minimum, it does not depend on the basis of ``z``: a failure along a diagonal
    direction counts in full. One folded or anisotropic direction among :math:`d` moves
    :func:`r2_orthogonal` by :math:`O(1/d)` but this by its full amount, at every
    :math:`d`: for isotropic ``z`` and ``z_hat = A z`` with singular values
    :math:`\sigma_i` it tends to :math:`1 - \max_i (1 - s \sigma_i)^2` with
    :math:`s = \sum \sigma_i / \sum \sigma_i^2`: 0.84 for :math:`\sigma = (1, 2)`
    (where :func:`r2_orthogonal` gives 0.9), 0.32 for one :math:`\sigma = 2` among
    twenty ones (0.96). Directions in which ``z`` does not vary on the test split have
    no :math:`R^2` and are left out (the minimum is over the span of ``z``). Whatever :math:`s`, :math:`\sigma_{\max} / \sigma_{\min} \geq r`
    bounds it by :math:`1 - ((r - 1) / (r + 1))^2` (8/9 for :math:`r = 2`) at every
    :math:`d`. Requires ``d == d_hat``.
    """
    a, b = _as_pair(z, z_hat)
    a_te, pred = _procrustes_predict(a, b, "r2_orthogonal_min", test_fraction, seed)
    residual = a_te - pred
    centred = a_te - a_te.mean(axis=0)
    lam, vecs = np.linalg.eigh(centred.T @ centred)
    keep = lam > _CONST_RTOL * max(float(lam[-1]), 0.0)
    if not keep.any():
        raise InvalidArgument("r2_orthogonal_min needs z that varies on the test split")
    # directions in which z does not vary have no R²: the minimum is over the span of z
    whiten = vecs[:, keep] / np.sqrt(lam[keep])
    projected = residual @ whiten
    worst = np.linalg.eigvalsh(projected.T @ projected)[-1]
    return float(1.0 - worst)


def _procrustes_predict(
    a: np.ndarray, b: np.ndarray, name: str, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out ``z`` and its prediction ``s (z_hat - mean) Q``, both centred by the train
    mean of ``z``, with the orthogonal ``Q`` and global scale ``s`` fitted on the train
    split (:func:`procrustes_error`)."""
    if a.shape[1] != b.shape[1]:
        raise InvalidArgument(
            f"{name} requires z and z_hat of the same dimension, got {a.shape[1]} and {b.shape[1]}"
        )
    train, test = _split(a.shape[0], test_fraction, seed)
    a_mean, b_mean = a[train].mean(axis=0), b[train].mean(axis=0)
    a_tr, b_tr = a[train] - a_mean, b[train] - b_mean
    from scipy.linalg import orthogonal_procrustes  # imported where used

    q, sv_sum = orthogonal_procrustes(b_tr, a_tr)
    b_norm_sq = float(np.sum(b_tr**2))
    s = sv_sum / b_norm_sq if b_norm_sq > 0 else 0.0
    return a[test] - a_mean, s * (b[test] - b_mean) @ q
