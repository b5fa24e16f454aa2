"""A data-generating process: latent + mixing (+ conditional for positive pairs), and
optionally a second, view-specific mixing for the positive view (multi-view /
multimodal processes: Daunhawer et al. 2023; Yao et al. 2024)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from theory._json import load_json
from theory._lazy import torch
from theory._random import RNG, as_rng
from theory._spec import canonical_json, digest
from theory.conditionals import Conditional
from theory.errors import InvalidArgument, InvalidProcess, SithError
from theory.latents import Latent
from theory.mixings import Mixing

SCHEMA = "sith.process/1"


@dataclass(eq=False)
class Process:
    """z ~ latent, x = mixing(z); with a conditional, positive pairs z' ~ p(z'|z).

    ``view_mixing`` (optional, needs a conditional): the positive view has its own
    mixing, x' = view_mixing(z') instead of mixing(z') -- two views made by two
    mechanisms, e.g. two modalities (Daunhawer et al. 2023, x1 = f1(z1), x2 = f2(z2);
    Yao et al. 2024, one mixing per view). ``sample``/``observe`` give view 1 (what an
    encoder is evaluated on); ``sample_pairs`` gives (z, z', mixing(z), view_mixing(z')).
    Its output dimension must equal the mixing's: both views live in one observation
    space, so single-encoder learners still apply (one encoder for two mechanisms).
    Absent (None), the process is the single-view one it always was: its JSON, and so
    its hash, has no ``view_mixing`` key.
    """

    latent: Latent
    mixing: Mixing
    conditional: Conditional | None = None
    view_mixing: Mixing | None = None

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
        if self.view_mixing is not None and not isinstance(self.view_mixing, Mixing):
            raise InvalidArgument(
                f"view_mixing must be a theory.mixings.Mixing or None, got {self.view_mixing!r}"
            )
        for part in (self.latent, self.mixing, self.conditional, self.view_mixing):
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
            for _, mixing in self.views:
                self.conditional.check_mixing(mixing)
        if self.view_mixing is not None:
            self._check_view_mixing(self.view_mixing)

    def _check_view_mixing(self, view: Mixing) -> None:
        if self.conditional is None:
            raise InvalidArgument(
                "a view_mixing observes the positive view z' ~ p(z'|z): the process needs a "
                "conditional"
            )
        if view.n_in != self.latent.dim:
            raise InvalidArgument(
                f"dimension mismatch: the latent has dimension {self.latent.dim} but the "
                f"view_mixing {view.family} takes inputs of dimension {view.n_in}"
            )
        if view.n_out != self.mixing.n_out:
            raise InvalidArgument(
                f"the view_mixing {view.family} has {view.n_out} outputs but the mixing "
                f"{self.mixing.family} has {self.mixing.n_out}: both views must live in one "
                "observation space"
            )

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
        x, x_pos = self.observe(z), self.observe_view(z_pos)
        # pixel-space augmentations (theory/augmentations.py): the augmented view and the
        # latents it shows; a latent-space conditional returns both unchanged
        z_pos, x_pos = self.conditional.augment(z_pos, x_pos, rng, self.view_mixing or self.mixing)
        return z, z_pos, x, x_pos

    def positive_latents(self, z: torch.Tensor, seed: RNG = 0) -> torch.Tensor:
        """z' for anchors z as ``sample_pairs`` draws them, without rendering: the
        conditional's draw, then the latent effect of any pixel augmentation."""
        if self.conditional is None:
            raise InvalidArgument("this process has no conditional: positive pairs are undefined")
        rng = as_rng(seed)
        z_pos = self.conditional.sample(z, rng, support=self.latent.support)
        return self.conditional.augment(z_pos, None, rng, self.view_mixing or self.mixing)[0]

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """x = g(z), checking that the mixing's outputs are finite."""
        return _finite(self.mixing, z, "mixing")

    def observe_view(self, z: torch.Tensor) -> torch.Tensor:
        """The positive view's observation of z: view_mixing(z), or g(z) (``observe``)
        for a single-view process."""
        if self.view_mixing is None:
            return self.observe(z)
        return _finite(self.view_mixing, z, "view_mixing")

    @property
    def views(self) -> tuple[tuple[str, Mixing], ...]:
        """(field name, mixing) of every view: the mixing, then the view mixing if any."""
        out: tuple[tuple[str, Mixing], ...] = (("mixing", self.mixing),)
        if self.view_mixing is not None:
            out += (("view_mixing", self.view_mixing),)
        return out

    def single_view(self, name: str = "mixing") -> Process:
        """This process seen through one view's mechanism alone: latent, conditional and
        the mixing ``name`` ("mixing" or "view_mixing") for both views. What an
        assumption about "the" mixing is decided on, once per view."""
        mixing = dict(self.views).get(name)
        if mixing is None:
            raise InvalidArgument(
                f"this process has no view {name!r}; views: {', '.join(dict(self.views))}"
            )
        return Process(self.latent, mixing, self.conditional)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "schema": SCHEMA,
            "latent": self.latent.to_dict(),
            "mixing": self.mixing.to_dict(),
            "conditional": None if self.conditional is None else self.conditional.to_dict(),
        }
        if self.view_mixing is not None:  # absent, not null: single-view hashes unchanged
            data["view_mixing"] = self.view_mixing.to_dict()
        return data

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
        unknown = sorted(set(data) - {"schema", "latent", "mixing", "conditional", "view_mixing"})
        if unknown:
            raise InvalidProcess(
                f"unknown process key(s) {', '.join(map(repr, unknown))}; "
                "expected latent, mixing, conditional (and schema, view_mixing)"
            )
        for key in ("latent", "mixing"):
            if key not in data:
                raise InvalidProcess(f"a process needs a {key!r} entry")
        cond = data.get("conditional")
        view = data.get("view_mixing")
        try:
            return cls(
                latent=Latent.from_dict(data["latent"]),
                mixing=Mixing.from_dict(data["mixing"]),
                conditional=None if cond is None else Conditional.from_dict(cond),
                view_mixing=None if view is None else Mixing.from_dict(view),
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
        view = "" if self.view_mixing is None else f", view_mixing={self.view_mixing.family}"
        return (
            f"Process(latent={self.latent.family}({self.dim}), mixing={self.mixing.family}"
            f"{cond}{view})"
        )


def _finite(mixing: Mixing, z: torch.Tensor, field: str) -> torch.Tensor:
    """mixing(z), refusing (InvalidProcess) a non-finite output and naming the point."""
    x = mixing(z)
    if not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).any(dim=-1).nonzero()[0, 0]
        raise InvalidProcess(
            f"{field} {mixing.family} produced a non-finite output at z = {z[bad].tolist()}"
        )
    return x
