"""The unit of work sent to a worker (by a sweep, or a search on several workers), the
function that evaluates it there, and what every kind of run needs to hand work out:
finding theorems by name in a worker, importing the user's modules, checking the key a
worker computed, and reading its answer back.

A :class:`WorkItem` is plain data (theorem name, process dict, learner options, seed,
the user modules to import, the store to use): it pickles to any backend. The worker
function :func:`evaluate` imports the user's modules once per process, rebuilds the
process (validated, as any process file), and evaluates it through the
:class:`~verification._runs.evaluator.Evaluator`, so a sweep's records are the search's
records: the same store key (theorem, process, learner config, seed), the same checks
and recovery, and two runs that share a store share their results.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import theory as th
from theory.errors import InvalidArgument, SithError, UnknownName
from verification._candidate import Candidate
from verification._loading import (
    find_user_object,
    import_from_env,
    import_user,
    load_catalogue_entry_points,
)
from verification._runs.evaluator import Evaluator
from verification._runs.records import Evaluation
from verification._runs.store import store_at


@dataclass(frozen=True)
class WorkItem:
    """One (candidate, seed) to evaluate, as data."""

    theorem: str
    process: dict[str, Any]
    options: dict[str, Any]
    seed: int
    key: str  # the store key the driver expects (a worker of another version differs)
    imports: tuple[str, ...] = ()
    store: str | None = None  # the store's root, when the worker shares the filesystem
    time_limit: float | None = 600.0
    oracle: bool = False  # oracle mode: the truth may steer training (part of the key)
    learner: str | None = None  # a registered learner instead of the theorem's own
    params: dict[str, Any] = field(default_factory=dict)


# theorems handed to sweep() as objects: found by name in this process only (serial)
LOCAL_THEOREMS: dict[str, th.Theorem] = {}
_IMPORTED: set[str] = set()
_BOOTED = False


def prepare(imports: tuple[str, ...]) -> None:
    """Import what a worker needs to know the user's theorems, learners and process types:
    installed catalogue entry points and $SITH_IMPORT (once), then each listed module."""
    global _BOOTED
    if not _BOOTED:
        load_catalogue_entry_points()
        import_from_env()
        _BOOTED = True
    for target in imports:
        if target not in _IMPORTED:
            import_user(target)
            _IMPORTED.add(target)


def resolve_theorem(name: str) -> th.Theorem:
    """A theorem by name: handed over in this process, registered, or defined in an
    imported user module."""
    if name in LOCAL_THEOREMS:
        return LOCAL_THEOREMS[name]
    try:
        return th.theorems.get(name)
    except UnknownName:
        found = find_user_object(name, th.Theorem)
        if found is None:
            raise
        return found


def evaluate(item: WorkItem) -> dict[str, Any]:
    """Evaluate one item (in a worker): ``{"evaluation": Evaluation.to_dict(), "fresh":
    whether it was computed here (False: another run had stored it)}``."""
    evaluator = worker_evaluator(item)
    candidate = Candidate(th.Process.from_dict(item.process), dict(item.options))
    evaluation = check_key(evaluator(candidate), item.key)
    return {"evaluation": evaluation.to_dict(), "fresh": evaluator.new > 0}


def worker_evaluator(item: Any) -> Evaluator:
    """The evaluator a worker runs ``item`` (a :class:`WorkItem` or any item with the same
    fields: theorem, seed, imports, store, time_limit, oracle, learner) through, once the
    user's modules are imported."""
    prepare(item.imports)
    return Evaluator(
        resolve_theorem(item.theorem),
        store_at(item.store),
        item.seed,
        time_limit=item.time_limit,
        oracle=item.oracle,
        learner=item.learner,
    )


def check_key(evaluation: Evaluation, expected: str) -> Evaluation:
    """``evaluation``, once its key is the one the driver computed for it."""
    if evaluation.key != expected:
        raise InvalidArgument(
            f"the worker computed store key {evaluation.key} for what the driver calls "
            f"{expected}: are the worker's sith (or the user's modules) another version?"
        )
    return evaluation


def read_answer(
    outcome: Any, key: str, what: str = "an evaluation record"
) -> tuple[Evaluation | None, str | None, dict[str, Any]]:
    """(evaluation, error, the whole answer) from what a worker sent back for ``key``
    (an executor's ``Outcome``): the evaluation is rebuilt from its dict and checked, never
    trusted; a lost worker or a malformed answer is an error line instead."""
    if not outcome.ok:
        error = outcome.error or "the evaluation failed"
        if outcome.lost:
            error += f" (after {outcome.attempts} attempts; rerun to retry)"
        return None, error, {}
    try:
        evaluation = Evaluation.from_dict(outcome.value["evaluation"])
    except (SithError, TypeError, KeyError, AttributeError) as err:
        return None, f"the worker's answer is not {what}: {err}", {}
    if evaluation.key != key:
        return None, f"the worker answered for another key ({evaluation.key})", {}
    return evaluation, None, outcome.value


@contextlib.contextmanager
def theorem_in_workers(theorem: th.Theorem, local: bool) -> Iterator[None]:
    """While the block runs, workers of this process find ``theorem`` by name even when it
    is not the registered one (``local``, see :func:`theorem_for_workers`)."""
    if local:
        LOCAL_THEOREMS[theorem.name] = theorem
    try:
        yield
    finally:
        if local:
            LOCAL_THEOREMS.pop(theorem.name, None)


def theorem_for_workers(theorem: th.Theorem | str, executor: Any) -> tuple[th.Theorem, bool]:
    """The theorem, and whether workers can only find it in this process (an object
    that is not the one registered under its name: the serial executor only)."""
    if isinstance(theorem, str):
        try:
            return th.theorems.get(theorem), False
        except UnknownName:
            found = find_user_object(theorem, th.Theorem)
            if found is None:
                raise
            return found, False
    if not isinstance(theorem, th.Theorem):
        raise InvalidArgument(f"theorem must be a theory.Theorem or a name, got {theorem!r}")
    try:
        registered = th.theorems.get(theorem.name)
    except UnknownName:
        registered = find_user_object(theorem.name, th.Theorem)
    if registered is theorem or registered == theorem:
        return theorem, False
    if not (executor == "serial" or getattr(executor, "name", None) == "serial"):
        raise InvalidArgument(
            f"theorem {theorem.name!r} is not the one registered under its name: workers "
            "find theorems by name, so register it (theory.theorems.register) in a module "
            "and pass imports=[that module], or use executor='serial'"
        )
    return theorem, True


def import_target(target: Any) -> str:
    """A user module for workers to import: a .py path (made absolute) or a module name."""
    if not isinstance(target, str) or not target:
        raise InvalidArgument(f"imports are .py files or module names, got {target!r}")
    if target.endswith(".py") or "/" in target or os.sep in target:
        return str(Path(target).resolve())
    return target


__all__ = [
    "LOCAL_THEOREMS",
    "WorkItem",
    "check_key",
    "evaluate",
    "import_target",
    "prepare",
    "read_answer",
    "resolve_theorem",
    "theorem_for_workers",
    "theorem_in_workers",
    "worker_evaluator",
]
