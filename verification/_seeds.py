"""Seeds: one validator, and every derived seed and random stream by name.

A run has one seed. Everything random in it is drawn from a *named stream* of that
seed, ``np.random.default_rng([seed, STREAMS[name]])`` (numpy's SeedSequence keeps the
streams independent), or from a *derived seed*, ``derive_seed(seed, kind, k)`` (the
k-th restart of a learner, the k-th re-seed of a counterexample, ...). The numbers are
the ones sith has always used, so recorded results and documented figures reproduce:
change a value here and every stored evaluation that used it changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theory import _validate as valid
from theory.errors import InvalidArgument, UnknownName

MAX_SEED = valid.MAX_SEED  # seeds are non-negative integers below 2**63

# name -> the second entry of the stream's seed, rng([seed, number])
STREAMS: dict[str, int] = {
    "held-out": 7,  # recover's held-out evaluation samples (recovery.TEST_STREAM)
    "fastica-train": 11,  # FastICA's training sample
    "train": 12,  # labelled training samples (TCL, cross-entropy)
    "pairs": 13,  # contrastive learners' training pairs and reference sample
    "target": 14,  # oracle mode: the true latents' loss
    "gap": 15,  # the optimality gap, a diagnostic after training
    "selection": 16,  # fresh training pairs a race scores its candidates on
    "ivae-data": 22,  # iVAE's fixed training set
    "gcl-data": 23,  # GCL's fixed training set
    "align-probe": 31,  # align's common held-out set
    "contract-probe": 99,  # check_learner's unseen observations
}

# kind -> (scale, step): derive_seed(seed, kind, k) = scale * seed + step * k
DERIVED: dict[str, tuple[int, int]] = {
    "restart": (1, 7919),  # a learner's k-th initialisation (racing, oracle restarts)
    "reseed": (1, 1000),  # a counterexample's k-th fresh seed (search)
    "round": (1000, 1),  # the k-th hypothesis round of a search
}


def check_seed(value: Any, owner: str = "sith", name: str = "seed") -> int:
    """``value`` as a plain int when it is a seed (an integer in [0, 2**63), numpy ints
    accepted, bools refused); else an InvalidArgument naming ``owner`` and ``name``."""
    return valid.seed(owner, name, value)


def stream(name: str) -> int:
    """The number of the named random stream (see ``STREAMS``)."""
    try:
        return STREAMS[name]
    except KeyError:
        raise UnknownName(
            f"unknown random stream {name!r}; streams: {', '.join(STREAMS)}"
        ) from None


def random_stream(seed: int, name: str, *index: int, owner: str = "sith") -> np.random.Generator:
    """The generator of stream ``name`` of ``seed``: ``default_rng([seed, number,
    *index])`` (``index`` splits one stream further, e.g. per candidate)."""
    key = [check_seed(seed, owner), stream(name), *(_index(i) for i in index)]
    return np.random.default_rng(key)


def derive_seed(seed: int, kind: str, index: int = 0, *, owner: str = "sith") -> int:
    """The seed of the ``index``-th member of ``kind`` (see ``DERIVED``): e.g. the k-th
    restart of a learner seeded ``seed`` is ``seed + 7919 k``."""
    try:
        scale, step = DERIVED[kind]
    except KeyError:
        raise UnknownName(
            f"unknown kind of derived seed {kind!r}; kinds: {', '.join(DERIVED)}"
        ) from None
    return scale * check_seed(seed, owner) + step * _index(index)


def _index(value: Any) -> int:
    if not valid.is_integer(value) or value < 0:
        raise InvalidArgument(f"a stream index must be an integer >= 0, got {value!r}")
    return int(value)


__all__ = ["DERIVED", "MAX_SEED", "STREAMS", "check_seed", "derive_seed", "random_stream", "stream"]
