"""sith.verification — the numeric side: checks, learners, metrics, search.

Public facade::

    from verification import check
    check(th.assumptions.Conformal(), process)      # -> Evidence
    check(th.theorems.get("cl-ica"), process)       # -> EvidenceSet
"""

from verification.checks import check
from verification.evidence import Evidence, EvidenceSet
from verification.recovery import RecoveryResult, recover

__all__ = ["Evidence", "EvidenceSet", "RecoveryResult", "check", "recover"]
