"""torch.optim's Adam, AdamW and SGD, without the 0.8 s import of ``torch._dynamo``.

Two of ``torch.optim``'s decorators exist for ``torch.compile`` alone, and each imports
``torch._dynamo`` when first called (lazily, to avoid a circular import): 0.8 s and some
300 modules in every process that trains (torch 2.13, 2 cores; torch itself imports
in 0.85 s).

- ``torch._disable_dynamo`` on ``add_param_group`` (called by the constructor),
  ``zero_grad``, ``state_dict`` and ``load_state_dict``: it tells the compiler not to
  trace them;
- ``_use_grad_for_differentiable`` on ``step``: it sets the grad mode to the
  optimiser's ``differentiable`` flag around the step and inserts graph breaks.

sith never compiles an optimiser, so these classes call the undecorated methods
(``functools.wraps`` keeps each as ``__wrapped__``) and set the grad mode as the
decorator does. The update rules are torch's own code: the parameters after any
number of steps are bitwise those of ``torch.optim`` (``tests/test_optimizers.py``),
and step hooks and the profiler's step names work as they do there. Where a torch
version does not wrap a method, it is used as it is.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import torch


def _undecorated(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` without the decorator ``functools.wraps`` recorded, if any."""
    return getattr(method, "__wrapped__", method)


def _step_without_graph_breaks(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` (an optimiser's, possibly hooked and decorated) as the undecorated
    step run in the grad mode ``_use_grad_for_differentiable`` sets."""
    raw = inspect.unwrap(step)
    if raw is step:
        return step

    @functools.wraps(raw)
    def eager_step(self: torch.optim.Optimizer, closure: Any = None) -> Any:
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return raw(self, closure)

    return eager_step


class _Eager:
    """The methods of :class:`torch.optim.Optimizer` that import ``torch._dynamo``,
    undecorated (see the module docstring)."""

    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)


class Adam(_Eager, torch.optim.Adam):
    """:class:`torch.optim.Adam` without the ``torch._dynamo`` import."""

    step = _step_without_graph_breaks(torch.optim.Adam.step)


class AdamW(_Eager, torch.optim.AdamW):
    """:class:`torch.optim.AdamW` without the ``torch._dynamo`` import."""

    step = _step_without_graph_breaks(torch.optim.AdamW.step)


class SGD(_Eager, torch.optim.SGD):
    """:class:`torch.optim.SGD` without the ``torch._dynamo`` import."""

    step = _step_without_graph_breaks(torch.optim.SGD.step)
