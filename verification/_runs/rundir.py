"""Run directories: one kind of run per directory, locked while it runs.

Each kind leaves its document in its directory, and that document marks the directory
as that kind's (:data:`DOCUMENTS`): ``run.json`` a search's, ``sweep.json`` a sweep's,
``align.json`` an alignment's. A run refuses a directory another kind has marked, in
one line naming both (a sweep into an alignment's folder would otherwise overwrite its
report.md and share its store unasked). A directory in use is refused at once, naming
the process that holds it; the lock (flock) dies with its process, so it never goes
stale.

The default directory of a run (``runs/KIND-NAME-HASH``, :func:`default_directory`)
hashes its normalised settings, so the same run however spelled is one directory and
rerunning it resumes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from theory._spec import digest
from theory.errors import RunDirectoryError
from verification._files import write_atomic
from verification._runs.store import ResultStore

try:  # POSIX advisory locks; elsewhere the directory is not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

#: the document that marks a directory as each kind's
DOCUMENTS = {"search": "run.json", "sweep": "sweep.json", "align": "align.json"}
#: a kind's figures, Markdown and HTML, each drawn or rendered from its document:
#: ``(render_plots(doc, folder, formats), render_markdown(doc, figures), render_html(...))``
Renderers = tuple[
    Callable[[dict[str, Any], Path, Sequence[str]], list[Path]],
    Callable[[dict[str, Any], list[str]], str],
    Callable[[dict[str, Any], list[str]], str],
]
#: each kind as its document is named in a sentence
NAMES = {"search": "a search", "sweep": "a sweep", "align": "an alignment"}
#: the kinds that can share another directory's store (``--store DIR``)
SHARE_STORE = frozenset({"sweep", "align"})


def hold_lock(root: Path, what: str) -> int | None:
    """Take ROOT/.lock (flock, non-blocking) for one ``what`` ("search", "sweep") and
    write this pid into it; returns the descriptor whose closing releases it (None where
    there are no POSIX locks). A lock held by a live process is refused, naming its pid;
    a dead holder's lock is released by the kernel, so it never goes stale."""
    if fcntl is None:
        return None
    path = root / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = path.read_text(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunDirectoryError(
            f"{root} is in use by another {what} (pid {holder}); wait for it, or "
            "choose another --out"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def refuse_other_kinds(root: Path, kind: str) -> None:
    """Refuse ``root`` when another kind of run has marked it (:data:`DOCUMENTS`)."""
    for other, name in DOCUMENTS.items():
        if other != kind and (root / name).exists():
            share = (
                f", and pass --store {root} to share its evaluations" if kind in SHARE_STORE else ""
            )
            raise RunDirectoryError(
                f"{root} holds {NAMES[other]} ({name}); {kind} into another --out{share}"
            )


class LockedDirectory:
    """The OUT directory of one ``KIND`` of run: created on ``open``, refused when another
    kind has marked it (:func:`refuse_other_kinds`), locked (:func:`hold_lock`) until
    ``close``. ``check_existing`` refuses what a previous run of this kind left there.
    ``store``: the result store's root when it is not OUT; ``formats``: vector copies of
    the figures ("pdf", "svg")."""

    KIND: str  # "search", "sweep" or "align": each kind's directory names its own

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        store: str | os.PathLike | None = None,
        formats: Sequence[str] = (),
    ) -> None:
        self.root = Path(root)
        self._fd: int | None = None
        self._store: ResultStore | None = None
        # the result store's root: another directory's (shared results), else this one
        self.store_root = Path(store) if store is not None else self.root
        self.figure_formats = tuple(formats)  # vector copies of the figures (pdf, svg)

    @property
    def document(self) -> Path:
        """The document this kind writes (and that marks the directory as its own)."""
        return self.root / DOCUMENTS[self.KIND]

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def store(self) -> ResultStore:
        """The result store (at ``store_root``), made on first use."""
        if self._store is None:
            self._store = ResultStore(self.store_root)
        return self._store

    def write_document(
        self, doc: dict[str, Any], renderers: Renderers, *, figures: bool
    ) -> dict[str, Any]:
        """Write this kind's document ``doc``, its figures when ``figures`` (drawn from
        the document), and report.md and report.html linking them; return ``doc``."""
        draw, markdown, page = renderers
        write_atomic(self.document, json.dumps(doc, indent=2, allow_nan=False))
        drawn = draw(doc, self.figures, self.figure_formats) if figures else []
        listed = [f"figures/{path.name}" for path in drawn]
        write_atomic(self.root / "report.md", markdown(doc, listed))
        write_atomic(self.root / "report.html", page(doc, listed))
        return doc

    def open(self) -> LockedDirectory:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunDirectoryError(
                f"cannot create the {self.KIND} directory {self.root}: {err.strerror or err}"
            ) from None
        refuse_other_kinds(self.root, self.KIND)
        self.check_existing()
        self._fd = hold_lock(self.root, self.KIND)
        return self

    def check_existing(self) -> None:
        """Refuse a directory a previous run of this kind left unusable (default: none)."""

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None

    def __enter__(self) -> LockedDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_directory(kind: str, name: str, settings: Mapping[str, Any]) -> str:
    """``runs/KIND-NAME-HASH`` (a search's: ``runs/NAME-HASH``), the hash of ``settings``:
    pass them normalised (canonical keys, typed values), so one run is one directory."""
    prefix = "" if kind == "search" else f"{kind}-"
    return f"runs/{prefix}{name}-{digest(dict(settings), length=8)}"


__all__ = [
    "DOCUMENTS",
    "SHARE_STORE",
    "LockedDirectory",
    "default_directory",
    "hold_lock",
    "refuse_other_kinds",
]
