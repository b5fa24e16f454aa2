"""Time-contrastive learning (Hyvärinen & Morioka 2016).

A feature extractor h(x) = |f(x)| (absolute-value features: the sufficient statistics of
Laplace segments) followed by multinomial logistic regression predicts the segment label
u of each observation. Theorem 1: at the optimum, h(x) = A t(z) + b with t(z) the
sufficient statistics (|z| for Laplace, z² for Normal segments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

import theory as th
from theory.errors import InvalidProcess
from verification import _learner_specs as tables
from verification import _options as opt
from verification._seeds import random_stream
from verification.learners.base import (
    Fit,
    Learner,
    TrainConfig,
    data_problem,
    encoder_of,
    failed_fit,
    resolved,
    train_loop,
)
from verification.learners.encoders import Encoder, EncoderConfig

TCL_STEPS = 3000  # training steps when train.steps is None


@dataclass
class TCL(Learner):
    n_train: int = 100_000
    encoder: EncoderConfig = field(default_factory=lambda: EncoderConfig(width=128, depth=2))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=3000, lr=1e-2))
    name = "tcl"

    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.TCL

    def fit(self, process: th.Process, *, seed: int = 0, monitor=None) -> Fit:
        latent = process.latent
        if not isinstance(latent, th.latents.Segmented):
            raise InvalidProcess(
                "tcl needs a latent with segment labels (theory.latents.Segmented), "
                f"got {latent.family}"
            )
        torch.manual_seed(seed)
        z, u = latent.sample_with_segments(self.n_train, random_stream(seed, "train"))
        x = process.observe(z).float()
        n = process.dim
        problem = data_problem(x)
        if problem is not None:
            return failed_fit(n, problem)
        features = Encoder(x.shape[1], n, self.encoder, x)
        classifier = nn.Linear(n, latent.n_segments)
        gen = torch.Generator().manual_seed(seed)
        config = resolved(self.train, TCL_STEPS)
        bs = min(config.batch_size, len(x))

        def loss_fn(step: int) -> torch.Tensor:
            idx = torch.randint(0, len(x), (bs,), generator=gen)
            logits = classifier(features(x[idx]).abs())
            return nn.functional.cross_entropy(logits, u[idx])

        params = [*features.parameters(), *classifier.parameters()]

        encode = encoder_of(lambda x: features(x).abs())

        watch = None if monitor is None else (lambda step: monitor(step, encode))
        curve, steps, seconds, status, message = train_loop(
            loss_fn, params, config, monitor=watch
        )
        features.eval()

        return Fit(encode, curve, steps, seconds, status, message)
