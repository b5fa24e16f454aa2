"""What a sweep varies: keys, their values, and the settings (grid or random) they make.

A key addresses a field of the process spec or of the learner by dotted path:

- ``dim`` (also ``latent.n``): the latent dimension; the whole process is rebuilt at that
  dimension (latent and mixing of the same families; a linear mixing is redrawn with
  ``Linear.random(n, seed)``, keeping its seed when it was drawn that way);
- ``latent.F``, ``mixing.F``, ``conditional.F``, ``view_mixing.F``: a scalar field F of
  that part of the process (``conditional.kappa``, ``mixing.depth``, ``view_mixing.seed``
  of a two-view process, ...); the process is rebuilt from its ``to_dict()`` with the
  field changed, through ``theory.Process.from_dict`` (which validates it);
- ``learner.F`` or a learner option by its own name: ``learner.tau``,
  ``learner.n_train``, ``train.batch_size``, ``encoder.width``, ... (the options
  ``sith learners`` lists), checked and typed by the learner's options table
  (:mod:`verification._options`) and its own checks.

Everything is validated before anything runs: an unknown key names the valid ones, a
value of the wrong type or out of range is refused with the field's own message.
"""

from __future__ import annotations

import copy
import itertools
import math
import numbers
import random as _random
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import theory as th
from theory._spec import Spec
from theory.errors import InvalidArgument, SithError
from verification import learners as L
from verification._candidate import Candidate
from verification._options import apply_options, canonical_value, option_names, wants_float
from verification._text import one_line

PARTS = ("latent", "mixing", "conditional", "view_mixing")
DIMENSION_KEYS = ("dim", "latent.n", "mixing.n")


@dataclass(frozen=True)
class Range:
    """A range to sample from with ``random=N``: integers when both ends are integers,
    floats otherwise; ``log=True`` samples log-uniformly (both ends must be positive)."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        for end in (self.low, self.high):
            if isinstance(end, bool) or not isinstance(end, numbers.Real) or not math.isfinite(end):
                raise InvalidArgument(
                    f"a range needs finite numbers, got {self.low!r}..{self.high!r}"
                )
        if self.low > self.high:
            raise InvalidArgument(f"a range needs low <= high, got {self.low!r}..{self.high!r}")
        if self.log and self.low <= 0:
            raise InvalidArgument(
                f"a log range needs positive ends, got {self.low!r}..{self.high!r}"
            )

    @property
    def integer(self) -> bool:
        return isinstance(self.low, numbers.Integral) and isinstance(self.high, numbers.Integral)

    def sample(self, rng: _random.Random) -> int | float:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        if self.integer:
            return int(min(max(round(value), self.low), self.high))
        return float(f"{value:.6g}")  # short, reproducible values (they name store records)

    def ends(self) -> list[int | float]:
        return [self.low, self.high]

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "log": self.log}

    @classmethod
    def parse(cls, text: str) -> Range:
        """``LOW..HIGH`` or ``LOW..HIGH:log`` (numbers as JSON: ``10``, ``0.5``, ``1e3``)."""
        import json

        body, _, flag = text.partition(":")
        low, sep, high = body.partition("..")
        if not sep or flag not in ("", "log"):
            raise InvalidArgument(f"expected LOW..HIGH or LOW..HIGH:log, got {text!r}")
        try:
            ends = [json.loads(low), json.loads(high)]
        except ValueError:
            raise InvalidArgument(f"a range needs numbers, got {text!r}") from None
        return cls(ends[0], ends[1], log=flag == "log")


@dataclass(frozen=True)
class SweepSpace:
    """The theorem, the process a sweep starts from, and what can be varied around it;
    ``learner_name``: a registered learner whose options vary instead of the theorem's
    own (an alignment's)."""

    theorem: th.Theorem
    process: th.Process
    learner_name: str | None = None

    def learner(self) -> L.Learner:
        return L.for_theorem(self.theorem, self.learner_name)

    # --- keys -------------------------------------------------------------------
    def process_keys(self) -> list[str]:
        keys = ["dim"]
        data = self.process.to_dict()
        for part in PARTS:
            spec = data.get(part) or {}
            keys += [
                f"{part}.{name}"
                for name, value in spec.items()
                if name not in ("type", "n") and not isinstance(value, (list, dict))
            ]
        return keys

    def learner_keys(self) -> list[str]:
        return [_learner_key(name) for name in option_names(self.learner())]

    def keys(self) -> list[str]:
        """Every valid key, canonical spelling."""
        return [*self.process_keys(), *self.learner_keys()]

    def canonical(self, key: Any) -> str:
        """The canonical spelling of ``key`` (``latent.n`` -> ``dim``, ``n_train`` ->
        ``learner.n_train``, ``learner.train.steps`` -> ``train.steps``), or refuse it
        naming the valid keys."""
        if not isinstance(key, str) or not key:
            raise InvalidArgument(f"a sweep key is a dotted string, got {key!r}")
        if key in DIMENSION_KEYS:
            return "dim"
        if key.split(".", 1)[0] in PARTS and key in self.process_keys():
            return key
        options = option_names(self.learner())
        name = key[len("learner.") :] if key.startswith("learner.") else key
        if name in options:
            return _learner_key(name)
        raise InvalidArgument(
            f"unknown sweep key {key!r} for theorem {self.theorem.name!r}; valid keys: "
            f"{', '.join(self.keys())}"
        )

    # --- values -----------------------------------------------------------------
    def coerce(self, key: str, value: Any) -> Any:
        """``value`` in the type the field declares (an integer 2 for a float field is 2.0,
        so ``kappa=2`` and ``kappa=2.0`` name the same store record): a learner option's
        from its options table (:mod:`verification._options`), a process field's
        from its spec class."""
        if not _is_process_key(key):
            return canonical_value(self.learner(), _option_name(key), value)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return value
        annotation = self._annotation(key)
        if annotation is not None and wants_float(annotation):
            return float(value)
        if annotation is None and key != "dim":
            part, _, name = key.partition(".")
            if isinstance((self.process.to_dict().get(part) or {}).get(name), float):
                return float(value)
        return value

    def _annotation(self, key: str) -> Any:
        """The declared type of a process key (None where it cannot be resolved)."""
        if key == "dim":
            return int
        part, _, name = key.partition(".")
        try:
            spec = self.process.to_dict()[part]
            cls = Spec._registry.get(_KINDS[part], {}).get(spec["type"])
            return typing.get_type_hints(cls).get(name) if cls is not None else None
        except Exception:  # an annotation this cannot resolve: the field's checks decide
            return None

    def normalise(self, setting: Mapping[str, Any]) -> dict[str, Any]:
        """One setting in its canonical form: canonical keys (``tau`` and
        ``learner.tau`` are ``learner.tau``; ``latent.n`` is ``dim``), each value checked
        and in its declared type (``kappa=2`` is ``kappa=2.0``), keys sorted. Two
        spellings of one setting give equal dicts: run keys and default run directories
        are derived from this (or from :func:`normalise_vary` for a whole ``vary``)."""
        if not isinstance(setting, Mapping):
            raise InvalidArgument(f"a setting is a mapping of KEY: value, got {setting!r}")
        out: dict[str, Any] = {}
        for raw_key, value in setting.items():
            key = self.canonical(raw_key)
            if key in out:
                raise InvalidArgument(f"{raw_key!r} and another key both set {key!r}")
            out[key] = self.check_value(key, value)
        return dict(sorted(out.items()))

    def check_value(self, key: str, value: Any) -> Any:
        """The coerced value, once the field accepted it; else InvalidArgument."""
        value = self.coerce(key, value)
        try:
            if _is_process_key(key):
                self.build_process({key: value})
            else:
                apply_options(self.learner(), {_option_name(key): value})
        except SithError as err:
            raise InvalidArgument(f"{key}={_show(value)}: {one_line(err)}") from None
        return value

    # --- settings -> candidates ------------------------------------------------------
    def build_process(self, setting: Mapping[str, Any]) -> th.Process:
        """The base process with the setting's process fields changed (validated)."""
        changes = {k: v for k, v in setting.items() if _is_process_key(k)}
        if not changes:
            return self.process
        data = self.process.to_dict()
        if "dim" in changes:
            data = with_dimension(data, changes["dim"])
        for key, value in changes.items():
            if key == "dim":
                continue
            part, _, name = key.partition(".")
            if data.get(part) is None:
                raise InvalidArgument(f"the process has no {part}")
            data[part][name] = value
        try:
            return th.Process.from_dict(data)
        except SithError as err:
            raise InvalidArgument(one_line(err)) from None

    def candidate(self, setting: Mapping[str, Any], device: str | None = None) -> Candidate:
        process = self.build_process(setting)
        options = {_option_name(k): v for k, v in setting.items() if not _is_process_key(k)}
        if device is not None and supports_device(self.learner()):
            options["device"] = device
        return Candidate(process, options)


_KINDS = {
    "latent": "latent",
    "mixing": "mixing",
    "conditional": "conditional",
    "view_mixing": "mixing",
}


def supports_device(learner: L.Learner) -> bool:
    """Whether the learner takes a ``device`` option (InfoNCE and its variants, VICReg,
    Barlow Twins; see ``verification.learners.devices``)."""
    return "device" in option_names(learner)


def _learner_key(option: str) -> str:
    return option if "." in option else f"learner.{option}"


def _option_name(key: str) -> str:
    return key[len("learner.") :] if key.startswith("learner.") else key


def _is_process_key(key: str) -> bool:
    return key == "dim" or key.split(".", 1)[0] in PARTS


def _show(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def with_dimension(process: dict[str, Any], n: Any) -> dict[str, Any]:
    """The process dict rebuilt at latent dimension ``n``, families kept.

    The latent and the mixing (and a view mixing) get ``n`` (their other fields kept); a
    ``Linear`` mixing is redrawn with ``Linear.random(n, seed)``, with the seed (0..9) it
    was drawn with when that is how it was made, else seed 0. Parts whose shape is not
    given by ``n`` alone (a correlated Normal, a product latent, a symbolic mixing) are
    refused."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgument(f"dim must be an integer >= 1, got {n!r}")
    data = copy.deepcopy(process)
    latent = data["latent"]
    shaped = [k for k, v in latent.items() if isinstance(v, (list, dict))]
    if "n" not in latent or shaped:
        why = f"its {', '.join(shaped)} has a fixed shape" if shaped else "it has no size n"
        raise InvalidArgument(
            f"dim: cannot rebuild latent {latent.get('type')} at another dimension ({why}); "
            "sweep a process of each dimension with --process instead"
        )
    latent["n"] = n
    for part in ("mixing", "view_mixing"):
        mixing = data.get(part)
        if mixing is None:  # a single-view process has no view_mixing
            continue
        if mixing.get("type") == "Linear":
            data[part] = th.mixings.Linear.random(n, seed=_linear_seed(mixing)).to_dict()
            continue
        shaped = [k for k, v in mixing.items() if isinstance(v, (list, dict))]
        if "n" not in mixing or shaped:
            raise InvalidArgument(
                f"dim: cannot rebuild {part} {mixing.get('type')} at another dimension; "
                "sweep a process of each dimension with --process instead"
            )
        mixing["n"] = n
    return data


def _linear_seed(mixing: dict[str, Any]) -> int:
    matrix = mixing.get("matrix") or []
    n = len(matrix)
    if n and all(len(row) == n for row in matrix):
        for seed in range(10):
            if th.mixings.Linear.random(n, seed=seed).to_dict()["matrix"] == matrix:
                return seed
    return 0


# --- settings -------------------------------------------------------------------------
def normalise_vary(
    space: SweepSpace, vary: Mapping[str, Any], *, random: int | None
) -> dict[str, list[Any] | Range]:
    """Canonical keys -> validated values (a list, or a Range with ``random``)."""
    if not isinstance(vary, Mapping) or not vary:
        raise InvalidArgument(
            f"vary must be a non-empty mapping of KEY: [values], got {vary!r}; valid keys: "
            f"{', '.join(space.keys())}"
        )
    out: dict[str, list[Any] | Range] = {}
    for raw_key, values in vary.items():
        key = space.canonical(raw_key)
        if key in out:
            raise InvalidArgument(f"{raw_key!r} and another key both vary {key!r}")
        if isinstance(values, Mapping):  # {"low": .., "high": .., "log": ..}, as sweep.json
            unknown = set(values) - {"low", "high", "log"}
            if unknown or not {"low", "high"} <= set(values):
                raise InvalidArgument(
                    f"{key}: a range is {{'low': L, 'high': H, 'log': False}}, got {values!r}"
                )
            values = Range(values["low"], values["high"], bool(values.get("log", False)))
        if isinstance(values, Range):
            if random is None:
                raise InvalidArgument(
                    f"{key}: a range ({values.low}..{values.high}) needs random=N (--random N); "
                    "a grid takes a list of values"
                )
            for end in values.ends():
                space.check_value(key, end)
            out[key] = values
            continue
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            values = [values]
        values = list(values)
        if not values:
            raise InvalidArgument(f"{key}: no values to sweep")
        checked = [space.check_value(key, v) for v in values]
        unique: list[Any] = []
        seen: set[tuple[type, Any]] = set()  # linear in the values, not quadratic
        for v in checked:
            try:
                marker = (type(v), v)
                if marker in seen:
                    continue
                seen.add(marker)
            except TypeError:  # unhashable (a list value): compare with those kept
                if any(_same(v, u) for u in unique):
                    continue
            unique.append(v)
        out[key] = unique
    return out


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def make_settings(
    vary: Mapping[str, list[Any] | Range], *, random: int | None, seed: int
) -> list[dict[str, Any]]:
    """The grid of ``vary`` (in the order given, last key fastest), or ``random`` settings
    sampled from it (seeded by ``seed``; duplicates dropped, so there may be fewer)."""
    keys = list(vary)
    if random is None:
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*vary.values())]
    rng = _random.Random(f"sith-sweep-{seed}")
    settings: list[dict[str, Any]] = []
    seen: set[str] = set()  # duplicates dropped in linear time
    for _ in range(random):
        setting = {
            k: v.sample(rng) if isinstance(v, Range) else rng.choice(v) for k, v in vary.items()
        }
        marker = repr(sorted((k, type(v).__name__, repr(v)) for k, v in setting.items()))
        if marker not in seen:
            seen.add(marker)
            settings.append(setting)
    return settings


def vary_record(vary: Mapping[str, list[Any] | Range]) -> dict[str, Any]:
    """``vary`` as JSON (ranges as {low, high, log})."""
    return {k: v.to_dict() if isinstance(v, Range) else list(v) for k, v in vary.items()}


def normalised_settings(
    theorem: th.Theorem,
    vary: Mapping[str, Any],
    *,
    process: th.Process | None = None,
    random: int | None = None,
    learner: str | None = None,
) -> dict[str, Any]:
    """THE normal form of what a sweep (or an alignment) varies, as JSON: canonical keys
    (``tau`` and ``learner.tau`` are ``learner.tau``; ``latent.n`` is ``dim``) and values
    typed as their fields declare (``kappa=2`` is ``2.0``), validated. Default run
    directories hash it, so one sweep however spelled is one directory (and the store
    keys come from the same values). The one place to point at a shared option
    normaliser."""
    space = SweepSpace(theorem, process or theorem.canonical_process(), learner)
    return vary_record(normalise_vary(space, vary, random=random))


__all__ = [
    "Range",
    "SweepSpace",
    "make_settings",
    "normalise_vary",
    "normalised_settings",
    "supports_device",
    "vary_record",
    "with_dimension",
]
