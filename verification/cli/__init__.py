"""The ``sith`` command line: check assumptions and theorems, recover, search, sweep,
align, report, list the catalogue.

Thin by design: every command calls the same functions a Python user calls. One module
per command (``check``, ``recover``, ``search``, ``sweep``, ``align``, ``report``,
``cite``, ``theorems``, ``assumptions``, ``learners``), each owning its options;
options shared by several commands are defined once in ``_options``; the group
(``_group``) imports a command's module only when it runs or its help is needed, and
nothing imports torch before a command computes.
"""

from __future__ import annotations

import importlib
import sys  # noqa: F401 - kept as an attribute: tests patch ``cli.sys.stderr``
from typing import Any

from verification.cli._group import COMMANDS, SithGroup, main

# names that lived in the single-module CLI, served from their new homes on first use
_MOVED = {
    "th": ("theory", None),
    "_SearchProgress": ("verification.cli._progress", "SearchProgress"),
    "_cell": ("verification.cli._common", "cell"),
    "_m": ("verification.cli._common", "m"),
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        module_name, attribute = _MOVED[name]
        module = importlib.import_module(module_name)
        return module if attribute is None else getattr(module, attribute)
    raise AttributeError(f"module 'verification.cli' has no attribute {name!r}")


__all__ = ["COMMANDS", "SithGroup", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
