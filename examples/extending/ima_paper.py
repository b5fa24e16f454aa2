"""A paper that brings its own pieces to sith (the worked example of docs/extending.md).

- an assumption of its own, with a registered check (it is not a Jacobian condition);
- a mixing written as torch code (``th.mixings.Torch``), searchable as a family;
- a theorem that uses an existing learner with its own settings;
- its own default search space.

Use it with ``sith --import examples/extending/ima_paper.py check|recover|search ima-ica``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

import theory as th
import verification as v
from verification.evidence import Evidence
from verification.jacobians import jacobian
from verification.spaces import SearchSpace, register_space
from verification.strategies import register_mixing


@dataclass
class BoundedJacobian(th.Assumption):
    """Our Assumption 2: the mixing's Jacobian has spectral norm at most ``bound``."""

    name: ClassVar[str] = "bounded-jacobian"
    cite: ClassVar[str] = "Our paper (2026), Assumption 2"
    description: ClassVar[str] = "‖J_g(z)‖₂ ≤ bound on the support"
    bound: float = 5.0


th.assumptions.register(BoundedJacobian)


@v.register_check(BoundedJacobian)
def check_bounded_jacobian(assumption: BoundedJacobian, ctx: v.CheckContext) -> Evidence:
    """The largest spectral norm of J over the sampled points (evidence, not proof)."""
    J = jacobian(ctx.process.mixing, ctx.z)
    norms = torch.linalg.matrix_norm(J, ord=2)
    worst = int(norms.argmax())
    statistic = float(norms[worst])
    violated = statistic > assumption.bound
    return Evidence(
        assumption=assumption.name,
        verdict="violated" if violated else "holds",
        statistic=statistic,
        tolerance=assumption.bound,
        n_points=len(J),
        witness={"z": ctx.z[worst].tolist()} if violated else None,
        method="sampled",
        message=f"largest ‖J‖₂ at {len(J)} sampled points",
    )


def mixing_network(seed: int) -> torch.nn.Module:
    """Our map: a linear layer (a torch module), a different one per seed."""
    layer = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        weights = torch.randn(2, 2, generator=torch.Generator().manual_seed(seed))
        layer.weight.copy_(weights + 2 * torch.eye(2))
    return layer


# a fixed family of networks, built at import: a process file names one of them by its
# digest, so `--import` of this module is all that rebuilding it takes
NETWORKS = {
    seed: th.mixings.Torch(mixing_network(seed), 2, name="ima_paper.net") for seed in range(4)
}
register_mixing("paper-net", lambda n, seed: NETWORKS[seed % len(NETWORKS)], dims=(2, 2))

theorem = th.theorems.register(
    th.Theorem(
        "ima-ica",
        assumptions=(th.assumptions.Injective(), th.assumptions.NonGaussian(), BoundedJacobian()),
        learner=("fastica", {"n_train": 3000}),
        claim=th.claims.permutation_scaling(0.9),
        cite="Our paper (2026), Theorem 1",
        canonical=lambda: th.Process(th.latents.Laplace(2), NETWORKS[0]),
    )
)

register_space(
    theorem,
    SearchSpace(
        dims=(2, 2),
        latents=("laplace", "normal"),
        mixings=("paper-net",),
        conditionals=("none",),
        learner_options={"n_train": (3000, 300)},
    ),
)
