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
    """Mixin for dataclass specs with a per-kind registry (``kind`` set by the base)."""

    kind: ClassVar[str] = "spec"
    _registry: ClassVar[dict[str, dict[str, type]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            Spec._registry.setdefault(cls.kind, {})[cls.__name__] = cls

    def params(self) -> dict[str, Any]:
        """The init fields that determine this object, as plain JSON values."""
        return {
            f.name: _plain(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.init
        }

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, **self.params()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Spec:
        """Rebuild an object of this kind from :meth:`to_dict` output."""
        if not isinstance(data, dict) or "type" not in data:
            raise ValueError(f"a {cls.kind} spec must be a dict with a 'type' key, got {data!r}")
        registry = Spec._registry.get(cls.kind, {})
        name = data["type"]
        if name not in registry:
            known = ", ".join(sorted(registry))
            raise ValueError(f"unknown {cls.kind} type {name!r}; known: {known}")
        params = {k: v for k, v in data.items() if k != "type"}
        return registry[name]._from_params(params)

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Spec:
        return cls(**params)
