"""The unit of work of ``sith align`` and the worker function that trains and encodes it.

An :class:`AlignItem` is plain data (theorem, learner, process, options, seed, the common
held-out set's size and seed): it pickles to any executor of ``verification.executors``.
:func:`train_and_encode` trains the model through the shared
:class:`~verification._runs.evaluator.Evaluator` (so its evaluation record is the one ``recover``,
``sweep`` and ``search`` share in the store, with the theorem's assumptions checked for
this learner) and encodes the common held-out set with the trained encoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import theory as th
from verification._candidate import Candidate
from verification._runs.worker import WorkItem, check_key, worker_evaluator

PROBE_STREAM = 31  # the common held-out set: rng([seed, PROBE_STREAM]), never trained on


def common_set(process: th.Process, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(z, x): the held-out set every model of ``process`` encodes (a stream no learner
    trains on, and not recover's test stream)."""
    return process.sample(n, np.random.default_rng([seed, PROBE_STREAM]))


@dataclass(frozen=True)
class AlignItem(WorkItem):
    """One model of an alignment: (learner, setting, seed), as data: a
    :class:`~verification._runs.WorkItem` and the common held-out set it encodes."""

    n_eval: int = field(kw_only=True)  # rows of the common held-out set
    probe_seed: int = field(kw_only=True)  # its seed


def train_and_encode(item: AlignItem) -> dict[str, Any]:
    """Train one model and encode the common set (in a worker): ``{"evaluation":
    Evaluation.to_dict(), "embedding": float32 array (n_eval, width) or None when
    training produced no usable encoder}``."""
    evaluator = worker_evaluator(item)
    process = th.Process.from_dict(item.process)
    _, x = common_set(process, item.n_eval, item.probe_seed)
    encoded: list[np.ndarray] = []

    def encode(fit) -> None:
        if fit.status == "ok":
            with torch.no_grad():
                h = torch.as_tensor(fit.encode(x)).detach().cpu().double()
            encoded.append(h.numpy().astype(np.float32))

    evaluation = check_key(
        evaluator(Candidate(process, dict(item.options)), on_fit=encode), item.key
    )
    embedding = encoded[-1] if encoded and evaluation.error is None else None
    return {"evaluation": evaluation.to_dict(), "embedding": embedding}


__all__ = ["PROBE_STREAM", "AlignItem", "common_set", "train_and_encode"]
