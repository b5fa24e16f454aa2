"""A small "paper": its own mixing map, its own assumption, its own theorem.

Suppose our paper proves: *if the mixing is a "shear-free" map (J^T J has unit diagonal,
i.e. every latent direction keeps its length) and the conditional is von Mises–Fisher,
InfoNCE recovers the latents up to an orthogonal map.* This file states that in sith.
"""

import sympy as sp

import theory as th

z1, z2, z3 = sp.symbols("z1 z2 z3")

# Our map: a rotation of the sphere by an angle that depends on z3 (a "twist").
twist = th.mixings.Symbolic(
    [z1 * sp.cos(z3 / 2) - z2 * sp.sin(z3 / 2), z1 * sp.sin(z3 / 2) + z2 * sp.cos(z3 / 2), z3],
    [z1, z2, z3],
)

# Our assumption, from a sympy statement over the Jacobian J: diag(J^T J) = 1.
unit_columns = th.JacobianCondition(
    "unit-columns",
    residual=lambda J: (
        sp.HadamardProduct(J.T * J, sp.Identity(J.shape[1])) - sp.Identity(J.shape[1])
    ),
    cite="Our paper (2026), Assumption 1",
    description="every column of J has unit norm",
)

# Our theorem: assumptions + learner + claim.
theorem = th.Theorem(
    "twisted-cl",
    assumptions=(th.assumptions.Injective(), th.assumptions.ConditionalFamily("VonMisesFisher")),
    learner="infonce",
    claim=th.claims.affine(threshold=0.9),
    cite="Our paper (2026), Theorem 1",
)

process = th.Process(th.latents.UniformSphere(3), twist, th.conditionals.VonMisesFisher(kappa=10.0))
