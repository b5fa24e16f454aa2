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

import numbers
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Verbosity, given, settings, target
from hypothesis import Phase as HypothesisPhase
from hypothesis import seed as hypothesis_seed

import theory as th
from theory.errors import InvalidArgument
from verification import learners as L
from verification import provenance
from verification._figures import parse_formats
from verification._runs import KINDS, Evaluation, sigint_deferred
from verification._runs import worker as remote
from verification._runs.arguments import check_oracle, check_time_limit, open_executor
from verification._runs.evaluator import CHECK_SETTINGS, Evaluator
from verification._search import necessity
from verification._search.derive import space_for
from verification._search.outside import probe
from verification._search.parallel import LookAhead, threads_beside
from verification._search.records import Counterexample, SearchResult
from verification._search.rundir import SETTINGS_SCHEMA, RunDirectory
from verification._search.shadow import ShadowRound
from verification.executors import Executor, LocalExecutor
from verification.metrics import check_claim_metric
from verification.spaces import (
    INSIDE,
    Candidate,
    SearchSpace,
    apply_options,
    option_names,
)


class _Found(Exception):
    def __init__(self, evaluation: Evaluation) -> None:
        super().__init__(evaluation.key)
        self.evaluation = evaluation


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
    min_rate: float = 0.2,
    on_record: Callable[[Evaluation, bool], None] | None = None,
    evaluation_time_limit: float | None = 600.0,
    oracle: bool = False,
    executor: str | Executor = "serial",
    workers: int | None = None,
    threads: int | None = 1,
    address: str | None = None,
    imports: Sequence[str] = (),
    figures: str | Sequence[str] = (),
) -> SearchResult:
    """Search ``space`` around ``theorem`` for gaps and failures within ``budget`` evaluations.

    ``out``: run directory (result store + report); a temporary one when None. It is
    locked while the search runs, and records the search's settings.
    ``resume``: reuse an existing run directory's finished evaluations; it must hold a
    search with the same settings (only ``budget`` may change). Without ``resume`` an
    existing run directory is an error, so nothing is silently mixed.
    ``reseeds``: fresh-seed re-evaluations of each counterexample; more re-seeds cost
    more evaluations and narrow its rate's interval.
    ``min_rate``: a counterexample is kept when the lower 95% Wilson bound of its rate
    (how often its process is a counterexample of its kind, over the seed that found it
    and the re-seeds) exceeds this level; otherwise it is reported as rejected (noise).
    With the default two re-seeds and level 0.2, 2 of 3 seeds suffice.
    ``on_record(evaluation, fresh)``: called after every evaluation (progress bars).
    ``evaluation_time_limit``: seconds for one evaluation (None: no limit).
    ``oracle``: train in oracle mode (the true latents may steer training, e.g. early
    stopping at their loss); off by default, and recorded in every evaluation.
    ``executor`` (``serial``, ``local``, ``dask`` or an :class:`Executor`), ``workers``,
    ``threads``, ``address``, ``imports``: evaluate on several workers (see
    :mod:`verification._search.parallel`): the stretch of each round that hypothesis
    generates before its first counterexample runs ``workers`` evaluations at a time;
    the records, counterexamples and report are those of the serial search.
    The report is rewritten after every evaluation, so any stop (Ctrl-C, SIGTERM, even
    SIGKILL) leaves a valid report of what finished; KeyboardInterrupt stops the search
    and returns what was finished (status "interrupted").
    ``figures``: vector copies of the figures for a paper, "pdf" and/or "svg".
    """
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
    check_oracle(oracle)
    if (
        isinstance(min_rate, bool)
        or not isinstance(min_rate, (int, float))
        or not (0 <= min_rate < 1)
    ):
        raise InvalidArgument(f"min_rate must be a number in [0, 1), got {min_rate!r}")
    check_time_limit(evaluation_time_limit)
    space = space or space_for(theorem)
    space.validate()
    _validate_before_compute(theorem, space)
    space = probe(theorem, space, CHECK_SETTINGS)  # what lies outside, unless declared
    theorem, local = remote.theorem_for_workers(theorem, executor)
    imports = tuple(remote.import_target(t) for t in imports)
    remote.prepare(imports)

    run = RunDirectory(
        out if out is not None else tempfile.mkdtemp(prefix="sith-search-"),
        formats=parse_formats(figures),
    )
    settings_record = {
        "schema": SETTINGS_SCHEMA,
        "theorem": theorem.name,
        "seed": seed,
        "budget": budget,
        "kinds": list(kinds),
        "reseeds": reseeds,
        "min_rate": min_rate,
        "oracle": oracle,
        "space": space.to_dict(),
    }
    owned = not isinstance(executor, Executor)
    pool = _executor(executor, workers, threads, address)
    result = None
    try:
        with (
            remote.theorem_in_workers(theorem, local),
            run.open(settings_record, resume=resume),
            threads_beside(pool),
        ):
            result = _run_search(
                theorem,
                space,
                budget,
                seed,
                kinds,
                reseeds,
                min_rate,
                run,
                on_record,
                evaluation_time_limit,
                oracle,
                pool,
                imports,
            )
            return result
    finally:
        if owned and pool is not None:
            # stopped: the evaluations still running in the background are not waited for
            stopped = result is None or result.status == "interrupted"
            if stopped and isinstance(pool, LocalExecutor):
                pool.close(kill=True)
            else:
                pool.close()


def _executor(
    executor: str | Executor, workers: int | None, threads: int | None, address: str | None
) -> Executor | None:
    """The executor of the look-ahead, or None for a serial search (no look-ahead)."""
    if isinstance(executor, Executor):
        return None if executor.workers == 1 and executor.name == "serial" else executor
    if executor not in ("serial", "local", "dask"):
        raise InvalidArgument(
            f"a search runs on the serial, local or dask executor, got {executor!r} (a "
            "search's batches are a few evaluations each: sweep on slurm instead)"
        )
    pool = open_executor(executor, workers, threads, address=address)
    if pool.name == "serial":  # no look-ahead
        pool.close()
        return None
    return pool


def _validate_before_compute(theorem: th.Theorem, space: SearchSpace) -> None:
    """Refuse, in milliseconds, what would make every evaluation fail: an unregistered
    claim metric, an unknown learner, an option or option value it does not accept."""
    check_claim_metric(theorem.claim, where=f"theorem {theorem.name!r}")
    L.for_theorem(theorem)
    for key, values in space.learner_options.items():
        for value in values:
            apply_options(L.for_theorem(theorem), {key: value})


def _require_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidArgument(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class Phase:
    """A stretch of the search: candidates aimed at ``aims`` (None: the whole space)
    until ``until`` evaluations have been made in all."""

    aims: tuple[str, ...] | None
    until: int

    def describe(self, start: int) -> dict[str, Any]:
        return {"aims": None if self.aims is None else list(self.aims), "evaluations": self.until - start}


def plan(space: SearchSpace, budget: int, kinds: Sequence[str]) -> list[Phase]:
    """How the budget is spent: ``space.inside_share`` of it on candidates inside the
    theorem (where failures live), the rest on candidates that violate exactly one
    assumption (gaps that pin it); the whole space where it can express neither."""
    aims = space.aims()
    singles = tuple(a for a in aims if a != INSIDE)
    inside = INSIDE in aims and "failure" in kinds
    gaps = bool(singles) and "gap" in kinds
    if inside and gaps:
        fraction = space.inside_share
        if fraction <= 0:
            return [Phase(singles, budget)]
        if fraction >= 1 or budget == 1:
            return [Phase((INSIDE,), budget)]
        share = min(budget - 1, max(1, round(fraction * budget)))
        return [Phase((INSIDE,), share), Phase(singles, budget)]
    if inside:
        return [Phase((INSIDE,), budget)]
    if gaps:
        return [Phase(singles, budget)]
    return [Phase(None, budget)]


def _run_search(
    theorem: th.Theorem,
    space: SearchSpace,
    budget: int,
    seed: int,
    kinds: tuple[str, ...],
    reseeds: int,
    min_rate: float,
    run: RunDirectory,
    on_record: Callable[[Evaluation, bool], None] | None,
    time_limit: float | None,
    oracle: bool,
    pool: Executor | None = None,
    imports: tuple[str, ...] = (),
) -> SearchResult:
    found: dict[tuple, Counterexample] = {}
    rejected: list[Counterexample] = []
    start = time.perf_counter()
    phases = plan(space, budget, kinds)
    starts = [0] + [ph.until for ph in phases[:-1]]
    plan_record = {
        "inside_share": space.inside_share,
        "phases": [ph.describe(s) for ph, s in zip(phases, starts, strict=True)],
    }
    names = tuple(a.name for a in theorem.assumptions)
    made_by = provenance.collect(seed=seed, device=getattr(L.for_theorem(theorem), "device", None))

    def snapshot(status: str) -> SearchResult:
        records = tuple(evaluate.records.values())
        return SearchResult(
            theorem=theorem.name,
            seed=seed,
            budget=budget,
            kinds=kinds,
            space=space.to_dict(),
            counterexamples=list(found.values()),
            rejected=list(rejected),
            new_evaluations=evaluate.new,
            seconds=time.perf_counter() - start,
            status=status,
            out=run.root,
            records=records,
            learner_options=tuple(space.learner_options),
            oracle=oracle,
            executor=None if look_ahead is None else look_ahead.describe(),
            plan=plan_record,
            necessity=necessity.table(names, records, space, min_rate),
            text_checks=theorem.text_check_table(),
            provenance=made_by,
        )

    def after_each(evaluation: Evaluation, fresh: bool) -> None:
        if fresh:  # keep report.json current: any stop leaves a valid report
            run.write_report(snapshot("running"), plots=False)
        if on_record is not None:
            on_record(evaluation, fresh)

    evaluate = Evaluator(theorem, run.store, seed, after_each, time_limit, oracle)
    look_ahead = (
        None
        if pool is None
        else LookAhead(pool, evaluate, budget, imports=imports, time_limit=time_limit)
    )

    def check_budget(cx: Counterexample, candidate: Candidate) -> None:
        """The budget check of a confirmed failure: in the background where a pool can run
        it (nothing the search does next depends on it), else here and now."""
        longer = _budget_plan(theorem, evaluate, candidate, cx.evaluation)
        if not isinstance(longer, Candidate):
            cx.budget_check = longer
            return
        key = evaluate.key(longer, cx.evaluation.seed)
        if look_ahead is not None:
            look_ahead.settle(key)
        # known to the search before it planned the check, as a serial search sees it: a
        # look-ahead evaluation nobody has asked for is not
        known = evaluate.cached(longer, cx.evaluation.seed) is not None and not (
            look_ahead is not None and look_ahead.fetched_only(key)
        )
        if (
            look_ahead is not None
            and not known
            and look_ahead.defer(longer, cx.evaluation.seed, checked(cx, longer))
        ):
            return
        cx.budget_check = _budget_check(longer, evaluate, cx.evaluation, known)
        if look_ahead is not None:  # asked for now: stored, as the serial search has it
            look_ahead.fetched.discard(key)

    def checked(cx: Counterexample, longer: Candidate) -> Callable[[Evaluation | None], None]:
        """A budget check run in the background (its outcome changes nothing the search
        does next: a retraining outside the space is not one of its records): recorded
        when it is settled, as the serial search records it."""

        def record(retrained: Evaluation | None) -> None:
            if retrained is not None:
                evaluate.adopt(retrained)
            cx.budget_check = _budget_check(longer, evaluate, cx.evaluation, False)

        return record

    def strategy_of(phase: Phase):
        return space.strategy(phase.aims) if phase.aims else space.strategy()

    def exhausted(limit: int) -> bool:
        # distinct evaluations touched (cached or new): a resumed search replays the same
        # candidates from the store and stops exactly where an uninterrupted one would
        return len(evaluate.records) >= limit

    def run_round(round_index: int, phase: Phase, next_phase: Phase | None) -> Counterexample | None:
        # the first counterexample of a round fixes its kind and its violated set:
        # shrinking may only move to smaller cases of the same kind that violate no
        # assumption it did not (a gap never shrinks into a failure, nor into a gap of
        # another assumption)
        state: dict[str, Any] = {"kind": None, "found_as": None, "cut": False, "violated": None}
        strategy = strategy_of(phase)

        def judge(evaluation: Evaluation) -> None:
            """What the round makes of an evaluation: target scores while it looks for
            its first counterexample; raises :class:`_Found` for a counterexample."""
            if evaluation.failed:
                return  # evaluation error: not a counterexample
            value = evaluation.claim_value
            if value is not None and state["kind"] is None:
                signed = value if evaluation.claim["higher_is_better"] else -value
                if "gap" in kinds and not evaluation.holds:
                    target(signed, label="recovery where assumptions are violated")
                if "failure" in kinds and evaluation.holds:
                    target(-signed, label="non-recovery where assumptions hold")
            kind, signature = evaluation.kind, evaluation.signature()
            violated = set(evaluation.violated)
            if (
                kind in kinds
                and kind == (state["kind"] or kind)
                and (state["violated"] is None or violated <= state["violated"])
                and signature not in found
                and signature not in {r.evaluation.signature() for r in rejected}
            ):
                if state["kind"] is None:
                    state["kind"], state["found_as"] = kind, evaluation.params
                    state["violated"] = violated
                raise _Found(evaluation)

        fork: list[ShadowRound] = []  # in a fork of the search (shadow.py): its round

        def prop(candidate: Candidate) -> None:
            if fork:  # the fork: the rest of the round, up to its first new candidate
                return fork[0].step(candidate, judge)
            if look_ahead is not None:  # a background evaluation of it: as serial, stored
                look_ahead.settle(evaluate.key(candidate))
            new_here = evaluate.cached(candidate) is None or (
                look_ahead is not None and look_ahead.only_looked_ahead(candidate)
            )
            if new_here and exhausted(phase.until):
                state["cut"] = state["cut"] or state["kind"] is not None
                return
            if look_ahead is not None:
                answer_on = look_ahead.before(candidate, shrinking=state["kind"] is not None)
                if answer_on is not None:  # this is the fork: ``candidate`` passes
                    fork.append(
                        ShadowRound(
                            answer_on, evaluate, evaluate.key(candidate), phase.until,
                            look_ahead.compute_here, look_ahead.fetched_only,
                            look_ahead.deferred.__contains__,
                        )
                    )  # fmt: skip
                    return
            evaluation = evaluate(candidate)
            try:
                judge(evaluation)
            except _Found:
                if look_ahead is not None:  # the fork took it for no counterexample
                    look_ahead.drop_shadow()
                raise

        if look_ahead is not None:  # what this round generates before its first failure
            look_ahead.limit = phase.until
            look_ahead.predict(
                lambda record: _round(strategy, budget, seed, round_index, record),
                lambda record: _round(strategy, budget, seed, round_index + 1, record),
                None
                if next_phase is None
                else lambda record: _round(
                    strategy_of(next_phase), budget, seed, round_index + 1, record
                ),
            )
        try:
            _round(strategy, budget, seed, round_index, prop)
        except _Found as hit:
            return Counterexample(
                hit.evaluation.kind,
                hit.evaluation,
                minimal=not state["cut"],
                found_as=state["found_as"] or {},
            )
        finally:
            if fork:  # the fork reached the round's end without a new candidate
                fork[0].leave(None)
            if look_ahead is not None:
                look_ahead.drop_shadow()
        return None

    status = "complete"
    round_index = 0
    try:
        for index, phase in enumerate(phases):
            before = len(evaluate.records)
            next_phase = phases[index + 1] if index + 1 < len(phases) else None
            while not exhausted(phase.until) and round_index < budget:
                cx = run_round(round_index, phase, next_phase)
                round_index += 1
                if cx is None:
                    break
                candidate = Candidate(
                    th.Process.from_dict(cx.evaluation.process), _options_of(cx.evaluation, space)
                )
                reseeded = [(candidate, seed + 1000 * k) for k in range(1, reseeds + 1)]
                if look_ahead is not None:  # all but the first on the workers meanwhile
                    look_ahead.prefetch(reseeded)
                for pair in reseeded:
                    if look_ahead is not None:
                        look_ahead.settle(evaluate.key(*pair))
                    cx.reseeds.append(evaluate(*pair))
                cx.min_rate = min_rate
                cx.confirmed = cx.rate()["low"] > min_rate
                if cx.confirmed and cx.kind == "failure":
                    check_budget(cx, candidate)
                if cx.confirmed:
                    found[cx.evaluation.signature()] = cx
                else:
                    rejected.append(cx)
                run.write_report(snapshot("running"), plots=False)
            # what the phase made: its share of the plan, plus re-seeds and retraining
            plan_record["phases"][index]["made"] = len(evaluate.records) - before
        if look_ahead is not None:  # the budget checks still running in the background
            look_ahead.settle_all()
    except KeyboardInterrupt:
        status = "interrupted"
        if look_ahead is not None:  # what finished is kept; nothing more is waited for
            look_ahead.abandon()
    result = snapshot(status)
    with sigint_deferred():  # a second Ctrl-C must not tear the final report
        run.write_report(result)
    return result


BUDGET_FACTOR = 4  # a failure is retrained with this many times its training steps


def _budget_plan(
    theorem: th.Theorem, evaluate: Evaluator, candidate: Candidate, evaluation: Evaluation
) -> Candidate | dict[str, Any]:
    """The budget check of a failure: the candidate retrained with ``BUDGET_FACTOR`` x its
    training steps, or the check's record when there is nothing to retrain (the learner
    has no training budget, it is unknown, or the retraining would pass the time limit)."""
    learner = L.for_theorem(theorem, evaluate.learner)
    apply_options(learner, candidate.learner_options)
    train = getattr(learner, "train", None)
    if train is None or "train.steps" not in option_names(learner):
        return {"factor": BUDGET_FACTOR, "steps": None, "recovered": None, "cause": None,
                "note": f"{learner.name} has no training budget to extend"}
    steps = train.steps
    if steps is None and hasattr(learner, "default_steps"):
        steps = int(learner.default_steps(candidate.process))
    if steps is None:
        steps = int(((evaluation.recovery or {}).get("train") or {}).get("steps") or 0) or None
    if steps is None:
        return {"factor": BUDGET_FACTOR, "steps": None, "recovered": None, "cause": None,
                "note": "the training budget is unknown"}
    limit = evaluate.time_limit
    if limit is not None and evaluation.seconds * BUDGET_FACTOR > limit:
        return {"factor": BUDGET_FACTOR, "steps": BUDGET_FACTOR * steps, "recovered": None,
                "cause": None, "note": f"skipped: {BUDGET_FACTOR}x the training would take "
                f"about {evaluation.seconds * BUDGET_FACTOR:.0f} s, past the evaluation time "
                f"limit of {limit:g} s"}
    return Candidate(
        candidate.process, {**candidate.learner_options, "train.steps": BUDGET_FACTOR * steps}
    )


def _budget_check(
    longer: Candidate | dict[str, Any], evaluate: Evaluator, evaluation: Evaluation, known: bool
) -> dict[str, Any]:
    """Does ``BUDGET_FACTOR`` x the training budget fix a failure? Retrains the same
    process, learner and seed with that many steps (``longer``, from :func:`_budget_plan`;
    ``known``: whether it was evaluated before the search planned it): recovered means
    optimisation (the budget was short), not recovered means finite samples or the
    estimator (a local optimum such as a fold, or an objective that does not identify
    here)."""
    if not isinstance(longer, Candidate):
        return longer
    steps = longer.learner_options["train.steps"]
    retrained = evaluate(longer, evaluation.seed)
    if not known:  # a diagnostic outside the searched space: not one of the search's records
        evaluate.records.pop(retrained.key, None)
    if retrained.failed:
        return {"factor": BUDGET_FACTOR, "steps": steps, "recovered": None,
                "cause": None, "note": f"the retraining failed: {retrained.error}",
                "key": retrained.key}
    cause = "optimisation" if retrained.recovered else "finite samples or estimator"
    value = retrained.claim_value
    note = (
        f"{BUDGET_FACTOR}x the training steps ({steps}) "
        + ("recovers it" if retrained.recovered else "does not recover it")
        + (f" ({retrained.claim['name']} = {value:.3g}, was {evaluation.claim_value:.3g})"
           if value is not None and evaluation.claim_value is not None else "")
        + (": the budget was short" if retrained.recovered else
           ": not a budget problem (a local optimum such as a fold, finite samples, or "
           "an objective that does not identify here)")
    )
    return {"factor": BUDGET_FACTOR, "steps": steps,
            "recovered": retrained.recovered, "claim_value": value, "cause": cause,
            "note": note, "key": retrained.key}


def _round(
    strategy: Any, budget: int, seed: int, round_index: int, test: Callable[[Any], None]
) -> None:
    """Run one hypothesis round of ``test`` over ``strategy``'s candidates (seeded: the
    same arguments generate the same candidates until ``test`` first raises)."""

    @settings(
        max_examples=max(1, budget),
        database=None,
        deadline=None,
        derandomize=False,
        phases=(HypothesisPhase.generate, HypothesisPhase.target, HypothesisPhase.shrink),
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )
    @hypothesis_seed(seed * 1000 + round_index)
    @given(strategy)
    def prop(candidate: Candidate) -> None:
        test(candidate)

    prop()


def _options_of(evaluation: Evaluation, space: SearchSpace) -> dict[str, Any]:
    return {k: evaluation.params[k] for k in space.learner_options if k in evaluation.params}


__all__ = ["search"]
