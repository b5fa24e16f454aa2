"""One seed helper: one validator, named random streams and derived seeds whose numbers
are the ones sith has always used (stored evaluations and documented figures depend on
them)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import theory as th
from theory.errors import InvalidArgument, UnknownName
from verification import _seeds
from verification import learners as L
from verification.learners.base import TrainConfig
from verification.recovery import TEST_STREAM

ROOT = Path(__file__).resolve().parents[1]


def test_streams_keep_their_numbers():
    assert _seeds.STREAMS == {
        "held-out": 7,
        "fastica-train": 11,
        "train": 12,
        "pairs": 13,
        "target": 14,
        "gap": 15,
        "selection": 16,
        "ivae-data": 22,
        "gcl-data": 23,
        "align-probe": 31,
        "contract-probe": 99,
    }
    assert _seeds.stream("held-out") == TEST_STREAM
    assert len(set(_seeds.STREAMS.values())) == len(_seeds.STREAMS)  # no two share one
    a = _seeds.random_stream(5, "selection").random(4)
    assert np.array_equal(a, np.random.default_rng([5, 16]).random(4))
    split = _seeds.random_stream(5, "selection", 2).random(4)
    assert np.array_equal(split, np.random.default_rng([5, 16, 2]).random(4))


def test_derived_seeds_keep_their_rules():
    assert [_seeds.derive_seed(3, "restart", k) for k in range(3)] == [3, 3 + 7919, 3 + 2 * 7919]
    assert _seeds.derive_seed(3, "reseed", 2) == 3 + 2000
    assert _seeds.derive_seed(3, "round", 4) == 3 * 1000 + 4
    assert _seeds.derive_seed(np.int64(3), "restart") == 3


@pytest.mark.parametrize("bad", [-1, 2**63, 1.5, True, "3", None])
def test_one_validator_refuses_what_is_not_a_seed(bad):
    with pytest.raises(InvalidArgument, match="seed must be a non-negative integer below 2"):
        _seeds.check_seed(bad, "InfoNCE")
    with pytest.raises(InvalidArgument, match="seed must be"):
        _seeds.derive_seed(bad, "restart", 1)


def test_unknown_stream_names_are_refused_with_the_known_ones():
    with pytest.raises(UnknownName, match="unknown random stream 'nope'; streams: held-out"):
        _seeds.random_stream(0, "nope")
    with pytest.raises(UnknownName, match="kinds: restart, reseed, round"):
        _seeds.derive_seed(0, "nope")
    with pytest.raises(InvalidArgument, match="stream index"):
        _seeds.derive_seed(0, "restart", -1)


def test_a_learner_refuses_a_bad_seed_with_one_line():
    process = th.theorems.get("cl-ica").canonical_process()
    learner = L.InfoNCE(train=TrainConfig(steps=2, batch_size=16))
    with pytest.raises(InvalidArgument, match="seed must be a non-negative integer"):
        learner.fit(process, seed=-1)


def test_learners_derive_no_seed_and_name_no_stream_by_hand():
    """Every `default_rng([seed, N])` and `seed + 7919 k` in the learners goes through
    verification._seeds (a literal there would be a stream nobody can look up)."""
    for path in sorted((ROOT / "verification" / "learners").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "default_rng":
                assert node.args and isinstance(node.args[0], ast.Constant), (
                    f"{path.name}:{node.lineno}: use verification._seeds.random_stream"
                )
            if isinstance(node, ast.Constant) and node.value == 7919:
                pytest.fail(f"{path.name}:{node.lineno}: use verification._seeds.derive_seed")
