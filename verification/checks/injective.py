"""Injectivity: g(z) = g(z') implies z = z' on the support.

Assumed by essentially every identifiability result (e.g. Zimmermann et al. 2021). A
full-rank Jacobian is not enough: a fold like z1 -> z1² has a full-rank Jacobian almost
everywhere and is still two-to-one. So ``check_injective`` decides in three steps:

1. m < n: no map R^n -> R^m is injective (``violated``, by dimension);
2. the Jacobian rank at the sampled points: σ_min/σ_max ≈ 0 somewhere is ``violated``,
   with the null direction and a partner point along it (``_step_inside``);
3. a collision search for g(z) = g(z'), z != z': start pairs near in x and far in z
   (``_collision_candidates``, a k-d tree, memory linear in the points), descend on
   log ||g(z) - g(z')||² - log ||z - z'||², polish with Newton steps when m = n
   (``_collision_search``). The statistic is min ||g(z) - g(z')|| / (L ||z - z'||), L the
   median largest singular value of J: 0 for a collision, bounded below for a
   bi-Lipschitz map.

Only a map that survives all three ``holds``; that is evidence, never proof.
"""

from __future__ import annotations

import numpy as np
import torch

from theory import assumptions as A
from verification.checks._core import CheckContext, register_check
from verification.checks._evidence import holds, point, violated
from verification.evidence import Evidence
from verification.jacobians import jacobian

COLLISION_NEIGHBOURS = 12


@register_check(A.Injective)
def check_injective(assumption: A.Injective, ctx: CheckContext) -> Evidence:
    """Dimension, then the Jacobian rank at sampled points, then a collision search."""
    name, tol = assumption.name, 1e-6
    mixing, n, m = ctx.process.mixing, ctx.process.dim, ctx.process.mixing.n_out
    if m < n:
        return violated(
            name,
            f"g maps R^{n} to R^{m} with m < n: it cannot be injective",
            statistic=0.0,
            tolerance=tol,
            n_points=0,
            method="dimension",
        )
    z = ctx.z
    J = jacobian(mixing, z)
    sv = torch.linalg.svdvals(J)
    ratio = sv[:, -1] / sv[:, 0].clamp_min(1e-300)
    worst = int(ratio.argmin())
    if ratio[worst] < 1e-10:
        null = torch.linalg.svd(J[worst]).Vh[-1]
        partner = _step_inside(ctx.process.latent.support, z[worst], null)
        return violated(
            name,
            "the Jacobian is rank-deficient (σ_min/σ_max ≈ 0)",
            statistic=float(ratio[worst]),
            tolerance=tol,
            n_points=len(z),
            method="jacobian-rank",
            witness={
                "z": point(z[worst]),
                "null_direction": point(null),
                "z_prime": point(partner),
            },
        )
    lipschitz = float(sv[:, 0].median())
    pair, stat = _collision_search(ctx, lipschitz)
    if pair is not None and stat < tol:
        return violated(
            name,
            "found z ≠ z' with g(z) = g(z') (relative gap below tolerance)",
            statistic=stat,
            tolerance=tol,
            n_points=len(z),
            method="collision-search",
            witness=pair,
        )
    return holds(
        name,
        f"full-rank Jacobian at {len(z)} points (min σ_min/σ_max = "
        f"{float(ratio.min()):.3g}) and no collision found; evidence, not proof",
        statistic=stat,
        tolerance=tol,
        n_points=len(z),
        method="jacobian-rank+collision-search",
    )


def _step_inside(support, z: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """z + t·direction for the largest t (of a few, either sign) that stays in the support.

    Along a null direction of a linear map this is an exact collision partner of z."""
    for t in (0.1, 0.03, 0.01, 1e-3):
        for sign in (1.0, -1.0):
            candidate = z + sign * t * support.scale * direction
            if bool(support.contains(candidate[None])[0]):
                return candidate
    return z + 1e-3 * support.scale * direction


def _collision_candidates(
    z: torch.Tensor, x: torch.Tensor, min_sep: float, n_pairs: int, k: int = COLLISION_NEIGHBOURS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Start pairs (i, j) for the collision search, in memory linear in len(z).

    Candidates are the k nearest neighbours of every x_i (a k-d tree on x, not a dense
    distance matrix), deduplicated as i < j; pairs closer than 10 ``min_sep`` in z are
    ranked last. The ``n_pairs`` with the smallest ||x_i - x_j|| / ||z_i - z_j|| are
    returned: near in x-space, far apart in z-space.
    """
    from scipy.spatial import cKDTree

    size = len(z)
    k = min(k, size - 1)
    xs = x.detach().cpu().numpy()
    _, neighbours = cKDTree(xs).query(xs, k=k + 1)  # k + 1: each point finds itself
    rows = np.repeat(np.arange(size, dtype=np.int64), k + 1)
    cols = neighbours.reshape(-1).astype(np.int64)
    first, second = np.minimum(rows, cols), np.maximum(rows, cols)
    distinct = first != second
    keys = np.unique(first[distinct] * size + second[distinct])  # sorted: deterministic
    i, j = torch.from_numpy(keys // size), torch.from_numpy(keys % size)
    dx = (x[i] - x[j]).norm(dim=-1)
    dz = (z[i] - z[j]).norm(dim=-1)
    ratio = dx / dz.clamp_min(1e-300)
    ratio[dz < 10 * min_sep] = torch.inf
    order = torch.from_numpy(np.argsort(ratio.cpu().numpy(), kind="stable")[:n_pairs])
    return i[order], j[order]


def _collision_search(ctx: CheckContext, lipschitz: float, n_pairs: int = 64, steps: int = 150):
    """Search for g(z) = g(w), z != w; returns (witness, statistic).

    statistic = min ||g(z) - g(w)|| / (L ||z - w||) with L the median largest singular
    value of J: 0 for a collision, bounded below for a bi-Lipschitz map.
    """
    support = ctx.process.latent.support
    g = ctx.process.mixing
    z, x = ctx.z, ctx.x
    min_sep = 1e-3 * support.scale
    i, j = _collision_candidates(z, x, min_sep, n_pairs)
    a, b = z[i].clone().requires_grad_(True), z[j].clone().requires_grad_(True)
    opt = torch.optim.Adam([a, b], lr=0.01 * support.scale)
    for _ in range(steps):
        opt.zero_grad()
        gap = ((g(a) - g(b)) ** 2).sum(-1)
        sep = ((a - b) ** 2).sum(-1)
        loss = (torch.log(gap + 1e-300) - torch.log(sep + 1e-300)).sum()
        loss.backward()
        opt.step()
        with torch.no_grad():
            a.copy_(support.project(a))
            b.copy_(support.project(b))
    a, b = a.detach(), b.detach()
    if g.n_out == g.n_in:  # Newton polish: solve g(b) = g(a) for b
        for _ in range(8):
            Jb = jacobian(g, b)
            try:
                delta = torch.linalg.solve(Jb, (g(b) - g(a)).unsqueeze(-1)).squeeze(-1)
            except RuntimeError:
                break
            candidate = support.project(b - delta)
            better = (g(candidate) - g(a)).norm(dim=-1) < (g(b) - g(a)).norm(dim=-1)
            b = torch.where(better.unsqueeze(-1), candidate, b)
    sep = (a - b).norm(dim=-1)
    stats = (g(a) - g(b)).norm(dim=-1) / (lipschitz * sep).clamp_min(1e-300)
    stats[sep < min_sep] = torch.inf
    k = int(torch.nan_to_num(stats, nan=torch.inf).argmin())
    if not torch.isfinite(stats[k]):
        return None, float("inf")
    return {"z": point(a[k]), "z_prime": point(b[k])}, float(stats[k])
