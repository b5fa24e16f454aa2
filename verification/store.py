"""Result store: one JSON file per evaluation, written as soon as it finishes.

Keys are hashes of the evaluation's canonical JSON (theorem, process, learner config,
seed), so a resumed search finds finished work and an interrupted one loses nothing
but the evaluation in flight. Writes are atomic (a hidden temp file, then a rename), so
a reader never sees half a record; leftover temp files of a killed writer are ignored.
A record that cannot be read (not UTF-8, not JSON, not the record its name says) is
reported with its path and treated as missing, so it is recomputed, never trusted.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from theory._json import load_json
from theory._spec import canonical_json, digest
from theory.errors import SithError


class CorruptRecordWarning(UserWarning):
    """A store file could not be read; it is ignored (and recomputed when needed)."""


class ResultStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.dir = self.root / "evaluations"
        self.dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(spec: dict[str, Any]) -> str:
        return digest(spec, length=20)

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self.path(key)
        return _read(path, key) if path.exists() else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        write_atomic(self.path(key), canonical_json({**record, "key": key}))

    def _files(self) -> list[Path]:
        return sorted(p for p in self.dir.glob("*.json") if not p.name.startswith("."))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for path in self._files():
            record = _read(path, path.stem)
            if record is not None:
                yield record

    def __len__(self) -> int:
        return len(self._files())


def _read(path: Path, key: str) -> dict[str, Any] | None:
    try:
        record = load_json(path.read_bytes(), what=str(path))
        if not isinstance(record, dict) or record.get("key") != key or not _intact(record):
            raise SithError("it is not the record its name says")
    except (OSError, SithError) as err:
        warnings.warn(
            f"ignoring unreadable store record {path}: {err}", CorruptRecordWarning, stacklevel=3
        )
        return None
    return record


def _intact(record: dict[str, Any]) -> bool:
    """Does the record's own spec (theorem, process, learner, seed) hash to its key?

    Records written by other tools (no spec fields) are taken as they are."""
    spec_fields = ("theorem", "process", "learner", "seed")
    if not all(k in record for k in spec_fields):
        return True
    return ResultStore.key({k: record[k] for k in spec_fields}) == record["key"]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["CorruptRecordWarning", "ResultStore", "write_atomic"]
