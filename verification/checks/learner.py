"""Learner conditions: a theorem's assumptions about what is trained, and how.

Decided exactly from the learner's configuration and the process (``proved`` or
``violated``, method ``"config"``); nothing is trained. Without a learner (a single
assumption checked with no ``learner=``) the question has no answer and the check says
so instead of guessing.

- objective: the learner's registered objective is one the theorem is about;
- matched temperature (Zimmermann et al. 2021, Thm 2): cosine critic on the sphere,
  |τ κ − 1| <= rtol for the vMF concentration κ of the conditional;
- matched lp critic (Zimmermann et al. 2021, convex bodies): the conditional is an
  L^α-exponential law (a generalized normal, or Laplace α = 1, Normal α = 2) with α ≥ 1,
  α ≠ 2, and the critic's distance is the conditional's (lp-power ‖·‖_p^p at p = α; the
  lp metric ‖·‖_p only at p = α = 1);
- content-sized encoder (von Kügelgen et al. 2021, Thm 4.4): dim f(x) = n_c;
- enough features (Hyvärinen & Morioka 2016, Thm 1): dim h(x) = n, as the theorem states.
"""

from __future__ import annotations

from typing import Any

import theory as th
from theory import learner_conditions as LC
from theory.errors import InvalidArgument
from verification.checks._core import CheckContext, register_check
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
    mismatch = abs(tau * kappa - 1.0)
    ok = mismatch <= assumption.rtol
    return settled(
        ok,
        assumption.name,
        f"τ = {tau:.4g} and 1/κ = {1 / kappa:.4g} (τκ = {tau * kappa:.3g})"
        + ("" if ok else ": the learner's temperature is outside the theorem"),
        exact=True,
        method=METHOD,
        statistic=mismatch,
        tolerance=assumption.rtol,
        witness=None if ok else {"tau": tau, "kappa": kappa},
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
    "output_dim",
]
