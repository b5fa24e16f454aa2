"""Known-answer tests: every check on cases whose answer is known analytically."""

import pytest
import sympy as sp
import torch

import theory as th
from verification import Evidence, EvidenceSet, check

A = th.assumptions
z1, z2 = sp.symbols("z1 z2")
FAST = {"n_points": 256, "adversarial_steps": 20}


def box(mixing, n=None):
    return th.Process(th.latents.Uniform(n or mixing.n_in), mixing)


def test_issue_example():
    g = th.mixings.Symbolic([z1 + z2**3, z2], [z1, z2])
    p = th.Process(latent=th.latents.Uniform(2, low=-1, high=1), mixing=g)
    vol = check(A.VolumePreserving(), p)
    assert vol.verdict == "proved" and vol.method == "sympy"
    conf = check(A.Conformal(), p)
    assert conf.verdict == "violated" and conf.witness is not None
    z = torch.tensor(conf.witness["z"], dtype=torch.float64)
    J = torch.func.jacfwd(g)(z)
    G = J.T @ J
    assert torch.linalg.norm(G - G.trace() / 2 * torch.eye(2)) > 1e-3  # a true witness
    evidence = check(th.theorems.get("linear-ica"), p, **FAST)
    assert isinstance(evidence, EvidenceSet) and len(evidence) == 4


def test_mobius_is_conformal_and_injective():
    p = box(th.mixings.Mobius(3, seed=1))
    assert check(A.Conformal(), p, **FAST).verdict == "holds"
    assert check(A.OrthogonalColumns(), p, **FAST).verdict == "holds"
    assert check(A.Injective(), p, **FAST).verdict == "holds"
    assert check(A.VolumePreserving(), p, **FAST).verdict == "violated"


def test_invertible_mlp_injective_but_not_conformal():
    p = box(th.mixings.InvertibleMLP(3, depth=3, seed=0))
    assert check(A.Conformal(), p, **FAST).verdict == "violated"
    assert check(A.Injective(), p, **FAST).verdict == "holds"


def test_additive_coupling_is_volume_preserving():
    p = box(th.mixings.AdditiveCoupling(4, seed=0))
    assert check(A.VolumePreserving(), p, time_limit=0.5, **FAST).satisfied
    assert check(A.Conformal(), p, **FAST).verdict == "violated"


def test_polar_has_orthogonal_columns_but_is_not_conformal():
    p = box(th.mixings.Polar())
    assert check(A.OrthogonalColumns(), p, **FAST).verdict == "proved"
    assert check(A.Conformal(), p, **FAST).verdict == "violated"


def test_fold_collision_witness_pair():
    p = box(th.mixings.Fold(2))
    e = check(A.Injective(), p, **FAST)
    assert e.verdict == "violated" and e.method == "collision-search"
    a = torch.tensor(e.witness["z"], dtype=torch.float64)
    b = torch.tensor(e.witness["z_prime"], dtype=torch.float64)
    assert (a - b).norm() > 1e-2
    assert (p.mixing(a) - p.mixing(b)).norm() < 1e-8
    assert bool(p.latent.support.contains(torch.stack([a, b])).all())


def test_polar_wraps_around_on_unbounded_latents():
    p = th.Process(th.latents.Normal(2), th.mixings.Polar())
    e = check(A.Injective(), p, n_points=1024)
    assert e.verdict == "violated"


def test_singular_linear_map_is_not_injective():
    p = box(th.mixings.Linear([[1.0, 2.0], [2.0, 4.0]]))
    e = check(A.Injective(), p, **FAST)
    assert e.verdict == "violated" and e.method == "rank"  # decided by the exact rank
    a = torch.tensor(e.witness["z"], dtype=torch.float64)
    b = torch.tensor(e.witness["z_prime"], dtype=torch.float64)
    torch.testing.assert_close(p.mixing(a), p.mixing(b))
    assert (a - b).norm() > 1e-4 and bool(p.latent.support.contains(torch.stack([a, b])).all())


def test_linear_mixing_check():
    assert check(A.LinearMixing(), box(th.mixings.Linear.random(3))).verdict == "proved"
    assert check(A.LinearMixing(), box(th.mixings.InvertibleMLP(3)), **FAST).verdict == "violated"


@pytest.mark.parametrize(
    "latent,verdict",
    [
        (th.latents.Laplace(3), "proved"),
        (th.latents.Uniform(2), "proved"),
        (th.latents.Normal(3), "proved"),
        (th.latents.Normal(2, cov=[[1.0, 0.5], [0.5, 1.0]]), "violated"),
        (th.latents.UniformSphere(3), "violated"),
    ],
)
def test_factorized(latent, verdict):
    p = th.Process(latent, th.mixings.Linear.random(latent.dim))
    assert check(A.Factorized(), p).verdict == verdict


@pytest.mark.parametrize(
    "latent,ok",
    [
        (th.latents.Laplace(3), True),
        (th.latents.Uniform(3), True),
        (th.latents.Normal(3), False),
        (th.latents.GeneralizedNormal(3, beta=2.0), False),
        (th.latents.Product((th.latents.Normal(1), th.latents.Laplace(2))), True),
        (th.latents.Product((th.latents.Normal(2), th.latents.Laplace(1))), False),
    ],
)
def test_non_gaussian(latent, ok):
    p = th.Process(latent, th.mixings.Linear.random(latent.dim))
    assert check(A.NonGaussian(), p).satisfied is ok


def test_non_gaussian_by_moments_when_family_is_silent():
    p = th.Process(th.latents.Segmented(3, n_segments=8), th.mixings.Linear.random(3))
    e = check(A.NonGaussian(), p)
    assert e.verdict == "holds" and e.method == "anderson-darling"
    flat = th.latents.Segmented(3, n_segments=8, base="normal", spread=0.0)
    e = check(A.NonGaussian(), th.Process(flat, th.mixings.Linear.random(3)))
    assert e.verdict == "violated"


def test_content_invariance_and_sufficient_variability():
    t = th.theorems.get("content-style")
    assert check(A.ContentInvariance(), t.canonical_process(), **FAST).verdict == "holds"
    vmf = th.theorems.get("cl-ica").canonical_process()
    assert check(A.ContentInvariance(), vmf, **FAST).verdict == "violated"
    seg = th.Process(th.latents.Segmented(3, n_segments=10), th.mixings.InvertibleMLP(3))
    assert check(A.SufficientVariability(), seg).verdict == "proved"  # an exact rank
    flat = th.Process(
        th.latents.Segmented(3, n_segments=10, spread=0.0), th.mixings.InvertibleMLP(3)
    )
    assert check(A.SufficientVariability(), flat).verdict == "violated"


def test_user_defined_jacobian_condition():
    isometry = th.JacobianCondition("isometry", lambda J: J.T * J - sp.Identity(J.shape[1]))
    rotation = th.mixings.Linear([[0.6, -0.8], [0.8, 0.6]])
    assert check(isometry, box(rotation)).verdict == "proved"
    assert check(isometry, box(th.mixings.Linear([[2.0, 0.0], [0.0, 1.0]]))).verdict == "violated"


def test_checks_are_deterministic_under_a_seed():
    p = box(th.mixings.InvertibleMLP(3, seed=4))
    a = check(A.Injective(), p, seed=7, **FAST).to_dict()
    b = check(A.Injective(), p, seed=7, **FAST).to_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_non_finite_output_is_a_clear_error():
    bad = th.Process(th.latents.Uniform(2), th.mixings.Symbolic([sp.log(z1), z2], [z1, z2]))
    with pytest.raises(ValueError, match="non-finite output"):
        check(A.Conformal(), bad)


def test_names_resolve_and_unknown_names_fail():
    p = box(th.mixings.Linear.random(2))
    evidence = check("linear-mixing", p)
    assert isinstance(evidence, Evidence) and evidence.verdict == "proved"
    with pytest.raises(KeyError, match="unknown assumption or theorem"):
        check("no-such-thing", p)


def test_float_round_off_is_not_a_violation():
    """An orthogonal matrix with float entries: residuals are ~1e-16, not violations."""
    q = torch.linalg.qr(
        torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    )[0]
    p = box(th.mixings.Linear(q.tolist()))
    for assumption in (A.Conformal(), A.OrthogonalColumns(), A.VolumePreserving()):
        assert check(assumption, p, **FAST).satisfied, assumption.name


def test_off_main_thread_the_exact_attempt_still_runs():
    import threading

    g = th.mixings.Symbolic([z1 + z2**3, z2], [z1, z2])
    p = th.Process(th.latents.Uniform(2), g)
    out = {}
    thread = threading.Thread(target=lambda: out.update(e=check(A.VolumePreserving(), p, **FAST)))
    thread.start()
    thread.join()
    assert out["e"].verdict == "proved" and out["e"].method == "sympy"
