"""A data-generating process: latent + mixing (+ conditional for positive pairs)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from theory._json import load_json
from theory._random import RNG, as_rng
from theory._spec import canonical_json, digest
from theory.conditionals import Conditional
from theory.errors import InvalidArgument, InvalidProcess, SithError
from theory.latents import Latent
from theory.mixings import Mixing

SCHEMA = "sith.process/1"


@dataclass(eq=False)
class Process:
    """z ~ latent, x = mixing(z); with a conditional, positive pairs z' ~ p(z'|z)."""

    latent: Latent
    mixing: Mixing
    conditional: Conditional | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.latent, Latent):
            raise InvalidArgument(f"latent must be a theory.latents.Latent, got {self.latent!r}")
        if not isinstance(self.mixing, Mixing):
            hint = (
                "; wrap torch code with theory.mixings.Torch(fn_or_module, n)"
                if callable(self.mixing)
                else ""
            )
            raise InvalidArgument(
                f"mixing must be a theory.mixings.Mixing, got {self.mixing!r}{hint}"
            )
        for part in (self.latent, self.mixing, self.conditional):
            if part is not None and not dataclasses.is_dataclass(part):
                raise InvalidArgument(
                    f"{type(part).__name__} must be a dataclass (decorate it with "
                    "@dataclasses.dataclass): its fields are what defines it, in its JSON and "
                    "its hash"
                )
        if self.conditional is not None and not isinstance(self.conditional, Conditional):
            raise InvalidArgument(
                f"conditional must be a Conditional or None, got {self.conditional!r}"
            )
        if self.latent.dim != self.mixing.n_in:
            raise InvalidArgument(
                f"dimension mismatch: the latent has dimension {self.latent.dim} but the "
                f"mixing {self.mixing.family} takes inputs of dimension {self.mixing.n_in}"
            )
        if self.conditional is not None:  # positives that cannot be drawn: refused now
            self.conditional.check_coherent(self.latent)

    @property
    def dim(self) -> int:
        return self.latent.dim

    def sample(self, n: int, seed: RNG = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, x) with z ~ latent and x = g(z), float64."""
        z = self.latent.sample(n, seed)
        return z, self.observe(z)

    def sample_pairs(self, n: int, seed: RNG = 0):
        """(z, z', x, x') for positive pairs; requires a conditional."""
        if self.conditional is None:
            raise InvalidArgument("this process has no conditional: positive pairs are undefined")
        rng = as_rng(seed)
        z = self.latent.sample(n, rng)
        z_pos = self.conditional.sample(z, rng, support=self.latent.support)
        return z, z_pos, self.observe(z), self.observe(z_pos)

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """x = g(z), checking that the mixing's outputs are finite."""
        x = self.mixing(z)
        if not torch.isfinite(x).all():
            bad = (~torch.isfinite(x)).any(dim=-1).nonzero()[0, 0]
            raise InvalidProcess(
                f"mixing {self.mixing.family} produced a non-finite output at z = {z[bad].tolist()}"
            )
        return x

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "latent": self.latent.to_dict(),
            "mixing": self.mixing.to_dict(),
            "conditional": None if self.conditional is None else self.conditional.to_dict(),
        }

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @property
    def hash(self) -> str:
        return digest(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> Process:
        """Rebuild a process from :meth:`to_dict` output (untrusted data: validated)."""
        if not isinstance(data, dict):
            kind = "null" if data is None else type(data).__name__
            raise InvalidProcess(f"a process must be a JSON object, got {kind}")
        if data.get("schema", SCHEMA) != SCHEMA:
            raise InvalidProcess(
                f"unsupported process schema {data.get('schema')!r}; expected {SCHEMA!r}"
            )
        unknown = sorted(set(data) - {"schema", "latent", "mixing", "conditional"})
        if unknown:
            raise InvalidProcess(
                f"unknown process key(s) {', '.join(map(repr, unknown))}; "
                "expected latent, mixing, conditional (and schema)"
            )
        for key in ("latent", "mixing"):
            if key not in data:
                raise InvalidProcess(f"a process needs a {key!r} entry")
        cond = data.get("conditional")
        try:
            return cls(
                latent=Latent.from_dict(data["latent"]),
                mixing=Mixing.from_dict(data["mixing"]),
                conditional=None if cond is None else Conditional.from_dict(cond),
            )
        except SithError:
            raise
        except (TypeError, ValueError) as err:  # an incoherent combination
            raise InvalidProcess(str(err)) from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Process:
        """Parse a process JSON file's text: data only, never code (see ``_json``)."""
        return cls.from_dict(load_json(text, what="process JSON"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Process) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def describe(self) -> str:
        cond = "" if self.conditional is None else f", conditional={self.conditional.family}"
        return (
            f"Process(latent={self.latent.family}({self.dim}), mixing={self.mixing.family}{cond})"
        )
