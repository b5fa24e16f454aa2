"""One table of options per learner (verification/learners/options.py): validation,
``apply_options``, the canonical form of a setting and the sweep's types all come from
it, and a refusal is one line naming the learner, the option and what it accepts."""

from __future__ import annotations

import dataclasses
import json
from typing import ClassVar

import pytest

import theory as th
from theory.errors import InvalidArgument
from verification import learners as L
from verification._options import (
    apply_options,
    describe_options,
    normalise_options,
    option_names,
    options_of,
)
from verification._sweep.settings import SweepSpace, normalise_vary
from verification.learners.base import TrainConfig
from verification.learners.encoders import EncoderConfig


@pytest.mark.parametrize("name", sorted(L.LEARNERS))
def test_every_learner_declares_each_of_its_options_once(name):
    learner = L.get(name)
    groups = {"train": TrainConfig, "encoder": EncoderConfig}
    table = options_of(learner)
    assert table is not None, f"{name} has no options table"
    for f in dataclasses.fields(learner):
        if f.name in groups:
            assert isinstance(getattr(learner, f.name), groups[f.name])
        else:
            assert f.name in table, f"{name}: option {f.name!r} is not in its table"
    assert set(table) <= {f.name for f in dataclasses.fields(learner)}
    for config in (TrainConfig(), EncoderConfig()):
        assert set(options_of(config)) == {f.name for f in dataclasses.fields(config)}


def test_a_float_option_holds_a_float_however_it_is_spelled():
    """tau=1 and tau=1.0 are one learner configuration (one store key): before the
    table, apply_options kept the int and the two made two records."""
    one, other = L.get("infonce"), L.get("infonce")
    apply_options(one, {"tau": 1, "train.lr": 1, "fold_guard_weights": [0, 2]})
    apply_options(other, {"learner.tau": 1.0, "train.lr": 1.0, "fold_guard_weights": (0.0, 2.0)})
    assert type(one.tau) is float and type(one.train.lr) is float
    assert json.dumps(one.config(), sort_keys=True) == json.dumps(other.config(), sort_keys=True)


def test_normalise_options_gives_one_spelling():
    learner = L.get("infonce")
    a = normalise_options(learner, {"learner.tau": 0.1, "train.steps": 200, "p": 2})
    b = normalise_options(learner, {"train.steps": 200, "p": 2.0, "tau": 0.1})
    assert a == b == {"p": 2.0, "tau": 0.1, "train.steps": 200}
    assert list(a) == sorted(a) and learner.tau is None  # nothing was set
    with pytest.raises(InvalidArgument, match="'tau' is given twice"):
        normalise_options(learner, {"tau": 0.1, "learner.tau": 0.2})
    with pytest.raises(InvalidArgument, match=r"learner infonce has no option 'tua'; options: "):
        normalise_options(learner, {"tua": 0.1})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"train.optimizer": "lbfgs"},
            "learner infonce: train.optimizer must be 'adam', 'adamw' or 'sgd', got 'lbfgs'",
        ),
        (
            {"tau": 0.0},
            "learner infonce: tau must be a finite number in (0, 1e6] (or None), got 0.0",
        ),
        ({"restarts": "2"}, "learner infonce: invalid value for 'restarts': expected int, got '2'"),
        ({"oracle": 1}, "learner infonce: invalid value for 'oracle': expected bool, got 1"),
        ({"critic": 2}, "learner infonce: invalid value for 'critic': expected str, got 2"),
        (
            {"device": "tpu"},
            "learner infonce: device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got 'tpu'",
        ),
        (
            {"encoder.activation": "bogus"},
            "learner infonce: encoder.activation must be 'relu', 'leaky_relu', 'gelu', 'silu' "
            "or 'tanh', got 'bogus'",
        ),
    ],
)
def test_refusals_are_one_line_naming_learner_option_and_allowed_values(options, message):
    learner = L.get("infonce")
    before = learner.config()
    with pytest.raises(InvalidArgument) as info:
        apply_options(learner, {"train.steps": 50, **options})
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
    assert learner.config() == before  # all or nothing


def test_constructors_validate_from_the_same_table():
    with pytest.raises(InvalidArgument, match=r"^GCL: psi must be 'quadratic' or 'mlp', got 'x'$"):
        L.GCL(psi="x")
    with pytest.raises(InvalidArgument, match=r"^TrainConfig: lr must be a finite positive"):
        TrainConfig(lr=-1.0)
    with pytest.raises(InvalidArgument, match=r"^EncoderConfig: activation must be 'relu'"):
        EncoderConfig(activation="bogus")
    with pytest.raises(InvalidArgument, match="AnInfoNCE's critic is 'anisotropic'"):
        L.AnInfoNCE(critic="cosine")
    L.AnInfoNCE(tau_kappa=2.0)  # InfoNCE's other options are AnInfoNCE's too


def test_listing_says_what_each_option_accepts():
    rows = {row["name"]: row for row in describe_options(L.get("gcl"))}
    assert list(rows) == option_names(L.get("gcl"))
    assert rows["psi"]["accepts"] == "'quadratic' or 'mlp'" and rows["psi"]["value"] == "quadratic"
    assert rows["train.time_budget"]["accepts"].endswith("(or None)")
    assert "raced" in rows["train.time_budget"]["help"]


def test_a_sweep_setting_has_one_canonical_form():
    theorem = th.theorems.get("cl-ica")
    space = SweepSpace(theorem, theorem.canonical_process())
    spelled = space.normalise({"tau": 1, "conditional.kappa": 2, "latent.n": 3})
    other = space.normalise({"dim": 3, "learner.tau": 1.0, "conditional.kappa": 2.0})
    assert spelled == other == {"conditional.kappa": 2.0, "dim": 3, "learner.tau": 1.0}
    assert normalise_vary(space, {"tau": [1]}, random=None) == normalise_vary(
        space, {"learner.tau": [1.0]}, random=None
    )
    # the candidate carries the temperature under the learner's own name, once
    assert space.candidate(spelled).learner_options == {"tau": 1.0}
    with pytest.raises(InvalidArgument, match=r"both set 'learner\.tau'"):
        space.normalise({"tau": 1.0, "learner.tau": 2.0})


def test_a_user_learner_without_a_table_is_checked_by_its_annotations():
    @dataclasses.dataclass
    class Mine(L.Learner):
        steps: int = 10
        scale: float = 1.0
        name = "mine"

    learner = Mine()
    apply_options(learner, {"scale": 2})
    assert type(learner.scale) is float
    with pytest.raises(InvalidArgument, match="invalid value for 'steps': expected int"):
        apply_options(learner, {"steps": "5"})
    assert normalise_options(learner, {"learner.scale": 3}) == {"scale": 3.0}


def test_set_items_are_read_as_their_options_spell_them():
    from verification._options import parse_options

    learner = L.get("infonce")
    parsed = parse_options(
        learner, ["tau=1", "oracle=True", "critic=lp", "p=none", "train.steps=20", "device=cpu"]
    )
    assert parsed == {
        "tau": 1,
        "oracle": True,
        "critic": "lp",
        "p": None,
        "train.steps": 20,
        "device": "cpu",
    }
    apply_options(learner, parsed)
    assert learner.tau == 1.0 and learner.oracle is True and learner.p is None
    with pytest.raises(InvalidArgument, match="is not a finite number"):
        parse_options(learner, ["train.lr=NaN"])
    with pytest.raises(InvalidArgument, match="KEY=VALUE"):
        parse_options(learner, ["novalue"])
    with pytest.raises(InvalidArgument, match="has no option 'nope'"):
        parse_options(learner, ["nope=1"])


def test_a_user_learner_may_declare_a_table_of_its_own():
    @dataclasses.dataclass
    class Mine(L.Learner):
        width: int = 8
        name = "mine"
        OPTIONS: ClassVar[dict[str, L.Option]] = {
            "width": L.Option("width", "int", "hidden units", low=1, high=4096)
        }

        def __post_init__(self) -> None:
            L.check_options(self)

    learner = Mine()
    apply_options(learner, {"learner.width": 16})
    assert learner.width == 16
    with pytest.raises(
        InvalidArgument, match=r"^learner mine: width must be a positive integer <= 4096, got 0$"
    ):
        apply_options(learner, {"width": 0})
    with pytest.raises(InvalidArgument, match=r"^Mine: width must be"):
        Mine(width=0)
