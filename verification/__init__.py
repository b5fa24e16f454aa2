"""sith.verification — the numeric side: checks, learners, metrics, search.

Public facade (imported lazily, so ``import verification`` and the pytest plugin do
not pull in torch until a function is used)::

    from verification import check, recover, search
    check(th.assumptions.Conformal(), process)      # -> Evidence
    check(th.theorems.get("cl-ica"), process)       # -> EvidenceSet
    recover(th.theorems.get("cl-ica"), process)     # -> RecoveryResult
    assess("cl-ica", z, z_hat)                      # your own arrays -> RecoveryResult
    search(th.theorems.get("cl-ica"), budget=40)    # -> SearchResult
    sweep("cl-ica", vary={"train.batch_size": [64, 256]}, seeds=3)  # -> SweepResult
    align("cl-ica", learners=["infonce", "vicreg"], seeds=3)  # -> AlignResult
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "check": "verification.checks",
    "register_check": "verification.checks",
    "CheckContext": "verification.checks",
    "Evidence": "verification.evidence",
    "EvidenceSet": "verification.evidence",
    "recover": "verification.recovery",
    "assess": "verification.assessment",
    "RecoveryResult": "verification.recovery",
    "search": "verification._search",
    "SearchResult": "verification._search",
    "Counterexample": "verification._search",
    "Evaluation": "verification._search",
    "load_report": "verification._search",
    "space_for": "verification._search",
    "SearchSpace": "verification.spaces",
    "sweep": "verification._sweep",
    "SweepResult": "verification._sweep",
    "align": "verification._align",
    "AlignResult": "verification._align",
}

_SUBMODULES = (
    "strategies",
    "metrics",
    "learners",
    "jacobians",
    "errors",
    "spaces",
    "registry",
    "testing",
)

if TYPE_CHECKING:  # pragma: no cover
    from verification._align import AlignResult, align
    from verification._search import (
        Counterexample,
        Evaluation,
        SearchResult,
        load_report,
        search,
        space_for,
    )
    from verification._sweep import SweepResult, sweep
    from verification.assessment import assess
    from verification.checks import CheckContext, check, register_check
    from verification.evidence import Evidence, EvidenceSet
    from verification.recovery import RecoveryResult, recover
    from verification.spaces import SearchSpace


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"verification.{name}")
    raise AttributeError(f"module 'verification' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*_LAZY, *_SUBMODULES])


__all__ = [
    "AlignResult",
    "CheckContext",
    "Counterexample",
    "Evaluation",
    "Evidence",
    "EvidenceSet",
    "RecoveryResult",
    "SearchResult",
    "SearchSpace",
    "SweepResult",
    "align",
    "assess",
    "check",
    "load_report",
    "recover",
    "register_check",
    "search",
    "space_for",
    "sweep",
]
