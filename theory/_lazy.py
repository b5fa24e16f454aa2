"""Heavy modules (torch, scipy's) imported on first use, not when theory is imported.

``import theory`` (and the ``sith`` commands that only list or describe) must not pay
for torch: a module of theory that samples imports ``from theory._lazy import torch``
and uses it as usual (``torch.randn``, ``isinstance(x, torch.Tensor)``); the first
attribute looked up imports the real module. Type checkers see the real imports.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any


class LazyModule:
    """Stands for the module ``name`` and imports it on the first attribute access."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _module(self) -> ModuleType:
        module = sys.modules.get(self._name)
        return module if module is not None else importlib.import_module(self._name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._module(), attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:  # monkeypatching a test
        setattr(self._module(), attribute, value)

    def __delattr__(self, attribute: str) -> None:
        delattr(self._module(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._module())

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    """The module ``name``: itself when already imported, else a :class:`LazyModule`."""
    module = sys.modules.get(name)
    return module if module is not None else LazyModule(name)


if TYPE_CHECKING:  # pragma: no cover
    import torch
    from scipy import special, stats
else:
    torch = lazy("torch")
    stats = lazy("scipy.stats")
    special = lazy("scipy.special")
