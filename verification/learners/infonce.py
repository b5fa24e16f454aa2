"""InfoNCE contrastive learning (Oord et al. 2018; Zimmermann et al. 2021).

For a batch of positive pairs (x_i, x'_i) the loss is the symmetric cross-entropy of
the B x B similarity matrix S_ij = sim(h(x_i), h(x'_j)) / tau with targets on the
diagonal; the negatives are the other pairs of the batch. Critics:
- "cosine": h normalised to the sphere, sim = <h, h'> (Zimmermann et al. 2021, Thm 2);
- "lp": sim = -||h - h'||_p, the L^p metric (Zimmermann et al. 2021, convex bodies;
  von Kügelgen et al. 2021);
- "lp-power": sim = -||h - h'||_p^p, the L^p semi-metric Σ|h_i - h'_i|^p (the δ of
  Zimmermann et al.'s convex-body theorem for α = p; equal to "lp" at p = 1).
With ``content`` set, the encoder has that many outputs (the content block).

The temperature follows the theorem by default: for the cosine critic τ = ``tau_kappa``
/ κ with ``tau_kappa = 1``, the matched τ = 1/κ of Zimmermann et al. 2021, Thm 2 (κ the
vMF concentration of the process's conditional); ``p = None`` takes the conditional's
own exponent (β of a generalized normal: 1 for Laplace, 2 for Normal). The matched
τ = 1/κ folds a latent direction in practice (R² ≈ 1 - 1/n at n = 3); the registered
variant ``infonce-practical`` (τκ = 3 at n <= 4, 2 above: ``tau_kappa=None``) recovers
reliably and is outside the theorem (``matched-temperature`` says so).

Other defaults (measured on a 2-core CPU, docs/reproductions.md and
benchmarks/recovery.py): whitened inputs, two stacked linear + zero-initialised-MLP
blocks, Adam lr 1e-2 (2e-2, gradient norm clipped to 5, for the cosine critic above
n = 4, and 7e-3 from n = 16: ``default_lr``, ``default_clip``) with a 15 % warm-up (2 %
folded 2 of 10 seeds at n = 3) and cosine decay, batch 512 (256 for the cosine critic at
n <= 3: ``default_batch``), fresh pairs every step, 400 steps at n <= 3 (600 for the
cosine critic) and 200 n above (550 n for the cosine critic from n = 16:
``default_steps``), extended while the training loss still falls (``TrainConfig.extend``).

Practice mode (default): three initialisations race through the warm-up and the one with
the lowest training loss trains on; nothing derived from the true latents is computed
while training. Oracle mode (``oracle=True``, only when asked) stops once the loss is
within ``target_tolerance`` of the loss the true latents reach and restarts when the
final loss stays ``FOLD_GAP`` above it. ``optimality_gap`` reports, after training, how
far the final encoder's loss is from the true latents' (a diagnostic, both modes).

The symmetric loss is computed without materialising the B x B similarity matrix twice
(see :func:`infonce_loss`): at batch 6144 one training step is several times faster than
cross-entropy over S and S^T (benchmarks/recovery.py --step-timing).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
import torch
from torch import nn

import theory as th
from theory.errors import InvalidArgument
from verification import _learner_specs as tables
from verification import _options as opt
from verification._seeds import derive_seed, random_stream
from verification.learners import base
from verification.learners.base import Fit, Learner, Run, TrainConfig, Training
from verification.learners.cnn import build_encoder, pool_pairs, reference_size
from verification.learners.devices import resolve_device
from verification.learners.encoders import Encoder, EncoderConfig, body_jacobian
from verification.learners.racing import race_restarts

# the gradient-norm clip of cosine InfoNCE where its learning rate is 2e-2 (default_clip)
CLIP = 5.0
# from this dimension on, cosine InfoNCE trains at LARGE_LR for longer (default_lr)
LARGE_DIM = 16
LARGE_LR = 7e-3
LARGE_STEPS_PER_DIM = 550  # default_steps there
# up to this dimension, cosine InfoNCE trains on smaller batches for more steps
# (default_batch, default_steps)
SMALL_DIM = 3
SMALL_DIM_BATCH = 256
SMALL_DIM_STEPS = 600
FOLD_GAP = 0.05  # final loss this far above the true latents' loss: a likely fold
# the warm-up fraction when TrainConfig.warmup is None: 2 % folded 2 of 10 seeds at n = 3
WARMUP = 0.15


def infonce_loss(
    h: torch.Tensor, h_pos: torch.Tensor, tau: float, critic: str, p: float = 1.0
) -> torch.Tensor:
    """Symmetric InfoNCE over the batch: the mean of the row-wise and the column-wise
    cross-entropy of S = sim(h_i, h_pos_j) / tau with targets on the diagonal.

    Written as 0.5 (mean_i lse_j S_ij + mean_j lse_i S_ij) - mean_i S_ii, which is the
    same number without a transposed copy for the column cross-entropy. The cosine
    critic (a dot product of the given vectors) runs through a custom autograd function
    (:class:`_ShiftedDotInfoNCE` when the similarities are bounded, e.g. unit vectors,
    else :class:`_DotInfoNCE`) that works on row blocks of S and never holds more than
    one block; the lp critic uses autograd on cdist.
    """
    if critic == "cosine":
        return _dot_infonce(h, h_pos, 1.0 / tau)
    if critic == "lp-power" and p == 2.0:
        return _dot_infonce(*squared_distance_as_dot(h, h_pos), 1.0 / tau)
    distance = torch.cdist(h, h_pos, p=p)
    if critic == "lp-power" and p != 1.0:
        distance = distance.pow(p)
    logits = distance * (-1.0 / tau)
    rows = torch.logsumexp(logits, 1).mean()
    cols = torch.logsumexp(logits, 0).mean()
    return 0.5 * (rows + cols) - logits.diagonal().mean()


def squared_distance_as_dot(
    h: torch.Tensor, h_pos: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Vectors a_i, b_j with a_i · b_j = −‖h_i − h_pos_j‖₂².

    a = (2h, −‖h‖², −1) and b = (h_pos, 1, ‖h_pos‖²), since −‖u − v‖² = 2uᵀv − ‖u‖² −
    ‖v‖². The squared-Euclidean critic (von Kügelgen et al. 2021, App. D; Daunhawer et
    al. 2023, Eq. 5: τ = 1, sim(a, b) = −(a − b)²) then runs through the blocked dot
    product InfoNCE, about twice as fast as autograd through ``cdist`` (the same
    number, up to float rounding).
    """
    ones = h.new_ones(h.shape[0], 1)
    a = torch.cat([2.0 * h, -(h * h).sum(1, keepdim=True), -ones], 1)
    b = torch.cat(
        [h_pos, h_pos.new_ones(h_pos.shape[0], 1), (h_pos * h_pos).sum(1, keepdim=True)], 1
    )
    return a, b


CHUNK_ELEMENTS = 1 << 17  # similarity entries per block: about 0.5 MB of float32, in cache
SHIFT_RANGE = 40.0  # |S| below this: one fixed shift keeps every exp(S - shift) normal


def _row_blocks(batch: int) -> list[tuple[int, int]]:
    rows = batch if batch * batch <= 2 * CHUNK_ELEMENTS else max(1, CHUNK_ELEMENTS // batch)
    return [(a, min(batch, a + rows)) for a in range(0, batch, rows)]


def _dot_infonce(h: torch.Tensor, h_pos: torch.Tensor, scale: float) -> torch.Tensor:
    """Symmetric InfoNCE of S = scale * h h_pos^T (see :func:`infonce_loss`)."""
    with torch.no_grad():
        bound = scale * float(h.norm(dim=1).max()) * float(h_pos.norm(dim=1).max())
    if math.isfinite(bound) and bound <= SHIFT_RANGE:
        return _ShiftedDotInfoNCE.apply(h, h_pos, scale, bound)
    return _DotInfoNCE.apply(h, h_pos, scale)


def _full_precision(forward):
    """Run a hand-written autograd ``forward`` in float32 with autocast off: under mixed
    precision (``train.precision``) its matmuls would otherwise be cast to half
    precision, and the B x B block it keeps for ``backward`` (which runs outside
    autocast) would meet float32 operands there. The squared-distance critic also needs
    it: 2uᵀv − ‖u‖² − ‖v‖² in half precision rounds at the scale of ‖u‖², not ‖u − v‖²."""

    def full(t: torch.Tensor) -> torch.Tensor:
        return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t

    @functools.wraps(forward)
    def wrapped(ctx, h, h_pos, *rest):
        with torch.autocast(h.device.type, enabled=False):
            return forward(ctx, full(h), full(h_pos), *rest)

    return wrapped


class _ShiftedDotInfoNCE(torch.autograd.Function):
    """Symmetric InfoNCE when |S_ij| <= ``bound`` <= SHIFT_RANGE (e.g. unit vectors, tau >=
    1/40): E = exp(S - bound) needs no per-row or per-column maximum (no overflow, and
    no underflow to subnormals, which are slow), so one exponential per entry gives both
    log-sum-exps, row = log(E 1) + bound and col = log(1^T E) + bound.

    Backward: dL/dS = (a_i + b_j) E_ij / 2B - I / B with a = exp(bound - row) and
    b = exp(bound - col), so dL/dh = (a * (E h_pos) + E (b * h_pos)) / 2B - ... : two
    skinny matmuls per block of E and no other B x B work. E is kept from forward when
    it is one block (B <= 512), else recomputed block by block (never materialised).
    """

    @staticmethod
    @_full_precision
    def forward(ctx, h, h_pos, scale, bound):
        batch = h.shape[0]
        h_aug = torch.cat([h, h.new_ones(batch, 1)], 1)
        key = torch.cat([h_pos.T * scale, h.new_full((1, batch), -bound)], 0)
        blocks = _row_blocks(batch)
        row, col, kept = h.new_empty(batch), None, None
        for a, b in blocks:
            e = torch.mm(h_aug[a:b], key).exp_()  # exp(S - bound) for rows a..b
            torch.sum(e, 1, out=row[a:b])
            col = e.sum(0) if col is None else col.add_(e.sum(0))
            kept = e if len(blocks) == 1 else None
        row = row.log_().add_(bound)
        col = col.log_().add_(bound)
        ctx.save_for_backward(h, h_pos, row, col, h_aug, key, kept)
        ctx.scale, ctx.bound = scale, bound
        diag = torch.linalg.vecdot(h, h_pos)
        return (0.5 * (row.sum() + col.sum()) - scale * diag.sum()) / batch

    @staticmethod
    def backward(ctx, grad):
        h, h_pos, row, col, h_aug, key, kept = ctx.saved_tensors
        scale, bound = ctx.scale, ctx.bound
        batch, n = h.shape
        a_w = (bound - row).exp_()[:, None]  # E_ij a_i = softmax over row i
        b_w = (bound - col).exp_()[:, None]  # E_ij b_j = softmax over column j
        right = torch.cat([h_pos, h_pos * b_w], 1)
        left_t = torch.cat([h * a_w, h], 1).T  # (2n, B): left_t @ E is faster than E^T @ left
        d_h = torch.empty_like(h)
        acc = None
        for a, b in _row_blocks(batch):
            e = kept if kept is not None else torch.mm(h_aug[a:b], key).exp_()
            t = torch.mm(e, right)
            torch.addcmul(t[:, n:], t[:, :n], a_w[a:b], out=d_h[a:b])
            u = torch.mm(left_t[:, a:b], e)
            acc = u if acc is None else acc.add_(u)
        d_pos = torch.addcmul(acc[:n].T, acc[n:].T, b_w)
        c = grad * (scale / batch)
        return d_h.mul_(0.5 * c).sub_(h_pos * c), d_pos.mul_(0.5 * c).sub_(h * c), None, None


class _DotInfoNCE(torch.autograd.Function):
    """Symmetric InfoNCE with S = h h_pos^T * scale, computed in row blocks.

    Forward keeps only the row and column log-sum-exps (the column ones accumulated
    online over the blocks, rescaling by the running maximum); backward recomputes each
    block of S (a matmul with n columns, cheap next to the exponentials) and forms
    dL/dS = (softmax_rows + softmax_cols) / 2B - I / B block by block, so no B x B tensor
    is ever materialised and every block stays in cache. At batch 6144 this is several
    times faster than cross_entropy on S and on S^T (benchmarks/recovery.py).
    """

    @staticmethod
    @_full_precision
    def forward(ctx, h, h_pos, scale):
        batch = h.shape[0]
        key = h_pos.T * scale
        blocks = _row_blocks(batch)
        if len(blocks) == 1:
            s = torch.mm(h, key)
            row, col = torch.logsumexp(s, 1), torch.logsumexp(s, 0)
        else:
            row = h.new_empty(batch)
            col_max = col_sum = e = None
            for a, b in blocks:
                s = torch.mm(h[a:b], key)
                if e is None or e.shape != s.shape:
                    e = torch.empty_like(s)
                r_max = s.amax(1, keepdim=True)
                torch.sub(s, r_max, out=e).exp_()
                torch.add(e.sum(1).log_(), r_max.squeeze(1), out=row[a:b])
                c_max = s.amax(0) if col_max is None else torch.maximum(col_max, s.amax(0))
                if col_max is not None:
                    col_sum.mul_((col_max - c_max).exp_())
                torch.sub(s, c_max, out=e).exp_()
                col_sum = e.sum(0) if col_sum is None else col_sum.add_(e.sum(0))
                col_max = c_max
            col = col_sum.log_().add_(col_max)
        ctx.save_for_backward(h, h_pos, row, col)
        ctx.scale = scale
        diag = torch.linalg.vecdot(h, h_pos)
        return (0.5 * (row.sum() + col.sum()) - scale * diag.sum()) / batch

    @staticmethod
    def backward(ctx, grad):
        h, h_pos, row, col = ctx.saved_tensors
        scale, batch = ctx.scale, h.shape[0]
        key = h_pos.T * scale
        d_h = torch.empty_like(h)
        d_pos = p = None
        for a, b in _row_blocks(batch):
            s = torch.mm(h[a:b], key)
            if p is None or p.shape != s.shape:
                p = torch.empty_like(s)
            torch.sub(s, row[a:b, None], out=p).exp_()  # softmax over each row
            p.add_(s.sub_(col).exp_())  # + softmax over each column
            torch.mm(p, h_pos, out=d_h[a:b])
            d_pos = torch.mm(p.T, h[a:b]) if d_pos is None else d_pos.addmm_(p.T, h[a:b])
        c = grad * (scale / batch)
        d_h = d_h.mul_(0.5 * c).sub_(h_pos * c)
        d_pos = d_pos.mul_(0.5 * c).sub_(h * c)
        return d_h, d_pos, None


def concentration(conditional: th.conditionals.Conditional | None) -> float | None:
    """kappa of a vMF conditional, or the equivalent 1 / variance of additive noise."""
    if isinstance(conditional, th.conditionals.VonMisesFisher):
        return float(conditional.kappa)
    if isinstance(conditional, th.conditionals.Normal):
        return 1.0 / conditional.scale**2
    if isinstance(conditional, th.conditionals.Laplace):
        return 1.0 / (2 * conditional.scale**2)
    return None


def jacobian_sign_penalty(model: Encoder, x: torch.Tensor, margin: float = 0.1) -> torch.Tensor:
    """Penalise points where det J_f has the minority sign (f: the pre-normalised encoder).

    A fold of a latent direction is a hypersurface where det J_f changes sign; pushing
    det J_f(x) / geomean|det J_f| above ``margin`` with the batch's majority sign keeps f
    orientation-preserving (or -reversing) everywhere early in training. Together with
    a penalty pinning |f| near 1 this removes the folds that otherwise trap InfoNCE at
    R² ≈ 1 - 1/n (measured at n = 10; docs/reproductions.md).
    """
    J = body_jacobian(model.body, model.whitening(x).detach())
    sign, logabs = torch.linalg.slogdet(J)
    relative = sign * torch.exp(logabs - logabs.detach().mean())
    majority = 1.0 if float(sign.detach().sum()) >= 0 else -1.0
    return nn.functional.relu(margin - majority * relative).mean()


@dataclass
class InfoNCE(Learner):
    """InfoNCE on positive pairs (see the module docstring for the critics and defaults).

    Practice mode (the default): nothing derived from the true latents decides anything
    during training. ``restarts + 1`` initialisations train for the first ``race`` of the
    steps; the one with the lowest training loss (measured on the same fresh training
    pairs for every candidate: observations only, no latents) trains on to the end, the
    others are dropped. The budget grows while the training loss still falls
    (``TrainConfig.extend``).

    Oracle mode (``oracle=True``, only when asked, e.g. ``recover(..., oracle=True)``):
    before training, the loss the true latents reach on fresh pairs (:meth:`target_loss`)
    is computed; training stops once within ``target_tolerance`` of it (``early_stop``)
    and restarts from a fresh initialisation while the final loss stays more than
    ``FOLD_GAP`` above it (up to ``restarts`` times). Every Fit says which mode produced it
    (``extras["oracle"]``).
    """

    critic: Literal["cosine", "lp", "lp-power"] = "cosine"
    tau: float | None = None  # a fixed temperature; None: derived (see resolved_tau)
    # cosine critic, tau None: τ = tau_kappa / κ; 1.0 is the theorem's matched τ = 1/κ,
    # None the practical rule (3 at n <= 4, 2 above; the infonce-practical variant)
    tau_kappa: float | None = 1.0
    p: float | None = 1.0  # the lp critics' exponent; None: the conditional's own
    # cosine critic: "unit" outputs on S^{n-1}, or "learnable": on r S^{n-1} with r
    # trained with the encoder (Zimmermann et al.'s learnable rescaling; r² = τκ at the
    # matched temperature, so any τ meets the theorem)
    radius: Literal["unit", "learnable"] = "unit"
    content: int | None = None  # output dimension (content block size); None: latent dim
    n_train: int | None = None  # fixed training set size; None: fresh pairs every step
    # practice: extra initialisations raced over the first ``race`` of the steps (see
    # ``fit``); oracle: retrains after a likely fold
    restarts: int = 2
    race: float = 0.15  # practice: fraction of the steps every candidate trains
    oracle: bool = False  # oracle mode: the true latents' loss steers training (see above)
    early_stop: bool = True  # oracle mode only: stop near the true latents' loss
    target_tolerance: float = 0.01  # oracle mode only: how near
    # early-training penalties against folds (cosine critic); None: on for n > 4, where
    # folds were frequent; at n <= 4 the race suffices and the penalties only slow training
    fold_guard: bool | None = None
    fold_guard_weights: tuple[float, float] = (0.3, 10.0)  # (norm, Jacobian sign)
    fold_guard_fraction: float = 0.5  # the weights decay linearly to 0 over this fraction
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    device: str = "cpu"  # where it trains: cpu, cuda, cuda:N, auto (learners/devices.py)
    name = "infonce"

    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.INFONCE

    def __post_init__(self) -> None:
        opt.check_options(self)
        if self.radius == "learnable" and self.critic != "cosine":
            raise InvalidArgument(
                f"InfoNCE: radius='learnable' scales outputs on the sphere: it needs the "
                f"cosine critic, got critic={self.critic!r}"
            )

    def resolved_tau(self, process: th.Process) -> float:
        """The temperature: explicit (``tau``), else τ = τκ / κ for the positives'
        concentration κ (cosine critic; 1.0 for the lp critics).

        τκ = ``tau_kappa``: 1 is the matched τ = 1/κ of Zimmermann et al. 2021, Thm 2,
        used exactly (no clipping), so the learner is the one the theorem analyses.
        ``tau_kappa=None`` is the practical rule (docs/reproductions.md): τ = 1/κ makes
        the encoder fold a latent direction (R² ≈ 1 - 1/n), τ ≈ 3/κ (n <= 4) or 2/κ
        (n > 4), clipped to [0.05, 2], recovers reliably.
        """
        if self.tau is not None:
            return self.tau
        if self.critic != "cosine":
            return 1.0
        kappa = concentration(process.conditional)
        if self.tau_kappa is not None:
            return float(self.tau_kappa / (10.0 if kappa is None else kappa))
        factor = 3.0 if process.dim <= 4 else 2.0
        if kappa is None:
            return factor / 10.0
        return float(np.clip(factor / kappa, 0.05, 2.0))

    def resolved_p(self, process: th.Process) -> float:
        """The lp critics' exponent: ``p``, else the conditional's own (β of its
        generalized-normal form: 1 for Laplace, 2 for Normal; 1 when it has none)."""
        if self.p is not None:
            return float(self.p)
        form = th.conditionals.generalized_normal_form(process.conditional)
        return 1.0 if form is None else float(form.beta)

    def default_steps(self, process: th.Process) -> int:
        """Training steps when ``train.steps`` is None: at n <= 3, 600 for the cosine
        critic (at its batch of 256, :meth:`default_batch`) and 400 for the others; above,
        200 n; for the cosine critic from n = :data:`LARGE_DIM` on, where it trains at the
        smaller :data:`LARGE_LR` (:meth:`default_lr`; or at a ``train.lr`` no larger),
        550 n (11000 at n = 20: about the total step length, lr x steps, of 200 n at
        2e-2)."""
        if process.dim <= SMALL_DIM:
            return SMALL_DIM_STEPS if self.critic == "cosine" else 400
        slow = self.training_lr(process) <= LARGE_LR
        if self.critic == "cosine" and process.dim >= LARGE_DIM and slow:
            return LARGE_STEPS_PER_DIM * process.dim
        return 200 * process.dim

    def default_batch(self, process: th.Process) -> int:
        """Pairs per step when ``train.batch_size`` is None: :data:`SMALL_DIM_BATCH` (256)
        for the cosine critic at n <= 3, else :data:`base.DEFAULT_BATCH` (512).

        Measured at n = 3 (practical temperature, 2-core CPU): a step at batch 256 takes
        about 1.7 ms against 2.6 ms at 512, so 600 steps cost what 400 did. At 512 x 400
        the worst direction's orthogonal R² stayed under .99 in 2 of 20 runs (the
        canonical mixing with recover seeds 0-4, InvertibleMLP mixings 100-104, 200-204
        and 700-704: .985 on 103, .989 on 703); at 512 x 500, .991 on 103, but a
        quarter slower. At 256 x 600 all 20 reached .99 (.992 to .996); it was chosen
        on 100-104 and 200-204, so they are not unseen for this choice, and 700-704 were
        run once afterwards. 256 x 500 left 103 at .987 (benchmarks/recovery.py,
        docs/reproductions.md). The theorem's own temperature (τ = 1/κ) folds at n = 3
        at either size; other cosine settings (a learnable radius, a content block) were
        not measured at 256.

        The race's scoring, oracle mode's target loss and the optimality gap are
        computed on batches of the same size. Steps and batch resolve independently: a
        given ``train.batch_size`` of 512 still trains for 600 steps at n <= 3.
        """
        if self.critic == "cosine" and process.dim <= SMALL_DIM:
            return SMALL_DIM_BATCH
        return base.DEFAULT_BATCH

    def training_config(self, process: th.Process) -> TrainConfig:
        """``train`` with what it leaves to the learner (None) resolved for ``process``:
        steps, batch size, warm-up, learning rate and gradient clip."""
        return base.resolved(
            self.train,
            self.default_steps(process),
            WARMUP,
            self.default_lr(process),
            self.default_clip(process),
            self.default_batch(process),
        )

    def training_lr(self, process: th.Process) -> float:
        """The rate it trains at: ``train.lr``, else :meth:`default_lr`."""
        return self.default_lr(process) if self.train.lr is None else self.train.lr

    def default_lr(self, process: th.Process) -> float:
        """Adam's learning rate when ``train.lr`` is None: 2e-2 for the cosine critic
        above n = 4, else 1e-2.

        Measured at n = 10 (practical temperature, InvertibleMLP mixings 300-304, 2-core
        CPU): at 1e-2 the last latent direction was still half learned at the end of
        the budget on 2 of 5 mixings (linear R² .883 and .943, orthogonal R² .07 and
        .49); at 2e-2 all five reached linear R² ≥ .989 (orthogonal R² ≥ .93);
        4e-2 diverged on one. On unseen mixings 400-404 (never used to choose it):
        5/5 (docs/reproductions.md, benchmarks/recovery.py cl-ica-10-unseen). The lp
        critics keep 1e-2 (not measured at 2e-2).

        From n = :data:`LARGE_DIM` on, :data:`LARGE_LR` (7e-3) with 550 n steps
        (:meth:`default_steps`). Measured at n = 20 on the benchmark's own mixings
        500-504 (so they are not unseen for this choice): at 2e-2 (clip 5) linear R²
        stayed at .62-.91, two or three directions unlearned; at 1e-2 over 16000 steps
        three of five reached .96-.99 and two folded (.34); at 5e-3 over 14000, .98 and
        .99 on the first two, but past 150 s. At 7e-3 over 11000: .92, .96, .97, .97,
        .99, and on mixings 600-604, run beside them, .97, .98, .96, .97, .99 (the
        benchmark's own run, alone, later: .91-.97). Between n = 10 and 20 nothing was
        measured: the switch at 16 is a guess between them.
        """
        if self.critic != "cosine" or process.dim <= 4:
            return 1e-2
        return LARGE_LR if process.dim >= LARGE_DIM else 2e-2

    def default_clip(self, process: th.Process) -> float:
        """The gradient-norm clip when ``train.clip`` is None: :data:`CLIP` (5) for the
        cosine critic where the learning rate it trains at (``train.lr``, else
        :meth:`default_lr`) is above 1e-2, else none (0).

        At 2e-2 without it, 2 of 5 runs on the sphere with Normal(0.1) positives at
        n = 10 and 1 of 5 at n = 20 stopped learning after a large step (linear R²
        .30, .40, .25). Clipped to 5, the first and the last of these reached .977 and
        .888; clipped to 1, .898 and .875, and n = 20 learned more slowly on every
        mixing (docs/reproductions.md).
        """
        return CLIP if self.critic == "cosine" and self.training_lr(process) > 1e-2 else 0.0

    @property
    def unit_outputs(self) -> bool:
        """Whether the encoder's outputs are normalised onto the unit sphere."""
        return self.critic == "cosine"

    def new_critic(self, n_out: int) -> nn.Module | None:
        """The learnable parameters of one run's critic (None: the critic has none).
        Subclasses with a learnable critic (AnInfoNCE's diagonal Λ̂) return a module with
        a ``describe() -> dict`` for the Fit's extras; it trains with the encoder. With
        ``radius="learnable"`` it is the output radius r (:class:`LearnableRadius`)."""
        return LearnableRadius() if self.radius == "learnable" else None

    def pair_loss(
        self,
        h: torch.Tensor,
        h_pos: torch.Tensor,
        tau: float,
        critic: nn.Module | None,
        p: float = 1.0,
    ) -> torch.Tensor:
        """The training objective on a batch of positive pairs (see :func:`infonce_loss`);
        ``p`` is the lp critics' resolved exponent (:meth:`resolved_p`)."""
        if isinstance(critic, LearnableRadius):  # outputs on r S^{n-1}
            r = critic.radius()
            return infonce_loss(h * r, h_pos * r, tau, self.critic, p)
        return infonce_loss(h, h_pos, tau, self.critic, p)

    def target_loss(self, process: th.Process, tau: float, batch: int, seed: int) -> float:
        """ORACLE: InfoNCE of the true latents (h = z) on fresh pairs, what a perfect
        encoder reaches. Computed only in oracle mode (never in practice mode)."""
        return true_latents_loss(self, process, tau, batch, random_stream(seed, "target"))

    def fit(self, process: th.Process, *, seed: int = 0, monitor=None) -> Fit:
        """Train and return the kept run (practice mode: a race of initialisations, see
        the class docstring; oracle mode: restarts steered by the true latents' loss).
        ``monitor(step, encode)`` is called during every run, each with its own
        ``encode`` (the kept run's is ``Fit.encode``); ``Fit.seconds`` and ``Fit.steps``
        count every run, ``extras["run_steps"]`` the kept one's."""
        base.require_pairs(self, process, "InfoNCE")
        tau = self.resolved_tau(process)
        config = self.training_config(process)
        if self.oracle:
            return self._fit_oracle(process, seed, config, tau, monitor)
        return race_restarts(
            self,
            seed,
            config.steps,
            lambda run_seed: self._start(process, run_seed, config, tau, None, monitor),
            lambda run: self.selection_loss(process, run.fit(), tau, config.batch_size, seed),
        )

    def _fit_oracle(self, process, seed, config, tau, monitor) -> Fit:
        # the true latents' loss is comparable only when the encoder output is z-shaped
        target = (
            self.target_loss(process, tau, config.batch_size, seed)
            if self.content is None
            else None
        )
        runs: list[Fit] = []
        for attempt in range(self.restarts + 1):
            run = self._start(
                process, derive_seed(seed, "restart", attempt), config, tau, target, monitor
            )
            if isinstance(run, Fit):
                return run
            run.training.run()
            fit = run.fit()
            runs.append(fit)
            gap = fit.extras.get("loss_gap")
            if fit.status != "ok" or gap is None or gap <= FOLD_GAP:
                break
        best = min(runs, key=lambda f: (f.status != "ok", f.final_loss if f.curve else np.inf))
        best.seconds = sum(f.seconds for f in runs)
        best.steps = sum(f.steps for f in runs)
        best.extras["run_steps"] = best.curve[-1][0] if best.curve else 0
        best.extras["attempts"] = len(runs)
        if len(runs) > 1:
            note = f"{len(runs)} attempts (restarted after a likely fold)"
            best.message = f"{note}; {best.message}" if best.message else note
        return best

    def selection_loss(
        self, process: th.Process, fit: Fit, tau: float, batch: int, seed: int
    ) -> float:
        """The training objective of ``fit``'s encoder on fresh training pairs (the same
        pairs for every candidate of one ``fit`` call): observations only, no latents."""
        rng = random_stream(seed, "selection")
        values = []
        for _ in range(SELECTION_BATCHES):
            _, _, x, x_pos = process.sample_pairs(batch, rng)
            h = fit.encode(torch.cat([x, x_pos]).float()).float()
            critic = fit.extras.get("critic")
            with torch.no_grad():
                values.append(
                    float(
                        self.pair_loss(h[:batch], h[batch:], tau, critic, self.resolved_p(process))
                    )
                )
        return float(np.mean(values))

    def optimality_gap(self, process: th.Process, fit: Fit, *, seed: int = 0) -> float | None:
        """DIAGNOSTIC (after training, never used by it): the fitted encoder's training
        objective minus the true latents' (h = s z, s from :func:`truth_scale`: 1 for the
        cosine critic), both on the same fresh pairs. None where the true latents are not
        an encoder output of this objective: a content block (``content``), or the
        cosine critic on latents off the unit sphere."""
        if process.conditional is None or self.content is not None or fit.status != "ok":
            return None
        tau = self.resolved_tau(process)
        batch = self.training_config(process).batch_size
        rng = random_stream(seed, "gap")
        diffs, scale, p = [], None, self.resolved_p(process)
        for _ in range(SELECTION_BATCHES):
            z, z_pos, x, x_pos = process.sample_pairs(batch, rng)
            if self.critic == "cosine" and not _on_unit_sphere(torch.cat([z, z_pos])):
                return None
            h = fit.encode(torch.cat([x, x_pos]).float()).float()
            if not torch.isfinite(h).all():
                return None
            if scale is None:
                scale = truth_scale(self, z.float(), z_pos.float(), tau, p)
            learned = self.pair_loss(h[:batch], h[batch:], tau, fit.extras.get("critic"), p)
            truth = infonce_loss(scale * z.float(), scale * z_pos.float(), tau, self.critic, p)
            diffs.append(float(learned - truth))
        return float(np.mean(diffs))

    def _start(self, process, seed, config, tau, target, monitor) -> _Run | Fit:
        """A run ready to train (or a failed Fit when the data cannot be trained on)."""
        torch.manual_seed(seed)
        rng = random_stream(seed, "pairs")
        n_out = self.content or process.dim
        bs = config.batch_size
        _, _, x_ref, _ = process.sample_pairs(reference_size(process), rng)
        problem = base.data_problem(x_ref.float())
        if problem is not None:
            return base.failed_fit(n_out, problem)
        device = resolve_device(self.device)
        model = build_encoder(  # a CNN when the process observes images (learners/cnn.py)
            process, n_out, self.encoder, x_ref.float(), normalize=self.unit_outputs
        ).to(device)
        critic = self.new_critic(n_out)
        if critic is not None:
            critic = critic.to(device)
        params = [*model.parameters(), *(() if critic is None else critic.parameters())]
        if self.n_train is not None:
            _, _, xs, xps = process.sample_pairs(self.n_train, rng)
            xs, xps = xs.float().to(device), xps.float().to(device)
            gen = torch.Generator().manual_seed(seed)
        pool: list[torch.Tensor] = []  # fresh pairs drawn several batches at a time

        def batch() -> torch.Tensor:
            """2 x bs rows: x then its positives."""
            if self.n_train is None:
                if not pool:
                    k = max(1, pool_pairs(process, POOL_PAIRS) // bs)
                    _, _, x, x_pos = process.sample_pairs(k * bs, rng)
                    x, x_pos = x.float().to(device), x_pos.float().to(device)
                    pool.extend(
                        torch.cat([x[i : i + bs], x_pos[i : i + bs]]) for i in range(0, k * bs, bs)
                    )
                    pool.reverse()
                return pool.pop()
            idx = torch.randint(0, len(xs), (bs,), generator=gen).to(device)
            return torch.cat([xs[idx], xps[idx]])

        wanted = process.dim > 4 if self.fold_guard is None else self.fold_guard
        guard = wanted and self.critic == "cosine" and n_out == x_ref.shape[1]
        guard_steps = self.fold_guard_fraction * config.steps
        p = self.resolved_p(process)

        def loss_fn(step: int):
            xx = batch()
            if not guard or step > guard_steps:
                h = model(xx)
                return self.pair_loss(h[:bs], h[bs:], tau, critic, p)
            f = model.pre(xx)
            h = nn.functional.normalize(f, dim=-1)
            loss = self.pair_loss(h[:bs], h[bs:], tau, critic, p)
            weight = 1 - step / guard_steps
            w_norm, w_det = self.fold_guard_weights
            penalty = w_norm * ((f.norm(dim=-1) - 1) ** 2).mean()
            penalty = penalty + w_det * jacobian_sign_penalty(model, xx[:64])
            return loss + weight * penalty, loss

        encode = base.encoder_of(model, device)
        converged = None
        if self.early_stop and target is not None:

            def converged(loss: float) -> bool:
                return loss <= target + self.target_tolerance

        watch = None if monitor is None else (lambda step: monitor(step, encode))
        training = Training(loss_fn, params, config, watch, converged=converged)
        return _Run(training, model, encode, tau, target, critic)


class LearnableRadius(nn.Module):
    """The encoder's output radius r = exp(ρ), ρ learnable (starts at r = 1).

    Zimmermann et al. 2021 map onto a sphere of radius r, "implemented as a learnable
    rescaling operation of the network f" (NeurIPS 2020 workshop version, footnote 2 and
    Proposition 1; the ICML text is unverified here). With sim = r² uᵀv / τ the
    critic's effective concentration is r²/τ, which the minimiser matches to κ: r² = τκ.
    """

    def __init__(self) -> None:
        super().__init__()
        self.log_radius = nn.Parameter(torch.zeros(()))

    def radius(self) -> torch.Tensor:
        return self.log_radius.exp()

    def describe(self) -> dict:
        return {"radius": float(self.radius().detach())}


class _Run(Run):
    """One initialisation: its Training, and the Fit it makes at any point (with the
    temperature, the oracle's target loss and a learnable critic in its extras)."""

    def __init__(self, training: Training, model: Encoder, encode, tau, target, critic=None):
        extras = {"tau": tau, "lr": training.config.lr, "oracle": target is not None}
        super().__init__(training, encode, extras, model=model)
        self.tau, self.target, self.critic = tau, target, critic

    def fit(self) -> Fit:
        fit, target = super().fit(), self.target
        if self.critic is not None:  # learnable critic parameters (e.g. AnInfoNCE's Λ̂)
            fit.extras["critic"] = self.critic
            fit.extras.update(self.critic.describe())
        if target is not None:
            fit.extras["target_loss"] = target
        if fit.status == "ok" and target is not None and fit.curve:
            gap = fit.curve[-1][1] - target
            fit.extras["loss_gap"] = gap
            if gap > FOLD_GAP:
                fit.message = (f"{fit.message}; " if fit.message else "") + (
                    f"final loss is {gap:.3f} above the true latents' loss: the encoder may "
                    "have folded a latent direction (a local minimum)"
                )
        return fit


POOL_PAIRS = 4096  # fresh pairs are drawn this many at a time (cheaper per pair)
SELECTION_BATCHES = 4


def true_latents_loss(
    learner: InfoNCE, process: th.Process, tau: float, batch: int, rng: np.random.Generator
) -> float:
    """InfoNCE of the true latents (h = s z, s from :func:`truth_scale`) on 8 batches of
    fresh pairs."""
    values, scale, p = [], None, learner.resolved_p(process)
    for _ in range(8):
        z, z_pos, _, _ = process.sample_pairs(batch, rng)
        z, z_pos = z.float(), z_pos.float()
        if scale is None:
            scale = truth_scale(learner, z, z_pos, tau, p)
        values.append(float(infonce_loss(scale * z, scale * z_pos, tau, learner.critic, p)))
    return float(np.mean(values))


TRUTH_SCALES = np.geomspace(1e-2, 1e2, 41)


def truth_scale(
    learner: InfoNCE, z: torch.Tensor, z_pos: torch.Tensor, tau: float, p: float = 1.0
) -> float:
    """The scale s at which the true latents h = s z are compared with a fitted encoder.

    Cosine critic: 1 (unit vectors); with a learnable radius, as for the lp critics, the
    best radius on the batch (r² = τκ for a vMF). lp critic: the encoder's scale is free and trades
    with τ (‖s h − s h′‖/τ = ‖h − h′‖/(τ/s)), so z itself is not the best encoder output
    unless its scale happens to match τ; s is the value of TRUTH_SCALES (41 log-spaced
    in [0.01, 100]) with the lowest loss on this batch."""
    if learner.critic == "cosine" and getattr(learner, "radius", "unit") != "learnable":
        return 1.0
    with torch.no_grad():
        losses = [
            float(infonce_loss(s * z, s * z_pos, tau, learner.critic, p)) for s in TRUTH_SCALES
        ]
    return float(TRUTH_SCALES[int(np.argmin(losses))])


def _on_unit_sphere(z: torch.Tensor) -> bool:
    return bool(((z.norm(dim=-1) - 1).abs() < 1e-4).all())
