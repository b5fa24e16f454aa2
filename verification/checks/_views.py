"""Assumptions about the mixing on a multi-view process: decided once per view.

A process with a view-specific mixing for the positive view (``Process.view_mixing``:
x = g1(z), x' = g2(z'), Daunhawer et al. 2023; Yao et al. 2024) has two mechanisms,
and an assumption about "the" mixing (``Assumption.about_mixing``: injective, immersion,
Jacobian conditions) is an assumption about each of them. :func:`each_view` decides it
on every view's single-view process (``Process.single_view``: same latent, conditional
and sample points, that view's mixing) and reports the worst verdict, its statistic
and witness, the witness naming the view (``{"view": "view_mixing", ...}``), and every
view's verdict in the message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from verification.evidence import Evidence

# worst first: a violation in any view violates the assumption; a view the numerics
# cannot decide leaves it undecided; "holds" in one view and "proved" in the other is
# evidence, not proof
SEVERITY = {"violated": 4, "inconclusive": 3, "not-applicable": 2, "holds": 1, "proved": 0}


def each_view(assumption: Any, ctx: Any, decide: Callable[[Any, Any], Evidence]) -> Evidence:
    """``decide(assumption, view_ctx)`` for every view of ``ctx.process``; the worst.

    Every view is checked at the same sample points z (one latent); each gets its own
    context (caches such as the sympy form are per mixing)."""
    results = []
    for index, (field, mixing) in enumerate(ctx.process.views, 1):
        view_ctx = dataclasses.replace(
            ctx, process=ctx.process.single_view(field), _cache={"z": ctx.z}
        )
        label = f"view {index} ({field} {mixing.family})"
        results.append((label, field, decide(assumption, view_ctx)))
    worst = max(range(len(results)), key=lambda i: SEVERITY[results[i][2].verdict])
    label, field, evidence = results[worst]
    others = [
        f"{lab}: {ev.verdict} ({ev.message})"
        for i, (lab, _, ev) in enumerate(results)
        if i != worst
    ]
    message = f"{label}: {evidence.message}" + "".join(f"; {o}" for o in others)
    witness = None if evidence.witness is None else {"view": field, **evidence.witness}
    return dataclasses.replace(evidence, message=message, witness=witness)


__all__ = ["SEVERITY", "each_view"]
