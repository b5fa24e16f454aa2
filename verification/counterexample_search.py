"""Counterexample search: hunt gaps and failures of a theorem with hypothesis.

For a theorem T and a process P, the four quadrants are (assumptions hold?) x
(claim recovered?). A **gap** is violated-and-recovered (T's assumptions were not
necessary here); a **failure** is holds-and-not-recovered (finite samples, batch size,
optimisation or architecture defeat T's promise). The search tests the properties
"recovered ⇒ assumptions hold" and "assumptions hold ⇒ recovered" with hypothesis:

- ``target()`` pushes toward high recovery where assumptions are violated and low
  recovery where they hold;
- every counterexample is shrunk by hypothesis to a minimal process (smallest dimension,
  simplest family, first-listed options);
- the search goes on after each one, collecting distinct counterexamples (by kind,
  violated assumptions and families) until the budget of evaluations is spent;
- each counterexample is re-evaluated with fresh seeds and kept only if it holds up
  (measurement noise is reported as "rejected", with the spread).

Every evaluation is written to the result store as it finishes, so an interrupted
search keeps its work and ``resume=True`` skips it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed

import theory as th
from verification import learners as L
from verification.checks import check
from verification.recovery import recover
from verification.spaces import Candidate, SearchSpace, apply_options, default_space
from verification.store import ResultStore

KINDS = ("gap", "failure")
CHECK_SETTINGS = {"n_points": 256, "time_limit": 0.5, "adversarial_steps": 20}


@dataclass
class Counterexample:
    kind: str
    record: dict[str, Any]
    reseeds: list[dict[str, Any]] = field(default_factory=list)
    confirmed: bool = True

    @property
    def claim_values(self) -> list[float]:
        return [
            r["recovery"]["claim_metric"]["value"]
            for r in [self.record, *self.reseeds]
            if r.get("recovery") and r["recovery"]["claim_metric"]["value"] is not None
        ]

    def spread(self) -> dict[str, float]:
        values = self.claim_values
        if not values:
            return {}
        return {
            "mean": statistics.fmean(values),
            "min": min(values),
            "max": max(values),
            "std": statistics.pstdev(values),
            "n": len(values),
        }

    def to_dict(self) -> dict[str, Any]:
        rec = self.record
        return {
            "kind": self.kind,
            "key": rec["key"],
            "confirmed": self.confirmed,
            "process": rec["process"],
            "learner": rec["learner"],
            "params": rec["params"],
            "seed": rec["seed"],
            "evidence": rec["evidence"],
            "violated": rec["violated"],
            "recovered": rec["recovered"],
            "claim_metric": rec["recovery"]["claim_metric"],
            "metrics": rec["recovery"]["metrics"],
            "status": rec["recovery"]["train"]["status"],
            "spread": self.spread(),
            "reseeds": [r["seed"] for r in self.reseeds],
        }


@dataclass
class SearchResult:
    theorem: str
    seed: int
    budget: int
    kinds: tuple[str, ...]
    space: dict[str, Any]
    counterexamples: list[Counterexample]
    rejected: list[Counterexample]
    evaluations: int
    new_evaluations: int
    seconds: float
    status: str  # "complete" | "interrupted"
    out: Path | None = None

    @property
    def gaps(self) -> list[Counterexample]:
        return [c for c in self.counterexamples if c.kind == "gap"]

    @property
    def failures(self) -> list[Counterexample]:
        return [c for c in self.counterexamples if c.kind == "failure"]


class _Found(Exception):
    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__(record["key"])
        self.record = record


class Evaluator:
    """Evaluates candidates through the store, counting new (uncached) evaluations."""

    def __init__(
        self,
        theorem: th.Theorem,
        store: ResultStore,
        seed: int,
        on_record: Callable[[dict[str, Any], bool], None] | None = None,
    ) -> None:
        self.theorem, self.store, self.seed = theorem, store, seed
        self.new = 0
        self.seen: set[str] = set()
        self.on_record = on_record

    def spec(self, candidate: Candidate, seed: int) -> tuple[dict[str, Any], L.Learner]:
        learner = L.for_theorem(self.theorem)
        apply_options(learner, candidate.learner_options)
        spec = {
            "theorem": self.theorem.name,
            "process": candidate.process.to_dict(),
            "learner": learner.config(),
            "seed": seed,
        }
        return spec, learner

    def cached(self, candidate: Candidate, seed: int) -> dict[str, Any] | None:
        spec, _ = self.spec(candidate, seed)
        return self.store.get(self.store.key(spec))

    def __call__(self, candidate: Candidate, seed: int | None = None) -> dict[str, Any]:
        seed = self.seed if seed is None else seed
        spec, learner = self.spec(candidate, seed)
        key = self.store.key(spec)
        record = self.store.get(key)
        if record is None:
            record = self._evaluate(candidate, spec, learner, key, seed)
            if not record.get("transient"):
                self.store.put(key, record)
            self.new += 1
            fresh = True
        else:
            fresh = False
        self.seen.add(key)
        if self.on_record is not None:
            self.on_record(record, fresh)
        return record

    def _evaluate(self, candidate, spec, learner, key, seed) -> dict[str, Any]:
        start = time.perf_counter()
        record = {**spec, "key": key, "params": candidate.params(), "schema": "sith.eval/1"}
        try:
            evidence = check(self.theorem, candidate.process, seed=seed, **CHECK_SETTINGS)
            result = recover(
                self.theorem, candidate.process, seed=seed, learner=learner, fast_metrics=True
            )
        except (ValueError, RuntimeError) as err:  # an invalid combination, or numerics
            return {
                **record,
                "error": f"{type(err).__name__}: {err}",
                # a RuntimeError (e.g. out of memory) may not recur: keep it out of the store
                "transient": isinstance(err, RuntimeError),
                "kind": None,
                "evidence": [],
                "violated": [],
                "holds": None,
                "recovered": None,
                "recovery": None,
                "seconds": time.perf_counter() - start,
            }
        violated = [e.assumption for e in evidence if not e.satisfied]
        holds = not violated
        recovered = result.recovered
        kind = (
            "gap" if (not holds and recovered) else "failure" if (holds and not recovered) else None
        )
        return {
            **record,
            "evidence": [e.to_dict() for e in evidence],
            "violated": violated,
            "holds": holds,
            "recovered": recovered,
            "kind": kind,
            "recovery": result.to_dict(),
            "seconds": time.perf_counter() - start,
        }


def signature(record: dict[str, Any]) -> tuple:
    """What makes two counterexamples distinct: kind, violated assumptions, families."""
    params = record["params"]
    return (
        record["kind"],
        tuple(sorted(record["violated"])),
        params.get("latent"),
        params.get("conditional"),
        params.get("mixing"),
    )


def search(
    theorem: th.Theorem | str,
    space: SearchSpace | None = None,
    budget: int = 40,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    reseeds: int = 2,
    on_record: Callable[[dict[str, Any], bool], None] | None = None,
) -> SearchResult:
    """Search ``space`` around ``theorem`` for gaps and failures within ``budget`` evaluations.

    ``out``: run directory (result store + report); a temporary one when None.
    ``resume``: reuse an existing run directory's finished evaluations (otherwise an existing
    non-empty run directory is an error, so nothing is silently mixed).
    ``reseeds``: fresh-seed re-evaluations that a counterexample must survive.
    ``on_record(record, fresh)``: called after every evaluation (progress bars).
    KeyboardInterrupt stops the search and returns what was finished (status "interrupted").
    """
    import tempfile

    from verification.reports import write_report

    if isinstance(theorem, str):
        theorem = th.theorems.get(theorem)
    kinds = tuple(kinds)
    if not kinds or set(kinds) - set(KINDS):
        raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {kinds}")
    if budget < 1:
        raise ValueError(f"budget must be at least 1, got {budget}")
    space = space or default_space(theorem)
    space.validate()
    run_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="sith-search-"))
    if (
        not resume
        and (run_dir / "evaluations").exists()
        and any((run_dir / "evaluations").iterdir())
    ):
        raise FileExistsError(
            f"{run_dir} already holds a search; pass resume=True (--resume) "
            "to continue it or choose another directory"
        )
    store = ResultStore(run_dir)
    evaluate = Evaluator(theorem, store, seed, on_record)
    found: dict[tuple, Counterexample] = {}
    rejected: list[Counterexample] = []
    start = time.perf_counter()
    status = "complete"

    def exhausted() -> bool:
        # distinct evaluations touched (cached or new): a resumed search replays the same
        # candidates from the store and stops exactly where an uninterrupted one would
        return len(evaluate.seen) >= budget

    def run_round(round_index: int) -> dict[str, Any] | None:
        @settings(
            max_examples=max(1, budget),
            database=None,
            deadline=None,
            derandomize=False,
            phases=(Phase.generate, Phase.target, Phase.shrink),
            verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        @hypothesis_seed(seed * 1000 + round_index)
        @given(space.strategy())
        def prop(candidate: Candidate) -> None:
            cached = evaluate.cached(candidate, seed)
            if cached is None and exhausted():
                return
            record = evaluate(candidate)
            if record.get("kind") is None and record.get("holds") is None:
                return  # evaluation error: not a counterexample
            value = record["recovery"]["claim_metric"]["value"] if record["recovery"] else None
            if value is not None:
                signed = value if record["recovery"]["claim_metric"]["higher_is_better"] else -value
                if "gap" in kinds and not record["holds"]:
                    target(signed, label="recovery where assumptions are violated")
                if "failure" in kinds and record["holds"]:
                    target(-signed, label="non-recovery where assumptions hold")
            if (
                record["kind"] in kinds
                and signature(record) not in found
                and signature(record) not in {signature(r.record) for r in rejected}
            ):
                raise _Found(record)

        try:
            prop()
        except _Found as hit:
            return hit.record
        return None

    try:
        for round_index in range(budget):
            record = run_round(round_index)
            if record is None:
                break
            cx = Counterexample(record["kind"], record)
            candidate = Candidate(
                th.Process.from_dict(record["process"]), _options_of(record, space)
            )
            for k in range(1, reseeds + 1):
                cx.reseeds.append(evaluate(candidate, seed + 1000 * k))
            cx.confirmed = all(r.get("kind") == cx.kind for r in cx.reseeds)
            (found.__setitem__(signature(record), cx) if cx.confirmed else rejected.append(cx))
            write_report(
                _result(
                    theorem,
                    seed,
                    budget,
                    kinds,
                    space,
                    found,
                    rejected,
                    evaluate,
                    start,
                    "running",
                    run_dir,
                ),
                run_dir,
            )
            if exhausted():
                break
    except KeyboardInterrupt:
        status = "interrupted"
    result = _result(
        theorem, seed, budget, kinds, space, found, rejected, evaluate, start, status, run_dir
    )
    write_report(result, run_dir)
    return result


def _options_of(record: dict[str, Any], space: SearchSpace) -> dict[str, Any]:
    return {k: record["params"][k] for k in space.learner_options if k in record["params"]}


def _result(
    theorem, seed, budget, kinds, space, found, rejected, evaluate, start, status, run_dir
) -> SearchResult:
    return SearchResult(
        theorem.name,
        seed,
        budget,
        kinds,
        space.to_dict(),
        list(found.values()),
        list(rejected),
        len(evaluate.seen),
        evaluate.new,
        time.perf_counter() - start,
        status,
        run_dir,
    )


__all__ = ["KINDS", "Counterexample", "Evaluator", "SearchResult", "search", "signature"]
