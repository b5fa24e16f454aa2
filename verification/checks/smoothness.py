"""Smooth positive density (von Kügelgen et al. 2021, Thm 4.2 (ii); Daunhawer et al. 2023,
Thm 1): p(z) is smooth, continuous and positive almost everywhere on its support.

Decided exactly: by family for sith's latents whose density is not a function on R^n
(uniform on the sphere or a box: constant on the open support; vMF clusters on the
sphere: a finite sum of exp(κ vᵀz); segments: a mixture of their base family), else
from the sympy log-density. A log-density built from smooth functions only is
``proved`` (positive wherever it is finite: p = exp(log p)); one containing |·|, sign,
Min/Max or a piecewise term is ``violated``, with a point where the kink sits (a Laplace
latent's |z_i| at z = 0: not differentiable there). A latent with no declared density is
``inconclusive``.
"""

from __future__ import annotations

import sympy as sp

import theory as th
from theory import assumptions as A
from verification.checks._core import CheckContext, register_check
from verification.checks._evidence import inconclusive, proved, violated
from verification.evidence import Evidence

KINKS = (sp.Abs, sp.sign, sp.Min, sp.Max, sp.Piecewise, sp.Heaviside)


def _kinks(latent, symbols) -> list | None:
    """The non-smooth terms of log p (empty: smooth), or None without a density."""
    logp = latent.log_density(symbols)
    if logp is None:
        return None
    found = []
    for kind in KINKS:
        found += sorted(logp.atoms(kind), key=str)
    return [[str(term), [str(a) for a in term.args]] for term in found]


@register_check(A.SmoothPositiveDensity)
def check_smooth_positive_density(
    assumption: A.SmoothPositiveDensity, ctx: CheckContext
) -> Evidence:
    name = assumption.name
    latent = ctx.process.latent
    family = type(latent)
    if family in (th.latents.UniformSphere, th.latents.Uniform):
        return proved(
            name,
            f"sith's {latent.family}: a constant, positive density on the open support",
            tolerance=None,
            method="family",
        )
    if family is th.latents.ClusterSphere:
        return proved(
            name,
            "sith's ClusterSphere: p(z) ∝ Σ_c exp(κ v_cᵀz) on the sphere, a finite sum of "
            "smooth positive functions",
            tolerance=None,
            method="family",
        )
    if family is th.latents.Segmented:
        if latent.base == "normal":
            return proved(
                name,
                "sith's Segmented with Gaussian segments: a finite mixture of Gaussian "
                "densities, smooth and positive",
                tolerance=None,
                method="family",
            )
        return violated(
            name,
            "sith's Segmented with Laplace segments: each segment's density has |z_i| in its "
            "exponent, not differentiable at z_i = 0",
            statistic=None,
            tolerance=None,
            n_points=0,
            method="family",
            witness={"z": [0.0] * latent.dim},
        )
    # a scan of the expression tree, no simplification: fast, so it runs in this process
    # (no time limit that load could trip)
    outcome = _kinks(latent, ctx.symbols)
    if outcome is None:
        return inconclusive(
            name,
            f"{latent.family} declares no density on R^n to decide smoothness from",
            tolerance=None,
            n_points=0,
            method="sympy",
        )
    if not outcome:
        return proved(
            name,
            "log p is built from smooth functions only (no |·|, sign, Min/Max or piecewise "
            "terms), so p = exp(log p) is smooth and positive where it is finite",
            tolerance=None,
            method="sympy",
        )
    term, args = outcome[0]
    index = {str(s): i for i, s in enumerate(ctx.symbols)}
    point = [0.0] * latent.dim
    vanishing = [a for a in args if a in index]
    return violated(
        name,
        f"log p contains {term}, which is not smooth (infinitely differentiable) where its "
        "argument vanishes" + (f" (e.g. z = 0, on {vanishing[0]} = 0)" if vanishing else ""),
        statistic=None,
        tolerance=None,
        n_points=0,
        method="sympy",
        witness={"term": term, "z": point} if vanishing else {"term": term},
    )


__all__ = ["check_smooth_positive_density"]
