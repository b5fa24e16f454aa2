"""Cluster-centric conditions (Reizinger et al. 2025, Theorem 2, Assumption 3).

- ClusterCentricVMF, (ii)-(iii): a uniform class over unit cluster vectors and
  z | C ~ vMF(v_C, κ) on the sphere, with the class observed. Decided by the latent's
  family: sith's own ``ClusterSphere`` is ``proved`` (it draws C uniformly and z with
  Wood's exact vMF sampler around unit cluster vectors); a subclass is ``inconclusive``
  (its law cannot be read from its class); any other latent is ``violated``, saying
  whether it has no class labels at all or labels that do not index vMF clusters on
  the sphere (e.g. ``Segmented``'s Laplace/Normal segments).
- AffineGenerator, (i): the cluster vectors affinely span R^d, i.e. the differences
  [v_c − v_0]_{c ≥ 1} have rank d; decided by the exact rank of the float matrix
  (``_rank.matrix_rank``: ``proved``/``violated``, method "rank"), the kernel vector as
  the witness (a latent direction along which no class posterior changes). With
  |C| ≤ d it is violated whatever the vectors. For a latent without cluster vectors it
  is ``not-applicable``.
"""

from __future__ import annotations

import numpy as np

import theory as th
from theory import cluster_assumptions as CA
from verification.checks._core import CheckContext, register_check
from verification.checks._evidence import (
    full_rank,
    inconclusive,
    not_applicable,
    proved,
    violated,
)
from verification.checks._rank import matrix_rank
from verification.evidence import Evidence


def _has_labels(latent: th.latents.Latent) -> bool:
    return hasattr(latent, "sample_with_labels") or isinstance(latent, th.latents.Segmented)


@register_check(CA.ClusterCentricVMF)
def check_cluster_centric_vmf(assumption: CA.ClusterCentricVMF, ctx: CheckContext) -> Evidence:
    """sith's ClusterSphere: proved by its family; anything else violated (or a
    subclass inconclusive)."""
    name = assumption.name
    latent = ctx.process.latent
    if type(latent) is th.latents.ClusterSphere:
        return proved(
            name,
            f"the latent is sith's ClusterSphere (n={latent.dim}, {latent.n_clusters} unit "
            f"cluster vectors, κ = {latent.kappa:g}): a uniform class and z | C ~ "
            "vMF(v_C, κ) by construction (Wood's exact sampler), the class observed",
            method="family",
        )
    if isinstance(latent, th.latents.ClusterSphere):
        return inconclusive(
            name,
            f"{type(latent).__qualname__} subclasses ClusterSphere: its law cannot be read "
            "from its class",
            tolerance=None,
            n_points=0,
            method="family",
        )
    if not _has_labels(latent):
        why = (
            f"the latent {latent.family} has no class labels: the theorem is about "
            "classifying observed classes of vMF clusters on the sphere"
        )
    else:
        why = (
            f"the latent {latent.family} has labels, but z given a label is not von "
            "Mises-Fisher around a unit cluster vector on the sphere"
        )
    return violated(
        name,
        why,
        statistic=None,
        tolerance=None,
        n_points=0,
        method="family",
        witness={"latent": latent.family},
    )


@register_check(CA.AffineGenerator)
def check_affine_generator(assumption: CA.AffineGenerator, ctx: CheckContext) -> Evidence:
    """rank [v_c − v_0]_{c ≥ 1} = d, decided by the exact rank of the float differences."""
    name, tol = assumption.name, assumption.tolerance
    latent = ctx.process.latent
    centres = getattr(latent, "centres", None)
    if centres is None:
        return not_applicable(
            name,
            f"{latent.family} has no cluster vectors: the affine-generator condition is "
            "about cluster-centric latents (theory.latents.ClusterSphere)",
            method="family",
        )
    v = np.asarray(centres, dtype=np.float64)
    n = v.shape[1]
    diffs = v[1:] - v[:1]
    rank = matrix_rank(diffs, ctx) if diffs.shape[0] else None
    r = 0 if rank is None else rank.rank
    how = "a single cluster: no differences" if rank is None else rank.how
    sv = np.linalg.svd(diffs, compute_uv=False) if diffs.size else np.zeros(1)
    ratio = float(sv[-1] / sv[0]) if diffs.shape[0] >= n and sv[0] > 0 else 0.0
    message = (
        f"rank(v_c − v_0, c ≥ 1) = {r}" + (" = d" if r == n else f" < d = {n}") + f" over "
        f"{v.shape[0]} cluster vectors ({how}; σ_min/σ_max = {ratio:.3g})"
    )
    if r < n and v.shape[0] <= n:
        message += f"; an affine generator system of R^{n} needs at least {n + 1} clusters"
    return full_rank(name, message, rank, n, ratio=ratio, tolerance=tol)


__all__ = ["check_affine_generator", "check_cluster_centric_vmf"]
