"""Assumptions of the cluster-centric model of supervised learning (Reizinger et al. 2025).

Reizinger, Bizeul, Juhos, Vogt, Balestriero, Brendel & Klindt 2025, "Cross-entropy is
all you need to invert the data generating process", ICLR, Theorem 2 (Appx. A.3,
Thm 2C) under their Assumption 3:

(i) finitely many classes C, with unit cluster vectors {v_c} ⊆ S^{d-1} that form an
    *affine generator system* of R^d (every vector is an affine combination of them,
    their Definition 1), which is rank [v_c − v_a]_{c} = d for any fixed a (their
    Lemma 1), so it needs |C| ≥ d + 1;
(ii) a data sample belongs to a uniformly chosen class C;
(iii) its latent is von Mises–Fisher around its class's cluster vector on S^{d-1},
    p(z | C) ∝ exp(κ <v_C, z>);
(iv) x = g(z) with g continuous and injective (``assumptions.Injective``).

(ii) and (iii) are :class:`ClusterCentricVMF` (decided from the latent's family), (i) is
:class:`AffineGenerator` (decided by an exact rank). Their checks live in
``verification.checks.clusters``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from theory import _validate as valid
from theory.assumptions import Assumption, coordinates, register

REIZINGER = (
    "Reizinger, Bizeul, Juhos, Vogt, Balestriero, Brendel & Klindt 2025, 'Cross-entropy is "
    "all you need to invert the data generating process', ICLR, Theorem 2 (Assumption 3"
)


@dataclass
class ClusterCentricVMF(Assumption):
    """A uniform class over finitely many unit cluster vectors, and z | C ~ vMF(v_C, κ).

    Reizinger et al. 2025, Assumption 3 (ii)-(iii): the class C of a sample is uniform
    over the classes (their Thm 2 cannot account for imbalanced classes), and its latent
    is von Mises–Fisher on S^{d-1} around the unit cluster vector v_C, p(z | C) ∝
    exp(κ <v_C, z>); the label C is observed with x.
    """

    name: ClassVar[str] = "cluster-centric-vmf"
    cite: ClassVar[str] = REIZINGER + " (ii)-(iii))"
    description: ClassVar[str] = (
        "P(C = c) = 1/|C| and p(z | C) ∝ exp(κ v_Cᵀz) on S^{d-1} with unit cluster "
        "vectors v_c; the class label C is observed"
    )

    def statement(self, n, m=None):
        z, v = coordinates(n, "z", "v")
        kappa = sp.Symbol("kappa", positive=True)
        density = sp.Function("p")(*z, sp.Symbol("C"))
        return sp.And(
            sp.Eq(sum(s**2 for s in z), 1),
            sp.Eq(sum(s**2 for s in v), 1),
            sp.Eq(density, sp.Function("c_d")(kappa) * sp.exp(kappa * _dot(v, z))),
        )


@dataclass
class AffineGenerator(Assumption):
    """The cluster vectors form an affine generator system of R^d.

    Reizinger et al. 2025, Assumption 3 (i), Definition 1 and Lemma 1: every vector of
    R^d is an affine combination of the cluster vectors {v_c}, equivalently the
    differences [v_c − v_0]_{c ≥ 1} have rank d (so at least d + 1 clusters). With fewer,
    a latent direction never changes the class posterior and h = f∘g need not be linear
    along it. ``tolerance`` is the σ_min/σ_max reported beside the exact rank.
    """

    tolerance: float = 1e-6
    name: ClassVar[str] = "affine-generator"
    cite: ClassVar[str] = REIZINGER + " (i), Definition 1)"
    description: ClassVar[str] = (
        "the cluster vectors affinely span R^d: rank(v_c − v_0, c ≥ 1) = d (needs |C| ≥ d + 1)"
    )

    def __post_init__(self) -> None:
        valid.finite_float("AffineGenerator", "tolerance", self.tolerance, low=0.0, high=1.0)

    def statement(self, n, m=None):
        k = sp.Symbol("k", integer=True, positive=True)
        D = sp.MatrixSymbol("D", k, n)  # rows v_c - v_0
        return sp.Eq(sp.Function("rank")(D), n)


def _dot(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


for _cls in (ClusterCentricVMF, AffineGenerator):
    register(_cls)

__all__ = ["REIZINGER", "AffineGenerator", "ClusterCentricVMF"]
