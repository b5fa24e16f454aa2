"""BYOL: bootstrap your own latent (Grill et al. 2020), a momentum-target learner.

Two networks see the two views of a positive pair (x, x'): the *online* network, an
encoder f_θ, a projector g_θ and a predictor q_θ; and the *target* network, an encoder
f_ξ and a projector g_ξ whose weights are an exponential moving average of the online
ones, ξ ← m ξ + (1 − m) θ after every step, and which receives no gradient. The loss is
symmetrised over the views,

    L = ‖q̄_θ(x) − z̄_ξ(x')‖² + ‖q̄_θ(x') − z̄_ξ(x)‖² = 4 − 2 cos(q_θ(x), z_ξ(x'))
                                                    − 2 cos(q_θ(x'), z_ξ(x)),

with q_θ(x) = q_θ(g_θ(f_θ(x))), z_ξ(x) = g_ξ(f_ξ(x)) and ū = u/‖u‖. The momentum follows
the paper's schedule m_k = 1 − (1 − m_0)(cos(πk/K) + 1)/2 from ``momentum`` (m_0,
0.996 in the paper; 0.99 here for budgets of hundreds of steps) to 1. No negatives: the
predictor and the slowly moving target keep the representation from collapsing. The
representation is the online encoder's output f_θ(x) (``content`` outputs, or one per
latent); on image processes f is the CNN of ``cnn.py`` (as InfoNCE, VICReg, Barlow Twins).

Practice mode (the only mode): ``restarts + 1`` initialisations race for the first
``race`` of the steps, and the one with the lowest BYOL loss on the same fresh training
pairs (observations only) trains on (:func:`~verification.learners.racing.run_race`).

No theorem of the catalogue is about BYOL: a recovery it reaches on a theorem's process
is evidence beyond the theorem (``learner-objective`` violated), the kind of inductive
bias the research agenda asks about (non-contrastive learners that still recover).
"""

from __future__ import annotations

import copy
import functools
import math
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
from verification.learners.cnn import build_encoder, reference_size
from verification.learners.devices import resolve_device
from verification.learners.encoders import EncoderConfig
from verification.learners.racing import race_restarts
from verification.learners.vicreg import SELECTION_BATCHES, pair_batches, projector_head

WARMUP = 0.15  # warm-up fraction when TrainConfig.warmup is None (as InfoNCE)
COLLAPSED_STD = 1e-4  # every output this constant over a batch: a collapsed encoder


def byol_loss(p: torch.Tensor, p_pos: torch.Tensor, z: torch.Tensor, z_pos: torch.Tensor):
    """The symmetrised BYOL loss: mean over the batch of 4 − 2 cos(p, z_pos) − 2 cos(p_pos,
    z), where p are the online predictions and z the (detached) target projections."""
    cos = nn.functional.cosine_similarity
    return (4 - 2 * cos(p, z_pos.detach(), dim=-1) - 2 * cos(p_pos, z.detach(), dim=-1)).mean()


def momentum_at(start: float, step: int, total: int) -> float:
    """The target's momentum at ``step`` of ``total``: 1 − (1 − m_0)(cos(π k/K) + 1)/2."""
    k = min(step, total) / max(total, 1)
    return 1.0 - (1.0 - start) * (math.cos(math.pi * k) + 1.0) / 2.0


@dataclass
class BYOL(Learner):
    """BYOL on positive pairs (see the module docstring for the loss and defaults)."""

    momentum: float = 0.99  # m_0, the target's momentum at the first step (rises to 1)
    projector: int = 64  # width of the projector g and the predictor q
    content: int | None = None  # output dimension (content block size); None: latent dim
    restarts: int = 2  # extra initialisations raced over the first ``race`` of the steps
    race: float = 0.15
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    # lr 1e-2: at 3e-3 the canonical cl-ica process kept r2_linear 0.62 after 600 steps
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=1e-2))
    device: str = "cpu"  # where it trains: cpu, cuda, cuda:N, auto (learners/devices.py)
    name = "byol"

    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.BYOL

    @staticmethod
    def default_steps(process: th.Process) -> int:
        """600 steps up to n = 3, 200 n above."""
        return max(600, 200 * process.dim)

    def fit(self, process: th.Process, *, seed: int = 0, monitor=None) -> Fit:
        """Race ``restarts + 1`` initialisations, keep the lowest BYOL loss, finish it."""
        base.require_pairs(self, process)
        config = base.resolved(self.train, self.default_steps(process), WARMUP)
        start = functools.partial(self._start, process, config=config, monitor=monitor)
        select = functools.partial(
            _ByolRun.selection_loss, process=process, seed=seed, batch=config.batch_size
        )
        return race_restarts(self, seed, config.steps, start, select)

    def _start(self, process, seed, config, monitor) -> _ByolRun | Fit:
        torch.manual_seed(seed)
        rng = random_stream(seed, "pairs")
        n_out = self.content or process.dim
        _, _, x_ref, _ = process.sample_pairs(reference_size(process), rng)
        problem = base.data_problem(x_ref.float())
        if problem is not None:
            return base.failed_fit(n_out, problem)
        device = resolve_device(self.device)
        online = nn.ModuleDict(
            {
                "encoder": build_encoder(process, n_out, self.encoder, x_ref.float()),
                "projector": projector_head(n_out, self.projector),
                "predictor": projector_head(self.projector, self.projector),
            }
        ).to(device)
        target = copy.deepcopy(nn.ModuleDict({k: online[k] for k in ("encoder", "projector")}))
        target.requires_grad_(False)
        batch = pair_batches(process, rng, config.batch_size, device)
        encode = base.encoder_of(online["encoder"], device)
        run: _ByolRun

        def loss_fn(step: int) -> torch.Tensor:
            run.follow(step)  # the target catches up with the last step's online weights
            return run.loss(batch())

        watch = None if monitor is None else (lambda step: monitor(step, encode))
        training = Training(loss_fn, list(online.parameters()), config, watch)
        run = _ByolRun(
            training,
            encode,
            online=online,
            target=target,
            device=device,
            momentum=self.momentum,
            steps=config.steps,
        )
        return run


class _ByolRun(Run):
    """One initialisation: the ``online`` network, its momentum ``target``, its Training."""

    online: nn.ModuleDict
    target: nn.ModuleDict
    device: torch.device
    momentum: float
    steps: int

    @torch.no_grad()
    def follow(self, step: int) -> None:
        """ξ ← m ξ + (1 − m) θ with the scheduled momentum (a no-op at step 0)."""
        if step == 0:
            return
        m = momentum_at(self.momentum, step, self.steps)
        for name in ("encoder", "projector"):
            target = list(self.target[name].parameters())
            online = list(self.online[name].parameters())
            torch._foreach_lerp_(target, online, 1.0 - m)

    def loss(self, xx: torch.Tensor) -> torch.Tensor:
        half = xx.shape[0] // 2
        online = self.online
        p = online["predictor"](online["projector"](online["encoder"](xx)))
        with torch.no_grad():
            z = self.target["projector"](self.target["encoder"](xx))
        return byol_loss(p[:half], p[half:], z[:half], z[half:])

    def selection_loss(self, process: th.Process, seed: int, batch: int) -> float:
        """The BYOL loss on fresh training pairs, the same for every candidate of a fit."""
        rng = random_stream(seed, "selection")
        values = []
        with torch.no_grad():
            for _ in range(SELECTION_BATCHES):
                _, _, x, x_pos = process.sample_pairs(batch, rng)
                xx = torch.cat([x, x_pos]).float().to(self.device)
                # BYOL's loss has no term against collapse, and a collapsed encoder reaches
                # 0: a candidate with a constant output direction is out of the race
                if float(self.online["encoder"](xx).std(0).max()) < COLLAPSED_STD:
                    return math.inf
                values.append(float(self.loss(xx)))
        return float(np.mean(values))


__all__ = ["BYOL", "byol_loss", "momentum_at"]
