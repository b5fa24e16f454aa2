"""Conditional conditions: statements about how the second view (or the auxiliary
variable) relates to the latent.

- ConditionalFamily (Zimmermann et al. 2021, Theorem 2, vMF conditional): p(z'|z)
  belongs to the named family. ``proved`` (method "family") only for sith's own class
  of that family on a latent it is coherent with: the von Mises–Fisher conditional
  p(z'|z) ∝ exp(κ zᵀz') needs z on the unit sphere (declared support *and* every sampled
  anchor of norm 1; around an anchor off the sphere the sampler draws around z/|z|, a
  different law, and positives of norm 1 next to anchors that are not); additive noise
  (Normal, Laplace, ContentStyle) keeps its family only on an unbounded support (else
  positives leaving the support are projected back: atoms on the boundary). Those
  incoherent combinations are ``violated`` with a witness; a user's class that merely
  shares the family's name is ``inconclusive`` (its law cannot be read from a name).
  ``GeneralizedNormal`` and ``AnisotropicNormal`` draw their law restricted to the
  support (no projection): decided by ``convex_body.restricted_family``.
- ContentInvariance (von Kügelgen et al. 2021, Assumptions 3.1 and 3.2, Theorem 4.2 (iii)):
  the content block z_{1..k} is unchanged in every positive pair, every style
  coordinate changes in some pair, and the style change is random: Thm 4.4 needs
  p(s̃ | s) > 0 on an open set around s, a density, which a deterministic shift has
  not. Checked on ``DRAWS`` independent positives of each of the first ``ANCHORS``
  sampled anchors: content equal in all of them; in every style coordinate, the changed
  draws of one anchor differ from each other (positive spread) for some anchor, and no
  two changed draws coincide away from the support's boundary (no atom).
- SufficientVariability (Hyvärinen & Morioka 2016, Theorem 1, TCL; Khemakhem et al.
  2020, Theorem 1, iVAE): with natural parameters η(u) per segment u, the matrix
  L = [η(u) − η(u₀)]_{u ≠ u₀} has full column rank nk (k sufficient statistics per
  source: k = 1 for TCL's |z| or z², k = 2 for Gaussian sources whose means and
  variances both change, t = (z, z²)), decided by its exact rank
  (``_rank.matrix_rank``: ``proved``/``violated``, method "rank", the kernel vector as
  the witness: a latent direction no segment modulates). For a latent without an
  auxiliary variable it is ``not-applicable``.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import torch

import theory as th
from theory import assumptions as A
from theory import concentration_assumptions as KA
from theory import supports as S
from verification.checks._core import CheckContext, register_check
from verification.checks._evidence import (
    full_rank,
    holds,
    inconclusive,
    moved_witness,
    not_applicable,
    point,
    proved,
    settled,
    violated,
)
from verification.checks._rank import matrix_rank
from verification.checks.convex_body import restricted_family
from verification.evidence import Evidence

ANCHORS = 128
DRAWS = 6
SPHERE_ATOL = 1e-9  # |‖z‖ - 1| of an anchor on the unit sphere


# --- conditional family ---------------------------------------------------------------


def _unbounded(support: S.Support) -> bool:
    if isinstance(support, S.RealSpace):
        return True
    if isinstance(support, S.ProductSupport):
        return all(_unbounded(b) for b in support.blocks)
    return False


@register_check(A.ConditionalFamily)
def check_conditional_family(assumption: A.ConditionalFamily, ctx: CheckContext) -> Evidence:
    """sith's class of the named family, coherent with the latent: by family, with checks.

    Families are decided by their mathematics, not their class: a conditional whose law
    the named class also writes (Laplace(b) = GeneralizedNormal(β = 1, scale = b),
    Normal(σ) = GeneralizedNormal(β = 2, scale = σ√2), both directions:
    ``th.conditionals.equivalent``) is decided as that law, by how its own class draws it.
    """
    evidence = _conditional_family(assumption, ctx)
    cond, wanted = ctx.process.conditional, assumption.family
    if cond is not None and cond.family != wanted and evidence.method == "family":
        same = _equivalent(cond, wanted, ctx)
        if same is not None:
            note = f"{cond!r} is {same!r} (the same law)"
            evidence = dataclasses.replace(evidence, message=f"{note}; {evidence.message}")
    return evidence


@register_check(KA.DistinctConcentrations)
def check_distinct_concentrations(
    assumption: KA.DistinctConcentrations, ctx: CheckContext
) -> Evidence:
    """Decided exactly from the conditional's parameters (method "family")."""
    name, cond = assumption.name, ctx.process.conditional
    if isinstance(cond, th.conditionals.VonMisesFisher) and ctx.process.dim > 1:
        return violated(
            name,
            f"VonMisesFisher(kappa={cond.kappa:g}) is AnisotropicNormal with Λ = κI: every "
            "concentration is the same, so a rotation is left",
            statistic=0.0,
            tolerance=None,
            n_points=0,
            method="family",
            witness={"concentrations": [float(cond.kappa)] * ctx.process.dim},
        )
    if not isinstance(cond, th.conditionals.AnisotropicNormal):
        return violated(
            name,
            f"the conditional ({type(cond).__name__}) has no per-latent concentrations",
            statistic=None,
            tolerance=None,
            n_points=0,
            method="family",
        )
    values = sorted(cond.concentrations)
    gap = min((b - a for a, b in itertools.pairwise(values)), default=float("inf"))
    if gap > 0:
        return proved(
            name,
            f"the concentrations {list(cond.concentrations)} are pairwise distinct",
            tolerance=None,
            method="family",
        )
    return violated(
        name,
        f"the concentrations {list(cond.concentrations)} repeat a value: the latents "
        "sharing it keep a rotation",
        statistic=0.0,
        tolerance=None,
        n_points=0,
        method="family",
        witness={"concentrations": list(cond.concentrations)},
    )


def _equivalent(cond, wanted: str, ctx: CheckContext):
    """``th.conditionals.equivalent`` told whether the latent lives on the unit sphere
    (vMF(κ) ≡ AnisotropicNormal(κ, …, κ) there only)."""
    on_sphere = isinstance(ctx.process.latent.support, S.Sphere)
    return th.conditionals.equivalent(cond, wanted, on_sphere=on_sphere, dim=ctx.process.dim)


def _conditional_family(assumption: A.ConditionalFamily, ctx: CheckContext) -> Evidence:
    name, wanted = assumption.name, assumption.family
    cond = ctx.process.conditional
    latent = ctx.process.latent
    family = None if cond is None else cond.family
    sith_class = cond is not None and type(cond) is getattr(th.conditionals, family, None)
    if family != wanted and not (sith_class and _equivalent(cond, wanted, ctx)):
        return violated(
            name,
            f"the conditional is {family}, required: {wanted}",
            statistic=None,
            tolerance=None,
            n_points=0,
            method="family",
        )
    if not sith_class:
        return inconclusive(
            name,
            f"{type(cond).__module__}.{type(cond).__qualname__} is named {wanted} but is not "
            f"sith's th.conditionals.{wanted}: its law cannot be read from its name",
            tolerance=None,
            n_points=0,
            method="family",
        )
    if isinstance(cond, th.conditionals.VonMisesFisher):
        return _vmf_coherent(name, cond, ctx)
    if isinstance(cond, (th.conditionals.GeneralizedNormal, th.conditionals.AnisotropicNormal)):
        return restricted_family(name, cond, ctx)  # drawn restricted to the support
    if isinstance(cond, th.conditionals.ContentStyle) and cond.p == 0:
        return proved(
            name,
            "ContentStyle with p = 0 never changes z: it is its family on any support",
            tolerance=None,
            method="family",
        )
    if _unbounded(latent.support):
        return proved(
            name,
            f"sith's {cond!r} adds noise to z on an unbounded support (nothing projected): "
            f"p(z'|z) is the {wanted} family by construction",
            tolerance=None,
            method="family",
        )
    z = ctx.z
    raw = cond.sample(z, ctx.seed)  # unprojected, same draw as the process's positives
    outside = ~latent.support.contains(raw)
    witness = moved_witness(z, raw, outside, latent.support.project)
    return violated(
        name,
        f"{wanted} noise has unbounded support, so positives around z in the bounded "
        f"{type(latent.support).__name__} support leave it with positive probability and "
        f"are projected back: p(z'|z) has atoms on the boundary and is not {wanted}"
        + (f" ({int(outside.sum())} of {len(z)} sampled positives were)" if witness else ""),
        statistic=float(outside.double().mean()),
        tolerance=0.0,
        n_points=len(z),
        method="family",
        witness=witness,
    )


def _vmf_coherent(name: str, cond, ctx: CheckContext) -> Evidence:
    latent = ctx.process.latent
    z = ctx.z
    off = (z.norm(dim=-1) - 1).abs()
    k = int(off.argmax())
    on_sphere = isinstance(latent.support, S.Sphere) and float(off[k]) <= SPHERE_ATOL
    if not on_sphere:
        positive = cond.sample(z[k : k + 1], ctx.seed)[0]
        return violated(
            name,
            f"p(z'|z) ∝ exp(κ zᵀz') is a law on the unit sphere around z on the sphere, but "
            f"the latent {latent.family} has support {type(latent.support).__name__} and a "
            f"sampled anchor of norm {float(z[k].norm()):.6g}: the sampler draws around "
            f"z/|z| instead (positives of norm {float(positive.norm()):.6g})",
            statistic=float(off[k]),
            tolerance=SPHERE_ATOL,
            n_points=len(z),
            method="family",
            witness={"z": point(z[k]), "z_prime": point(positive)},
        )
    return proved(
        name,
        f"sith's VonMisesFisher(kappa={cond.kappa:g}) (Wood's exact sampler) around a latent "
        f"on the unit sphere (declared support, and all {len(z)} sampled anchors have norm "
        f"1 within {SPHERE_ATOL:g}): p(z'|z) ∝ exp(κ zᵀz') by construction",
        tolerance=None,
        method="family",
    )


# --- content invariance ---------------------------------------------------------------


def _at_boundary(support: S.Support, z: torch.Tensor, coord: int) -> torch.Tensor:
    """Rows of z on the support's boundary in coordinate ``coord`` (a step out moves)."""
    scale = 1e-6 * support.scale
    out = []
    for sign in (1.0, -1.0):
        moved = z.clone()
        moved[:, coord] += sign * scale
        out.append((support.project(moved) - moved).abs().amax(-1) > 1e-3 * scale)
    return out[0] | out[1]


@register_check(A.ContentInvariance)
def check_content_invariance(assumption: A.ContentInvariance, ctx: CheckContext) -> Evidence:
    """Content unchanged; every style coordinate changes, randomly (a density, Thm 4.4)."""
    name = assumption.name
    cond = ctx.process.conditional
    if cond is None:
        return violated(
            name,
            "the process has no conditional (no augmentation)",
            statistic=None,
            tolerance=0.0,
            n_points=0,
            method="conditional",
        )
    support = ctx.process.latent.support
    content = assumption.content
    if content is None:
        content = getattr(cond, "content", None)
    n = ctx.process.dim
    anchors = ctx.z[:ANCHORS]
    repeated = anchors.repeat_interleave(DRAWS, dim=0)
    # the process's positives (with the latent effect of any pixel augmentation)
    drawn = ctx.process.positive_latents(repeated, np.random.default_rng([ctx.seed, 11]))
    z_pos = drawn.reshape(len(anchors), DRAWS, n)
    delta = z_pos - anchors[:, None, :]
    changed = delta.abs() > 1e-12
    pairs = len(repeated)
    if content is None:
        invariant = int((~changed.reshape(-1, n).any(0)).sum())
        return settled(
            invariant != 0,
            name,
            f"no content block declared; {invariant} coordinate(s) never changed in "
            f"{pairs} positive pairs",
            exact=False,
            method="sampled",
            statistic=float(invariant),
            tolerance=None,
            n_points=pairs,
        )
    content = int(content)
    if content:
        size = delta[..., :content].abs().amax(-1)  # (anchors, draws)
        if float(size.max()) > 1e-12:
            a, d = np.unravel_index(int(size.argmax()), tuple(size.shape))
            return violated(
                name,
                f"the content block (first {content} coordinates) changes",
                statistic=float(size.max()),
                tolerance=0.0,
                n_points=pairs,
                method="sampled",
                witness={"z": point(anchors[a]), "z_prime": point(z_pos[a, d])},
            )
    if content >= n:
        return violated(
            name,
            f"every coordinate is content (content = {content} = n): no style changes",
            statistic=0.0,
            tolerance=0.0,
            n_points=pairs,
            method="sampled",
        )
    rates = []
    for s in range(content, n):
        verdict = _style_is_random(name, s, anchors, z_pos, changed, support, pairs)
        if isinstance(verdict, Evidence):
            return verdict
        rates.append(verdict)
    return holds(
        name,
        f"content unchanged in {pairs} positive pairs ({len(anchors)} anchors x {DRAWS} "
        f"draws); each style coordinate changed in ≥ {min(rates):.0%} of them, with "
        "distinct values across draws of the same anchor (a random, atomless change); "
        "a sample check, not proof",
        statistic=0.0,
        tolerance=0.0,
        n_points=pairs,
        method="sampled",
    )


def _style_is_random(name, s, anchors, z_pos, changed, support, pairs):
    """The change rate of style coordinate ``s``, or the Evidence of its violation."""
    moved = changed[..., s]  # (anchors, draws)
    if not bool(moved.any()):
        return violated(
            name,
            f"style coordinate z{s + 1} never changes: it is indistinguishable from content",
            statistic=0.0,
            tolerance=0.0,
            n_points=pairs,
            method="sampled",
            witness={"coordinate": s},
        )
    values = z_pos[..., s]
    # pairs of draws of one anchor that both changed coordinate s
    a, b = torch.triu_indices(values.shape[1], values.shape[1], offset=1)
    both = moved[:, a] & moved[:, b]
    if not bool(both.any()):
        return inconclusive(
            name,
            f"style coordinate z{s + 1} changed in {int(moved.sum())} of {pairs} pairs, never "
            f"twice for one anchor in {values.shape[1]} draws: too rare to tell a random "
            "change from a deterministic one",
            tolerance=0.0,
            n_points=pairs,
            method="sampled",
        )
    equal = (values[:, a] - values[:, b]).abs() <= 1e-12 * max(1.0, support.scale)
    ties = both & equal
    if bool(ties.any()):
        flat = z_pos.reshape(-1, z_pos.shape[-1])
        edge = _at_boundary(support, flat, s).reshape(values.shape)
        ties = ties & ~edge[:, a]  # a clamp onto the boundary is an atom of the support
    if bool((both & ~equal).any()) and not bool(ties.any()):
        return float(moved.double().mean())
    bad = ties if bool(ties.any()) else both
    anchor, k = (int(v) for v in bad.nonzero()[0])
    return violated(
        name,
        f"the change of style coordinate z{s + 1} is not random: two draws for the same "
        "anchor give the same value (a deterministic or atomic change has no density "
        "around s, von Kügelgen et al. 2021, Thm 4.4)",
        statistic=0.0,
        tolerance=0.0,
        n_points=pairs,
        method="sampled",
        witness={
            "z": point(anchors[anchor]),
            "z_prime": point(z_pos[anchor, int(a[k])]),
            "z_prime_again": point(z_pos[anchor, int(b[k])]),
            "coordinate": s,
        },
    )


# --- sufficient variability -----------------------------------------------------------


@register_check(A.SufficientVariability)
def check_sufficient_variability(
    assumption: A.SufficientVariability, ctx: CheckContext
) -> Evidence:
    """Full column rank of [η(u) − η(u₀)], decided by its exact rank."""
    name, tol = assumption.name, assumption.tolerance
    latent = ctx.process.latent
    if not hasattr(latent, "natural_parameters"):
        return not_applicable(
            name,
            f"{latent.family} has no auxiliary variable (segments) modulating it: sufficient "
            "variability is about conditionally exponential-family latents (TCL, iVAE)",
            method="family",
        )
    eta = np.asarray(latent.natural_parameters(), dtype=np.float64)
    eta = eta.reshape(len(eta), -1)  # one row per segment
    diffs = eta[1:] - eta[:1]
    n = eta.shape[1]  # n k: k sufficient statistics per source (iVAE Thm 1: L is nk x nk)
    sv = np.linalg.svd(diffs, compute_uv=False) if diffs.size else np.zeros(1)
    ratio = float(sv[-1] / sv[0]) if diffs.shape[0] >= n and sv[0] > 0 else 0.0
    rank = matrix_rank(diffs, ctx) if diffs.shape[0] else None
    r = 0 if rank is None else rank.rank
    how = "no segment differences" if rank is None else rank.how
    message = (
        f"rank [η(u) − η(u₀)] = {r}"
        + (" = nk" if r == n else f" < nk = {n}")
        + f" (k = {n // latent.dim} statistic(s) per source) over "
        f"{eta.shape[0]} segments ({how}; σ_min/σ_max = {ratio:.3g})"
    )
    return full_rank(name, message, rank, n, ratio=ratio, tolerance=tol)
