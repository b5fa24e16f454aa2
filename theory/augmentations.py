"""Pixel-space augmentations as conditionals: the positive view of a rendered image.

SimCLR-style pipelines make the second view by augmenting the *image* (crops, colour
jitter, blur, flips), not the latent. ``Augment(ops, factors)`` is a ``Conditional``
that does so on a process whose mixing renders images (``th.mixings.Sprites``):
x' = a(g(z')), z' drawn first by an optional latent conditional (``latent``, default
z' = z), then the ops applied to the image in order, each with parameters drawn per
pair from the process's seeded numpy generator (kornia's functional ops do the pixel
work; no global torch random state is touched).

Each op states which latent factors it changes, and by how much: the positive latent
that ``sample_pairs`` returns is the *latent equivalent* of the augmented image, z'' with
g(z'') ≈ a(g(z')):

=================  =====================================  ===============================
op                 image                                  latents (physical units)
=================  =====================================  ===============================
``Crop``           a square of side s·2 at centre c,      p → (p − c) / s, scale → scale/s
                   resized to the full canvas
``Translate``      shift by d (zeros enter at the edge)   p → p + d
``Flip``           mirror left–right                      x → −x, rotation → −rotation
``ColorJitter``    hue shift by δ turns (HSV);            hue → hue + δ; brightness and
                   brightness, saturation (nuisance)      saturation change no latent
``Blur``           Gaussian blur (nuisance)               none
=================  =====================================  ===============================

Augmentations run in float32 (``PIXEL_DTYPE``; the view is returned in the observations'
dtype). Equality is exact for flips and, on a black background, for hue shifts (to
float32 precision); crops and
translations resample the pixels bilinearly, so the images agree up to interpolation
(tested). Nuisance ops change pixels but no latent: x' leaves the set of rendered images,
as real augmentations do. ``content`` is the number of leading latents no op (and no
latent conditional) changes: the block von Kügelgen et al. (2021, Theorem 4.4) say
contrastive learning on such pairs identifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from theory import _validate as valid
from theory._lazy import torch
from theory._random import RNG
from theory._spec import Spec
from theory.conditionals import Conditional, ContentStyle
from theory.errors import InvalidArgument, InvalidProcess
from theory.supports import Support

_PIXEL_DTYPE = "float32"  # the torch dtype augmentations run in (PIXEL_DTYPE)


def __getattr__(name: str) -> Any:
    """``PIXEL_DTYPE``, torch's float32, looked up when asked (no torch at import)."""
    if name == "PIXEL_DTYPE":
        return getattr(torch, _PIXEL_DTYPE)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Augmentation(Spec):
    """One pixel-space op: draws its parameters, applies them to images (B, 3, H, W) and
    to the physical factors of the objects (a dict name -> (B, objects) tensor)."""

    kind = "augmentation"
    changes: ClassVar[tuple[str, ...]] = ()  # the factors it may change

    def factors_changed(self) -> tuple[str, ...]:
        return self.changes

    def draw(self, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def apply(self, images: torch.Tensor, params: dict[str, np.ndarray]) -> torch.Tensor:
        raise NotImplementedError

    def move(self, physical: dict[str, torch.Tensor], params: dict[str, np.ndarray]) -> None:
        """Change the physical factors in place as the op changes the image."""


def _column(values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(values, dtype=like.dtype, device=like.device)


def _zoom(images: torch.Tensor, cx, cy, s) -> torch.Tensor:
    """Output canvas point p' shows input point c + s p' (canvas [−1, 1]², y up), via
    kornia's ``warp_affine`` in pixel indices: column j ← a_x + s j with
    a_x = (c_x + 1 − s) W/2 + s/2 − 1/2, row i ← a_y + s i with a_y = (1 − c_y − s) H/2 +
    s/2 − 1/2 (pixel centres at −1 + (2j + 1)/W); zeros outside."""
    from kornia.geometry.transform import warp_affine

    _, _, h, w = images.shape
    cx, cy, s = (_column(v, images) for v in (cx, cy, s))
    ax = (cx + 1 - s) * w / 2 + s / 2 - 0.5
    ay = (1 - cy - s) * h / 2 + s / 2 - 0.5
    m = torch.zeros(len(images), 2, 3, dtype=images.dtype, device=images.device)
    m[:, 0, 0] = m[:, 1, 1] = 1 / s  # source index -> destination index
    m[:, 0, 2], m[:, 1, 2] = -ax / s, -ay / s
    return warp_affine(images, m, (h, w), align_corners=True)


@dataclass
class Crop(Augmentation):
    """A random square crop resized to the full canvas (SimCLR's random resized crop, at
    aspect ratio 1): side ``s`` × the canvas, s ~ U(scale), at a uniform position inside
    the canvas. Changes position and scale: p → (p − c)/s, scale → scale/s."""

    scale: tuple[float, float] = (0.6, 1.0)
    changes: ClassVar[tuple[str, ...]] = ("x", "y", "scale")

    def __post_init__(self) -> None:
        self.scale = _interval("Crop", "scale", self.scale, 0.05, 1.0)

    def draw(self, batch, rng):
        s = rng.uniform(*self.scale, size=batch)
        room = 1 - s
        return {
            "s": s,
            "cx": rng.uniform(-1, 1, size=batch) * room,
            "cy": rng.uniform(-1, 1, size=batch) * room,
        }

    def apply(self, images, params):
        return _zoom(images, params["cx"], params["cy"], params["s"])

    def move(self, physical, params):
        s = _column(params["s"], physical["x"])[:, None]
        physical["x"] = (physical["x"] - _column(params["cx"], s)[:, None]) / s
        physical["y"] = (physical["y"] - _column(params["cy"], s)[:, None]) / s
        physical["scale"] = physical["scale"] / s


@dataclass
class Translate(Augmentation):
    """Shift the image by d ~ U([−shift, shift]²) canvas units (the canvas is 2 wide);
    zeros enter at the edges. Changes position: p → p + d."""

    shift: float = 0.2
    changes: ClassVar[tuple[str, ...]] = ("x", "y")

    def __post_init__(self) -> None:
        self.shift = valid.finite_float("Translate", "shift", self.shift, low=0.0, high=2.0)

    def draw(self, batch, rng):
        return {"dx": rng.uniform(-self.shift, self.shift, size=(batch, 2))}

    def apply(self, images, params):
        d = params["dx"]
        return _zoom(images, -d[:, 0], -d[:, 1], np.ones(len(d)))

    def move(self, physical, params):
        d = _column(params["dx"], physical["x"])
        physical["x"] = physical["x"] + d[:, :1]
        physical["y"] = physical["y"] + d[:, 1:]


@dataclass
class Flip(Augmentation):
    """Mirror left–right with probability ``p``: x → −x, rotation → −rotation (exact for
    the disc, the square and the apex-up triangle, each symmetric about the vertical)."""

    p: float = 0.5
    changes: ClassVar[tuple[str, ...]] = ("x", "rotation")

    def __post_init__(self) -> None:
        self.p = valid.probability("Flip", "p", self.p)

    def draw(self, batch, rng):
        return {"flip": rng.uniform(size=batch) < self.p}

    def apply(self, images, params):
        from kornia.geometry.transform import hflip

        flip = torch.as_tensor(params["flip"], device=images.device)[:, None, None, None]
        return torch.where(flip, hflip(images), images)

    def move(self, physical, params):
        sign = 1 - 2 * _column(params["flip"].astype(np.float64), physical["x"])[:, None]
        physical["x"] = physical["x"] * sign
        physical["rotation"] = physical["rotation"] * sign


@dataclass
class ColorJitter(Augmentation):
    """Colour jitter: hue shifted by δ ~ U(−hue, hue) turns (HSV, :func:`shift_hue`, equal to
    kornia's ``adjust_hue``);
    then brightness + b, b ~ U(−brightness, brightness), and saturation × (1 + t),
    t ~ U(−saturation, saturation) (kornia). Only the hue shift changes a latent
    (hue → hue + δ); brightness and saturation are nuisances."""

    hue: float = 0.1
    brightness: float = 0.0
    saturation: float = 0.0

    def __post_init__(self) -> None:
        self.hue = valid.finite_float("ColorJitter", "hue", self.hue, low=0.0, high=0.5)
        self.brightness = valid.finite_float(
            "ColorJitter", "brightness", self.brightness, low=0.0, high=1.0
        )
        self.saturation = valid.finite_float(
            "ColorJitter", "saturation", self.saturation, low=0.0, high=1.0
        )

    def factors_changed(self):
        return ("hue",) if self.hue > 0 else ()

    def draw(self, batch, rng):
        return {
            "hue": rng.uniform(-self.hue, self.hue, size=batch),
            "brightness": rng.uniform(-self.brightness, self.brightness, size=batch),
            "saturation": 1 + rng.uniform(-self.saturation, self.saturation, size=batch),
        }

    def apply(self, images, params):
        from kornia.enhance import adjust_brightness, adjust_saturation

        if self.hue > 0:
            images = shift_hue(images, _column(params["hue"], images))
        if self.brightness > 0:
            images = adjust_brightness(images, _column(params["brightness"], images))
        if self.saturation > 0:
            images = adjust_saturation(images, _column(params["saturation"], images))
        return images

    def move(self, physical, params):
        if self.hue > 0:
            physical["hue"] = physical["hue"] + _column(params["hue"], physical["hue"])[:, None]


def shift_hue(images: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Rotate the HSV hue of RGB images (B, 3, H, W) by ``turns`` (B,) of the colour wheel.

    The hexcone model of kornia's ``adjust_hue`` (tested equal to it), written for speed:
    v = max, c = v − min, h from the channel that is the max; then the inverse as in
    ``theory.sprites.hsv_to_rgb``, c_k = v − c clamp(min(k', 4 − k'), 0, 1),
    k' = (k + 6h) mod 6 (about thirty passes over the pixels; kornia's takes ~50 times
    longer on 32×32 batches on a CPU).
    """
    r, g, b = images[:, 0], images[:, 1], images[:, 2]
    v = torch.maximum(torch.maximum(r, g), b)
    c = v - torch.minimum(torch.minimum(r, g), b)
    safe = torch.where(c > 0, c, torch.ones_like(c))
    h = torch.where(
        v == r, (g - b) / safe, torch.where(v == g, (b - r) / safe + 2, (r - g) / safe + 4)
    )
    h6 = h + 6 * turns[:, None, None]  # the hue in sixths of a turn, shifted
    out = [
        v - c * torch.minimum(kk, 4 - kk).clamp(0.0, 1.0)
        for kk in (torch.remainder(k + h6, 6.0) for k in (5.0, 3.0, 1.0))
    ]
    return torch.stack(out, 1)


@dataclass
class Blur(Augmentation):
    """Gaussian blur with σ ~ U(sigma) pixels, kernel ``kernel`` × ``kernel`` (kornia's
    ``gaussian_blur2d``); a nuisance: it changes no latent."""

    sigma: tuple[float, float] = (0.1, 1.0)
    kernel: int = 5

    def __post_init__(self) -> None:
        self.sigma = _interval("Blur", "sigma", self.sigma, 1e-3, 20.0)
        self.kernel = valid.positive_int("Blur", "kernel", self.kernel, minimum=3, maximum=31)
        if self.kernel % 2 == 0:
            raise InvalidArgument(f"Blur: kernel must be odd, got {self.kernel}")

    def draw(self, batch, rng):
        return {"sigma": rng.uniform(*self.sigma, size=batch)}

    def apply(self, images, params):
        from kornia.filters import gaussian_blur2d

        sigma = _column(np.repeat(params["sigma"][:, None], 2, axis=1), images)
        return gaussian_blur2d(images, (self.kernel, self.kernel), sigma)


def _interval(owner: str, name: str, pair: Any, low: float, high: float) -> tuple[float, float]:
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise InvalidArgument(f"{owner}: {name} must be [low, high], got {pair!r:.80}")
    a = valid.finite_float(owner, name, pair[0], low=low, high=high)
    b = valid.finite_float(owner, name, pair[1], low=low, high=high)
    if a > b:
        raise InvalidArgument(f"{owner}: {name} needs low <= high, got {pair!r}")
    return (float(a), float(b))


@dataclass
class Augment(Conditional):
    """Pixel-space augmentations of a rendered image as the positive view (module doc).

    ``ops``: the augmentations, applied in order; ``factors``: the name of every latent
    coordinate, in order (``mixing.factor_names`` of the process's ``Sprites``; checked
    when the process is built); ``latent``: an optional latent-space conditional drawn
    first (z' ~ latent(z), default z' = z), so latent and pixel augmentations compose.
    """

    ops: tuple[Augmentation, ...] = ()
    factors: tuple[str, ...] = ()
    latent: Conditional | None = None

    def __post_init__(self) -> None:
        if isinstance(self.ops, Augmentation):
            self.ops = (self.ops,)
        if not isinstance(self.ops, (list, tuple)) or not all(
            isinstance(op, Augmentation) for op in self.ops
        ):
            raise InvalidArgument(
                f"Augment: ops must be a list of theory.augmentations ops, got {self.ops!r:.80}"
            )
        self.ops = tuple(self.ops)
        if isinstance(self.factors, str) or not isinstance(self.factors, (list, tuple)):
            raise InvalidArgument(f"Augment: factors must be a list of names, got {self.factors!r}")
        self.factors = tuple(str(f) for f in self.factors)
        if not self.factors:
            raise InvalidArgument("Augment: factors must name every latent coordinate")
        if self.latent is not None and (
            not isinstance(self.latent, Conditional) or isinstance(self.latent, Augment)
        ):
            raise InvalidArgument(
                f"Augment: latent must be a latent-space Conditional, got {self.latent!r:.80}"
            )

    @classmethod
    def for_mixing(cls, mixing, *ops: Augmentation, latent: Conditional | None = None) -> Augment:
        """``Augment(ops, mixing.factor_names, latent)``."""
        return cls(tuple(ops), tuple(mixing.factor_names), latent)

    # --- what it changes ----------------------------------------------------------------

    @staticmethod
    def _base(name: str) -> str:
        return name.rstrip("0123456789")

    def changed_factors(self) -> set[str]:
        """The factor names (without object numbers) some op changes."""
        return {f for op in self.ops for f in op.factors_changed()}

    def changed(self) -> list[bool]:
        """Per latent coordinate: whether an op (or the latent conditional) may change it."""
        touched = self.changed_factors()
        out = [self._base(f) in touched for f in self.factors]
        if self.latent is not None:
            kept = set(self._latent_content())
            out = [c or k not in kept for k, c in enumerate(out)]
        return out

    def _latent_content(self) -> list[int]:
        if self.latent is None:
            return list(range(len(self.factors)))
        if isinstance(self.latent, ContentStyle):
            return self.latent.content_indices(len(self.factors))
        return []  # another latent conditional may change every coordinate

    @property
    def content(self) -> int:
        """The number of leading latents nothing changes: the content block."""
        count = 0
        for changed in self.changed():
            if changed:
                break
            count += 1
        return count

    # --- Conditional ----------------------------------------------------------------------

    def check_coherent(self, latent) -> None:
        if latent.dim != len(self.factors):
            raise InvalidProcess(
                f"Augment names {len(self.factors)} factors but the latent has dimension "
                f"{latent.dim}"
            )
        if self.latent is not None:
            self.latent.check_coherent(latent)

    def check_mixing(self, mixing) -> None:
        names = getattr(mixing, "factor_names", None)
        if getattr(mixing, "image_shape", None) is None or names is None:
            raise InvalidProcess(
                f"Augment augments rendered images: the mixing must be an image mixing with "
                f"named factors (th.mixings.Sprites), got {mixing.family}"
            )
        if list(names) != list(self.factors):
            raise InvalidProcess(
                f"Augment's factors {list(self.factors)} differ from the mixing's "
                f"{list(names)}; build it with Augment.for_mixing(mixing, ...)"
            )

    def sample(self, z, seed: RNG = 0, support: Support | None = None):
        """The latent part only: z' ~ latent(z), or z (the ops act in ``augment``)."""
        if self.latent is None:
            return torch.as_tensor(z, dtype=torch.float64).clone()
        return self.latent.sample(z, seed, support=support)

    def augment(self, z_pos, x_pos, rng: np.random.Generator, mixing):
        """(latent equivalent z'', augmented images a(x')) of positives z' with images x'
        (``x_pos`` None: the latents alone). Parameters are drawn from ``rng`` op by op, the
        same draws whether or not the images are given."""
        params = [op.draw(len(z_pos), rng) for op in self.ops]
        z_out = self._move(z_pos, params, mixing)
        if x_pos is None:
            return z_out, None
        # pixel work in float32 (observations, not differentiated: half the time of float64)
        images = x_pos.reshape(len(x_pos), *mixing.image_shape).to(getattr(torch, _PIXEL_DTYPE))
        for op, p in zip(self.ops, params, strict=True):
            images = op.apply(images, p)
        return z_out, images.reshape(len(x_pos), -1).to(x_pos.dtype)

    def _move(self, z, params, mixing) -> torch.Tensor:
        objects, per = mixing.objects, len(mixing.factors)
        physical = {}
        for name in ("x", "y", "scale", "rotation", "hue", "value", "shape"):
            if name in mixing.factors:
                cols = z[:, [k * per + mixing.factors.index(name) for k in range(objects)]]
                physical[name] = mixing.to_physical(cols, name)
            else:  # a fixed factor: moved too, then dropped (no latent to carry it)
                physical[name] = mixing._factor(z, 0, name)[:, None].expand(-1, objects)
        for op, p in zip(self.ops, params, strict=True):
            op.move(physical, p)
        out = z.clone()
        touched = self.changed_factors()
        for name in mixing.factors:
            if name not in touched:  # left exactly as drawn (no round trip)
                continue
            cols = [k * per + mixing.factors.index(name) for k in range(objects)]
            out[:, cols] = mixing.to_latent(physical[name], name)
        return out

    # --- files ----------------------------------------------------------------------------

    def params(self):
        return {
            "ops": [op.to_dict() for op in self.ops],
            "factors": list(self.factors),
            "latent": None if self.latent is None else self.latent.to_dict(),
        }

    @classmethod
    def _from_params(cls, params):
        ops = params.get("ops", [])
        if not isinstance(ops, list):
            raise InvalidProcess("Augment: 'ops' must be a list")
        latent = params.get("latent")
        return cls(
            tuple(Augmentation.from_dict(op) for op in ops),
            tuple(params.get("factors", ())),
            None if latent is None else Conditional.from_dict(latent),
        )


__all__ = [
    "Augment",
    "Augmentation",
    "Blur",
    "ColorJitter",
    "Crop",
    "Flip",
    "Translate",
    "shift_hue",
]
