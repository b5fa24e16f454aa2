"""Evidence: what a check says, never a bare bool.

Verdicts:
- ``proved``: decided exactly by sympy within a time limit;
- ``holds``: held at N sampled points *and* survived an adversarial search — not proof;
- ``violated``: with a witness (a point, or a pair for injectivity) and its size;
- ``inconclusive``: the numerics could not decide; ``message`` says why;
- ``not-applicable``: the assumption is not about this kind of process (e.g. sufficient
  variability of a latent without an auxiliary variable); not satisfied, not violated.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from theory.errors import InvalidArgument

Verdict = Literal["proved", "holds", "violated", "inconclusive", "not-applicable"]
VERDICTS: tuple[str, ...] = ("proved", "holds", "violated", "inconclusive", "not-applicable")


@dataclass(frozen=True)
class Evidence:
    assumption: str
    verdict: Verdict
    statistic: float | None = None
    tolerance: float | None = None
    n_points: int = 0
    witness: dict[str, Any] | None = None
    method: str = ""
    message: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise InvalidArgument(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def satisfied(self) -> bool:
        """True for ``proved`` and ``holds`` (not for ``not-applicable``)."""
        return self.verdict in ("proved", "holds")

    def to_dict(self) -> dict[str, Any]:
        stat = self.statistic
        return {
            "assumption": self.assumption,
            "verdict": self.verdict,
            "statistic": None if stat is None or not math.isfinite(stat) else float(stat),
            "tolerance": self.tolerance,
            "n_points": self.n_points,
            "witness": self.witness,
            "method": self.method,
            "message": self.message,
            "seconds": round(self.seconds, 4),
        }

    def __str__(self) -> str:
        stat = "" if self.statistic is None else f", statistic={self.statistic:.3g}"
        return f"{self.assumption}: {self.verdict}{stat} ({self.method}) {self.message}".strip()


@dataclass(frozen=True)
class EvidenceSet(Sequence[Evidence]):
    """The evidence for every assumption of a theorem, in the theorem's order."""

    theorem: str
    items: tuple[Evidence, ...] = field(default_factory=tuple)

    def __getitem__(self, index):  # type: ignore[override]
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Evidence]:
        return iter(self.items)

    @property
    def all_satisfied(self) -> bool:
        return all(e.satisfied for e in self.items)

    @property
    def violated(self) -> list[Evidence]:
        return [e for e in self.items if e.verdict == "violated"]

    def to_dict(self) -> dict[str, Any]:
        return {"theorem": self.theorem, "evidence": [e.to_dict() for e in self.items]}


__all__ = ["VERDICTS", "Evidence", "EvidenceSet", "Verdict"]
