"""VICReg: variance-invariance-covariance regularisation (Bardes, Ponce & LeCun 2022).

A non-contrastive learner on positive pairs (x_i, x'_i) drawn with ``process.sample_pairs``
(as InfoNCE draws them), with no negatives. For the batch embeddings h, h' (B x d) the
loss is

    L = λ · MSE(h, h') + μ · [v(h) + v(h')] + ν · [c(h) + c(h')]

- invariance: MSE(h, h') = mean over the batch of ||h_i - h'_i||² / d (PyTorch's
  ``mse_loss``, the mean over all B·d entries, as in the paper's reference code);
- variance: v(h) = mean_j max(0, γ - sqrt(Var(h_j) + ε)), γ = 1, ε = 1e-4, a hinge that
  keeps every output dimension's standard deviation at least γ (no collapse);
- covariance: c(h) = Σ_{i≠j} Cov(h)_ij² / d, which decorrelates the output dimensions.

Defaults as in the paper: λ = μ = 25, ν = 1. The encoder (verification.learners.encoders)
has as many outputs as the latent dimension, or ``content`` when set (like InfoNCE).
``projector=k`` puts a Linear-ReLU-Linear head with k outputs between the encoder and the
loss (the paper's "expander"); the fitted encoder returned is the representation before it.
Default: no projector (with d = n, the representation itself is what is regularised).

Practice mode (the only mode): ``restarts + 1`` initialisations race for the first
``race`` of the steps and the lowest training loss on the same fresh pairs continues
(:mod:`verification.learners.racing`, shared with InfoNCE); nothing derived from the
true latents is computed while training. Measured on the canonical cl-ica process
(n = 3, seeds 0-4): one initialisation folded a latent direction on 4 of 5 seeds
(r2_orthogonal 0.65-0.72). Unlike InfoNCE's, VICReg's folded runs have the *lower* loss
early: racing for 15 % (or 50 %) of the steps still kept a fold on seed 2, whose
candidates separate only after about half of the budget (final loss 6.9 folded against
6.1). So ``race = 1``: three initialisations train the whole budget (3x the steps) and
the lowest loss continues (into the budget extension); 5 of 5 seeds unfolded
(docs/reproductions.md).

VICReg is not the objective any identifiability theorem of the catalogue is about: a
recovery it reaches on a theorem's process is evidence beyond the theorem (a gap), not
a confirmation of it (``check`` reports ``learner-objective`` violated).

:func:`fit_pairs` is the training loop shared with Barlow Twins (``barlow.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from torch import nn

import theory as th
from verification import _learner_specs as tables
from verification import _options as opt
from verification._seeds import random_stream
from verification.learners import base
from verification.learners.base import Fit, Learner, Run, TrainConfig, Training
from verification.learners.cnn import build_encoder, pool_pairs, reference_size
from verification.learners.devices import resolve_device
from verification.learners.encoders import Encoder, EncoderConfig
from verification.learners.racing import race_restarts

POOL_PAIRS = 4096  # fresh pairs are drawn this many at a time (cheaper per pair)
WARMUP = 0.15  # warm-up fraction when TrainConfig.warmup is None (as InfoNCE)
SELECTION_BATCHES = 4


def vicreg_loss(
    h: torch.Tensor,
    h_pos: torch.Tensor,
    lam: float = 25.0,
    mu: float = 25.0,
    nu: float = 1.0,
    gamma: float = 1.0,
    eps: float = 1e-4,
) -> torch.Tensor:
    """λ·MSE(h, h') + μ·[v(h) + v(h')] + ν·[c(h) + c(h')] (see the module docstring)."""
    invariance = nn.functional.mse_loss(h, h_pos)
    return (
        lam * invariance
        + mu * (_variance(h, gamma, eps) + _variance(h_pos, gamma, eps))
        + nu * (_covariance(h) + _covariance(h_pos))
    )


def _variance(h: torch.Tensor, gamma: float, eps: float) -> torch.Tensor:
    std = torch.sqrt(h.var(dim=0) + eps)
    return torch.relu(gamma - std).mean()


def _covariance(h: torch.Tensor) -> torch.Tensor:
    batch, d = h.shape
    c = h - h.mean(0)
    cov = (c.T @ c) / (batch - 1)
    off = cov.square().sum() - cov.diagonal().square().sum()
    return off / d


def pair_batches(
    process: th.Process, rng: np.random.Generator, bs: int, device
) -> Callable[[], torch.Tensor]:
    """A source of training batches: each call gives 2 x ``bs`` rows, x then its positives,
    of fresh pairs drawn several batches at a time (cheaper per pair) on ``device``."""
    pool: list[torch.Tensor] = []

    def batch() -> torch.Tensor:
        if not pool:
            k = max(1, pool_pairs(process, POOL_PAIRS) // bs)
            _, _, x, x_pos = process.sample_pairs(k * bs, rng)
            x, x_pos = x.float().to(device), x_pos.float().to(device)
            pool.extend(torch.cat([x[i : i + bs], x_pos[i : i + bs]]) for i in range(0, k * bs, bs))
            pool.reverse()
        return pool.pop()

    return batch


def projector_head(n_in: int, width: int) -> nn.Module:
    """The optional projector (expander): Linear-ReLU-Linear with ``width`` outputs."""
    return nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, width))


@dataclass
class VICReg(Learner):
    """VICReg on positive pairs (see the module docstring for the loss and defaults)."""

    lam: float = 25.0  # invariance weight λ
    mu: float = 25.0  # variance weight μ
    nu: float = 1.0  # covariance weight ν
    gamma: float = 1.0  # target standard deviation of each output dimension
    eps: float = 1e-4  # inside the square root of the variance term
    content: int | None = None  # output dimension (content block size); None: latent dim
    projector: int | None = None  # width of a projector head used in the loss; None: none
    restarts: int = 2  # extra initialisations raced over the first ``race`` of the steps
    # fraction of the steps every candidate trains: all of them (InfoNCE: 0.15), since the
    # folded candidates have the *lower* loss early on (docs/reproductions.md)
    race: float = 1.0
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    device: str = "cpu"  # where it trains: cpu, cuda, cuda:N, auto (learners/devices.py)
    name = "vicreg"

    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.VICREG

    @staticmethod
    def default_steps(process: th.Process) -> int:
        return 400 if process.dim <= 3 else 200 * process.dim

    def loss(self, h: torch.Tensor, h_pos: torch.Tensor) -> torch.Tensor:
        return vicreg_loss(h, h_pos, self.lam, self.mu, self.nu, self.gamma, self.eps)

    def fit(self, process: th.Process, *, seed: int = 0, monitor=None) -> Fit:
        return fit_pairs(self, process, seed, monitor, self.loss, self.default_steps(process))


def fit_pairs(
    learner: Learner,
    process: th.Process,
    seed: int,
    monitor,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    default_steps: int,
) -> Fit:
    """Train ``learner.encoder`` (plus its optional ``projector`` head) on fresh positive
    pairs of ``process``, minimising ``loss(h, h')`` batch by batch.

    Practice mode, as InfoNCE: ``learner.restarts + 1`` initialisations race for the first
    ``learner.race`` of the steps and the one whose ``loss`` on the same fresh training
    pairs is lowest (observations only, no latents) trains on to the end
    (:func:`~verification.learners.racing.run_race`). A single initialisation sometimes
    stops at a folded minimum (R² ≈ 0.67 at n = 3, measured on the canonical cl-ica
    process; docs/reproductions.md).

    Uses the learner's ``content``, ``projector``, ``encoder``, ``train``, ``restarts`` and
    ``race`` fields. Returns a failed Fit (status "diverged") when the training
    observations cannot be trained on (:func:`~verification.learners.base.data_problem`)."""
    base.require_pairs(learner, process)
    config = base.resolved(learner.train, default_steps, WARMUP)
    return race_restarts(
        learner,
        seed,
        config.steps,
        lambda run_seed: _start(learner, process, run_seed, config, loss, monitor),
        lambda run: run.selection_loss(process, config.batch_size, seed),
    )


def _start(learner, process, seed, config, loss, monitor) -> _PairRun | Fit:
    """One initialisation ready to train (or a failed Fit when the data cannot be)."""
    torch.manual_seed(seed)
    rng = random_stream(seed, "pairs")
    n_out = getattr(learner, "content", None) or process.dim
    bs = config.batch_size
    _, _, x_ref, _ = process.sample_pairs(reference_size(process), rng)
    problem = base.data_problem(x_ref.float())
    if problem is not None:
        return base.failed_fit(n_out, problem)
    device = resolve_device(getattr(learner, "device", "cpu"))
    # a CNN when the process observes images (learners/cnn.py)
    model = build_encoder(process, n_out, learner.encoder, x_ref.float()).to(device)
    width = getattr(learner, "projector", None)
    head = (projector_head(n_out, width) if width is not None else nn.Identity()).to(device)
    batch = pair_batches(process, rng, bs, device)

    def loss_fn(step: int) -> torch.Tensor:
        p = head(model(batch()))
        return loss(p[:bs], p[bs:])

    encode = base.encoder_of(model, device)
    watch = None if monitor is None else (lambda step: monitor(step, encode))
    params = [*model.parameters(), *head.parameters()]
    training = Training(loss_fn, params, config, watch)
    return _PairRun(training, encode, model=model, head=head, loss=loss, device=device)


class _PairRun(Run):
    """One initialisation of a pair learner (its ``model``, projector ``head``, ``loss``
    and ``device``), scored by its training objective."""

    model: Encoder
    head: nn.Module
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    device: torch.device

    def selection_loss(self, process: th.Process, batch: int, seed: int) -> float:
        """The training objective (projector head included) on fresh training pairs, the
        same pairs for every candidate of one fit: observations only, no latents."""
        rng = random_stream(seed, "selection")
        values = []
        with torch.no_grad():
            for _ in range(SELECTION_BATCHES):
                _, _, x, x_pos = process.sample_pairs(batch, rng)
                p = self.head(self.model(torch.cat([x, x_pos]).float().to(self.device)))
                values.append(float(self.loss(p[:batch], p[batch:])))
        return float(np.mean(values))
