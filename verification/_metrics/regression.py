"""Held-out regression scores: affine and kernel-ridge R², and the R² of a block.

Private: import the public names from :mod:`verification.metrics`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from theory.errors import InvalidArgument
from verification._metrics._arrays import _CONST_RTOL, _as_pair, _split, r2_uniform

if TYPE_CHECKING:
    import torch

    Array = np.ndarray | torch.Tensor

# Relative cut-off of r2_linear's least squares: scikit-learn's LinearRegression ``tol``.
_LSTSQ_COND = 1e-6

# Largest number of training points used for the kernel ridge hyper-parameter search.
_KRR_SELECT_MAX = 1000


def r2_linear(z: Array, z_hat: Array, *, test_fraction: float = 0.5, seed: int = 0) -> float:
    r"""Held-out :math:`R^2` of predicting ``z`` from an affine function of ``z_hat``.

    Fits ordinary least squares with intercept, :math:`\hat z \mapsto W \hat z + b`, on a
    seeded train split and reports the coefficient of determination on the held-out split,
    averaged uniformly over the ``d`` output dimensions:

    .. math:: R^2 = \frac{1}{d} \sum_{k=1}^{d}
        \Big(1 - \frac{\sum_n (z_{nk} - \tilde z_{nk})^2}{\sum_n (z_{nk} - \bar z_k)^2}\Big).

    Equals 1 iff ``z_hat`` recovers ``z`` up to an invertible affine map (the linear
    identifiability class of e.g. Roeder et al., 2021, "On Linear Identifiability of
    Learned Representations"; Zimmermann et al., 2021, "Contrastive Learning Inverts the
    Data Generating Process"). Can be negative on held-out data.
    """
    a, b = _as_pair(z, z_hat)
    train, test = _split(a.shape[0], test_fraction, seed)
    # ordinary least squares on the centred train split, as scikit-learn's
    # LinearRegression computes it (scipy's lstsq, singular values below 1e-6 of the
    # largest cut off: its ``tol``), without its 1.5 s import (see r2_uniform)
    b_mean, a_mean = b[train].mean(axis=0), a[train].mean(axis=0)
    import scipy.linalg  # imported where used

    coef = scipy.linalg.lstsq(b[train] - b_mean, a[train] - a_mean, cond=_LSTSQ_COND)[0]
    return r2_uniform(a[test], b[test] @ coef + (a_mean - b_mean @ coef))


def _median_heuristic_gamma(x: np.ndarray, rng: np.random.Generator) -> float:
    """RBF ``gamma = 1 / median(||x_i - x_j||^2)`` on at most 1000 points."""
    if x.shape[0] > 1000:
        x = x[rng.choice(x.shape[0], size=1000, replace=False)]
    from scipy.spatial.distance import pdist  # imported where used

    sq = pdist(x, "sqeuclidean")
    sq = sq[sq > 0]
    med = float(np.median(sq)) if sq.size else 1.0
    return 1.0 / med


def r2_nonlinear(
    z: Array,
    z_hat: Array,
    *,
    test_fraction: float = 0.5,
    seed: int = 0,
    max_train: int = 2000,
) -> float:
    r"""Held-out :math:`R^2` of predicting ``z`` from ``z_hat`` with RBF kernel ridge.

    Procedure (all randomness from ``seed``):

    1. split into train/test (``test_fraction``) and subsample train to ``max_train``;
    2. standardise ``z_hat`` and ``z`` with train statistics;
    3. pick :math:`(\gamma, \alpha)` of :class:`sklearn.kernel_ridge.KernelRidge` with
       kernel :math:`k(x, y) = \exp(-\gamma \|x - y\|^2)` over the grid
       :math:`\gamma \in \gamma_{\mathrm{med}} \times \{0.5, 1, 2\}` (median heuristic)
       and :math:`\alpha \in \{10^{-4}, 10^{-3}, \dots, 10^{4}\}` by :math:`R^2` on an
       internal 20 % validation part of (a seeded subset of at most 1000 points of) the
       train set (one eigendecomposition per :math:`\gamma` serves every :math:`\alpha`);
    4. refit on the whole train set with :math:`\alpha` scaled by the ratio of the sizes
       of the two fits (so the penalty per sample, :math:`\alpha / n`, is the one
       selected) and report held-out :math:`R^2` (uniform average over the output
       dimensions, as in :func:`r2_linear`).

    The grid reaches far enough that its top end predicts (almost) the train mean of
    the standardised target, so a target unrelated to ``z_hat`` is not forced to fit
    noise: it scores about 0 (within about 0.01 at ``N = 4000``). Values are not
    clipped: a slightly negative score is sampling noise around 0, a clearly negative
    one means the kernel ridge generalises worse than the mean.

    High values mean ``z`` is a (smooth) function of ``z_hat`` -- recovery up to an
    invertible nonlinear map, the evaluation used by von Kügelgen et al., 2021,
    "Self-Supervised Learning with Data Augmentations Provably Isolates Content from Style".
    """
    if max_train < 4:
        raise InvalidArgument(f"max_train must be >= 4, got {max_train}")
    a, b = _as_pair(z, z_hat)
    return _kernel_ridge_r2(a, b, test_fraction=test_fraction, seed=seed, max_train=max_train)


def _train_scaling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations; (numerically) constant columns get std 1."""
    std = x.std(axis=0)
    return x.mean(axis=0), np.where(std > _CONST_RTOL * np.abs(x).max(axis=0), std, 1.0)


def _kernel_ridge_r2(
    target: np.ndarray,
    inputs: np.ndarray,
    *,
    test_fraction: float,
    seed: int,
    max_train: int,
) -> float:
    rng = np.random.default_rng(seed)
    train, test = _split(target.shape[0], test_fraction, seed)
    if train.size > max_train:
        train = rng.choice(train, size=max_train, replace=False)

    x_mean, x_std = _train_scaling(inputs[train])
    y_mean, y_std = _train_scaling(target[train])
    x_tr, x_te = (inputs[train] - x_mean) / x_std, (inputs[test] - x_mean) / x_std
    y_tr = (target[train] - y_mean) / y_std

    gamma, alpha, n_fit = _select_kernel_ridge(x_tr, y_tr, rng)[:3]
    alpha *= train.size / n_fit  # same penalty per sample on the whole train set
    from sklearn.kernel_ridge import KernelRidge  # imported when used: see r2_uniform

    model = KernelRidge(alpha=alpha, kernel="rbf", gamma=gamma).fit(x_tr, y_tr)
    pred = model.predict(x_te) * y_std + y_mean
    return r2_uniform(target[test], pred)


# The kernel ridge penalties r2_nonlinear selects from; its top end predicts (almost) the
# mean, so the choice for an unrelated target is not cut off by the grid.
_KRR_ALPHAS = tuple(10.0**e for e in range(-4, 5))
_KRR_GAMMA_FACTORS = (0.5, 1.0, 2.0)


def _select_kernel_ridge(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[float, float, int, dict[tuple[float, float], float]]:
    """Choose ``(gamma, alpha)`` by R² on an internal 20 % validation part of (at most
    ``_KRR_SELECT_MAX`` points of) ``(x, y)``. Returns gamma, alpha, the number of points
    the candidates were fitted on, and every candidate's validation score (keyed by the
    gamma factor and alpha), for inspection."""
    from sklearn.metrics.pairwise import rbf_kernel  # imported when used: see r2_uniform

    perm = rng.permutation(x.shape[0])[:_KRR_SELECT_MAX]
    n_val = max(1, round(0.2 * perm.size))
    fit_idx, val_idx = perm[n_val:], perm[:n_val]
    gamma0 = _median_heuristic_gamma(x, rng)
    scores: dict[tuple[float, float], float] = {}
    best: tuple[float, float, float] = (-np.inf, gamma0, 1e-2)
    for factor in _KRR_GAMMA_FACTORS:
        gamma = factor * gamma0
        # K = V diag(lam) V^T: the dual coefficients (K + alpha I)^-1 y of every alpha
        lam, vecs = np.linalg.eigh(rbf_kernel(x[fit_idx], gamma=gamma))
        lam = np.clip(lam, 0.0, None)  # rounding can make tiny eigenvalues negative
        proj = vecs.T @ y[fit_idx]
        k_val = rbf_kernel(x[val_idx], x[fit_idx], gamma=gamma) @ vecs
        for alpha in _KRR_ALPHAS:
            score = _r2_or_mse(y[val_idx], k_val @ (proj / (lam + alpha)[:, None]))
            scores[(factor, alpha)] = score
            if score > best[0]:
                best = (score, gamma, alpha)
    return best[1], best[2], fit_idx.size, scores


def _r2_or_mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Validation score: R^2 when defined (>= 2 samples), else negative MSE."""
    if y_true.shape[0] >= 2:
        return r2_uniform(y_true, y_pred)
    return -float(np.mean((y_true - y_pred) ** 2))


def block_r2(
    z: Array,
    z_hat: Array,
    block: Sequence[int],
    *,
    nonlinear: bool = True,
    test_fraction: float = 0.5,
    seed: int = 0,
) -> float:
    r"""Held-out :math:`R^2` of predicting the true block ``z[:, block]`` from ``z_hat``.

    Block identifiability (von Kügelgen et al., 2021, "Self-Supervised Learning with Data
    Augmentations Provably Isolates Content from Style"): an encoder isolates the content
    block :math:`c` if :math:`c = h(\hat z)` for an invertible :math:`h`, so the content
    block is predictable (:math:`R^2 \approx 1`) while the style block is not
    (:math:`R^2 \approx 0`). Uses :func:`r2_nonlinear` (kernel ridge) by default, or
    :func:`r2_linear` with ``nonlinear=False``.

    Args:
        block: column indices of ``z`` forming the block (non-empty, unique, in range).
    """
    a, b = _as_pair(z, z_hat)
    idx = np.asarray(block)
    if idx.ndim != 1 or idx.size == 0:
        raise InvalidArgument(
            f"block must be a non-empty 1-D sequence of column indices, got {block}"
        )
    if not np.issubdtype(idx.dtype, np.integer):
        raise InvalidArgument(f"block must contain integer column indices, got dtype {idx.dtype}")
    d = a.shape[1]
    if idx.min() < 0 or idx.max() >= d:
        raise InvalidArgument(
            f"block indices must lie in [0, {d}) for z with {d} columns, got {block}"
        )
    if np.unique(idx).size != idx.size:
        raise InvalidArgument(f"block indices must be unique, got {block}")
    target = a[:, idx]
    if nonlinear:
        return r2_nonlinear(target, b, test_fraction=test_fraction, seed=seed)
    return r2_linear(target, b, test_fraction=test_fraction, seed=seed)
