"""Conditional conditions: statements about how the second view (or the auxiliary
variable) relates to the latent.

- ConditionalFamily (Zimmermann et al. 2021, Theorem 2, vMF conditional): p(z'|z)
  belongs to the named family; decided by the conditional's declared family.
- ContentInvariance (von Kügelgen et al. 2021, content/style): the content block
  z_{1..k} is unchanged in every positive pair and every style coordinate changes in
  some pair; decided on positive pairs drawn at the sampled points.
- SufficientVariability (Hyvärinen & Morioka 2016, Theorem 1, TCL; Khemakhem et al.
  2020, Theorem 1, iVAE): with natural parameters η(u) per segment u, the matrix
  L = [η(u) − η(u₀)]_{u ≠ u₀} has full column rank n; measured by σ_min/σ_max of L,
  which must exceed the tolerance.
"""

from __future__ import annotations

import numpy as np
import torch

from theory import assumptions as A
from verification.checks._core import CheckContext, register_check
from verification.checks._evidence import decided, holds, point, settled, violated
from verification.evidence import Evidence


@register_check(A.ConditionalFamily)
def check_conditional_family(assumption: A.ConditionalFamily, ctx: CheckContext) -> Evidence:
    """The conditional's declared family is the required one."""
    cond = ctx.process.conditional
    family = None if cond is None else cond.family
    return settled(
        family == assumption.family,
        f"{assumption.name}",
        f"the conditional is {family}, required: {assumption.family}",
        exact=True,
        method="family",
    )


@register_check(A.ContentInvariance)
def check_content_invariance(assumption: A.ContentInvariance, ctx: CheckContext) -> Evidence:
    """Content unchanged and every style coordinate changed, over sampled positive pairs."""
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
    content = assumption.content
    if content is None:
        content = getattr(cond, "content", None)
    z = ctx.z
    z_pos = cond.sample(z, ctx.seed, support=ctx.process.latent.support)
    changed = (z_pos - z).abs() > 1e-12
    n = ctx.process.dim
    if content is None:
        invariant = int((~changed.any(0)).sum())
        return settled(
            invariant != 0,
            name,
            f"no content block declared; {invariant} coordinate(s) never changed",
            exact=False,
            method="sampled",
            statistic=float(invariant),
            tolerance=None,
            n_points=len(z),
        )
    content_change = float((z_pos - z)[:, :content].abs().max()) if content else 0.0
    style_rate = changed[:, content:].double().mean(0) if content < n else torch.ones(1)
    if content_change > 1e-12:
        i = int((z_pos - z)[:, :content].abs().amax(1).argmax())
        return violated(
            name,
            f"the content block (first {content} coordinates) changes",
            statistic=content_change,
            tolerance=0.0,
            n_points=len(z),
            method="sampled",
            witness={"z": point(z[i]), "z_prime": point(z_pos[i])},
        )
    if float(style_rate.min()) == 0.0:
        return violated(
            name,
            "some style coordinate never changes: it is indistinguishable from content",
            statistic=0.0,
            tolerance=0.0,
            n_points=len(z),
            method="sampled",
        )
    return holds(
        name,
        f"content unchanged at {len(z)} pairs; each style coordinate changed in "
        f"≥ {float(style_rate.min()):.0%} of them",
        statistic=content_change,
        tolerance=0.0,
        n_points=len(z),
        method="sampled",
    )


@register_check(A.SufficientVariability)
def check_sufficient_variability(
    assumption: A.SufficientVariability, ctx: CheckContext
) -> Evidence:
    """Full column rank of [η(u) − η(u₀)]: σ_min/σ_max above the tolerance."""
    name, tol = assumption.name, assumption.tolerance
    latent = ctx.process.latent
    if not hasattr(latent, "natural_parameters"):
        return violated(
            name,
            f"{latent.family} has no auxiliary variable modulating it",
            statistic=0.0,
            tolerance=tol,
            n_points=0,
            method="family",
        )
    eta = latent.natural_parameters()
    diffs = eta[1:] - eta[:1]
    n = latent.dim
    if diffs.shape[0] < n:
        return violated(
            name,
            f"{eta.shape[0]} segments give at most rank {diffs.shape[0]} < n = {n}",
            statistic=0.0,
            tolerance=tol,
            n_points=0,
            method="rank",
        )
    sv = np.linalg.svd(diffs, compute_uv=False)
    stat = float(sv[-1] / sv[0]) if sv[0] > 0 else 0.0
    message = f"σ_min/σ_max of [η(u) − η(u₀)] is {stat:.3g} (rank condition, n = {n})"
    return decided(
        name,
        stat,
        tol,
        eta.shape[0],
        method="rank",
        when_violated=message,
        when_holds=message,
        lower_bound=True,
    )
