"""The search tests the theorem itself (issue 20): learners inside it, failures hunted
inside it, every gap pinned to one assumption, and a necessity table."""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
from dataclasses import dataclass, field

import pytest
import torch
from hypothesis import HealthCheck, given, settings

import theory as th
from theory.errors import InvalidArgument, InvalidProcess
from verification import check, search
from verification import learners as L
from verification._search import necessity, plan
from verification._search.derive import derive_space
from verification._search.evaluator import CHECK_SETTINGS
from verification._search.outside import probe
from verification._search.records import Evaluation, spec_key
from verification.learners.base import Fit, Learner, TrainConfig
from verification.spaces import DEFAULT_SPACES, INSIDE, Outside, SearchSpace

# --- the learner follows the theorem -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("theorem", th.theorems.names())
def test_every_catalogue_theorem_holds_with_its_own_learner_on_its_canonical_process(theorem):
    t = th.theorems.get(theorem)
    evidence = check(t, t.canonical_process(), seed=0)
    assert [e.assumption for e in evidence if not e.satisfied] == [], [
        (e.assumption, e.verdict, e.message) for e in evidence if not e.satisfied
    ]


def test_the_cl_ica_learner_uses_the_matched_temperature():
    process = th.theorems.get("cl-ica").canonical_process()  # vMF, κ = 10
    assert L.for_theorem(th.theorems.get("cl-ica")).resolved_tau(process) == pytest.approx(0.1)
    assert L.get("infonce-practical").resolved_tau(process) == pytest.approx(0.3)
    assert L.resolve(("infonce", {"tau_kappa": 2.0})).resolved_tau(process) == pytest.approx(0.2)
    # an explicit τ wins over τκ
    assert L.resolve(("infonce", {"tau": 0.7})).resolved_tau(process) == 0.7


@pytest.mark.parametrize(
    "learner, verdict",
    [
        (None, "proved"),
        ("infonce-practical", "violated"),
        (("infonce", {"tau_kappa": 3.0}), "violated"),
        (("infonce", {"tau": 0.1}), "proved"),
    ],
)
def test_matched_temperature_follows_the_learner(learner, verdict):
    theorem = th.theorems.get("cl-ica")
    process = theorem.canonical_process()
    resolved = L.for_theorem(theorem, learner)
    evidence = check(th.learner_conditions.MatchedTemperature(), process, learner=resolved)
    assert evidence.verdict == verdict


def test_the_matched_lp_critic_takes_its_exponent_from_the_process():
    box = th.latents.Uniform(2)
    mix = th.mixings.Linear.random(2, seed=0)
    learner = L.get("infonce-lp-matched")
    for beta, verdict in ((1.0, "proved"), (1.5, "proved"), (3.0, "proved"), (2.0, "violated")):
        p = th.Process(box, mix, th.conditionals.GeneralizedNormal(beta=beta, scale=0.1))
        assert learner.resolved_p(p) == beta
        e = check(th.learner_conditions.MatchedLpCritic(), p, learner=learner)
        assert e.verdict == verdict, (beta, e.message)
    # the lp metric matches only α = 1
    p = th.Process(box, mix, th.conditionals.GeneralizedNormal(beta=1.5, scale=0.1))
    e = check(
        th.learner_conditions.MatchedLpCritic(), p, learner=L.resolve(("infonce-lp", {"p": 1.5}))
    )
    assert e.verdict == "violated"


def test_the_lp_power_critic_is_the_semi_metric():
    from verification.learners import infonce_loss

    h, h_pos = torch.randn(16, 3, dtype=torch.float64), torch.randn(16, 3, dtype=torch.float64)
    d = (h[:, None] - h_pos[None]).abs().pow(3).sum(-1)  # Σ|h_i - h'_i|^3
    logits = -d / 0.5
    expected = (
        0.5 * (logits.logsumexp(1).mean() + logits.logsumexp(0).mean()) - logits.diagonal().mean()
    )
    assert float(infonce_loss(h, h_pos, 0.5, "lp-power", 3.0)) == pytest.approx(float(expected))
    # at p = 1 the two lp critics coincide
    assert float(infonce_loss(h, h_pos, 0.5, "lp-power", 1.0)) == pytest.approx(
        float(infonce_loss(h, h_pos, 0.5, "lp", 1.0))
    )


# --- families by their mathematics ----------------------------------------------------------


R2 = th.latents.Laplace(2)
BOX = th.latents.Uniform(2)
LIN = th.mixings.Linear.random(2, seed=0)


def _family(wanted, latent, conditional):
    return check(th.assumptions.ConditionalFamily(wanted), th.Process(latent, LIN, conditional))


@pytest.mark.parametrize(
    "wanted, conditional",
    [
        ("GeneralizedNormal", th.conditionals.Laplace(0.2)),
        ("Laplace", th.conditionals.GeneralizedNormal(beta=1.0, scale=0.2)),
        ("GeneralizedNormal", th.conditionals.Normal(0.2)),
        ("Normal", th.conditionals.GeneralizedNormal(beta=2.0, scale=0.2 * 2**0.5)),
    ],
)
def test_equivalent_families_are_the_same_family_both_ways(wanted, conditional):
    e = _family(wanted, R2, conditional)
    assert e.verdict == "proved", e.message
    assert "the same law" in e.message


def test_equivalence_is_the_law_not_the_name():
    assert th.conditionals.equivalent(th.conditionals.Laplace(0.3), "GeneralizedNormal") == (
        th.conditionals.GeneralizedNormal(beta=1.0, scale=0.3)
    )
    normal = th.conditionals.equivalent(
        th.conditionals.GeneralizedNormal(beta=2.0, scale=2**0.5), "Normal"
    )
    assert normal.scale == pytest.approx(1.0)
    # a β that no Laplace or Normal law has
    assert th.conditionals.equivalent(th.conditionals.GeneralizedNormal(1.5), "Laplace") is None
    assert th.conditionals.equivalent(th.conditionals.VonMisesFisher(3.0), "Normal") is None
    # a different family is still violated
    assert _family("VonMisesFisher", R2, th.conditionals.Laplace(0.2)).verdict == "violated"


SPHERE3 = th.latents.UniformSphere(3)


@pytest.mark.parametrize(
    "wanted, conditional",
    [
        ("AnisotropicNormal", th.conditionals.VonMisesFisher(5.0)),
        ("VonMisesFisher", th.conditionals.AnisotropicNormal((5.0, 5.0, 5.0))),
    ],
)
def test_on_the_sphere_vmf_is_the_equal_concentration_anisotropic_normal(wanted, conditional):
    """On S^{n-1}, ‖z' − z‖² = 2 − 2zᵀz': exp(−½κ‖z' − z‖²) ∝ exp(κ zᵀz')."""
    process = th.Process(SPHERE3, th.mixings.Linear.random(3, seed=0), conditional)
    e = check(th.assumptions.ConditionalFamily(wanted), process)
    assert e.verdict == "proved" and "the same law" in e.message, e.message
    # off the sphere the equal-concentration anisotropic law is N(z, I/κ), not a vMF
    off = th.Process(th.latents.Normal(3), th.mixings.Linear.random(3, seed=0), conditional)
    assert check(th.assumptions.ConditionalFamily(wanted), off).verdict == "violated"
    eq = th.conditionals.equivalent
    assert eq(th.conditionals.VonMisesFisher(5.0), "AnisotropicNormal", on_sphere=True, dim=3) == (
        th.conditionals.AnisotropicNormal((5.0, 5.0, 5.0))
    )
    assert (
        eq(th.conditionals.AnisotropicNormal((2.0, 5.0)), "VonMisesFisher", on_sphere=True) is None
    )
    assert eq(th.conditionals.VonMisesFisher(5.0), "AnisotropicNormal", dim=3) is None


def test_distinct_concentrations_are_decided_from_the_conditional():
    """A vMF accepted as the anisotropic family still leaves a rotation: the theorem's
    permutation claim needs pairwise distinct λ (distinct-concentrations)."""
    lin = th.mixings.Linear.random(3, seed=0)
    distinct = th.concentration_assumptions.DistinctConcentrations()

    def verdict(conditional):
        return check(distinct, th.Process(SPHERE3, lin, conditional))

    assert verdict(th.conditionals.AnisotropicNormal((2.0, 10.0, 30.0))).verdict == "proved"
    repeated = verdict(th.conditionals.AnisotropicNormal((2.0, 10.0, 10.0)))
    assert repeated.verdict == "violated" and repeated.witness == {
        "concentrations": [2.0, 10.0, 10.0]
    }
    assert verdict(th.conditionals.VonMisesFisher(5.0)).verdict == "violated"
    assert verdict(th.conditionals.Normal(0.1)).verdict == "violated"
    theorem = th.theorems.get("anisotropic-infonce")
    vmf = th.Process(SPHERE3, lin, th.conditionals.VonMisesFisher(5.0))
    verdicts = {e.assumption: e.verdict for e in check(theorem, vmf, n_points=32)}
    assert verdicts["conditional-family"] == "proved"
    assert verdicts["distinct-concentrations"] == "violated"


def test_on_a_box_projection_still_breaks_the_family():
    # Laplace noise is projected onto the box (atoms on its faces); the generalized normal
    # is drawn restricted to it: the same density, different laws on a bounded support
    assert _family("GeneralizedNormal", BOX, th.conditionals.Laplace(0.5)).verdict == "violated"
    assert _family("Laplace", BOX, th.conditionals.GeneralizedNormal(1.0, 0.5)).verdict == "proved"


def test_matched_lp_critic_reads_laplace_and_normal_as_exponents():
    learner = L.get("infonce-lp")  # the L1 metric
    laplace = th.Process(BOX, LIN, th.conditionals.Laplace(0.1))
    normal = th.Process(BOX, LIN, th.conditionals.Normal(0.1))
    assert (
        check(th.learner_conditions.MatchedLpCritic(), laplace, learner=learner).verdict == "proved"
    )
    e = check(th.learner_conditions.MatchedLpCritic(), normal, learner=learner)
    assert e.verdict == "violated" and "α = 2" in e.message


def test_cluster_sphere_is_never_uniform():
    p = th.Process(
        th.latents.ClusterSphere(3, n_clusters=100, kappa=10.0, seed=0),
        th.mixings.Linear.random(3, seed=0),
        th.conditionals.VonMisesFisher(10.0),
    )
    e = check(th.assumptions.UniformOnSphere(), p)
    assert e.verdict == "violated" and e.method == "family"
    assert e.witness["density_ratio"] > 1


# --- search spaces: inside, one violation ------------------------------------------------


CL_ICA = DEFAULT_SPACES["cl-ica"]


def test_cl_ica_space_can_pin_the_temperature_the_injectivity_and_the_uniform_law():
    assert CL_ICA.aims() == (INSIDE, "uniform-on-sphere", "injective", "matched-temperature")
    assert "tau_kappa" in CL_ICA.learner_options and CL_ICA.learner_options["tau_kappa"][0] == 1.0
    for option in ("train.steps", "train.batch_size", "train.lr", "encoder.width"):
        assert option in CL_ICA.learner_options


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(CL_ICA.strategy(INSIDE))
def test_inside_candidates_take_only_inside_values(candidate):
    params = candidate.params()
    assert params["latent"] == "UniformSphere" and params["conditional"] == "VonMisesFisher"
    assert params["mixing"] != "Fold" and params["tau_kappa"] == 1.0


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(CL_ICA.strategy("matched-temperature"))
def test_single_violation_candidates_change_one_axis(candidate):
    params = candidate.params()
    assert params["tau_kappa"] != 1.0
    assert params["latent"] == "UniformSphere" and params["mixing"] != "Fold"


def test_a_space_refuses_an_aim_it_cannot_reach():
    with pytest.raises(InvalidArgument, match="cannot violate 'conditional-family' alone"):
        CL_ICA.strategy("conditional-family")
    with pytest.raises(InvalidArgument, match="axis 'nonsense'"):
        dataclasses.replace(CL_ICA, outside=(Outside("nonsense", 1, ("x",)),)).validate()
    with pytest.raises(InvalidArgument, match="inside_share"):
        dataclasses.replace(CL_ICA, inside_share=1.5).validate()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DEFAULT_SPACES))
def test_declared_outside_entries_are_what_the_checks_say(name):
    space = DEFAULT_SPACES[name]
    # a generous time limit: the exact sympy attempts must not time out under load
    settings_ = {**CHECK_SETTINGS, "time_limit": 20.0}
    probed = probe(th.theorems.get(name), dataclasses.replace(space, outside=None), settings_)

    def entries(s):
        return sorted((o.axis, str(o.value), o.assumptions) for o in s.outside)

    assert entries(probed) == entries(space)


def test_the_plan_states_the_inside_share():
    phases = plan(CL_ICA, 40, ("gap", "failure"))
    assert [p.aims for p in phases] == [
        (INSIDE,),
        ("uniform-on-sphere", "injective", "matched-temperature"),
    ]
    assert [p.until for p in phases] == [16, 40]
    assert [p.aims for p in plan(CL_ICA, 40, ("failure",))] == [(INSIDE,)]
    assert plan(CL_ICA, 40, ("gap",))[0].aims[0] == "uniform-on-sphere"
    no_map = SearchSpace(outside=())  # nothing outside: everything is inside
    assert [p.aims for p in plan(no_map, 5, ("gap", "failure"))] == [(INSIDE,)]
    all_outside = SearchSpace(
        latents=("normal",),
        conditionals=("none",),
        outside=(Outside("latent", "normal", ("a", "b")),),
    )
    assert [p.aims for p in plan(all_outside, 5, ("gap",))] == [None]  # the whole space


# --- the necessity table ---------------------------------------------------------------


def _evaluation(violated, recovered, **params):
    spec = {"theorem": "t", "process": {"x": len(params)}, "learner": {}, "seed": 0}
    key = spec_key({**spec, "process": {"p": repr(sorted(params.items())), "v": violated}})
    return Evaluation(
        key=key,
        theorem="t",
        process={},
        learner={},
        seed=0,
        params=params,
        violated=tuple(violated),
        holds=not violated,
        recovered=recovered,
        recovery={"claim_metric": {"name": "m", "value": 1.0 if recovered else 0.0}},
    )


def test_necessity_verdicts_known_answers():
    space = CL_ICA
    records = [
        *(_evaluation(["matched-temperature"], True, tau_kappa=3.0) for _ in range(9)),
        _evaluation(["injective"], False, mixing="Fold"),
        _evaluation(["injective"], False, mixing="Fold"),
        _evaluation(["injective", "matched-temperature"], True, mixing="Fold"),  # not alone
        _evaluation([], True),
    ]
    rows = {
        r["assumption"]: r
        for r in necessity.table(
            ["uniform-on-sphere", "conditional-family", "injective", "matched-temperature"],
            records,
            space,
            0.2,
        )
    }
    temp = rows["matched-temperature"]
    assert temp["verdict"] == "not-needed-here" and temp["evaluations"] == 9
    assert temp["recovered"] == 9 and temp["rate"]["low"] > 0.6
    assert temp["note"] == "recovered on 9/9 with tau_kappa=3.0"
    assert rows["injective"]["verdict"] == "needed-here"
    assert rows["injective"]["note"] == "not recovered on 2/2 with mixing=fold"
    assert rows["conditional-family"]["verdict"] == "untested"
    assert "cannot violate it alone" in rows["conditional-family"]["note"]
    assert rows["uniform-on-sphere"]["verdict"] == "untested"
    assert "within the budget" in rows["uniform-on-sphere"]["note"]


def test_one_lucky_recovery_is_not_enough():
    records = [_evaluation(["injective"], i == 0, mixing="Fold") for i in range(6)]
    (row,) = necessity.table(["injective"], records, CL_ICA, 0.2)
    assert row["verdict"] == "needed-here" and "too rarely to confirm" in row["note"]


# --- planted failure and planted gap ---------------------------------------------------------


@dataclass
class _Planted(Learner):
    """Inverts a linear mixing exactly (it reads the mixing: a planted test learner) when it
    trains at least ``needed`` steps; with fewer it folds the first latent (z1 -> |z1|)."""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=100))
    needed: int = 200
    name = "planted"

    def fit(self, process, *, seed=0, monitor=None):
        if not isinstance(process.mixing, th.mixings.Linear):
            raise InvalidProcess("the planted learner inverts linear mixings only")
        a = torch.tensor(process.mixing.matrix, dtype=torch.float64)
        folded = self.train.steps < self.needed

        def encode(x):
            z = torch.linalg.solve(a, torch.as_tensor(x, dtype=torch.float64).T).T
            if folded:
                z = torch.cat([z[:, :1].abs(), z[:, 1:]], 1)
            return z

        return Fit(encode, [(1, 0.0)], self.train.steps)


PLANTED = th.Theorem(
    name="planted-ica",
    assumptions=(th.assumptions.NonGaussian(), th.assumptions.LinearMixing()),
    learner=_Planted(),
    claim=th.claims.permutation_scaling(0.95),
    canonical=lambda: th.Process(th.latents.Laplace(2), th.mixings.Linear.random(2, seed=0)),
)
PLANTED_SPACE = SearchSpace(
    dims=(2, 2),
    latents=("laplace", "normal"),
    mixings=("linear",),
    conditionals=("none",),
    outside=(Outside("latent", "normal", ("non-gaussian",)),),
)


def test_a_search_finds_a_planted_failure_inside_the_theorem_and_says_more_training_fixes_it(
    tmp_path,
):
    space = dataclasses.replace(PLANTED_SPACE, learner_options={"train.steps": (100,)})
    result = search(PLANTED, space, budget=6, seed=0, kinds=("failure",), out=tmp_path / "r")
    (failure,) = result.failures
    assert failure.evaluation.holds and not failure.evaluation.recovered
    assert failure.budget_check["steps"] == 400 and failure.budget_check["recovered"] is True
    assert failure.budget_check["cause"] == "optimisation"
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["counterexamples"][0]["budget_check"]["cause"] == "optimisation"
    assert report["inside"]["evaluations"] >= 1
    assert (
        "more training: 4x the training steps (400) recovers it"
        in (tmp_path / "r" / "report.md").read_text()
    )


def test_a_search_pins_a_planted_gap_to_its_one_assumption(tmp_path):
    space = dataclasses.replace(PLANTED_SPACE, learner_options={"train.steps": (400,)})
    result = search(PLANTED, space, budget=6, seed=0, out=tmp_path / "r")
    (gap,) = result.gaps
    assert gap.evaluation.violated == ("non-gaussian",)
    assert result.plan["phases"][0]["aims"] == [INSIDE]
    rows = {r["assumption"]: r for r in result.necessity}
    assert rows["non-gaussian"]["verdict"] == "not-needed-here"
    assert rows["non-gaussian"]["note"].endswith("with latent=normal")
    assert rows["linear-mixing"]["verdict"] == "untested"
    md = (tmp_path / "r" / "report.md").read_text()
    assert "## Necessity: each assumption violated alone" in md
    assert "| non-gaussian |" in md


def test_a_users_theorem_searches_without_a_registered_space(tmp_path):
    space = derive_space(PLANTED)
    assert space.latents == ("laplace", "normal") and space.mixings == ("linear", "fold")
    assert space.learner_options["train.steps"] == (100, 25)
    result = search(PLANTED, budget=4, seed=0, out=tmp_path / "r")
    assert result.evaluations >= 4
    outside = {(o["axis"], o["value"]): tuple(o["assumptions"]) for o in result.space["outside"]}
    assert outside[("latent", "normal")] == ("non-gaussian",)
    assert "linear-mixing" in outside[("mixing", "fold")]


def test_the_cli_searches_a_theorem_from_an_imported_file(tmp_path):
    from click.testing import CliRunner

    from verification.cli import main

    paper = tmp_path / "paper_theorem.py"
    paper.write_text(
        textwrap.dedent(
            """
            import theory as th
            th.theorems.register(th.Theorem(
                "my-ica",
                assumptions=(th.assumptions.NonGaussian(), th.assumptions.LinearMixing()),
                learner=("fastica", {"n_train": 2000}),
                claim=th.claims.permutation_scaling(0.9),
                canonical=lambda: th.Process(th.latents.Laplace(2), th.mixings.Linear.random(2)),
            ))
            """
        )
    )
    try:
        out = CliRunner().invoke(
            main,
            [
                "--import",
                str(paper),
                "search",
                "my-ica",
                "--budget",
                "3",
                "--out",
                str(tmp_path / "run"),
                "--quiet",
            ],
        )
        assert out.exit_code == 0, out.output
        report = json.loads((tmp_path / "run" / "report.json").read_text())
        assert report["evaluations"] >= 3 and report["necessity"]
    finally:
        th.theorems._CATALOGUE.pop("my-ica", None)
        sys.modules.pop("paper_theorem", None)


def test_check_prints_a_witness_as_key_value_pairs(tmp_path):
    # a second _short once replaced the witness printer: `sith check` showed a raw dict
    from click.testing import CliRunner

    from verification.cli import main

    spec = tmp_path / "shear.py"
    spec.write_text(
        "import theory as th\n"
        "process = th.Process(th.latents.Uniform(2), th.mixings.Linear([[1.0, 2.0], [0.0, 1.0]]))\n"
    )
    out = CliRunner().invoke(main, ["check", "conformal", "--process", f"{spec}:process"])
    assert out.exit_code == 1, out.output
    assert "witness: " in out.output and "{'" not in out.output


def test_a_space_that_cannot_be_derived_says_why():
    product = th.latents.Product((th.latents.Laplace(1), th.latents.Normal(1)))
    mine = dataclasses.replace(
        PLANTED,
        name="product-ica",
        canonical=lambda: th.Process(product, th.mixings.Linear.random(2)),
    )
    with pytest.raises(InvalidArgument, match="canonical latent Product is not a family"):
        derive_space(mine)
