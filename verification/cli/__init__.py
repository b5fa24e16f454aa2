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

from verification.cli._group import COMMANDS, SithGroup, main

__all__ = ["COMMANDS", "SithGroup", "main"]
