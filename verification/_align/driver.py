"""``align()``: train every (learner, setting, seed) once, encode one common held-out set,
and compare every pair of models with each other and each model with the truth.

Everything that can be refused (theorem, learners, vary keys and values, seeds) is refused
before anything trains. Each model is an evaluation of the result store (shared with
``recover``, ``sweep`` and ``search``) plus its embedding of the common set, kept next to
the store (``STORE/embeddings/KEY.npy``, plain arrays read with ``allow_pickle=False``):
a rerun trains nothing that finished, and an interrupted run keeps every finished model.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import theory as th
from theory._spec import digest
from theory.errors import InvalidArgument, SithError
from verification import learners as L
from verification import provenance
from verification._align import pairwise
from verification._align.reports import render_html, render_markdown, render_plots
from verification._align.result import AlignResult, pair_group, summarise
from verification._align.work import AlignItem, common_set, train_and_encode
from verification._figures import parse_formats
from verification._files import write_atomic
from verification._runs import Evaluation, LockedDirectory, sigint_deferred
from verification._runs import worker as remote
from verification._runs.arguments import check_oracle, check_time_limit, seed_list
from verification._runs.evaluator import evaluation_key
from verification._runs.session import claim_record, open_run
from verification._sweep.settings import SweepSpace, make_settings, normalise_vary, vary_record
from verification.checks.learner import learner_covered
from verification.executors import Executor
from verification.metrics import check_claim_metric

N_EVAL_DEFAULT = 2000
WRITE_EVERY = 2.0  # seconds between rewrites of align.json while models train


def align(
    theorem: th.Theorem | str,
    learners: Sequence[str] | None = None,
    *,
    seeds: int | Sequence[int] = 3,
    seed: int = 0,
    vary: Mapping[str, Any] | None = None,
    process: th.Process | None = None,
    n_eval: int = N_EVAL_DEFAULT,
    k: int = pairwise.K_DEFAULT,
    executor: str | Executor = "serial",
    workers: int | None = None,
    threads: int | None = 1,
    address: str | None = None,
    out: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    imports: Sequence[str] = (),
    evaluation_time_limit: float | None = 600.0,
    oracle: bool = False,
    plots: bool = True,
    on_model: Callable[[dict[str, Any], bool], None] | None = None,
    figures: str | Sequence[str] = (),
) -> AlignResult:
    """Do independently trained models converge, and does identifiability predict it?

    Arguments:
        theorem: a :class:`theory.Theorem` or a theorem's name (its claim says what
            "recovered" and "agree up to the indeterminacy" mean).
        learners: registered learner names (``sith learners``); default: the theorem's
            own. A learner outside the theorem's learner assumptions is trained all the
            same; its models say ``covered: False``.
        seeds: how many seeds (``seed``, ``seed + 1``, ...), or the seeds themselves.
        seed: the first seed, and the seed of the common held-out set.
        vary: ``{KEY: [values]}``, a grid of process fields or learner options as in
            :func:`verification.sweep` (every learner must have the option).
        process: the process (default: the theorem's canonical one).
        n_eval: rows of the common held-out set every model encodes.
        k: neighbours of the mutual k-NN score.
        executor: where models train: ``serial``, ``local``, ``dask`` or an
            :class:`~verification.executors.Executor` (see :func:`verification.sweep`).
        workers: worker processes (local, dask); default: the cores.
        threads: torch/BLAS threads per worker.
        address: the Dask scheduler (default: a LocalCluster of ``workers`` processes).
        out: the directory for align.json, report.md/html, figures/ (default: a new
            temporary one); its store is ``out/evaluations`` unless ``store`` is given.
        imports: user modules workers import first (as ``--import``).
        evaluation_time_limit: seconds one model (checks + training) may take.
        oracle: train in oracle mode; off by default (practice mode).
        plots: write figures (the ``plots`` extra).
        figures: vector copies of the figures for a paper, "pdf" and/or "svg".
        on_model(model, fresh): called as each model finishes (progress).

    Returns an :class:`AlignResult` (``models``, ``pairs``, ``truth``, ``summary``).
    """
    theorem, local = remote.theorem_for_workers(theorem, executor)
    formats = parse_formats(figures)
    seeds_run = seed_list(seeds, seed)
    for name, value, low in (("n_eval", n_eval, 20), ("k", k, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidArgument(f"{name} must be an integer >= {low}, got {value!r}")
    if k >= n_eval:
        raise InvalidArgument(f"k must be smaller than n_eval ({n_eval}), got {k}")
    check_oracle(oracle)
    check_time_limit(evaluation_time_limit)
    imports = tuple(remote.import_target(t) for t in imports)
    remote.prepare(imports)
    check_claim_metric(theorem.claim, where=f"theorem {theorem.name!r}")
    learner_specs = _learners(theorem, learners)
    if process is None:
        process = theorem.canonical_process()
    if not isinstance(process, th.Process):
        raise InvalidArgument(f"process must be a theory.Process, got {type(process).__name__}")
    vary_values: dict[str, Any] = {}
    spaces = {}
    for spec in learner_specs:
        space = SweepSpace(theorem, process, spec)
        spaces[spec] = space
        if vary:
            try:
                vary_values = normalise_vary(space, vary, random=None)
            except SithError as err:
                raise InvalidArgument(f"learner {_label(theorem, spec)}: {err}") from None
    settings = make_settings(vary_values, random=None, seed=seed) if vary_values else [{}]
    aligned_name = pairwise.indeterminacy_score(theorem.claim.indeterminacy)[0]
    root = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="sith-align-"))
    run = AlignDirectory(root, store=store, formats=formats)
    with open_run(run, theorem, executor, workers, threads, local=local, address=address) as pool:
        result = AlignResult(
            theorem=theorem.name,
            claim=claim_record(theorem, "indeterminacy", "content"),
            learners=[_label(theorem, s) for s in learner_specs],
            vary=vary_record(vary_values),
            seeds=seeds_run,
            n_eval=int(n_eval),
            k=int(k),
            aligned_score=aligned_name,
            oracle=oracle,
            executor=pool.describe(),
            out=run.root,
            provenance=provenance.collect(seed=seeds_run),
        )
        plan = _plan(theorem, spaces, settings, seeds_run, seed, n_eval, oracle)
        _run(
            result,
            run,
            pool,
            theorem,
            plan,
            imports,
            evaluation_time_limit,
            plots,
            on_model,
        )
        return result


def _learners(theorem: th.Theorem, learners: Sequence[str] | None) -> list[str | None]:
    """Learner names, validated (None: the theorem's own learner)."""
    if learners is None:
        return [None]
    if isinstance(learners, str) or not isinstance(learners, Sequence) or not learners:
        raise InvalidArgument(
            f"learners must be a non-empty list of learner names, got {learners!r}"
        )
    out: list[str | None] = []
    for name in learners:
        if not isinstance(name, str) or name not in L.LEARNERS:
            raise InvalidArgument(
                f"unknown learner {name!r}; known: {', '.join(sorted(L.LEARNERS))}"
            )
        if name in out:
            raise InvalidArgument(f"learner {name!r} is listed twice")
        L.for_theorem(theorem, name)  # its factory works and it can be sized to the claim
        out.append(name)
    return out


def _label(theorem: th.Theorem, spec: str | None) -> str:
    return theorem.learner_label if spec is None else spec


class _Model:
    """One planned model: its item, identity and where its embedding is kept."""

    def __init__(self, item: AlignItem, label: str, params: dict[str, Any], process) -> None:
        self.item, self.label, self.params, self.process = item, label, params, process
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        self.id = f"{label}{f'[{shown}]' if shown else ''}/s{item.seed}"
        self.embedding_key = digest(
            {"evaluation": item.key, "n_eval": item.n_eval, "probe_seed": item.probe_seed},
            length=24,
        )


def _plan(theorem, spaces, settings, seeds, probe_seed, n_eval, oracle) -> list[_Model]:
    models = []
    for spec, space in spaces.items():
        for setting in settings:
            try:
                candidate = space.candidate(setting)
            except SithError as err:
                shown = ", ".join(f"{k}={v}" for k, v in setting.items())
                raise InvalidArgument(f"setting {shown}: {' '.join(str(err).split())}") from None
            for s in seeds:
                key = evaluation_key(theorem, candidate, s, oracle=oracle, learner=spec)
                item = AlignItem(
                    theorem=theorem.name,
                    learner=spec,
                    process=candidate.process.to_dict(),
                    options=dict(candidate.learner_options),
                    seed=s,
                    key=key,
                    n_eval=int(n_eval),
                    probe_seed=probe_seed,
                    oracle=oracle,
                )
                models.append(_Model(item, _label(theorem, spec), dict(setting), candidate.process))
    return models


def _run(
    result: AlignResult,
    run: AlignDirectory,
    executor: Executor,
    theorem: th.Theorem,
    plan: list[_Model],
    imports: tuple[str, ...],
    time_limit: float | None,
    plots: bool,
    on_model: Callable[[dict[str, Any], bool], None] | None,
) -> None:
    store = run.store
    start = time.perf_counter()
    embeddings = EmbeddingStore(store.root)
    conditions = learner_conditions(theorem)
    entries: dict[int, dict[str, Any]] = {}
    arrays: dict[int, np.ndarray | None] = {}
    last_write = [0.0]

    def finish(i: int, evaluation: Evaluation | None, error: str | None, fresh: bool) -> None:
        encoded = arrays.get(i) is not None
        entries[i] = model_entry(plan[i], evaluation, error, encoded, conditions)
        result.models = [entries[j] for j in sorted(entries)]
        if on_model is not None:
            on_model(entries[i], fresh)
        if time.perf_counter() - last_write[0] > WRITE_EVERY:
            result.seconds = time.perf_counter() - start
            run.write(result, final=False)
            last_write[0] = time.perf_counter()

    try:
        pending = []
        for i, model in enumerate(plan):
            cached = store.get(model.item.key)
            if cached is not None and embeddings.has(model.embedding_key):
                arrays[i] = embeddings.get(model.embedding_key)
                finish(i, cached, None, False)
            elif cached is not None and cached.error is not None:
                arrays[i] = None  # an incoherent (process, learner): stored as an error
                finish(i, cached, None, False)
            else:
                pending.append(i)
        shared = str(store.root.resolve()) if executor.shared_filesystem else None
        items = [
            _with(plan[i].item, imports=imports, store=shared, time_limit=time_limit)
            for i in pending
        ]
        run.write(result, final=False)
        for outcome in executor.map_unordered(train_and_encode, items, retries=1):
            i = pending[outcome.index]
            evaluation, error, embedding = _answer(outcome, plan[i].item.key, result.n_eval)
            if (
                evaluation is not None
                and not evaluation.transient
                and not store.path(evaluation.key).exists()
            ):
                store.put(evaluation)
            if embedding is not None:
                embeddings.put(plan[i].embedding_key, embedding)
            arrays[i] = embedding
            result.new_models += 1
            finish(i, evaluation, error, True)
        result.status = "complete"
    except KeyboardInterrupt:
        result.status = "interrupted"
    try:
        result.pairs, result.truth = compare_models(theorem, plan, entries, arrays, result)
    except KeyboardInterrupt:  # the models are kept (store); a rerun compares them
        result.status = "interrupted"
    result.summary = summarise(
        result.models, result.pairs, result.truth, result.claim, result.aligned_score
    )
    result.seconds = time.perf_counter() - start
    with sigint_deferred():
        run.write(result, final=True, plots=plots)


def _with(item: AlignItem, **changes: Any) -> AlignItem:
    from dataclasses import replace

    return replace(item, **changes)


def _answer(
    outcome, key: str, n_eval: int
) -> tuple[Evaluation | None, str | None, np.ndarray | None]:
    evaluation, error, answer = remote.read_answer(outcome, key, "a model")
    if evaluation is None:
        return None, error, None
    embedding = answer.get("embedding")
    if embedding is not None:
        embedding = np.asarray(embedding, dtype=np.float32)
        if embedding.ndim != 2 or embedding.shape[0] != n_eval:
            return evaluation, f"the worker's embedding has shape {embedding.shape}", None
    return evaluation, None, embedding


def learner_conditions(theorem: th.Theorem) -> frozenset[str]:
    """The names of the theorem's assumptions about its learner."""
    return frozenset(
        a.name
        for a in theorem.assumptions
        if isinstance(a, th.learner_conditions.LearnerAssumption)
    )


def model_entry(
    model: _Model,
    evaluation: Evaluation | None,
    error: str | None,
    encoded: bool,
    conditions: frozenset[str],
) -> dict[str, Any]:
    """A model's entry of align.json: identity, verdict, whether its learner is inside
    the theorem's learner assumptions (``covered``), and whether it was encoded."""
    recovery = (evaluation.recovery if evaluation is not None else None) or {}
    claim = recovery.get("claim_metric") or {}
    value = claim.get("value")
    failed = error or (evaluation.error if evaluation is not None else None)
    verdicts = [
        e.get("verdict")
        for e in (evaluation.evidence if evaluation is not None else ())
        if e.get("assumption") in conditions
    ]
    return {
        "id": model.id,
        "learner": model.label,
        "params": dict(model.params),
        "seed": model.item.seed,
        "key": model.item.key,
        "process": model.process.hash,
        "recovered": None if failed or not encoded else bool(evaluation.recovered),
        "claim_metric": value if isinstance(value, (int, float)) and math.isfinite(value) else None,
        "diagnosis": recovery.get("diagnosis"),
        "status": (recovery.get("train") or {}).get("status"),
        "covered": None if evaluation is None or failed else learner_covered(verdicts),
        "violated": list(evaluation.violated) if evaluation is not None else [],
        "error": failed if failed else (None if encoded else "no usable encoder"),
        "seconds": round(float(evaluation.seconds), 3) if evaluation is not None else None,
    }


def compare_models(
    theorem: th.Theorem,
    plan: list[_Model],
    entries: dict[int, dict[str, Any]],
    arrays: dict[int, np.ndarray | None],
    result: AlignResult,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every pair of encoded models of the same process, and each one against the truth
    (the content block for a block claim), on the common held-out set."""
    indeterminacy = theorem.claim.indeterminacy
    content = theorem.claim.content
    ready = [i for i in sorted(entries) if arrays.get(i) is not None]
    truth_sets: dict[str, np.ndarray] = {}
    truth = []
    for i in ready:
        model = plan[i]
        if model.process.hash not in truth_sets:
            z, _ = common_set(model.process, result.n_eval, model.item.probe_seed)
            z = z.numpy()
            truth_sets[model.process.hash] = z[:, :content] if content else z
        scores = pairwise.compare(
            arrays[i], truth_sets[model.process.hash], indeterminacy=indeterminacy, k=result.k
        )
        truth.append({"model": model.id, **scores})
    pairs = []
    for x, i in enumerate(ready):
        for j in ready[x + 1 :]:
            if plan[i].process.hash != plan[j].process.hash:
                continue  # different inputs: nothing to compare
            scores = pairwise.compare(arrays[i], arrays[j], indeterminacy=indeterminacy, k=result.k)
            pairs.append(
                {
                    "a": plan[i].id,
                    "b": plan[j].id,
                    "same_learner": plan[i].label == plan[j].label,
                    "group": pair_group(entries[i], entries[j]),
                    **scores,
                }
            )
    return pairs, truth


class EmbeddingStore:
    """``ROOT/embeddings/KEY.npy``: each model's embedding of the common held-out set."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.dir = Path(root) / "embeddings"

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.npy"

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def get(self, key: str) -> np.ndarray | None:
        """The array, or None when absent or unreadable (then it is recomputed)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.floating):
            return None
        return array

    def put(self, key: str, array: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
        write_atomic(self.path(key), buffer.getvalue())


class AlignDirectory(LockedDirectory):
    """``OUT``: align.json, report.md, report.html, figures/, and (unless the alignment
    names another store) evaluations/ and embeddings/. Locked while an alignment runs."""

    KIND = "align"

    def write(self, result: AlignResult, *, final: bool, plots: bool = True) -> dict[str, Any]:
        """align.json and the reports; figures at the end (plots extra)."""
        renderers = (render_plots, render_markdown, render_html)
        return self.write_document(result.to_dict(), renderers, figures=final and plots)


__all__ = ["N_EVAL_DEFAULT", "AlignDirectory", "EmbeddingStore", "align"]
