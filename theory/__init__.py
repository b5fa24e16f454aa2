"""sith.theory — the symbolic side: what is assumed and what is claimed.

Public facade::

    import theory as th
    th.latents.Uniform(2), th.mixings.Mobius(3), th.conditionals.VonMisesFisher(10)
    th.Process(latent, mixing, conditional=None)
    th.assumptions.Conformal(), th.theorems.get("cl-ica")
"""

from theory import (
    assumptions,
    augmentations,
    claims,
    concentration_assumptions,
    conditionals,
    latents,
    learner_conditions,
    mixings,
    pixel_theorems,  # theorems on rendered images (imports theory.theorems first)
    supports,
    text_checks,
    theorems,
)
from theory.assumptions import Assumption, JacobianCondition
from theory.claims import Claim
from theory.compile import UnsupportedFunctionError, compile_exprs
from theory.process import Process
from theory.text_checks import TextCheck
from theory.theorems import Theorem

__all__ = [
    "Assumption",
    "Claim",
    "JacobianCondition",
    "Process",
    "TextCheck",
    "Theorem",
    "UnsupportedFunctionError",
    "assumptions",
    "augmentations",
    "claims",
    "compile_exprs",
    "concentration_assumptions",
    "conditionals",
    "latents",
    "learner_conditions",
    "mixings",
    "pixel_theorems",
    "supports",
    "text_checks",
    "theorems",
]
