"""The run machinery every kind of run (search, sweep, align) shares, bottom to top (each
module imports only those above it):

- ``records``    :class:`Evaluation`, one evaluation of a theorem on a process, named by
                 the hash of its spec (:func:`spec_key`)
- ``store``      :class:`ResultStore`: one atomic JSON file per evaluation; ``NoStore``
- ``signals``    :func:`sigint_deferred`, around the files a run writes last
- ``rundir``     :class:`LockedDirectory`: one kind of run per directory, locked while it
                 runs; :func:`default_directory` from normalised settings
- ``documents``  reading a run's document back, figures, escaping: what reports share
- ``arguments``  seeds, the oracle flag, the time limit and the executor, checked alike
- ``evaluator``  :class:`Evaluator`: one candidate -> one Evaluation, through the store;
                 :func:`evaluation_spec` / :func:`evaluation_key` without a store
- ``worker``     :class:`WorkItem` and the worker function :func:`evaluate`; theorems by
                 name in workers, user imports, a worker's answer read back
- ``session``    :func:`open_run`: a run's directory held, its theorem findable by its
                 workers, its executor closed at the end

The light names (records, store, directories, documents) import no torch; the evaluator
and the worker are imported when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from verification._runs.documents import (
    escape,
    figures_of,
    load_document,
    pyplot,
    save_figure,
    tight_layout,
)
from verification._runs.records import (
    EVALUATION_SCHEMA,
    KINDS,
    QUADRANTS,
    Evaluation,
    EvaluationId,
    spec_key,
)
from verification._runs.rundir import (
    DOCUMENTS,
    LockedDirectory,
    default_directory,
    hold_lock,
    refuse_other_kinds,
)
from verification._runs.signals import sigint_deferred
from verification._runs.store import CorruptRecordWarning, NoStore, ResultStore, store_at

_LAZY = {
    "CHECK_SETTINGS": "evaluator",
    "Evaluator": "evaluator",
    "evaluation_key": "evaluator",
    "evaluation_spec": "evaluator",
    "WorkItem": "worker",
    "evaluate": "worker",
    "claim_record": "session",
    "open_run": "session",
    "check_oracle": "arguments",
    "check_time_limit": "arguments",
    "open_executor": "arguments",
    "seed_list": "arguments",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"verification._runs.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'verification._runs' has no attribute {name!r}")


__all__ = [
    "CHECK_SETTINGS",
    "DOCUMENTS",
    "EVALUATION_SCHEMA",
    "KINDS",
    "QUADRANTS",
    "CorruptRecordWarning",
    "Evaluation",
    "EvaluationId",
    "Evaluator",
    "LockedDirectory",
    "NoStore",
    "ResultStore",
    "WorkItem",
    "check_oracle",
    "check_time_limit",
    "claim_record",
    "default_directory",
    "escape",
    "evaluate",
    "evaluation_key",
    "evaluation_spec",
    "figures_of",
    "hold_lock",
    "load_document",
    "open_executor",
    "open_run",
    "pyplot",
    "refuse_other_kinds",
    "save_figure",
    "seed_list",
    "sigint_deferred",
    "spec_key",
    "store_at",
    "tight_layout",
]
