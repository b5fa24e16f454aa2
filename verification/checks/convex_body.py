"""The convex-body setting of Zimmermann et al. 2021 (Sec. 4) and conditionals restricted
to the latent's support.

- UniformOnConvexBody: p(z) = 1/vol(M) on a convex body M (compact, convex, nonempty
  interior). sith's supports that are convex bodies are boxes (products of bounded
  intervals): a sphere (empty interior), R^n or a product with an unbounded or spherical
  block decide ``violated``; a sampled point outside the declared box too. On a box,
  sith's ``Uniform`` (or a ``Product`` of them) is ``proved`` by its family; any other
  latent gets an energy-distance two-sample test (Székely & Rizzo 2004; permutation
  p-value, ``density.energy_test``) against uniform draws on the same box.
- The ``conditional-family`` decision for the conditionals drawn from their law
  restricted to the support (``GeneralizedNormal``, ``AnisotropicNormal``; see
  ``theory._truncated``): on a product of intervals (and, for the anisotropic one, on
  the unit sphere with every sampled anchor of norm 1) the sampler draws that law
  exactly, ``proved`` (method "family"); on any other support the noise is projected
  back, atoms on the boundary, ``violated`` with a witness.
"""

from __future__ import annotations

import numpy as np
import torch

import theory as th
from theory import _truncated
from theory import assumptions as A
from theory import supports as S
from verification.checks._core import CheckContext, register_check
from verification.checks._evidence import inconclusive, moved_witness, point, proved, violated
from verification.checks.density import SPHERE_SAMPLES, uniform_test
from verification.evidence import Evidence

SPHERE_ATOL = 1e-9  # |‖z‖ - 1| of an anchor on the unit sphere


def _is_uniform_box(latent: th.latents.Latent) -> bool:
    if type(latent) is th.latents.Uniform:
        return True
    return type(latent) is th.latents.Product and all(map(_is_uniform_box, latent.blocks))


@register_check(A.UniformOnConvexBody)
def check_uniform_on_convex_body(assumption: A.UniformOnConvexBody, ctx: CheckContext) -> Evidence:
    """A bounded box support, then uniform on it: by sith's family, else a sample test."""
    name = assumption.name
    latent = ctx.process.latent
    support = latent.support
    bounds = _truncated.intervals(support)
    if bounds is None:
        if _has_sphere(support):
            why = "a sphere has an empty interior in R^n: not a convex body"
            return violated(name, f"the latent {latent.family} lives on {why}", **_none())
        return inconclusive(
            name,
            f"the support {type(support).__name__} is not one sith can decide to be a convex "
            "body (it decides boxes: products of bounded intervals)",
            tolerance=None,
            n_points=0,
            method="family",
        )
    low, high = bounds
    unbounded = np.flatnonzero(~(np.isfinite(low) & np.isfinite(high)))
    if unbounded.size:
        return violated(
            name,
            f"the support of {latent.family} is unbounded in coordinate z{unbounded[0] + 1}: "
            "not a convex body, and it carries no uniform distribution",
            **_none(),
            witness={"coordinate": int(unbounded[0])},
        )
    z = ctx.z
    lo, hi = torch.as_tensor(low), torch.as_tensor(high)
    outside = ((z < lo) | (z > hi)).any(dim=1)
    if bool(outside.any()):
        k = int(outside.nonzero()[0, 0])
        return violated(
            name,
            f"a sampled point of {latent.family} lies outside its declared box support",
            statistic=None,
            tolerance=None,
            n_points=len(z),
            method="sampled",
            witness={"z": point(z[k])},
        )
    box = ", ".join(f"[{a:g}, {b:g}]" for a, b in zip(low, high, strict=True))
    if _is_uniform_box(latent):
        return proved(
            name,
            f"the latent is sith's {latent.family} on the box {box} (independent uniform "
            "coordinates: uniform on the box, a convex body)",
            tolerance=None,
            method="family",
        )
    reference = torch.from_numpy(
        np.random.default_rng([ctx.seed, 6]).uniform(low, high, size=(SPHERE_SAMPLES, len(low)))
    )
    return uniform_test(name, latent.family, ctx, reference, f"the box {box}")


def _has_sphere(support: S.Support) -> bool:
    if isinstance(support, S.Sphere):
        return True
    return isinstance(support, S.ProductSupport) and any(map(_has_sphere, support.blocks))


def _none() -> dict:
    return {"statistic": None, "tolerance": None, "n_points": 0, "method": "family"}


def restricted_family(name: str, cond, ctx: CheckContext) -> Evidence:
    """``conditional-family`` for sith's conditionals drawn restricted to the support."""
    latent = ctx.process.latent
    support = latent.support
    z = ctx.z
    if isinstance(cond, th.conditionals.AnisotropicNormal) and isinstance(support, S.Sphere):
        off = (z.norm(dim=-1) - 1).abs()
        k = int(off.argmax())
        if float(off[k]) > SPHERE_ATOL:
            return violated(
                name,
                f"the anisotropic law on the sphere is drawn around z/|z|, but a sampled "
                f"anchor of {latent.family} has norm {float(z[k].norm()):.6g}",
                statistic=float(off[k]),
                tolerance=SPHERE_ATOL,
                n_points=len(z),
                method="family",
                witness={"z": point(z[k])},
            )
        return proved(
            name,
            f"sith's {cond!r} on the unit sphere (all {len(z)} sampled anchors of norm 1 "
            f"within {SPHERE_ATOL:g}): p(z'|z) ∝ exp(−½ (z' − z)ᵀΛ(z' − z)) on the sphere, "
            "drawn exactly (rejection from a von Mises–Fisher envelope)",
            tolerance=None,
            method="family",
        )
    if _truncated.intervals(support) is not None:
        return proved(
            name,
            f"sith's {cond!r} draws its law restricted to the {type(support).__name__} "
            "support exactly (each coordinate by its inverse CDF; nothing is projected): "
            f"p(z'|z) is the {cond.family} family on the support by construction",
            tolerance=None,
            method="family",
        )
    raw = torch.from_numpy(cond._draw(z.numpy(), np.random.default_rng([ctx.seed, 12])))
    moved = (support.project(raw) - raw).abs().amax(dim=-1) > 0
    witness = moved_witness(z, raw, moved, support.project)
    return violated(
        name,
        f"{cond.family} can be restricted exactly only to a product of intervals (and the "
        f"anisotropic law to the unit sphere); on the {type(support).__name__} support its "
        "draws are projected back, so p(z'|z) has atoms and is not the family",
        statistic=float(moved.double().mean()),
        tolerance=0.0,
        n_points=len(z),
        method="family",
        witness=witness,
    )


__all__ = ["check_uniform_on_convex_body", "restricted_family"]
