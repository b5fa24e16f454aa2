import numpy as np
import pytest
import sympy as sp
import torch
from scipy.special import iv

import theory as th
from theory.latents import latent_symbols


@pytest.mark.parametrize(
    "latent",
    [
        th.latents.Normal(3),
        th.latents.Normal(2, cov=[[1.0, 0.5], [0.5, 1.0]]),
        th.latents.Laplace(3),
        th.latents.GeneralizedNormal(3, beta=0.7),
        th.latents.Uniform(3),
        th.latents.UniformSphere(3),
        th.latents.Product((th.latents.Laplace(1), th.latents.Uniform(2))),
        th.latents.Segmented(3, n_segments=5),
    ],
)
def test_latent_sampling_is_seeded_and_in_support(latent):
    a, b = latent.sample(500, seed=3), latent.sample(500, seed=3)
    assert a.shape == (500, latent.dim) and a.dtype == torch.float64
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, latent.sample(500, seed=4))
    assert bool(latent.support.contains(a).all())
    assert type(latent).from_dict(latent.to_dict()).to_dict() == latent.to_dict()


def test_log_densities_normalise_and_match_scipy():
    z = latent_symbols(1)
    for latent in (
        th.latents.Laplace(1, scale=2.0),
        th.latents.GeneralizedNormal(1, beta=3.0),
        th.latents.Normal(1),
    ):
        density = sp.exp(latent.log_density(z))
        total = sp.Integral(density, (z[0], -sp.oo, sp.oo)).evalf(30)
        assert abs(float(total) - 1.0) < 1e-8


def test_correlated_normal_sample_covariance():
    cov = [[1.0, 0.6], [0.6, 2.0]]
    z = th.latents.Normal(2, cov=cov).sample(200_000, seed=0).numpy()
    np.testing.assert_allclose(np.cov(z.T), cov, atol=0.02)


def test_bad_latent_arguments():
    with pytest.raises(ValueError, match="positive integer"):
        th.latents.Laplace(0)
    with pytest.raises(ValueError, match="positive definite"):
        th.latents.Normal(2, cov=[[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="high > low"):
        th.latents.Uniform(2, low=1.0, high=0.0)


@pytest.mark.parametrize("p", [3, 10])
def test_vmf_sampler_mean_resultant_matches_analytic(p):
    """E[z·z'] = A_p(kappa) = I_{p/2}(kappa) / I_{p/2-1}(kappa) for the vMF distribution."""
    kappa = 10.0
    z = th.latents.UniformSphere(p).sample(40_000, seed=0)
    z_pos = th.conditionals.VonMisesFisher(kappa).sample(z, seed=1)
    w = (z * z_pos).sum(1)
    expected = iv(p / 2, kappa) / iv(p / 2 - 1, kappa)
    assert abs(float(w.mean()) - expected) < 4 * float(w.std()) / np.sqrt(len(w))
    torch.testing.assert_close(z_pos.norm(dim=1), torch.ones(len(z), dtype=torch.float64))


def test_content_style_keeps_content():
    z = th.latents.Normal(5).sample(1000, seed=0)
    z_pos = th.conditionals.ContentStyle(content=2, p=0.5).sample(z, seed=1)
    assert torch.equal(z_pos[:, :2], z[:, :2])
    changed = (z_pos[:, 2:] != z[:, 2:]).double().mean(0)
    assert torch.all((changed > 0.4) & (changed < 0.6))


MIXINGS = [
    th.mixings.Linear.random(3, seed=1),
    th.mixings.InvertibleMLP(3, depth=3, seed=2),
    th.mixings.Mobius(3, seed=0),
    th.mixings.AdditiveCoupling(4, seed=0),
    th.mixings.Polar(),
    th.mixings.Fold(2),
]


@pytest.mark.parametrize("mixing", MIXINGS, ids=lambda m: m.family)
def test_mixing_sympy_form_matches_torch(mixing):
    syms = latent_symbols(mixing.n_in)
    z = torch.randn(
        16, mixing.n_in, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    f = th.compile_exprs(mixing.sympy_form(syms), syms)
    torch.testing.assert_close(f(z), mixing(z))
    rebuilt = th.mixings.Mixing.from_dict(mixing.to_dict())
    torch.testing.assert_close(rebuilt(z), mixing(z))


def test_mixing_under_vmap_and_float32():
    g = th.mixings.InvertibleMLP(4, seed=0)
    z = torch.randn(8, 4)
    assert g(z).dtype == torch.float32
    torch.testing.assert_close(torch.vmap(g)(z), g(z))


def test_mixing_dimension_error():
    with pytest.raises(ValueError, match="expects inputs of dimension 3, got 2"):
        th.mixings.Mobius(3)(torch.zeros(1, 2))


def test_symbolic_mixing_roundtrip_and_self_check():
    z1, z2 = sp.symbols("z1 z2")
    g = th.mixings.Symbolic([z1 * sp.exp(z2 / 4), z2], [z1, z2])
    rebuilt = th.mixings.Mixing.from_dict(g.to_dict())
    assert [str(e) for e in rebuilt.exprs] == [str(e) for e in g.exprs]


def test_process_roundtrip_hash_and_dimension_mismatch():
    p = th.Process(
        th.latents.UniformSphere(3),
        th.mixings.InvertibleMLP(3, seed=1),
        th.conditionals.VonMisesFisher(5.0),
    )
    q = th.Process.from_json(p.to_json())
    assert q == p and q.hash == p.hash
    _, _, x, x_pos = p.sample_pairs(10, seed=0)
    assert x.shape == x_pos.shape == (10, 3)
    with pytest.raises(ValueError, match="dimension mismatch"):
        th.Process(th.latents.Laplace(2), th.mixings.Mobius(3))


def test_theorem_catalogue():
    assert {"linear-ica", "cl-ica", "content-style", "tcl"} <= set(th.theorems.names())
    for t in th.theorems.catalogue():
        assert t.cite and t.assumptions
        assert isinstance(t.canonical_process(), th.Process)
    with pytest.raises(KeyError, match="unknown theorem"):
        th.theorems.get("nope")


def test_assumption_statements_are_sympy():
    for name in th.assumptions.names():
        stmt = th.assumptions.get(name).statement(3)
        assert isinstance(stmt, sp.Basic), name
    J = sp.MatrixSymbol("J", 2, 2)
    assert th.assumptions.Conformal().residual(J).shape == (2, 2)
