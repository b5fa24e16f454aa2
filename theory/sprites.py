"""Rendered image mixings: x = g(z) is a picture of sprites whose factors are the latents.

``Sprites`` is a differentiable, batched 2-D renderer in plain torch: each object is a
shape given by its signed distance function d (Quilez's exact 2-D distance functions for
the disc, the square and the equilateral triangle, and a continuous morph between them),
rasterised softly with coverage α = σ(−d / w) at every pixel centre (w = ``softness`` ×
half a pixel), coloured in HSV (hue, saturation, value) and composited back to front over
the background (``over``: c ← c (1 − α) + colour α; later objects occlude earlier ones).
The output is the image flattened in (channel, row, column) order, x ∈ R^{3·H·W}, so every
check, learner and search that works on vectors works on pixels unchanged; the
``image_shape`` attribute (3, H, W) lets image encoders and augmentations reshape it.

Latents: coordinate k drives the factor ``factors[k % F]`` of object ``k // F`` (F the
number of factors), mapped affinely from the latent interval ``domain`` (default [−1, 1],
the support of ``Uniform``) onto the factor's physical range (``RANGES``, overridable per
factor with ``ranges``); values outside ``domain`` extrapolate linearly. Physical units:
the canvas is [−1, 1]², x to the right and y upwards; ``scale`` is the object's radius
(half the square's side, the disc's radius, the triangle's circumradius); ``rotation``
in radians, counter-clockwise (a full turn by default); ``hue`` in turns (the full colour
wheel by default); ``value`` the HSV value (brightness); ``shape`` the morph parameter
(0 square, 0.5 disc, 1 triangle; needs ``shape="morph"``). Factors that are not latents
take the values in ``fixed`` (default: centred, radius 0.3, unrotated, red, value 1).

Known symmetries (``symmetric_pairs``) give the injectivity check witnesses a reader
recognises: a square turned by a quarter turn, a triangle by a third, a disc by any angle,
a hue moved by a full turn, and two identical objects swapped all render the same image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from theory import _validate as valid
from theory._lazy import torch
from theory.errors import InvalidArgument

# physical range of each factor (canvas units, radians, turns)
RANGES: dict[str, tuple[float, float]] = {
    "x": (-0.6, 0.6),
    "y": (-0.6, 0.6),
    "scale": (0.2, 0.45),
    "rotation": (0.0, 2 * math.pi),
    "hue": (0.0, 1.0),
    "value": (0.5, 1.0),
    "shape": (0.0, 1.0),
}
# the value of a factor that is not a latent
DEFAULTS: dict[str, float] = {
    "x": 0.0,
    "y": 0.0,
    "scale": 0.3,
    "rotation": 0.0,
    "hue": 0.0,
    "value": 1.0,
    "shape": 0.5,
}
PERIODS: dict[str, float] = {"hue": 1.0}  # periodic factors (rotation: per shape, below)
SHAPES = ("disc", "square", "triangle", "morph")
# the rotation that maps a shape onto itself (disc: every angle; a quarter turn is used)
ROTATION_PERIOD = {"disc": math.pi / 2, "square": math.pi / 2, "triangle": 2 * math.pi / 3}
SIZES = (8, 256)  # smallest and largest image side
MAX_OBJECTS = 3


# Each shape is given by its level ℓ(p) = d(p) + 1, d its signed distance in units of the
# object's radius (negative inside): the boundary is ℓ = 1. Returning ℓ saves a pass.


def _level_disc(px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """|p|: the exact distance to the unit disc, plus 1."""
    return torch.sqrt(torch.addcmul(px * px, py, py) + 1e-30)  # 1e-30: no 0/0 in the gradient


def _level_square(px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """max(|px|, |py|): the L∞ distance to the square [−1, 1]², plus 1. It equals the
    Euclidean signed distance inside and along the edges and is below it near the
    corners (where the exact one rounds off); two passes over the pixels instead of ten."""
    return torch.maximum(px.abs(), py.abs())


def _level_square_stacked(local: torch.Tensor) -> torch.Tensor:
    """:func:`_level_square` of the stacked (px, py): one pass of abs over both."""
    a = local.abs()
    return torch.maximum(a[0], a[1])


_SQRT3 = math.sqrt(3.0)
# outward unit normals of the equilateral triangle of circumradius 1, apex up
_TRIANGLE_NORMALS = ((0.0, -1.0), (_SQRT3 / 2, 0.5), (-_SQRT3 / 2, 0.5))


def _level_triangle(px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """max_i n_i·p + 1/2 over the outward edge normals n_i of the equilateral triangle of
    circumradius 1 (inradius 1/2), apex up: the distance to the intersection of its three
    half-planes, plus 1; exact inside and along the edges, below the Euclidean distance
    near the vertices (like the square's)."""
    planes = [nx * px + ny * py for nx, ny in _TRIANGLE_NORMALS]
    return torch.maximum(torch.maximum(planes[0], planes[1]), planes[2]) + 0.5


_LEVEL = {"disc": _level_disc, "square": _level_square, "triangle": _level_triangle}


def _level_morph(px, py, t):
    """Square (t = 0) → disc (t = 1/2) → triangle (t = 1), blending distances linearly."""
    a = (2 * t).clamp(0.0, 1.0)
    b = (2 * t - 1).clamp(0.0, 1.0)
    disc = _level_disc(px, py)
    return (1 - a) * _level_square(px, py) + (a - b) * disc + b * _level_triangle(px, py)


def hsv_to_rgb(h: torch.Tensor, s: torch.Tensor | float, v: torch.Tensor) -> torch.Tensor:
    """HSV → RGB (the standard hexcone; hue in turns), stacked on a new last axis.

    c_k = v (1 − s clamp(min(k', 4 − k'), 0, 1)), k' = (k + 6 h) mod 6 for k = 5, 3, 1:
    piecewise linear in h, so differentiable except at multiples of 1/6; kornia's
    ``rgb_to_hsv``/``hsv_to_rgb`` use the same model, so a hue shift of the image is a
    shift of ``hue`` (on a black background, where anti-aliased edges keep the hue).
    """
    out = []
    for k in (5.0, 3.0, 1.0):
        kk = torch.remainder(k + 6.0 * h, 6.0)
        out.append(v * (1 - s * torch.minimum(kk, 4 - kk).clamp(0.0, 1.0)))
    return torch.stack(out, dim=-1)


def _by_factor(field: str, value, shape: str, known) -> list[tuple[str, object]]:
    """The ``(factor, entry)`` items of a Sprites option ``field`` (a dict keyed by factor
    names from ``known``), sorted; none for None; one line naming the problem otherwise."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise InvalidArgument(
            f"Sprites: {field} must be a dict {{factor: {shape}}}, got {value!r:.80}"
        )
    unknown = sorted(name for name in value if name not in known)
    if unknown:
        raise InvalidArgument(f"Sprites: {field} names an unknown factor {unknown[0]!r}")
    return sorted(value.items())


@dataclass(eq=False)
class SpriteRenderer:
    """The renderer behind the mixing ``theory.mixings.Sprites`` (which adds the
    ``Mixing`` base; kept apart so that this module does not import ``theory.mixings``).

    Images of 1–3 sprites whose factors are the latents (see the module docstring).

    ``Sprites(size=32, shape="square", factors=("x", "y", "scale"))``: an RGB image of
    size × size pixels, x ∈ R^{3·size²}, from n = objects × len(factors) latents.
    ``shape``: "disc", "square", "triangle" or "morph" (the factor ``shape`` blends
    square → disc → triangle); ``ranges``: {factor: [low, high]} physical ranges to
    override; ``fixed``: {factor: value} for factors that are not latents;
    ``background``: RGB in [0, 1]; ``saturation``: of every object's colour;
    ``softness``: edge width in pixels; ``domain``: the latent interval mapped onto the
    ranges.
    """

    size: int = 32
    shape: str = "square"
    factors: tuple[str, ...] = ("x", "y", "scale")
    objects: int = 1
    ranges: dict[str, tuple[float, float]] | None = None
    fixed: dict[str, float] | None = None
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    saturation: float = 1.0
    softness: float = 1.0
    domain: tuple[float, float] = (-1.0, 1.0)
    _grid: dict = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        owner = "Sprites"
        self.size = valid.positive_int(owner, "size", self.size, minimum=SIZES[0], maximum=SIZES[1])
        if self.shape not in SHAPES:
            raise InvalidArgument(f"Sprites: unknown shape {self.shape!r}; use one of {SHAPES}")
        factors = self.factors
        if isinstance(factors, str) or not isinstance(factors, (list, tuple)):
            raise InvalidArgument(f"Sprites: factors must be a list of names, got {factors!r}")
        self.factors = tuple(factors)
        if not self.factors:
            raise InvalidArgument("Sprites: factors must name at least one factor")
        for name in self.factors:
            if name not in RANGES:
                raise InvalidArgument(
                    f"Sprites: unknown factor {name!r}; known: {', '.join(RANGES)}"
                )
        if len(set(self.factors)) != len(self.factors):
            raise InvalidArgument(f"Sprites: factors repeat a name: {self.factors}")
        if "shape" in self.factors and self.shape != "morph":
            raise InvalidArgument('Sprites: the factor "shape" needs shape="morph"')
        self.objects = valid.positive_int(owner, "objects", self.objects, maximum=MAX_OBJECTS)
        self.ranges = self._check_ranges(self.ranges)
        self.fixed = self._check_fixed(self.fixed)
        self.background = self._check_rgb(self.background)
        self.saturation = valid.finite_float(owner, "saturation", self.saturation, low=0, high=1)
        self.softness = valid.finite_float(
            owner, "softness", self.softness, low=0.0, high=16.0, low_open=True
        )
        self.domain = self._check_domain(self.domain)

    def _check_ranges(self, ranges) -> dict[str, tuple[float, float]] | None:
        out = {}
        for name, pair in _by_factor("ranges", ranges, "[low, high]", RANGES):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise InvalidArgument(
                    f"Sprites: ranges[{name!r}] must be [low, high], got {pair!r:.80}"
                )
            low = valid.bounded_float("Sprites", f"ranges[{name!r}]", pair[0])
            high = valid.bounded_float("Sprites", f"ranges[{name!r}]", pair[1])
            if not low < high:
                raise InvalidArgument(f"Sprites: ranges[{name!r}] needs low < high, got {pair!r}")
            if name == "scale" and low <= 0:
                raise InvalidArgument("Sprites: the scale range must be positive")
            out[name] = (float(low), float(high))
        return out or None

    def _check_fixed(self, fixed) -> dict[str, float] | None:
        out = {}
        for name, value in _by_factor("fixed", fixed, "value", DEFAULTS):
            if name in self.factors:
                raise InvalidArgument(f"Sprites: {name!r} is a latent factor; it cannot be fixed")
            out[name] = float(valid.bounded_float("Sprites", f"fixed[{name!r}]", value))
        if out.get("scale", 1.0) <= 0:
            raise InvalidArgument("Sprites: a fixed scale must be positive")
        return out or None

    @staticmethod
    def _check_rgb(rgb) -> tuple[float, float, float]:
        if not isinstance(rgb, (list, tuple)) or len(rgb) != 3:
            raise InvalidArgument(f"Sprites: background must be an RGB triple, got {rgb!r:.80}")
        return tuple(
            float(valid.finite_float("Sprites", "background", c, low=0.0, high=1.0)) for c in rgb
        )

    @staticmethod
    def _check_domain(domain) -> tuple[float, float]:
        if not isinstance(domain, (list, tuple)) or len(domain) != 2:
            raise InvalidArgument(f"Sprites: domain must be [low, high], got {domain!r:.80}")
        low = valid.bounded_float("Sprites", "domain", domain[0])
        high = valid.bounded_float("Sprites", "domain", domain[1])
        if not low < high:
            raise InvalidArgument(f"Sprites: domain needs low < high, got {domain!r}")
        return (float(low), float(high))

    # --- shape of the map ---------------------------------------------------------------

    @property
    def n_in(self) -> int:
        return self.objects * len(self.factors)

    @property
    def n_out(self) -> int:
        return 3 * self.size * self.size

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the image x is the flattening of."""
        return (3, self.size, self.size)

    @property
    def factor_names(self) -> list[str]:
        """The name of every latent coordinate ("scale", or "scale2" for object 2)."""
        if self.objects == 1:
            return list(self.factors)
        return [f"{f}{k + 1}" for k in range(self.objects) for f in self.factors]

    def range_of(self, factor: str) -> tuple[float, float]:
        """The physical range the latent interval ``domain`` maps onto."""
        return (self.ranges or {}).get(factor, RANGES[factor])

    def to_physical(self, z: torch.Tensor, factor: str) -> torch.Tensor:
        """The physical value of ``factor`` for latent values z (affine in z)."""
        (a, b), (lo, hi) = self.domain, self.range_of(factor)
        return lo + (z - a) * ((hi - lo) / (b - a))

    def to_latent(self, value: torch.Tensor, factor: str) -> torch.Tensor:
        """The inverse of :meth:`to_physical`."""
        (a, b), (lo, hi) = self.domain, self.range_of(factor)
        return a + (value - lo) * ((b - a) / (hi - lo))

    def period(self, factor: str) -> float | None:
        """The physical period of a periodic factor (the shape's symmetry for rotation)."""
        if factor == "rotation":
            return ROTATION_PERIOD.get(self.shape)
        return PERIODS.get(factor)

    # --- rendering ----------------------------------------------------------------------

    def _pixels(self, like: torch.Tensor) -> torch.Tensor:
        """(3, H·W): pixel-centre u (columns, rightwards), v (rows, upwards) and ones."""
        key = (like.dtype, like.device)
        if key not in self._grid:
            t = (torch.arange(self.size, dtype=like.dtype, device=like.device) * 2 + 1) / self.size
            u = (t - 1).repeat(self.size)  # row-major: column index fastest
            v = (1 - t).repeat_interleave(self.size)
            self._grid[key] = torch.stack([u, v, torch.ones_like(u)])
        return self._grid[key]

    def _factor(self, z: torch.Tensor, k: int, name: str) -> torch.Tensor:
        """Object k's physical ``name`` (B,): from its latent, else the fixed value."""
        if name in self.factors:
            return self.to_physical(z[:, k * len(self.factors) + self.factors.index(name)], name)
        value = (self.fixed or {}).get(name, DEFAULTS[name])
        return torch.full((len(z),), value, dtype=z.dtype, device=z.device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        lead = z.shape[:-1]
        z = z.reshape(-1, self.n_in)
        grid = self._pixels(z)
        width = self.softness / self.size  # w: half a pixel (the canvas is 2 wide) x softness
        background = torch.as_tensor(self.background, dtype=z.dtype, device=z.device)
        image = None
        for k in range(self.objects):
            alpha, colour = self._object(z, k, grid, width)  # (B, P), (B, 3)
            if image is None:  # over a constant background: bg + (colour − bg) α, one bmm
                image = torch.bmm((colour - background)[:, :, None], alpha[:, None, :])
                if any(self.background):
                    image = image + background[:, None]
            else:
                a = alpha[:, None, :]
                image = image * (1 - a) + colour[:, :, None] * a
        return image.reshape(*lead, self.n_out)

    def _object(self, z, k, grid, width):
        """(coverage α (B, H·W), RGB colour (B, 3)) of object k."""
        x, y = self._factor(z, k, "x"), self._factor(z, k, "y")
        scale, angle = self._factor(z, k, "scale"), self._factor(z, k, "rotation")
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        # local coordinates, rotated by −angle, in units of the radius: one (2B x 3) @ (3 x P),
        # laid out as all px rows then all py rows so that each is contiguous
        rows = torch.stack(
            [
                torch.stack([cos, sin, -(cos * x + sin * y)], -1),
                torch.stack([-sin, cos, sin * x - cos * y], -1),
            ]
        )  # (2, B, 3)
        local = (rows.reshape(-1, 3) @ grid).reshape(2, len(z), -1)
        px, py = local[0], local[1]
        if self.shape == "morph":
            level = _level_morph(px, py, self._factor(z, k, "shape")[:, None])
        elif self.shape == "square":
            level = _level_square_stacked(local)
        else:
            level = _LEVEL[self.shape](px, py)
        gain = (scale / width)[:, None]  # distance back in canvas units, over w
        alpha = torch.sigmoid(torch.addcmul(gain, level, -gain))  # σ(−d s / w)
        hue, value = self._factor(z, k, "hue"), self._factor(z, k, "value")
        return alpha, hsv_to_rgb(hue, self.saturation, value)

    def images(self, z: torch.Tensor) -> torch.Tensor:
        """g(z) as images, shape (..., 3, H, W)."""
        return self(z).reshape(*z.shape[:-1], *self.image_shape)

    # --- symmetries ---------------------------------------------------------------------

    def symmetric_pairs(self, z: torch.Tensor) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
        """Known exact symmetries: (what, anchors, partners) with g(anchor) = g(partner).

        For each periodic factor (a rotation by the shape's symmetry angle, a hue by a
        full turn) whose period fits in the latent interval: the anchors of ``z`` moved to
        the start of the interval's part that has a partner, and partners one period
        further. For two or more identical objects (no latent colour): object blocks
        swapped. The injectivity check verifies every pair before calling it a collision.
        """
        out: list[tuple[str, torch.Tensor, torch.Tensor]] = []
        a, b = self.domain
        for name in self.factors:
            period = self.period(name)
            if period is None:
                continue
            lo, hi = self.range_of(name)
            step = period * (b - a) / (hi - lo)  # one period in latent units
            if step > b - a:
                continue
            columns = [
                k * len(self.factors) + self.factors.index(name) for k in range(self.objects)
            ]
            anchor = z.clone()
            room = b - a - step  # anchors where a partner one period on fits (0: the ends)
            anchor[:, columns] = a + (z[:, columns] - a) % room if room > 0 else a
            partner = anchor.clone()
            partner[:, columns[0]] += step
            what = {
                "rotation": f"a {self.shape} turned by {math.degrees(period):g}° renders the same image",
                "hue": "hues one full turn apart are the same colour",
            }[name]
            out.append((what, anchor, partner))
        if self.objects > 1 and "hue" not in self.factors and "value" not in self.factors:
            f = len(self.factors)
            partner = torch.cat([z[:, f : 2 * f], z[:, :f], z[:, 2 * f :]], dim=1)
            out.append(("two identical objects swapped render the same image", z, partner))
        return out


__all__ = ["DEFAULTS", "RANGES", "SHAPES", "SpriteRenderer", "hsv_to_rgb"]
