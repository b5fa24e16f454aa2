"""Result store: one JSON file per evaluation, written as soon as it finishes.

Keys are hashes of the evaluation's spec (theorem, process, learner config, seed), so a
resumed run (search, sweep or alignment: they share records) finds finished work and an interrupted one loses nothing but the
evaluation in flight. Writes are atomic (a hidden temp file, then a rename), so a reader
never sees half a record; leftover temp files of a killed writer are ignored. A record
that cannot be read (not UTF-8, not JSON, not a record, not the record its name says)
is reported once with its path and treated as missing, so it is recomputed, never
trusted.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from theory._json import load_json
from theory._spec import canonical_json
from theory.errors import SithError
from verification._files import write_atomic
from verification._runs.records import Evaluation


class CorruptRecordWarning(UserWarning):
    """A store file could not be read; it is ignored (and recomputed when needed)."""


class NoStore:
    """For workers that do not see the driver's files: nothing cached, nothing kept
    (the driver stores what comes back)."""

    def get(self, key: str) -> None:
        return None

    def put(self, evaluation: Evaluation) -> None:
        pass


class ResultStore:
    """``ROOT/evaluations/KEY.json``, one :class:`Evaluation` per file."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.dir = self.root / "evaluations"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._warned: set[Path] = set()

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def get(self, key: str) -> Evaluation | None:
        path = self.path(key)
        return self._read(path) if path.exists() else None

    def put(self, evaluation: Evaluation) -> None:
        write_atomic(self.path(evaluation.key), canonical_json(evaluation.to_dict()))

    def keys(self) -> list[str]:
        return [p.stem for p in self._files()]

    def _files(self) -> list[Path]:
        return sorted(p for p in self.dir.glob("*.json") if not p.name.startswith("."))

    def __iter__(self) -> Iterator[Evaluation]:
        for path in self._files():
            evaluation = self._read(path)
            if evaluation is not None:
                yield evaluation

    def __len__(self) -> int:
        return len(self._files())

    def _read(self, path: Path) -> Evaluation | None:
        try:
            evaluation = Evaluation.from_dict(load_json(path.read_bytes(), what=str(path)))
            if evaluation.key != path.stem:
                raise SithError("it is not the record its name says")
        except (OSError, SithError) as err:
            if path not in self._warned:  # once per file, however often it is asked for
                self._warned.add(path)
                warnings.warn(
                    f"ignoring unreadable store record {path}: {err}",
                    CorruptRecordWarning,
                    stacklevel=3,
                )
            return None
        return evaluation


def store_at(root: str | os.PathLike | None) -> ResultStore | NoStore:
    """The store at ``root``, or a :class:`NoStore` where there is none (a worker that
    does not share the driver's filesystem)."""
    return NoStore() if root is None else ResultStore(root)


__all__ = ["CorruptRecordWarning", "NoStore", "ResultStore", "store_at", "write_atomic"]
