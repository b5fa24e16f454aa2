"""Array validation and the shared column arithmetic of the recovery metrics.

Private: import the public names from :mod:`verification.metrics`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from theory.errors import InvalidArgument

if TYPE_CHECKING:
    import torch

    Array = np.ndarray | torch.Tensor

CorrelationMethod = Literal["pearson", "spearman"]

# Relative tolerance below which a column's standard deviation counts as zero.
_CONST_RTOL = 1e-12


def r2_uniform(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    r"""The coefficient of determination averaged uniformly over the columns,

    .. math:: R^2 = \frac{1}{d} \sum_{k=1}^{d}
        \Big(1 - \frac{\sum_n (y_{nk} - \hat y_{nk})^2}{\sum_n (y_{nk} - \bar y_k)^2}\Big),

    where a constant column scores 1 when predicted exactly and 0 otherwise: scikit-learn's
    ``r2_score(..., multioutput="uniform_average")`` (``force_finite=True``), which the tests
    compare it with. Written out because importing scikit-learn takes 1.5 s (it pulls in
    pandas and scipy.stats), paid by every pool worker whose metrics need nothing else
    from it."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    if y_true.shape != y_pred.shape:
        raise InvalidArgument(
            f"R² needs targets and predictions of one shape, got {y_true.shape} and "
            f"{y_pred.shape}"
        )
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise InvalidArgument("R² needs finite targets and predictions")
    residual = ((y_true - y_pred) ** 2).sum(axis=0)
    total = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(total > 0, 1.0 - residual / total, np.where(residual > 0, 0.0, 1.0))
    return float(scores.mean())


def as_array(x: Array, name: str = "input") -> np.ndarray:
    """A finite, real, non-empty 2-D float64 array of ``x`` (a numpy array, a torch tensor
    on any device, or nested sequences of numbers); one clear line when it is not."""
    if hasattr(x, "detach"):  # a torch tensor, without importing torch
        x = x.detach().cpu()
        if x.is_complex():
            raise InvalidArgument(f"{name} must be real, got a complex tensor")
        x = x.double().numpy()  # also bfloat16, which numpy cannot hold
    if np.iscomplexobj(x):
        raise InvalidArgument(f"{name} must be real, got complex values")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidArgument(f"{name} must be an array of numbers: {err}") from None
    if arr.ndim != 2:
        raise InvalidArgument(
            f"{name} must be 2-D with shape (N, d), got shape {arr.shape}"
            + (" (reshape a single latent to (N, 1))" if arr.ndim == 1 else "")
        )
    if arr.shape[1] == 0:
        raise InvalidArgument(f"{name} has no columns (shape {arr.shape})")
    if arr.shape[0] == 0:
        raise InvalidArgument(f"{name} has no rows (shape {arr.shape})")
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise InvalidArgument(f"{name} contains {bad} non-finite values (NaN or inf)")
    return arr


def _as_pair(
    z: Array, z_hat: Array, *, min_samples: int = 2, names: tuple[str, str] = ("z", "z_hat")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two ``(N, d)`` arrays with the same number of samples."""
    a = as_array(z, names[0])
    b = as_array(z_hat, names[1])
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
