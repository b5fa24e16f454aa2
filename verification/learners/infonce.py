"""InfoNCE contrastive learning (Oord et al. 2018; Zimmermann et al. 2021).

For a batch of positive pairs (x_i, x'_i) the loss is the symmetric cross-entropy of
the B x B similarity matrix S_ij = sim(h(x_i), h(x'_j)) / tau with targets on the
diagonal — the negatives are the other pairs of the batch. Critics:
- "cosine": h normalised to the sphere, sim = <h, h'> (Zimmermann et al. 2021, Thm 2,
  with tau = 1 / kappa matched to a vMF conditional);
- "lp": sim = -||h - h'||_p (their Thm 4 for box / R^n latents).
With ``content`` set, the encoder has that many outputs (von Kügelgen et al. 2021).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn

import theory as th
from verification.learners.base import Fit, Learner, TrainConfig, train_loop
from verification.learners.encoders import Encoder, EncoderConfig


def infonce_loss(
    h: torch.Tensor, h_pos: torch.Tensor, tau: float, critic: str, p: float = 1.0
) -> torch.Tensor:
    """Symmetric InfoNCE over the batch; matmul / cdist, no loop over samples."""
    if critic == "cosine":
        logits = h @ h_pos.T / tau
    else:
        logits = -torch.cdist(h, h_pos, p=p) / tau
    target = torch.arange(len(h), device=h.device)
    return 0.5 * (
        nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target)
    )


@dataclass
class InfoNCE(Learner):
    critic: Literal["cosine", "lp"] = "cosine"
    tau: float | None = None  # None: 1/kappa for a vMF conditional, else 0.1 (cosine) / 1 (lp)
    p: float = 1.0
    content: int | None = None  # output dimension (content block size); None: latent dim
    n_train: int | None = None  # fixed training set size; None: fresh pairs every step
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name = "infonce"

    def _tau(self, process: th.Process) -> float:
        if self.tau is not None:
            return self.tau
        cond = process.conditional
        if self.critic == "cosine" and isinstance(cond, th.conditionals.VonMisesFisher):
            return 1.0 / cond.kappa
        return 0.1 if self.critic == "cosine" else 1.0

    def fit(self, process: th.Process, *, seed: int = 0, monitor=None) -> Fit:
        if process.conditional is None:
            raise ValueError("InfoNCE needs positive pairs: the process has no conditional")
        torch.manual_seed(seed)
        rng = np.random.default_rng([seed, 13])
        n_out = self.content or process.dim
        bs = self.train.batch_size
        _, _, x_ref, _ = process.sample_pairs(max(4 * bs, 4096), rng)
        model = Encoder(
            x_ref.shape[1], n_out, self.encoder, x_ref.float(), normalize=self.critic == "cosine"
        )
        tau = self._tau(process)
        if self.n_train is not None:
            _, _, xs, xps = process.sample_pairs(self.n_train, rng)
            xs, xps = xs.float(), xps.float()
            gen = torch.Generator().manual_seed(seed)

        def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            if self.n_train is None:
                _, _, x, x_pos = process.sample_pairs(bs, rng)
                return x.float(), x_pos.float()
            idx = torch.randint(0, len(xs), (bs,), generator=gen)
            return xs[idx], xps[idx]

        def loss_fn(step: int) -> torch.Tensor:
            x, x_pos = batch(step)
            return infonce_loss(model(x), model(x_pos), tau, self.critic, self.p)

        def encode(x_new: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return model(torch.as_tensor(x_new).float()).double()

        watch = None if monitor is None else (lambda step: monitor(step, encode))
        curve, steps, seconds, status, message = train_loop(
            loss_fn, model.parameters(), self.train, watch
        )
        model.eval()

        return Fit(encode, curve, steps, seconds, status, message, {"tau": tau})
