"""The multi-view theorem (Daunhawer et al. 2023, Thm 1; Yao et al. 2024, Thm 3.2): a
process with a view-specific mixing for the positive view, assumptions about the mixing
decided for both views, and a learner with one encoder per view."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import theory as th
from theory._spec import digest
from theory.errors import InvalidArgument, InvalidProcess
from verification import learners as L
from verification import strategies as sst
from verification.checks import check
from verification.learners.multiview import MultiviewInfoNCE, ViewFit
from verification.recovery import recover
from verification.spaces import DEFAULT_SPACES, SearchSpace

MULTIVIEW = th.theorems.get("multiview")


def two_views(view=None, *, n=4, content=2, p=1.0, latent=None) -> th.Process:
    return th.Process(
        latent or th.latents.Normal(n),
        th.mixings.InvertibleMLP(n, depth=3, seed=0),
        th.conditionals.ContentStyle(content=content, p=p),
        view_mixing=view if view is not None else th.mixings.InvertibleMLP(n, depth=3, seed=1),
    )


# --- the process ------------------------------------------------------------------


def test_a_process_with_a_view_mixing_round_trips_through_json():
    process = two_views()
    data = process.to_dict()
    assert data["view_mixing"] == process.view_mixing.to_dict()
    again = th.Process.from_json(process.to_json())
    assert again == process and again.hash == process.hash
    assert again.view_mixing.to_dict() == process.view_mixing.to_dict()
    # the view mixing is part of the identity: another view mixing, another hash
    other = two_views(th.mixings.InvertibleMLP(4, depth=3, seed=2))
    single = th.Process(process.latent, process.mixing, process.conditional)
    assert len({process.hash, other.hash, single.hash}) == 3
    assert "view_mixing=InvertibleMLP" in process.describe()


def test_a_single_view_process_keeps_its_json_and_hash():
    """No view mixing: no ``view_mixing`` key, so every stored hash stays valid."""
    process = th.theorems.get("content-style").canonical_process()
    data = process.to_dict()
    assert "view_mixing" not in data and process.view_mixing is None
    old_format = {
        "schema": "sith.process/1",
        "latent": process.latent.to_dict(),
        "mixing": process.mixing.to_dict(),
        "conditional": process.conditional.to_dict(),
    }
    assert process.hash == digest(old_format)
    assert th.Process.from_dict(old_format) == process  # old files read back unchanged
    assert th.Process.from_dict({**old_format, "view_mixing": None}) == process


def test_sample_pairs_observe_the_positive_view_through_its_own_mixing():
    process = two_views()
    z, z_pos, x, x_pos = process.sample_pairs(300, np.random.default_rng(0))
    assert torch.equal(x, process.mixing(z))
    assert torch.equal(x_pos, process.view_mixing(z_pos))
    assert torch.equal(z[:, :2], z_pos[:, :2])  # the content block is shared
    assert not torch.allclose(x_pos, process.mixing(z_pos))  # not the first view's mixing
    assert torch.equal(process.sample(50, 3)[1], process.mixing(process.sample(50, 3)[0]))
    view = process.single_view("view_mixing")
    assert view.mixing is process.view_mixing and view.view_mixing is None
    assert [name for name, _ in process.views] == ["mixing", "view_mixing"]


def test_bad_view_mixings_are_refused_clearly():
    latent, mixing = th.latents.Normal(3), th.mixings.InvertibleMLP(3, seed=0)
    cond = th.conditionals.ContentStyle(content=1)
    with pytest.raises(InvalidArgument, match="needs a conditional"):
        th.Process(latent, mixing, view_mixing=th.mixings.InvertibleMLP(3, seed=1))
    with pytest.raises(InvalidArgument, match="view_mixing InvertibleMLP takes inputs of dim"):
        th.Process(latent, mixing, cond, view_mixing=th.mixings.InvertibleMLP(4, seed=1))
    with pytest.raises(InvalidArgument, match="one observation space"):
        th.Process(latent, mixing, cond, view_mixing=th.mixings.Linear(np.ones((4, 3)).tolist()))
    with pytest.raises(InvalidArgument, match=r"view_mixing must be a theory\.mixings\.Mixing"):
        th.Process(latent, mixing, cond, view_mixing=lambda z: z)
    data = th.Process(latent, mixing, cond).to_dict()
    with pytest.raises(InvalidProcess, match="unknown mixing type 'Nope'"):
        th.Process.from_dict({**data, "view_mixing": {"type": "Nope"}})
    with pytest.raises(InvalidProcess, match="unknown process key"):
        th.Process.from_dict({**data, "view_mixings": None})
    with pytest.raises(InvalidArgument, match="view_mixing InvertibleMLP"):  # bad dimension
        th.Process.from_dict({**data, "view_mixing": th.mixings.InvertibleMLP(2).to_dict()})


# --- assumptions about the mixing, decided for both views ---------------------------


@pytest.mark.parametrize("which", ["mixing", "view_mixing"])
def test_injective_is_decided_for_both_views(which):
    """A fold z1 -> |z1| in either view violates injectivity, with a verified collision
    g(z) = g(z') in that view's mixing; the witness names the view."""
    good, fold = th.mixings.InvertibleMLP(4, depth=3, seed=1), th.mixings.Fold(4)
    process = two_views(fold if which == "view_mixing" else good)
    if which == "mixing":
        process = th.Process(process.latent, fold, process.conditional, view_mixing=good)
    evidence = check("injective", process, n_points=512)
    assert evidence.verdict == "violated"
    assert evidence.witness["view"] == which
    g = dict(process.views)[which]
    z, z_prime = (
        torch.tensor([evidence.witness[k]], dtype=torch.float64) for k in ("z", "z_prime")
    )
    assert float((z - z_prime).norm()) > 0.1
    assert torch.allclose(g(z), g(z_prime), atol=1e-9)
    assert f"view {1 if which == 'mixing' else 2} ({which} Fold)" in evidence.message


def test_both_injective_views_hold_and_the_message_reports_both():
    evidence = check("injective", two_views(), n_points=512)
    assert evidence.verdict == "holds" and evidence.witness is None
    assert "view 1 (mixing InvertibleMLP)" in evidence.message
    assert "view 2 (view_mixing InvertibleMLP): holds" in evidence.message


def test_a_jacobian_assumption_is_decided_for_both_views():
    """Conformal: a Möbius map is conformal, a random linear map (condition number > 1) is
    not; on a two-view process the non-conformal view decides, whichever it is."""
    n = 3
    mobius, linear = th.mixings.Mobius(n, seed=0), th.mixings.Linear.random(n, seed=0)
    cond = th.conditionals.ContentStyle(content=1)

    def verdict(first, second):
        process = th.Process(th.latents.Normal(n), first, cond, view_mixing=second)
        return check("conformal", process, n_points=128, adversarial_steps=10, time_limit=0)

    assert verdict(mobius, th.mixings.Mobius(n, seed=1)).satisfied
    for first, second, which in ((mobius, linear, "view_mixing"), (linear, mobius, "mixing")):
        evidence = verdict(first, second)
        assert evidence.verdict == "violated" and evidence.witness["view"] == which


def test_the_canonical_process_satisfies_the_theorem_and_a_shared_nothing_one_does_not():
    fast = {"n_points": 256, "adversarial_steps": 10}
    evidence = {e.assumption: e for e in check(MULTIVIEW, MULTIVIEW.canonical_process(), **fast)}
    assert all(e.satisfied for e in evidence.values()), [str(e) for e in evidence.values()]
    # no content shared between the views: the 2-output encoder is not content-sized
    nothing = {e.assumption: e for e in check(MULTIVIEW, two_views(content=0), **fast)}
    assert nothing["content-sized-encoder"].verdict == "violated"
    assert nothing["injective"].satisfied  # the mixings are as before
    # a single-encoder InfoNCE is not the theorem's learner
    single = check(MULTIVIEW, MULTIVIEW.canonical_process(), **fast, learner="infonce")
    assert {e.assumption: e.verdict for e in single}["learner-objective"] == "violated"


# --- the learner ------------------------------------------------------------------


def test_the_learner_loss_is_the_symmetric_infonce_of_the_two_encoders():
    """Known answer: 0.5 (CE(S) + CE(Sᵀ)) with S_ij = -||h1_i - h2_j||_2^2 / tau (the
    default, Daunhawer et al.'s estimator) and -||h1_i - h2_j||_1 / tau (critic lp)."""
    torch.manual_seed(0)
    h1, h2 = torch.randn(64, 2), torch.randn(64, 2)
    target = torch.arange(64)
    ce = torch.nn.functional.cross_entropy
    diff = h1[:, None, :] - h2[None, :, :]
    for learner, logits in (
        (MultiviewInfoNCE(tau=0.7), -(diff**2).sum(-1) / 0.7),
        (MultiviewInfoNCE(tau=0.7, critic="lp", p=1.0), -diff.abs().sum(-1) / 0.7),
    ):
        expected = 0.5 * (ce(logits, target) + ce(logits.T, target))
        assert torch.allclose(learner.loss(h1, h2), expected, atol=1e-5)
    assert (
        MultiviewInfoNCE().resolved_tau() == 1.0
        and MultiviewInfoNCE(critic="cosine").resolved_tau() == 0.3
    )


def test_learner_options_are_validated():
    for bad in (
        {"critic": "l2"},
        {"tau": 0.0},
        {"content": 0},
        {"restarts": -1},
        {"shared": 1},
        {"init": "pca"},
    ):
        with pytest.raises(InvalidArgument):
            MultiviewInfoNCE(**bad)
    with pytest.raises(InvalidProcess, match="no conditional"):
        MultiviewInfoNCE().fit(th.Process(th.latents.Normal(2), th.mixings.InvertibleMLP(2)))
    with pytest.raises(InvalidProcess, match=r"content must be in 1\.\.4"):
        MultiviewInfoNCE(content=5).fit(two_views())


def test_one_encoder_per_view_and_shared_encoders():
    small = {"train.steps": 20, "train.batch_size": 64, "restarts": 0}
    process = two_views()
    x = process.sample(32, 5)[1]
    fits = {}
    for shared in (False, True):
        learner = L.resolve(("multiview-infonce", {**small, "content": 2, "shared": shared}))
        fit = learner.fit(process, seed=0)
        assert isinstance(fit, ViewFit) and fit.status == "ok" and not fit.extras["oracle"]
        assert fit.encode(x).shape == (32, 2) == fit.encode_view(x).shape
        fits[shared] = fit
    assert not torch.allclose(fits[False].encode(x), fits[False].encode_view(x))
    assert torch.equal(fits[True].encode(x), fits[True].encode_view(x))
    assert L.for_theorem(MULTIVIEW).content == 2


def test_recovery_known_answer_and_an_encoder_of_the_wrong_size():
    """Canonical two-view process, practice mode: f1 block-identifies the content (block
    R² of z_c >= 0.9 held out; 0.94-0.95 on seeds 0-4 at this budget) and not the style.
    An encoder with one output for a content block of two (the theorem's content-sized
    encoder violated) cannot: one smooth output does not determine two independent
    content latents, and block R² stays far below the threshold."""
    budget = {"train.steps": 300, "restarts": 1}
    good = recover(MULTIVIEW, seed=0, learner_options=budget, fast_metrics=True)
    assert good.recovered and good.claim_metric >= 0.92, good.metrics
    assert good.metrics["block_r2_style"] < 0.2
    small = {**budget, "content": 1}
    evidence = check(
        MULTIVIEW,
        MULTIVIEW.canonical_process(),
        n_points=64,
        learner=("multiview-infonce", {"content": 1}),
    )
    assert {e.assumption: e.verdict for e in evidence}["content-sized-encoder"] == "violated"
    bad = recover(MULTIVIEW, seed=0, learner_options=small, fast_metrics=True)
    assert not bad.recovered and bad.claim_metric < 0.75, bad.metrics


# --- sweeps and searches reach the view mixing -------------------------------------


def test_sweep_keys_reach_the_view_mixing():
    from verification._sweep.settings import SweepSpace

    space = SweepSpace(MULTIVIEW, MULTIVIEW.canonical_process())
    assert {"view_mixing.seed", "view_mixing.depth"} <= set(space.keys())
    process = space.build_process({"view_mixing.seed": 5, "mixing.depth": 2})
    assert process.view_mixing.seed == 5 and process.mixing.depth == 2
    smaller = space.build_process({"dim": 3})
    assert smaller.dim == 3 and smaller.view_mixing.n == 3 and smaller.view_mixing.seed == 1
    with pytest.raises(InvalidArgument):
        space.check_value("view_mixing.depth", 0)
    single = SweepSpace(MULTIVIEW, two_views().single_view())
    assert not any(k.startswith("view_mixing.") for k in single.process_keys())


@settings(max_examples=8, deadline=None, database=None)
@given(DEFAULT_SPACES["multiview"].strategy())
def test_the_default_search_space_draws_two_view_processes(candidate):
    process = candidate.process
    assert process.view_mixing is not None and process.conditional is not None
    assert candidate.params()["view_mixing"] == process.view_mixing.family
    assert th.Process.from_json(process.to_json()) == process


def test_a_single_view_search_space_keeps_its_description_and_refuses_no_pairs():
    assert "view_mixings" not in SearchSpace().to_dict()
    assert DEFAULT_SPACES["multiview"].to_dict()["view_mixings"][0] == "invertible-mlp"
    with pytest.raises(InvalidArgument, match="positive pairs"):
        SearchSpace(conditionals=("none",), view_mixings=("linear",)).validate()
    with pytest.raises(InvalidArgument, match="positive pairs"):
        sst.processes(conditional_families=("none",), view_mixing_classes=("linear",))


def test_cca_init_starts_both_encoders_at_the_canonical_variates():
    """Known answer: for linear views x1 = A1 z, x2 = A2 z' with z' = (c, s + ε), the
    canonical correlations of (x1, x2) are those of (z, z'): 1, 1 (the shared content)
    and 1/√2, 1/√2 (the perturbed style). cca_init's 2-output encoders start at the top
    pair: each output pair correlates ≈ 1 and spans the content linearly."""
    from verification.learners.encoders import Encoder, EncoderConfig
    from verification.learners.multiview import cca_init

    process = two_views(th.mixings.Linear.random(4, seed=3))
    process = th.Process(
        process.latent,
        th.mixings.Linear.random(4, seed=2),
        process.conditional,
        view_mixing=process.view_mixing,
    )
    z, _, x1, x2 = (t.float() for t in process.sample_pairs(20_000, np.random.default_rng(1)))
    f1, f2 = (Encoder(4, 2, EncoderConfig(), x) for x in (x1, x2))
    assert cca_init(f1, f2, x1, x2)
    with torch.no_grad():
        h1, h2 = f1(x1), f2(x2)
    corr = torch.corrcoef(torch.cat([h1, h2], 1).T)
    assert torch.allclose(corr[[0, 1], [2, 3]], torch.ones(2), atol=1e-3)  # aligned pairs
    assert abs(float(corr[0, 1])) < 0.02 and abs(float(corr[0, 3])) < 0.02  # decorrelated
    # second method: canonical correlations from the covariance blocks (numpy)
    c = np.cov(np.concatenate([x1.numpy(), x2.numpy()], 1).T)
    s11, s12, s22 = c[:4, :4], c[:4, 4:], c[4:, 4:]
    rho = np.sqrt(
        np.sort(np.linalg.eigvals(np.linalg.solve(s11, s12) @ np.linalg.solve(s22, s12.T)).real)[
            ::-1
        ]
    )
    assert np.allclose(rho, [1, 1, 2**-0.5, 2**-0.5], atol=0.02)
    fit = np.linalg.lstsq(np.c_[h1.numpy(), np.ones(len(h1))], z[:, :2].numpy(), rcond=None)
    residual = z[:, :2].numpy() - np.c_[h1.numpy(), np.ones(len(h1))] @ fit[0]
    assert residual.var() / z[:, :2].numpy().var() < 1e-3  # the content, linearly
    plain = EncoderConfig(residual=False)
    assert not cca_init(*(Encoder(4, 2, plain, x) for x in (x1, x2)), x1, x2)


def test_the_matched_temperature_check_reads_the_multiview_temperature():
    """A cosine multiview learner on cl-ica: the check decides τ (it used to crash on a
    property where InfoNCE has a method)."""
    from verification.checks import check
    from verification.learners.multiview import MultiviewInfoNCE

    theorem = th.theorems.get("cl-ica")
    process = theorem.canonical_process()
    matched = next(a for a in theorem.assumptions if a.name == "matched-temperature")
    evidence = check(matched, process, learner=MultiviewInfoNCE(critic="cosine", tau=0.1))
    assert evidence.verdict in ("proved", "holds")
    assert check(matched, process, learner=MultiviewInfoNCE(critic="cosine")).verdict == (
        "violated"
    )


def test_cca_start_falls_back_when_the_encoder_is_wider_than_the_views():
    from verification.learners.encoders import Encoder, EncoderConfig
    from verification.learners.multiview import cca_init

    x1, x2 = torch.randn(200, 2), torch.randn(200, 2)
    f1 = Encoder(2, 3, EncoderConfig(), x1)
    f2 = Encoder(2, 3, EncoderConfig(), x2)
    assert cca_init(f1, f2, x1, x2) is False
