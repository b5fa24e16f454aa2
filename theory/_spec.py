"""Specs: theory objects that serialise to canonical JSON and back.

Every latent, conditional, mixing and assumption is a dataclass whose *init fields*
fully determine it (derived tensors are recomputed from them, e.g. from a seed). A
registry per kind maps the class name back to the class, so ``from_dict(to_dict(x))``
rebuilds an equal object and a Process can be stored, hashed and reproduced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, ClassVar

import numpy as np

from theory.errors import InvalidProcess, SithError


def _plain(value: Any) -> Any:
    """Convert numpy/torch/tuple values into JSON-ready Python values."""
    if isinstance(value, Spec):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "detach") and hasattr(value, "tolist"):  # torch tensors
        return value.detach().cpu().tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def canonical_json(data: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace; the basis of every hash."""
    return json.dumps(_plain(data), sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(data: Any, length: int = 16) -> str:
    """Short sha256 hex digest of the canonical JSON of ``data``."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()[:length]


class Spec:
    """Mixin for dataclass specs with a per-kind registry (``kind`` set by the base).

    Registry keys: sith's own classes (defined in ``theory``) are known by their class
    name ("Linear"); any other class by its qualified name ("paper.TwistMap"), so a user
    class can never take over a built-in name, and a file naming a user class says which
    module defines it. The base class of a kind (the one that sets ``kind``) is not
    registered: it cannot be built from a file.
    """

    kind: ClassVar[str] = "spec"
    _registry: ClassVar[dict[str, dict[str, type]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_") or "kind" in cls.__dict__:
            return
        Spec._registry.setdefault(cls.kind, {})[type_name(cls)] = cls

    def params(self) -> dict[str, Any]:
        """The init fields that determine this object, as plain JSON values."""
        return {
            f.name: _plain(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.init
        }

    def to_dict(self) -> dict[str, Any]:
        return {"type": type_name(type(self)), **self.params()}

    @classmethod
    def from_dict(cls, data: Any) -> Spec:
        """Rebuild an object of this kind from :meth:`to_dict` output.

        ``data`` is untrusted (it may come from someone else's file): anything that is
        not a known type with valid parameters raises :class:`InvalidProcess` naming
        the problem; nothing is imported or executed.
        """
        if not isinstance(data, dict):
            raise InvalidProcess(
                f"a {cls.kind} must be a JSON object with a 'type' key, got {_kind_of(data)}"
            )
        name = data.get("type")
        if not isinstance(name, str):
            raise InvalidProcess(f"a {cls.kind} needs a 'type' string, got {_kind_of(name)}")
        registry = Spec._registry.get(cls.kind, {})
        target = registry.get(name)
        if target is None:
            raise InvalidProcess(_unknown_type_message(cls.kind, name, registry))
        if not dataclasses.is_dataclass(target):
            raise InvalidProcess(f"{cls.kind} type {name!r} cannot be built from a file")
        params = {k: v for k, v in data.items() if k != "type"}
        accepted = target.file_fields()
        unknown = sorted(set(params) - accepted)
        if unknown:
            raise InvalidProcess(
                f"{cls.kind} {name}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
                f"accepted: {', '.join(sorted(accepted)) or 'none'}"
            )
        try:
            return target._from_params(params)
        except SithError:
            raise
        except (TypeError, ValueError, ArithmeticError, KeyError, IndexError) as err:
            raise InvalidProcess(f"{cls.kind} {name}: {type(err).__name__}: {err}") from None

    @classmethod
    def file_fields(cls) -> set[str]:
        """The keys a file may give (default: the dataclass's init fields)."""
        return {f.name for f in dataclasses.fields(cls) if f.init}

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Spec:
        return cls(**params)


def type_name(cls: type) -> str:
    """The registry key of a spec class (see :class:`Spec`)."""
    if cls.__module__ == "theory" or cls.__module__.startswith("theory."):
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def _kind_of(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _unknown_type_message(kind: str, name: str, registry: dict[str, type]) -> str:
    builtin = ", ".join(sorted(k for k in registry if "." not in k))
    if "." in name:
        module = name.rsplit(".", 1)[0]
        return (
            f"unknown {kind} type {name!r}: it is defined in module {module!r}, which is not "
            f"imported; import it first (CLI: sith --import {module} ...)"
        )
    return f"unknown {kind} type {name!r}; known: {builtin}"
