"""Load users' code: ``--import`` modules and ``FILE.py:ATTR`` objects (``--process``).

This is the one place where sith runs code a user names, and only code (``.py`` files
and modules), never data: process JSON, stores and reports are parsed, not imported.

A file ``path/to/paper.py`` is imported as the module ``paper`` with its folder on
``sys.path`` (so it can import its sibling modules), exactly as ``python -c "import
paper"`` would from that folder; classes it defines are then known to process files
as ``paper.ClassName``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from theory.errors import InvalidArgument

IMPORT_ENV = "SITH_IMPORT"


class LoadError(InvalidArgument):
    """A user file, module or attribute could not be loaded; the message says why."""


def import_user(target: str) -> ModuleType:
    """Import a module by file path (``paper.py``) or dotted name (``mypkg.theorems``)."""
    if target.endswith(".py") or os.sep in target or "/" in target:
        return _import_file(Path(target))
    if not all(part.isidentifier() for part in target.split(".")):
        raise LoadError(f"--import expects a .py file or a module name, got {target!r}")
    try:
        found = importlib.util.find_spec(target)
    except (ImportError, ValueError):  # a parent package is missing
        found = None
    if found is None:
        raise LoadError(f"no module named {target!r} (is it installed, or a .py file?)")
    module = _run_import(lambda: importlib.import_module(target), target)
    if target not in _IMPORTED_MODULES:
        _IMPORTED_MODULES.append(target)
    return module


ENTRY_POINT_GROUP = "sith.catalogue"


def load_catalogue_entry_points() -> list[str]:
    """Load every ``sith.catalogue`` entry point of the installed packages (as pytest
    loads ``pytest11``): each names a module (or an object in one) that registers
    theorems, assumptions, checks, mixings, learners or search spaces when imported; a
    callable entry is called with no arguments. Returns the names loaded."""
    from importlib.metadata import entry_points

    loaded = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        label = f"entry point {entry.name!r} ({entry.value})"
        value = _run_import(entry.load, label)
        if callable(value) and not isinstance(value, ModuleType):
            _run_import(value, label)
        loaded.append(entry.name)
    return loaded


def import_from_env(environ: dict[str, str] | None = None) -> list[ModuleType]:
    """Import every entry of ``SITH_IMPORT`` (separated like PATH: ``os.pathsep``)."""
    value = (environ if environ is not None else os.environ).get(IMPORT_ENV, "")
    return [import_user(item) for item in value.split(os.pathsep) if item.strip()]


def load_installed(imports: tuple[str, ...] | list[str] = ()) -> None:
    """What every front door (CLI, pytest plugin, remote worker) loads before it looks a
    name up: the installed ``sith.catalogue`` entry points, then ``$SITH_IMPORT``, then
    each of ``imports`` (modules or ``.py`` files)."""
    load_catalogue_entry_points()
    import_from_env()
    for target in imports:
        import_user(target)


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise LoadError(f"file not found: {path}")
    if path.suffix != ".py":
        raise LoadError(f"cannot import {path}: not a .py file")
    resolved = path.resolve()
    name = resolved.stem
    if not name.isidentifier():
        raise LoadError(f"cannot import {path}: {name!r} is not a valid module name")
    existing = sys.modules.get(name)
    if existing is not None:
        existing_file = getattr(existing, "__file__", None)
        if existing_file and Path(existing_file).resolve() == resolved:
            return existing
    if existing is not None and name not in _LOADED_FILES:
        raise LoadError(
            f"cannot import {path} as module {name!r}: a different module of that name "
            f"is already imported ({existing_file or 'built in'}); rename the file"
        )
    folder = str(resolved.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        _run_import(lambda: spec.loader.exec_module(module), str(path))
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _LOADED_FILES[name] = resolved
    return module


def loaded_file(module: str) -> str | None:
    """The file a user module was imported from by :func:`import_user`, if it was."""
    path = _LOADED_FILES.get(module)
    return None if path is None else str(path)


def find_user_object(name: str, kind: type) -> Any | None:
    """A module-level object of ``kind`` whose ``.name`` is ``name``, in the modules the
    user imported (``--import`` / ``--process``): a paper's theorem or assumption need
    not be registered for ``sith check|recover NAME`` to find it."""
    for module_name in list(_LOADED_FILES) + list(_IMPORTED_MODULES):
        module = sys.modules.get(module_name)
        for value in vars(module).values() if module is not None else ():
            if isinstance(value, kind) and getattr(value, "name", None) == name:
                return value
    return None


# modules this process imported by name through import_user
_IMPORTED_MODULES: list[str] = []

# modules this process imported from files: another file of the same name replaces one
# (tests, or a user loading specs from several folders), a real module is never replaced
_LOADED_FILES: dict[str, Path] = {}


def _run_import(load, label: str):
    """Run an import; its failure (even ``sys.exit``) becomes one LoadError line."""
    try:
        return load()
    except LoadError:
        raise
    except SystemExit as err:
        raise LoadError(f"importing {label} called sys.exit({err.code!r})") from None
    except Exception as err:  # the user's code failed: report it in one line
        raise LoadError(f"error while importing {label}: {type(err).__name__}: {err}") from err


def load_attribute(spec: str) -> Any:
    """``path/to/file.py:name`` -> the object bound to ``name`` in that file."""
    if ":" not in spec:
        raise LoadError(f"expected FILE.py:ATTR, got {spec!r}")
    path_text, attr = spec.rsplit(":", 1)
    module = import_user(path_text)
    if not hasattr(module, attr):
        public = ", ".join(n for n in vars(module) if not n.startswith("_"))
        raise LoadError(f"{path_text} has no attribute {attr!r} (it defines: {public})")
    return getattr(module, attr)
