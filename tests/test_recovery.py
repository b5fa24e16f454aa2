"""Learners and recover(): small, fast runs with known answers."""

import json
import math
from dataclasses import dataclass

import pytest
import torch
from click.testing import CliRunner

import theory as th
from theory.errors import InvalidArgument, UnknownName
from verification import recover
from verification.cli import main
from verification.learners import TCL, Fit, InfoNCE, Learner, TrainConfig, infonce_loss


def test_infonce_loss_known_value():
    h = torch.eye(2)
    # logits = I / tau with tau = 1: each row is a 2-way softmax with margin 1
    expected = -math.log(math.e / (math.e + 1))
    assert float(infonce_loss(h, h, tau=1.0, critic="cosine")) == pytest.approx(expected)
    shuffled = h[[1, 0]]
    assert infonce_loss(h, shuffled, 1.0, "cosine") > infonce_loss(h, h, 1.0, "cosine")


def test_the_squared_distance_critic_runs_through_the_dot_product_path_exactly():
    """−‖u − v‖² = 2uᵀv − ‖u‖² − ‖v‖²: the fast path's loss and gradients equal autograd
    through the pairwise squared distances (the second method), at one block and many."""
    from verification.learners.infonce import squared_distance_as_dot

    for batch in (64, 700):
        torch.manual_seed(batch)
        h = torch.randn(batch, 3, dtype=torch.float64, requires_grad=True)
        g = torch.randn(batch, 3, dtype=torch.float64, requires_grad=True)
        a, b = squared_distance_as_dot(h, g)
        assert torch.allclose(a @ b.T, -(torch.cdist(h, g) ** 2), atol=1e-9)
        fast = infonce_loss(h, g, 0.5, "lp-power", 2.0)
        logits = -((h[:, None, :] - g[None, :, :]) ** 2).sum(-1) / 0.5
        target = torch.arange(batch)
        ce = torch.nn.functional.cross_entropy
        slow = 0.5 * (ce(logits, target) + ce(logits.T, target))
        assert fast.item() == pytest.approx(slow.item(), rel=1e-9)
        grads = torch.autograd.grad(fast, (h, g))
        expected = torch.autograd.grad(slow, (h, g))
        for ours, theirs in zip(grads, expected, strict=True):
            assert torch.allclose(ours, theirs, atol=1e-9)


def test_a_learnable_radius_settles_where_the_critic_matches_the_concentration():
    """Known answer: with outputs on r S^{n-1} the critic's concentration is r²/τ, and the
    minimiser matches it to the vMF's κ, r² = τκ (here τκ = 3, κ = 10)."""
    fits = []
    learner = InfoNCE(radius="learnable", tau_kappa=3.0, train=TrainConfig(threads=1))
    result = recover("cl-ica", seed=0, learner=learner, on_fit=fits.append, n_test=1000)
    assert result.recovered
    assert fits[0].extras["radius"] ** 2 == pytest.approx(3.0, rel=0.2)


def test_linear_ica_laplace_recovered_gaussian_not():
    t = th.theorems.get("linear-ica")
    laplace = recover(t, seed=0)
    assert laplace.recovered and laplace.metrics["amari_distance"] < 0.05
    gaussian = th.Process(th.latents.Normal(5), th.mixings.Linear.random(5, seed=0))
    result = recover(t, gaussian, seed=0)
    assert not result.recovered
    assert result.claim_metric < laplace.claim_metric - 0.1


def test_infonce_recovers_sphere_latents_small_budget():
    # the practical temperature (the theorem's τ = 1/κ folds a direction)
    fast = InfoNCE(tau_kappa=None, train=TrainConfig(steps=300, batch_size=256))
    result = recover("cl-ica", seed=0, learner=fast)
    assert result.status == "ok" and result.claim_metric > 0.9
    assert result.curve[0][1] > result.curve[-1][1]  # the loss went down


def test_content_block_identified_style_not():
    learner = InfoNCE(critic="lp", content=2, train=TrainConfig(steps=300, batch_size=256))
    result = recover("content-style", seed=0, learner=learner)
    assert result.metrics["block_r2"] > 0.8
    assert result.metrics["block_r2_style"] < 0.2


def test_tcl_recovers_sufficient_statistics():
    process = th.Process(
        th.latents.Segmented(2, n_segments=8, seed=1), th.mixings.InvertibleMLP(2, depth=2, seed=0)
    )
    learner = TCL(n_train=8000, train=TrainConfig(steps=400, batch_size=256))
    result = recover("tcl", process, seed=0, learner=learner)
    assert result.metrics["r2_sufficient_stats"] > 0.7


def test_divergence_is_reported_not_raised():
    learner = InfoNCE(
        critic="lp", train=TrainConfig(steps=50, lr=1e12, optimizer="sgd", schedule="constant")
    )
    result = recover("content-style", seed=0, learner=learner)
    assert result.status == "diverged" and not result.recovered
    assert result.curve and not math.isfinite(result.curve[-1][1])


class _Constant(Learner):
    name = "constant"

    def fit(self, process, *, seed=0):
        return Fit(lambda x: torch.zeros(len(x), process.dim, dtype=torch.float64), [(1, 0.0)], 1)


def test_collapse_is_reported():
    result = recover("cl-ica", seed=0, learner=_Constant())
    assert result.status == "collapsed" and not result.recovered


def test_same_seed_same_result():
    learner = InfoNCE(train=TrainConfig(steps=40, batch_size=128))
    a = recover("cl-ica", seed=3, learner=learner).to_dict()
    b = recover("cl-ica", seed=3, learner=learner).to_dict()
    for d in (a, b):
        d.pop("seconds"), d["train"].pop("seconds")
    assert a == b


def test_tcl_needs_segments():
    with pytest.raises(ValueError, match="Segmented"):
        recover("tcl", th.theorems.get("cl-ica").canonical_process())


def test_cli_recover_json():
    result = CliRunner().invoke(main, ["recover", "linear-ica", "--seed", "0", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["recovered"] is True
    claim = payload["claim_metric"]
    assert claim["name"] == "mcc_crossfit_min" and claim["value"] > 0.95  # worst held-out pair
    assert {"mcc", "mcc_crossfit", "mcc_null", "r2_linear"} <= set(payload["metrics"])
    assert set(payload["train"]) >= {"steps", "seconds", "final_loss", "status"}


def test_cli_recover_bad_option():
    result = CliRunner().invoke(main, ["recover", "linear-ica", "--steps", "5"])
    assert result.exit_code == 2 and "does not apply" in result.output


def test_jacobian_sign_penalty_sees_a_fold():
    from verification.learners.encoders import Encoder, EncoderConfig
    from verification.learners.infonce import jacobian_sign_penalty

    x = torch.randn(256, 3)
    model = Encoder(3, 3, EncoderConfig(whiten=False), x)  # starts linear: one det sign
    assert float(jacobian_sign_penalty(model, x).detach()) == 0.0
    with torch.no_grad():  # fold the first coordinate: h1 = |x1| (det J changes sign)
        block = model.body[0]
        block.linear.weight.copy_(torch.diag(torch.tensor([0.0, 1.0, 1.0])))
        block.mlp[0].weight.zero_()
        block.mlp[0].weight[0, 0], block.mlp[0].weight[1, 0] = 1.0, -1.0
        block.mlp[0].bias.zero_()
        block.mlp[-1].weight.zero_()
        block.mlp[-1].weight[0, 0], block.mlp[-1].weight[0, 1] = 1.0, 1.0
    assert float(jacobian_sign_penalty(model, x).detach()) > 0.01


def test_temperature_scales_with_concentration():
    matched, practical = InfoNCE(), InfoNCE(tau_kappa=None)  # τκ = 1; the practical rule
    sphere = th.latents.UniformSphere(3)
    mixing = th.mixings.InvertibleMLP(3)
    for kappa, tau, rule in ((10.0, 0.1, 0.3), (2.0, 0.5, 1.5), (100.0, 0.01, 0.05)):
        p = th.Process(sphere, mixing, th.conditionals.VonMisesFisher(kappa))
        assert matched.resolved_tau(p) == pytest.approx(tau)
        assert practical.resolved_tau(p) == pytest.approx(rule)
    assert InfoNCE(tau=0.7).resolved_tau(p) == 0.7
    assert InfoNCE(tau_kappa=2.0).resolved_tau(p) == pytest.approx(0.02)


# ------------------------------------------------- claim metrics from the registry


@pytest.fixture
def registries():
    """METRICS and LEARNERS, restored after the test."""
    from verification import learners as L
    from verification import metrics as M

    saved = dict(M.METRICS), dict(L.LEARNERS)
    yield M.METRICS, L.LEARNERS
    for registry, items in zip((M.METRICS, L.LEARNERS), saved, strict=True):
        registry.clear()
        registry.update(items)


def _ica_process():
    return th.Process(th.latents.Laplace(3), th.mixings.Linear.random(3, seed=0))


def test_a_registered_metric_decides_a_users_claim(registries):
    from verification.metrics import mcc_matching, register_metric

    seen = {}

    @register_metric("worst-matched-corr", higher_is_better=True)
    def worst(z, z_hat, seed, fit):
        """Smallest matched absolute correlation."""
        seen.update(seed=seed, fit=fit)
        m = mcc_matching(z, z_hat)
        return float(abs(m.correlation[m.row_ind, m.col_ind]).min())

    theorem = th.Theorem(
        "ica-worst",
        (),
        ("fastica", {"n_train": 2000}),
        th.claims.Claim("permutation+scaling", "worst-matched-corr", 0.9),
    )
    for fast in (False, True):
        result = recover(theorem, _ica_process(), seed=1, fast_metrics=fast)
        assert result.claim_name == "worst-matched-corr" and result.recovered
        assert result.claim_metric == result.metrics["worst-matched-corr"] > 0.9
        assert result.claim_metric <= result.metrics["mcc"] + 1e-12
        assert seen["seed"] == 1 and "unmixing" in seen["fit"].extras
    assert result.to_dict()["claim_metric"]["name"] == "worst-matched-corr"


class _Tripwire:
    """Everything that would generate data or train raises."""

    @staticmethod
    def canonical():
        raise AssertionError("the canonical process was built")


@dataclass
class _NeverTrain(Learner):
    steps: int = 10
    name = "never-train"

    def fit(self, process, *, seed=0, monitor=None):
        raise AssertionError("training started")


@pytest.fixture
def no_compute(monkeypatch, registries):
    """A registered learner that must not train, and a Process that must not sample."""
    registries[1].register("never-train", _NeverTrain)

    def refuse(*args, **kwargs):
        raise AssertionError("data was generated")

    for method in ("sample", "sample_pairs", "observe"):
        monkeypatch.setattr(th.Process, method, refuse)


def _theorem(learner="never-train", claim=None):
    return th.Theorem(
        "tripwire",
        (),
        learner,
        claim or th.claims.affine(),
        canonical=_Tripwire.canonical,
    )


@pytest.mark.parametrize(
    ("theorem", "kwargs", "error", "match"),
    [
        (
            _theorem(claim=th.claims.Claim("affine", "r2-linear", 0.9)),
            {},
            UnknownName,
            r"theorem 'tripwire': the claim's metric 'r2-linear' is not registered; "
            r"known: .*r2_linear",
        ),
        (
            _theorem(claim=th.claims.Claim("orthogonal", "procrustes_error", 0.1)),
            {},
            InvalidArgument,
            "'procrustes_error' is lower-is-better, but the claim says higher_is_better=True",
        ),
        (_theorem("no-such-learner"), {}, UnknownName, "unknown learner 'no-such-learner'"),
        (
            _theorem(("never-train", {"stpes": 5})),
            {},
            InvalidArgument,
            "learner never-train has no option 'stpes'; options: steps",
        ),
        (
            _theorem(("never-train", {"steps": "5"})),
            {},
            InvalidArgument,
            "invalid value for 'steps': expected int",
        ),
        (_theorem(), {"learner": "no-such-learner"}, UnknownName, "unknown learner"),
        (_theorem(), {"learner": 42}, InvalidArgument, "learner must be a Learner"),
        (
            _theorem(),
            {"learner": ("never-train", {"steps": 0.5})},
            InvalidArgument,
            "expected int",
        ),
        (_theorem(), {"learner_options": {"steps": True}}, InvalidArgument, "expected int"),
        (_theorem(), {"learner_options": {"train.steps": 5}}, InvalidArgument, "no option"),
        (_theorem(), {"learner_options": [("steps", 5)]}, InvalidArgument, "must be a dict"),
        (
            _theorem(),
            {"learner": InfoNCE(), "learner_options": {"train.stepz": 5}},
            InvalidArgument,
            "learner infonce has no option 'train.stepz'",
        ),
        (
            _theorem("aninfonce", claim=th.claims.block(content=2, threshold=0.9)),
            {},
            InvalidArgument,
            "learner 'aninfonce' cannot be sized to theorem 'tripwire''s content block",
        ),
        (  # a learner named in recover() is validated like the theorem's own (issue 22)
            _theorem(claim=th.claims.block(content=2, threshold=0.9)),
            {"learner": "aninfonce"},
            InvalidArgument,
            "learner 'aninfonce' cannot be sized to theorem 'tripwire''s content block",
        ),
        (
            _theorem(claim=th.claims.block(content=2, threshold=0.9)),
            {"learner": ("aninfonce", {"train.steps": 5})},
            InvalidArgument,
            "learner 'aninfonce' cannot be sized to theorem 'tripwire''s content block",
        ),
        (_theorem(), {"seed": -1}, InvalidArgument, "seed must be an integer >= 0"),
        (_theorem(), {"n_test": 2}, InvalidArgument, "n_test must be an integer >= 4"),
    ],
)
def test_recover_refuses_before_any_compute(no_compute, theorem, kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        recover(theorem, **kwargs)
    assert "\n" not in str(info.value)


def test_the_tripwires_fire(no_compute):
    with pytest.raises(AssertionError, match="canonical process was built"):
        recover(_theorem())
    with pytest.raises(AssertionError, match="data was generated"):
        th.theorems.get("linear-ica").canonical_process().sample(3)
    with pytest.raises(AssertionError, match="training started"):
        recover(_theorem(), th.theorems.get("cl-ica").canonical_process())


def test_learner_options_apply_to_a_copy():
    from verification.learners import FastICA

    learner = FastICA()
    result = recover(
        "linear-ica", _ica_process(), learner=learner, learner_options={"n_train": 1000}
    )
    assert result.learner["n_train"] == 1000 and learner.n_train == 10_000
    named = recover("linear-ica", _ica_process(), learner=("fastica", {"n_train": 800}))
    assert named.learner["n_train"] == 800 and named.recovered


def test_fastica_reports_non_finite_training_data():
    from verification.learners import FastICA

    class Broken(th.Process):
        def observe(self, z):
            x = super().observe(z)
            x[::3, 0] = math.nan
            return x

    p = _ica_process()
    fit = FastICA(n_train=500).fit(Broken(p.latent, p.mixing), seed=0)
    assert fit.status == "diverged" and "non-finite" in fit.message


def test_infonce_under_half_precision_autocast_keeps_its_loss_in_float32():
    """Under ``train.precision`` the hand-written InfoNCE autograd runs in float32 with
    autocast off: the value and gradients match full precision (the squared distance's
    2uᵀv − ‖u‖² − ‖v‖² would otherwise round at the scale of ‖u‖²). CPU autocast stands
    in for CUDA's here."""
    torch.manual_seed(0)
    h = (torch.randn(64, 3) * 5).requires_grad_()
    g = (h.detach() + 0.01 * torch.randn(64, 3)).requires_grad_()
    for critic, p in (("cosine", 1.0), ("lp-power", 2.0)):
        full = infonce_loss(h, g, 0.5, critic, p)
        full_grad = torch.autograd.grad(full, h)[0]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = infonce_loss(h, g, 0.5, critic, p)
        half_grad = torch.autograd.grad(half, h)[0]
        assert half.dtype == torch.float32
        assert half.item() == pytest.approx(full.item(), rel=1e-6)
        assert torch.allclose(half_grad, full_grad, atol=1e-6)
