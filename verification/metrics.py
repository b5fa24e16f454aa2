"""Recovery metrics for identifiability experiments.

Each metric compares ground-truth latents ``z`` (shape ``(N, d)``) with learned
representations ``z_hat`` (shape ``(N, d_hat)``) and measures recovery up to a specific
indeterminacy class:

=====================  ==========================================  ===================
metric                 invariant to                                direction
=====================  ==========================================  ===================
``mcc`` (Pearson)      permutation, elementwise affine maps          higher is better
``mcc`` (Spearman)     permutation, elementwise monotone maps        higher is better
``mcc_crossfit``       as ``mcc``; matching chosen and scored on     higher is better
                       different halves (no selection bias)
``mcc_crossfit_min``   as ``mcc_crossfit``; its worst matched pair   higher is better
``r2_linear``          invertible affine maps                        higher is better
``r2_orthogonal``      orthogonal maps, global scale and shift       higher is better
``r2_orthogonal_min``  as ``r2_orthogonal``; its worst direction     higher is better
``r2_nonlinear``       (smooth) invertible maps                      higher is better
``block_r2``           invertible maps of a block (content)          higher is better
``procrustes_error``   orthogonal maps and global scale              lower is better
``amari_distance``     scaled permutations (of a mixing matrix)      lower is better
``linear_cka``         orthogonal maps and isotropic scale           higher is better
``mutual_knn``         maps preserving nearest-neighbour structure   higher is better
=====================  ==========================================  ===================

All of them, the chance level of the MCC (``mcc_null``: the MCC against row-shuffled
``z_hat``), and the diagnostics ``recover`` adds where they apply (``block_r2_style``,
``r2_sufficient_stats``, ``amari_distance`` of a fitted unmixing), are entries of one
registry, :data:`METRICS`; a claim names its metric there. Users add their own with
:func:`register_metric` (as a call or a decorator), and a theorem's claim can then name
it: ``recover`` computes it on the held-out samples like a built-in.

All regression-based scores (``r2_*``, ``block_r2``, ``procrustes_error``) are fitted
on a seeded train split and evaluated on the held-out split, so a flexible regressor
cannot score well by memorising noise; ``mcc_crossfit`` does the same for the MCC's
matching. A mean over dimensions dilutes one failed direction (one folded coordinate
out of 20 moves ``r2_orthogonal`` by about 0.05), so the claims decide by the worst
direction (``r2_orthogonal_min``) or the worst matched pair (``mcc_crossfit_min``),
whose thresholds mean the same at every dimension; the means are reported beside them.
The in-sample ``mcc`` is kept (it is the number papers report); read it
against ``mcc_null``. Inputs may be numpy arrays or torch tensors; everything is
computed in float64 numpy and returned as plain Python floats.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy.linalg import orthogonal_procrustes
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist
from scipy.stats import rankdata
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.metrics.pairwise import rbf_kernel

from theory.errors import InvalidArgument, UnknownName
from verification.registry import Registry

if TYPE_CHECKING:
    import torch

    Array = np.ndarray | torch.Tensor

__all__ = [
    "CONTEXT",
    "DERIVED",
    "METRICS",
    "STANDARD",
    "MCCResult",
    "MetricInfo",
    "amari_distance",
    "block_r2",
    "check_claim_metric",
    "compute_metrics",
    "linear_cka",
    "mcc",
    "mcc_crossfit",
    "mcc_crossfit_min",
    "mcc_matching",
    "mcc_null_baseline",
    "metric_info",
    "mutual_knn",
    "procrustes_error",
    "r2_linear",
    "r2_nonlinear",
    "r2_orthogonal",
    "r2_orthogonal_min",
    "recovery_metrics",
    "register_metric",
    "sufficient_statistics",
]

CorrelationMethod = Literal["pearson", "spearman"]

# Relative tolerance below which a column's standard deviation counts as zero.
_CONST_RTOL = 1e-12
# Largest number of training points used for the kernel ridge hyper-parameter search.
_KRR_SELECT_MAX = 1000
# Inputs of at most this many dimensions use a k-d tree for nearest neighbours.
_KDTREE_MAX_DIM = 8
# Largest number of entries of a distance block held in memory at once (mutual_knn).
_KNN_BLOCK_ENTRIES = 4_000_000


# --------------------------------------------------------------------------- validation


def _as_array(x: Array, name: str = "input") -> np.ndarray:
    """Convert a numpy array / torch tensor / sequence to a finite 2-D float64 array."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{name} could not be converted to a float array: {exc}") from exc
    if arr.ndim != 2:
        raise InvalidArgument(
            f"{name} must be 2-D with shape (N, d), got {arr.ndim}-D array of shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidArgument(f"{name} must be non-empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InvalidArgument(f"{name} contains {n_bad} non-finite values (NaN or inf)")
    return arr


def _as_pair(
    z: Array, z_hat: Array, *, min_samples: int = 2, names: tuple[str, str] = ("z", "z_hat")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two ``(N, d)`` arrays with the same number of samples."""
    a = _as_array(z, names[0])
    b = _as_array(z_hat, names[1])
    if a.shape[0] != b.shape[0]:
        raise InvalidArgument(
            f"{names[0]} and {names[1]} must have the same number of samples, "
            f"got {a.shape[0]} and {b.shape[0]}"
        )
    if a.shape[0] < min_samples:
        raise InvalidArgument(f"need at least {min_samples} samples, got {a.shape[0]}")
    return a, b


def _split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train/test split of ``range(n)``; both parts get >= 2 samples."""
    if not 0.0 < test_fraction < 1.0:
        raise InvalidArgument(f"test_fraction must lie in (0, 1), got {test_fraction}")
    n_test = round(n * test_fraction)
    if n_test < 2 or n - n_test < 2:
        raise InvalidArgument(
            f"not enough samples for a train/test split: N={n} with test_fraction="
            f"{test_fraction} gives {n - n_test} train and {n_test} test samples (need >= 2 each)"
        )
    perm = np.random.default_rng(seed).permutation(n)
    return perm[n_test:], perm[:n_test]


def _center(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre columns; (numerically) constant columns become exactly zero.

    Returns the centred array and the column standard deviations (0 for constant columns).
    A column counts as constant if its std is below ``1e-12`` times its largest magnitude,
    so rounding residue of a collapsed column cannot masquerade as signal.
    """
    xc = x - x.mean(axis=0)
    std = xc.std(axis=0)
    const = std <= _CONST_RTOL * np.abs(x).max(axis=0)
    xc[:, const] = 0.0
    std[const] = 0.0
    return xc, std


def _standardise(x: np.ndarray) -> np.ndarray:
    """Centre and scale columns to unit variance; constant columns become all zeros."""
    xc, std = _center(x)
    return np.divide(xc, std, out=np.zeros_like(xc), where=std > 0)


# --------------------------------------------------------------------------- MCC


@dataclass(frozen=True, eq=False)
class MCCResult:
    """Result of :func:`mcc_matching`.

    Attributes:
        value: mean of the matched absolute correlations, in [0, 1].
        row_ind: matched indices into the columns of ``z`` (length ``min(d, d_hat)``).
        col_ind: matched indices into the columns of ``z_hat``; ``z[:, row_ind[i]]`` is
            paired with ``z_hat[:, col_ind[i]]``.
        correlation: signed ``(d, d_hat)`` correlation matrix between the columns of
            ``z`` (rows) and ``z_hat`` (columns).
    """

    value: float
    row_ind: np.ndarray
    col_ind: np.ndarray
    correlation: np.ndarray

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """Matched ``(true, estimated)`` column pairs."""
        return [(int(i), int(j)) for i, j in zip(self.row_ind, self.col_ind, strict=True)]


def _correlation_matrix(a: np.ndarray, b: np.ndarray, method: str) -> np.ndarray:
    """Cross-correlation matrix ``C[i, j] = corr(a[:, i], b[:, j])``; constant columns -> 0."""
    if method == "spearman":
        a = rankdata(a, axis=0)
        b = rankdata(b, axis=0)
    elif method != "pearson":
        raise InvalidArgument(f"method must be 'pearson' or 'spearman', got {method!r}")
    corr = _standardise(a).T @ _standardise(b) / a.shape[0]
    return np.clip(corr, -1.0, 1.0)


def mcc_matching(z: Array, z_hat: Array, method: CorrelationMethod = "pearson") -> MCCResult:
    r"""Mean correlation coefficient with the optimal matching exposed.

    With :math:`C_{ij} = |\mathrm{corr}(z_i, \hat z_j)|` (Pearson, or Spearman rank
    correlation), the MCC is

    .. math:: \mathrm{MCC} = \max_{\pi} \frac{1}{m} \sum_{i=1}^{m} C_{i \pi(i)},
        \qquad m = \min(d, \hat d),

    the maximum over one-to-one (partial) matchings :math:`\pi`, solved exactly with the
    Hungarian algorithm (:func:`scipy.optimize.linear_sum_assignment`). MCC equals 1 iff
    ``z_hat`` recovers ``z`` up to permutation and elementwise affine maps (Pearson) or
    elementwise strictly monotone maps (Spearman). This is the standard identifiability
    score of nonlinear ICA (Hyvärinen & Morioka, 2016, "Unsupervised Feature Extraction by
    Time-Contrastive Learning and Nonlinear ICA"; Khemakhem et al., 2020, "Variational
    Autoencoders and Nonlinear ICA: A Unifying Framework").

    A constant (collapsed) column has correlation 0 with everything, so a collapsed
    representation gets a low score instead of an error.
    """
    a, b = _as_pair(z, z_hat)
    corr = _correlation_matrix(a, b, method)
    row_ind, col_ind = linear_sum_assignment(np.abs(corr), maximize=True)
    value = float(np.abs(corr[row_ind, col_ind]).mean())
    return MCCResult(value=value, row_ind=row_ind, col_ind=col_ind, correlation=corr)


def mcc(z: Array, z_hat: Array, *, method: CorrelationMethod = "pearson") -> float:
    """Mean correlation coefficient between true and estimated components.

    See :func:`mcc_matching` for the definition; this returns only the value.
    """
    return mcc_matching(z, z_hat, method=method).value


def mcc_crossfit(
    z: Array, z_hat: Array, *, method: CorrelationMethod = "pearson", seed: int = 0
) -> float:
    r"""Cross-fitted MCC: the matching is chosen on one half and scored on the other.

    The in-sample :func:`mcc` chooses the matching :math:`\pi` that maximises the
    absolute correlations on the very data it reports them on, so it is biased upwards:
    unrelated representations of ``N`` samples score about :math:`\sqrt{2 / (\pi N)}`
    per matched pair (plus the gain of choosing the best of many), never 0. Here the
    samples are split into two seeded halves A and B; on A the matching :math:`\pi_A`
    and the signs :math:`s_i = \mathrm{sign}\, C^A_{i \pi_A(i)}` are chosen, and the
    score is the signed correlation on B,

    .. math:: \frac{1}{m} \sum_{i=1}^{m} s_i \, C^B_{i \pi_A(i)},

    averaged with the same with A and B swapped (two-fold cross-fitting). It equals 1
    iff ``z_hat`` recovers ``z`` up to permutation and elementwise affine (Pearson) or
    monotone (Spearman) maps, like :func:`mcc`; unrelated representations score about 0
    (either sign), and it lies in [-1, 1]. ``method`` and the constant-column convention
    are those of :func:`mcc_matching`. Needs at least 4 samples.
    """
    folds = _crossfit_matched(z, z_hat, method, seed)
    return float(np.mean([scores.mean() for scores in folds]))


def mcc_crossfit_min(
    z: Array, z_hat: Array, *, method: CorrelationMethod = "pearson", seed: int = 0
) -> float:
    r"""The worst matched pair of :func:`mcc_crossfit`: on each fold, the smallest
    signed held-out correlation :math:`\min_i s_i C^B_{i \pi_A(i)}` of the matching
    chosen on the other fold, averaged over the two folds.

    Where :func:`mcc_crossfit` averages over the :math:`m` matched pairs, so one
    unrecovered component out of :math:`m` moves it by at most :math:`2/m`, this is the
    component recovered worst: a threshold on it means "every component", at any
    dimension. It equals 1 iff every matched pair is recovered exactly, is at most
    :func:`mcc_crossfit`, and is about 0 or below when any one component is unrelated.
    Same split, ``method`` and conventions as :func:`mcc_crossfit`.
    """
    folds = _crossfit_matched(z, z_hat, method, seed)
    return float(np.mean([scores.min() for scores in folds]))


def _crossfit_matched(
    z: Array, z_hat: Array, method: CorrelationMethod, seed: int
) -> list[np.ndarray]:
    """Per fold, the signed held-out correlations of the pairs matched on the other fold."""
    a, b = _as_pair(z, z_hat, min_samples=4)
    perm = np.random.default_rng(seed).permutation(a.shape[0])
    half = a.shape[0] // 2
    folds = (perm[:half], perm[half:])
    out = []
    for choose, score in (folds, folds[::-1]):
        c_choose = _correlation_matrix(a[choose], b[choose], method)
        rows, cols = linear_sum_assignment(np.abs(c_choose), maximize=True)
        signs = np.sign(c_choose[rows, cols])
        c_score = _correlation_matrix(a[score], b[score], method)
        out.append(signs * c_score[rows, cols])
    return out


def mcc_null_baseline(
    z: Array,
    z_hat: Array,
    *,
    method: CorrelationMethod = "pearson",
    n_shuffles: int = 5,
    seed: int = 0,
) -> float:
    r"""Chance level of :func:`mcc`: its mean over row-shuffled copies of ``z_hat``.

    Shuffling the rows of ``z_hat`` (seeded permutations) breaks every dependence on
    ``z`` while keeping both marginals, so the in-sample MCC of ``z`` against the
    shuffled ``z_hat`` is what :func:`mcc` gives an unrelated representation with the
    same ``N``, ``d`` and ``d_hat`` -- the selection bias of choosing the matching on the
    scored data. Read :func:`mcc` against it (or use :func:`mcc_crossfit`, which has no
    such bias). Averaged over ``n_shuffles`` shuffles.
    """
    if isinstance(n_shuffles, bool) or not isinstance(n_shuffles, int | np.integer):
        raise InvalidArgument(f"n_shuffles must be a positive integer, got {n_shuffles!r}")
    if n_shuffles < 1:
        raise InvalidArgument(f"n_shuffles must be a positive integer, got {n_shuffles!r}")
    a, b = _as_pair(z, z_hat)
    rng = np.random.default_rng(seed)
    return float(
        np.mean([mcc(a, b[rng.permutation(a.shape[0])], method=method) for _ in range(n_shuffles)])
    )


# --------------------------------------------------------------------------- regression


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
    model = LinearRegression().fit(b[train], a[train])
    return float(r2_score(a[test], model.predict(b[test]), multioutput="uniform_average"))


def _median_heuristic_gamma(x: np.ndarray, rng: np.random.Generator) -> float:
    """RBF ``gamma = 1 / median(||x_i - x_j||^2)`` on at most 1000 points."""
    if x.shape[0] > 1000:
        x = x[rng.choice(x.shape[0], size=1000, replace=False)]
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
    model = KernelRidge(alpha=alpha, kernel="rbf", gamma=gamma).fit(x_tr, y_tr)
    pred = model.predict(x_te) * y_std + y_mean
    return float(r2_score(target[test], pred, multioutput="uniform_average"))


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
        return float(r2_score(y_true, y_pred, multioutput="uniform_average"))
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


# --------------------------------------------------------------------------- linear indeterminacies


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
    a = _as_array(A, "A")
    b = _as_array(B, "B")
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
    return float(r2_score(a_te, pred, multioutput="uniform_average"))


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
    q, sv_sum = orthogonal_procrustes(b_tr, a_tr)
    b_norm_sq = float(np.sum(b_tr**2))
    s = sv_sum / b_norm_sq if b_norm_sq > 0 else 0.0
    return a[test] - a_mean, s * (b[test] - b_mean) @ q


# ---------------------------------------------------------------- representation similarity


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


# --------------------------------------------------------------------------- registry

# What a metric may be told besides (z, z_hat); a metric function names the ones it uses.
CONTEXT = ("seed", "content", "process", "fit")


@dataclass(frozen=True)
class MetricInfo:
    """A registered recovery metric: its name, direction, description and function.

    ``fn(z, z_hat, **context)`` gets ``z`` and ``z_hat`` as validated float64 arrays of
    shape ``(N, d)`` and ``(N, d_hat)`` (finite, same ``N``) and, by keyword, those of
    :data:`CONTEXT` its signature names (or all of them if it takes ``**kwargs``):

    - ``seed``: the run's seed (for seeded train/test splits);
    - ``content``: the indices of the claim's content block, or None;
    - ``process``: the :class:`theory.Process` the data came from;
    - ``fit``: the learner's :class:`~verification.learners.Fit` (e.g. its ``extras``).

    It returns a number, or None when it does not apply (e.g. ``block_r2`` without a
    content block); :meth:`compute` turns the number into a plain float.
    """

    name: str
    higher_is_better: bool
    description: str
    fn: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    def compute(
        self,
        z: Array,
        z_hat: Array,
        *,
        seed: int = 0,
        content: Sequence[int] | None = None,
        process: Any = None,
        fit: Any = None,
    ) -> float | None:
        """The metric's value for ``(z, z_hat)``, or None where it does not apply."""
        if self.fn is None:
            raise InvalidArgument(f"metric {self.name!r} has no function to compute it")
        a, b = _as_pair(z, z_hat)
        context = {"seed": seed, "content": content, "process": process, "fit": fit}
        value = self.fn(a, b, **{k: context[k] for k in _context_keys(self.fn)})
        return None if value is None else _as_value(self.name, value)


def _context_keys(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The context keywords ``fn`` accepts (all of them when it takes ``**kwargs``)."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return CONTEXT
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return tuple(k for k in CONTEXT if k in names)


def _as_value(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        if not (hasattr(value, "item") and getattr(value, "ndim", None) == 0):
            raise InvalidArgument(
                f"metric {name!r} returned {type(value).__name__}, not a number (or None)"
            )
        value = value.item()
    return float(value)


_NO_VALUE = object()


class _MetricRegistry(Registry):
    """The metric registry: values are :class:`MetricInfo` registered under their name."""

    def register(self, name, value=_NO_VALUE, *, replace: bool = False):  # type: ignore[override]
        if value is _NO_VALUE:
            return super().register(name, replace=replace)
        if not isinstance(value, MetricInfo):
            raise InvalidArgument(
                f"a metric is registered as a MetricInfo (use register_metric to wrap a "
                f"function), got {type(value).__name__}"
            )
        if value.name != name:
            raise InvalidArgument(
                f"metric {value.name!r} registered under a different name {name!r}"
            )
        return super().register(name, value, replace=replace)


METRICS = _MetricRegistry("metric")
"""Every recovery metric by name: a claim's ``metric`` must be one of these."""


def register_metric(
    name: str,
    fn: Callable[..., Any] | None = None,
    *,
    higher_is_better: bool,
    description: str | None = None,
    replace: bool = False,
):
    """Register a recovery metric, so a claim can name it (``Claim(..., metric=name)``).

    Arguments:
        name: the name claims use; an existing name is refused unless ``replace=True``.
        fn: ``fn(z, z_hat, **context) -> float | None`` (see :class:`MetricInfo` for the
            arguments and the context keywords it may take). Without ``fn``, a decorator.
        higher_is_better: the metric's direction; a claim on it must say the same.
        description: one line for listings (default: the first line of ``fn``'s docstring).
        replace: replace an existing metric of that name on purpose.

    Returns:
        ``fn`` (so it can be used as a decorator).

    The signature is checked now: ``fn`` must take ``(z, z_hat)`` positionally and
    nothing else it requires beyond the context keywords.

        @register_metric("max_corr", higher_is_better=True)
        def max_corr(z, z_hat):
            return float(np.abs(np.corrcoef(z.T, z_hat.T)).max())
    """
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise InvalidArgument(f"a metric is registered under a non-empty name, got {name!r}")
    if not isinstance(higher_is_better, bool):
        raise InvalidArgument(
            f"metric {name!r}: higher_is_better must be True or False, got {higher_is_better!r}"
        )
    if description is not None and not isinstance(description, str):
        raise InvalidArgument(f"metric {name!r}: description must be a string")
    if fn is None:

        def decorator(target: Callable[..., Any]) -> Callable[..., Any]:
            register_metric(
                name,
                target,
                higher_is_better=higher_is_better,
                description=description,
                replace=replace,
            )
            return target

        return decorator
    _check_signature(name, fn)
    if description is None:
        doc = inspect.getdoc(fn) or ""
        description = doc.strip().splitlines()[0] if doc.strip() else ""
    METRICS.register(name, MetricInfo(name, higher_is_better, description, fn), replace=replace)
    return fn


def _check_signature(name: str, fn: Any) -> None:
    if not callable(fn):
        raise InvalidArgument(f"metric {name!r}: expected a function, got {type(fn).__name__}")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise InvalidArgument(f"metric {name!r}: cannot read the signature of {fn!r}") from None
    keys = _context_keys(fn)
    try:
        sig.bind(None, None, **dict.fromkeys(keys))
    except TypeError as err:
        raise InvalidArgument(
            f"metric {name!r}: {getattr(fn, '__name__', 'fn')}{sig} cannot be called as "
            f"fn(z, z_hat, **context) with context from {', '.join(CONTEXT)}: {err}"
        ) from None


def metric_info(name: str) -> MetricInfo:
    """The registered metric ``name``; :class:`UnknownName` (listing the known) if none."""
    if not isinstance(name, str):
        raise InvalidArgument(f"a metric is named by a string, got {name!r}")
    return METRICS.get(name)


def check_claim_metric(claim: Any, *, where: str = "") -> MetricInfo:
    """Validate a claim's metric before anything is computed: it must be registered and
    its direction must match the claim's ``higher_is_better``. Returns its info."""
    prefix = f"{where}: " if where else ""
    metric = getattr(claim, "metric", None)
    if not isinstance(metric, str) or metric not in METRICS:
        raise UnknownName(
            f"{prefix}the claim's metric {metric!r} is not registered; known: "
            f"{', '.join(METRICS.names())} (add one with verification.metrics.register_metric)"
        )
    info = METRICS[metric]
    if bool(getattr(claim, "higher_is_better", True)) != info.higher_is_better:
        direction = "higher" if info.higher_is_better else "lower"
        raise InvalidArgument(
            f"{prefix}metric {metric!r} is {direction}-is-better, but the claim says "
            f"higher_is_better={claim.higher_is_better}"
        )
    return info


def compute_metrics(
    names: Sequence[str],
    z: Array,
    z_hat: Array,
    *,
    seed: int = 0,
    content: Sequence[int] | None = None,
    process: Any = None,
    fit: Any = None,
) -> dict[str, float]:
    """The registered metrics ``names`` of ``(z, z_hat)``, in that order; a metric that
    does not apply (returns None) is left out. Every name is checked before any is
    computed."""
    infos = [metric_info(name) for name in dict.fromkeys(names)]
    a, b = _as_pair(z, z_hat)
    out: dict[str, float] = {}
    for info in infos:
        value = info.compute(a, b, seed=seed, content=content, process=process, fit=fit)
        if value is not None:
            out[info.name] = value
    return out


# The metrics recovery_metrics computes, in order.
STANDARD = (
    "mcc",
    "mcc_crossfit",
    "mcc_crossfit_min",
    "mcc_null",
    "mcc_spearman",
    "r2_linear",
    "r2_orthogonal",
    "r2_orthogonal_min",
    "r2_nonlinear",
    "procrustes_error",
    "cka_linear",
    "mutual_knn",
    "block_r2",
)
# Metrics that need the process or the fit; recover adds them where they apply.
DERIVED = ("block_r2_style", "r2_sufficient_stats", "amari_distance")


def recovery_metrics(
    z: Array,
    z_hat: Array,
    *,
    seed: int = 0,
    content: Sequence[int] | None = None,
) -> dict[str, float]:
    """Compute the standard recovery metrics of ``z_hat`` against ``z``.

    Returns a dict with keys ``"mcc"``, ``"mcc_crossfit"``, ``"mcc_crossfit_min"``,
    ``"mcc_null"`` (the chance level of ``"mcc"``), ``"mcc_spearman"``, ``"r2_linear"``,
    ``"r2_nonlinear"``, ``"cka_linear"``, ``"mutual_knn"``, plus ``"r2_orthogonal"``,
    ``"r2_orthogonal_min"`` and ``"procrustes_error"`` when ``d == d_hat`` and ``"block_r2"`` (nonlinear R² of the
    ``content`` block) when ``content`` is given. ``mutual_knn`` uses ``k = min(10, N - 1)`` on a seeded
    subsample of at most 5000 samples. See :data:`METRICS` for directions.
    """
    return compute_metrics(STANDARD, z, z_hat, seed=seed, content=content)


# --------------------------------------------------------------------------- built-ins


def _procrustes_metric(z, z_hat, seed):
    return procrustes_error(z, z_hat, seed=seed) if z.shape[1] == z_hat.shape[1] else None


def _orthogonal_metric(z, z_hat, seed):
    return r2_orthogonal(z, z_hat, seed=seed) if z.shape[1] == z_hat.shape[1] else None


def _orthogonal_min_metric(z, z_hat, seed):
    return r2_orthogonal_min(z, z_hat, seed=seed) if z.shape[1] == z_hat.shape[1] else None


def _mutual_knn_metric(z, z_hat, seed):
    n = z.shape[0]
    if n > 5000:
        sub = np.random.default_rng(seed).choice(n, size=5000, replace=False)
        return mutual_knn(z[sub], z_hat[sub], k=10)
    return mutual_knn(z, z_hat, k=min(10, n - 1))


def _block_metric(z, z_hat, content, seed):
    return None if content is None else block_r2(z, z_hat, content, seed=seed)


def _style_metric(z, z_hat, content, seed):
    if content is None:
        return None
    style = [i for i in range(z.shape[1]) if i not in set(content)]
    return block_r2(z, z_hat, style, seed=seed) if style else None


def sufficient_statistics(latent: Any, z: Any) -> Any:
    """t(z) of the exponential family a segmented latent is modulated in (|z|, z², or
    (z, z²) for Normal segments with moving means: ``Segmented.sufficient_statistics``)."""
    import theory as th

    if isinstance(latent, th.latents.Segmented):
        return latent.sufficient_statistics(z)
    return abs(z)


def _sufficient_stats_metric(z, z_hat, process, seed):
    import theory as th

    latent = getattr(process, "latent", None)
    if not isinstance(latent, th.latents.Segmented):
        return None
    return r2_linear(sufficient_statistics(latent, z), z_hat, seed=seed)


def _amari_metric(z, z_hat, process, fit):
    import theory as th

    unmixing = None if fit is None else getattr(fit, "extras", {}).get("unmixing")
    mixing = getattr(process, "mixing", None)
    if unmixing is None or not isinstance(mixing, th.mixings.Linear):
        return None
    a = np.asarray(mixing.matrix)
    if a.shape[0] != a.shape[1] or np.shape(unmixing) != a.shape:
        return None
    return amari_distance(unmixing, a)


for _name, _higher, _description, _fn in (
    (
        "mcc",
        True,
        "Pearson mean correlation coefficient after optimal matching",
        lambda z, z_hat: mcc(z, z_hat),
    ),
    (
        "mcc_crossfit",
        True,
        "cross-fitted MCC: matching chosen on one half, signed correlation scored on the other",
        lambda z, z_hat, seed: mcc_crossfit(z, z_hat, seed=seed),
    ),
    (
        "mcc_crossfit_min",
        True,
        "worst matched pair of mcc_crossfit: its smallest held-out signed correlation",
        lambda z, z_hat, seed: mcc_crossfit_min(z, z_hat, seed=seed),
    ),
    (
        "mcc_null",
        True,
        "chance level of mcc: its mean against row-shuffled z_hat (a baseline, not a score)",
        lambda z, z_hat, seed: mcc_null_baseline(z, z_hat, seed=seed),
    ),
    (
        "mcc_spearman",
        True,
        "Spearman (rank) mean correlation after optimal matching",
        lambda z, z_hat: mcc(z, z_hat, method="spearman"),
    ),
    (
        "r2_linear",
        True,
        "held-out R^2 of an affine regression z_hat -> z",
        lambda z, z_hat, seed: r2_linear(z, z_hat, seed=seed),
    ),
    (
        "r2_orthogonal",
        True,
        "held-out R^2 of an orthogonal map + global scale + shift z_hat -> z",
        _orthogonal_metric,
    ),
    (
        "r2_orthogonal_min",
        True,
        "worst direction of r2_orthogonal: min over unit v of the held-out R^2 of v'z",
        _orthogonal_min_metric,
    ),
    (
        "r2_nonlinear",
        True,
        "held-out R^2 of RBF kernel ridge z_hat -> z",
        lambda z, z_hat, seed: r2_nonlinear(z, z_hat, seed=seed),
    ),
    (
        "procrustes_error",
        False,
        "held-out relative residual after orthogonal map + scale",
        _procrustes_metric,
    ),
    ("cka_linear", True, "linear centred kernel alignment", lambda z, z_hat: linear_cka(z, z_hat)),
    ("mutual_knn", True, "mutual k-nearest-neighbour overlap", _mutual_knn_metric),
    ("block_r2", True, "held-out R^2 of predicting a true block (content)", _block_metric),
    (
        "block_r2_style",
        True,
        "held-out R^2 of predicting the style block (outside the content block)",
        _style_metric,
    ),
    (
        "r2_sufficient_stats",
        True,
        "held-out linear R^2 of the sufficient statistics t(z) of segmented latents",
        _sufficient_stats_metric,
    ),
    (
        "amari_distance",
        False,
        "normalised Amari index of the fitted unmixing; 0 iff scaled permutation",
        _amari_metric,
    ),
):
    register_metric(_name, _fn, higher_is_better=_higher, description=_description)
del _name, _higher, _description, _fn
