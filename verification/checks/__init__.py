"""Checks: decide an assumption for a process and return Evidence.

Order of attack for each assumption: (1) a time-limited exact sympy attempt on the
process's symbolic form (``proved``, or ``violated`` when sympy finds a nonzero constant);
(2) the statement evaluated at N sampled points of the support (float64 autodiff);
(3) an adversarial search that tries to break it inside the support (gradient ascent
on the violation, local random perturbations, and for injectivity a collision search
for g(z) = g(z') with z != z'). Only what survives all of them ``holds``.

The package mirrors the sections of ``theory.assumptions``; each built-in decider is a
named function registered with the public ``register_check``:

==================  ==========================================================
``_core``           ``CheckContext``, ``check``, ``resolve``, the registry
                    (``register_check``, ``has_check``), memory guard, timing,
                    the time-limited sympy attempt
``_evidence``       the one way deciders build Evidence (``proved``, ``holds``,
                    ``violated``, ``inconclusive``, ``not_applicable``,
                    ``decided``, ``settled``)
``_rank``           the exact rank of a float matrix (mod p, sympy over QQ),
                    numpy's with its tolerance stated as the fallback
``jacobian``        ``check_jacobian`` (every JacobianAssumption),
                    ``check_linear_mixing``
``injective``       ``check_injective`` (exact rank for linear maps, else a
                    verified-collision search), ``check_immersion`` (σ_min/σ_max
                    of J, sampled + adversarial)
``density``         ``check_factorized``, ``check_non_gaussian``,
                    ``check_uniform_on_sphere``
``conditional``     ``check_conditional_family``, ``check_content_invariance``,
                    ``check_sufficient_variability``
``clusters``        ``check_cluster_centric_vmf``, ``check_affine_generator``
                    (Reizinger et al. 2025, Assumption 3)
``convex_body``     ``check_uniform_on_convex_body``, ``restricted_family``
                    (conditional-family of conditionals drawn restricted to
                    the support)
``learner``         ``check_learner_objective``, ``check_matched_temperature``,
                    ``check_content_sized_encoder``, ``check_enough_features``
==================  ==========================================================
"""

from __future__ import annotations

# the section modules register their deciders when imported
from verification.checks import (  # noqa: F401
    clusters,
    conditional,
    convex_body,
    density,
    injective,
    jacobian,
    learner,
    smoothness,
)
from verification.checks._core import (
    DEFAULT_POINTS,
    CheckContext,
    check,
    has_check,
    register_check,
    resolve,
)
from verification.checks.injective import COLLISION_NEIGHBOURS

__all__ = [
    "COLLISION_NEIGHBOURS",
    "DEFAULT_POINTS",
    "CheckContext",
    "check",
    "has_check",
    "register_check",
    "resolve",
]
