"""Load user objects named as ``FILE.py:ATTR`` (the CLI's --process option)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any


class LoadError(ValueError):
    """A user file or attribute could not be loaded; the message says why."""


def load_attribute(spec: str) -> Any:
    """``path/to/file.py:name`` -> the object bound to ``name`` in that file."""
    if ":" not in spec:
        raise LoadError(f"expected FILE.py:ATTR, got {spec!r}")
    path_text, attr = spec.rsplit(":", 1)
    path = Path(path_text)
    if not path.is_file():
        raise LoadError(f"file not found: {path}")
    module_name = f"_sith_user_{abs(hash(path.resolve()))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise LoadError(f"cannot import {path} (is it a .py file?)")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as err:  # the user's file failed: report it in one line
        raise LoadError(f"error while running {path}: {type(err).__name__}: {err}") from err
    if not hasattr(module, attr):
        public = ", ".join(n for n in vars(module) if not n.startswith("_"))
        raise LoadError(f"{path} has no attribute {attr!r} (it defines: {public})")
    return getattr(module, attr)
