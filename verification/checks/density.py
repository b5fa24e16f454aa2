"""Density conditions: statements about the latent distribution p(z).

- Factorized (independent latents; Comon 1994, Hyvärinen, Karhunen & Oja 2001):
  ∂² log p / ∂z_i ∂z_j = 0 for all i != j on a product support. A support that is not
  a product set decides ``violated``; otherwise sympy on the log-density (time-limited;
  ``proved``, the message saying when the coefficients are floats), then its Hessian at
  sampled points. Without a log-density, a sample test of independence
  (``rank_hsic_test``) on ``INDEPENDENCE_SAMPLES`` fresh draws: HSIC (Gretton, Bousquet,
  Smola & Schölkopf 2005) of every pair (z_i, z_j) on the copula (mid-ranks, as in
  Póczos, Ghahramani & Schneider 2012, 'Copula-based kernel dependency measures') with
  the finite cosine kernel k(u, u') = Σ_{k≤K} 2 cos(πku) cos(πku') whose features are
  whitened (the normalised cross-covariance of Fukumizu et al. 2008): (N − 1) HSIC is
  then the sum of squared correlations of the K² feature pairs, χ²(K²) under
  independence (a Neyman smooth rank test of independence: Kallenberg & Ledwina 1999,
  JASA 94). K ∈ ``INDEPENDENCE_ORDERS`` = {1, 2, 4, 8} (the "bandwidths"), Bonferroni
  over them and Holm over the pairs; ``violated`` when the smallest corrected p-value is
  below the assumption's ``level``. Stated power (``benchmarks/independence.py``, 200
  replications at level 0.01, n = 2, 5, 10): false positives ≤ 0.02 on independent
  Laplace and Gaussian latents; power 1.0 on a variance that depends on z₁ (z₂ = e·√(1 +
  0.9 cos 4πz₁)), on z₂ = |e|·sign(z₁) and on a point uniform on the circle (dependent,
  uncorrelated). It tests pairs: a dependence seen only by three or more coordinates
  jointly (pairwise independent) is outside its reach.
- NonGaussian (Comon 1994, Theorem 11, Darmois–Skitovich): at most ``max_gaussian``
  Gaussian components. Decided by the declared family where the latent says which
  components are Gaussian (``proved``/``violated``, method "family"), else by an
  Anderson–Darling test of normality per component (``anderson_darling``; mean and
  variance estimated, p-value by D'Agostino & Stephens 1986, 'Goodness-of-fit
  techniques', Table 4.9) on ``NORMALITY_SAMPLES`` fresh draws: a component counts as
  Gaussian unless the test rejects it at ``level``, Holm-adjusted over the components
  (so a Gaussian component is taken for non-Gaussian, which could make the verdict
  ``holds`` wrongly, with probability at most ``level``). The test is consistent
  against every non-Gaussian law, including symmetric ones with Gaussian skewness and
  kurtosis, which moment tests miss.
- UniformOnSphere (Zimmermann et al. 2021, Theorem 2): p(z) is constant on S^{n-1}.
  Sampled points off the unit sphere decide ``violated`` (with the point); sith's own
  ``UniformSphere`` (z = g/|g|, g ~ N(0, I): exactly uniform) is ``proved`` by its
  family; any other latent on the sphere gets an energy-distance two-sample test
  (Székely & Rizzo 2004) against uniform draws, with a permutation p-value.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
import torch
from torch.func import vmap

import theory as th
from theory import assumptions as A
from verification.checks import _core
from verification.checks._core import CheckContext, register_check
from verification.checks._evidence import decided, holds, point, proved, settled, violated
from verification.errors import InvalidArgument
from verification.evidence import Evidence

HSIC_SAMPLES = 256
HSIC_PERMUTATIONS = 200
HSIC_BANDWIDTHS = (0.5, 1.0, 2.0)  # x the median heuristic
INDEPENDENCE_SAMPLES = 4096
INDEPENDENCE_ORDERS = (1, 2, 4, 8)  # cosine features per coordinate, nested
NORMALITY_SAMPLES = 20000
SPHERE_SAMPLES = 256
SPHERE_PERMUTATIONS = 200
SPHERE_LEVEL = 0.01
_CHUNK_BYTES = 32 * 2**20  # the HSIC products computed at a time

# --- declarations a latent can be trusted with ---------------------------------------


def _owner(cls: type, *attrs: str) -> type:
    """The most derived class in ``cls``'s MRO that defines one of ``attrs``."""
    return next(k for k in cls.__mro__ if any(a in k.__dict__ for a in attrs))


def declared(latent: th.latents.Latent, *attrs: str) -> bool:
    """Does the latent's declaration (``attrs``: its log-density, its Gaussian
    components) describe its own sampler? Not when a subclass replaced the sampler and
    inherited the declaration (a ``Laplace`` subclass drawing Gaussians): then the
    samples decide. A ``Product`` is trusted when all its blocks are."""
    if type(latent) is th.latents.Product:
        return all(declared(b, *attrs) for b in latent.blocks)
    cls = type(latent)
    return issubclass(_owner(cls, *attrs), _owner(cls, "_draw", "sample"))


# --- factorized -----------------------------------------------------------------------


def _prove_factorized(latent, symbols):
    if not declared(latent, "log_density", "marginal_log_densities"):
        return ["undeclared", None, False]
    logp = latent.log_density(symbols)
    if logp is None:
        return ["no-density", None, False]
    floats = bool(_core.float_note(logp))
    outcomes = []
    for i in range(len(symbols)):
        for j in range(i + 1, len(symbols)):
            d = sp.simplify(sp.diff(logp, symbols[i], symbols[j]))
            if d != 0:
                outcomes.append((i, j, d))
    if not outcomes:
        return ["proved", None, floats]
    i, j, d = outcomes[0]
    if d.is_number:
        return ["violated", [i, j, float(d)], floats]
    return ["undecided", [i, j, str(d)[:80]], floats]


def _separable(latent, symbols) -> bool:
    """Whether log p is, by its construction, a sum of univariate marginals: the latent
    keeps ``Latent.log_density`` (the sum of ``marginal_log_densities``) and the i-th
    marginal's free symbols are z_i alone. Exact, and as fast on every machine as a
    symbol scan (no simplification, so no time limit decides it)."""
    if type(latent).log_density is not th.latents.Latent.log_density or not declared(
        latent, "log_density", "marginal_log_densities"
    ):  # an inherited declaration does not describe a subclass's own sampler
        return False
    marginals = latent.marginal_log_densities(symbols)
    if marginals is None or len(marginals) != len(symbols):
        return False
    return all(  # expressions only: a user's marginal is never parsed
        isinstance(m, sp.Basic) and m.free_symbols <= {s}
        for m, s in zip(marginals, symbols, strict=True)
    )


@register_check(A.Factorized)
def check_factorized(assumption: A.Factorized, ctx: CheckContext) -> Evidence:
    """Product support, then vanishing mixed partials of log p: sympy, Hessian, HSIC."""
    name, tol = assumption.name, assumption.tolerance
    latent = ctx.process.latent
    if not latent.support.is_product:
        return violated(
            name,
            f"the support ({type(latent.support).__name__}) is not a product set, "
            "so the coordinates are dependent",
            statistic=None,
            tolerance=tol,
            n_points=0,
            method="support",
        )
    if _separable(latent, ctx.symbols):
        return proved(
            name,
            "log p = Σ_i log p_i(z_i), each marginal a function of its own coordinate "
            "alone: every mixed partial derivative vanishes identically",
            tolerance=tol,
        )
    outcome = _core._try_sympy(lambda: _prove_factorized(latent, ctx.symbols), ctx)
    note = _core.FLOAT_NOTE if outcome is not None and outcome[2] else ""
    if outcome is not None and outcome[0] == "proved":
        return proved(
            name, "mixed partial derivatives of log p vanish identically" + note, tolerance=tol
        )
    if outcome is not None and outcome[0] == "violated":
        i, j, value = outcome[1]
        return violated(
            name,
            f"∂²log p/∂z{i + 1}∂z{j + 1} = {value:.4g} everywhere" + note,
            statistic=abs(value),
            tolerance=tol,
            n_points=0,
            method="sympy",
            witness={"pair": [i, j], "mixed_partial": value},
        )
    if outcome is not None and outcome[0] == "undecided":
        i, j, text = outcome[1]
        _core._note_sympy(ctx, f"undecided: ∂²log p/∂z{i + 1}∂z{j + 1} = {text} is not constant")
    # the log-density is built again here only when the time-limited attempt got past
    # building it; after a timeout or an error the sample test decides (the note says why)
    if outcome is not None and outcome[0] == "undecided":
        hessian = _hessian_route(assumption, ctx)
        if hessian is not None:
            return hessian
    return _independence_route(assumption, ctx)


def _hessian_route(assumption: A.Factorized, ctx: CheckContext) -> Evidence | None:
    """The off-diagonal log-density Hessian at the sampled points (None: no log-density)."""
    try:
        logp = ctx.process.latent.log_density(ctx.symbols)
        if logp is None:
            return None
        from theory.compile import compile_exprs

        f = compile_exprs([logp], ctx.symbols)
    except Exception as err:  # said in the message; the sample test decides
        _core._note_sympy(ctx, f"log-density not usable: {type(err).__name__}: {err}"[:200])
        return None
    H = vmap(torch.func.hessian(lambda z: f(z)[0]))(ctx.z)
    diag = H.diagonal(dim1=-2, dim2=-1).abs()
    scale = (diag[:, :, None] * diag[:, None, :]).sqrt().clamp_min(1e-6)
    off = (H.abs() / scale) * (1 - torch.eye(ctx.process.dim, dtype=H.dtype))
    per_point = off.flatten(1).amax(-1)
    worst = int(per_point.argmax())
    return decided(
        assumption.name,
        float(per_point[worst]),
        assumption.tolerance,
        len(H),
        method="hessian",
        witness={"z": point(ctx.z[worst])},
        when_violated="the log-density Hessian has nonzero off-diagonal entries",
        when_holds=f"log-density Hessian diagonal at {len(H)} sampled points; evidence, not proof",
    )


def _independence_route(assumption: A.Factorized, ctx: CheckContext) -> Evidence:
    """The copula HSIC test of every pair (``rank_hsic_test``) on fresh samples.

    Cost: one rank transform, four small SVDs per coordinate and one (nK × nK) Gram
    matrix per order: about 0.1 s for n = 10 on 4096 samples (one CPU core).
    """
    z = ctx.fresh(max(ctx.n_points, INDEPENDENCE_SAMPLES), 2)
    level = assumption.level
    if z.shape[1] < 2:
        return holds(
            assumption.name,
            "one coordinate: nothing to be dependent on",
            statistic=1.0,
            tolerance=level,
            n_points=len(z),
            method="hsic",
        )
    pairs, p_adjusted = rank_hsic_test(z)
    k = int(np.argmin(p_adjusted))
    stat = float(p_adjusted[k])
    orders = ", ".join(str(o) for o in INDEPENDENCE_ORDERS)
    how = (
        f"copula HSIC test on {len(z)} samples (mid-ranks, whitened cosine features of "
        f"order K ∈ {{{orders}}}, χ²(K²) p-values, Bonferroni over the orders, Holm over "
        f"{len(pairs)} pairs); statistic = smallest corrected p-value, level {level:g}"
    )
    i, j = pairs[k]
    return decided(
        assumption.name,
        stat,
        level,
        len(z),
        method="hsic",
        witness={"pair": [i, j], "p_value": stat, "level": level},
        when_violated=f"z{i + 1} and z{j + 1} are dependent: corrected p = {stat:.3g} < "
        f"{level:g}; {how}",
        when_holds=f"no pair rejected independence (smallest corrected p = {stat:.3g}); "
        f"{how}; a sample test, not proof",
        lower_bound=True,
    )


def rank_hsic_test(
    z: torch.Tensor | np.ndarray, *, orders: tuple[int, ...] = INDEPENDENCE_ORDERS
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Copula HSIC test of independence of every pair of columns of ``z`` (N, n).

    Returns the pairs (i, j), i < j, and their p-values, Bonferroni-corrected over
    ``orders`` and Holm-adjusted over the pairs. Each column goes to its mid-ranks
    u = (rank − ½)/N (the copula: the test does not depend on the marginals), then to
    the features φ_k(u) = √2 cos(πku), k = 1..K, centred and whitened (an orthonormal
    basis Q of their span, by SVD; a constant column has none and is independent of
    everything). HSIC with the kernel Q Qᵀ is ‖Q_iᵀ Q_j‖²_F / N², and
    T = (N − 1) ‖Q_iᵀ Q_j‖²_F is the sum of the squared sample correlations of the
    whitened features: under independence each has mean exactly 1/(N − 1) over the
    permutations of z_j's samples, and T → χ²(r_i r_j) (r: the features' ranks; K each
    without ties). Without ties the features of the ranks are the DCT-II basis, exactly
    orthonormal, so whitening only matters for tied values. Permutation-free and
    deterministic given z; no loop over samples or pairs.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or len(z) < 4 or not np.isfinite(z).all():
        raise InvalidArgument("rank_hsic_test needs a finite (N, n) array of N >= 4 samples")
    if not orders or any(isinstance(o, bool) or not isinstance(o, int) or o < 1 for o in orders):
        raise InvalidArgument(f"orders must be positive integers, got {orders!r}")
    size, n = z.shape
    from scipy import stats  # 0.7 s: imported by the checks that use it

    u = (stats.rankdata(z, axis=0) - 0.5) / size
    k = np.arange(1, max(orders) + 1)
    features = np.sqrt(2.0) * np.cos(np.pi * u[..., None] * k)  # (N, n, K)
    features = torch.from_numpy(features - features.mean(0)).permute(1, 0, 2)
    upper = np.triu_indices(n, 1)
    p_orders = []
    for order in orders:
        Q, s, _ = torch.linalg.svd(features[..., :order], full_matrices=False)
        keep = s > 1e-6 * np.sqrt(size)  # (n, K): the whitened features that exist
        Q = (Q * keep[:, None, :]).permute(1, 0, 2).reshape(size, n * order)
        C = (Q.T @ Q).reshape(n, order, n, order)  # all pairs' correlations at once
        T = (size - 1) * C.pow(2).sum((1, 3)).numpy()
        df = np.outer(keep.sum(-1).numpy(), keep.sum(-1).numpy())
        p = np.where(df > 0, stats.chi2.sf(T, np.maximum(df, 1)), 1.0)
        p_orders.append(p[upper])
    p_raw = np.minimum(1.0, len(orders) * np.min(p_orders, axis=0))
    pairs = [(int(i), int(j)) for i, j in zip(*upper, strict=True)]
    return pairs, holm(p_raw)


def hsic_test(
    z: torch.Tensor, *, seed: int = 0, permutations: int = HSIC_PERMUTATIONS
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """HSIC permutation test of every pair of columns of ``z`` (N, n), Gaussian kernels.

    The Gram-matrix test, cubic in N: meant for a few hundred samples, where it is the
    second method that ``rank_hsic_test`` (the check's test) is compared with.

    Returns the pairs (i, j), i < j, and their p-values, Bonferroni-corrected over the
    ``HSIC_BANDWIDTHS`` and Holm-adjusted over the pairs. HSIC_π = Σ_ab K̃_i[a,b]
    K̃_j[π(a),π(b)] / N² with K̃ = H K H the centred Gram matrices (H commutes with
    permutations, so centring one side is enough and either side may be centred). Each
    p-value comes from a gamma distribution matched to the mean and variance of HSIC_π
    over ``permutations`` seeded permutations of z_j's samples (the identity gives the
    observed value). The Gram matrices enter through their eigen-decompositions,
    K̃ = Σ λ_k u_k u_kᵀ truncated at |λ| ≤ 1e-12 max|λ| (the Gaussian kernel's spectrum
    decays fast), so HSIC_π = Σ_kl λ_k μ_l (u_kᵀ v_l∘π)² / N²: batched matrix products,
    no loop over samples or permutations.
    """
    z = torch.as_tensor(z, dtype=torch.float64)
    size, n = z.shape
    d2 = (z[:, None, :] - z[None, :, :]).pow(2).permute(2, 0, 1)  # (n, N, N)
    off = ~torch.eye(size, dtype=torch.bool)
    median = d2[:, off].sqrt().median(dim=-1).values.clamp_min(1e-12)  # (n,)
    sigma = median[:, None] * torch.tensor(HSIC_BANDWIDTHS, dtype=z.dtype)  # (n, B)
    scaled = d2[:, None] / (2 * sigma[..., None, None] ** 2)
    # exact zeros instead of subnormal floats (e^-745..e^-708), which slow eigh 100-fold
    K = torch.where(scaled < 460.0, torch.exp(-scaled), 0.0)  # (n, B, N, N)
    Kc = K - K.mean(-1, keepdim=True) - K.mean(-2, keepdim=True) + K.mean((-1, -2), keepdim=True)
    lam, U = torch.linalg.eigh(Kc)  # (n, B, N), (n, B, N, N)
    keep = lam.abs() > 1e-12 * lam.abs().amax(-1, keepdim=True).clamp_min(1e-300)
    rank = int(keep.sum(-1).max())
    order = lam.abs().argsort(dim=-1, descending=True)[..., :rank]  # the leading terms
    lam = torch.where(keep, lam, 0.0).gather(-1, order)  # (n, B, r)
    U = U.gather(-1, order[..., None, :].expand(n, len(HSIC_BANDWIDTHS), size, rank))
    gen = torch.Generator().manual_seed(int(seed))
    perms = torch.argsort(torch.rand(permutations, size, generator=gen), dim=-1)
    perms = torch.cat([torch.arange(size)[None], perms])  # row 0: the observed statistic
    pairs, p_raw = [], []
    for j in range(1, n):
        Vp = U[j][:, perms]  # (B, 1 + P, N, r): z_j's eigenvectors, permuted
        step = max(1, _CHUNK_BYTES // (8 * Vp.shape[0] * len(perms) * rank * rank))
        parts = []
        for i0 in range(0, j, step):  # a few coordinates at a time: bounded memory
            M = torch.einsum("ibnk,bpnl->ibpkl", U[i0 : min(j, i0 + step)], Vp)
            weight = lam[i0 : min(j, i0 + step), :, None, :, None] * lam[j][None, :, None, None, :]
            parts.append((M.pow(2) * weight).sum((-1, -2)))
        hsic = torch.cat(parts).numpy() / size**2  # (j, B, 1 + P)
        observed, null = hsic[..., 0], hsic[..., 1:]
        mean, var = null.mean(-1), null.var(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            from scipy import stats

            p = stats.gamma.sf(observed, mean**2 / var, scale=var / mean)
        p = np.where((var > 0) & (mean > 0), p, 1.0)  # a constant coordinate: independent
        p = np.minimum(1.0, len(HSIC_BANDWIDTHS) * p.min(-1))  # Bonferroni over bandwidths
        for i in range(j):
            pairs.append((i, j))
            p_raw.append(float(p[i]))
    return pairs, holm(np.asarray(p_raw))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979), in the input order."""
    k = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((k - np.arange(k)) * p[order]))
    out = np.empty(k)
    out[order] = adjusted
    return out


# --- non-Gaussian ---------------------------------------------------------------------


def anderson_darling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Anderson–Darling normality test of each column of ``x`` (N, n), mean and variance
    estimated: (A*², p-values), p by D'Agostino & Stephens (1986), Table 4.9."""
    x = np.sort(np.asarray(x, dtype=np.float64), axis=0)
    size = x.shape[0]
    sd = x.std(0, ddof=1)
    u = (x - x.mean(0)) / np.where(sd > 0, sd, 1.0)
    i = np.arange(1, size + 1)[:, None]
    from scipy import special

    terms = (2 * i - 1) * (special.log_ndtr(u) + special.log_ndtr(-u[::-1]))
    a2 = -size - terms.mean(0)
    a = a2 * (1 + 0.75 / size + 2.25 / size**2)
    with np.errstate(over="ignore"):
        p = np.select(
            [a < 0.2, a < 0.34, a < 0.6, a < 153.0],
            [
                1 - np.exp(-13.436 + 101.14 * a - 223.73 * a**2),
                1 - np.exp(-8.318 + 42.796 * a - 59.938 * a**2),
                np.exp(0.9177 - 4.279 * a - 1.38 * a**2),
                np.exp(1.2937 - 5.709 * a + 0.0186 * a**2),
            ],
            default=0.0,  # beyond the table's range the formula turns up again: p ~ 0
        )
    p = np.where(sd > 0, np.clip(p, 0.0, 1.0), 0.0)  # a constant is not Gaussian
    return a, p


@register_check(A.NonGaussian)
def check_non_gaussian(assumption: A.NonGaussian, ctx: CheckContext) -> Evidence:
    """At most ``max_gaussian`` Gaussian components: by family, else Anderson–Darling."""
    name, limit, level = assumption.name, assumption.max_gaussian, assumption.level
    latent = ctx.process.latent
    gaussian = latent.gaussian_components() if declared(latent, "gaussian_components") else None
    if gaussian is not None:
        count = sum(gaussian)
        idx = [i for i, gauss in enumerate(gaussian) if gauss]
        return settled(
            count <= limit,
            name,
            f"{count} Gaussian component(s) by the declared family {latent.family} "
            "(log-density quadratic in exactly those coordinates)",
            exact=True,
            method="family",
            statistic=float(count),
            tolerance=float(limit),
            witness={"gaussian_components": idx},
        )
    n_samples = max(ctx.n_points, NORMALITY_SAMPLES)
    z = ctx.fresh(n_samples, 3).numpy()
    _, p_raw = anderson_darling(z)
    p = holm(p_raw)
    gaussian_like = p >= level
    count = int(gaussian_like.sum())
    idx = [int(i) for i in np.nonzero(gaussian_like)[0]]
    shown = ", ".join(f"z{i + 1}: {v:.3g}" for i, v in enumerate(p))
    how = (
        f"Anderson–Darling normality test per component on {n_samples} samples, level "
        f"{level:g}, Holm over the {len(p)} components (adjusted p-values {shown})"
    )
    return decided(
        name,
        float(count),
        float(limit),
        n_samples,
        method="anderson-darling",
        witness={
            "gaussian_components": idx,
            "p_values": [float(v) for v in p],  # Holm-adjusted: compared with level
            "raw_p_values": [float(v) for v in p_raw],
            "level": level,
        },
        when_violated=f"{count} components are consistent with a Gaussian (normality not "
        f"rejected), more than {limit}; {how}",
        when_holds=f"normality rejected in all but {count} component(s); {how}; a sample "
        "test, not proof",
    )


# --- uniform on the sphere ------------------------------------------------------------


@register_check(A.UniformOnSphere)
def check_uniform_on_sphere(assumption: A.UniformOnSphere, ctx: CheckContext) -> Evidence:
    """On the unit sphere (samples), then uniform: by sith's family, else a sample test."""
    name = assumption.name
    latent = ctx.process.latent
    z = ctx.z
    off = (z.norm(dim=-1) - 1).abs()
    k = int(off.argmax())
    if float(off[k]) > 1e-9:
        return violated(
            name,
            f"the latent ({latent.family}) is not on the unit sphere: a sampled point has "
            f"norm {float(z[k].norm()):.6g}",
            statistic=float(off[k]),
            tolerance=1e-9,
            n_points=len(z),
            method="sampled",
            witness={"z": point(z[k])},
        )
    if type(latent) is th.latents.UniformSphere:
        return proved(
            name,
            f"the latent is sith's UniformSphere({latent.dim}) (z = g/|g|, g ~ N(0, I): "
            "exactly uniform on the sphere), and all sampled points have norm 1",
            tolerance=None,
            method="family",
        )
    if type(latent) is th.latents.ClusterSphere:
        return _clusters_not_uniform(name, latent, z)
    reference = th.latents.UniformSphere(latent.dim).sample(
        SPHERE_SAMPLES, np.random.default_rng([ctx.seed, 6])
    )
    return uniform_test(name, latent.family, ctx, reference, "the sphere")


def uniform_test(
    name: str, family: str, ctx: CheckContext, reference: torch.Tensor, where: str
) -> Evidence:
    """Fresh latents against ``reference``, a sample of the uniform law on ``where``, by
    the energy-distance permutation test (:func:`energy_test`): violated when p <
    ``SPHERE_LEVEL``. A sample test, never a proof."""
    sample = ctx.fresh(SPHERE_SAMPLES, 5)
    p = energy_test(sample, reference, seed=ctx.seed)
    return decided(
        name,
        p,
        SPHERE_LEVEL,
        2 * SPHERE_SAMPLES,
        method="energy-distance",
        when_violated=f"{family} differs from the uniform distribution on {where}: "
        f"energy-distance permutation p = {p:.3g} < {SPHERE_LEVEL:g}",
        when_holds=f"{family} is not distinguishable from uniform on {where} "
        f"(energy-distance permutation p = {p:.3g} ≥ {SPHERE_LEVEL:g}); a sample test, "
        "not proof",
        lower_bound=True,
    )


def _clusters_not_uniform(name: str, latent, z: torch.Tensor) -> Evidence:
    """sith's ClusterSphere is never uniform: its density p(z) ∝ Σ_c exp(κ v_cᵀz), κ > 0,
    is not constant on the sphere. By Funk–Hecke, exp(κ vᵀz) = Σ_ℓ λ_ℓ(κ) Σ_m Y_ℓm(v)
    Y_ℓm(z) with every λ_ℓ(κ) > 0, so a constant p needs Σ_c Y_ℓm(v_c) = 0 for every
    ℓ ≥ 1: the centres would average every polynomial exactly (a spherical design of
    every degree), yet q(z) = Π_c ‖z − v_c‖² ≥ 0 vanishes on them and has a positive mean.
    The witness is a cluster centre and a sampled point with their density ratio (> 1).
    """
    centres = torch.as_tensor(latent.centres, dtype=torch.float64)

    def log_density(points: torch.Tensor) -> torch.Tensor:  # up to the normaliser
        return torch.logsumexp(latent.kappa * points.to(torch.float64) @ centres.T, dim=1)

    high = log_density(centres)
    low = log_density(z)
    i, j = int(high.argmax()), int(low.argmin())
    ratio = float(torch.exp(high[i] - low[j]))
    return violated(
        name,
        f"ClusterSphere is a mixture of {latent.n_clusters} von Mises–Fisher clusters "
        f"(κ = {latent.kappa:g} > 0), whose density Σ_c exp(κ v_cᵀz) is not constant on the "
        f"sphere: it is {ratio:.3g} times higher at a cluster centre than at a sampled point",
        statistic=ratio,
        tolerance=1.0,
        n_points=len(z),
        method="family",
        witness={"z_dense": point(centres[i]), "z_sparse": point(z[j]), "density_ratio": ratio},
    )


def energy_test(
    x: torch.Tensor, y: torch.Tensor, *, seed: int = 0, permutations: int = SPHERE_PERMUTATIONS
) -> float:
    """Permutation p-value of the energy distance between samples x and y (same size)."""
    pooled = torch.cat([x, y]).to(torch.float64)
    size = len(x)
    D = torch.cdist(pooled, pooled)
    gen = torch.Generator().manual_seed(int(seed))
    labels = torch.cat([torch.ones(size), -torch.ones(len(y))]).to(torch.float64) / size
    perms = torch.argsort(torch.rand(permutations, len(pooled), generator=gen), dim=-1)
    signs = torch.cat([labels[None], labels[perms]])  # (1 + permutations, 2N)
    stat = -((signs @ D) * signs).sum(-1)  # energy distance up to a constant factor
    return float((1 + (stat[1:] >= stat[0]).sum()) / (1 + permutations))


__all__ = [
    "HSIC_BANDWIDTHS",
    "HSIC_PERMUTATIONS",
    "INDEPENDENCE_ORDERS",
    "INDEPENDENCE_SAMPLES",
    "anderson_darling",
    "energy_test",
    "holm",
    "hsic_test",
    "rank_hsic_test",
]
