"""An alignment's result: its models, every pair's agreement, each model against the truth,
and a summary statement computed from them (the ``sith.align/1`` document).

The summary answers the question of the Platonic Representation Hypothesis (Huh et al.
2024) in the terms of identifiability theory: do the models that recover the latents
(up to the theorem's claim) agree with each other, do the ones that do not, and does a
pair's agreement rise with how well its two models recover the truth?
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scipy import stats

from theory.errors import InvalidArgument
from verification import provenance

SCHEMA = "sith.align/1"
SCHEMA_FILE = Path(__file__).parent.parent / "schemas" / "align.schema.json"
GROUPS = ("recovered", "mixed", "not-recovered")
MIN_PAIRS_FOR_RHO = 6  # a rank correlation over fewer pairs says little


def pair_group(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """``recovered`` (both models recover the latents), ``not-recovered`` (neither),
    ``mixed``; None when either has no verdict (an error)."""
    if a.get("recovered") is None or b.get("recovered") is None:
        return None
    if a["recovered"] and b["recovered"]:
        return "recovered"
    if not a["recovered"] and not b["recovered"]:
        return "not-recovered"
    return "mixed"


def _spread(values: list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "pairs": len(values),
    }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def summarise(
    models: list[dict[str, Any]],
    pairs: list[dict[str, Any]],
    truth: list[dict[str, Any]],
    claim: dict[str, Any],
    aligned_score: str,
) -> dict[str, Any]:
    """Agreement by group of pairs, its rank correlation with the pairs' recovery of the
    truth, and one statement saying both (every number computed here)."""
    truth_of = {t["model"]: t.get("aligned") for t in truth}
    groups: dict[str, dict[str, Any]] = {}
    for score in ("cka", "mutual_knn", "aligned"):
        for group in GROUPS:
            values = [
                p[score]
                for p in pairs
                if p.get("group") == group and isinstance(p.get(score), (int, float))
            ]
            groups.setdefault(group, {})[score] = _spread(values)
    # does agreement rise as both models approach the truth? pair score vs the worse model's
    xs, ys = [], []
    for p in pairs:
        ta, tb = truth_of.get(p["a"]), truth_of.get(p["b"])
        if isinstance(p.get("cka"), (int, float)) and ta is not None and tb is not None:
            xs.append(min(ta, tb))
            ys.append(p["cka"])
    rho = None
    if len(xs) >= MIN_PAIRS_FOR_RHO and len(set(xs)) > 1 and len(set(ys)) > 1:
        rho = float(stats.spearmanr(xs, ys).statistic)
        rho = rho if math.isfinite(rho) else None
    recovered = [m for m in models if m.get("recovered")]
    judged = [m for m in models if m.get("recovered") is not None]
    parts = [
        f"{len(recovered)} of {len(judged)} models recover the latents "
        f"({claim['name']} {'≥' if claim.get('higher_is_better', True) else '≤'} "
        f"{claim['threshold']})."
    ]
    wording = {
        "recovered": "pairs of models that both recover them agree",
        "mixed": "pairs where one recovers and one does not agree",
        "not-recovered": "pairs where neither recovers agree",
    }
    said = []
    for group in GROUPS:
        cka = groups[group]["cka"]
        aligned = groups[group]["aligned"]
        if cka is None:
            continue
        text = (
            f"{wording[group]} at median CKA {_fmt(cka['median'])} "
            f"(range {_fmt(cka['min'])}–{_fmt(cka['max'])}, {cka['pairs']} pairs)"
        )
        if aligned is not None:
            text += f" and {aligned_score} {_fmt(aligned['median'])}"
        said.append(text)
    if said:
        first, *rest = said
        parts.append(first[0].upper() + first[1:] + ("; " + "; ".join(rest) if rest else "") + ".")
    if rho is not None:
        parts.append(
            f"Across {len(xs)} pairs, CKA between two models rises with the worse model's "
            f"recovery of the truth at Spearman ρ = {rho:.2f}."
            if rho > 0
            else f"Across {len(xs)} pairs, CKA between two models does not rise with the "
            f"worse model's recovery of the truth (Spearman ρ = {rho:.2f})."
        )
    unscored = [m["id"] for m in models if m.get("recovered") is None]
    if unscored:
        parts.append(f"{len(unscored)} model(s) failed to train and are left out.")
    return {"groups": groups, "spearman_cka_vs_truth": rho, "statement": " ".join(parts)}


@dataclass
class AlignResult:
    """What ``align`` returns (and writes as ``OUT/align.json``).

    ``models``: one entry per trained model (learner, setting, seed, whether it recovers
    the latents per the theorem's claim on recover's held-out set, and whether the
    learner is inside the theorem's learner assumptions). ``pairs``: every pair of
    models of the same process with its scores (``verification._align.pairwise``).
    ``truth``: every model against the true latents (the content block for a block
    claim), with the same scores. ``summary``: the computed statement.
    """

    theorem: str
    claim: dict[str, Any]
    learners: list[str]
    vary: dict[str, Any]
    seeds: list[int]
    n_eval: int
    k: int
    aligned_score: str
    oracle: bool
    executor: dict[str, Any]
    models: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    new_models: int = 0
    seconds: float = 0.0
    out: Path | None = None
    provenance: dict[str, Any] | None = None  # what produced it (verification/provenance.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "theorem": self.theorem,
            "claim": self.claim,
            "learners": list(self.learners),
            "vary": self.vary,
            "seeds": list(self.seeds),
            "n_eval": self.n_eval,
            "k": self.k,
            "aligned_score": self.aligned_score,
            "oracle": self.oracle,
            "executor": self.executor,
            "status": self.status,
            "new_models": self.new_models,
            "seconds": round(self.seconds, 3),
            "models": self.models,
            "pairs": self.pairs,
            "truth": self.truth,
            "summary": self.summary,
            "provenance": self.provenance or provenance.collect(seed=list(self.seeds)),
        }

    def to_frame(self, which: str = "pairs"):
        """``pairs``, ``truth`` or ``models`` as a pandas DataFrame (the ``frames`` extra)."""
        from verification.executors import require_extra

        pandas = require_extra("pandas", "frames", "AlignResult.to_frame")
        if which not in ("pairs", "truth", "models"):
            raise InvalidArgument(f"which must be pairs, truth or models, got {which!r}")
        return pandas.DataFrame(getattr(self, which))


__all__ = ["GROUPS", "SCHEMA", "SCHEMA_FILE", "AlignResult", "pair_group", "summarise"]
