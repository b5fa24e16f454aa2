"""The state the contract checks share: the prepared copy, the process, one watched
fit, and the calls (fit, encode, config) that turn a learner's misstep into a
:class:`LearnerContractError`.

Private: the public names live in :mod:`verification.testing`."""

from __future__ import annotations

import copy
import dataclasses
import typing

import numpy as np
import torch

import theory as th
from theory._spec import canonical_json
from theory.errors import InvalidArgument, SithError
from verification._testing.watch import _Closed, _GlobalRandomState, _Watch, _watched
from verification.learners.base import Fit, Learner, Status, TrainConfig

SMALL_STEPS = 25
SMALL_BATCH = 64
SMALL_TRAIN = 2000
STATUSES = typing.get_args(Status)  # ("ok", "diverged", "collapsed")
_PROBE_STREAM = 99  # unseen observations: a stream neither learners nor recover use
_N_HELD_OUT = 4000  # recover's default n_test: the held-out rows compared with training's


class LearnerContractError(SithError, AssertionError):
    """A learner broke its contract: ``check`` names the check, the message says why."""

    def __init__(self, learner: str, check: str, reason: str) -> None:
        super().__init__(f"learner {learner!r} fails check {check!r}: {reason}")
        self.learner, self.check, self.reason = learner, check, reason


def contract_process(n: int = 3, *, seed: int = 0) -> th.Process:
    """The small process the checks train on: ``n`` segmented Laplace latents (segment
    labels for TCL-like learners), an invertible MLP, Normal positive pairs (for
    contrastive learners)."""
    return th.Process(
        th.latents.Segmented(n, n_segments=8, seed=seed),
        th.mixings.InvertibleMLP(n, depth=2, seed=seed),
        th.conditionals.Normal(0.1),
    )


def shrunk(learner: Learner) -> Learner:
    """A deep copy of ``learner`` with a small training budget where it has the usual
    knobs: ``train`` (a TrainConfig: steps, batch size) and an integer ``n_train``."""
    small = copy.deepcopy(learner)
    train = getattr(small, "train", None)
    if isinstance(train, TrainConfig):
        steps = SMALL_STEPS if train.steps is None else min(train.steps, SMALL_STEPS)
        small.train = dataclasses.replace(
            train, steps=steps, batch_size=min(train.batch_size or SMALL_BATCH, SMALL_BATCH)
        )
    n_train = getattr(small, "n_train", None)
    if isinstance(n_train, int) and not isinstance(n_train, bool) and n_train > SMALL_TRAIN:
        small.n_train = SMALL_TRAIN
    return small


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0].rstrip('.') if text else ''}".rstrip(": ")


def _difference(a: torch.Tensor, b: torch.Tensor, *, rtol: float, atol: float) -> str | None:
    """None when two encodings agree (``torch.allclose`` at ``rtol``, ``atol``), else how
    far apart they are: their largest absolute difference, or "shapes differ"."""
    if a.shape != b.shape:
        return "shapes differ"
    if torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol):
        return None
    return str(float((a.double() - b.double()).abs().max()))


class Harness:
    """The state the checks share: the prepared copy, the process, one watched fit."""

    def __init__(self, learner, seed, n, process, latent_dim, shrink) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InvalidArgument(f"seed must be a non-negative integer, got {seed!r}")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 64:
            raise InvalidArgument(f"n must be an integer in [1, 64], got {n!r}")
        if process is not None and not isinstance(process, th.Process):
            raise InvalidArgument(f"process must be a theory.Process, got {process!r}")
        if latent_dim is not None and (
            isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1
        ):
            raise InvalidArgument(f"latent_dim must be a positive integer, got {latent_dim!r}")
        self.learner = learner
        self.seed = seed
        self.n = n
        self.shrink = shrink
        self._process = process
        self._latent_dim = latent_dim
        self._subject: Learner | None = None
        self._fit: Fit | None = None
        self._watch: _Watch | None = None

    # ----------------------------------------------------------------- shared state

    @property
    def label(self) -> str:
        return str(getattr(self.learner, "name", type(self.learner).__name__))

    def fail(self, check: str, reason: str) -> LearnerContractError:
        return LearnerContractError(self.label, check, reason)

    @property
    def process(self) -> th.Process:
        if self._process is None:
            self._process = contract_process(self.n, seed=0)
        return self._process

    def subject(self, check: str) -> Learner:
        """The copy the checks train (shrunk unless shrink=False)."""
        if self._subject is None:
            self.require_learner(check)
            try:
                self._subject = shrunk(self.learner) if self.shrink else copy.deepcopy(self.learner)
            except Exception as err:
                raise self.fail(
                    check, f"the learner cannot be deep-copied: {_describe(err)}"
                ) from err
        return self._subject

    def latent_dim(self, learner: Learner) -> int:
        if self._latent_dim is not None:
            return self._latent_dim
        content = getattr(learner, "content", None)
        if isinstance(content, int) and not isinstance(content, bool):
            return content
        return self.process.dim

    def require_learner(self, check: str) -> None:
        if not isinstance(self.learner, Learner):
            raise self.fail(
                check,
                f"{type(self.learner).__name__} is not a verification.learners.Learner "
                "(subclass it and implement fit(process, *, seed=0))",
            )

    def fit(
        self, check: str, learner: Learner, process: th.Process, what: str, advice: str = ""
    ) -> Fit:
        """``learner.fit(process, seed=seed)``; raising, or not returning a Fit, fails."""
        try:
            fit = learner.fit(process, seed=self.seed)
        except _Closed:
            raise
        except Exception as err:
            if not advice and isinstance(err, InvalidArgument):
                advice = "if it needs another kind of data, pass check_learner(..., process=...)"
            advice = f" ({advice})" if advice else ""
            raise self.fail(check, f"{what}, fit raised {_describe(err)}{advice}") from err
        if not isinstance(fit, Fit):
            raise self.fail(
                check, f"fit returned {type(fit).__name__}, not a verification.learners.Fit"
            )
        return fit

    def watched_fit(self, check: str) -> tuple[Fit, _Watch]:
        """The shared fit: on a watched copy of the process, closed once fit returns."""
        if self._fit is None:
            learner = self.subject(check)
            watch = _Watch()
            process = _watched(self.process, watch)
            with _GlobalRandomState(1234):
                fit = self.fit(check, learner, process, "on the contract process")
            watch.closed = True
            if fit.status != "ok":
                raise self.fail(
                    check,
                    f"fit returned status {fit.status!r} on the contract process "
                    f"({fit.message or 'no message'}); the checks need a learner that trains "
                    "on it (pass process= a process it supports)",
                )
            self._fit, self._watch = fit, watch
        return self._fit, self._watch

    def encode(self, check: str, fit: Fit, x: torch.Tensor) -> torch.Tensor:
        """``fit.encode(x)``; raising or not returning a tensor fails ``check``; touching
        the (closed) process fails ``no_evaluation_data``, whichever check asked."""
        try:
            out = fit.encode(x)
        except _Closed as err:  # whichever check encodes first: it is this contract
            raise self.fail(
                "no_evaluation_data",
                f"encode read the process (attribute {str(err)!r}) after fit returned: an "
                "encoder must depend on the observations only, never on the true mixing or "
                "latents",
            ) from None
        except Exception as err:
            raise self.fail(
                check, f"encode raised {_describe(err)} on {len(x)} observations"
            ) from err
        if not isinstance(out, torch.Tensor):
            raise self.fail(
                check,
                f"encode returned {type(out).__name__}, not a torch.Tensor (recover applies "
                "torch operations to it)",
            )
        return out

    def observations(self, m: int, stream: int = _PROBE_STREAM) -> torch.Tensor:
        """``m`` observations of the process from a stream no learner uses."""
        return self.process.sample(m, np.random.default_rng([self.seed, stream]))[1]

    # ----------------------------------------------------------------- the checks

    def config_of(self, check: str, learner: Learner) -> tuple[dict, str]:
        try:
            config = learner.config()
        except Exception as err:
            raise self.fail(check, f"config() raised {_describe(err)}") from err
        if not isinstance(config, dict):
            raise self.fail(check, f"config() returned {type(config).__name__}, not a dict")
        try:
            text = canonical_json(config)
        except (TypeError, ValueError) as err:
            raise self.fail(
                check,
                f"config() is not JSON-serialisable ({_describe(err)}); results are stored "
                "and hashed by it",
            ) from None
        return config, text
