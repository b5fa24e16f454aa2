"""Density conditions: statements about the latent distribution p(z).

- Factorized (independent latents; Comon 1994, Hyvärinen, Karhunen & Oja 2001):
  ∂² log p / ∂z_i ∂z_j = 0 for all i != j on a product support. A support that is not
  a product set decides ``violated``; otherwise sympy on the log-density, then its
  Hessian at sampled points, and without a log-density a sample test on the
  correlations of (z_i, z_j) and (z_i², z_j²) (z-scores above 6 are dependence).
- NonGaussian (Comon 1994, Theorem 11, Darmois–Skitovich): at most one Gaussian
  component. Decided by the declared family where the latent says which components are
  Gaussian, else by sample skewness and excess kurtosis against their Gaussian sampling
  error (|z-score| < 5 counts as Gaussian).
- UniformOnSphere (Zimmermann et al. 2021, Theorem 2): p(z) is constant on S^{n-1};
  decided by the latent's family.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
import torch
from torch.func import vmap

import theory as th
from theory import assumptions as A
from verification.checks._core import CheckContext, _try_sympy, register_check
from verification.checks._evidence import decided, point, proved, settled, violated
from verification.evidence import Evidence


def _prove_factorized(latent, symbols):
    logp = latent.log_density(symbols)
    if logp is None:
        return None, None
    outcomes = []
    for i in range(len(symbols)):
        for j in range(i + 1, len(symbols)):
            d = sp.simplify(sp.diff(logp, symbols[i], symbols[j]))
            if d != 0:
                outcomes.append((i, j, d))
    if not outcomes:
        return "proved", None
    i, j, d = outcomes[0]
    if d.is_number:
        return "violated", (i, j, float(d))
    return None, None


@register_check(A.Factorized)
def check_factorized(assumption: A.Factorized, ctx: CheckContext) -> Evidence:
    """Product support, then vanishing mixed partials of log p: sympy, Hessian, samples."""
    name, tol = assumption.name, assumption.tolerance
    latent = ctx.process.latent
    if not latent.support.is_product:
        stat, witness = _dependence_statistic(ctx.z)
        return violated(
            name,
            f"the support ({type(latent.support).__name__}) is not a product set, "
            "so the coordinates are dependent",
            statistic=stat,
            tolerance=tol,
            n_points=len(ctx.z),
            method="support",
            witness=witness,
        )
    outcome = _try_sympy(lambda: _prove_factorized(latent, ctx.symbols), ctx)
    if outcome is not None and outcome[0] == "proved":
        return proved(name, "mixed partial derivatives of log p vanish identically", tolerance=tol)
    if outcome is not None and outcome[0] == "violated":
        i, j, value = outcome[1]
        return violated(
            name,
            f"∂²log p/∂z{i + 1}∂z{j + 1} = {value:.4g} everywhere",
            statistic=abs(value),
            tolerance=tol,
            n_points=0,
            method="sympy",
            witness={"pair": [i, j], "mixed_partial": value},
        )
    logp = latent.log_density(ctx.symbols)
    if logp is not None:
        from theory.compile import compile_exprs

        f = compile_exprs([logp], ctx.symbols)
        H = vmap(
            torch.func.hessian(lambda z: f(z)[0]),
        )(ctx.z)
        diag = H.diagonal(dim1=-2, dim2=-1).abs()
        scale = (diag[:, :, None] * diag[:, None, :]).sqrt().clamp_min(1e-6)
        off = (H.abs() / scale) * (1 - torch.eye(ctx.process.dim, dtype=H.dtype))
        per_point = off.flatten(1).amax(-1)
        worst = int(per_point.argmax())
        return decided(
            name,
            float(per_point[worst]),
            tol,
            len(H),
            method="hessian",
            witness={"z": point(ctx.z[worst])},
            when_violated="the log-density Hessian has nonzero off-diagonal entries",
            when_holds=f"log-density Hessian diagonal at {len(H)} sampled points",
        )
    n_samples = max(ctx.n_points, 20000)
    stat, witness = _dependence_statistic(ctx.fresh(n_samples, 2))
    return decided(
        name,
        stat,
        6.0,
        n_samples,
        method="sample-dependence",
        witness=witness,
        when_violated="coordinates are dependent: a correlation of (z_i, z_j) or (z_i², z_j²) "
        "has a z-score above 6",
        when_holds="no significant correlation of (z_i, z_j) or (z_i², z_j²) (z-scores ≤ 6); "
        "a sample test, not proof",
    )


def _dependence_statistic(z: torch.Tensor):
    """Max |z-score| of correlations of (z_i, z_j) and (z_i^2, z_j^2), i != j."""
    n_samples, n = z.shape
    if n < 2:
        return 0.0, None
    best, witness = 0.0, None
    for features in (z, z**2):
        c = torch.corrcoef(features.T)
        c = torch.nan_to_num(c) * (1 - torch.eye(n, dtype=c.dtype))
        k = int(c.abs().argmax())
        score = float(c.abs().flatten()[k]) * np.sqrt(n_samples)
        if score > best:
            best, witness = score, {"pair": [k // n, k % n], "correlation": float(c.flatten()[k])}
    return best, witness


@register_check(A.NonGaussian)
def check_non_gaussian(assumption: A.NonGaussian, ctx: CheckContext) -> Evidence:
    """At most ``max_gaussian`` Gaussian components: by family, else by sample moments."""
    name, limit = assumption.name, assumption.max_gaussian
    latent = ctx.process.latent
    gaussian = latent.gaussian_components()
    if gaussian is not None:
        count = sum(gaussian)
        idx = [i for i, gauss in enumerate(gaussian) if gauss]
        return settled(
            count <= limit,
            name,
            f"{count} Gaussian component(s) (log-density quadratic in exactly those coordinates)",
            exact=True,
            method="family",
            statistic=float(count),
            tolerance=float(limit),
            witness={"gaussian_components": idx},
        )
    n_samples = max(ctx.n_points, 20000)
    z = ctx.fresh(n_samples, 3)
    zc = (z - z.mean(0)) / z.std(0)
    skew = (zc**3).mean(0)
    kurt = (zc**4).mean(0) - 3
    score = torch.maximum(skew.abs() / np.sqrt(6 / n_samples), kurt.abs() / np.sqrt(24 / n_samples))
    gaussian_like = (score < 5.0).tolist()
    count = sum(gaussian_like)
    idx = [i for i, gauss in enumerate(gaussian_like) if gauss]
    return decided(
        name,
        float(count),
        float(limit),
        n_samples,
        method="moments",
        witness={"gaussian_components": idx},
        when_violated=f"{count} components have skewness and excess kurtosis consistent with a "
        "Gaussian (|z-score| < 5)",
        when_holds="skewness or excess kurtosis is significantly nonzero in all but "
        f"{count} component(s)",
    )


@register_check(A.UniformOnSphere)
def check_uniform_on_sphere(assumption: A.UniformOnSphere, ctx: CheckContext) -> Evidence:
    """The latent's family is the uniform distribution on the sphere."""
    latent = ctx.process.latent
    ok = isinstance(latent, th.latents.UniformSphere)
    return settled(
        ok,
        assumption.name,
        f"the latent is {latent.family}" + ("" if ok else ", not uniform on the sphere"),
        exact=True,
        method="family",
    )
