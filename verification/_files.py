"""Files of a run directory: atomic writes (a reader sees the old file or the new one,
whole, never half) and checked reads of its JSON documents (data, never code)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from theory._json import load_json
from theory.errors import InvalidArgument


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (UTF-8) or bytes to ``path`` so that readers see the old file or the
    new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as handle:
                handle.write(text)
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_document(directory: str | os.PathLike, name: str, schema: str, kind: str) -> dict:
    """Read DIRECTORY/NAME, a JSON object whose ``schema`` is ``schema``; anything else is
    one clear InvalidArgument (``kind``: "search" or "sweep", for the message)."""
    path = Path(directory) / name
    if not path.is_file():
        raise InvalidArgument(f"no {name} in {directory} (is it a {kind}'s --out directory?)")
    try:
        doc = load_json(path.read_bytes(), what=str(path))
    except OSError as err:
        raise InvalidArgument(f"cannot read {path}: {err.strerror or err}") from None
    if not isinstance(doc, dict) or doc.get("schema") != schema:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        article = "a sith report" if kind == "search" else f"a sith {kind}"
        raise InvalidArgument(f"{path} is not {article} (schema {found!r}, expected {schema!r})")
    return doc


def require_fields(data: dict, fields: dict[str, Any], where: str) -> None:
    """Each ``fields`` key is present with its type (a bool is not an int)."""
    for key, kind in fields.items():
        value = data.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise InvalidArgument(f"{where}: field {key!r} is missing or malformed")


__all__ = ["read_document", "require_fields", "write_atomic"]


def figures_of(out: str | Path | None) -> list[str]:
    """The PNG figures of a run directory, as the reports link them (``figures/NAME.png``,
    sorted); none when there is no directory or no figures folder."""
    if out is None or not (Path(out) / "figures").is_dir():
        return []
    return sorted(f"figures/{p.name}" for p in (Path(out) / "figures").glob("*.png"))
