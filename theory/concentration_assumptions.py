"""Assumptions on the concentrations of an anisotropic positive-pair conditional.

Rusak, Reizinger, Juhos, Bringmann, Zimmermann & Brendel 2024 ("InfoNCE: identifying
the gap between theory and practice", AnInfoNCE): with p(z̃|z) ∝ exp(−½ (z̃ − z)ᵀΛ(z̃ − z))
and Λ = diag(λ), the minimiser is block-orthogonal, one block per value of λ; only
pairwise distinct concentrations leave a permutation with sign flips (a block of equal
ones keeps a rotation within it: a vMF, Λ = κI, keeps every rotation). The condition is
stated from the paper's claim as sith reads it; the paper's text was not read here
(theory/text_checks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from theory.assumptions import Assumption, register

RUSAK = (
    "Rusak, Reizinger, Juhos, Bringmann, Zimmermann & Brendel 2024, 'InfoNCE: identifying "
    "the gap between theory and practice', AISTATS 2025 (the theorem's number unverified)"
)


@dataclass
class DistinctConcentrations(Assumption):
    """The conditional's per-latent concentrations λ_1, …, λ_n are pairwise distinct.

    Decided exactly from the conditional: an AnisotropicNormal with distinct λ holds;
    repeated values, a von Mises–Fisher (Λ = κI) or a law without per-latent
    concentrations violate it.
    """

    name: ClassVar[str] = "distinct-concentrations"
    cite: ClassVar[str] = RUSAK
    description: ClassVar[str] = "the concentrations λ_i of p(z̃|z) are pairwise distinct"

    def statement(self, n, m=None):
        lam = sp.symbols(f"lambda1:{n + 1}", positive=True)
        return sp.And(*(sp.Ne(a, b) for i, a in enumerate(lam) for b in lam[i + 1 :]))


register(DistinctConcentrations)

__all__ = ["RUSAK", "DistinctConcentrations"]
