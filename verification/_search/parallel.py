"""A search on several workers: evaluate what hypothesis is about to ask for, in parallel.

Hypothesis generates one candidate at a time and decides the next from the outcomes
(targeting, shrinking), so the search itself stays one sequence. What can run in
parallel is the start of each round's generation: for a given seed, hypothesis
generates the same candidates whatever the evaluations say until the test first fails
or until it starts optimising the ``target()`` scores (hypothesis does that within the
generate phase once ``max(budget // 2, 10)`` examples are valid), so the look-ahead
predicts only that many. :class:`LookAhead` replays a round's generation once without evaluating
anything (``predict``: milliseconds), and when the search asks for a predicted candidate
that is not in the store yet, it evaluates that one and the next predicted ones (as many
as there are workers, never past the search's budget) on the executor at once, storing
each result. The search then reads them from the store, in its own order: its records,
counterexamples and report are those of a serial search with the same seed (a test
compares them). A counterexample's re-seeds and its budget check (a retraining with
4x the steps) do not depend on each other's outcomes: they run at once (``prefetch``),
the check first (the longest); when the re-seeds do not confirm the counterexample the
check is not used and stays in the store. Candidates nobody predicted (shrinking,
targeting) are evaluated one at a time, as before. A round that ends early (a counterexample) may leave
up to ``workers - 1`` look-ahead evaluations unused; they stay in the store, so a later
search or sweep that asks for them finds them.
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
        self.position: dict[str, int] = {}
        self.batches = 0
        self.evaluated = 0
        self.fetched: set[str] = set()  # keys this look-ahead computed
        # evaluations running in the background: key -> (future, what to do with it)
        self.deferred: dict[str, tuple[Any, Callable[[Evaluation | None], None]]] = {}

    def predict(self, generate: Callable[[Callable[[Candidate], None]], None]) -> None:
        """Record the candidates of the coming round: ``generate(record)`` runs the
        round's hypothesis generation with ``record`` as its test (which never fails)."""
        candidates: list[Candidate] = []
        generate(candidates.append)
        # past this point hypothesis may optimise the targets: its candidates then depend
        # on the evaluations, and a prediction would be a guess
        candidates = candidates[: max(self.budget // 2, 10)]
        self.predicted = [(self.evaluator.key(c), c) for c in candidates]
        self.position = {}
        for index, (key, _) in enumerate(self.predicted):
            self.position.setdefault(key, index)

    def before(self, candidate: Candidate) -> None:
        """Called before the search evaluates ``candidate``: when it is a predicted one
        that needs computing, compute it and the next predicted ones in parallel."""
        key = self.evaluator.key(candidate)
        start = self.position.get(key)
        if start is None or self.evaluator.known(key):
            return
        free = self.executor.workers - len(self.deferred)  # busy with background work
        room = max(1, min(free, self.limit - len(self.evaluator.records)))
        batch, keys = [candidate], {key}
        for later_key, later in self.predicted[start + 1 :]:
            if len(batch) >= room:
                break
            if (
                later_key not in keys
                and later_key not in self.deferred
                and not self.evaluator.known(later_key)
            ):
                batch.append(later)
                keys.add(later_key)
        self._run([(c, self.evaluator.seed) for c in batch])

    def prefetch(self, pairs: list[tuple[Candidate, int]]) -> None:
        """Evaluate at once the ``(candidate, seed)`` pairs the search is about to ask for
        one after another whatever their outcomes: a counterexample's re-seeds, and its
        budget check (used when the re-seeds confirm it; kept in the store otherwise).
        Pairs already known are skipped; a single one is left to the search."""
        batch, keys = [], set()
        for candidate, seed in pairs:
            key = self.evaluator.key(candidate, seed)
            self.settle(key)
            if key not in keys and not self.evaluator.known(key):
                batch.append((candidate, seed))
                keys.add(key)
        if len(batch) > 1:
            self._run(batch)

    def defer(
        self, candidate: Candidate, seed: int, then: Callable[[Evaluation | None], None]
    ) -> bool:
        """Start evaluating ``(candidate, seed)`` in the background and go on; ``then`` is
        called with its evaluation (stored; None when the worker failed) when the search
        settles it (:meth:`settle`, :meth:`settle_all`). False where the executor cannot
        run anything in the background, or the evaluation is known already."""
        key = self.evaluator.key(candidate, seed)
        if not self.executor.background or key in self.deferred or self.evaluator.known(key):
            return False
        future = self.executor.submit(evaluate, self._item(candidate, seed))
        self.deferred[key] = (future, then)
        self.evaluated += 1
        return True

    def settle(self, key: str) -> None:
        """Wait for the deferred evaluation ``key`` (if it is one), store it, and hand it
        on: the search then sees what a serial search would have by now."""
        entry = self.deferred.pop(key, None)
        if entry is None:
            return
        future, then = entry
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
        """Settle every deferred evaluation, in the order they were started."""
        for key in list(self.deferred):
            self.settle(key)

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

    def _run(self, batch: list[tuple[Candidate, int]]) -> None:
        store = self.evaluator.store
        items = [self._item(c, seed) for c, seed in batch]
        self.batches += 1
        self.evaluated += len(items)
        for outcome in self.executor.map_unordered(evaluate, items):
            evaluation = read_answer(outcome, items[outcome.index].key)[0]
            if evaluation is None:  # the worker died, raised or answered wrong: the search
                # evaluates it itself (a worker's answer is never trusted)
                continue
            if evaluation.transient:  # a timeout under load: the search retries it itself
                continue
            if not store.path(evaluation.key).exists():
                store.put(evaluation)
            self.fetched.add(evaluation.key)
            self.evaluator.adopt(evaluation)

    def only_looked_ahead(self, candidate: Candidate) -> bool:
        """Computed by the look-ahead and not yet asked for by the search: a serial search
        would not have it, so it must not be free once the budget is spent."""
        key = self.evaluator.key(candidate)
        return key in self.fetched and key not in self.evaluator.records

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
