"""cl-ica-box (Zimmermann et al. 2021, convex bodies) and anisotropic-infonce (Rusak et
al. 2024): the conditionals restricted to the support against known laws, the checks of
their assumptions on known answers, the AnInfoNCE loss against its formula, and each
theorem's canonical recovery beside its paper's negative case."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import stats

import theory as th
from theory.errors import InvalidArgument, InvalidProcess
from theory.supports import Box, RealSpace, Sphere
from verification import check, recover
from verification.learners import AnInfoNCE, InfoNCE, infonce_loss
from verification.learners.aninfonce import anisotropic_infonce_loss
from verification.learners.infonce import truth_scale

C = th.conditionals
BOX = th.theorems.get("cl-ica-box")
ANISO = th.theorems.get("anisotropic-infonce")
FAST = {"n_points": 256, "adversarial_steps": 10}
LEVEL = 1e-3  # KS tests: the seeds below give p-values far above it


def _ks_against_density(sample: np.ndarray, density, low: float, high: float) -> float:
    """KS p-value of ``sample`` against the law with the unnormalised ``density`` on
    [low, high], its CDF by numerical quadrature on a fine grid."""
    grid = np.linspace(low, high, 200_001)
    pdf = density(grid)
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(grid))])
    cdf /= cdf[-1]
    return stats.kstest(sample, lambda t: np.interp(t, grid, cdf)).pvalue


# ----------------------------------------------------------------- the conditionals


@pytest.mark.parametrize("beta", [1.0, 1.5, 2.0])
def test_generalized_normal_is_truncated_to_the_box_exactly(beta):
    cond = C.GeneralizedNormal(beta=beta, scale=0.3)
    anchor = 0.8  # near the upper end: a fifth of the untruncated mass lies beyond it
    x = cond.sample(torch.full((20_000, 1), anchor), 1, support=Box(1)).numpy()[:, 0]
    assert x.min() >= -1 and x.max() <= 1
    assert not np.any(x == 1.0)  # truncated, not projected: no atom on the boundary
    p = _ks_against_density(x, lambda t: np.exp(-(np.abs((t - anchor) / 0.3) ** beta)), -1, 1)
    assert p > LEVEL


def test_generalized_normal_on_real_space_is_scipys_gennorm():
    cond = C.GeneralizedNormal(beta=1.5, scale=0.4)
    x = cond.sample(torch.zeros(20_000, 2), 3, support=RealSpace(2)).numpy()
    for column in x.T:
        assert stats.kstest(column, stats.gennorm(1.5, scale=0.4).cdf).pvalue > LEVEL
    laplace = C.GeneralizedNormal(beta=1.0, scale=0.2).sample(torch.zeros(20_000, 1), 4)
    assert stats.kstest(laplace.numpy()[:, 0], stats.laplace(scale=0.2).cdf).pvalue > LEVEL


def test_anisotropic_normal_on_the_circle_has_the_stated_density():
    lam, mu = np.array([3.0, 30.0]), np.array([math.cos(0.7), math.sin(0.7)])
    cond = C.AnisotropicNormal(tuple(lam))
    u = cond.sample(torch.tensor(np.tile(mu, (20_000, 1))), 2, support=Sphere(2)).numpy()
    assert np.allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-9)
    angle = np.arctan2(u[:, 1], u[:, 0])

    def density(t):
        return np.exp(
            -0.5 * (lam[0] * (np.cos(t) - mu[0]) ** 2 + lam[1] * (np.sin(t) - mu[1]) ** 2)
        )

    assert _ks_against_density(angle, density, -math.pi, math.pi) > LEVEL


def test_anisotropic_normal_on_the_sphere_matches_importance_weights():
    """A second method in n = 3: E[u uᵀ] from the sampler against self-normalised
    importance sampling of the target density with uniform proposals on the sphere."""
    lam = np.array([2.0, 10.0, 30.0])
    mu = np.array([0.6, 0.0, 0.8])
    u = C.AnisotropicNormal(tuple(lam)).sample(torch.tensor(np.tile(mu, (40_000, 1))), 5, Sphere(3))
    u = u.numpy()
    v = th.latents.UniformSphere(3).sample(400_000, 6).numpy()
    w = np.exp(-0.5 * np.sum(lam * (v - mu) ** 2, axis=1))
    w /= w.sum()
    expected = (v * w[:, None]).T @ v
    assert np.abs(u.T @ u / len(u) - expected).max() < 0.01


def test_anisotropic_normal_on_a_box_is_the_truncated_normal_of_each_coordinate():
    lam = (4.0, 50.0)
    z = torch.tensor([[0.9, -0.2]]).repeat(20_000, 1)
    x = C.AnisotropicNormal(lam).sample(z, 7, support=Box(2)).numpy()
    for i, (anchor, sd) in enumerate(zip((0.9, -0.2), 1 / np.sqrt(lam), strict=True)):
        law = stats.truncnorm((-1 - anchor) / sd, (1 - anchor) / sd, loc=anchor, scale=sd)
        assert stats.kstest(x[:, i], law.cdf).pvalue > LEVEL


def test_the_conditionals_are_validated_and_round_trip():
    for bad in (0.0, -1.0, math.nan, "1"):
        with pytest.raises(InvalidArgument, match="beta"):
            C.GeneralizedNormal(beta=bad)
    with pytest.raises(InvalidArgument, match="scale"):
        C.GeneralizedNormal(scale=0.0)
    for bad in ((), (1.0, -2.0), (1.0, math.inf), "12", 3.0):
        with pytest.raises(InvalidArgument, match="concentrations"):
            C.AnisotropicNormal(bad)
    mixing = th.mixings.Linear.random(3, seed=0)
    with pytest.raises(InvalidProcess, match="one per latent"):
        th.Process(th.latents.UniformSphere(3), mixing, C.AnisotropicNormal((1.0, 2.0)))
    with pytest.raises(InvalidProcess, match="acceptance rate"):
        spread = (1.0, 1e4, 1e5)
        th.Process(th.latents.UniformSphere(3), mixing, C.AnisotropicNormal(spread))
    for cond in (C.GeneralizedNormal(beta=1.5, scale=0.2), C.AnisotropicNormal((2, 10, 30))):
        again = C.Conditional.from_dict(cond.to_dict())
        assert again == cond and type(again) is type(cond)
    assert C.AnisotropicNormal([2, 10]).concentrations == (2.0, 10.0)


# ----------------------------------------------------------------- the checks


def _evidence(theorem, process, learner=None):
    return {e.assumption: e for e in check(theorem, process, learner=learner, **FAST)}


def test_the_canonical_box_process_is_inside_its_theorem():
    evidence = _evidence(BOX, BOX.canonical_process())
    assert {name: e.verdict for name, e in evidence.items()} == {
        "uniform-on-convex-body": "proved",
        "conditional-family": "proved",
        "injective": "holds",
        "learner-objective": "proved",
        "matched-lp-critic": "proved",
    }


def test_box_processes_outside_the_theorem_are_violated():
    mixing = th.mixings.InvertibleMLP(3, depth=2, seed=0)
    gauss = th.Process(th.latents.Uniform(3), mixing, C.GeneralizedNormal(beta=2.0, scale=0.14))
    e = _evidence(BOX, gauss, learner=("infonce-lp", {"p": 2.0}))
    assert e["matched-lp-critic"].verdict == "violated"  # α = 2: a rotation is left
    assert "rotation" in e["matched-lp-critic"].message
    assert e["conditional-family"].verdict == "proved"
    different_delta = th.Process(th.latents.Uniform(3), mixing, C.GeneralizedNormal(beta=1.5))
    e = _evidence(BOX, different_delta, learner=("infonce-lp", {"p": 1.5}))
    assert e["matched-lp-critic"].verdict == "violated"  # ‖·‖_p is not ‖·‖_β^β
    projected = th.Process(th.latents.Uniform(3), mixing, C.Laplace(0.3))
    assert _evidence(BOX, projected)["conditional-family"].verdict == "violated"
    on_sphere = th.Process(th.latents.UniformSphere(3), mixing, C.GeneralizedNormal())
    e = _evidence(BOX, on_sphere)
    assert e["uniform-on-convex-body"].verdict == "violated"  # empty interior
    assert e["conditional-family"].verdict == "violated"  # projected onto the sphere
    unbounded = th.Process(th.latents.Normal(3), mixing, C.GeneralizedNormal())
    assert _evidence(BOX, unbounded)["uniform-on-convex-body"].verdict == "violated"
    e = _evidence(BOX, BOX.canonical_process(), learner="infonce")  # the cosine critic
    assert e["matched-lp-critic"].verdict == "violated"


@dataclasses.dataclass
class _ArcsineBox(th.latents.Latent):
    """A non-uniform law on the box [-1, 1]^n (Beta(0.3, 0.3) coordinates)."""

    n: int

    @property
    def support(self):
        return Box(self.n)

    def _draw(self, rng, n):
        return 2 * rng.beta(0.3, 0.3, size=(n, self.n)) - 1


def test_uniform_on_convex_body_tests_other_latents_on_a_box():
    assumption = th.assumptions.UniformOnConvexBody()
    mixing = th.mixings.Linear.random(2, seed=0)
    arcsine = check(assumption, th.Process(_ArcsineBox(2), mixing), **FAST)
    assert arcsine.verdict == "violated" and arcsine.method == "energy-distance"
    product = th.latents.Product((th.latents.Uniform(1), th.latents.Uniform(1, 0.0, 3.0)))
    assert check(assumption, th.Process(product, mixing), **FAST).verdict == "proved"


def test_the_canonical_anisotropic_process_is_inside_its_theorem_and_infonce_is_not():
    process = ANISO.canonical_process()
    evidence = _evidence(ANISO, process)
    assert all(e.satisfied for e in evidence.values()), evidence
    assert evidence["conditional-family"].verdict == "proved"
    objective = _evidence(ANISO, process, learner="infonce")["learner-objective"]
    assert objective.verdict == "violated" and objective.witness == {"objective": "infonce"}


# ----------------------------------------------------------------- the losses


def test_the_aninfonce_loss_is_its_formula_on_both_paths():
    torch.manual_seed(0)
    h = torch.nn.functional.normalize(torch.randn(96, 3, dtype=torch.float64), dim=-1)
    h_pos = torch.nn.functional.normalize(torch.randn(96, 3, dtype=torch.float64), dim=-1)
    for lam in ([2.0, 10.0, 30.0], [5.0, 80.0, 300.0]):  # shifted path, then the other
        lam = torch.tensor(lam, dtype=torch.float64, requires_grad=True)
        a, b = h.clone().requires_grad_(), h_pos.clone().requires_grad_()
        S = -0.5 * (((a[:, None, :] - b[None]) ** 2) * lam).sum(-1)
        ref = 0.5 * (S.logsumexp(1).mean() + S.logsumexp(0).mean()) - S.diagonal().mean()
        grads = torch.autograd.grad(ref, (a, b, lam))
        a2, b2 = h.clone().requires_grad_(), h_pos.clone().requires_grad_()
        lam2 = lam.detach().clone().requires_grad_()
        ours = anisotropic_infonce_loss(a2, b2, lam2)
        assert torch.allclose(ours, ref, atol=1e-10)
        for g, g2 in zip(grads, torch.autograd.grad(ours, (a2, b2, lam2)), strict=True):
            assert torch.allclose(g, g2, atol=1e-10)


def test_only_the_l2_critic_is_blind_to_rotations():
    """Why the convex-body theorem excludes α = 2: InfoNCE with the L2 critic gives
    every rotation of a representation the same loss; with the L1 critic, on Laplace
    positives in a box, the axis-aligned representation has the lower loss."""
    torch.manual_seed(1)
    h = torch.rand(256, 3, dtype=torch.float64) * 2 - 1
    h_pos = h + torch.distributions.Laplace(0.0, 0.1).sample((256, 3)).double()
    for _ in range(3):
        q = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))[0]
        pairs = ((h, h_pos), (h @ q, h_pos @ q))
        l2 = [infonce_loss(a, b, 0.1, "lp", 2.0) for a, b in pairs]
        l1 = [float(infonce_loss(a, b, 0.1, "lp", 1.0)) for a, b in pairs]
        assert torch.allclose(l2[0], l2[1], atol=1e-10)
        assert l1[0] < l1[1] - 0.1


def test_the_truths_scale_is_the_best_for_the_lp_critic():
    process = BOX.canonical_process()
    z, z_pos, _, _ = process.sample_pairs(256, 0)
    z, z_pos = z.float(), z_pos.float()
    learner = InfoNCE(critic="lp", tau=0.2)
    s = truth_scale(learner, z, z_pos, 0.2)
    best = float(infonce_loss(s * z, s * z_pos, 0.2, "lp", 1.0))
    for other in (0.5 * s, 1.0, 2.0 * s):
        assert best <= float(infonce_loss(other * z, other * z_pos, 0.2, "lp", 1.0)) + 1e-6
    assert truth_scale(InfoNCE(), z, z_pos, 0.2) == 1.0


def test_aninfonce_options_are_validated():
    with pytest.raises(InvalidArgument, match="anisotropic"):
        AnInfoNCE(critic="cosine")
    with pytest.raises(InvalidArgument, match="content"):
        AnInfoNCE(content=1)
    with pytest.raises(InvalidArgument):
        AnInfoNCE(restarts=-1)
    assert AnInfoNCE().train.lr == 3e-2 and AnInfoNCE().name == "aninfonce"


# ----------------------------------------------------------------- recovery


def test_cl_ica_box_recovers_the_canonical_latents_up_to_permutation_and_signs():
    result = recover(BOX, seed=0, learner_options={"train.steps": 250}, fast_metrics=True)
    assert result.recovered and result.claim_metric > 0.95
    assert result.metrics["r2_linear"] > 0.95


def test_aninfonce_recovers_what_infonce_collapses():
    """The paper's point: AnInfoNCE finds every latent (Λ̂ ≈ Λ, MCC high); InfoNCE's
    isotropic critic loses the axes (MCC low) and partly the most varying latent."""
    process = ANISO.canonical_process()
    fits = []
    an = recover(ANISO, process, seed=0, learner_options={"train.steps": 300}, on_fit=fits.append)
    assert an.recovered and an.claim_metric > 0.95
    lam_hat = sorted(fits[0].extras["lambda_hat"])
    assert np.allclose(lam_hat, (2.0, 10.0, 30.0), rtol=0.25)
    plain = recover(ANISO, process, seed=0, learner="infonce", on_fit=fits.append)
    assert not plain.recovered
    z, x = process.sample(4000, 99)

    def weak_r2(fit):  # held-out linear R² of z_1 (λ = 2) from the representation
        h = torch.cat([fit.encode(x.float()), torch.ones(len(x), 1, dtype=torch.float64)], 1)
        coef = torch.linalg.lstsq(h[:2000], z[:2000, :1]).solution
        residual = z[2000:, :1] - h[2000:] @ coef
        return float(1 - residual.var() / z[2000:, :1].var())

    assert weak_r2(fits[0]) > 0.97 and weak_r2(fits[1]) < weak_r2(fits[0]) - 0.02


def test_aninfonce_refuses_a_learnable_radius():
    with pytest.raises(InvalidArgument, match="radius"):
        AnInfoNCE(radius="learnable")
