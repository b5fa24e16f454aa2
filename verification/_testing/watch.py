"""Watched processes: what a learner's ``fit`` draws, tampered training data, and a
pinned global random state.

Private: the public names live in :mod:`verification.testing`."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import theory as th


class _Closed(Exception):
    """Raised when something touches a watched process after fit returned."""


class _Watch:
    """What a learner did with a watched process during fit."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []  # every observation it generated
        self.seeds: list[tuple[Any, Any]] = []  # (seed or generator, its state) per draw
        self.closed = False
        self.touched: str | None = None


def _watched(
    process: th.Process,
    watch: _Watch,
    tamper: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> th.Process:
    """A copy of ``process`` (same class, same data) that records what fit draws, may
    tamper with the observations it hands out, and refuses every access once closed."""
    base = type(process)

    def getattribute(self, name):
        if watch.closed and not name.startswith("__"):
            watch.touched = name
            raise _Closed(name)
        return object.__getattribute__(self, name)

    def note(seed) -> None:  # the generator, and its state before this draw
        state = seed.bit_generator.state if isinstance(seed, np.random.Generator) else None
        watch.seeds.append((seed, state))

    def sample(self, n, seed=0):
        note(seed)
        return base.sample(self, n, seed)

    def sample_pairs(self, n, seed=0):
        note(seed)
        return base.sample_pairs(self, n, seed)

    def observe(self, z):
        x = base.observe(self, z)
        watch.rows.append(x.detach().cpu().double().numpy().reshape(len(x), -1).copy())
        return x if tamper is None else tamper(x)

    def observe_view(self, z):  # the positive view (its own mixing, if the process has one)
        if self.view_mixing is None:
            return self.observe(z)
        x = base.observe_view(self, z)
        watch.rows.append(x.detach().cpu().double().numpy().reshape(len(x), -1).copy())
        return x if tamper is None else tamper(x)

    cls = type(
        f"Watched{base.__name__}",
        (base,),
        {
            "__getattribute__": getattribute,
            "sample": sample,
            "sample_pairs": sample_pairs,
            "observe": observe,
            "observe_view": observe_view,
            "__module__": __name__,
        },
    )
    copy_ = object.__new__(cls)
    copy_.__dict__.update(process.__dict__)
    return copy_


def _nan_rows(x: torch.Tensor) -> torch.Tensor:
    x = x.clone()
    x[::5, 0] = math.nan
    return x


def _inf_rows(x: torch.Tensor) -> torch.Tensor:
    x = x.clone()
    x[2::7, -1] = math.inf
    return x


def _huge(x: torch.Tensor) -> torch.Tensor:
    return x * 1e30


_BAD_DATA = (
    ("NaN injected into every 5th observation", _nan_rows),
    ("inf injected into every 7th observation", _inf_rows),
    ("observations scaled by 1e30 (their variance overflows float32)", _huge),
)


class _GlobalRandomState:
    """Sets the global torch / numpy / random state to ``seed`` and restores it after."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __enter__(self):
        import random

        self.saved = (torch.get_rng_state(), np.random.get_state(), random.getstate())
        torch.manual_seed(self.seed)
        np.random.seed(self.seed)
        random.seed(self.seed)

    def __exit__(self, *exc):
        import random

        torch_state, np_state, py_state = self.saved
        torch.set_rng_state(torch_state)
        np.random.set_state(np_state)
        random.setstate(py_state)
        return False
