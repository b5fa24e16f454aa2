"""Learner options: one table per learner, and everything that reads options.

Each learner (and ``TrainConfig``, ``EncoderConfig``) declares its options once, in a
class attribute ``OPTIONS`` of :class:`Option` rows (scikit-learn's
``_parameter_constraints`` habit): the name, the kind of value, its bounds or choices,
whether None is allowed, and a line of help. From that one table come

- the learner's own validation (``check_options(self)`` in ``__post_init__``),
- ``apply_options`` (``--set KEY=VALUE``, a theorem's ``(name, {option: value})``,
  search and sweep candidates): dotted keys (``train.steps``), values checked and brought
  to the declared type before anything changes,
- ``normalise_options``: the one canonical spelling of a set of options
  (``learner.tau=0.1`` is ``tau=0.1``; ``tau=1`` is ``tau=1.0`` for a float option), what
  run keys and directories are derived from,
- ``describe_options``: names, kinds and help, for listings.

Error messages are one line naming the learner, the option and the values it accepts,
e.g. ``learner infonce: train.optimizer must be 'adam', 'adamw' or 'sgd', got 'lbfgs'``.
A learner without a table (a user's dataclass) is still served: its options are its
dataclass fields, checked against their annotations, then its ``__post_init__``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from theory import _validate as valid
from theory._json import load_json
from theory.errors import InvalidArgument, SithError

Kind = Literal["int", "float", "bool", "choice", "text", "floats"]
MAX_SAMPLES = 10**8  # training set sizes
LEARNER_PREFIX = "learner."  # sweeps spell the learner's own options learner.NAME


@dataclass(frozen=True)
class Option:
    """One option: ``name`` takes a value of ``kind`` within ``low``..``high`` (ints and
    floats; ``low_open`` excludes ``low``), one of ``choices`` ("choice"), or a tuple of
    ``length`` floats within the bounds ("floats"); ``optional``: None is a value too
    (the learner's own rule); ``check``: a validator of its own (e.g. a device's
    spelling), called as ``check(owner, value)``; ``what`` replaces the generated words
    for the accepted values in messages."""

    name: str
    kind: Kind
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[Any, ...] = ()
    optional: bool = False
    length: int | None = None
    what: str | None = None
    check: Callable[[str, Any], Any] | None = None

    # --- what it accepts -------------------------------------------------------------
    def accepts(self) -> str:
        """The accepted values in words (as theory._validate words them)."""
        if self.what is not None:
            words = self.what
        elif self.kind == "bool":
            words = "True or False"
        elif self.kind == "choice":
            shown = [repr(c) for c in self.choices]
            words = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
        elif self.kind == "int":
            low, high = (valid._fmt(x) for x in self._int_bounds())
            # as theory._validate.positive_int words them
            named = {"1": "a positive integer", "0": "a non-negative integer"}
            words = f"{named[low]} <= {high}" if low in named else f"an integer in [{low}, {high}]"
        else:
            words = _interval(self.low, self.high, self.low_open)
            if self.kind == "floats":
                words = f"{self.length} numbers, each {words}"
            elif self.kind == "text":
                words = "a string"
        return f"{words} (or None)" if self.optional else words

    def type_name(self) -> str:
        """The type a value must have, for "expected ..." messages."""
        if self.kind == "choice":
            return " or ".join(sorted({type(c).__name__ for c in self.choices}))
        name = {"floats": f"tuple[float, ...] of {self.length}", "text": "str"}.get(
            self.kind, self.kind
        )
        return f"{name} or None" if self.optional else name

    def has_type(self, value: Any) -> bool:
        """Whether ``value`` is of the option's type (bounds aside)."""
        if value is None:
            return self.optional
        if self.kind == "int":
            return valid.is_integer(value)
        if self.kind == "float":
            return valid.is_number(value)
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "choice":
            return any(type(value) is type(c) for c in self.choices)
        if self.kind == "text":
            return isinstance(value, str)
        return isinstance(value, (list, tuple)) and all(valid.is_number(v) for v in value)

    def parse(self, text: str) -> Any:
        """The value ``text`` spells for this option (``--set KEY=TEXT``): numbers as
        JSON, ``true``/``false`` (any case) for a bool, ``none``/``null`` for None, a
        string as written for a choice or text. The value is checked later
        (:meth:`validate`); text that spells nothing of the option's type is returned as
        it is, for the check to refuse naming what the option accepts."""
        word = text.strip()
        if self.optional and word.lower() in ("none", "null"):
            return None
        if self.kind in ("choice", "text"):
            return word
        if self.kind == "bool":
            return {"true": True, "false": False}.get(word.lower(), word)
        return json_or_text(word, self.name)

    # --- checking and the canonical value ----------------------------------------------
    def validate(self, owner: str, value: Any, key: str | None = None) -> Any:
        """``value`` in its canonical form (see :meth:`canonical`) when the option
        accepts it; else one InvalidArgument naming ``owner``, the option (``key``, its
        dotted name, where given) and what it accepts."""
        if not (value is None and self.optional):
            ok = self.has_type(value) and self._in_bounds(value)
            if ok and self.check is not None:
                self.check(owner, value)
            if not ok:
                raise InvalidArgument(
                    f"{owner}: {key or self.name} must be {self.accepts()}, got {_shown(value)}"
                )
        return self.canonical(value)

    def canonical(self, value: Any) -> Any:
        """The value in the declared type: a float option's 2 is 2.0, a numpy int a
        Python int, a list of floats a tuple (so one setting has one spelling)."""
        if value is None or not self.has_type(value):
            return value
        if self.kind == "int":
            return int(value)
        if self.kind == "float":
            return float(value)
        if self.kind == "floats":
            return tuple(float(v) for v in value)
        return value

    def _in_bounds(self, value: Any) -> bool:
        if self.kind == "floats":
            return (self.length is None or len(value) == self.length) and all(
                self._number_in_bounds(v) for v in value
            )
        if self.kind in ("int", "float"):
            return self._number_in_bounds(value)
        if self.kind == "choice":
            return value in self.choices
        return True

    def _int_bounds(self) -> tuple[int, int]:
        """An int option's bounds (default [1, MAX_DIM], as theory._validate's)."""
        low = 1 if self.low is None else int(self.low)
        return low, valid.MAX_DIM if self.high is None else int(self.high)

    def _number_in_bounds(self, value: Any) -> bool:
        x = float(value)
        if not math.isfinite(x):
            return False
        low, high = self._int_bounds() if self.kind == "int" else (self.low, self.high)
        if low is not None and (x <= low if self.low_open else x < low):
            return False
        return high is None or x <= high


def _shown(value: Any) -> str:
    """A refused value in a message: a string as written, others as theory words them."""
    return repr(value) if isinstance(value, str) and len(value) <= 80 else valid._shown(value)


def _interval(low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        return (
            f"a finite number in {'(' if low_open else '['}{valid._fmt(low)}, {valid._fmt(high)}]"
        )
    if low is not None:
        return f"a finite number {'>' if low_open else '>='} {valid._fmt(low)}"
    if high is not None:
        return f"a finite number <= {valid._fmt(high)}"
    return "a finite number"


def integer(
    name: str, low: int = 1, high: int = valid.MAX_DIM, *, optional: bool = False, help: str = ""
) -> Option:
    """An int option in [low, high]."""
    return Option(name, "int", help, low=low, high=high, optional=optional)


def number(
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    optional: bool = False,
    what: str | None = None,
    help: str = "",
) -> Option:
    """A finite float option within low..high (ints accepted, held as floats)."""
    return Option(
        name, "float", help, low=low, high=high, low_open=low_open, optional=optional, what=what
    )


def choice(name: str, *choices: Any, help: str = "") -> Option:
    """One of a few values (strings)."""
    return Option(name, "choice", help, choices=choices)


def flag(name: str, *, optional: bool = False, help: str = "") -> Option:
    """True or False."""
    return Option(name, "bool", help, optional=optional)


def content_size(
    help: str = "outputs (the content block size); None: the latent dimension",
) -> Option:
    """The encoder's output size, shared by the learners that can learn a content block."""
    return integer("content", optional=True, help=help)


def train_size(low: int = 2, *, optional: bool = False, help: str = "training samples") -> Option:
    """The size of a fixed training set."""
    return integer("n_train", low, MAX_SAMPLES, optional=optional, help=help)


def race_options(
    race_help: str = "fraction of the steps every candidate trains",
) -> tuple[Option, ...]:
    """``restarts`` and ``race``, the options of every learner that races starting points."""
    return (
        integer("restarts", 0, 100, help="extra initialisations raced (practice mode)"),
        number("race", 0, 1, help=race_help),
    )


def table(*rows: Option) -> dict[str, Option]:
    """An options table: rows by name (each name once)."""
    out: dict[str, Option] = {}
    for row in rows:
        if row.name in out:
            raise InvalidArgument(f"option {row.name!r} is declared twice")
        out[row.name] = row
    return out


def options_of(obj: Any) -> dict[str, Option] | None:
    """The table of a learner or config object (None: it declares none)."""
    return getattr(type(obj), "OPTIONS", None)


def check_options(obj: Any, owner: str | None = None) -> None:
    """Validate every option ``obj`` declares (its ``__post_init__`` calls this)."""
    owner = owner or type(obj).__name__
    for name, option in (options_of(obj) or {}).items():
        option.validate(owner, getattr(obj, name))


# --- names ------------------------------------------------------------------------------
def option_names(learner: Any) -> list[str]:
    """Every dotted option a learner accepts (e.g. ``train.steps``); none for a learner
    that is not a dataclass. ``name`` and private attributes are not options."""
    if not dataclasses.is_dataclass(learner):
        return []
    out = []
    for f in dataclasses.fields(learner):
        value = getattr(learner, f.name)
        if dataclasses.is_dataclass(value):
            out += [f"{f.name}.{g.name}" for g in dataclasses.fields(value)]
        else:
            out.append(f.name)
    return out


def option_key(learner: Any, key: Any) -> str:
    """The canonical name of an option as a user may spell it: ``learner.tau`` and
    ``tau`` are ``tau``, ``learner.train.steps`` is ``train.steps``. Refuses a name the
    learner does not have, listing those it has."""
    if not isinstance(key, str) or not key:
        raise InvalidArgument(f"option names are dotted strings, got {key!r}")
    name = key[len(LEARNER_PREFIX) :] if key.startswith(LEARNER_PREFIX) else key
    _target(learner, name if name in option_names(learner) else key)
    return name


def describe_options(learner: Any) -> list[dict[str, Any]]:
    """Each option a learner accepts: ``name``, ``accepts`` (in words, where its table
    declares it), ``help`` and the current ``value``."""
    rows = []
    for name in option_names(learner):
        target, leaf = _target(learner, name)
        option = (options_of(target) or {}).get(leaf)
        rows.append(
            {
                "name": name,
                "accepts": None if option is None else option.accepts(),
                "help": "" if option is None else option.help,
                "value": getattr(target, leaf),
            }
        )
    return rows


# --- setting and normalising --------------------------------------------------------------
def normalise_options(learner: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` in their one canonical form: keys as the learner names them
    (``learner.tau`` -> ``tau``), values checked and in the declared type (a float
    option's 2 is 2.0), sorted by key. Two spellings of one setting give equal dicts;
    nothing is changed on ``learner``. Raises InvalidArgument for an unknown name, a value
    the option refuses, or one option spelled twice."""
    if not isinstance(options, Mapping):
        raise InvalidArgument(f"options must be a dict of KEY: VALUE, got {options!r}")
    out: dict[str, Any] = {}
    for key, value in options.items():
        name = option_key(learner, key)
        if name in out:
            raise InvalidArgument(f"option {name!r} is given twice (as {key!r} too)")
        out[name] = _checked(learner, name, value)
    return dict(sorted(out.items()))


def parse_options(learner: Any, items: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` texts (``--set``) as options of ``learner``, each value read as its
    option's kind spells it (:meth:`Option.parse`; a learner without a table: JSON where
    it parses, else the text). Unknown names and malformed items are refused; values are
    checked when applied (:func:`apply_options`)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        if not sep or not key:
            raise InvalidArgument(f"--set expects KEY=VALUE, got {item!r}")
        target, leaf = _target(learner, option_key(learner, key))
        option = (options_of(target) or {}).get(leaf)
        out[key] = option.parse(raw) if option is not None else json_or_text(raw, key)
    return out


def json_or_text(text: str, key: str) -> Any:
    """``text`` as JSON (numbers, booleans, null, lists) where it parses, else the text
    itself; a non-finite number is refused (``--set KEY: TEXT is not a finite number``)."""
    try:
        return load_json(text, what=f"--set {key}")
    except SithError as err:
        if "non-finite" in str(err) or "overflows" in str(err):
            raise InvalidArgument(f"--set {key}: {text} is not a finite number") from None
        return text


def apply_options(learner: Any, options: dict[str, Any]) -> None:
    """Set dotted options like ``train.steps`` on a learner, validating each value first.

    Every part of a key must be a dataclass field of the learner (``name`` and private
    attributes are not options; ``learner.`` in front is allowed); only leaf values can be
    set (not a whole sub-config); a value must be one the option's table accepts (or, for
    a learner without a table, of the field's declared type), and is set in that type; the
    config's own checks run again, so ``train.steps=0`` is refused just as
    ``TrainConfig(steps=0)`` is. Nothing is changed when any option is refused.
    """
    if not isinstance(options, dict):
        raise InvalidArgument(f"options must be a dict of KEY: VALUE, got {options!r}")
    undo: list[tuple[Any, str, Any]] = []
    try:
        for key, value in options.items():
            name = option_key(learner, key)
            target, leaf = _target(learner, name)
            value = _checked(learner, name, value)
            undo.append((target, leaf, getattr(target, leaf)))
            setattr(target, leaf, value)
            try:
                if hasattr(target, "__post_init__"):
                    target.__post_init__()
            except (ValueError, TypeError) as err:
                raise InvalidArgument(f"invalid value for {key!r}: {err}") from None
    except InvalidArgument:
        for target, leaf, previous in reversed(undo):  # all or nothing
            setattr(target, leaf, previous)
        raise


def canonical_value(learner: Any, key: str, value: Any) -> Any:
    """``value`` in the declared type of option ``key`` (a float option's 2 is 2.0),
    unchecked: a value of another type is returned as it is, for the checks to refuse."""
    target, leaf = _target(learner, option_key(learner, key))
    option = (options_of(target) or {}).get(leaf)
    if option is not None:
        return option.canonical(value)
    annotation = typing.get_type_hints(type(target)).get(leaf, Any)
    return float(value) if wants_float(annotation) and valid.is_integer(value) else value


def _checked(learner: Any, name: str, value: Any) -> Any:
    """``value`` for option ``name`` of ``learner``, checked and in its declared type."""
    target, leaf = _target(learner, name)
    option = (options_of(target) or {}).get(leaf)
    owner = f"learner {getattr(learner, 'name', type(learner).__name__)}"
    if option is None:
        annotation = typing.get_type_hints(type(target)).get(leaf, Any)
        _check_type(name, value, annotation)
        return float(value) if wants_float(annotation) and valid.is_integer(value) else value
    if not option.has_type(value):
        raise InvalidArgument(
            f"{owner}: invalid value for {name!r}: expected {option.type_name()}, "
            f"got {_shown(value)}"
        )
    return option.validate(owner, value, key=name)


def _target(learner: Any, key: str) -> tuple[Any, str]:
    """The config object and field name that ``key`` addresses, after type checks."""
    *path, leaf = key.split(".")
    target = learner
    for part in [*path, leaf]:
        fields = (
            {f.name: f for f in dataclasses.fields(target)}
            if dataclasses.is_dataclass(target)
            else {}
        )
        if part not in fields:
            known = ", ".join(option_names(learner))
            name = getattr(learner, "name", type(learner).__name__)
            raise InvalidArgument(
                f"learner {name} has no option {key!r}; options: {known or 'none'}"
            )
        if part is leaf:
            break
        target = getattr(target, part)
    if dataclasses.is_dataclass(getattr(target, leaf)):
        raise InvalidArgument(f"{key!r} is a group of options; set its fields, e.g. {key}.steps")
    return target, leaf


# --- learners without a table: their annotations ----------------------------------------
def _check_type(key: str, value: Any, annotation: Any) -> None:
    """Raise InvalidArgument unless ``value`` fits ``annotation`` (int, float, bool, str,
    None, Literal[...], unions of these, tuple[...] of them)."""
    if not _fits(value, annotation):
        if typing.get_origin(annotation) is typing.Literal:
            shown = "one of " + ", ".join(map(repr, typing.get_args(annotation)))
        else:
            shown = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
        raise InvalidArgument(f"invalid value for {key!r}: expected {shown}, got {value!r}")


def _fits(value: Any, annotation: Any) -> bool:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(
            _fits(v, a) for v, a in zip(value, args, strict=True)
        )
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True  # an annotation this checker does not know: the config's own checks decide


def wants_float(annotation: Any) -> bool:
    """A float field that does not also take integers as such."""
    members = _members(annotation)
    return float in members and int not in members


def _members(annotation: Any) -> set[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_members(a) for a in typing.get_args(annotation)))
    return {annotation}


__all__ = [
    "Option",
    "apply_options",
    "canonical_value",
    "check_options",
    "choice",
    "content_size",
    "describe_options",
    "flag",
    "integer",
    "json_or_text",
    "normalise_options",
    "number",
    "option_key",
    "option_names",
    "options_of",
    "parse_options",
    "race_options",
    "table",
    "train_size",
    "wants_float",
]
