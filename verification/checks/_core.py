"""The machinery every check shares: the context, the entry point and the registry.

``check`` validates its arguments, refuses an ``n_points`` whose arrays cannot fit,
builds one ``CheckContext`` (process, sample points, settings), and hands each
assumption to the decider registered for its type (``register_check``), timing it.
``_try_sympy`` runs a decider's exact attempt in a time-limited child process.

The section modules (``jacobian``, ``injective``, ``density``, ``conditional``) import
from here and from ``_evidence``, never from the package ``__init__``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import numbers
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
import torch

import theory as th
from theory import assumptions as A
from theory._resources import require_memory
from theory.errors import InvalidArgument, UnknownName
from verification import learners
from verification._timelimit import (
    ChildError,
    NoTimeLimitHere,
    TimeLimitExceeded,
    time_limited,
)
from verification.checks._views import each_view
from verification.evidence import Evidence, EvidenceSet

DEFAULT_POINTS = 1024
#: torch threads while a check runs. Checks work on batches of small matrices (n x m
#: Jacobians and their SVDs): a second thread speeds none of it up, and on a busy
#: machine LAPACK's threads slow a batched SVD with vectors of 64 50 x 50 matrices 15x
#: (0.05 s -> 0.76 s). A sweep's or a search's workers already run checks at 1 thread.
CHECK_THREADS = 1


@contextlib.contextmanager
def _check_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(min(previous, CHECK_THREADS))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass
class CheckContext:
    """Shared state of one check: the process, sample points and settings."""

    process: th.Process
    n_points: int = DEFAULT_POINTS
    seed: int = 0
    time_limit: float = 2.0
    adversarial_steps: int = 60
    learner: Any = None  # the Learner whose configuration learner assumptions are about
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
    learner: Any = None,
) -> Evidence | EvidenceSet:
    """Check an assumption (-> Evidence) or every assumption of a theorem (-> EvidenceSet).

    ``target`` may be a catalogue name ("conformal", "cl-ica"). ``time_limit`` bounds
    each sympy attempt (seconds); ``n_points`` sampled points; ``seed`` fixes every draw.
    ``learner``: the learner that assumptions about the learner (``theory.
    learner_conditions``) are decided for: a Learner, a registered name or ``(name,
    options)``; for a theorem it defaults to the theorem's own learner.
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
    learner = _learner_for(target, learner)
    ctx = CheckContext(process, n_points, seed, time_limit, adversarial_steps, learner)
    with _check_threads():
        ctx.x  # noqa: B018 -- evaluate g once: non-finite outputs fail here, clearly
        if len(process.views) > 1:
            process.observe_view(ctx.z)  # and the positive view's mixing
        if isinstance(target, th.Theorem):
            return EvidenceSet(target.name, tuple(_timed(a, ctx) for a in target.assumptions))
        return _timed(target, ctx)


def _learner_for(target: th.Assumption | th.Theorem, learner: Any) -> Any:
    """The Learner a check is about: the one given, or the theorem's own."""
    if learner is not None:
        return learners.resolve(learner)
    if isinstance(target, th.Theorem):
        return learners.for_theorem(target)
    return None


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
    if getattr(assumption, "about_mixing", False) and len(ctx.process.views) > 1:
        evidence = each_view(assumption, ctx, _decide)  # about every view's mixing
    else:
        evidence = _decide(assumption, ctx)
    return dataclasses.replace(evidence, seconds=time.perf_counter() - start)


def _decide(assumption: th.Assumption, ctx: CheckContext) -> Evidence:
    """The registered decider's Evidence, saying why an exact attempt gave no answer."""
    ctx._cache.pop("sympy_note", None)
    evidence = _check_assumption(assumption, ctx)
    message = evidence.message
    if ctx._cache.get("sympy_note") and evidence.verdict != "proved":
        message += f" (exact sympy attempt: {ctx._cache['sympy_note']})"
    return dataclasses.replace(evidence, message=message)


# leaves of a mixing's symbolic form above which no exact attempt is made: such a form
# takes longer to build and simplify than the time limit, so the verdict (and the time)
# would otherwise depend on the machine's speed and load. Measured on an idle 2-core
# machine: an InvertibleMLP at n = 10, depth 3 (4e4 leaves) spent its whole 2 s on each
# Jacobian attempt; n <= 7 at depth 3 (<= 9604) is still attempted
SYMBOLIC_SIZE_LIMIT = 10_000


def symbolic_too_large(ctx: CheckContext) -> bool:
    """Whether the mixing's symbolic form is beyond ``SYMBOLIC_SIZE_LIMIT`` (then the
    Evidence message says the exact attempt was skipped, and why)."""
    size = ctx.process.mixing.symbolic_size()
    if size is None or size <= SYMBOLIC_SIZE_LIMIT:
        return False
    _note_sympy(
        ctx,
        f"skipped: the mixing's symbolic form has about {size:.2g} terms (limit "
        f"{SYMBOLIC_SIZE_LIMIT:,}), too large to decide exactly on any machine",
    )
    return True


def try_on_the_form(fn, ctx: CheckContext):
    """:func:`_try_sympy` on the mixing's symbolic form, unless that form is too large
    (:func:`symbolic_too_large`: then None, the same on every machine)."""
    return None if symbolic_too_large(ctx) else _try_sympy(fn, ctx)


def _try_sympy(fn, ctx: CheckContext):
    """Run a symbolic attempt within the time limit; None when it gives up.

    The attempt runs in a child process killed at ``ctx.time_limit`` (see
    ``verification._timelimit``), so it can neither hang a check nor be swallowed. Any
    sympy error means "no exact answer", never a crash: the numeric checks decide, and
    the Evidence message says why the exact attempt gave none, naming the exception's
    type. With ``time_limit=inf`` the attempt runs in this process, unbounded; its
    errors are caught and reported the same way.
    """
    try:
        return time_limited(fn, ctx.time_limit)
    except NoTimeLimitHere as err:
        _note_sympy(ctx, f"skipped, {err}")
    except TimeLimitExceeded:
        _note_sympy(ctx, f"undecided within the {ctx.time_limit:g} s time limit")
    except ChildError as err:  # its message is "TypeName: message"
        _note_sympy(ctx, f"failed with {_short(str(err))}")
    except Exception as err:
        _note_sympy(ctx, f"failed with {type(err).__name__}: {_short(str(err))}")
    return None


def _note_sympy(ctx: CheckContext, note: str) -> None:
    """Say in the Evidence message why the exact attempt gave no answer."""
    ctx._cache["sympy_note"] = note


FLOAT_NOTE = " (sympy on float coefficients: exact arithmetic on the floats as given)"


def float_note(*exprs) -> str:
    """The message suffix for a sympy decision on expressions with float coefficients."""
    has = any(isinstance(e, sp.Basic) and e.atoms(sp.Float) for e in exprs)
    return FLOAT_NOTE if has else ""


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the registry: one decider per assumption type ----------------------------------


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

        @functools.wraps(fn)  # the registry shows the decider's own name
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
