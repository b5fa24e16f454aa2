"""Hostile and careless inputs are refused at construction; big requests refuse clearly.

Every init field of every latent, conditional, mixing and support is validated in
``__post_init__`` (theory/_validate.py) with an InvalidArgument naming the class, the
parameter and the accepted range; requests that cannot fit in memory raise ResourceLimit
with the estimate (theory/_resources.py).
"""

import json
import math
import time

import numpy as np
import pytest
import torch

import theory as th
from theory import _resources
from theory import _validate as valid
from theory.errors import InvalidArgument, ResourceLimit
from verification import check

pytestmark = pytest.mark.timeout(60)  # every hostile input is refused fast

L, C, M, S = th.latents, th.conditionals, th.mixings, th.supports
INF, NAN = float("inf"), float("nan")

HOSTILE = [
    # latents
    ("Laplace", "n", lambda: L.Laplace(0)),
    ("Laplace", "n", lambda: L.Laplace(-3)),
    ("Laplace", "n", lambda: L.Laplace(True)),
    ("Laplace", "n", lambda: L.Laplace(2.5)),
    ("Laplace", "n", lambda: L.Laplace(10**9)),
    ("Laplace", "n", lambda: L.Laplace("3")),
    ("Laplace", "scale", lambda: L.Laplace(3, scale=INF)),
    ("Laplace", "scale", lambda: L.Laplace(3, scale=NAN)),
    ("Laplace", "scale", lambda: L.Laplace(3, scale=0.0)),
    ("Laplace", "scale", lambda: L.Laplace(3, scale=-1.0)),
    ("Laplace", "scale", lambda: L.Latent.from_dict({"type": "Laplace", "n": 3, "scale": 1e308})),
    ("GeneralizedNormal", "beta", lambda: L.GeneralizedNormal(3, beta=1e308)),
    ("GeneralizedNormal", "beta", lambda: L.GeneralizedNormal(3, beta=0.0)),
    ("GeneralizedNormal", "scale", lambda: L.GeneralizedNormal(3, scale=-INF)),
    ("Uniform", "low", lambda: L.Uniform(2, low=-INF)),
    ("Uniform", "high", lambda: L.Uniform(2, high=1e308)),
    ("Uniform", "low", lambda: L.Uniform(2, low=NAN)),
    ("Uniform", "high", lambda: L.Uniform(2, low=1.0, high=0.0)),
    ("UniformSphere", "n", lambda: L.UniformSphere(1)),
    ("Normal", "cov", lambda: L.Normal(2, cov=[[1.0, 0.0], [0.0]])),
    ("Normal", "cov", lambda: L.Normal(2, cov=np.eye(3).tolist())),
    ("Normal", "cov", lambda: L.Normal(2, cov=[[NAN, 0.0], [0.0, 1.0]])),
    ("Normal", "cov", lambda: L.Normal(2, cov=[[1e308, 0.0], [0.0, 1.0]])),
    ("Normal", "cov", lambda: L.Normal(2, cov=[[1.0, 2.0], [2.0, 1.0]])),
    ("Normal", "cov", lambda: L.Normal(2, cov="identity")),
    ("Segmented", "spread", lambda: L.Segmented(3, spread=1e308)),
    ("Segmented", "spread", lambda: L.Segmented(3, spread=INF)),
    ("Segmented", "spread", lambda: L.Segmented(3, spread=-1.0)),
    ("Segmented", "n_segments", lambda: L.Segmented(3, n_segments=0)),
    ("Segmented", "n_segments", lambda: L.Segmented(3, n_segments=10**9)),
    ("Segmented", "seed", lambda: L.Segmented(3, seed=-1)),
    ("Segmented", "seed", lambda: L.Segmented(3, seed=2**64)),
    ("Segmented", "seed", lambda: L.Segmented(3, seed=True)),
    ("Segmented", "base", lambda: L.Segmented(3, base="cauchy")),
    ("Product", "blocks", lambda: L.Product(())),
    ("Product", "blocks", lambda: L.Product((L.Laplace(4096), L.Laplace(1)))),
    # conditionals
    ("VonMisesFisher", "kappa", lambda: C.VonMisesFisher(kappa=INF)),
    ("VonMisesFisher", "kappa", lambda: C.VonMisesFisher(kappa=NAN)),
    ("VonMisesFisher", "kappa", lambda: C.VonMisesFisher(kappa=0.0)),
    ("VonMisesFisher", "kappa", lambda: C.VonMisesFisher(kappa=1e308)),
    ("VonMisesFisher", "kappa", lambda: C.VonMisesFisher(kappa=True)),
    ("VonMisesFisher", "kappa", lambda: C.VonMisesFisher(kappa="10")),
    ("Normal", "scale", lambda: C.Normal(scale=-INF)),
    ("Laplace", "scale", lambda: C.Laplace(scale=NAN)),
    ("ContentStyle", "content", lambda: C.ContentStyle(content=-1)),
    ("ContentStyle", "content", lambda: C.ContentStyle(content=1.5)),
    ("ContentStyle", "p", lambda: C.ContentStyle(content=2, p=1.5)),
    ("ContentStyle", "p", lambda: C.ContentStyle(content=2, p=NAN)),
    ("ContentStyle", "scale", lambda: C.ContentStyle(content=2, scale=1e308)),
    # mixings
    ("Linear", "matrix", lambda: M.Linear([[1.0, INF], [0.0, 1.0]])),
    ("Linear", "matrix", lambda: M.Linear([[1.0, 2.0], [3.0]])),
    ("Linear", "matrix", lambda: M.Linear([[1e200, 0.0], [0.0, 1.0]])),
    ("Linear", "matrix", lambda: M.Linear([])),
    ("Linear", "matrix", lambda: M.Linear([[True, False], [False, True]])),
    ("Linear", "matrix", lambda: M.Linear("abc")),
    ("Linear", "matrix", lambda: M.Linear([1.0, 2.0])),
    ("Linear.random", "seed", lambda: M.Linear.random(3, seed=-1)),
    ("Linear.random", "max_condition", lambda: M.Linear.random(3, max_condition=INF)),
    ("InvertibleMLP", "n", lambda: M.InvertibleMLP(100_000)),
    ("InvertibleMLP", "n", lambda: M.InvertibleMLP(1000)),
    ("InvertibleMLP", "depth", lambda: M.InvertibleMLP(3, depth=0)),
    ("InvertibleMLP", "depth", lambda: M.InvertibleMLP(3, depth=2.0)),
    ("InvertibleMLP", "seed", lambda: M.InvertibleMLP(3, seed=-1)),
    ("InvertibleMLP", "seed", lambda: M.InvertibleMLP(3, seed=2**64)),
    ("InvertibleMLP", "negative_slope", lambda: M.InvertibleMLP(3, negative_slope=0.0)),
    ("InvertibleMLP", "negative_slope", lambda: M.InvertibleMLP(3, negative_slope=NAN)),
    ("InvertibleMLP", "cond_quantile", lambda: M.InvertibleMLP(3, cond_quantile=1.5)),
    ("Mobius", "n", lambda: M.Mobius(True)),
    ("Mobius", "seed", lambda: M.Mobius(3, seed=np.int64(-5))),
    ("AdditiveCoupling", "n", lambda: M.AdditiveCoupling(1)),
    ("AdditiveCoupling", "hidden", lambda: M.AdditiveCoupling(4, hidden=10**9)),
    ("AdditiveCoupling", "depth", lambda: M.AdditiveCoupling(4, depth=-1)),
    ("Polar", "offset", lambda: M.Polar(offset=INF)),
    ("Polar", "offset", lambda: M.Polar(offset=1e308)),
    ("Fold", "n", lambda: M.Fold(0)),
    ("Fold", "n", lambda: M.Mixing.from_dict({"type": "Fold", "n": 1e300})),
    # supports
    ("Box", "low", lambda: S.Box(2, low=-INF)),
    ("Box", "low", lambda: S.Box(2, low=NAN, high=1.0)),
    ("Box", "dim", lambda: S.Box(0)),
    ("Box", "dim", lambda: S.Box(2.5)),
    ("Sphere", "dim", lambda: S.Sphere(-1)),
    ("RealSpace", "dim", lambda: S.RealSpace(True)),
    ("ProductSupport", "blocks", lambda: S.ProductSupport(())),
]


@pytest.mark.parametrize(
    "owner,param,build", HOSTILE, ids=[f"{o}.{p}-{i}" for i, (o, p, _) in enumerate(HOSTILE)]
)
def test_hostile_constructor_inputs_are_refused_clearly_and_fast(owner, param, build):
    start = time.perf_counter()
    with pytest.raises(InvalidArgument) as info:
        build()
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert message.startswith(f"{owner}:"), message
    assert param in message, message


def test_messages_give_the_accepted_range():
    with pytest.raises(InvalidArgument) as info:
        C.VonMisesFisher(kappa=INF)
    assert str(info.value) == "VonMisesFisher: kappa must be a finite number in (0, 1e6], got inf"
    with pytest.raises(InvalidArgument, match=r"a positive integer <= 4096, got True \(a bool\)"):
        L.Laplace(True)
    with pytest.raises(InvalidArgument, match=r"non-negative integer below 2\*\*63, got -1"):
        M.Mobius(3, seed=-1)
    with pytest.raises(ValueError, match=r"p must be a finite number in \[0, 1\], got 1.5"):
        C.ContentStyle(content=1, p=1.5)  # still a ValueError for existing callers


def test_numpy_numbers_are_accepted_and_give_the_same_objects():
    assert L.Laplace(np.int64(3), scale=np.float32(0.5)).n == 3
    a = M.InvertibleMLP(np.int32(3), depth=np.int64(2), seed=np.uint8(1))
    b = M.InvertibleMLP(3, depth=2, seed=1)
    assert type(a.n) is int and type(a.seed) is int
    for u, w in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(u, w)
    json.dumps(a.to_dict())
    z = torch.ones(4, 3) / math.sqrt(3)
    torch.testing.assert_close(
        C.VonMisesFisher(np.float64(5.0)).sample(z, seed=0), C.VonMisesFisher(5.0).sample(z, 0)
    )


def test_valid_inputs_serialise_as_before():
    assert L.Laplace(3, scale=2).to_dict() == {"type": "Laplace", "n": 3, "scale": 2}
    assert M.Polar(offset=2).to_dict() == {"type": "Polar", "offset": 2}
    assert L.Normal(2, cov=[[2, 0], [0, 1]]).cov == [[2.0, 0.0], [0.0, 1.0]]


def test_negative_sampling_seed_is_a_clear_error():
    with pytest.raises(InvalidArgument, match="seed must be a non-negative integer"):
        L.Laplace(2).sample(5, seed=-1)


# --- von Mises-Fisher at the cap ---------------------------------------------------


@pytest.mark.parametrize("p", [3, 50])
def test_vmf_at_the_kappa_cap_samples_quickly_and_finitely(p):
    z = L.UniformSphere(p).sample(1000, seed=0)
    start = time.perf_counter()
    z_pos = C.VonMisesFisher(kappa=valid.MAX_KAPPA).sample(z, seed=1)
    assert time.perf_counter() - start < 2.0
    assert bool(torch.isfinite(z_pos).all())
    torch.testing.assert_close(z_pos.norm(dim=1), torch.ones(1000, dtype=torch.float64))
    w = (z * z_pos).sum(1)
    expected = 1 - (p - 1) / (2 * valid.MAX_KAPPA)  # A_p(kappa) for large kappa
    assert abs(float(w.mean()) - expected) < 1e-5
    assert float(w.min()) > 1 - 1e-3


def _wood_reference(kappa, n, p, rng):
    """The sampler as written before (direct acceptance test), for reproducibility."""
    b = (p - 1) / (2 * kappa + np.sqrt(4 * kappa**2 + (p - 1) ** 2))
    x0 = (1 - b) / (1 + b)
    c = kappa * x0 + (p - 1) * np.log(1 - x0**2)
    w, pending = np.empty(n), np.arange(n)
    while pending.size:
        beta = rng.beta((p - 1) / 2, (p - 1) / 2, size=pending.size)
        cand = (1 - (1 + b) * beta) / (1 - (1 - b) * beta)
        accept = kappa * cand + (p - 1) * np.log(1 - x0 * cand) - c >= np.log(
            rng.uniform(size=pending.size)
        )
        w[pending[accept]] = cand[accept]
        pending = pending[~accept]
    return w


@pytest.mark.parametrize("kappa,p", [(1.0, 3), (10.0, 3), (10.0, 10), (50.0, 5)])
def test_vmf_stable_acceptance_gives_the_same_draws(kappa, p):
    new = C.VonMisesFisher(kappa)._sample_w(20_000, p, np.random.default_rng(3))
    old = _wood_reference(kappa, 20_000, p, np.random.default_rng(3))
    np.testing.assert_array_equal(new, old)


# --- InvertibleMLP: chunked calibration, same numbers ---------------------------------


@pytest.mark.parametrize("n", [1, 2, 5])
def test_chunked_condition_threshold_equals_one_shot(n):
    one_shot, chunked = np.random.default_rng(11), np.random.default_rng(11)
    expected = float(np.quantile(np.linalg.cond(one_shot.standard_normal((1000, n, n))), 0.25))
    assert M._condition_threshold(n, chunked, 0.25, chunk=7) == expected
    np.testing.assert_array_equal(chunked.standard_normal(5), one_shot.standard_normal(5))


def _mlp_weights_reference(n, depth, seed, quantile=0.25):
    """InvertibleMLP's weights as computed before chunking (1000 matrices at once)."""
    rng = np.random.default_rng(seed)
    threshold = float(np.quantile(np.linalg.cond(rng.standard_normal((1000, n, n))), quantile))
    weights = []
    for _ in range(depth):
        while True:
            w = rng.standard_normal((n, n))
            if np.linalg.cond(w) <= threshold:
                break
        weights.append(w / np.linalg.norm(w, axis=1, keepdims=True))
    return weights


@pytest.mark.parametrize("n,depth,seed", [(2, 3, 0), (3, 3, 1), (5, 2, 7), (70, 2, 0)])
def test_invertible_mlp_weights_unchanged_by_chunking(n, depth, seed):
    if n == 70:
        assert M._calibration_chunk(70) < 1000  # really chunked
    mlp = M.InvertibleMLP(n, depth=depth, seed=seed)
    for got, want in zip(mlp.weights, _mlp_weights_reference(n, depth, seed), strict=True):
        np.testing.assert_array_equal(got, want)


# --- memory ---------------------------------------------------------------------------


def test_require_memory_refuses_with_the_estimate(monkeypatch):
    monkeypatch.setattr(_resources, "available_memory", lambda: 11 * 2**30)
    _resources.require_memory(2**30, "a small thing")  # fits
    with pytest.raises(ResourceLimit) as info:
        _resources.require_memory(80 * 10**9, "a big thing", "make it smaller")
    message = str(info.value)
    assert "a big thing needs about 74.5 GiB" in message
    assert "about 11.0 GiB is available" in message and message.endswith("make it smaller")
    assert isinstance(info.value, ValueError)
    monkeypatch.setattr(_resources, "available_memory", lambda: None)
    _resources.require_memory(10**18, "unknown memory: allowed")


def test_available_memory_is_known_here():
    available = _resources.available_memory()
    assert available is None or available > 0


def test_invertible_mlp_refuses_when_memory_is_short(monkeypatch):
    monkeypatch.setattr(_resources, "available_memory", lambda: 2**20)
    with pytest.raises(ResourceLimit, match=r"InvertibleMLP\(n=64, depth=3\).*GiB.*smaller n"):
        M.InvertibleMLP(64)


def test_check_refuses_when_memory_is_short(monkeypatch):
    fold = th.Process(L.Uniform(2), M.Fold(2))
    monkeypatch.setattr(_resources, "available_memory", lambda: 2**20)
    with pytest.raises(ResourceLimit, match=r"check\(n_points=1000000\).*GiB.*smaller n_points"):
        check(th.assumptions.Injective(), fold, n_points=1_000_000)


def test_check_refuses_absurd_n_points_without_allocating():
    fold = th.Process(L.Uniform(2), M.Fold(2))
    start = time.perf_counter()
    with pytest.raises(ResourceLimit, match="GiB"):
        check(th.assumptions.Injective(), fold, n_points=10**13)
    assert time.perf_counter() - start < 2.0


def test_collision_search_is_memory_linear(monkeypatch):
    def no_dense_distances(*args, **kwargs):
        raise AssertionError("the collision search must not build a dense distance matrix")

    monkeypatch.setattr(torch, "cdist", no_dense_distances)
    fold = th.Process(L.Uniform(2), M.Fold(2))
    e = check(th.assumptions.Injective(), fold, n_points=20_000, adversarial_steps=5)
    assert e.verdict == "violated" and e.method == "collision-search"
    a = torch.tensor(e.witness["z"], dtype=torch.float64)
    b = torch.tensor(e.witness["z_prime"], dtype=torch.float64)
    assert (a - b).norm() > 1e-2
    assert (fold.mixing(a) - fold.mixing(b)).norm() < 1e-8
