"""The evaluator: one candidate process -> one :class:`Evaluation`, through the store.

Searches, sweeps (in their workers), alignments (likewise) and ``recover``-like callers
evaluate through it, so one (theorem, process, learner configuration, seed) is one record
whoever asks. :func:`evaluation_spec` names an evaluation (its store key) without a store.

An evaluation checks the theorem's assumptions on the process (bounded sympy attempts,
sampled and adversarial numerics) and trains the theorem's learner on it, then files
the pair into a quadrant. A finished evaluation is stored at once, so a search that is
interrupted or resumed never repeats it.

Errors are sorted, never swallowed: an incoherent candidate (:class:`InvalidProcess`,
e.g. a learner that needs positive pairs on a process without them) is a stored error
row; running out of time or memory is an error row that is not stored (a later run with
more resources retries it); anything else is a bug and propagates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import theory as th
from theory.errors import EvaluationTimeout, InvalidProcess, ResourceLimit
from verification import learners as L
from verification._candidate import Candidate
from verification._options import apply_options
from verification._runs.records import Evaluation, spec_key
from verification._runs.store import NoStore, ResultStore

# how thoroughly each candidate's assumptions are checked during a search
CHECK_SETTINGS = {"n_points": 256, "time_limit": 0.5, "adversarial_steps": 20}
TRANSIENT = (EvaluationTimeout, ResourceLimit, MemoryError)


def evaluation_spec(
    theorem: th.Theorem,
    candidate: Candidate,
    seed: int,
    *,
    oracle: bool = False,
    learner: str | None = None,
) -> tuple[dict[str, Any], L.Learner]:
    """The spec of ``candidate`` evaluated with ``seed`` (theorem, process, learner
    configuration, seed: :func:`spec_key` names its record), and the configured learner.

    ``learner``: a registered learner instead of the theorem's own; ``oracle``: oracle
    mode, part of the learner's configuration (so of the key) where it has one."""
    model = L.for_theorem(theorem, learner)
    apply_options(model, candidate.learner_options)
    if oracle and hasattr(model, "oracle"):
        model.oracle = True  # part of the configuration, so part of the key
    spec = {
        "theorem": theorem.name,
        "process": candidate.process.to_dict(),
        "learner": model.config(),
        "seed": seed,
    }
    return spec, model


def evaluation_key(theorem: th.Theorem, candidate: Candidate, seed: int, **how: Any) -> str:
    """The store key of ``candidate`` evaluated with ``seed``; ``how``: ``oracle``,
    ``learner`` (see :func:`evaluation_spec`)."""
    return spec_key(evaluation_spec(theorem, candidate, seed, **how)[0])


class Evaluator:
    """Evaluates candidates through ``store``, remembering every evaluation it touched.

    ``time_limit`` bounds one evaluation's wall-clock time: the exact sympy attempts are
    bounded by ``CHECK_SETTINGS`` and training by the learner's time budget, which is
    capped at what is left. ``on_record(evaluation, fresh)`` runs after each one.
    ``oracle``: train in oracle mode (the truth may steer training); off by default.
    ``learner``: a registered learner to train instead of the theorem's own (sized to the
    claim's content block like it); its configuration is part of every key, and the
    theorem's learner assumptions are decided for it, so a learner outside the theorem
    turns a recovery into a gap.
    """

    def __init__(
        self,
        theorem: th.Theorem,
        store: ResultStore | NoStore,
        seed: int,
        on_record: Callable[[Evaluation, bool], None] | None = None,
        time_limit: float | None = None,
        oracle: bool = False,
        learner: str | None = None,
    ) -> None:
        self.theorem, self.store, self.seed = theorem, store, seed
        self.oracle = oracle
        self.learner = learner
        self.new = 0
        self.records: dict[str, Evaluation] = {}  # every evaluation touched, by key
        self.on_record = on_record
        self.time_limit = time_limit
        # evaluations computed elsewhere for this run (a search's parallel look-ahead):
        # taken as fresh work of this run when first asked for
        self._adopted: dict[str, Evaluation] = {}

    def spec(self, candidate: Candidate, seed: int) -> tuple[dict[str, Any], L.Learner]:
        return evaluation_spec(
            self.theorem, candidate, seed, oracle=self.oracle, learner=self.learner
        )

    def key(self, candidate: Candidate, seed: int | None = None) -> str:
        """The store key of ``candidate`` evaluated with ``seed`` (default: the run's)."""
        return spec_key(self.spec(candidate, self.seed if seed is None else seed)[0])

    def cached(self, candidate: Candidate, seed: int | None = None) -> Evaluation | None:
        key = self.key(candidate, seed)
        return self._adopted.get(key) or self.store.get(key)

    def adopt(self, evaluation: Evaluation) -> None:
        """Take ``evaluation`` (computed by a worker for this run, and stored by it unless
        transient) as this run's fresh work: the next call for its key returns it."""
        self._adopted[evaluation.key] = evaluation

    def unclaimed(self) -> int:
        """Adopted evaluations nobody has asked for yet."""
        return len(self._adopted)

    def known(self, key: str) -> bool:
        """Whether ``key`` needs no computing: touched, adopted or in the store."""
        return key in self.records or key in self._adopted or self.store.path(key).exists()

    def __call__(
        self,
        candidate: Candidate,
        seed: int | None = None,
        *,
        on_fit: Callable[[L.Fit], None] | None = None,
    ) -> Evaluation:
        """The candidate's evaluation: from the store, else computed and stored.

        ``on_fit(fit)``: called with the trained model, so the evaluation is computed
        even when the store has it; the fresh evaluation is returned (it describes the
        model ``on_fit`` saw, also when a time limit stopped training early) and the
        stored record is left as it is.
        """
        seed = self.seed if seed is None else seed
        spec, learner = self.spec(candidate, seed)
        key = spec_key(spec)
        adopted = self._adopted.pop(key, None)
        stored = self.store.get(key) if adopted is None else None
        evaluation = stored if on_fit is None else None
        fresh = evaluation is None
        if adopted is not None and on_fit is None:
            evaluation = adopted
            self.new += 1
        elif evaluation is None:
            evaluation = self._evaluate(candidate, spec, learner, key, on_fit)
            if stored is None and not evaluation.transient:
                self.store.put(evaluation)
            self.new += 1
        self.records[key] = evaluation
        if self.on_record is not None:
            self.on_record(evaluation, fresh)
        return evaluation

    def _evaluate(self, candidate, spec, learner, key, on_fit=None) -> Evaluation:
        # imported here: a pool's driver plans and keys evaluations without them (0.25 s
        # of scipy and the checks), and its forkserver preloads them for the workers
        from verification.checks import check
        from verification.recovery import recover

        start = time.perf_counter()
        base = {**spec, "key": key, "params": candidate.params()}
        try:
            evidence = check(
                self.theorem,
                candidate.process,
                seed=spec["seed"],
                learner=learner,
                **CHECK_SETTINGS,
            )
            self._cap_training_time(learner, time.perf_counter() - start)
            result = recover(
                self.theorem,
                candidate.process,
                seed=spec["seed"],
                learner=learner,
                fast_metrics=True,
                oracle=self.oracle,
                on_fit=on_fit,
            )
            elapsed = time.perf_counter() - start
            if self.time_limit is not None and elapsed >= self.time_limit:
                raise EvaluationTimeout(
                    f"the evaluation took {elapsed:.1f} s, past its limit of {self.time_limit:g} s"
                )
        except (InvalidProcess, *TRANSIENT) as err:
            return Evaluation(
                **base,
                error=f"{type(err).__name__}: {err}",
                transient=isinstance(err, TRANSIENT),
                seconds=time.perf_counter() - start,
            )
        violated = tuple(e.assumption for e in evidence if not e.satisfied)
        holds, recovered = not violated, result.recovered
        kind = "gap" if not holds and recovered else "failure" if holds and not recovered else None
        return Evaluation(
            **base,
            evidence=tuple(e.to_dict() for e in evidence),
            violated=violated,
            holds=holds,
            recovered=recovered,
            kind=kind,
            recovery=result.to_dict(),
            seconds=time.perf_counter() - start,
        )

    def _cap_training_time(self, learner: L.Learner, spent: float) -> None:
        train = getattr(learner, "train", None)
        if self.time_limit is None or train is None:
            return
        left = max(self.time_limit - spent, 1e-3)
        if train.time_budget is None or train.time_budget > left:
            train.time_budget = left


__all__ = ["CHECK_SETTINGS", "TRANSIENT", "Evaluator", "evaluation_key", "evaluation_spec"]
