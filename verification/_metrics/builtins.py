"""The built-in metrics, registered under the names claims use.

Private: import the public names from :mod:`verification.metrics`."""

from __future__ import annotations

from typing import Any

import numpy as np

from verification._metrics.correlation import mcc, mcc_crossfit, mcc_crossfit_min, mcc_null_baseline
from verification._metrics.orthogonal import (
    amari_distance,
    procrustes_error,
    r2_orthogonal,
    r2_orthogonal_min,
)
from verification._metrics.registry import register_metric
from verification._metrics.regression import block_r2, r2_linear, r2_nonlinear
from verification._metrics.similarity import linear_cka, mutual_knn


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
