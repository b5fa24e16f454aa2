"""A contract suite for learners: what every learner must do for ``recover`` to be honest.

Like scikit-learn's ``check_estimator``: run it on your own learner before you trust a
recovery result it produced::

    from verification.testing import check_learner
    check_learner(MyLearner())          # raises LearnerContractError on the first failure

or one pytest test per check::

    @pytest.mark.parametrize(("name", "check"), learner_checks(MyLearner()))
    def test_my_learner(name, check):
        check()

The contract, as ``recover`` relies on it (``verification/recovery.py``): a learner is
given a :class:`theory.Process` and a seed, draws its own training data from the process,
and returns a :class:`~verification.learners.Fit`; ``recover`` then draws held-out
samples from a separate stream (``rng([seed, TEST_STREAM])``), encodes their
observations with ``fit.encode`` and scores them against their latents. The checks:

``is_learner``
    a :class:`~verification.learners.Learner` with a ``name`` whose ``fit`` is its own
    and can be called as ``fit(process, seed=...)``.
``config_json``
    ``config()`` is a dict naming the learner, JSON-serialisable by
    :func:`theory._spec.canonical_json` (results are stored and hashed by it), the same
    on every call, and unchanged by a JSON round trip.
``config_deepcopy``
    the learner can be deep-copied (theorems hand out copies) and the copy has the same
    config.
``fit_result``
    ``fit`` returns a ``Fit`` whose fields have their documented types, with status
    "ok" on the contract process; and it leaves the learner's config as it was.
``deterministic``
    two fits with the same seed on the same process encode a probe identically, even
    when the global torch / numpy random state differs between them.
``encode_shape``
    ``encode`` maps ``m`` unseen observations (float64, as ``recover`` passes them) to a
    finite floating ``torch.Tensor`` of shape ``(m, latent_dim)``, also for ``m = 1``,
    without modifying its input.
``encode_rowwise``
    the fitted encoder maps each observation on its own: encoding other (evaluation)
    data first, or encoding a probe inside a different batch, does not change the
    probe's encoding. So evaluation data cannot leak into the representation.
``no_evaluation_data``
    ``fit`` never draws from the held-out stream ``recover`` evaluates on and never
    generates any of its observations; and once ``fit`` has returned, ``encode`` no
    longer touches the process (the true mixing and latents): an encoder sees x only.
``divergence``
    given training observations with NaN / inf injected, or so large that their
    variance overflows float32, ``fit`` does not raise: it returns a Fit whose status is
    not "ok" (saying why in its message), or an "ok" fit whose encoder is still finite.

The checks train on a small process (:func:`contract_process`: segmented Laplace
latents, an invertible MLP, Normal positive pairs, so that pair-based, label-based and
plain learners all accept it) and on a shrunk copy of the learner (:func:`shrunk`:
at most ``SMALL_STEPS`` steps, batches of at most 64, at most ``SMALL_TRAIN`` training
samples), so the whole contract takes seconds. Pass ``process=`` for a learner that needs
a different kind of data, and ``shrink=False`` to check the learner as configured.

A learner draws its training data from the process, so it may see training latents the
way the generative process makes them (TCL needs the segment labels; InfoNCE's oracle
mode, only when asked, compares with the true latents' loss): the contract forbids the
*evaluation* data and the truth at encoding time, not the generative process during
training. Whether truth-derived signals steer training is the learner's mode, reported
in ``Fit.extras["oracle"]`` and ``RecoveryResult.oracle`` (practice mode by default).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import math
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import theory as th
from theory._spec import canonical_json
from theory.errors import InvalidArgument, SithError
from verification.learners.base import Fit, Learner, Status, TrainConfig

SMALL_STEPS = 25
SMALL_BATCH = 64
SMALL_TRAIN = 2000
STATUSES = typing.get_args(Status)  # ("ok", "diverged", "collapsed")
CHECKS = (
    "is_learner",
    "config_json",
    "config_deepcopy",
    "fit_result",
    "deterministic",
    "encode_shape",
    "encode_rowwise",
    "no_evaluation_data",
    "divergence",
)
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
            train, steps=steps, batch_size=min(train.batch_size, SMALL_BATCH)
        )
    n_train = getattr(small, "n_train", None)
    if isinstance(n_train, int) and not isinstance(n_train, bool) and n_train > SMALL_TRAIN:
        small.n_train = SMALL_TRAIN
    return small


def learner_checks(
    learner: Learner,
    *,
    seed: int = 0,
    n: int = 3,
    process: th.Process | None = None,
    latent_dim: int | None = None,
    shrink: bool = True,
) -> list[tuple[str, Callable[[], None]]]:
    """``(name, check)`` for every check of the contract, in order; ``check()`` raises
    :class:`LearnerContractError` when the learner fails it.

    Arguments:
        learner: the learner to check (never modified: the checks train copies).
        seed: the seed every fit uses.
        n: the latent dimension of the default contract process.
        process: the process to train on (default: :func:`contract_process` of ``n``).
        latent_dim: the number of outputs ``encode`` must have (default: the learner's
            ``content`` if it is an integer, else the process's dimension).
        shrink: train a :func:`shrunk` copy (small budget) instead of a plain copy.

    The checks share one fitted copy (made on first use), so running all of them costs
    about three fits; each can also run on its own.
    """
    harness = _Harness(learner, seed, n, process, latent_dim, shrink)
    out = []
    for name in CHECKS:
        check = getattr(harness, f"check_{name}")

        def run(check=check) -> None:
            check()

        run.__name__ = run.__qualname__ = name
        out.append((name, run))
    return out


def check_learner(
    learner: Learner,
    *,
    seed: int = 0,
    n: int = 3,
    process: th.Process | None = None,
    latent_dim: int | None = None,
    shrink: bool = True,
) -> None:
    """Run every check of the contract (see the module docstring); raise
    :class:`LearnerContractError` on the first failure. Arguments as in
    :func:`learner_checks`."""
    for _, check in learner_checks(
        learner, seed=seed, n=n, process=process, latent_dim=latent_dim, shrink=shrink
    ):
        check()


# --------------------------------------------------------------------------- machinery


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


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0].rstrip('.') if text else ''}".rstrip(": ")


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max())


class _Harness:
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

    def check_is_learner(self) -> None:
        check = "is_learner"
        self.require_learner(check)
        name = getattr(self.learner, "name", None)
        if not isinstance(name, str) or not name:
            raise self.fail(check, f"its name must be a non-empty string, got {name!r}")
        if type(self.learner).fit is Learner.fit:
            raise self.fail(check, "it does not implement fit(process, *, seed=0)")
        try:
            inspect.signature(self.learner.fit).bind(self.process, seed=self.seed)
        except TypeError as err:
            raise self.fail(
                check, f"fit cannot be called as fit(process, seed=...) as recover does: {err}"
            ) from None
        except ValueError:  # a signature inspect cannot read: the fit checks will tell
            pass

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

    def check_config_json(self) -> None:
        check = "config_json"
        self.require_learner(check)
        config, text = self.config_of(check, self.learner)
        if config.get("name") != self.learner.name:
            raise self.fail(
                check,
                f"config()['name'] is {config.get('name')!r}, not the learner's name "
                f"{self.learner.name!r}",
            )
        _, again = self.config_of(check, self.learner)
        if again != text:
            raise self.fail(check, f"config() differs between two calls: {text} vs {again}")
        if canonical_json(json.loads(text)) != text:
            raise self.fail(check, "config() changes in a JSON round trip")

    def check_config_deepcopy(self) -> None:
        check = "config_deepcopy"
        self.require_learner(check)
        try:
            clone = copy.deepcopy(self.learner)
        except Exception as err:
            raise self.fail(check, f"the learner cannot be deep-copied: {_describe(err)}") from err
        _, text = self.config_of(check, self.learner)
        _, cloned = self.config_of(check, clone)
        if cloned != text:
            raise self.fail(check, f"a deep copy has another config: {cloned} vs {text}")

    def check_fit_result(self) -> None:
        check = "fit_result"
        learner = self.subject(check)
        _, before = self.config_of(check, learner)
        fit, _ = self.watched_fit(check)
        _, after = self.config_of(check, learner)
        if after != before:
            raise self.fail(
                check,
                f"fit changed the learner's config (from {before} to {after}); a run must "
                "leave the learner it was given as it was",
            )
        problems = []
        if fit.status not in STATUSES:
            problems.append(f"status {fit.status!r} is not one of {', '.join(STATUSES)}")
        if not callable(fit.encode):
            problems.append("encode is not callable")
        if not isinstance(fit.curve, list) or not all(
            isinstance(p, (tuple, list))
            and len(p) == 2
            and isinstance(p[0], (int, np.integer))
            and not isinstance(p[0], bool)
            and isinstance(p[1], (int, float, np.floating))
            for p in fit.curve
        ):
            problems.append(f"curve must be a list of (step, loss) pairs, got {fit.curve!r:.80}")
        if isinstance(fit.steps, bool) or not isinstance(fit.steps, (int, np.integer)):
            problems.append(f"steps must be an integer, got {fit.steps!r}")
        elif fit.steps < 0:
            problems.append(f"steps must be >= 0, got {fit.steps}")
        if not isinstance(fit.seconds, (int, float)) or not 0 <= fit.seconds < math.inf:
            problems.append(f"seconds must be a finite number >= 0, got {fit.seconds!r}")
        if not isinstance(fit.message, str):
            problems.append(f"message must be a string, got {type(fit.message).__name__}")
        if not isinstance(fit.extras, dict):
            problems.append(f"extras must be a dict, got {type(fit.extras).__name__}")
        if problems:
            raise self.fail(check, "; ".join(problems))

    def check_deterministic(self) -> None:
        check = "deterministic"
        fit, _ = self.watched_fit(check)
        learner = self.subject(check)
        with _GlobalRandomState(4321):  # another global state: only `seed` may matter
            again = self.fit(check, learner, self.process, "when fitted a second time")
        if again.status != fit.status:
            raise self.fail(
                check,
                f"two fits with seed={self.seed} ended with status {fit.status!r} and "
                f"{again.status!r}",
            )
        probe = self.observations(64)
        first = self.encode(check, fit, probe)
        second = self.encode(check, again, probe)
        if first.shape != second.shape or not torch.allclose(
            first.double(), second.double(), rtol=1e-5, atol=1e-6
        ):
            diff = _max_diff(first, second) if first.shape == second.shape else "shapes differ"
            raise self.fail(
                check,
                f"two fits with seed={self.seed} on the same process encode a probe "
                f"differently (max |difference| {diff}); seed every source of randomness from "
                "`seed` (a torch.Generator / numpy default_rng), not from global state",
            )

    def check_encode_shape(self) -> None:
        check = "encode_shape"
        fit, _ = self.watched_fit(check)
        dim = self.latent_dim(self.subject(check))
        for m in (37, 1):
            x = self.observations(m)
            kept = x.clone()
            out = self.encode(check, fit, x)
            if not torch.equal(x, kept):
                raise self.fail(check, "encode modified its input in place")
            if tuple(out.shape) != (m, dim):
                raise self.fail(
                    check,
                    f"encode mapped {m} unseen observations to shape {tuple(out.shape)}, "
                    f"expected ({m}, {dim}) (pass latent_dim= if it should differ)",
                )
            if not out.is_floating_point():
                raise self.fail(check, f"encode returned dtype {out.dtype}, not floating point")
            if not torch.isfinite(out).all():
                raise self.fail(
                    check,
                    f"encode returned {int((~torch.isfinite(out)).sum())} non-finite values "
                    f"for {m} unseen observations of a fit with status 'ok'; report training "
                    "trouble as Fit(status='diverged') instead",
                )

    def check_encode_rowwise(self) -> None:
        check = "encode_rowwise"
        fit, _ = self.watched_fit(check)
        probe = self.observations(16)
        first = self.encode(check, fit, probe)
        other = self.observations(200, stream=_PROBE_STREAM + 1)
        self.encode(check, fit, other)
        self.encode(check, fit, 3.0 * other)
        again = self.encode(check, fit, probe)
        if again.shape != first.shape or not torch.allclose(
            first.double(), again.double(), rtol=1e-4, atol=1e-5
        ):
            raise self.fail(
                check,
                "encoding other (evaluation) data changed the encoding of a fixed probe "
                f"(max |difference| {_max_diff(first, again)}): encode must not adapt to what "
                "it is given",
            )
        mixed = torch.cat([other[:50], probe, 3.0 * other[50:100]])
        inside = self.encode(check, fit, mixed)
        if inside.shape[0] != len(mixed):
            raise self.fail(check, f"encode returned {inside.shape[0]} rows for {len(mixed)}")
        inside = inside[50 : 50 + len(probe)]
        if inside.shape != first.shape or not torch.allclose(
            first.double(), inside.double(), rtol=1e-4, atol=1e-5
        ):
            raise self.fail(
                check,
                "a probe's encoding depends on the other observations of its batch (max "
                f"|difference| {_max_diff(first, inside)}): encode must map each observation "
                "on its own (no batch statistics), so evaluation data cannot influence it",
            )

    def check_no_evaluation_data(self) -> None:
        from verification.recovery import TEST_STREAM

        check = "no_evaluation_data"
        fit, watch = self.watched_fit(check)
        held_out = np.random.default_rng([self.seed, TEST_STREAM]).bit_generator
        for seed, state in watch.seeds:
            seq = getattr(seed.bit_generator, "seed_seq", None) if state is not None else None
            same_stream = getattr(seq, "entropy", None) == held_out.seed_seq.entropy and tuple(
                getattr(seq, "spawn_key", ())
            ) == tuple(held_out.seed_seq.spawn_key)
            if same_stream or state == held_out.state:
                raise self.fail(
                    check,
                    f"fit drew samples from rng([seed, {TEST_STREAM}]) (or a generator in its "
                    "state), the stream recover holds out for evaluation",
                )
        if watch.rows:
            x_test = self.process.sample(
                _N_HELD_OUT, np.random.default_rng([self.seed, TEST_STREAM])
            )[1]
            test_rows = {row.tobytes() for row in np.ascontiguousarray(x_test.double().numpy())}
            seen = sum(
                row.tobytes() in test_rows
                for rows in watch.rows
                for row in np.ascontiguousarray(rows)
            )
            if seen:
                raise self.fail(
                    check,
                    f"fit generated {seen} of the held-out observations recover evaluates on; "
                    "a learner must train on its own samples only",
                )
        self.encode(check, fit, self.observations(8))  # fails if encode reads the process
        if watch.touched is not None:  # touched, and the error swallowed by the learner
            raise self.fail(
                check,
                f"encode read the process (attribute {watch.touched!r}) after fit returned",
            )

    def check_divergence(self) -> None:
        check = "divergence"
        learner = self.subject(check)
        probe = self.observations(16)
        dim = self.latent_dim(learner)
        for what, tamper in _BAD_DATA:
            watch = _Watch()
            process = _watched(self.process, watch, tamper)
            with np.errstate(all="ignore"):
                fit = self.fit(
                    check,
                    learner,
                    process,
                    f"on training data with {what}",
                    "report it as Fit(status='diverged', message=...) instead: recover never "
                    "raises for training trouble",
                )
            watch.closed = True
            if fit.status not in STATUSES:
                raise self.fail(check, f"status {fit.status!r} is not one of {', '.join(STATUSES)}")
            if fit.status != "ok":
                if not isinstance(fit.message, str) or not fit.message.strip():
                    raise self.fail(
                        check,
                        f"fit returned status {fit.status!r} on training data with {what} "
                        "but no message saying why",
                    )
                continue
            out = self.encode(check, fit, probe)
            if tuple(out.shape) != (len(probe), dim) or not torch.isfinite(out).all():
                raise self.fail(
                    check,
                    f"fit returned status 'ok' on training data with {what}, but its encoder "
                    "outputs non-finite values (or the wrong shape); report training trouble "
                    "as Fit(status='diverged') instead of NaNs",
                )


__all__ = [
    "CHECKS",
    "LearnerContractError",
    "check_learner",
    "contract_process",
    "learner_checks",
    "shrunk",
]
