"""``sweep()``: every (setting, seed) of a grid or a random sample, through the store.

The settings are validated and every store key computed before anything runs; finished
keys are read from the store, the rest go to the executor as :class:`WorkItem` s, and
each result is stored the moment it comes back (by the worker too, when it shares the
filesystem), so a sweep stopped by Ctrl-C, a killed worker or a lost SLURM job resumes
where it stopped: rerunning it recomputes nothing that finished.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import theory as th
from theory._json import load_json
from theory.errors import InvalidArgument, RunDirectoryError, SithError
from verification import learners as L
from verification import provenance
from verification._figures import parse_formats
from verification._files import write_atomic
from verification._runs import Evaluation, LockedDirectory, sigint_deferred, spec_key
from verification._runs import worker as work
from verification._runs.arguments import (
    check_oracle,
    check_time_limit,
    seed_list,
)
from verification._runs.documents import preload_plotting
from verification._runs.evaluator import evaluation_spec
from verification._runs.session import claim_record, open_run
from verification._sweep.order import LongestFirst
from verification._sweep.plan import SweepPlan, check_size, count_settings, stored_seconds
from verification._sweep.reports import render_html, render_markdown, render_plots
from verification._sweep.result import SweepResult, error_row, row_from_evaluation, rows_csv
from verification._sweep.settings import (
    SweepSpace,
    make_settings,
    normalise_vary,
    supports_device,
    vary_record,
)
from verification.executors import Executor, Outcome
from verification.metrics import check_claim_metric

DEVICES = ("auto", "cpu", "cuda")
WRITE_EVERY = 2.0  # seconds between rewrites of sweep.json while a sweep runs


def sweep(
    theorem: th.Theorem | str,
    vary: Mapping[str, Any],
    *,
    seeds: int | Sequence[int] = 3,
    seed: int = 0,
    random: int | None = None,
    process: th.Process | None = None,
    executor: str | Executor = "serial",
    workers: int | None = None,
    threads: int | None = 1,
    address: str | None = None,
    slurm_partition: str | None = None,
    slurm_time: float = 60,
    slurm_cluster: str | None = None,
    slurm_options: dict[str, Any] | None = None,
    device: str = "auto",
    out: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    imports: Sequence[str] = (),
    evaluation_time_limit: float | None = 600.0,
    oracle: bool = False,
    retries: int = 1,
    plots: bool = True,
    on_row: Callable[[dict[str, Any], bool], None] | None = None,
    max_evaluations: int | None = None,
    on_plan: Callable[[SweepPlan], None] | None = None,
    figures: str | Sequence[str] = (),
) -> SweepResult:
    """Evaluate ``theorem`` on every setting of ``vary`` with each seed.

    Arguments:
        theorem: a :class:`theory.Theorem` or a theorem's name.
        vary: ``{KEY: [values]}``, a grid (last key fastest). KEY is a dotted path into
            the process (``dim``, ``conditional.kappa``, ``mixing.depth``) or the learner
            (``learner.n_train``, ``train.batch_size``, ``encoder.width``); with
            ``random=N``, a value may also be a :class:`Range`.
        seeds: how many seeds (``seed``, ``seed + 1``, ...), or the seeds themselves.
        seed: the first seed, and the seed of the random settings.
        random: sample this many settings from ``vary`` instead of the grid.
        process: the process to sweep around (default: the theorem's canonical one).
        executor: ``serial``, ``local``, ``dask``, ``slurm``, or an :class:`Executor`
            (the caller's: it is not closed). ``workers``/``threads``: processes and the
            torch/BLAS threads of each (1: they never oversubscribe the cores).
        address: the Dask scheduler (default: a LocalCluster of ``workers`` processes).
        slurm_partition: the SLURM job arrays' partition (submitit).
        slurm_time: each job's time limit, in minutes.
        slurm_cluster: ``"local"`` runs the jobs as local subprocesses.
        slurm_options: more submitit parameters for the job arrays.
        device: ``auto`` (cuda when this machine has it), ``cpu`` or ``cuda``: passed to
            learners that take a ``device`` option (InfoNCE, VICReg, Barlow Twins; the
            others train on the CPU).
        out: the directory for sweep.json, sweep.csv, report.md/html and figures/
            (default: a temporary one); its store is ``out/evaluations`` unless
            ``store`` names another directory (sweeps sharing a store share results).
        imports: user modules (``paper.py`` or a module name) workers import first: the
            modules defining the theorem, learner or process types, as ``--import``.
        evaluation_time_limit: seconds one evaluation may take (None: no limit).
        oracle: train in oracle mode (the true latents may steer training, where the
            learner has such a mode); off by default: practice mode. Rows say which.
        retries: how often an item whose worker died is tried again.
        plots: write figures (needs matplotlib, the ``plots`` extra).
        figures: vector copies of the figures for a paper, "pdf" and/or "svg" (beside
            the PNGs in ``out/figures``).
        on_row(row, fresh): called as each row finishes (progress).
        max_evaluations: refuse (:class:`PlanTooLarge`, nothing run) a sweep of more
            evaluations (settings x seeds, counted before anything is built); None: no
            limit. ``sith sweep`` sets 10,000 unless ``--yes``.
        on_plan(plan): called with the :class:`SweepPlan` before any work: once counted
            (evaluations, executor), once the store is read (cached, a time estimate
            from the store's timings), and, without stored timings, once more after the
            first evaluation (its time).

    Returns the :class:`SweepResult` (``rows``: one per setting and seed, in that order).
    Everything that can be refused is refused before anything runs. Ctrl-C stops the
    sweep and returns what finished (status "interrupted"); rerun it to continue.
    """
    theorem, local = work.theorem_for_workers(theorem, executor)
    formats = parse_formats(figures)
    seeds_run = seed_list(seeds, seed)
    if random is not None and (
        isinstance(random, bool) or not isinstance(random, numbers.Integral) or random < 1
    ):
        raise InvalidArgument(f"random must be a number of settings >= 1, got {random!r}")
    check_oracle(oracle)
    if device not in DEVICES:
        raise InvalidArgument(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    check_time_limit(evaluation_time_limit)
    imports = tuple(work.import_target(t) for t in imports)
    work.prepare(imports)
    check_claim_metric(theorem.claim, where=f"theorem {theorem.name!r}")
    learner = L.for_theorem(theorem)
    if process is None:
        process = theorem.canonical_process()
    if not isinstance(process, th.Process):
        raise InvalidArgument(f"process must be a theory.Process, got {type(process).__name__}")
    space = SweepSpace(theorem, process)
    vary_values = normalise_vary(space, vary, random=random)
    plan = SweepPlan(
        settings=count_settings(vary_values, random),
        seeds=len(seeds_run),
        random=random is not None,
        executor=executor.name if isinstance(executor, Executor) else str(executor),
        workers=1 if executor == "serial" else workers,
    )
    check_size(plan, max_evaluations)  # counted, not built: refused in microseconds
    if on_plan is not None:
        on_plan(plan)
    settings = make_settings(vary_values, random=random, seed=seed)
    resolved = _resolve_device(device)
    used_device = resolved if supports_device(learner) else "cpu"
    candidates = []
    for setting in settings:
        try:
            candidates.append(
                space.candidate(setting, resolved if supports_device(learner) else None)
            )
        except SithError as err:
            shown = ", ".join(f"{k}={v}" for k, v in setting.items())
            raise InvalidArgument(f"setting {shown}: {' '.join(str(err).split())}") from None
    specs = [
        [evaluation_spec(theorem, candidate, s, oracle=oracle)[0] for s in seeds_run]
        for candidate in candidates
    ]
    root = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="sith-sweep-"))
    run = SweepDirectory(root, store=store, formats=formats)
    # the theorem is found by name in this process only (the serial executor) when local
    with open_run(
        run,
        theorem,
        executor,
        workers,
        threads,
        local=local,
        address=address,
        slurm_partition=slurm_partition,
        slurm_time=slurm_time,
        slurm_cluster=slurm_cluster,
        slurm_options=slurm_options,
        gpus=1 if resolved == "cuda" else 0,
    ) as pool:
        result = SweepResult(
            theorem=theorem.name,
            claim=claim_record(theorem),
            process=process.to_dict(),
            vary=vary_record(vary_values),
            settings=settings,
            seeds=seeds_run,
            rows=[],
            random=random,
            seed=seed,
            executor=pool.describe(),
            device=used_device,
            oracle=oracle,
            status="running",
            out=run.root,
            store=run.store_root,
            provenance=provenance.collect(seed=seeds_run, device=used_device),
        )
        _run(
            result,
            run,
            pool,
            theorem,
            candidates,
            specs,
            imports,
            evaluation_time_limit,
            retries,
            plots,
            on_row,
            plan,
            on_plan,
        )
        return result


def _run(
    result: SweepResult,
    run: SweepDirectory,
    executor: Executor,
    theorem: th.Theorem,
    candidates: list,
    specs: list[list[dict[str, Any]]],
    imports: tuple[str, ...],
    time_limit: float | None,
    retries: int,
    plots: bool,
    on_row: Callable[[dict[str, Any], bool], None] | None,
    plan: SweepPlan | None = None,
    on_plan: Callable[[SweepPlan], None] | None = None,
) -> None:
    store = run.store
    start = time.perf_counter()
    seeds = result.seeds
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    waiting: dict[str, list[tuple[int, int]]] = {}  # key -> (setting, seed index) positions
    last_write = [0.0]

    def finish(position: tuple[int, int], row: dict[str, Any], fresh: bool) -> None:
        rows[position] = row
        result.rows = [rows[p] for p in sorted(rows)]
        if on_row is not None:
            on_row(row, fresh)
        if time.perf_counter() - last_write[0] > WRITE_EVERY:
            result.seconds = time.perf_counter() - start
            run.write(result, final=False)
            last_write[0] = time.perf_counter()

    try:
        found: list[tuple[tuple[int, int], Evaluation]] = []
        for i, setting_specs in enumerate(specs):
            for j, spec in enumerate(setting_specs):
                key = spec_key(spec)
                cached = store.get(key)
                if cached is None:
                    waiting.setdefault(key, []).append((i, j))
                else:
                    found.append(((i, j), cached))
        keys = list(waiting)
        timing_pending = False
        if plan is not None:
            plan = replace(
                plan,
                settings=len(result.settings),
                executor=executor.name,
                workers=executor.workers,
                cached=len(found),
            )
            stored = stored_seconds(store.root, theorem.name)
            if stored is not None:
                plan = plan.with_timing(stored[0], f"median of {stored[1]} stored evaluations")
            plan = replace(plan, stage="stored")
            timing_pending = plan.estimate is None and plan.to_run > 0
            if on_plan is not None:
                on_plan(plan)
        for (i, j), cached in found:  # the plan first, then what the store already had
            finish((i, j), row_from_evaluation(i, result.settings[i], cached, result.device), False)
        shared = str(store.root.resolve()) if executor.shared_filesystem else None
        items = []
        for key in keys:
            i, j = waiting[key][0]
            items.append(
                work.WorkItem(
                    theorem=theorem.name,
                    process=candidates[i].process.to_dict(),
                    options=dict(candidates[i].learner_options),
                    seed=seeds[j],
                    key=key,
                    imports=imports,
                    store=shared,
                    time_limit=time_limit,
                    oracle=result.oracle,
                    params=dict(result.settings[i]),
                )
            )
        run.write(result, final=False)
        # the report needs matplotlib (0.3 s of imports, in a thread): imported while the
        # pool's workers start, or else once a worker has no item left, on the core it
        # frees. Imported beside busy workers, it slowed them (0.13 s more for the
        # benchmark's 12-evaluation sweep on 2 cores)
        plotting = plots and bool(items) and executor.name != "serial"
        idle_after = max(len(items) - executor.workers + 1, 0)  # results until then
        if plotting and (idle_after == 0 or executor.starting):
            preload_plotting()
            plotting = False
        # a pool takes the slowest settings first, as measured (a short tail)
        order = LongestFirst([waiting[key][0][0] for key in keys]) if executor.workers > 1 else None
        # closed as soon as the loop ends, however it ends: a stop kills the items in flight
        outcomes = contextlib.closing(
            executor.map_unordered(work.evaluate, items, retries=retries, order=order)
        )
        with outcomes as each:
            for done, outcome in enumerate(each, start=1):
                if plotting and done == idle_after:
                    preload_plotting()
                key = keys[outcome.index]
                evaluation, error, fresh = _answer(outcome, key)
                if order is not None and fresh and evaluation is not None:
                    order.record(outcome.index, evaluation.seconds)
                if evaluation is not None and not evaluation.transient and not store.path(key).exists():
                    store.put(evaluation)
                result.new_evaluations += int(fresh)
                for i, j in waiting[key]:
                    if evaluation is not None:
                        row = row_from_evaluation(i, result.settings[i], evaluation, result.device)
                    else:
                        row = error_row(i, result.settings[i], seeds[j], key, error, result.device)
                    finish((i, j), row, fresh)
                if timing_pending and fresh and evaluation is not None and evaluation.seconds > 0:
                    timing_pending = False  # no stored timings: the first evaluation's
                    plan = replace(plan, cached=len(rows), stage="timed")
                    plan = plan.with_timing(evaluation.seconds, "the first evaluation took")
                    if on_plan is not None:
                        on_plan(plan)
        result.status = "complete"
    except KeyboardInterrupt:
        result.status = "interrupted"
    result.seconds = time.perf_counter() - start
    with sigint_deferred():  # a second Ctrl-C must not tear the final files
        run.write(result, final=True, plots=plots)


def _answer(outcome: Outcome, key: str) -> tuple[Evaluation | None, str | None, bool]:
    """(evaluation, error, fresh) from what a worker sent back for ``key``."""
    evaluation, error, answer = work.read_answer(outcome, key)
    return evaluation, error, evaluation is not None and bool(answer.get("fresh", True))


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SweepDirectory(LockedDirectory):
    """``OUT``: sweep.json, sweep.csv, report.md, report.html, figures/, evaluations/ (the
    store, unless the sweep names another), slurm/ (job logs). Locked while a sweep runs;
    sweep.json describes the last sweep run here (the store keeps every evaluation)."""

    KIND = "sweep"

    def check_existing(self) -> None:
        sweep_json = self.document
        if sweep_json.exists():
            try:
                previous = load_json(sweep_json.read_bytes(), what=str(sweep_json))
            except (OSError, SithError):
                previous = None
            if not isinstance(previous, dict) or previous.get("schema") != "sith.sweep/1":
                raise RunDirectoryError(f"{sweep_json} exists and is not a sith sweep")

    def write(self, result: SweepResult, *, final: bool, plots: bool = True) -> dict[str, Any]:
        """sweep.json, sweep.csv and the reports; figures at the end (plots extra)."""
        write_atomic(self.root / "sweep.csv", rows_csv(result.rows))
        renderers = (render_plots, render_markdown, render_html)
        return self.write_document(result.to_dict(), renderers, figures=final and plots)


__all__ = ["DEVICES", "SweepDirectory", "sweep"]
