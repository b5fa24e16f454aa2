"""Jacobian conditions: statements about J = Dg(z) at every z in the support.

A ``JacobianAssumption`` says ``residual(J) = 0``; its size is measured scale-free as
||residual(J)|| / |normaliser(J)| and compared with the assumption's tolerance. The
catalogue's instances come from: conformal maps, J^T J = λ(z) I (Buchholz et al. 2022);
the IMA principle, J^T J diagonal (Gresele et al. 2021); volume preservation,
|det J| = 1 (Yang et al. 2022; NICE). Users add their own with ``JacobianCondition``.

``check_jacobian`` tries sympy on the exact Jacobian first, in a time-limited child
process (``proved``, or ``violated`` when the residual simplifies to a nonzero constant
beyond the tolerance; a decision on float coefficients says so in the message, and an
undecided or failed attempt says why), then ``_sampled_and_adversarial`` evaluates the
statistic at the sampled points and runs gradient ascent on it inside the support.

``check_linear_mixing`` decides linear mixing (Comon 1994, linear ICA): g is affine
exactly when J(z) does not depend on z; the symbolic Jacobian is time-limited too.
"""

from __future__ import annotations

import sympy as sp
import torch
from torch.func import grad, jacfwd, jacrev, vmap

from theory import assumptions as A
from theory.compile import compile_matrix_statement
from verification.checks._core import (
    FLOAT_NOTE,
    CheckContext,
    _note_sympy,
    float_note,
    register_check,
    try_on_the_form,
)
from verification.checks._evidence import (
    decided,
    holds,
    inconclusive,
    point,
    proved,
    violated,
)
from verification.evidence import Evidence
from verification.jacobians import jacobian


def _jacobian_fn(mixing, n: int, m: int):
    return jacfwd(mixing) if n <= m else jacrev(mixing)


def _prove_jacobian(assumption: A.JacobianAssumption, ctx: CheckContext):
    """["proved" | "violated" | "undecided" | "no-form", has float coefficients]."""
    form = ctx.sympy_form
    if form is None:
        return ["no-form", False]
    floats = bool(float_note(*(sp.sympify(e) for e in form)))
    exact = sp.ImmutableMatrix(sp.Matrix(form).jacobian(ctx.symbols))
    J = sp.MatrixSymbol("J", *exact.shape)
    residual = assumption.residual(J).xreplace({J: exact}).doit()
    entries = residual.as_explicit() if getattr(residual, "is_Matrix", False) else [residual]
    simplified = [sp.simplify(e) for e in entries]
    if all(e == 0 for e in simplified):
        return ["proved", floats]
    # a nonzero constant decides "violated" only beyond the tolerance: float coefficients
    # leave round-off (e.g. 1e-16) in residuals that are zero in exact arithmetic
    scale = sp.simplify(assumption.normaliser(J).xreplace({J: exact}).doit())
    scale = abs(float(scale)) if scale.is_number and scale != 0 else 1.0
    if any(e.is_number and abs(float(e)) > assumption.tolerance * scale for e in simplified):
        return ["violated", floats]
    return ["undecided", floats]


@register_check(A.JacobianAssumption)
def check_jacobian(assumption: A.JacobianAssumption, ctx: CheckContext) -> Evidence:
    """``residual(J) = 0`` at every z: sympy first, then sampled points and adversarial search."""
    name, tol = assumption.name, assumption.tolerance
    answer = try_on_the_form(lambda: _prove_jacobian(assumption, ctx), ctx)
    outcome, floats = answer if answer is not None else (None, False)
    note = FLOAT_NOTE if floats else ""
    if outcome == "proved":
        return proved(
            name,
            f"{assumption.statement(ctx.process.dim)} holds identically" + note,
            tolerance=tol,
        )
    if outcome == "undecided":
        _note_sympy(ctx, "undecided: the residual did not simplify to a constant")
    mixing, n, m = ctx.process.mixing, ctx.process.dim, ctx.process.mixing.n_out
    J = sp.MatrixSymbol("J", m, n)
    residual = compile_matrix_statement(assumption.residual(J), J)
    normaliser = compile_matrix_statement(assumption.normaliser(J), J)
    jac = _jacobian_fn(mixing, n, m)

    def violation(z: torch.Tensor) -> torch.Tensor:
        Jz = jac(z)
        size = torch.linalg.vector_norm(residual(Jz).reshape(-1))
        return size / normaliser(Jz).abs()

    evidence = _sampled_and_adversarial(name, violation, tol, ctx)
    if outcome == "violated" and evidence.verdict == "violated":  # exact, and a witness
        return violated(
            name,
            "the residual simplifies to a nonzero constant (sympy" + note + "); "
            "witness and statistic from sampled points",
            statistic=evidence.statistic,
            tolerance=evidence.tolerance,
            n_points=evidence.n_points,
            method="sympy",
            witness=evidence.witness,
        )
    return evidence


def _sampled_and_adversarial(name, violation, tol, ctx: CheckContext) -> Evidence:
    """Evaluate ``violation`` at sampled points, then try to push it above ``tol``."""
    support = ctx.process.latent.support
    batched = vmap(violation)
    z = ctx.z
    stats = batched(z)
    finite = torch.isfinite(stats)
    if finite.float().mean() < 0.9:
        return inconclusive(
            name,
            f"the statistic is not finite at {int((~finite).sum())} of {len(z)} "
            "points (non-differentiable mixing or a vanishing normaliser)",
            tolerance=tol,
            n_points=len(z),
            method="sampled",
        )
    worst = int(torch.where(finite, stats, -torch.inf).argmax())
    if stats[worst] > tol:
        return violated(
            name,
            "violated at a sampled point",
            statistic=float(stats[worst]),
            tolerance=tol,
            n_points=len(z),
            method="sampled",
            witness={"z": point(z[worst])},
        )
    # adversarial: gradient ascent from the worst points and fresh ones, plus jitter
    order = torch.where(finite, stats, -torch.inf).argsort(descending=True)
    starts = torch.cat([z[order[:32]], ctx.fresh(32, 1)])
    grad_fn = vmap(grad(violation))
    step = 0.05 * support.scale
    rng = torch.Generator().manual_seed(ctx.seed)
    best_val, best_z = float(stats[worst]), z[worst]
    for k in range(ctx.adversarial_steps):
        g = torch.nan_to_num(grad_fn(starts))
        g = g / g.norm(dim=-1, keepdim=True).clamp_min(1e-30)
        noise = torch.randn(starts.shape, generator=rng, dtype=starts.dtype)
        scale = step * (1 - k / ctx.adversarial_steps)
        starts = support.project(starts + scale * g + 0.3 * scale * noise)
        vals = torch.nan_to_num(batched(starts), nan=-1.0)
        i = int(vals.argmax())
        if vals[i] > best_val:
            best_val, best_z = float(vals[i]), starts[i].clone()
        if best_val > tol:
            return violated(
                name,
                f"violated at a point found by adversarial search after {k + 1} steps",
                statistic=best_val,
                tolerance=tol,
                n_points=len(z) + len(starts),
                method="adversarial",
                witness={"z": point(best_z)},
            )
    return holds(
        name,
        f"held at {len(z)} sampled points and {ctx.adversarial_steps} adversarial "
        "steps; this is evidence, not proof",
        statistic=best_val,
        tolerance=tol,
        n_points=len(z) + len(starts),
        method="sampled+adversarial",
    )


def _constant_jacobian(ctx: CheckContext):
    """["proved" | "undecided" | "no-form", has float coefficients] (run time-limited)."""
    form = ctx.sympy_form
    if form is None:
        return ["no-form", False]
    floats = bool(float_note(*(sp.sympify(e) for e in form)))
    exact = sp.Matrix(form).jacobian(ctx.symbols)
    if not exact.free_symbols & set(ctx.symbols):
        return ["proved", floats]
    return ["undecided", floats]


@register_check(A.LinearMixing)
def check_linear_mixing(assumption: A.LinearMixing, ctx: CheckContext) -> Evidence:
    """J(z) constant: exactly from the symbolic form, else its spread over sampled points."""
    name, tol = assumption.name, assumption.tolerance
    answer = try_on_the_form(lambda: _constant_jacobian(ctx), ctx)
    if answer is not None and answer[0] == "proved":
        note = FLOAT_NOTE if answer[1] else ""
        return proved(name, "the Jacobian is constant (free of z)" + note, tolerance=tol)
    if answer is not None and answer[0] == "undecided":
        _note_sympy(ctx, "undecided: the symbolic Jacobian depends on z in form")
    J = jacobian(ctx.process.mixing, ctx.z)
    spread = (J - J[:1]).flatten(1).norm(dim=-1) / J[0].norm().clamp_min(1e-300)
    worst = int(spread.argmax())
    return decided(
        name,
        float(spread[worst]),
        tol,
        len(J),
        method="sampled",
        witness={"z": point(ctx.z[0]), "z_prime": point(ctx.z[worst])},
        when_violated="the Jacobian differs between these two points",
        when_holds=f"the Jacobian is the same at {len(J)} sampled points",
    )
