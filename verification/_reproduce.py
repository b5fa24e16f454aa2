"""The one place that writes "reproduce:" command lines (search reports, pytest plugin).

A reproduce line must run as printed, also for a paper's own theorem, assumption or
mixing: it carries an ``--import`` for every user module that defines something the
command needs (the theorem's module, the classes and Torch mixings in the process).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable
from typing import Any

from theory._spec import Spec
from verification._loading import loaded_file


def command(
    verb: str,
    name: str,
    *,
    process_path: str,
    seed: int,
    process: dict[str, Any] | None = None,
    defined_in: Iterable[str] = (),
    options: dict[str, Any] | None = None,
    extra: Iterable[str] = (),
) -> str:
    """``sith [--import M ...] VERB NAME --process PATH --seed S [--set K=V ...] [extra]``."""
    modules = [*defined_in, *_process_modules(process or {})]
    parts = ["sith"]
    for target in _import_targets(modules):
        parts += ["--import", target]
    parts += [verb, name, "--process", process_path, "--seed", str(seed)]
    for key, value in (options or {}).items():
        parts += ["--set", f"{key}={value}"]
    parts += list(extra)
    return shlex.join(parts)


def _process_modules(data: Any) -> list[str]:
    """Modules that define the user classes (and Torch mixings) named in a process dict."""
    found: list[str] = []
    if isinstance(data, dict):
        kind_name = data.get("type")
        if isinstance(kind_name, str) and "." in kind_name:
            for registry in Spec._registry.values():
                if kind_name in registry:
                    found.append(registry[kind_name].__module__)
        if kind_name == "Torch" and isinstance(data.get("name"), str):
            found.append(data["name"].rsplit(".", 1)[0])
        for value in data.values():
            found += _process_modules(value)
    elif isinstance(data, list):
        for value in data:
            found += _process_modules(value)
    return found


def _import_targets(modules: Iterable[str]) -> list[str]:
    """What to pass to ``--import`` for each user module (sith's own need none)."""
    targets: list[str] = []
    for module in modules:
        if module.split(".")[0] in ("theory", "verification", "__main__", "builtins"):
            continue
        target = loaded_file(module)
        if target is None:
            mod = sys.modules.get(module)
            path = getattr(mod, "__file__", None)
            target = path if path and "." not in module else module
        if target not in targets:
            targets.append(target)
    return targets


__all__ = ["command"]
