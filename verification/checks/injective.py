"""Injectivity and immersion: the global and the local halves of invertibility.

Injective (assumed by essentially every identifiability result, e.g. Zimmermann et al.
2021, Thm 2): g(z) = g(z') implies z = z' on the support. A rank-deficient Jacobian does
*not* contradict it ((z1³, z2) is a homeomorphism, singular on z1 = 0), and a full-rank
Jacobian does not imply it (a fold z1 -> z1² away from its crease). So
``check_injective`` says ``violated`` only with a *verified collision*, or by a theorem:

1. a linear map x = A z is injective exactly when rank A = n: decided by the exact rank
   (``_rank.matrix_rank``: ``proved``/``violated``, method "rank"), the violation with a
   pair z, z' = z + t v, v in ker A, inside the support;
2. m < d, d the dimension of the support as a manifold (n, or n - 1 on the sphere): no
   continuous map from a d-manifold into R^m is injective (invariance of domain, Brouwer
   1912), ``violated`` by dimension;
3. a collision search for g(z) = g(z'), z != z': start pairs near in x and far in z
   (``_collision_candidates``, a k-d tree, memory linear in the points), descend on
   log ||g(z) - g(z')||² - log ||z - z'||² with a barrier keeping the pair apart, polish
   with Gauss–Newton steps (``_collision_search``). A pair is a verified collision when
   both points lie in the support, ||z - z'|| >= ``COLLISION_SEPARATION`` x the support's
   scale, and ||g(z) - g(z')|| <= ``COLLISION_GAP`` x both the spread of g (median
   ||g(z) - median g||) and L ||z - z'|| (L the median largest singular value of J).
   The separation keeps flat-but-injective maps out: (z1⁵, z2) brings z1 = ±ε within
   2ε⁵ of each other, far above the gap at the minimal separation; and g(z), g(z')
   must agree to float64 precision of their own values in every output coordinate
   (``FLOAT_AGREEMENT``), which no flat-but-injective map achieves at any scale.

Only a map that survives the search ``holds``: evidence, never proof.

Immersion (Lee, 'Introduction to Smooth Manifolds', Ch. 4): J(z) has full column rank n
at every z in the support. ``check_immersion`` decides linear maps by the exact rank,
m < n by dimension, and otherwise measures σ_min/σ_max of J at the sampled points, then
minimises it adversarially (normalised gradient steps on log σ_min/σ_max with
backtracking, inside the support); ``violated`` with the witness point (and null
direction) where it drops below the tolerance.
"""

from __future__ import annotations

import numpy as np
import torch

import theory as th
from theory import assumptions as A
from theory import supports as S
from verification.checks._core import CheckContext, register_check
from verification.checks._evidence import holds, point, settled, violated
from verification.checks._rank import matrix_rank
from verification.evidence import Evidence
from verification.jacobians import jacobian
from verification.learners import optimizers

COLLISION_NEIGHBOURS = 12
COLLISION_GAP = 1e-9  # a verified collision: gap / spread of g and gap / (L sep) below this
COLLISION_SEPARATION = 0.05  # ... with ||z - z'|| at least this fraction of the support scale
FLOAT_AGREEMENT = 1e4  # ... and g(z), g(z') equal to 1e4 ε of their own size in every output
ADVERSARIAL_STARTS = 16  # immersion: the worst sampled points, and as many fresh ones


def _exact_linear(mixing: th.mixings.Mixing) -> np.ndarray | None:
    """The matrix of a sith ``Linear`` mixing (its forward is exactly z ↦ A z), else None."""
    if type(mixing) is th.mixings.Linear:
        return np.asarray(mixing.matrix, dtype=np.float64)
    return None


def _manifold_dim(support: S.Support) -> int | None:
    """The dimension of the support as a manifold, where sith knows it."""
    if isinstance(support, S.Sphere):
        return support.dim - 1
    if isinstance(support, (S.RealSpace, S.Box)):
        return support.dim
    if isinstance(support, S.ProductSupport):
        dims = [_manifold_dim(b) for b in support.blocks]
        return None if any(d is None for d in dims) else sum(dims)
    return None


def _condition(a: np.ndarray) -> float:
    sv = np.linalg.svd(a, compute_uv=False)
    return float(sv[-1] / sv[0]) if sv.size and sv[0] > 0 else 0.0


# --- injective ------------------------------------------------------------------------


@register_check(A.Injective)
def check_injective(assumption: A.Injective, ctx: CheckContext) -> Evidence:
    """Exact rank for linear maps, dimension, then a verified-collision search."""
    name, tol = assumption.name, COLLISION_GAP
    mixing, n, m = ctx.process.mixing, ctx.process.dim, ctx.process.mixing.n_out
    support = ctx.process.latent.support
    matrix = _exact_linear(mixing)
    if matrix is not None:
        rank = matrix_rank(matrix, ctx)
        ratio = _condition(matrix) if m >= n else 0.0
        if rank.rank == n:
            return settled(
                True,
                name,
                f"rank A = n = {n}, so A z = A z' forces z = z' ({rank.how}; "
                f"σ_min/σ_max = {ratio:.3g})",
                exact=rank.exact,
                method="rank",
                statistic=ratio,
                n_points=0,
            )
        pair = _kernel_pair(ctx, rank.kernel) if rank.kernel is not None else None
        if pair is not None:
            return violated(
                name,
                f"rank A = {rank.rank} < n = {n} ({rank.how}): z and z' differ by a kernel "
                "vector of A, so A z = A z'",
                statistic=float(rank.rank),
                tolerance=float(n),
                n_points=0,
                method="rank",
                witness=pair,
            )
        # no verified pair inside this support: the collision search decides below
    d = _manifold_dim(support)
    lipschitz, spread = _scales(ctx)
    n_points = len(ctx.z)
    symmetric = _symmetry_witness(ctx, lipschitz, spread)
    if symmetric is not None and not (d is not None and m < d):
        witness, stat = symmetric
        why = (
            f"verified collision from a symmetry of g: {witness['symmetry']} (z ≠ z' in the "
            f"support, ||g(z) - g(z')|| ≤ {tol:g} relative to both ||z - z'|| and the spread "
            "of g)"
        )
        return violated(
            name,
            why,
            statistic=stat,
            tolerance=tol,
            n_points=n_points,
            method="symmetry",
            witness=witness,
        )
    witness, stat = _collision_search(ctx, lipschitz, spread)
    if d is not None and m < d:
        why = (
            f"g maps the {d}-dimensional support into R^{m} with m < {d}: no continuous "
            "map does so injectively (invariance of domain)"
            + ("; a verified collision is attached" if witness else "")
        )
        method = "dimension"
    elif witness is not None:
        why = (
            "verified collision: z ≠ z' in the support, ||z - z'|| ≥ "
            f"{COLLISION_SEPARATION:g}·scale, with ||g(z) - g(z')|| ≤ {tol:g} relative to "
            "both ||z - z'|| and the spread of g"
        )
        method = "collision-search"
    else:
        why = (
            f"no verified collision from {n_points} sampled points (smallest relative gap "
            f"||g(z) - g(z')|| / (L ||z - z'||) = {stat:.3g} at separation ≥ "
            f"{COLLISION_SEPARATION:g}·scale); evidence, not proof. A rank-deficient Jacobian "
            "is the separate assumption 'immersion'"
        )
        return holds(
            name, why, statistic=stat, tolerance=tol, n_points=n_points, method="collision-search"
        )
    return violated(
        name, why, statistic=stat, tolerance=tol, n_points=n_points, method=method, witness=witness
    )


def _scales(ctx: CheckContext) -> tuple[float, float]:
    """(L, spread): the median largest singular value of J and median ||x - median x||."""
    sv = singular_values(ctx)
    lipschitz = float(sv[:, 0].median())
    x = ctx.x
    spread = float((x - x.median(0).values).norm(dim=-1).median())
    return max(lipschitz, 1e-300), max(spread, 1e-300)


def _verified(ctx: CheckContext, a, b, lipschitz: float, spread: float):
    """(mask of verified collisions, relative gaps) for pairs (a, b).

    Verified: both in the support, ||a - b|| >= COLLISION_SEPARATION x scale, the gap
    below COLLISION_GAP x the spread of g and x L ||a - b||, and g(a), g(b) equal to
    float64 precision coordinate by coordinate (|Δ_k| <= FLOAT_AGREEMENT ε max(|g_k|)):
    a flat homeomorphism such as (z1^k, z2) has g_1(±t) = ±t^k, a gap as large as the
    values themselves, however small they are."""
    g, support = ctx.process.mixing, ctx.process.latent.support
    ga, gb = g(a), g(b)
    sep = (a - b).norm(dim=-1)
    gap = (ga - gb).norm(dim=-1)
    inside = support.contains(a) & support.contains(b)
    far = sep >= COLLISION_SEPARATION * support.scale
    rel = gap / (lipschitz * sep).clamp_min(1e-300)
    eps = torch.finfo(ga.dtype).eps
    agree = ((ga - gb).abs() <= FLOAT_AGREEMENT * eps * torch.maximum(ga.abs(), gb.abs())).all(-1)
    ok = inside & far & agree & (gap <= COLLISION_GAP * spread) & (rel <= COLLISION_GAP)
    rel = torch.where(inside & far, torch.nan_to_num(rel, nan=torch.inf), torch.inf)
    return ok, rel


SYMMETRY_ANCHORS = 64


def _symmetry_witness(ctx: CheckContext, lipschitz: float, spread: float):
    """(witness, relative gap) of the first verified pair among the mixing's own known
    symmetries, or None.

    A mixing may state exact symmetries with ``symmetric_pairs(z) -> [(what, z_a, z_b)]``
    (e.g. ``Sprites``: a square turned by a quarter turn renders the same image). Each
    pair is verified like a found collision (``_verified``), so a stated symmetry that
    does not hold, or leaves the support, is never reported; the witness names it.
    """
    stated = getattr(ctx.process.mixing, "symmetric_pairs", None)
    if stated is None:
        return None
    for what, a, b in stated(ctx.z[:SYMMETRY_ANCHORS]):
        ok, rel = _verified(ctx, a, b, lipschitz, spread)
        if bool(ok.any()):
            k = int(torch.where(ok, rel, torch.inf).argmin())
            return {"z": point(a[k]), "z_prime": point(b[k]), "symmetry": what}, float(rel[k])
    return None


def _kernel_pair(ctx: CheckContext, v: np.ndarray):
    """A verified pair z, z' = z ± t v in the support (v in ker A), or None."""
    support = ctx.process.latent.support
    v = torch.as_tensor(v, dtype=torch.float64)
    v = v / v.norm()
    anchors = [ctx.z.mean(0), ctx.z[0]]
    if isinstance(support, S.Box):
        anchors.insert(0, torch.full_like(v, (support.low + support.high) / 2))
    lipschitz, spread = _scales(ctx)
    for anchor in anchors:
        for c in (anchor, anchor - (anchor @ v) * v):  # orthogonal to v: equal norms
            for t in (0.25, 0.1, 0.03):
                step = t * support.scale * v
                a = support.project((c + step)[None])
                b = support.project((c - step)[None])
                ok, _ = _verified(ctx, a, b, lipschitz, spread)
                if bool(ok[0]):
                    return {"z": point(a[0]), "z_prime": point(b[0]), "kernel_vector": point(v)}
    return None


def _collision_candidates(
    z: torch.Tensor, x: torch.Tensor, min_sep: float, n_pairs: int, k: int = COLLISION_NEIGHBOURS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Start pairs (i, j) for the collision search, in memory linear in len(z).

    Candidates are the k nearest neighbours of every x_i (a k-d tree on x, not a dense
    distance matrix), deduplicated as i < j; pairs closer than ``min_sep`` in z are
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
    ratio[dz < min_sep] = torch.inf
    order = torch.from_numpy(np.argsort(ratio.cpu().numpy(), kind="stable")[:n_pairs])
    return i[order], j[order]


def _collision_search(
    ctx: CheckContext, lipschitz: float, spread: float, n_pairs: int = 64, steps: int = 150
):
    """Search for a verified collision; returns (witness or None, smallest relative gap)."""
    support = ctx.process.latent.support
    g = ctx.process.mixing
    z, x = ctx.z, ctx.x
    min_sep = COLLISION_SEPARATION * support.scale
    i, j = _collision_candidates(z, x, min_sep, n_pairs)
    a, b = z[i].clone().requires_grad_(True), z[j].clone().requires_grad_(True)
    opt = optimizers.Adam([a, b], lr=0.01 * support.scale)
    floor = float(np.log(2 * min_sep))
    for _ in range(steps):
        opt.zero_grad()
        gap = ((g(a) - g(b)) ** 2).sum(-1)
        sep = ((a - b) ** 2).sum(-1)
        log_sep = 0.5 * torch.log(sep + 1e-300)
        barrier = 10.0 * torch.relu(floor - log_sep)  # keeps the pair apart
        loss = (torch.log(gap + 1e-300) - 2 * log_sep + barrier).sum()
        loss.backward()
        opt.step()
        with torch.no_grad():
            a.copy_(support.project(a))
            b.copy_(support.project(b))
    a, b = a.detach(), b.detach()
    for _ in range(12):  # Gauss–Newton polish: solve g(b) = g(a) for b (any m, via pinv)
        residual = g(b) - g(a)
        delta = pinv_solve(jacobian(g, b), residual)
        candidate = support.project(b - torch.nan_to_num(delta))
        closer = (g(candidate) - g(a)).norm(dim=-1) < residual.norm(dim=-1)
        better = closer & ((candidate - a).norm(dim=-1) >= min_sep)  # not b -> a
        b = torch.where(better.unsqueeze(-1), candidate, b)
    ok, rel = _verified(ctx, a, b, lipschitz, spread)
    stat = float(rel.min()) if len(rel) else float("inf")
    if bool(ok.any()):
        k = int(torch.where(ok, rel, torch.inf).argmin())
        return {"z": point(a[k]), "z_prime": point(b[k])}, float(rel[k])
    return None, stat


def pinv_solve(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x = A⁺ b for a batch of matrices A (N, m, n) and vectors b (N, m): the minimum-norm
    least-squares solution, through one SVD with ``torch.linalg.pinv``'s default cutoff
    (singular values ≤ max(m, n) ε σ_max count as zero) but without forming A⁺ (pinv
    itself measured 8x slower at 64 x 50 x 50)."""
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    cutoff = s[..., :1] * max(a.shape[-2:]) * torch.finfo(a.dtype).eps
    inverse = torch.where(s > cutoff, 1 / torch.where(s > cutoff, s, 1), 0)
    coefficients = inverse * (u.mT @ b.unsqueeze(-1)).squeeze(-1)
    return (vh.mT @ coefficients.unsqueeze(-1)).squeeze(-1)


# --- immersion ------------------------------------------------------------------------


def _log_ratios(mixing, z: torch.Tensor, sv: torch.Tensor | None = None) -> torch.Tensor:
    """log σ_min/σ_max of J at every row of z (N,): one batched Jacobian, one batched
    SVD (``sv``: the singular values, when already computed)."""
    if sv is None:
        sv = torch.linalg.svdvals(jacobian(mixing, z))
    return torch.log(sv[:, -1].clamp_min(1e-300)) - torch.log(sv[:, 0].clamp_min(1e-300))


def _log_ratio_grad(mixing, z: torch.Tensor) -> torch.Tensor:
    """∇_z log σ_min/σ_max of J(z) at every row of z (N, n), by the derivative of a simple
    singular value, dσ_k = u_kᵀ dJ v_k (Magnus 1985, "On differentiating eigenvalues
    and eigenvectors"): with u_k, v_k, σ_k held fixed at each point,
    ∇ log σ_k = ∇_z (u_kᵀ J(z) v_k) / σ_k, and u_kᵀ J v_k = v_k · (Jᵀ u_k) is a
    vector-Jacobian product. So one SVD, and a double backward pass over the batch,
    instead of differentiating through a per-sample SVD."""
    u, sv, vh = torch.linalg.svd(jacobian(mixing, z), full_matrices=False)
    weights = [(u[:, :, -1], vh[:, -1, :], sv[:, -1]), (u[:, :, 0], vh[:, 0, :], -sv[:, 0])]
    with torch.enable_grad():
        x = z.detach().requires_grad_(True)
        y = mixing(x)
        phi = x.new_zeros(())
        for u_k, v_k, sigma in weights:  # +log σ_min, -log σ_max
            scale = torch.where(sigma.abs() > 0, 1 / sigma, 0.0)
            (jtu,) = torch.autograd.grad(y, x, u_k * scale[:, None], create_graph=True)
            phi = phi + (jtu * v_k).sum()
        if not phi.requires_grad:  # J does not depend on z (piecewise linear, linear)
            return torch.zeros_like(x)
        (gradient,) = torch.autograd.grad(phi, x, allow_unused=True)
    return torch.zeros_like(x) if gradient is None else gradient


def singular_values(ctx: CheckContext) -> torch.Tensor:
    """The singular values of J at the sampled points (N, min(m, n)), computed once per
    check context (injective's scales and immersion's ratios share them)."""
    if "jacobian_sv" not in ctx._cache:
        ctx._cache["jacobian_sv"] = torch.linalg.svdvals(jacobian(ctx.process.mixing, ctx.z))
    return ctx._cache["jacobian_sv"]


@register_check(A.Immersion)
def check_immersion(assumption: A.Immersion, ctx: CheckContext) -> Evidence:
    """Full column rank of J: exact for linear maps, else sampled + adversarial σ_min/σ_max."""
    name, tol = assumption.name, assumption.tolerance
    mixing, n, m = ctx.process.mixing, ctx.process.dim, ctx.process.mixing.n_out
    matrix = _exact_linear(mixing)
    if matrix is not None:
        rank = matrix_rank(matrix, ctx)
        ratio = _condition(matrix) if m >= n else 0.0
        full = rank.rank == n
        witness = None
        if not full:
            witness = {"z": point(ctx.z[0])}
            if rank.kernel is not None:
                witness["null_direction"] = point(torch.as_tensor(rank.kernel))
        return settled(
            full,
            name,
            f"J = A everywhere and rank A = {rank.rank}"
            + (" = n" if full else f" < n = {n}")
            + f" ({rank.how}; σ_min/σ_max = {ratio:.3g})",
            exact=rank.exact,
            method="rank",
            statistic=ratio,
            tolerance=tol,
            n_points=0,
            witness=witness,
        )
    if m < n:
        null = torch.linalg.svd(jacobian(mixing, ctx.z[:1])[0]).Vh[-1]
        return violated(
            name,
            f"J is {m} x {n} with m < n: its rank is at most {m} < n everywhere",
            statistic=0.0,
            tolerance=tol,
            n_points=0,
            method="dimension",
            witness={"z": point(ctx.z[0]), "null_direction": point(null)},
        )
    support = ctx.process.latent.support

    def batched(points: torch.Tensor) -> torch.Tensor:
        return _log_ratios(mixing, points)

    z = ctx.z
    values = torch.nan_to_num(_log_ratios(mixing, z, singular_values(ctx)), nan=-torch.inf)
    log_tol = float(np.log(tol))
    worst = int(values.argmin())
    best_val, best_z, found_at = float(values[worst]), z[worst], 0
    searched = best_val >= log_tol
    if searched:  # adversarial: descend on log σ_min/σ_max with backtracking steps
        order = values.argsort()
        starts = torch.cat([z[order[:ADVERSARIAL_STARTS]], ctx.fresh(ADVERSARIAL_STARTS, 4)])
        cur = torch.nan_to_num(batched(starts), nan=-torch.inf)
        step = torch.full((len(starts), 1), 0.1 * support.scale, dtype=starts.dtype)
        for k in range(ctx.adversarial_steps):
            gradient = torch.nan_to_num(_log_ratio_grad(mixing, starts))
            norm = gradient.norm(dim=-1, keepdim=True).clamp_min(1e-300)
            direction = gradient / norm
            # a backtracking step, and a Newton step to the zero of σ_min/σ_max
            # (r = exp(log r) vanishes where |∇ r| / r = |∇ log r|: step 1 / |∇ log r|)
            trial = support.project(starts - step * direction)
            newton = support.project(starts - direction / norm)
            both = torch.nan_to_num(batched(torch.cat([trial, newton])), nan=torch.inf)
            new, new_newton = both[: len(trial)], both[len(trial) :]
            use_newton = new_newton < new
            trial = torch.where(use_newton[:, None], newton, trial)
            new = torch.minimum(new, new_newton)
            better = new < cur
            starts = torch.where(better[:, None], trial, starts)
            cur = torch.where(better, new, cur)
            step = torch.where(better[:, None], step * 1.5, step * 0.5)
            if float(step.max()) < 1e-12 * support.scale:  # every start has converged
                break
            i = int(cur.argmin())
            if float(cur[i]) < best_val:
                best_val, best_z, found_at = float(cur[i]), starts[i].clone(), k + 1
            if best_val < log_tol:
                break
    ratio = float(np.exp(best_val))
    n_checked = len(z) + (2 * ADVERSARIAL_STARTS if searched else 0)
    if best_val < log_tol:
        svd = torch.linalg.svd(jacobian(mixing, best_z[None])[0])
        null, sv = svd.Vh[-1], svd.S
        ratio = float(sv[-1] / sv[0]) if sv[0] > 0 else 0.0
        where = (
            f"at a point found by adversarial search after {found_at} steps"
            if found_at
            else "at a sampled point"
        )
        return violated(
            name,
            f"J is (numerically) rank-deficient {where}: σ_min/σ_max = {ratio:.3g} < {tol:g}",
            statistic=ratio,
            tolerance=tol,
            n_points=n_checked,
            method="adversarial" if found_at else "sampled",
            witness={"z": point(best_z), "null_direction": point(null)},
        )
    return holds(
        name,
        f"σ_min/σ_max of J ≥ {ratio:.3g} at {len(z)} sampled points and after "
        f"{ctx.adversarial_steps} adversarial steps from {2 * ADVERSARIAL_STARTS} starts; "
        "evidence, not proof",
        statistic=ratio,
        tolerance=tol,
        n_points=n_checked,
        method="sampled+adversarial",
    )


__all__ = ["COLLISION_GAP", "COLLISION_NEIGHBOURS", "COLLISION_SEPARATION", "FLOAT_AGREEMENT"]
