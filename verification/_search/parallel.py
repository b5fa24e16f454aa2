"""A search on several workers: evaluate what the search will ask for while it works.

Hypothesis generates one candidate at a time and decides the next from the outcomes
(targeting, shrinking), so the search itself stays one sequence, computed in this
process. What can run beside it:

- *The start of each round's generation.* For a given seed, hypothesis generates the
  same candidates whatever the evaluations say until the test first fails or until it
  starts optimising the ``target()`` scores (hypothesis does that within the generate
  phase once ``max(budget // 2, 10)`` examples are valid), so that many are predicted:
  :meth:`LookAhead.predict` replays the round's generation once without evaluating
  anything, up to those candidates (0.05-0.15 s for the default cl-ica search). When
  the search computes a predicted candidate, the workers no other work holds start
  the predicted ones after it.
- *The shrinker's next step.* On a local pool, while the search computes a shrinking
  candidate itself, a fork of the search computes the candidate the shrinker asks for
  next if this one is no counterexample (:mod:`verification._search.shadow`); the
  search takes it when it asks for that key, and ends the fork when the candidate was a
  counterexample after all (about half the time).
- *The next round's first candidates,* predicted the same way, start on idle workers
  while the search shrinks this round's counterexample in this process; while it
  computes the last candidate of a phase, the first candidates of the next phase's
  first round (its round index and strategy are known) start instead.
- *A counterexample's re-seeds* do not depend on each other: all but one start on the
  workers, and the search computes the last meanwhile.
- *Its budget check* (a retraining with 4x the steps, for a confirmed failure) changes
  nothing the search does next: it runs in the background and is recorded when settled
  (at the latest when the search ends), as the serial search records it.

Work started in the background is a future (:meth:`Executor.submit`; an executor that
cannot run work in the background, ``background`` False, gets no look-ahead: the search
is then the serial one); the search waits
for one only when it asks for that evaluation (:meth:`LookAhead.settle`), stores it and
reads it in its own order: its records, counterexamples and report are those of a serial
search with the same seed (tests compare them). Candidates nobody predicted (targeting,
shrinking steps no fork computed) are computed by the search itself, with as many
threads as a worker where the pool shares this machine (:func:`threads_beside`). A
prediction the search never asks for (a round that ended early, a phase that changed)
stays in the store, so a later search or sweep that asks for it finds it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from verification._executors.base import _pinned_call, pinned_threads
from verification._runs.evaluator import Evaluator
from verification._runs.records import Evaluation
from verification._runs.worker import WorkItem, evaluate, read_answer
from verification._search import shadow as forks
from verification.executors import Executor, Outcome
from verification.spaces import Candidate


def _cuda_initialised() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_initialized()


def threads_beside(pool: Executor | None):
    """While a search runs with ``pool``: its own evaluations (this process, and its forks)
    use as many threads as each of the pool's workers, where the pool shares this
    machine (a local pool, a Dask LocalCluster). The cores are the workers' too: at
    torch's default (one thread a core) the search's evaluations and the workers' take
    turns on them. Measured on the default cl-ica search (2 cores): one thread is as
    fast as two for its evaluations alone (71.8 and 71.9 s serially), and the search on
    a pool of 2 took 52.5-53.1 s pinned against 55.0-55.7 s not. A serial search (no
    pool) is left as it is."""
    shared = pool is not None and (
        pool.name == "local" or (pool.name == "dask" and getattr(pool, "address", "") is None)
    )
    if not shared:
        return contextlib.nullcontext()
    return pinned_threads(pool.threads)


class _Enough(BaseException):
    """Ends a replay of hypothesis's generation once it has the candidates it needs.
    Hypothesis takes an ``Exception`` (and ``SystemExit``, ``GeneratorExit``) in a test
    for a failure and shrinks it; any other ``BaseException`` it lets through at once,
    as it does Ctrl-C."""


class LookAhead:
    """Parallel look-ahead for one search (see the module docstring)."""

    def __init__(
        self,
        executor: Executor,
        evaluator: Evaluator,
        budget: int,
        *,
        imports: tuple[str, ...] = (),
        time_limit: float | None = None,
    ) -> None:
        self.executor, self.evaluator, self.budget = executor, evaluator, budget
        # evaluations the current phase of the search may reach (its plan); never past it
        self.limit = budget
        self.imports, self.time_limit = imports, time_limit
        self.predicted: list[tuple[str, Candidate]] = []
        self.following: list[tuple[str, Candidate]] = []  # the next round's first ones
        self.next_phase: list[tuple[str, Candidate]] = []  # the next phase's first ones
        self.position: dict[str, int] = {}
        # while a round shrinks: a fork of the search computing the shrinker's next step
        # (verification._search.shadow); the number started, and taken by the search
        self.shadow: forks.Shadow | None = None
        self.shadows = self.shadows_taken = 0
        self.batches = 0
        self.evaluated = 0
        self.fetched: set[str] = set()  # keys this look-ahead computed
        # evaluations running in the background: key -> (future, what to do with it,
        # whether the search needs it in the end)
        self.deferred: dict[str, tuple[Any, Callable[[Evaluation | None], None], bool]] = {}

    def predict(
        self,
        generate: Callable[[Callable[[Candidate], None]], None],
        generate_next: Callable[[Callable[[Candidate], None]], None] | None = None,
        generate_next_phase: Callable[[Callable[[Candidate], None]], None] | None = None,
    ) -> None:
        """Record the candidates of the coming round: ``generate(record)`` runs the
        round's hypothesis generation with ``record`` as its test (which never fails);
        ``generate_next``, the round after it (in the same phase), whose first candidates
        idle workers evaluate while this round's counterexample is shrunk;
        ``generate_next_phase``, the round after it in the next phase (None: this is the
        last), whose first candidates idle workers evaluate while this process computes
        the last candidate of this phase."""
        # past this many hypothesis may optimise the targets: its candidates then depend
        # on the evaluations, and a prediction would be a guess
        self.predicted = self._generated(generate, max(self.budget // 2, 10))
        self.position = {}
        for index, (key, _) in enumerate(self.predicted):
            self.position.setdefault(key, index)
        self.following = self._first(generate_next)
        self.next_phase = self._first(generate_next_phase)

    def _first(self, generate) -> list[tuple[str, Candidate]]:
        """The first candidates (one a worker) ``generate`` records; none without it."""
        return [] if generate is None else self._generated(generate, self.executor.workers)

    def _generated(self, generate, count: int) -> list[tuple[str, Candidate]]:
        """(key, candidate) of the first ``count`` candidates ``generate`` records. The
        replay stops there: hypothesis would go on to its ``max_examples`` (the budget,
        0.13-0.24 s a replay of the default cl-ica search, on the search's own path), and
        the candidates it generates do not depend on when it is stopped."""
        candidates: list[Candidate] = []

        def record(candidate: Candidate) -> None:
            candidates.append(candidate)
            if len(candidates) >= count:
                raise _Enough

        with contextlib.suppress(_Enough):
            generate(record)
        return [(self.evaluator.key(c), c) for c in candidates]

    def running(self) -> int:
        """Background evaluations not finished yet (each holds a worker, or a core)."""
        forked = self.shadow is not None and not self.shadow.done()
        return forked + sum(not future.done() for future, _, _ in self.deferred.values())

    def before(self, candidate: Candidate, *, shrinking: bool = False) -> int | None:
        """Called before the search computes ``candidate`` itself: when it is a predicted
        one, idle workers start the predicted ones after it; when the round is
        ``shrinking`` on a local pool, a fork of the search computes the shrinker's next
        step (:mod:`verification._search.shadow`); otherwise idle workers start the next
        round's first candidates. Nothing runs where the executor cannot work in the
        background (``Executor.background``): the search is then the serial one.

        Returns None, except in the fork: there, the pipe to answer on (the caller
        goes on as :class:`~verification._search.shadow.ShadowRound`)."""
        key = self.evaluator.key(candidate)
        if not self.executor.background or self.evaluator.known(key):
            return None
        start = self.position.get(key)
        if start is not None:
            self._start_after(start)
        elif shrinking and self._may_fork():
            shadow, answer_on = forks.start()
            if answer_on is not None:
                return answer_on  # the fork
            self.shadow = shadow
            self.shadows += shadow is not None
        else:
            self.speculate()
        return None

    def _may_fork(self) -> bool:
        """A fork may compute the shrinker's next step: a local pool of one-thread
        workers (the fork shares its machine, and computes as one of them: a fork that
        ran OpenMP with several threads can hang, and this process may have used them
        before), no CUDA in this process (a fork cannot use it), no fork running yet, a
        core to spare, and budget left past the candidate being computed."""
        return (
            self.executor.name == "local"
            and self.executor.threads == 1
            and not _cuda_initialised()
            and self.shadow is None
            and self.executor.workers - 1 - self.running() > 0
            and self.limit - len(self.evaluator.records) > 1
        )

    def compute_here(self, candidate: Candidate) -> dict[str, Any]:
        """In the fork: evaluate ``candidate`` as a pool worker would (one thread),
        without writing the store (the search stores it when it takes it)."""
        item = dataclasses.replace(self._item(candidate, self.evaluator.seed), store=None)
        return _pinned_call(evaluate, item, 1)

    def drop_shadow(self) -> None:
        """The fork guessed wrong (or the round is over, or the search stopped): end it,
        and any fork whose handle a Ctrl-C took before it was kept or settled."""
        self.shadow = None
        forks.end_all()

    def _claim_shadow(self, key: str) -> None:
        """The search asks for ``key``, which nobody computed: the fork's, when it is
        the fork's candidate (then settled as any background evaluation), else the fork
        guessed wrong and is ended."""
        shadow = self.shadow
        if shadow is None:
            return
        if shadow.key() == key:  # (a Ctrl-C while waiting: drop_shadow ends it)
            self.deferred[key] = (shadow, self._take, False)
            self.evaluated += 1
            self.shadows_taken += 1
        else:
            shadow.kill()
        self.shadow = None

    def _start_after(self, start: int) -> None:
        """The search computes predicted candidate ``start`` itself (no waiting for a
        worker, nor for the pool to start); the workers no background work holds start
        the predicted candidates after it, never past the phase's budget."""
        room = self.limit - len(self.evaluator.records) - 1
        slots = min(room, self.executor.workers - 1 - self.running())
        started = 0
        for later_key, later in self.predicted[start + 1 :]:
            if started >= slots:
                break
            if later_key not in self.deferred and not self.evaluator.known(later_key):
                self.defer(later, self.evaluator.seed, self._take, needed=False)
                started += 1
        self.batches += 1
        if room == 0:  # the phase's last candidate: the next phase's first ones
            self.speculate()

    def prefetch(self, pairs: list[tuple[Candidate, int]]) -> None:
        """The search is about to ask for these ``(candidate, seed)`` pairs one after
        another whatever their outcomes (a counterexample's re-seeds): start all but the
        first in the background, on the workers no background work holds; the search
        computes the first itself meanwhile, and waits for the others when it asks."""
        todo, keys = [], set()
        for candidate, seed in pairs:
            key = self.evaluator.key(candidate, seed)
            if key not in keys and key not in self.deferred and not self.evaluator.known(key):
                todo.append((candidate, seed))
                keys.add(key)
        slots = self.executor.workers - 1 - self.running()  # this process computes one
        for candidate, seed in todo[1:][: max(0, slots)]:  # the search computes the first
            self.defer(candidate, seed, self._take)

    def speculate(self) -> None:
        """While the search computes a candidate itself (shrinking), start the next
        round's first predicted candidates on the workers no other work holds; the
        search takes them, as any look-ahead evaluation, when it asks for them. Near the
        end of the phase's budget, the next phase's first ones instead when this
        candidate is the phase's last (no fork runs past a phase), none otherwise (nor
        past the search's last phase: they would keep the pool busy after the search)."""
        left = self.limit - len(self.evaluator.records)
        if left > self.executor.workers:
            ahead = self.following
        elif left == 1:
            ahead = self.next_phase
        else:
            return
        slots = self.executor.workers - 1 - self.running()
        for key, candidate in ahead:
            if slots <= 0:
                break
            if key not in self.deferred and not self.evaluator.known(key):
                self.defer(candidate, self.evaluator.seed, self._take, needed=False)
                slots -= 1

    def _take(self, evaluation: Evaluation | None) -> None:
        """A background look-ahead evaluation, settled: the search's when it asks."""
        if evaluation is not None:
            self.fetched.add(evaluation.key)
            self.evaluator.adopt(evaluation)

    def defer(
        self,
        candidate: Candidate,
        seed: int,
        then: Callable[[Evaluation | None], None],
        needed: bool = True,
    ) -> bool:
        """Start evaluating ``(candidate, seed)`` in the background and go on; ``then`` is
        called with its evaluation (stored; None when the worker failed) when the search
        settles it (:meth:`settle`, :meth:`settle_all`). False where the executor cannot
        run anything in the background, or the evaluation is known already. ``needed``:
        the search waits for it when it ends (a budget check); a prediction is not
        waited for then (:meth:`settle_all`)."""
        key = self.evaluator.key(candidate, seed)
        if not self.executor.background or key in self.deferred or self.evaluator.known(key):
            return False
        try:
            future = self.executor.submit(evaluate, self._item(candidate, seed))
        except Exception:  # the executor cannot take it (a lost cluster): computed here
            return False
        self.deferred[key] = (future, then, needed)
        self.evaluated += 1
        return True

    def fetched_only(self, key: str) -> bool:
        """Computed by the look-ahead and not asked for by the search (yet)."""
        return key in self.fetched and key not in self.evaluator.records

    def settle(self, key: str) -> None:
        """Wait for the deferred evaluation ``key`` (if it is one), store it, and hand it
        on: the search then sees what a serial search would have by now."""
        if self.shadow is not None and key not in self.deferred and not self.evaluator.known(key):
            self._claim_shadow(key)
        entry = self.deferred.pop(key, None)
        if entry is None:
            return
        future, then, _ = entry
        try:
            if isinstance(future, forks.Shadow):  # bounded as the evaluation itself is
                limit = None if self.time_limit is None else self.time_limit + 30.0
                outcome = Outcome(0, future.result(limit))
            else:
                outcome = Outcome(0, future.result())
        except Exception as err:  # a lost worker: the search evaluates it itself
            outcome = Outcome(0, error=str(err))
        evaluation = read_answer(outcome, key)[0]
        if evaluation is not None and evaluation.transient:
            evaluation = None
        if evaluation is not None and not self.evaluator.store.path(key).exists():
            self.evaluator.store.put(evaluation)
        then(evaluation)

    def settle_all(self) -> None:
        """The search has ended: settle the background work it needs (budget checks) and
        what has finished, in the order started; drop the predictions still running
        (their workers store them when done) or waiting (never started)."""
        for key, (future, _, needed) in list(self.deferred.items()):
            if needed or future.done():
                self.settle(key)
            else:
                future.cancel()
                del self.deferred[key]

    def abandon(self) -> None:
        """The search was stopped: settle what has finished, wait for nothing."""
        self.drop_shadow()
        for key, (future, _, _) in list(self.deferred.items()):
            if future.done():
                self.settle(key)
            else:
                future.cancel()
                del self.deferred[key]

    def _item(self, candidate: Candidate, seed: int) -> WorkItem:
        store = self.evaluator.store
        return WorkItem(
            theorem=self.evaluator.theorem.name,
            process=candidate.process.to_dict(),
            options=dict(candidate.learner_options),
            seed=seed,
            key=self.evaluator.key(candidate, seed),
            imports=self.imports,
            store=str(store.root.resolve()) if self.executor.shared_filesystem else None,
            time_limit=self.time_limit,
            oracle=self.evaluator.oracle,
            learner=self.evaluator.learner,
            params=candidate.params(),
        )

    def only_looked_ahead(self, candidate: Candidate) -> bool:
        """Computed by the look-ahead and not yet asked for by the search: a serial search
        would not have it, so it must not be free once the budget is spent."""
        return self.fetched_only(self.evaluator.key(candidate))

    def describe(self) -> dict[str, Any]:
        """The executor, and what the look-ahead did: batches run, evaluations made, and
        those the search never asked for (kept in the store for later runs)."""
        return {
            **self.executor.describe(),
            "batches": self.batches,
            "look_ahead": self.evaluated,
            "shrink_forks": self.shadows,
            "shrink_forks_taken": self.shadows_taken,
            "unused_look_ahead": self.evaluator.unclaimed(),
        }


__all__ = ["LookAhead"]
