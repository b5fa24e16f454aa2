"""Checks: decide an assumption for a process and return Evidence.

Order of attack for each assumption: (1) a time-limited exact sympy attempt on the
process's symbolic form (``proved``, or ``violated`` when sympy finds a nonzero constant);
(2) the statement evaluated at N sampled points of the support (float64 autodiff);
(3) an adversarial search that tries to break it inside the support (gradient ascent
on the violation, local random perturbations, and for injectivity a collision search
for g(z) = g(z') with z != z'). Only what survives all of them ``holds``.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import time
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
import torch
from torch.func import grad, jacfwd, jacrev, vmap

import theory as th
from theory import assumptions as A
from theory._resources import require_memory
from theory.compile import compile_matrix_statement
from theory.errors import InvalidArgument, UnknownName
from verification._timelimit import (
    ChildError,
    NoTimeLimitHere,
    TimeLimitExceeded,
    time_limited,
)
from verification.evidence import Evidence, EvidenceSet
from verification.jacobians import jacobian

DEFAULT_POINTS = 1024


@dataclass
class CheckContext:
    """Shared state of one check: the process, sample points and settings."""

    process: th.Process
    n_points: int = DEFAULT_POINTS
    seed: int = 0
    time_limit: float = 2.0
    adversarial_steps: int = 60
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def z(self) -> torch.Tensor:
        if "z" not in self._cache:
            self._cache["z"] = self.process.latent.sample(self.n_points, self.seed)
        return self._cache["z"]

    @property
    def x(self) -> torch.Tensor:
        if "x" not in self._cache:
            self._cache["x"] = self.process.observe(self.z)
        return self._cache["x"]

    def fresh(self, n: int, offset: int) -> torch.Tensor:
        return self.process.latent.sample(n, np.random.default_rng([self.seed, offset]))

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        return th.latents.latent_symbols(self.process.dim)

    @property
    def sympy_form(self) -> list[sp.Expr] | None:
        if "form" not in self._cache:
            self._cache["form"] = self.process.mixing.sympy_form(self.symbols)
        return self._cache["form"]


def check(
    target: th.Assumption | th.Theorem | str,
    process: th.Process,
    *,
    n_points: int = DEFAULT_POINTS,
    seed: int = 0,
    time_limit: float = 2.0,
    adversarial_steps: int = 60,
) -> Evidence | EvidenceSet:
    """Check an assumption (-> Evidence) or every assumption of a theorem (-> EvidenceSet).

    ``target`` may be a catalogue name ("conformal", "cl-ica"). ``time_limit`` bounds
    each sympy attempt (seconds); ``n_points`` sampled points; ``seed`` fixes every draw.
    """
    if not isinstance(process, th.Process):
        raise InvalidArgument(f"process must be a theory.Process, got {type(process).__name__}")
    if isinstance(n_points, bool) or not isinstance(n_points, numbers.Integral) or n_points < 2:
        raise InvalidArgument(f"n_points must be an integer >= 2, got {n_points!r}")
    if not isinstance(time_limit, numbers.Real) or not time_limit >= 0:
        raise InvalidArgument(f"time_limit must be a number of seconds >= 0, got {time_limit!r}")
    if isinstance(adversarial_steps, bool) or not isinstance(adversarial_steps, numbers.Integral):
        raise InvalidArgument(f"adversarial_steps must be an integer, got {adversarial_steps!r}")
    if adversarial_steps < 0:
        raise InvalidArgument(f"adversarial_steps must be >= 0, got {adversarial_steps}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidArgument(f"seed must be an integer >= 0, got {seed!r}")
    target = resolve(target)
    _require_check_memory(process, n_points)
    ctx = CheckContext(process, n_points, seed, time_limit, adversarial_steps)
    ctx.x  # noqa: B018 -- evaluate g once: non-finite outputs fail here, clearly
    if isinstance(target, th.Theorem):
        return EvidenceSet(target.name, tuple(_timed(a, ctx) for a in target.assumptions))
    return _timed(target, ctx)


def _require_check_memory(process: th.Process, n_points: int) -> None:
    """Refuse (ResourceLimit) an ``n_points`` whose dense per-point arrays cannot fit.

    A cheap upper estimate of the largest allocations: samples z and x (and copies), the
    batched Jacobians (n_points, m, n) with the vmapped statistic's and the SVD's copies,
    and the log-density Hessians (n_points, n, n). The collision search is linear in
    n_points (nearest neighbours, not a dense distance matrix).
    """
    n, m = process.dim, process.mixing.n_out
    per_point = 8 * (4 * (n + m) + 6 * m * n + 4 * n * n)
    require_memory(
        int(n_points) * per_point,
        f"check(n_points={n_points}) on a process with n={n}, m={m} (samples, batched "
        "Jacobians and Hessians)",
        "use a smaller n_points",
    )


def resolve(target: th.Assumption | th.Theorem | str) -> th.Assumption | th.Theorem:
    """A catalogue name -> the assumption or theorem it names."""
    if isinstance(target, (th.Assumption, th.Theorem)):
        return target
    if isinstance(target, str):
        if target in th.theorems.names():
            return th.theorems.get(target)
        if target in A.names():
            return A.get(target)
        known = ", ".join(A.names() + th.theorems.names())
        raise UnknownName(f"unknown assumption or theorem {target!r}; known: {known}")
    raise InvalidArgument(f"cannot check a {type(target).__name__}; pass an Assumption or Theorem")


def _timed(assumption: th.Assumption, ctx: CheckContext) -> Evidence:
    start = time.perf_counter()
    ctx._cache.pop("sympy_note", None)
    evidence = _check_assumption(assumption, ctx)
    message = evidence.message
    if ctx._cache.get("sympy_note") and evidence.verdict != "proved":
        message += f" (exact sympy attempt: {ctx._cache['sympy_note']})"
    return dataclasses.replace(evidence, seconds=time.perf_counter() - start, message=message)


def _try_sympy(fn, ctx: CheckContext):
    """Run a symbolic attempt within the time limit; None when it gives up.

    The attempt runs in a child process killed at ``ctx.time_limit`` (see
    ``verification._timelimit``), so it can neither hang a check nor be swallowed. Any
    sympy error means "no exact answer", never a crash: the numeric checks decide, and
    the Evidence message says why the exact attempt gave none.
    """
    try:
        return time_limited(fn, ctx.time_limit)
    except NoTimeLimitHere as err:
        ctx._cache["sympy_note"] = f"skipped, {err}"
    except TimeLimitExceeded:
        ctx._cache["sympy_note"] = f"undecided within the {ctx.time_limit:g} s time limit"
    except ChildError as err:
        ctx._cache["sympy_note"] = f"failed with {err}"
    return None


def _proved(name: str, tolerance: float, message: str) -> Evidence:
    """Evidence for a statement sympy decided exactly."""
    return Evidence(
        assumption=name,
        verdict="proved",
        statistic=0.0,
        tolerance=tolerance,
        n_points=0,
        witness=None,
        method="sympy",
        message=message,
    )


def _decide(
    name: str,
    statistic: float,
    tolerance: float,
    n_points: int,
    *,
    method: str,
    witness: dict,
    violated: str,
    holds: str,
) -> Evidence:
    """``violated`` (with the witness) when the statistic exceeds the tolerance, else ``holds``."""
    bad = statistic > tolerance
    return Evidence(
        assumption=name,
        verdict="violated" if bad else "holds",
        statistic=statistic,
        tolerance=tolerance,
        n_points=n_points,
        witness=witness if bad else None,
        method=method,
        message=violated if bad else holds,
    )


def _point(z: torch.Tensor) -> list[float]:
    return [float(v) for v in z.detach().reshape(-1)]


@functools.singledispatch
def _check_assumption(assumption: th.Assumption, ctx: CheckContext) -> Evidence:
    raise InvalidArgument(
        f"no check is registered for assumption {assumption.name!r} "
        f"({type(assumption).__name__}); register one with verification.register_check"
    )


def register_check(assumption_type: type, *, replace: bool = False):
    """Decorator: register ``fn(assumption, ctx: CheckContext) -> Evidence`` as the check
    of ``assumption_type`` (and its subclasses without a check of their own).

    ``ctx`` gives the process, sample points (``ctx.z``, ``ctx.x``), ``ctx.seed`` and the
    settings. A type that already has its own check is refused unless ``replace=True``::

        @verification.register_check(MyAssumption)
        def check_mine(assumption, ctx):
            ...
            return Evidence(assumption.name, "holds", statistic, tolerance, n_points)
    """
    if not isinstance(assumption_type, type) or not issubclass(assumption_type, th.Assumption):
        raise InvalidArgument(
            f"register_check expects an Assumption subclass, got {assumption_type!r}"
        )
    if assumption_type in _check_assumption.registry and not replace:
        raise InvalidArgument(
            f"{assumption_type.__name__} already has a check; pass replace=True to replace it"
        )

    def decorator(fn):
        if not callable(fn):
            raise InvalidArgument(f"a check must be a function, got {fn!r}")

        def checked(assumption, ctx):
            evidence = fn(assumption, ctx)
            if not isinstance(evidence, Evidence):
                raise InvalidArgument(
                    f"the check of {assumption.name!r} returned {type(evidence).__name__}, "
                    "not Evidence"
                )
            return evidence

        _check_assumption.register(assumption_type, checked)
        return fn

    return decorator


def has_check(assumption: th.Assumption | type) -> bool:
    """Is there a registered check for this assumption (or its type)?"""
    cls = assumption if isinstance(assumption, type) else type(assumption)
    return _check_assumption.dispatch(cls) is not _check_assumption.registry[object]


# --- Jacobian conditions ------------------------------------------------------------


def _jacobian_fn(mixing, n: int, m: int):
    return jacfwd(mixing) if n <= m else jacrev(mixing)


def _prove_jacobian(assumption: A.JacobianAssumption, ctx: CheckContext):
    form = ctx.sympy_form
    if form is None:
        return None
    exact = sp.ImmutableMatrix(sp.Matrix(form).jacobian(ctx.symbols))
    J = sp.MatrixSymbol("J", *exact.shape)
    residual = assumption.residual(J).xreplace({J: exact}).doit()
    entries = residual.as_explicit() if getattr(residual, "is_Matrix", False) else [residual]
    simplified = [sp.simplify(e) for e in entries]
    if all(e == 0 for e in simplified):
        return "proved"
    # a nonzero constant decides "violated" only beyond the tolerance: float coefficients
    # leave round-off (e.g. 1e-16) in residuals that are zero in exact arithmetic
    scale = sp.simplify(assumption.normaliser(J).xreplace({J: exact}).doit())
    scale = abs(float(scale)) if scale.is_number and scale != 0 else 1.0
    if any(e.is_number and abs(float(e)) > assumption.tolerance * scale for e in simplified):
        return "violated"
    return None


@_check_assumption.register
def _(assumption: A.JacobianAssumption, ctx: CheckContext) -> Evidence:
    name, tol = assumption.name, assumption.tolerance
    outcome = _try_sympy(lambda: _prove_jacobian(assumption, ctx), ctx)
    if outcome == "proved":
        return _proved(name, tol, f"{assumption.statement(ctx.process.dim)} holds identically")
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
        return dataclasses.replace(
            evidence,
            verdict="violated",
            method="sympy",
            message="the residual simplifies to a nonzero constant (sympy); "
            "witness and statistic from sampled points",
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
        return Evidence(
            assumption=name,
            verdict="inconclusive",
            statistic=None,
            tolerance=tol,
            n_points=len(z),
            witness=None,
            method="sampled",
            message=f"the statistic is not finite at {int((~finite).sum())} of {len(z)} "
            "points (non-differentiable mixing or a vanishing normaliser)",
        )
    worst = int(torch.where(finite, stats, -torch.inf).argmax())
    if stats[worst] > tol:
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=float(stats[worst]),
            tolerance=tol,
            n_points=len(z),
            witness={"z": _point(z[worst])},
            method="sampled",
            message="violated at a sampled point",
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
            return Evidence(
                assumption=name,
                verdict="violated",
                statistic=best_val,
                tolerance=tol,
                n_points=len(z) + len(starts),
                witness={"z": _point(best_z)},
                method="adversarial",
                message=f"violated at a point found by adversarial search after {k + 1} steps",
            )
    return Evidence(
        assumption=name,
        verdict="holds",
        statistic=best_val,
        tolerance=tol,
        n_points=len(z) + len(starts),
        witness=None,
        method="sampled+adversarial",
        message=f"held at {len(z)} sampled points and {ctx.adversarial_steps} adversarial "
        "steps; this is evidence, not proof",
    )


# --- Injectivity --------------------------------------------------------------------


@_check_assumption.register
def _(assumption: A.Injective, ctx: CheckContext) -> Evidence:
    name, tol = assumption.name, 1e-6
    mixing, n, m = ctx.process.mixing, ctx.process.dim, ctx.process.mixing.n_out
    if m < n:
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=0.0,
            tolerance=tol,
            n_points=0,
            witness=None,
            method="dimension",
            message=f"g maps R^{n} to R^{m} with m < n: it cannot be injective",
        )
    z = ctx.z
    J = jacobian(mixing, z)
    sv = torch.linalg.svdvals(J)
    ratio = sv[:, -1] / sv[:, 0].clamp_min(1e-300)
    worst = int(ratio.argmin())
    if ratio[worst] < 1e-10:
        null = torch.linalg.svd(J[worst]).Vh[-1]
        partner = _step_inside(ctx.process.latent.support, z[worst], null)
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=float(ratio[worst]),
            tolerance=tol,
            n_points=len(z),
            witness={
                "z": _point(z[worst]),
                "null_direction": _point(null),
                "z_prime": _point(partner),
            },
            method="jacobian-rank",
            message="the Jacobian is rank-deficient (σ_min/σ_max ≈ 0)",
        )
    lipschitz = float(sv[:, 0].median())
    pair, stat = _collision_search(ctx, lipschitz)
    if pair is not None and stat < tol:
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=stat,
            tolerance=tol,
            n_points=len(z),
            witness=pair,
            method="collision-search",
            message="found z ≠ z' with g(z) = g(z') (relative gap below tolerance)",
        )
    return Evidence(
        assumption=name,
        verdict="holds",
        statistic=stat,
        tolerance=tol,
        n_points=len(z),
        witness=None,
        method="jacobian-rank+collision-search",
        message=f"full-rank Jacobian at {len(z)} points (min σ_min/σ_max = "
        f"{float(ratio.min()):.3g}) and no collision found; evidence, not proof",
    )


def _step_inside(support, z: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """z + t·direction for the largest t (of a few, either sign) that stays in the support.

    Along a null direction of a linear map this is an exact collision partner of z."""
    for t in (0.1, 0.03, 0.01, 1e-3):
        for sign in (1.0, -1.0):
            candidate = z + sign * t * support.scale * direction
            if bool(support.contains(candidate[None])[0]):
                return candidate
    return z + 1e-3 * support.scale * direction


COLLISION_NEIGHBOURS = 12


def _collision_candidates(
    z: torch.Tensor, x: torch.Tensor, min_sep: float, n_pairs: int, k: int = COLLISION_NEIGHBOURS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Start pairs (i, j) for the collision search, in memory linear in len(z).

    Candidates are the k nearest neighbours of every x_i (a k-d tree on x, not a dense
    distance matrix), deduplicated as i < j; pairs closer than 10 ``min_sep`` in z are
    ranked last. The ``n_pairs`` with the smallest ||x_i - x_j|| / ||z_i - z_j|| are
    returned: near in x-space, far apart in z-space.
    """
    from scipy.spatial import cKDTree

    size = len(z)
    k = min(k, size - 1)
    xs = x.detach().cpu().numpy()
    _, neighbours = cKDTree(xs).query(xs, k=k + 1)  # k + 1: each point finds itself
    rows = np.repeat(np.arange(size, dtype=np.int64), k + 1)
    cols = neighbours.reshape(-1).astype(np.int64)
    first, second = np.minimum(rows, cols), np.maximum(rows, cols)
    distinct = first != second
    keys = np.unique(first[distinct] * size + second[distinct])  # sorted: deterministic
    i, j = torch.from_numpy(keys // size), torch.from_numpy(keys % size)
    dx = (x[i] - x[j]).norm(dim=-1)
    dz = (z[i] - z[j]).norm(dim=-1)
    ratio = dx / dz.clamp_min(1e-300)
    ratio[dz < 10 * min_sep] = torch.inf
    order = torch.from_numpy(np.argsort(ratio.cpu().numpy(), kind="stable")[:n_pairs])
    return i[order], j[order]


def _collision_search(ctx: CheckContext, lipschitz: float, n_pairs: int = 64, steps: int = 150):
    """Search for g(z) = g(w), z != w; returns (witness, statistic).

    statistic = min ||g(z) - g(w)|| / (L ||z - w||) with L the median largest singular
    value of J: 0 for a collision, bounded below for a bi-Lipschitz map.
    """
    support = ctx.process.latent.support
    g = ctx.process.mixing
    z, x = ctx.z, ctx.x
    min_sep = 1e-3 * support.scale
    i, j = _collision_candidates(z, x, min_sep, n_pairs)
    a, b = z[i].clone().requires_grad_(True), z[j].clone().requires_grad_(True)
    opt = torch.optim.Adam([a, b], lr=0.01 * support.scale)
    for _ in range(steps):
        opt.zero_grad()
        gap = ((g(a) - g(b)) ** 2).sum(-1)
        sep = ((a - b) ** 2).sum(-1)
        loss = (torch.log(gap + 1e-300) - torch.log(sep + 1e-300)).sum()
        loss.backward()
        opt.step()
        with torch.no_grad():
            a.copy_(support.project(a))
            b.copy_(support.project(b))
    a, b = a.detach(), b.detach()
    if g.n_out == g.n_in:  # Newton polish: solve g(b) = g(a) for b
        for _ in range(8):
            Jb = jacobian(g, b)
            try:
                delta = torch.linalg.solve(Jb, (g(b) - g(a)).unsqueeze(-1)).squeeze(-1)
            except RuntimeError:
                break
            candidate = support.project(b - delta)
            better = (g(candidate) - g(a)).norm(dim=-1) < (g(b) - g(a)).norm(dim=-1)
            b = torch.where(better.unsqueeze(-1), candidate, b)
    sep = (a - b).norm(dim=-1)
    stats = (g(a) - g(b)).norm(dim=-1) / (lipschitz * sep).clamp_min(1e-300)
    stats[sep < min_sep] = torch.inf
    k = int(torch.nan_to_num(stats, nan=torch.inf).argmin())
    if not torch.isfinite(stats[k]):
        return None, float("inf")
    return {"z": _point(a[k]), "z_prime": _point(b[k])}, float(stats[k])


# --- Linear mixing ------------------------------------------------------------------


@_check_assumption.register
def _(assumption: A.LinearMixing, ctx: CheckContext) -> Evidence:
    name, tol = assumption.name, assumption.tolerance
    form = ctx.sympy_form
    if form is not None:
        exact = sp.Matrix(form).jacobian(ctx.symbols)
        if not exact.free_symbols & set(ctx.symbols):
            return _proved(name, tol, "the Jacobian is constant")
    J = jacobian(ctx.process.mixing, ctx.z)
    spread = (J - J[:1]).flatten(1).norm(dim=-1) / J[0].norm().clamp_min(1e-300)
    worst = int(spread.argmax())
    return _decide(
        name,
        float(spread[worst]),
        tol,
        len(J),
        method="sampled",
        witness={"z": _point(ctx.z[0]), "z_prime": _point(ctx.z[worst])},
        violated="the Jacobian differs between these two points",
        holds=f"the Jacobian is the same at {len(J)} sampled points",
    )


# --- Density conditions -------------------------------------------------------------


def _prove_factorized(latent, symbols):
    logp = latent.log_density(symbols)
    if logp is None:
        return None, None
    outcomes = []
    for i in range(len(symbols)):
        for j in range(i + 1, len(symbols)):
            d = sp.simplify(sp.diff(logp, symbols[i], symbols[j]))
            if d != 0:
                outcomes.append((i, j, d))
    if not outcomes:
        return "proved", None
    i, j, d = outcomes[0]
    if d.is_number:
        return "violated", (i, j, float(d))
    return None, None


@_check_assumption.register
def _(assumption: A.Factorized, ctx: CheckContext) -> Evidence:
    name, tol = assumption.name, assumption.tolerance
    latent = ctx.process.latent
    if not latent.support.is_product:
        stat, witness = _dependence_statistic(ctx.z)
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=stat,
            tolerance=tol,
            n_points=len(ctx.z),
            witness=witness,
            method="support",
            message=f"the support ({type(latent.support).__name__}) is not a product set, "
            "so the coordinates are dependent",
        )
    outcome = _try_sympy(lambda: _prove_factorized(latent, ctx.symbols), ctx)
    if outcome is not None and outcome[0] == "proved":
        return _proved(name, tol, "mixed partial derivatives of log p vanish identically")
    if outcome is not None and outcome[0] == "violated":
        i, j, value = outcome[1]
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=abs(value),
            tolerance=tol,
            n_points=0,
            witness={"pair": [i, j], "mixed_partial": value},
            method="sympy",
            message=f"∂²log p/∂z{i + 1}∂z{j + 1} = {value:.4g} everywhere",
        )
    logp = latent.log_density(ctx.symbols)
    if logp is not None:
        from theory.compile import compile_exprs

        f = compile_exprs([logp], ctx.symbols)
        H = vmap(
            torch.func.hessian(lambda z: f(z)[0]),
        )(ctx.z)
        diag = H.diagonal(dim1=-2, dim2=-1).abs()
        scale = (diag[:, :, None] * diag[:, None, :]).sqrt().clamp_min(1e-6)
        off = (H.abs() / scale) * (1 - torch.eye(ctx.process.dim, dtype=H.dtype))
        per_point = off.flatten(1).amax(-1)
        worst = int(per_point.argmax())
        return _decide(
            name,
            float(per_point[worst]),
            tol,
            len(H),
            method="hessian",
            witness={"z": _point(ctx.z[worst])},
            violated="the log-density Hessian has nonzero off-diagonal entries",
            holds=f"log-density Hessian diagonal at {len(H)} sampled points",
        )
    n_samples = max(ctx.n_points, 20000)
    stat, witness = _dependence_statistic(ctx.fresh(n_samples, 2))
    return _decide(
        name,
        stat,
        6.0,
        n_samples,
        method="sample-dependence",
        witness=witness,
        violated="coordinates are dependent: a correlation of (z_i, z_j) or (z_i², z_j²) "
        "has a z-score above 6",
        holds="no significant correlation of (z_i, z_j) or (z_i², z_j²) (z-scores ≤ 6); "
        "a sample test, not proof",
    )


def _dependence_statistic(z: torch.Tensor):
    """Max |z-score| of correlations of (z_i, z_j) and (z_i^2, z_j^2), i != j."""
    n_samples, n = z.shape
    if n < 2:
        return 0.0, None
    best, witness = 0.0, None
    for features in (z, z**2):
        c = torch.corrcoef(features.T)
        c = torch.nan_to_num(c) * (1 - torch.eye(n, dtype=c.dtype))
        k = int(c.abs().argmax())
        score = float(c.abs().flatten()[k]) * np.sqrt(n_samples)
        if score > best:
            best, witness = score, {"pair": [k // n, k % n], "correlation": float(c.flatten()[k])}
    return best, witness


@_check_assumption.register
def _(assumption: A.NonGaussian, ctx: CheckContext) -> Evidence:
    name, limit = assumption.name, assumption.max_gaussian
    latent = ctx.process.latent
    gaussian = latent.gaussian_components()
    if gaussian is not None:
        count = sum(gaussian)
        verdict = "proved" if count <= limit else "violated"
        idx = [i for i, gauss in enumerate(gaussian) if gauss]
        return Evidence(
            assumption=name,
            verdict=verdict,
            statistic=float(count),
            tolerance=float(limit),
            n_points=0,
            witness=None if verdict == "proved" else {"gaussian_components": idx},
            method="family",
            message=f"{count} Gaussian component(s) (log-density quadratic in exactly those coordinates)",
        )
    n_samples = max(ctx.n_points, 20000)
    z = ctx.fresh(n_samples, 3)
    zc = (z - z.mean(0)) / z.std(0)
    skew = (zc**3).mean(0)
    kurt = (zc**4).mean(0) - 3
    score = torch.maximum(skew.abs() / np.sqrt(6 / n_samples), kurt.abs() / np.sqrt(24 / n_samples))
    gaussian_like = (score < 5.0).tolist()
    count = sum(gaussian_like)
    idx = [i for i, gauss in enumerate(gaussian_like) if gauss]
    if count <= limit:
        return Evidence(
            assumption=name,
            verdict="holds",
            statistic=float(count),
            tolerance=float(limit),
            n_points=n_samples,
            witness=None,
            method="moments",
            message=f"skewness or excess kurtosis is significantly nonzero in all but {count} component(s)",
        )
    return Evidence(
        assumption=name,
        verdict="violated",
        statistic=float(count),
        tolerance=float(limit),
        n_points=n_samples,
        witness={"gaussian_components": idx},
        method="moments",
        message=f"{count} components have skewness and excess kurtosis consistent with a "
        "Gaussian (|z-score| < 5)",
    )


@_check_assumption.register
def _(assumption: A.UniformOnSphere, ctx: CheckContext) -> Evidence:
    latent = ctx.process.latent
    ok = isinstance(latent, th.latents.UniformSphere)
    return Evidence(
        assumption=assumption.name,
        verdict="proved" if ok else "violated",
        statistic=None,
        tolerance=None,
        n_points=0,
        witness=None,
        method="family",
        message=f"the latent is {latent.family}" + ("" if ok else ", not uniform on the sphere"),
    )


@_check_assumption.register
def _(assumption: A.ConditionalFamily, ctx: CheckContext) -> Evidence:
    cond = ctx.process.conditional
    family = None if cond is None else cond.family
    ok = family == assumption.family
    return Evidence(
        assumption=f"{assumption.name}",
        verdict="proved" if ok else "violated",
        statistic=None,
        tolerance=None,
        n_points=0,
        witness=None,
        method="family",
        message=f"the conditional is {family}, required: {assumption.family}",
    )


@_check_assumption.register
def _(assumption: A.ContentInvariance, ctx: CheckContext) -> Evidence:
    name = assumption.name
    cond = ctx.process.conditional
    if cond is None:
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=None,
            tolerance=0.0,
            n_points=0,
            witness=None,
            method="conditional",
            message="the process has no conditional (no augmentation)",
        )
    content = assumption.content
    if content is None:
        content = getattr(cond, "content", None)
    z = ctx.z
    z_pos = cond.sample(z, ctx.seed, support=ctx.process.latent.support)
    changed = (z_pos - z).abs() > 1e-12
    n = ctx.process.dim
    if content is None:
        invariant = int((~changed.any(0)).sum())
        return Evidence(
            assumption=name,
            verdict="violated" if invariant == 0 else "holds",
            statistic=float(invariant),
            tolerance=None,
            n_points=len(z),
            witness=None,
            method="sampled",
            message=f"no content block declared; {invariant} coordinate(s) never changed",
        )
    content_change = float((z_pos - z)[:, :content].abs().max()) if content else 0.0
    style_rate = changed[:, content:].double().mean(0) if content < n else torch.ones(1)
    if content_change > 1e-12:
        i = int((z_pos - z)[:, :content].abs().amax(1).argmax())
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=content_change,
            tolerance=0.0,
            n_points=len(z),
            witness={"z": _point(z[i]), "z_prime": _point(z_pos[i])},
            method="sampled",
            message=f"the content block (first {content} coordinates) changes",
        )
    if float(style_rate.min()) == 0.0:
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=0.0,
            tolerance=0.0,
            n_points=len(z),
            witness=None,
            method="sampled",
            message="some style coordinate never changes: it is indistinguishable from content",
        )
    return Evidence(
        assumption=name,
        verdict="holds",
        statistic=content_change,
        tolerance=0.0,
        n_points=len(z),
        witness=None,
        method="sampled",
        message=f"content unchanged at {len(z)} pairs; each style coordinate changed in "
        f"≥ {float(style_rate.min()):.0%} of them",
    )


@_check_assumption.register
def _(assumption: A.SufficientVariability, ctx: CheckContext) -> Evidence:
    name, tol = assumption.name, assumption.tolerance
    latent = ctx.process.latent
    if not hasattr(latent, "natural_parameters"):
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=0.0,
            tolerance=tol,
            n_points=0,
            witness=None,
            method="family",
            message=f"{latent.family} has no auxiliary variable modulating it",
        )
    eta = latent.natural_parameters()
    diffs = eta[1:] - eta[:1]
    n = latent.dim
    if diffs.shape[0] < n:
        return Evidence(
            assumption=name,
            verdict="violated",
            statistic=0.0,
            tolerance=tol,
            n_points=0,
            witness=None,
            method="rank",
            message=f"{eta.shape[0]} segments give at most rank {diffs.shape[0]} < n = {n}",
        )
    sv = np.linalg.svd(diffs, compute_uv=False)
    stat = float(sv[-1] / sv[0]) if sv[0] > 0 else 0.0
    verdict = "holds" if stat > tol else "violated"
    return Evidence(
        assumption=name,
        verdict=verdict,
        statistic=stat,
        tolerance=tol,
        n_points=eta.shape[0],
        witness=None,
        method="rank",
        message=f"σ_min/σ_max of [η(u) − η(u₀)] is {stat:.3g} (rank condition, n = {n})",
    )


__all__ = ["CheckContext", "check", "has_check", "register_check", "resolve"]
