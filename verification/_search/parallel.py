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
compares them). Candidates nobody predicted (shrinking, targeting, re-seeds) are
evaluated one at a time, as before. A round that ends early (a counterexample) may leave
up to ``workers - 1`` look-ahead evaluations unused; they stay in the store, so a later
search or sweep that asks for them finds them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from verification._runs.evaluator import Evaluator
from verification._runs.worker import WorkItem, evaluate, read_answer
from verification.executors import Executor
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
        room = max(1, min(self.executor.workers, self.limit - len(self.evaluator.records)))
        batch, keys = [candidate], {key}
        for later_key, later in self.predicted[start + 1 :]:
            if len(batch) >= room:
                break
            if later_key not in keys and not self.evaluator.known(later_key):
                batch.append(later)
                keys.add(later_key)
        self._run(batch)

    def _run(self, batch: list[Candidate]) -> None:
        store = self.evaluator.store
        shared = str(store.root.resolve()) if self.executor.shared_filesystem else None
        items = [
            WorkItem(
                theorem=self.evaluator.theorem.name,
                process=c.process.to_dict(),
                options=dict(c.learner_options),
                seed=self.evaluator.seed,
                key=self.evaluator.key(c),
                imports=self.imports,
                store=shared,
                time_limit=self.time_limit,
                oracle=self.evaluator.oracle,
                learner=self.evaluator.learner,
                params=c.params(),
            )
            for c in batch
        ]
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
