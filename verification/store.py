"""Result store: one JSON file per evaluation, written as soon as it finishes.

Keys are hashes of the evaluation's canonical JSON (theorem, process, learner config,
seed), so a resumed search finds finished work and an interrupted one loses nothing
but the evaluation in flight. Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from theory._spec import canonical_json, digest


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
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:  # a torn file from a crash: treat as missing
            return None

    def put(self, key: str, record: dict[str, Any]) -> None:
        write_atomic(self.path(key), canonical_json(record))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for path in sorted(self.dir.glob("*.json")):
            try:
                yield json.loads(path.read_text())
            except json.JSONDecodeError:
                continue

    def __len__(self) -> int:
        return sum(1 for _ in self.dir.glob("*.json"))


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


__all__ = ["ResultStore", "write_atomic"]
