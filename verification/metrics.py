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

The maths lives by job in the private package ``verification._metrics``
(``correlation``, ``regression``, ``orthogonal``, ``similarity``; ``registry`` and the
``builtins`` registered in it); this module is its public face.
"""

from __future__ import annotations

from verification._metrics._arrays import CorrelationMethod  # noqa: F401 (a type alias)
from verification._metrics.builtins import sufficient_statistics  # registers the built-ins
from verification._metrics.correlation import (
    MCCResult,
    mcc,
    mcc_crossfit,
    mcc_crossfit_min,
    mcc_matching,
    mcc_null_baseline,
)
from verification._metrics.orthogonal import (
    amari_distance,
    procrustes_error,
    r2_orthogonal,
    r2_orthogonal_min,
)
from verification._metrics.registry import (
    CONTEXT,
    DERIVED,
    METRICS,
    STANDARD,
    MetricInfo,
    check_claim_metric,
    compute_metrics,
    metric_info,
    recovery_metrics,
    register_metric,
)
from verification._metrics.regression import block_r2, r2_linear, r2_nonlinear
from verification._metrics.similarity import linear_cka, mutual_knn

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
