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

import contextlib
import math
import numbers
import signal
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed

import theory as th
from theory.errors import EvaluationTimeout, InvalidArgument
from verification import learners as L
from verification.checks import check
from verification.recovery import recover
from verification.rundir import SETTINGS_SCHEMA, RunDirectory
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
    # shrinking ran to the end (False: the budget ran out first, so it may not be minimal)
    minimal: bool = True
    found_as: dict[str, Any] = field(default_factory=dict)  # params before shrinking

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
            "minimal": self.minimal,
            "found_as": self.found_as,
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
    status: str  # "running" | "complete" | "interrupted"
    out: Path | None = None
    quadrants: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)  # the first few
    evaluated: list[str] = field(default_factory=list)  # store keys of every evaluation

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
    """Evaluates candidates through the store, counting new (uncached) evaluations.

    ``time_limit`` bounds one evaluation's wall-clock time: the exact sympy attempts are
    bounded by ``CHECK_SETTINGS`` and training by the learner's time budget, which is
    capped at what is left. An evaluation that runs out of time is an error row (kept
    out of the store, so a later run with more time computes it), never a failure.
    """

    def __init__(
        self,
        theorem: th.Theorem,
        store: ResultStore,
        seed: int,
        on_record: Callable[[dict[str, Any], bool], None] | None = None,
        time_limit: float | None = None,
    ) -> None:
        self.theorem, self.store, self.seed = theorem, store, seed
        self.new = 0
        self.records: dict[str, dict[str, Any]] = {}  # every evaluation touched, by key
        self.on_record = on_record
        self.time_limit = time_limit

    @property
    def seen(self) -> set[str]:
        return set(self.records)

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
        self.records[key] = record
        if self.on_record is not None:
            self.on_record(record, fresh)
        return record

    def _evaluate(self, candidate, spec, learner, key, seed) -> dict[str, Any]:
        start = time.perf_counter()
        record = {**spec, "key": key, "params": candidate.params(), "schema": "sith.eval/1"}
        try:
            evidence = check(self.theorem, candidate.process, seed=seed, **CHECK_SETTINGS)
            self._cap_training_time(learner, time.perf_counter() - start)
            result = recover(
                self.theorem, candidate.process, seed=seed, learner=learner, fast_metrics=True
            )
            elapsed = time.perf_counter() - start
            if self.time_limit is not None and elapsed >= self.time_limit:
                raise EvaluationTimeout(
                    f"the evaluation took {elapsed:.1f} s, past its limit of {self.time_limit:g} s"
                )
        except (InvalidArgument, EvaluationTimeout, RuntimeError, MemoryError) as err:
            # InvalidArgument: an invalid combination (deterministic: stored);
            # a timeout, out of memory or a numerical RuntimeError may not recur: not stored
            return {
                **record,
                "error": f"{type(err).__name__}: {err}",
                "transient": not isinstance(err, InvalidArgument),
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

    def _cap_training_time(self, learner: L.Learner, spent: float) -> None:
        train = getattr(learner, "train", None)
        if self.time_limit is None or train is None:
            return
        left = max(self.time_limit - spent, 1e-3)
        if train.time_budget is None or train.time_budget > left:
            train.time_budget = left

    def quadrants(self) -> dict[str, int]:
        """Counts of the evaluations this search touched, by quadrant."""
        counts = dict.fromkeys(QUADRANTS, 0)
        for record in self.records.values():
            if record.get("holds") is None:
                counts["errors"] += 1
                continue
            holds = "holds" if record["holds"] else "violated"
            recovered = "recovered" if record["recovered"] else "not_recovered"
            counts[f"{holds}_{recovered}"] += 1
        return counts

    def errors(self, limit: int = 5) -> list[dict[str, str]]:
        return [
            {"key": key, "error": r["error"]} for key, r in self.records.items() if r.get("error")
        ][:limit]


QUADRANTS = (
    "holds_recovered",
    "holds_not_recovered",
    "violated_recovered",
    "violated_not_recovered",
    "errors",
)


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
    evaluation_time_limit: float | None = 600.0,
) -> SearchResult:
    """Search ``space`` around ``theorem`` for gaps and failures within ``budget`` evaluations.

    ``out``: run directory (result store + report); a temporary one when None. It is
    locked while the search runs, and records the search's settings.
    ``resume``: reuse an existing run directory's finished evaluations; it must hold a
    search with the same settings (only ``budget`` may change). Without ``resume`` an
    existing run directory is an error, so nothing is silently mixed.
    ``reseeds``: fresh-seed re-evaluations that a counterexample must survive.
    ``on_record(record, fresh)``: called after every evaluation (progress bars).
    ``evaluation_time_limit``: seconds for one evaluation (None: no limit).
    The report is rewritten after every evaluation, so any stop (Ctrl-C, SIGTERM, even
    SIGKILL) leaves a valid report of what finished; KeyboardInterrupt stops the search
    and returns what was finished (status "interrupted").
    """
    import tempfile

    from verification.reports import write_report

    if isinstance(theorem, str):
        theorem = th.theorems.get(theorem)
    if not isinstance(theorem, th.Theorem):
        raise InvalidArgument(f"theorem must be a theory.Theorem or a name, got {theorem!r}")
    kinds = tuple(kinds)
    if not kinds or set(kinds) - set(KINDS):
        raise InvalidArgument(f"kinds must be a non-empty subset of {KINDS}, got {kinds}")
    _require_int("budget", budget, minimum=1)
    _require_int("seed", seed, minimum=0)
    _require_int("reseeds", reseeds, minimum=0)
    if evaluation_time_limit is not None and not (
        isinstance(evaluation_time_limit, (int, float)) and 0 < evaluation_time_limit < math.inf
    ):
        raise InvalidArgument(
            f"evaluation_time_limit must be a positive number of seconds or None, "
            f"got {evaluation_time_limit!r}"
        )
    space = space or default_space(theorem)
    space.validate()
    run = RunDirectory(out if out is not None else tempfile.mkdtemp(prefix="sith-search-"))
    settings_record = {
        "schema": SETTINGS_SCHEMA,
        "theorem": theorem.name,
        "seed": seed,
        "budget": budget,
        "kinds": list(kinds),
        "reseeds": reseeds,
        "space": space.to_dict(),
    }
    with run.open(settings_record, resume=resume):
        return _run_search(
            theorem,
            space,
            budget,
            seed,
            kinds,
            reseeds,
            run,
            on_record,
            evaluation_time_limit,
            write_report,
        )


def _require_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidArgument(f"{name} must be an integer >= {minimum}, got {value!r}")


def _run_search(
    theorem, space, budget, seed, kinds, reseeds, run, on_record, time_limit, write_report
) -> SearchResult:
    found: dict[tuple, Counterexample] = {}
    rejected: list[Counterexample] = []
    start = time.perf_counter()

    def snapshot(status: str) -> SearchResult:
        return _result(
            theorem, seed, budget, kinds, space, found, rejected, evaluate, start, status, run.root
        )

    def after_each(record: dict[str, Any], fresh: bool) -> None:
        if fresh:  # keep report.json current: any stop leaves a valid report
            write_report(snapshot("running"), run.root, plots=False)
        if on_record is not None:
            on_record(record, fresh)

    evaluate = Evaluator(theorem, run.store, seed, after_each, time_limit)

    def exhausted() -> bool:
        # distinct evaluations touched (cached or new): a resumed search replays the same
        # candidates from the store and stops exactly where an uninterrupted one would
        return len(evaluate.records) >= budget

    def run_round(round_index: int) -> Counterexample | None:
        # the first counterexample of a round fixes its kind: shrinking may only move to
        # smaller cases of the same kind (a gap must never shrink into a failure)
        state: dict[str, Any] = {"kind": None, "found_as": None, "cut": False}

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
                state["cut"] = state["cut"] or state["kind"] is not None
                return
            record = evaluate(candidate)
            if record.get("holds") is None:
                return  # evaluation error: not a counterexample
            value = record["recovery"]["claim_metric"]["value"] if record["recovery"] else None
            if value is not None and state["kind"] is None:
                signed = value if record["recovery"]["claim_metric"]["higher_is_better"] else -value
                if "gap" in kinds and not record["holds"]:
                    target(signed, label="recovery where assumptions are violated")
                if "failure" in kinds and record["holds"]:
                    target(-signed, label="non-recovery where assumptions hold")
            if (
                record["kind"] in kinds
                and record["kind"] == (state["kind"] or record["kind"])
                and signature(record) not in found
                and signature(record) not in {signature(r.record) for r in rejected}
            ):
                if state["kind"] is None:
                    state["kind"], state["found_as"] = record["kind"], record["params"]
                raise _Found(record)

        try:
            prop()
        except _Found as hit:
            return Counterexample(
                hit.record["kind"],
                hit.record,
                minimal=not state["cut"],
                found_as=state["found_as"] or {},
            )
        return None

    status = "complete"
    try:
        for round_index in range(budget):
            cx = run_round(round_index)
            if cx is None:
                break
            candidate = Candidate(
                th.Process.from_dict(cx.record["process"]), _options_of(cx.record, space)
            )
            for k in range(1, reseeds + 1):
                cx.reseeds.append(evaluate(candidate, seed + 1000 * k))
            cx.confirmed = all(r.get("kind") == cx.kind for r in cx.reseeds)
            (found.__setitem__(signature(cx.record), cx) if cx.confirmed else rejected.append(cx))
            write_report(snapshot("running"), run.root, plots=False)
            if exhausted():
                break
    except KeyboardInterrupt:
        status = "interrupted"
    result = snapshot(status)
    with _sigint_deferred():  # a second Ctrl-C must not tear the final report
        write_report(result, run.root)
    return result


@contextlib.contextmanager
def _sigint_deferred():
    """Ignore SIGINT while the block runs (main thread only), then restore the handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
        evaluate.quadrants(),
        evaluate.errors(),
        list(evaluate.records),
    )


__all__ = ["KINDS", "Counterexample", "Evaluator", "SearchResult", "search", "signature"]
