"""Validators for the numbers people pass: one function per kind of argument, one error.

In the spirit of hypothesis's ``internal/validation.py``. Every spec (latent, conditional,
mixing, support) checks each init field in ``__post_init__`` with these, so a careless or
hostile value -- from a call or from someone else's process JSON -- fails at construction
with an :class:`~theory.errors.InvalidArgument` naming the class, the parameter and the
accepted range, e.g. ``VonMisesFisher: kappa must be a finite number in (0, 1e6], got inf``,
instead of hanging, overflowing or failing deep inside numpy.

Numbers are Python or numpy ints/floats; bools are refused everywhere (``True`` is not a
dimension). Integer validators return a plain ``int``; float validators return a plain
``float`` (callers keep the value they were given, so serialised specs do not change).
The caps below keep every construction and draw finite and fast.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theory.errors import InvalidArgument

MAX_DIM = 4096  # latent/observed dimensions (and each side of a matrix)
MAX_SEED = 2**63 - 1  # seeds: non-negative ints below 2**63
MAX_ABS = 1e150  # |entries| of matrices, box ends, offsets: products stay finite
MAX_SCALE = 1e6  # scales and spreads of noise / latent distributions
MAX_KAPPA = 1e6  # von Mises-Fisher concentration
MAX_DEPTH = 64  # layers of a mixing
MAX_HIDDEN = 4096  # hidden units of a coupling layer
MAX_SEGMENTS = 10_000  # segments of a nonstationary latent


def _fmt(x: float) -> str:
    """1e6 rather than 1000000.0 or 1e+06 in messages."""
    if isinstance(x, (int, np.integer)) and abs(x) < 10**6:
        return str(int(x))
    text = f"{float(x):g}"
    return text.replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def _shown(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return f"{value!r} (a bool)"
    if isinstance(value, (int, float, np.integer, np.floating)):
        text = repr(value.item() if isinstance(value, np.generic) else value)
    else:
        text = f"{value!r} ({type(value).__name__})"
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(owner: str, name: str, what: str, value: Any) -> InvalidArgument:
    return InvalidArgument(f"{owner}: {name} must be {what}, got {_shown(value)}")


def is_integer(value: Any) -> bool:
    """A Python or numpy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> bool:
    """A Python or numpy int or float, not a bool."""
    return is_integer(value) or isinstance(value, (float, np.floating))


def positive_int(
    owner: str, name: str, value: Any, *, minimum: int = 1, maximum: int = MAX_DIM, why: str = ""
) -> int:
    """A dimension, depth or count: an int in [minimum, maximum], default [1, MAX_DIM].

    ``why`` explains the cap in the message.
    """
    if minimum == 1:
        what = f"a positive integer <= {_fmt(maximum)}"
    elif minimum == 0:
        what = f"a non-negative integer <= {_fmt(maximum)}"
    else:
        what = f"an integer in [{_fmt(minimum)}, {_fmt(maximum)}]"
    if why:
        what += f" ({why})"
    if not is_integer(value) or not minimum <= value <= maximum:
        raise _fail(owner, name, what, value)
    return int(value)


def seed(owner: str, name: str, value: Any) -> int:
    """A seed: a non-negative int below 2**63 (numpy ints accepted, bools refused)."""
    if not is_integer(value) or not 0 <= value <= MAX_SEED:
        raise _fail(owner, name, "a non-negative integer below 2**63", value)
    return int(value)


def finite_float(
    owner: str,
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite number in the interval given by ``low``/``high`` (open ends on request)."""
    if low is not None and high is not None:
        what = (
            f"a finite number in {'(' if low_open else '['}{_fmt(low)}, "
            f"{_fmt(high)}{')' if high_open else ']'}"
        )
    elif low is not None:
        what = f"a finite number {'>' if low_open else '>='} {_fmt(low)}"
    elif high is not None:
        what = f"a finite number {'<' if high_open else '<='} {_fmt(high)}"
    else:
        what = "a finite number"
    if not is_number(value):
        raise _fail(owner, name, what, value)
    x = float(value)
    ok = bool(np.isfinite(x))
    if ok and low is not None:
        ok = x > low if low_open else x >= low
    if ok and high is not None:
        ok = x < high if high_open else x <= high
    if not ok:
        raise _fail(owner, name, what, value)
    return x


def positive_float(owner: str, name: str, value: Any, *, maximum: float = MAX_SCALE) -> float:
    """A scale: a finite number in (0, maximum]."""
    return finite_float(owner, name, value, low=0.0, high=maximum, low_open=True)


def bounded_float(owner: str, name: str, value: Any, *, bound: float = MAX_ABS) -> float:
    """A location: a finite number with |value| <= bound."""
    return finite_float(owner, name, value, low=-bound, high=bound)


def probability(owner: str, name: str, value: Any) -> float:
    """A probability: a finite number in [0, 1]."""
    return finite_float(owner, name, value, low=0.0, high=1.0)


def one_of(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of a few names (strings)."""
    if not isinstance(value, str) or value not in choices:
        raise _fail(owner, name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def blocks(owner: str, value: Any, base: type) -> tuple:
    """``value`` as a non-empty tuple of ``base`` specs (a dict is rebuilt with
    ``base.from_dict``) whose dimensions total at most ``MAX_DIM``."""
    kind = base.__name__
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise InvalidArgument(f"{owner}: blocks must be a sequence of {kind}s, got {value!r:.80}")
    out = tuple(b if isinstance(b, base) else base.from_dict(b) for b in value)
    if not out or not all(isinstance(b, base) for b in out):
        raise InvalidArgument(f"{owner}: blocks must be a non-empty sequence of {kind}s")
    total = sum(b.dim for b in out)
    if total > MAX_DIM:
        raise InvalidArgument(
            f"{owner}: blocks must have total dimension <= {MAX_DIM}, got {total}"
        )
    return out


def finite_matrix(
    owner: str,
    name: str,
    value: Any,
    *,
    shape: tuple[int, int] | None = None,
    max_abs: float = MAX_ABS,
    max_dim: int = MAX_DIM,
) -> np.ndarray:
    """A rectangular, non-empty 2-D array of finite numbers with |entries| <= max_abs.

    Returns it as float64 (a copy when ``value`` was not float64 already). ``shape`` asks
    for an exact shape; otherwise each side is at most ``max_dim``.
    """
    what = (
        f"a {shape[0]}x{shape[1]} matrix" if shape is not None else "a non-empty 2-D matrix"
    ) + f" of finite numbers with |entries| <= {_fmt(max_abs)}"
    try:
        raw = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists, odd objects
        raise InvalidArgument(
            f"{owner}: {name} must be {what} (a rectangular list of rows), got a ragged "
            f"or non-numeric value ({exc})"
        ) from None
    if raw.dtype.kind not in "iuf":
        raise InvalidArgument(
            f"{owner}: {name} must be {what}, got an array of dtype {raw.dtype} (shape {raw.shape})"
        )
    if shape is not None and raw.shape != tuple(shape):
        raise InvalidArgument(f"{owner}: {name} must be {what}, got shape {raw.shape}")
    if raw.ndim != 2 or raw.size == 0 or max(raw.shape) > max_dim:
        raise InvalidArgument(
            f"{owner}: {name} must be {what} and at most {max_dim} per side, got shape {raw.shape}"
        )
    a = raw.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.all():
        i, j = np.argwhere(~finite)[0]
        raise InvalidArgument(f"{owner}: {name} must be {what}, got {a[i, j]} at [{i}, {j}]")
    big = np.abs(a) > max_abs
    if big.any():
        i, j = np.argwhere(big)[0]
        raise InvalidArgument(f"{owner}: {name} must be {what}, got {a[i, j]:g} at [{i}, {j}]")
    return a


__all__ = [
    "MAX_ABS",
    "MAX_DEPTH",
    "MAX_DIM",
    "MAX_HIDDEN",
    "MAX_KAPPA",
    "MAX_SCALE",
    "MAX_SEED",
    "MAX_SEGMENTS",
    "bounded_float",
    "finite_float",
    "finite_matrix",
    "is_integer",
    "is_number",
    "one_of",
    "positive_float",
    "positive_int",
    "probability",
    "seed",
]
