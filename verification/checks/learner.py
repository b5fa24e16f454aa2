"""Learner conditions: a theorem's assumptions about what is trained, and how.

Decided exactly from the learner's configuration and the process (``proved`` or
``violated``, method ``"config"``); nothing is trained. Without a learner (a single
assumption checked with no ``learner=``) the question has no answer and the check says
so instead of guessing.

- objective: the learner's registered objective is one the theorem is about;
- matched temperature (Zimmermann et al. 2021, Thm 2): cosine critic on the sphere,
  |τ κ − 1| <= rtol for the vMF concentration κ of the conditional, or any τ with a
  learnable output radius r (r² = τκ at the minimiser);
- matched lp critic (Zimmermann et al. 2021, convex bodies): the conditional is an
  L^α-exponential law (a generalized normal, or Laplace α = 1, Normal α = 2) with α ≥ 1,
  α ≠ 2, and the critic's distance is the conditional's (lp-power ‖·‖_p^p at p = α; the
  lp metric ‖·‖_p only at p = α = 1);
- squared-Euclidean critic (von Kügelgen et al. 2021, App. D; Daunhawer et al. 2023,
  Eq. 5): sim(a, b) = −‖a − b‖₂² at τ = 1, the estimator of alignment minus entropy;
- content-sized encoder (von Kügelgen et al. 2021, Thm 4.4): dim f(x) = n_c;
- enough features (Hyvärinen & Morioka 2016, Thm 1): dim h(x) = n, as the theorem states.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import theory as th
from theory import learner_conditions as LC
from theory.errors import InvalidArgument
from verification.checks._core import CheckContext, check, register_check
from verification.checks._evidence import settled
from verification.evidence import Evidence

METHOD = "config"


def _learner(assumption: LC.LearnerAssumption, ctx: CheckContext):
    if ctx.learner is None:
        raise InvalidArgument(
            f"{assumption.name} is an assumption about the learner: check it with "
            "learner=... (or check the theorem, which brings its own learner)"
        )
    return ctx.learner


def output_dim(learner, process: th.Process) -> int:
    """How many outputs the learner's encoder has on ``process``.

    A learner says so with ``output_dim(process)``; otherwise it is its ``content``
    block when it has one set, else the latent dimension."""
    if hasattr(learner, "output_dim"):
        return int(learner.output_dim(process))
    content = getattr(learner, "content", None)
    return int(content) if content else process.dim


@register_check(LC.LearnerObjective)
def check_learner_objective(assumption: LC.LearnerObjective, ctx: CheckContext) -> Evidence:
    name = _learner(assumption, ctx).name
    ok = name in assumption.objectives
    return settled(
        ok,
        assumption.name,
        f"the learner's objective is {name!r}"
        + ("" if ok else f"; the theorem is about {', '.join(assumption.objectives)}"),
        exact=True,
        method=METHOD,
        witness=None if ok else {"objective": name},
    )


def _refused(assumption: th.Assumption, message: str, **witness: Any) -> Evidence:
    """Decided exactly against the learner: the condition fails, ``witness`` says why."""
    return settled(False, assumption.name, message, exact=True, method=METHOD, witness=witness)


@register_check(LC.MatchedTemperature)
def check_matched_temperature(assumption: LC.MatchedTemperature, ctx: CheckContext) -> Evidence:
    learner, process = _learner(assumption, ctx), ctx.process
    conditional = process.conditional
    if not isinstance(conditional, th.conditionals.VonMisesFisher):
        return _refused(
            assumption,
            "the conditional is not von Mises-Fisher: no concentration κ to match",
            conditional=type(conditional).__name__,
        )
    critic = getattr(learner, "critic", None)
    if critic != "cosine" or not hasattr(learner, "resolved_tau"):
        return _refused(
            assumption,
            f"the critic is {critic!r}, not exp(f(x)ᵀf(x̃)/τ) on the unit sphere",
            critic=critic,
        )
    tau, kappa = float(learner.resolved_tau(process)), float(conditional.kappa)
    if getattr(learner, "radius", "unit") == "learnable":
        return settled(
            True,
            assumption.name,
            f"outputs on r S^(n-1) with a learnable radius r: the critic's concentration "
            f"r²/τ is matched to κ = {kappa:.4g} at r² = τκ = {tau * kappa:.4g}, for any τ "
            "(Zimmermann et al.'s learnable rescaling)",
            exact=True,
            method=METHOD,
        )
    return _within_rtol(
        assumption,
        abs(tau * kappa - 1.0),
        f"τ = {tau:.4g} and 1/κ = {1 / kappa:.4g} (τκ = {tau * kappa:.3g})",
        ": the learner's temperature is outside the theorem",
        {"tau": tau, "kappa": kappa},
    )


def _within_rtol(assumption, statistic: float, message: str, outside: str, witness: dict):
    """``proved`` when ``statistic`` <= the assumption's ``rtol``, else ``violated``."""
    ok = statistic <= assumption.rtol
    return settled(
        ok,
        assumption.name,
        message + ("" if ok else outside),
        exact=True,
        method=METHOD,
        statistic=statistic,
        tolerance=assumption.rtol,
        witness=None if ok else witness,
    )


@register_check(LC.MatchedLpCritic)
def check_matched_lp_critic(assumption: LC.MatchedLpCritic, ctx: CheckContext) -> Evidence:
    """The critic's δ is the conditional's, decided from the mathematics of both.

    The conditional's exponent α is that of its generalized-normal form
    (``th.conditionals.generalized_normal_form``: Laplace is β = 1, Normal β = 2, a
    GeneralizedNormal its β), whatever class writes it; whether the conditional's law is
    the family on the support is ``conditional-family``'s question, not this one. The
    critic "lp-power" (δ = ‖·‖_p^p) matches δ = ‖·‖_α^α at p = α; "lp" (the metric
    ‖·‖_p) only at p = α = 1, where the two coincide.
    """
    learner, process = _learner(assumption, ctx), ctx.process
    conditional = process.conditional
    form = th.conditionals.generalized_normal_form(conditional)
    if form is None:
        return _refused(
            assumption,
            f"the conditional ({type(conditional).__name__}) is not an L^α-exponential "
            "law exp(−‖z̃ − z‖_α^α / s^α) (generalized normal, Laplace or Normal): no "
            "exponent α to match",
            conditional=type(conditional).__name__,
        )
    alpha = float(form.beta)
    if alpha < 1 or alpha == 2:
        why = "α < 1 is outside the theorem"
        if alpha == 2:
            why = (
                "α = 2 is excluded: the L² critic is rotation invariant, so the theorem "
                "gives only an affine (orthogonal) map, not a permutation"
            )
        return _refused(
            assumption,
            f"the conditional's exponent is α = {alpha:g} ({conditional!r}): {why}",
            beta=alpha,
        )
    critic = getattr(learner, "critic", None)
    if critic not in ("lp", "lp-power") or not hasattr(learner, "resolved_p"):
        return _refused(
            assumption,
            f"the critic is {critic!r}, not exp(−δ(f(x), f(x̃))/τ) with an L^α distance",
            critic=critic,
        )
    p = float(learner.resolved_p(process))
    if critic == "lp-power":
        ok = p == alpha
        delta = f"‖·‖_{p:g}^{p:g}"
        why = "the same δ" if ok else f"the critic's exponent p = {p:g} differs from α"
    else:
        ok = p == alpha == 1.0
        delta = f"‖·‖_{p:g}"
        if ok:
            why = "the same δ: ‖·‖_1 = ‖·‖_1^1"
        elif p == alpha:
            why = (
                "a different δ: the lp critic is the metric ‖·‖_p and the conditional's "
                "exponent is ‖·‖_α^α, the same only for p = α = 1 (the lp-power critic "
                "matches any α)"
            )
        else:
            why = f"the critic's exponent p = {p:g} differs from the conditional's α"
    return settled(
        ok,
        assumption.name,
        f"critic −{delta}(f(x) − f(x̃))/τ against the conditional "
        f"exp(−‖z̃ − z‖_{alpha:g}^{alpha:g} / s^{alpha:g}): {why}",
        exact=True,
        method=METHOD,
        witness=None if ok else {"critic": critic, "critic_p": p, "beta": alpha},
    )


@register_check(LC.SquaredEuclideanCritic)
def check_squared_euclidean_critic(
    assumption: LC.SquaredEuclideanCritic, ctx: CheckContext
) -> Evidence:
    """τ = 1 (within ``rtol``) and δ = ‖·‖₂² ("lp-power" with p = 2), from the config."""
    learner, process = _learner(assumption, ctx), ctx.process
    critic = getattr(learner, "critic", None)
    resolved_p = getattr(learner, "resolved_p", None)
    p = float(resolved_p(process)) if callable(resolved_p) else getattr(learner, "p", None)
    if critic != "lp-power" or p != 2.0 or not hasattr(learner, "resolved_tau"):
        shown = f"{critic!r}" + (f" with p = {p:g}" if isinstance(p, float) else "")
        return _refused(
            assumption,
            f"the critic is {shown}, not sim(a, b) = −‖a − b‖₂² (lp-power, p = 2)",
            critic=critic,
            critic_p=p,
        )
    tau = float(learner.resolved_tau(process))
    return _within_rtol(
        assumption,
        abs(tau - 1.0),
        f"sim(a, b) = −‖a − b‖₂² at τ = {tau:.4g}",
        ": the estimator of alignment minus entropy needs τ = 1",
        {"tau": tau},
    )


@register_check(LC.ContentSizedEncoder)
def check_content_sized_encoder(assumption: LC.ContentSizedEncoder, ctx: CheckContext) -> Evidence:
    learner, process = _learner(assumption, ctx), ctx.process
    content = getattr(process.conditional, "content", None)
    if not isinstance(content, int):
        return _refused(
            assumption,
            "the conditional declares no content block",
            conditional=type(process.conditional).__name__,
        )
    size = output_dim(learner, process)
    return settled(
        size == content,
        assumption.name,
        f"the encoder has {size} output(s); the content block has {content}",
        exact=True,
        method=METHOD,
        witness=None if size == content else {"outputs": size, "content": content},
    )


@register_check(LC.EnoughFeatures)
def check_enough_features(assumption: LC.EnoughFeatures, ctx: CheckContext) -> Evidence:
    learner, process = _learner(assumption, ctx), ctx.process
    size = output_dim(learner, process)
    ok = size == process.dim  # the theorem's statement: exactly n features
    return settled(
        ok,
        assumption.name,
        f"the feature extractor has {size} output(s) for {process.dim} source(s)",
        exact=True,
        method=METHOD,
        witness=None if ok else {"outputs": size, "sources": process.dim},
    )


__all__ = [
    "check_content_sized_encoder",
    "check_enough_features",
    "check_learner_objective",
    "check_matched_lp_critic",
    "check_matched_temperature",
    "check_squared_euclidean_critic",
    "output_dim",
]


#: verdicts of a learner assumption that leave the learner inside the theorem: exact or
#: numeric support, or a condition that does not concern this learner; a violated or
#: inconclusive one puts it outside (inconclusive never counts as holding)
COVERED_VERDICTS = frozenset({"proved", "holds", "not-applicable"})


def learner_covered(verdicts: Iterable[str]) -> bool:
    """Is a learner inside a theorem's assumptions about its learner, given the verdicts
    of those assumptions? The one rule for ``sith recover``'s ``learner_covered`` and an
    alignment's ``covered``: a recovery outside them is a gap, never support."""
    return all(verdict in COVERED_VERDICTS for verdict in verdicts)


def learner_assumptions(theorem: th.Theorem) -> list[LC.LearnerAssumption]:
    """The theorem's assumptions about its learner."""
    return [a for a in theorem.assumptions if isinstance(a, LC.LearnerAssumption)]


def learner_coverage(theorem: th.Theorem, process: th.Process, learner, seed: int) -> dict:
    """Is ``learner`` inside the theorem's assumptions about its learner (objective,
    temperature, critic, encoder size)? Decided from its configuration: the
    ``learner_covered`` and ``learner_assumptions`` fields of ``sith recover``'s JSON."""
    evidence = [
        check(a, process, seed=seed, learner=learner) for a in learner_assumptions(theorem)
    ]
    return {
        "learner_covered": learner_covered(e.verdict for e in evidence),
        "learner_assumptions": [
            {"assumption": e.assumption, "verdict": e.verdict, "message": e.message}
            for e in evidence
        ],
    }
