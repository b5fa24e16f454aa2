"""sith.theory — the symbolic side: what is assumed and what is claimed.

Public facade::

    import theory as th
    th.latents.Uniform(2), th.mixings.Mobius(3), th.conditionals.VonMisesFisher(10)
    th.Process(latent, mixing, conditional=None)
    th.assumptions.Conformal(), th.theorems.get("cl-ica")
"""

import importlib
from typing import TYPE_CHECKING, Any

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
from theory.process import Process
from theory.text_checks import TextCheck
from theory.theorems import Theorem

if TYPE_CHECKING:  # pragma: no cover
    from theory.compile import UnsupportedFunctionError, compile_exprs

# the sympy -> torch compiler imports torch (through sympy's printer): served on first use
_LAZY = {
    "compile": ("theory.compile", None),
    "compile_exprs": ("theory.compile", "compile_exprs"),
    "UnsupportedFunctionError": ("theory.compile", "UnsupportedFunctionError"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, attribute = _LAZY[name]
        module = importlib.import_module(module_name)
        return module if attribute is None else getattr(module, attribute)
    raise AttributeError(f"module 'theory' has no attribute {name!r}")


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
