"""A search on several workers: evaluate what the search will ask for while it works.

Hypothesis generates one candidate at a time and decides the next from the outcomes
(targeting, shrinking), so the search itself stays one sequence, computed in this
process. What can run beside it:

- *The start of each round's generation.* For a given seed, hypothesis generates the
  same candidates whatever the evaluations say until the test first fails or until it
  starts optimising the ``target()`` scores (hypothesis does that within the generate
  phase once ``max(budget // 2, 10)`` examples are valid), so that many are predicted:
  :meth:`LookAhead.predict` replays the round's generation once without evaluating
  anything (milliseconds). When the search computes a predicted candidate, the workers
  no other work holds start the predicted ones after it.
- *The next round's first candidates,* predicted the same way, start on idle workers
  while the search shrinks this round's counterexample in this process.
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
search with the same seed (tests compare them). Candidates nobody predicted (shrinking,
targeting) are computed by the search itself. A prediction the search never asks for (a
round that ended early, a phase that changed) stays in the store, so a later search or
sweep that asks for it finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from verification._runs.evaluator import Evaluator
from verification._runs.records import Evaluation
from verification._runs.worker import WorkItem, evaluate, read_answer
from verification.executors import Executor, Outcome
from verification.spaces import Candidate


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
        self.position: dict[str, int] = {}
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
    ) -> None:
        """Record the candidates of the coming round: ``generate(record)`` runs the
        round's hypothesis generation with ``record`` as its test (which never fails);
        ``generate_next``, the round after it (in the same phase), whose first candidates
        idle workers evaluate while this round's counterexample is shrunk."""
        self.predicted = self._generated(generate)
        self.position = {}
        for index, (key, _) in enumerate(self.predicted):
            self.position.setdefault(key, index)
        following = [] if generate_next is None else self._generated(generate_next)
        self.following = following[: self.executor.workers]

    def _generated(self, generate) -> list[tuple[str, Candidate]]:
        candidates: list[Candidate] = []
        generate(candidates.append)
        # past this point hypothesis may optimise the targets: its candidates then depend
        # on the evaluations, and a prediction would be a guess
        candidates = candidates[: max(self.budget // 2, 10)]
        return [(self.evaluator.key(c), c) for c in candidates]

    def running(self) -> int:
        """Background evaluations not finished yet (each holds a worker)."""
        return sum(not future.done() for future, _, _ in self.deferred.values())

    def before(self, candidate: Candidate) -> None:
        """Called before the search computes ``candidate`` itself: when it is a predicted
        one, idle workers start the predicted ones after it; otherwise (shrinking,
        targeting) they start the next round's first candidates. Nothing runs where the
        executor cannot work in the background (``Executor.background``): the search is
        then the serial one."""
        key = self.evaluator.key(candidate)
        if not self.executor.background or self.evaluator.known(key):
            return
        start = self.position.get(key)
        if start is None:
            self.speculate()
        else:
            self._start_after(start)

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
        search takes them, as any look-ahead evaluation, when it asks for them. Never
        near the end of the phase's budget (the last evaluations would keep the pool
        busy after the search)."""
        if self.limit - len(self.evaluator.records) <= self.executor.workers:
            return
        slots = self.executor.workers - 1 - self.running()
        for key, candidate in self.following:
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
        entry = self.deferred.pop(key, None)
        if entry is None:
            return
        future, then, _ = entry
        try:
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
            "unused_look_ahead": self.evaluator.unclaimed(),
        }


__all__ = ["LookAhead"]
