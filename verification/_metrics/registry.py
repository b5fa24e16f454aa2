"""The metric registry: ``MetricInfo``, ``register_metric``, ``compute_metrics``.

Private: import the public names from :mod:`verification.metrics`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from theory.errors import InvalidArgument, UnknownName
from verification._metrics._arrays import _as_pair
from verification.registry import Registry

if TYPE_CHECKING:
    import torch

    Array = np.ndarray | torch.Tensor

# What a metric may be told besides (z, z_hat); a metric function names the ones it uses.
CONTEXT = ("seed", "content", "process", "fit")


@dataclass(frozen=True)
class MetricInfo:
    """A registered recovery metric: its name, direction, description and function.

    ``fn(z, z_hat, **context)`` gets ``z`` and ``z_hat`` as validated float64 arrays of
    shape ``(N, d)`` and ``(N, d_hat)`` (finite, same ``N``) and, by keyword, those of
    :data:`CONTEXT` its signature names (or all of them if it takes ``**kwargs``):

    - ``seed``: the run's seed (for seeded train/test splits);
    - ``content``: the indices of the claim's content block, or None;
    - ``process``: the :class:`theory.Process` the data came from;
    - ``fit``: the learner's :class:`~verification.learners.Fit` (e.g. its ``extras``).

    It returns a number, or None when it does not apply (e.g. ``block_r2`` without a
    content block); :meth:`compute` turns the number into a plain float.
    """

    name: str
    higher_is_better: bool
    description: str
    fn: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    def compute(
        self,
        z: Array,
        z_hat: Array,
        *,
        seed: int = 0,
        content: Sequence[int] | None = None,
        process: Any = None,
        fit: Any = None,
    ) -> float | None:
        """The metric's value for ``(z, z_hat)``, or None where it does not apply."""
        if self.fn is None:
            raise InvalidArgument(f"metric {self.name!r} has no function to compute it")
        a, b = _as_pair(z, z_hat)
        context = {"seed": seed, "content": content, "process": process, "fit": fit}
        value = self.fn(a, b, **{k: context[k] for k in _context_keys(self.fn)})
        return None if value is None else _as_value(self.name, value)


def _context_keys(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The context keywords ``fn`` accepts (all of them when it takes ``**kwargs``)."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return CONTEXT
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return tuple(k for k in CONTEXT if k in names)


def _as_value(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        if not (hasattr(value, "item") and getattr(value, "ndim", None) == 0):
            raise InvalidArgument(
                f"metric {name!r} returned {type(value).__name__}, not a number (or None)"
            )
        value = value.item()
    return float(value)


_NO_VALUE = object()


class _MetricRegistry(Registry):
    """The metric registry: values are :class:`MetricInfo` registered under their name."""

    def register(self, name, value=_NO_VALUE, *, replace: bool = False):  # type: ignore[override]
        if value is _NO_VALUE:
            return super().register(name, replace=replace)
        if not isinstance(value, MetricInfo):
            raise InvalidArgument(
                f"a metric is registered as a MetricInfo (use register_metric to wrap a "
                f"function), got {type(value).__name__}"
            )
        if value.name != name:
            raise InvalidArgument(
                f"metric {value.name!r} registered under a different name {name!r}"
            )
        return super().register(name, value, replace=replace)


METRICS = _MetricRegistry("metric")
"""Every recovery metric by name: a claim's ``metric`` must be one of these."""


def register_metric(
    name: str,
    fn: Callable[..., Any] | None = None,
    *,
    higher_is_better: bool,
    description: str | None = None,
    replace: bool = False,
):
    """Register a recovery metric, so a claim can name it (``Claim(..., metric=name)``).

    Arguments:
        name: the name claims use; an existing name is refused unless ``replace=True``.
        fn: ``fn(z, z_hat, **context) -> float | None`` (see :class:`MetricInfo` for the
            arguments and the context keywords it may take). Without ``fn``, a decorator.
        higher_is_better: the metric's direction; a claim on it must say the same.
        description: one line for listings (default: the first line of ``fn``'s docstring).
        replace: replace an existing metric of that name on purpose.

    Returns:
        ``fn`` (so it can be used as a decorator).

    The signature is checked now: ``fn`` must take ``(z, z_hat)`` positionally and
    nothing else it requires beyond the context keywords.

        @register_metric("max_corr", higher_is_better=True)
        def max_corr(z, z_hat):
            return float(np.abs(np.corrcoef(z.T, z_hat.T)).max())
    """
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise InvalidArgument(f"a metric is registered under a non-empty name, got {name!r}")
    if not isinstance(higher_is_better, bool):
        raise InvalidArgument(
            f"metric {name!r}: higher_is_better must be True or False, got {higher_is_better!r}"
        )
    if description is not None and not isinstance(description, str):
        raise InvalidArgument(f"metric {name!r}: description must be a string")
    if fn is None:

        def decorator(target: Callable[..., Any]) -> Callable[..., Any]:
            register_metric(
                name,
                target,
                higher_is_better=higher_is_better,
                description=description,
                replace=replace,
            )
            return target

        return decorator
    _check_signature(name, fn)
    if description is None:
        doc = inspect.getdoc(fn) or ""
        description = doc.strip().splitlines()[0] if doc.strip() else ""
    METRICS.register(name, MetricInfo(name, higher_is_better, description, fn), replace=replace)
    return fn


def _check_signature(name: str, fn: Any) -> None:
    if not callable(fn):
        raise InvalidArgument(f"metric {name!r}: expected a function, got {type(fn).__name__}")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise InvalidArgument(f"metric {name!r}: cannot read the signature of {fn!r}") from None
    keys = _context_keys(fn)
    try:
        sig.bind(None, None, **dict.fromkeys(keys))
    except TypeError as err:
        raise InvalidArgument(
            f"metric {name!r}: {getattr(fn, '__name__', 'fn')}{sig} cannot be called as "
            f"fn(z, z_hat, **context) with context from {', '.join(CONTEXT)}: {err}"
        ) from None


def metric_info(name: str) -> MetricInfo:
    """The registered metric ``name``; :class:`UnknownName` (listing the known) if none."""
    if not isinstance(name, str):
        raise InvalidArgument(f"a metric is named by a string, got {name!r}")
    return METRICS.get(name)


def check_claim_metric(claim: Any, *, where: str = "") -> MetricInfo:
    """Validate a claim's metric before anything is computed: it must be registered and
    its direction must match the claim's ``higher_is_better``. Returns its info."""
    prefix = f"{where}: " if where else ""
    metric = getattr(claim, "metric", None)
    if not isinstance(metric, str) or metric not in METRICS:
        raise UnknownName(
            f"{prefix}the claim's metric {metric!r} is not registered; known: "
            f"{', '.join(METRICS.names())} (add one with verification.metrics.register_metric)"
        )
    info = METRICS[metric]
    if bool(getattr(claim, "higher_is_better", True)) != info.higher_is_better:
        direction = "higher" if info.higher_is_better else "lower"
        raise InvalidArgument(
            f"{prefix}metric {metric!r} is {direction}-is-better, but the claim says "
            f"higher_is_better={claim.higher_is_better}"
        )
    return info


def compute_metrics(
    names: Sequence[str],
    z: Array,
    z_hat: Array,
    *,
    seed: int = 0,
    content: Sequence[int] | None = None,
    process: Any = None,
    fit: Any = None,
) -> dict[str, float]:
    """The registered metrics ``names`` of ``(z, z_hat)``, in that order; a metric that
    does not apply (returns None) is left out. Every name is checked before any is
    computed."""
    infos = [metric_info(name) for name in dict.fromkeys(names)]
    a, b = _as_pair(z, z_hat)
    out: dict[str, float] = {}
    for info in infos:
        value = info.compute(a, b, seed=seed, content=content, process=process, fit=fit)
        if value is not None:
            out[info.name] = value
    return out


# The metrics recovery_metrics computes, in order.
STANDARD = (
    "mcc",
    "mcc_crossfit",
    "mcc_crossfit_min",
    "mcc_null",
    "mcc_spearman",
    "r2_linear",
    "r2_orthogonal",
    "r2_orthogonal_min",
    "r2_nonlinear",
    "procrustes_error",
    "cka_linear",
    "mutual_knn",
    "block_r2",
)
# Metrics that need the process or the fit; recover adds them where they apply.
DERIVED = ("block_r2_style", "r2_sufficient_stats", "amari_distance")


def recovery_metrics(
    z: Array,
    z_hat: Array,
    *,
    seed: int = 0,
    content: Sequence[int] | None = None,
) -> dict[str, float]:
    """Compute the standard recovery metrics of ``z_hat`` against ``z``.

    Returns a dict with keys ``"mcc"``, ``"mcc_crossfit"``, ``"mcc_crossfit_min"``,
    ``"mcc_null"`` (the chance level of ``"mcc"``), ``"mcc_spearman"``, ``"r2_linear"``,
    ``"r2_nonlinear"``, ``"cka_linear"``, ``"mutual_knn"``, plus ``"r2_orthogonal"``,
    ``"r2_orthogonal_min"`` and ``"procrustes_error"`` when ``d == d_hat`` and ``"block_r2"`` (nonlinear R² of the
    ``content`` block) when ``content`` is given. ``mutual_knn`` uses ``k = min(10, N - 1)`` on a seeded
    subsample of at most 5000 samples. See :data:`METRICS` for directions.
    """
    return compute_metrics(STANDARD, z, z_hat, seed=seed, content=content)
