"""Claims: the indeterminacy a theorem promises, and how "recovered" is decided.

A claim names the indeterminacy (the group of transformations the learned
representation may differ from z by) and the metric + threshold that decides
recovery on held-out samples. Metric names are those of ``verification.metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass

from theory._spec import Spec


@dataclass
class Claim(Spec):
    """h(x) = T(z) for some T in ``indeterminacy``; recovered iff metric passes threshold."""

    indeterminacy: str
    metric: str
    threshold: float
    higher_is_better: bool = True
    content: int | None = None
    description: str = ""

    kind = "claim"

    def passes(self, value: float) -> bool:
        if value != value:  # NaN never passes
            return False
        return value >= self.threshold if self.higher_is_better else value <= self.threshold

    def __str__(self) -> str:
        op = "≥" if self.higher_is_better else "≤"
        return f"{self.indeterminacy} ({self.metric} {op} {self.threshold})"


def permutation_elementwise(threshold: float = 0.9, metric: str = "mcc_crossfit") -> Claim:
    """Up to permutation and elementwise invertible maps (nonlinear ICA, TCL, iVAE).

    Decided by the cross-fitted MCC (the matching chosen on one half of the held-out
    samples, scored on the other), which unlike the in-sample ``mcc`` gives an unrelated
    representation about 0; ``mcc`` is still reported beside it.
    """
    return Claim(
        "permutation+elementwise",
        metric,
        threshold,
        description="h_i(x) = σ_i(z_π(i)) for a permutation π and invertible σ_i",
    )


def permutation_scaling(threshold: float = 0.95, metric: str = "mcc_crossfit") -> Claim:
    """Up to permutation and scaling (linear ICA); decided by the cross-fitted MCC, as
    :func:`permutation_elementwise`."""
    return Claim(
        "permutation+scaling",
        metric,
        threshold,
        description="h(x) = P Λ z for a permutation P and diagonal Λ",
    )


def affine(threshold: float = 0.95) -> Claim:
    """Up to an invertible affine map, measured by held-out linear R²."""
    return Claim("affine", "r2_linear", threshold, description="h(x) = A z + b")


def orthogonal(threshold: float = 0.95) -> Claim:
    """Up to an orthogonal map (Zimmermann et al. 2021, Theorem 2).

    Decided by ``r2_orthogonal``: the held-out R² of the best orthogonal map with one
    global scale and a shift. Linear R² (what the paper reports, still reported beside
    it as ``r2_linear``) cannot tell orthogonal from affine: a sheared or anisotropic
    linear map scores 1 there. At the default threshold 0.95, a trained cl-ica encoder
    (about 0.995 on the canonical process) passes, while in 2 or 3 dimensions any
    linear map whose singular values differ by a factor of 2 or more fails (at most
    0.93); see ``verification.metrics.r2_orthogonal``.
    """
    return Claim(
        "orthogonal",
        "r2_orthogonal",
        threshold,
        description="h(x) = s Q z + b with Q orthogonal and s > 0 one global scale; "
        "measured by the held-out R² of the best such map",
    )


def block(content: int, threshold: float = 0.9) -> Claim:
    """The content block is recovered up to an invertible map (von Kügelgen et al. 2021)."""
    return Claim(
        "block",
        "block_r2",
        threshold,
        content=content,
        description="h(x) = φ(z_c) for an invertible φ of the content block",
    )


__all__ = [
    "Claim",
    "affine",
    "block",
    "orthogonal",
    "permutation_elementwise",
    "permutation_scaling",
]
