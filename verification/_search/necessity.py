"""The necessity table: for each assumption, what happened where it alone was violated.

A gap whose evaluation violates one assumption and satisfies all the others shows that
this one assumption was not needed for the claim on that process; evaluations where it
alone was violated and the claim failed are consistent with it being needed. Per
assumption of the theorem the table gives those evaluations, how many recovered, the
recovery rate with its 95% Wilson interval, and a plain verdict:

- ``not-needed-here``: the lone violation was recovered often enough that the lower
  95% bound of the rate exceeds the search's ``min_rate`` (the rule that keeps a
  counterexample), e.g. "recovered on 9/9 with tau_kappa=3.0";
- ``needed-here``: its lone violations were not recovered (or too rarely to confirm);
- ``untested``: no evaluation violated it alone (the space cannot, or the budget did
  not reach it; the note says which).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from verification._runs import Evaluation
from verification._search.records import wilson_interval
from verification.spaces import SearchSpace

VERDICTS = ("not-needed-here", "needed-here", "untested")
LEVEL = 0.95


def table(
    assumptions: Sequence[str],
    records: Iterable[Evaluation],
    space: SearchSpace,
    min_rate: float,
) -> list[dict[str, Any]]:
    """One row per assumption (the theorem's order); see the module docstring."""
    pinnable = space.single_violations()
    rows = []
    records = [e for e in records if not e.failed]
    for name in assumptions:
        alone = [e for e in records if tuple(e.violated) == (name,)]
        recovered = [e for e in alone if e.recovered]
        low, high = wilson_interval(len(recovered), len(alone))
        rate = {
            "value": len(recovered) / len(alone) if alone else None,
            "low": low if alone else None,
            "high": high if alone else None,
            "level": LEVEL,
        }
        if not alone:
            verdict = "untested"
            note = (
                "no evaluation violated it alone within the budget"
                if name in pinnable
                else "the search space cannot violate it alone"
            )
        elif recovered and low > min_rate:
            verdict = "not-needed-here"
            note = f"recovered on {len(recovered)}/{len(alone)}" + _with(recovered, name, space)
        else:
            verdict = "needed-here"
            note = f"not recovered on {len(alone) - len(recovered)}/{len(alone)}" + _with(
                alone, name, space
            )
            if recovered:
                note += (
                    f"; recovered on {len(recovered)}, too rarely to confirm (lower 95% "
                    f"bound {low:.2f} <= {min_rate:g})"
                )
        rows.append(
            {
                "assumption": name,
                "evaluations": len(alone),
                "recovered": len(recovered),
                "rate": rate,
                "verdict": verdict,
                "note": note,
            }
        )
    return rows


def _with(evaluations: list[Evaluation], name: str, space: SearchSpace) -> str:
    """' with tau_kappa=3.0, 2.0': the values that put these evaluations outside ``name``."""
    shown: list[str] = []
    for entry in space.outside or ():
        if name not in entry.assumptions:
            continue
        hits = [e for e in evaluations if _taken(e.params.get(entry.axis), entry.value)]
        if hits:
            shown.append(f"{entry.axis}={entry.value}")
    return f" with {', '.join(shown)}" if shown else ""


# search-space family names whose process family (class name) is spelled otherwise
_FAMILY_ALIASES = {"vmf": "vonmisesfisher", "segmentednormal": "segmented"}


def _taken(param: Any, value: Any) -> bool:
    """Whether an evaluation's parameter ``param`` is the axis value ``value``: learner
    options compare as values; families as names (``"invertible-mlp"`` in a space is the
    process family ``"InvertibleMLP"``)."""
    if isinstance(param, bool) or isinstance(value, bool):
        return param is value
    if param == value:
        return True
    if isinstance(param, str) and isinstance(value, str):
        key = value.replace("-", "").lower()
        return param.lower() == _FAMILY_ALIASES.get(key, key)
    return param == value


__all__ = ["VERDICTS", "table"]
