"""Mean correlation coefficients: matched (MCC), cross-fitted, and the chance level.

Private: import the public names from :mod:`verification.metrics`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from theory.errors import InvalidArgument
from verification._metrics._arrays import CorrelationMethod, _as_pair, _standardise

if TYPE_CHECKING:
    import torch

    Array = np.ndarray | torch.Tensor


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
        from scipy.stats import rankdata  # 0.7 s: imported for Spearman only

        a = rankdata(a, axis=0)
        b = rankdata(b, axis=0)
    elif method != "pearson":
        raise InvalidArgument(f"method must be 'pearson' or 'spearman', got {method!r}")
    corr = _standardise(a).T @ _standardise(b) / a.shape[0]
    return np.clip(corr, -1.0, 1.0)


def _matching(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (rows, columns) of the matching with the largest total weight: the Hungarian
    algorithm (:func:`scipy.optimize.linear_sum_assignment`; scipy is imported here,
    where it is used, so that importing the metrics costs no 0.2 s of scipy)."""
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment(weights, maximize=True)


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
    row_ind, col_ind = _matching(np.abs(corr))
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
        rows, cols = _matching(np.abs(c_choose))
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
