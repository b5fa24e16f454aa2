"""One registration pattern for every extension point (theorems, assumptions, learners,
metrics, executors, search spaces, ...).

A :class:`Registry` is a dict from a name to a value with a guarded ``register``: an
existing name is never silently replaced (``replace=True`` says so on purpose), and a
missing name is an :class:`UnknownName` that lists the known ones. ``register`` works
as a call or as a decorator::

    learners.register("my-learner", MyLearner)

    @learners.register("my-learner")
    class MyLearner(Learner): ...

It lives in ``theory/`` because the theorem and assumption catalogues use it and
``theory`` never imports ``verification``; ``verification.registry`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, TypeVar

from theory.errors import InvalidArgument, UnknownName

T = TypeVar("T")
_MISSING = object()


class Registry(dict):
    """Named extension points of one kind (``kind`` names it in messages)."""

    def __init__(self, kind: str, items: dict | None = None) -> None:
        super().__init__(items or {})
        self.kind = kind

    def register(self, name: Hashable, value: Any = _MISSING, *, replace: bool = False):
        """Add ``value`` under ``name``; without ``value``, a decorator that adds its target."""
        if not isinstance(name, str) and not isinstance(name, type):
            raise InvalidArgument(f"{self._a} is registered under a name, got {name!r}")
        if value is _MISSING:

            def decorator(target: T) -> T:
                self.register(name, target, replace=replace)
                return target

            return decorator
        if name in self and not replace and self[name] is not value:
            shown = name if isinstance(name, str) else name.__name__
            raise InvalidArgument(
                f"{self._a} named {shown!r} is already registered; pass replace=True to replace it"
            )
        self[name] = value
        return value

    def get(self, name: Hashable, default: Any = _MISSING) -> Any:  # type: ignore[override]
        if name in self:
            return self[name]
        if default is not _MISSING:
            return default
        known = ", ".join(sorted(str(getattr(k, "__name__", k)) for k in self)) or "none"
        raise UnknownName(f"unknown {self.kind} {name!r}; known: {known}")

    @property
    def _a(self) -> str:
        """The kind with its article, for messages ("an assumption", "a theorem")."""
        return f"{'an' if self.kind[:1] in 'aeiou' else 'a'} {self.kind}"

    def names(self) -> list[str]:
        return sorted(str(getattr(k, "__name__", k)) for k in self)


__all__ = ["Registry"]
