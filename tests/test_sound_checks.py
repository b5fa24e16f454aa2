"""Checks that cannot be fooled: known answers for the cases that once got wrong verdicts.

Every case is analytically known and seeded, with a wide margin between the statistic
and its threshold (no verdict here hinges on float rounding at a threshold).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch

import theory as th
from theory.errors import InvalidProcess
from verification import Evidence, check
from verification.checks import density as D
from verification.checks._evidence import not_applicable
from verification.checks._rank import rank_mod_prime
from verification.evidence import VERDICTS

A = th.assumptions
z1, z2, z3 = sp.symbols("z1 z2 z3")
FAST = {"n_points": 256}


def box(mixing, n=None, **kw):
    return th.Process(th.latents.Uniform(n or mixing.n_in, **kw), mixing)


def as_tensor(values):
    return torch.tensor(values, dtype=torch.float64)


# --- test-only pieces -------------------------------------------------------------------

# the zero-excess-kurtosis mixture: weight w on Uniform(±√3) (variance 1, E z⁴ = 9/5)
# and 1 - w on Laplace(scale 1/√2) (variance 1, E z⁴ = 24 b⁴ = 6); kurtosis 3 needs
# w 9/5 + (1 - w) 6 = 3
KURTOSIS_3_WEIGHT = Fraction(6 - 3) / (6 - Fraction(9, 5))


@dataclass
class SampledOnly(th.latents.Latent):
    """A latent known only by its sampler (no log-density, no declared family)."""

    n: int
    kind: str = "laplace"

    def _draw(self, rng, n):
        if self.kind == "laplace":
            return rng.laplace(size=(n, self.n))
        if self.kind == "normal":
            return rng.standard_normal((n, self.n))
        if self.kind == "correlated":  # corr(z1, z2) = 0.6
            cov = np.eye(self.n)
            cov[0, 1] = cov[1, 0] = 0.6
            return rng.standard_normal((n, self.n)) @ np.linalg.cholesky(cov).T
        if self.kind == "variance":  # sd of z2 is 0.25 or 1.75 by the sign of z1
            z = rng.laplace(size=(n, self.n))
            z[:, 0] = rng.standard_normal(n)
            z[:, 1] = rng.standard_normal(n) * np.where(z[:, 0] < 0, 0.25, 1.75)
            return z
        if self.kind == "cos-variance":  # sd of z2 is √(1 + 0.9 cos 4πz1), z1 ~ U(-1, 1)
            z = rng.laplace(size=(n, self.n))
            z[:, 0] = rng.uniform(-1, 1, n)
            z[:, 1] = rng.standard_normal(n) * np.sqrt(1 + 0.9 * np.cos(4 * np.pi * z[:, 0]))
            return z
        if self.kind == "sign":  # z2 = |e| sign(z1)
            z = rng.laplace(size=(n, self.n))
            z[:, 1] = np.abs(rng.standard_normal(n)) * np.sign(z[:, 0])
            return z
        if self.kind == "circle":  # (z1, z2) uniform on the unit circle: uncorrelated
            z = rng.laplace(size=(n, self.n))
            angle = rng.uniform(0, 2 * np.pi, n)
            z[:, 0], z[:, 1] = np.cos(angle), np.sin(angle)
            return z
        if self.kind == "kurtosis3":
            w = float(KURTOSIS_3_WEIGHT)
            uniform = rng.uniform(-np.sqrt(3), np.sqrt(3), (n, self.n))
            laplace = rng.laplace(0.0, 1 / np.sqrt(2), (n, self.n))
            return np.where(rng.uniform(size=(n, self.n)) < w, uniform, laplace)
        if self.kind == "gauss2":  # two Gaussian columns, the rest Laplace
            z = rng.laplace(size=(n, self.n))
            z[:, :2] = rng.standard_normal((n, 2))
            return z
        raise ValueError(self.kind)


@dataclass
class SphereOnly(th.latents.Latent):
    """A latent on the unit sphere that is not sith's UniformSphere: ``mean`` sets how
    concentrated it is (0: exactly uniform)."""

    n: int
    mean: float = 0.0

    @property
    def support(self):
        return th.supports.Sphere(self.n)

    def _draw(self, rng, n):
        g = rng.standard_normal((n, self.n))
        g[:, 0] += self.mean
        return g / np.linalg.norm(g, axis=1, keepdims=True)


@dataclass
class StyleShift(th.conditionals.Conditional):
    """Content kept, style moved by a fixed (``random_sign=False``) or ±shift."""

    content: int
    shift: float = 0.5
    random_sign: bool = False

    def _draw(self, z, rng):
        step = np.zeros_like(z)
        sign = rng.choice([-1.0, 1.0], size=z.shape) if self.random_sign else 1.0
        step[:, self.content :] = (sign * self.shift * np.ones_like(z))[:, self.content :]
        return z + step


@dataclass
class VonMisesFisher(th.conditionals.Conditional):
    """A user's class that only shares the vMF family's name."""

    kappa: float = 10.0

    def _draw(self, z, rng):
        return z


@dataclass
class BrokenForm(th.mixings.Mixing):
    """x = 2 z whose sympy form raises (``error``) or takes too long (``sleep``)."""

    n: int = 2
    mode: str = "error"

    def forward(self, z):
        return 2 * z

    def sympy_form(self, symbols=None):
        if self.mode == "sleep":
            time.sleep(30)
        raise ValueError("no symbolic form today")


@dataclass
class BrokenDensity(th.latents.Latent):
    n: int = 2

    def _draw(self, rng, n):
        return rng.laplace(size=(n, self.n))

    def log_density(self, symbols=None):
        raise ZeroDivisionError("log-density blew up")


# --- 1. `proved` means an exact proof -----------------------------------------------------


def test_vmf_around_anchors_off_the_sphere_is_not_proved():
    p = th.Process(
        th.latents.Laplace(3), th.mixings.InvertibleMLP(3), th.conditionals.VonMisesFisher(10.0)
    )
    e = check(A.ConditionalFamily("VonMisesFisher"), p, **FAST)
    assert e.verdict == "violated" and e.method == "family"
    anchor, positive = as_tensor(e.witness["z"]), as_tensor(e.witness["z_prime"])
    assert abs(float(anchor.norm()) - 1) > 0.1  # the anchor is off the sphere ...
    assert abs(float(positive.norm()) - 1) < 1e-9  # ... its positive on it
    assert check(A.UniformOnSphere(), p, **FAST).verdict == "violated"


def test_vmf_on_the_uniform_sphere_is_proved_by_its_family():
    p = th.theorems.get("cl-ica").canonical_process()
    family = check(A.ConditionalFamily("VonMisesFisher"), p, **FAST)
    uniform = check(A.UniformOnSphere(), p, **FAST)
    for e in (family, uniform):
        assert e.verdict == "proved" and e.method == "family", e


def test_incoherent_processes_are_refused_at_construction():
    with pytest.raises(InvalidProcess, match="unit sphere"):
        th.Process(
            th.latents.Laplace(1), th.mixings.Linear([[1.0]]), th.conditionals.VonMisesFisher()
        )
    with pytest.raises(InvalidProcess, match="exceeds the latent dimension"):
        th.Process(
            th.latents.Normal(2), th.mixings.Linear.random(2), th.conditionals.ContentStyle(3)
        )
    text = json.dumps(
        {
            "latent": {"type": "Normal", "n": 2},
            "mixing": {"type": "Mobius", "n": 2},
            "conditional": {"type": "ContentStyle", "content": 5},
        }
    )
    with pytest.raises(InvalidProcess, match="content block"):
        th.Process.from_json(text)


def test_additive_noise_is_its_family_only_on_an_unbounded_support():
    free = th.Process(
        th.latents.Normal(2), th.mixings.Linear.random(2), th.conditionals.Normal(0.5)
    )
    e = check(A.ConditionalFamily("Normal"), free, **FAST)
    assert e.verdict == "proved" and e.method == "family"
    boxed = th.Process(
        th.latents.Uniform(2), th.mixings.Linear.random(2), th.conditionals.Normal(0.5)
    )
    e = check(A.ConditionalFamily("Normal"), boxed, **FAST)
    assert e.verdict == "violated" and e.witness is not None
    outside = as_tensor(e.witness["z_prime_unprojected"])
    assert float(outside.abs().max()) > 1.0  # it left the box [-1, 1]^2 ...
    assert float(as_tensor(e.witness["z_prime"]).abs().max()) <= 1.0  # ... and was clamped


def test_a_class_that_only_shares_the_name_is_not_proved():
    p = th.Process(th.latents.UniformSphere(3), th.mixings.Linear.random(3), VonMisesFisher())
    e = check(A.ConditionalFamily("VonMisesFisher"), p, **FAST)
    assert e.verdict == "inconclusive" and not e.satisfied


def test_sphere_latents_other_than_uniformsphere_are_tested_not_proved():
    uniform = th.Process(SphereOnly(3), th.mixings.Linear.random(3))
    e = check(A.UniformOnSphere(), uniform, **FAST)
    assert e.verdict == "holds" and e.method == "energy-distance" and e.statistic > 0.05
    concentrated = th.Process(SphereOnly(3, mean=3.0), th.mixings.Linear.random(3))
    e = check(A.UniformOnSphere(), concentrated, **FAST)
    assert e.verdict == "violated" and e.statistic < 0.006


def test_sympy_decisions_on_floats_say_so():
    floats = box(th.mixings.Linear([[0.6, -0.8], [0.8, 0.6]]))
    e = check(A.LinearMixing(), floats)
    assert e.verdict == "proved" and "float coefficients" in e.message
    exact = box(th.mixings.Symbolic([z1 + z2**3, z2], [z1, z2]))
    e = check(A.VolumePreserving(), exact, **FAST)
    assert e.verdict == "proved" and e.method == "sympy" and "float" not in e.message
    e = check(A.Conformal(), floats, **FAST)
    assert e.satisfied and ("float coefficients" in e.message or e.verdict == "holds")


# --- 2. injectivity needs a verified collision; immersion is its own assumption -----------


def test_fold_is_not_injective_with_a_verified_collision():
    p = box(th.mixings.Fold(2))
    e = check(A.Injective(), p, **FAST)
    assert e.verdict == "violated" and e.method == "collision-search"
    a, b = as_tensor(e.witness["z"]), as_tensor(e.witness["z_prime"])
    assert (a - b).norm() > 0.1
    assert (p.mixing(a) - p.mixing(b)).norm() < 1e-10
    assert bool(p.latent.support.contains(torch.stack([a, b])).all())


@pytest.mark.parametrize("power", [3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_odd_powers_are_injective_but_not_immersions(power, seed):
    p = box(th.mixings.Symbolic([z1**power, z2], [z1, z2]))
    injective = check(A.Injective(), p, seed=seed, **FAST)
    assert injective.verdict == "holds", injective
    assert injective.statistic > 1e-6  # far from a collision (threshold 1e-9)
    immersion = check(A.Immersion(), p, seed=seed, **FAST)
    assert immersion.verdict == "violated", immersion
    z = as_tensor(immersion.witness["z"])
    sv = torch.linalg.svdvals(torch.func.jacfwd(p.mixing)(z))
    assert float(sv[-1] / sv[0]) < 1e-6  # a true witness: J is singular there
    assert abs(float(z[0])) < 1e-2


@pytest.mark.parametrize(
    "mixing",
    [th.mixings.InvertibleMLP(3, depth=3, seed=2), th.mixings.Mobius(3, seed=1)],
    ids=["invertible-mlp", "mobius"],
)
def test_invertible_maps_are_injective_immersions(mixing):
    p = box(mixing)
    injective = check(A.Injective(), p, **FAST)
    assert injective.verdict == "holds" and injective.statistic > 1e-4
    immersion = check(A.Immersion(), p, **FAST)
    assert immersion.verdict == "holds" and immersion.statistic > 1e-4


def test_linear_injectivity_is_decided_by_the_exact_rank():
    p = box(th.mixings.Linear.random(4, seed=3))
    for assumption in (A.Injective(), A.Immersion()):
        e = check(assumption, p)
        assert e.verdict == "proved" and e.method == "rank" and "exact rank" in e.message
    tall = box(th.mixings.Linear([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    assert check(A.Injective(), tall).verdict == "proved"


@pytest.mark.parametrize(
    "latent",
    [th.latents.Uniform(3), th.latents.Uniform(3, low=0.0, high=1.0), th.latents.UniformSphere(3)],
    ids=["box", "positive-box", "sphere"],
)
def test_singular_linear_maps_collide_along_the_kernel(latent):
    matrix = [[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]]  # kernel (2, -1, 0)
    p = th.Process(latent, th.mixings.Linear(matrix))
    e = check(A.Injective(), p)
    assert e.verdict == "violated" and e.method == "rank"
    a, b = as_tensor(e.witness["z"]), as_tensor(e.witness["z_prime"])
    torch.testing.assert_close(p.mixing(a), p.mixing(b))
    assert (a - b).norm() > 0.01 and bool(latent.support.contains(torch.stack([a, b])).all())
    assert check(A.Immersion(), p).verdict == "violated"


def test_fewer_outputs_than_inputs():
    wide = box(th.mixings.Linear([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
    e = check(A.Injective(), wide)
    assert e.verdict == "violated" and e.method == "rank"
    a, b = as_tensor(e.witness["z"]), as_tensor(e.witness["z_prime"])
    torch.testing.assert_close(wide.mixing(a), wide.mixing(b))
    squash = box(th.mixings.Symbolic([z1 + z2**3], [z1, z2]))
    e = check(A.Injective(), squash, **FAST)
    assert e.verdict == "violated" and e.method == "dimension"
    assert check(A.Immersion(), squash, **FAST).verdict == "violated"


def test_exact_rank_modulo_a_prime():
    assert rank_mod_prime(np.array([[1.0, 2.0], [2.0, 4.0]])) == 1
    assert rank_mod_prime(np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])) == 2
    assert rank_mod_prime(np.array([[0.5, 0.25], [1.0, 0.5]])) == 1
    assert rank_mod_prime(np.zeros((4, 3))) == 0
    assert rank_mod_prime(np.random.default_rng(0).standard_normal((7, 5))) == 5


def test_immersion_is_registered_like_the_builtins():
    assert A.get("immersion") == A.Immersion()
    stmt = A.Immersion().statement(3)
    assert isinstance(stmt, sp.Ne)


# --- 3. factorized: a consistent independence test -------------------------------------


@pytest.mark.parametrize(
    "kind,verdict",
    [
        ("laplace", "holds"),
        ("normal", "holds"),
        ("variance", "violated"),
        ("correlated", "violated"),
        ("cos-variance", "violated"),
        ("sign", "violated"),
        ("circle", "violated"),
    ],
)
@pytest.mark.parametrize("n", [2, 5, 10])
def test_factorized_by_hsic(kind, verdict, n):
    p = th.Process(SampledOnly(n, kind), th.mixings.Linear.random(n))
    e = check(A.Factorized(), p, **FAST)
    assert e.verdict == verdict and e.method == "hsic", e
    assert e.tolerance == 0.01 and "level 0.01" in e.message
    assert e.n_points == D.INDEPENDENCE_SAMPLES and f"{D.INDEPENDENCE_SAMPLES} samples" in e.message
    if verdict == "holds":  # a seeded null draw, well above the level
        assert e.statistic > 0.05
    else:  # p far below the level: 1e-8 (the least dependent case gives about 1e-60)
        assert e.statistic < 1e-8 and e.witness["pair"] == [0, 1]


def test_the_variance_dependence_is_invisible_to_moment_correlations():
    z = SampledOnly(3, "variance").sample(20000, seed=0)
    for features in (z, z**2):  # what the old test looked at
        c = torch.corrcoef(features[:, :2].T)[0, 1]
        assert abs(float(c)) < 0.05
    pairs, p = D.hsic_test(z[:256], seed=0)
    assert pairs[0] == (0, 1) and p[0] < 1e-5
    pairs, p = D.rank_hsic_test(z[:4096])
    assert pairs[0] == (0, 1) and p[0] < 1e-5


def test_the_periodic_variance_needs_the_copula_test():
    """z2 = e √(1 + 0.9 cos 4πz1): the Gram-matrix HSIC on 256 samples misses it (its
    smallest p-value was 1 in the old check), the copula test on 4096 does not."""
    z = SampledOnly(2, "cos-variance").sample(4096, seed=0)
    _, p_gram = D.hsic_test(z[:256], seed=0)
    _, p_copula = D.rank_hsic_test(z)
    assert p_gram[0] > 0.05 and p_copula[0] < 1e-8


def _whitened(x: np.ndarray, order: int) -> np.ndarray:
    """The test's features by a second route: argsort ranks, explicit inverse square root
    of their covariance."""
    size = len(x)
    u = (np.argsort(np.argsort(x)) + 0.5) / size
    f = np.sqrt(2) * np.cos(np.pi * np.outer(u, np.arange(1, order + 1)))
    f -= f.mean(0)
    w, v = np.linalg.eigh(f.T @ f)
    return f @ v @ np.diag(w**-0.5) @ v.T


def test_rank_hsic_is_hsic_of_the_whitened_cosine_kernel():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(500)
    y = 0.3 * x**2 + rng.standard_normal(500)
    Qx, Qy = _whitened(x, 2), _whitened(y, 2)
    K, L = Qx @ Qx.T, Qy @ Qy.T  # centred already: H K H = K
    T = (500 - 1) * np.trace(K @ L)
    from scipy import stats

    _, p = D.rank_hsic_test(np.stack([x, y], 1), orders=(2,))
    assert p[0] == pytest.approx(stats.chi2.sf(T, 4), rel=1e-6)
    _, p4 = D.rank_hsic_test(np.stack([x, y], 1), orders=(1, 2))  # Bonferroni over orders
    assert p4[0] == pytest.approx(min(1.0, 2 * min(stats.chi2.sf(T, 4), _p_order_1(x, y))))


def _p_order_1(x, y):
    from scipy import stats

    qx, qy = _whitened(x, 1), _whitened(y, 1)
    return stats.chi2.sf((len(x) - 1) * float(qx[:, 0] @ qy[:, 0]) ** 2, 1)


def test_rank_hsic_sees_only_the_copula():
    z = SampledOnly(4, "sign").sample(2048, seed=1).numpy()
    pairs, p = D.rank_hsic_test(z)
    monotone = np.stack([np.exp(z[:, 0]), z[:, 1] ** 3, -z[:, 2], np.arctan(z[:, 3])], 1)
    _, p_monotone = D.rank_hsic_test(monotone)
    np.testing.assert_allclose(p, p_monotone, rtol=1e-9)
    assert pairs[int(np.argmin(p))] == (0, 1)


def test_rank_hsic_ties_and_constants():
    rng = np.random.default_rng(0)
    z = np.stack([np.full(3000, 2.0), rng.integers(0, 3, 3000), rng.laplace(size=3000)], 1)
    pairs, p = D.rank_hsic_test(z)
    assert pairs == [(0, 1), (0, 2), (1, 2)]
    assert p[0] == 1.0 and p[1] == 1.0 and p[2] > 0.01  # a constant: independent
    z[:, 2] = z[:, 1] + 0.1 * rng.standard_normal(3000)  # a tied column it depends on
    assert D.rank_hsic_test(z)[1][2] < 1e-10
    with pytest.raises(ValueError, match="finite"):
        D.rank_hsic_test(np.array([[0.0, np.nan], [1.0, 2.0]] * 3))
    with pytest.raises(ValueError, match="N >= 4"):
        D.rank_hsic_test(z[:3])
    with pytest.raises(ValueError, match="orders"):
        D.rank_hsic_test(z, orders=(0, 2))


def test_rank_hsic_null_p_values_are_calibrated():
    """60 independent pairs at order 4: χ²(16) p-values uniform (Kolmogorov–Smirnov)."""
    from scipy import stats

    rng = np.random.default_rng(7)
    p = [D.rank_hsic_test(rng.laplace(size=(1024, 2)), orders=(4,))[1][0] for _ in range(60)]
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_holm_adjustment():
    np.testing.assert_allclose(D.holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])


def test_factorized_level_is_a_parameter():
    p = th.Process(SampledOnly(2, "laplace"), th.mixings.Linear.random(2))
    e = check(A.Factorized(level=0.05), p, **FAST)
    assert e.tolerance == 0.05 and "level 0.05" in e.message
    with pytest.raises(ValueError, match="level"):
        A.Factorized(level=0.0)


# --- 4. non-Gaussian: a consistent normality test ---------------------------------------


def test_the_mixture_has_gaussian_skewness_and_kurtosis():
    assert Fraction(5, 7) == KURTOSIS_3_WEIGHT
    w = KURTOSIS_3_WEIGHT
    assert w * Fraction(9, 5) + (1 - w) * 6 == 3  # E z⁴ = 3 with E z² = 1


@pytest.mark.parametrize(
    "kind,verdict",
    [("laplace", "holds"), ("normal", "violated"), ("kurtosis3", "holds"), ("gauss2", "violated")],
)
@pytest.mark.parametrize("n", [3, 10])
def test_non_gaussian_by_anderson_darling(kind, verdict, n):
    p = th.Process(SampledOnly(n, kind), th.mixings.Linear.random(n))
    e = check(A.NonGaussian(), p, **FAST)
    assert e.verdict == verdict and e.method == "anderson-darling", e
    assert "level 0.01" in e.message and f"Holm over the {n} components" in e.message
    gaussian = {"laplace": [], "kurtosis3": [], "normal": list(range(n)), "gauss2": [0, 1]}
    assert e.statistic == len(gaussian[kind])
    if verdict == "violated":  # a holding verdict carries no witness
        raw, adjusted = np.array(e.witness["raw_p_values"]), np.array(e.witness["p_values"])
        np.testing.assert_allclose(adjusted, D.holm(raw))
        assert e.witness["gaussian_components"] == gaussian[kind]


@dataclass
class GaussianLaplace(th.latents.Laplace):
    """Declares Laplace (inherited) but draws Gaussians: its samples decide."""

    def _draw(self, rng, n):
        return rng.standard_normal((n, self.n))


def test_an_inherited_declaration_does_not_describe_a_new_sampler():
    p = th.Process(GaussianLaplace(3), th.mixings.Linear.random(3))
    e = check(A.NonGaussian(), p, **FAST)
    assert e.verdict == "violated" and e.method == "anderson-darling"
    assert check(A.Factorized(), p, **FAST).method == "hsic"  # not sympy on Laplace's log p


def test_one_gaussian_source_is_allowed():
    p = th.Process(SampledOnly(3, "gauss2"), th.mixings.Linear.random(3))
    assert check(A.NonGaussian(max_gaussian=2), p, **FAST).verdict == "holds"


def test_anderson_darling_p_values():
    rng = np.random.default_rng(0)
    _, p = D.anderson_darling(rng.standard_normal((20000, 4)))
    assert (p > 0.05).all()
    w = float(KURTOSIS_3_WEIGHT)
    mix = np.where(
        rng.uniform(size=20000) < w,
        rng.uniform(-np.sqrt(3), np.sqrt(3), 20000),
        rng.laplace(0.0, 1 / np.sqrt(2), 20000),
    )
    _, p = D.anderson_darling(mix[:, None])
    assert p[0] < 1e-10


# --- 5. sufficient variability: an exact rank, or not applicable -------------------------


def test_sufficient_variability_is_an_exact_rank():
    seg = th.Process(th.latents.Segmented(3, n_segments=10), th.mixings.Linear.random(3))
    e = check(A.SufficientVariability(), seg)
    assert e.verdict == "proved" and e.method == "rank"
    flat = th.Process(th.latents.Segmented(3, spread=0.0), th.mixings.Linear.random(3))
    e = check(A.SufficientVariability(), flat)
    assert e.verdict == "violated" and e.method == "rank" and e.witness["kernel_vector"]
    few = th.Process(th.latents.Segmented(3, n_segments=3), th.mixings.Linear.random(3))
    assert check(A.SufficientVariability(), few).verdict == "violated"


def test_sufficient_variability_does_not_apply_without_segments():
    p = th.Process(th.latents.Laplace(3), th.mixings.Linear.random(3))
    e = check(A.SufficientVariability(), p)
    assert e.verdict == "not-applicable" and not e.satisfied
    assert "not-applicable" in VERDICTS
    assert Evidence("x", "not-applicable").to_dict()["verdict"] == "not-applicable"
    assert not_applicable("x", "why", method="family").verdict == "not-applicable"
    schema = Path(__file__).parents[1] / "verification" / "schemas" / "report.schema.json"
    assert "not-applicable" in schema.read_text()


# --- 6. a sympy failure is never silent ---------------------------------------------------


@pytest.mark.parametrize("time_limit", [2.0, float("inf")])
def test_sympy_errors_are_named_in_the_message(time_limit):
    p = th.Process(th.latents.Uniform(2), BrokenForm(2))
    for assumption in (A.Conformal(), A.LinearMixing()):
        e = check(assumption, p, time_limit=time_limit, n_points=64, adversarial_steps=5)
        assert "ValueError" in e.message, e.message
    q = th.Process(BrokenDensity(2), th.mixings.Linear.random(2))
    e = check(A.Factorized(), q, time_limit=time_limit, **FAST)
    assert "ZeroDivisionError" in e.message and e.method == "hsic"


def test_the_linear_mixing_jacobian_is_time_limited():
    p = th.Process(th.latents.Uniform(2), BrokenForm(2, mode="sleep"))
    start = time.perf_counter()
    e = check(A.LinearMixing(), p, time_limit=0.5, n_points=64)
    assert time.perf_counter() - start < 10
    assert "time limit" in e.message and e.verdict == "holds"


# --- 7. content invariance needs a random style change ------------------------------------


def test_content_style_augmentation_is_content_invariant():
    e = check(A.ContentInvariance(), th.theorems.get("content-style").canonical_process())
    assert e.verdict == "holds" and e.method == "sampled"
    boxed = th.Process(
        th.latents.Uniform(3), th.mixings.Linear.random(3), th.conditionals.ContentStyle(1)
    )  # style clamped onto the box: atoms on the boundary only
    assert check(A.ContentInvariance(), boxed).verdict == "holds"


@pytest.mark.parametrize("random_sign", [False, True], ids=["deterministic", "two-valued"])
def test_a_style_shift_without_density_is_not_content_invariance(random_sign):
    p = th.Process(
        th.latents.Normal(3), th.mixings.Linear.random(3), StyleShift(1, 0.5, random_sign)
    )
    e = check(A.ContentInvariance(), p)
    assert e.verdict == "violated", e
    w = e.witness
    assert w["z_prime"][w["coordinate"]] == w["z_prime_again"][w["coordinate"]]
    assert w["z_prime"][0] == w["z"][0]  # content unchanged: it is the style that fails


def test_a_content_change_is_caught():
    p = th.Process(th.latents.Normal(3), th.mixings.Linear.random(3), StyleShift(0, 0.5))
    e = check(A.ContentInvariance(content=1), p)
    assert e.verdict == "violated" and "content block" in e.message


def test_exact_verdicts_do_not_depend_on_the_machine_speed():
    """A separable log-density is proved from its construction (no time limit decides
    it), and a mixing whose symbolic form is too large is never attempted: both verdicts
    are the same with no time at all for sympy as with plenty."""
    import theory as th
    from verification import check

    wide = th.Process(th.latents.Laplace(50), th.mixings.InvertibleMLP(50, depth=3, seed=0))
    for limit in (0.0, 30.0):
        e = check("factorized", wide, time_limit=limit, n_points=16)
        assert e.verdict == "proved" and "Σ" in e.message, e.message
    from verification.checks._core import SYMBOLIC_SIZE_LIMIT

    assert th.mixings.InvertibleMLP(10, depth=3).symbolic_size() > SYMBOLIC_SIZE_LIMIT
    assert th.mixings.InvertibleMLP(3, depth=3).symbolic_size() < SYMBOLIC_SIZE_LIMIT
    e = check("conformal", wide, time_limit=30.0, n_points=16)
    assert "skipped" in e.message and "any machine" in e.message
    small = th.Process(th.latents.Laplace(3), th.mixings.InvertibleMLP(3, depth=3, seed=0))
    assert "symbolic form has about" not in check("conformal", small, n_points=16).message
