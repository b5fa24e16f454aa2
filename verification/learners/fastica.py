"""Linear ICA with scikit-learn's FastICA (Hyvärinen & Oja 2000)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

import theory as th
from verification import _learner_specs as tables
from verification import _options as opt
from verification._seeds import random_stream
from verification.learners.base import Fit, Learner, data_problem, failed_fit


@dataclass
class FastICA(Learner):
    """Fit FastICA (logcosh contrast, unit-variance whitening) on ``n_train`` samples."""

    n_train: int = 10_000
    max_iter: int = 1000
    tol: float = 1e-5
    name = "fastica"

    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.FASTICA

    def fit(self, process: th.Process, *, seed: int = 0, monitor=None) -> Fit:
        import time
        import warnings

        # scikit-learn is imported here, not with the module: it takes 1.5 s (pandas,
        # scipy.stats), which every other learner's workers would pay for nothing
        from sklearn.decomposition import FastICA as _SkFastICA
        from sklearn.exceptions import ConvergenceWarning

        start = time.perf_counter()
        _, x = process.sample(self.n_train, random_stream(seed, "fastica-train"))
        problem = data_problem(x)
        if problem is not None:
            return failed_fit(process.dim, problem, seconds=time.perf_counter() - start)
        ica = _SkFastICA(
            n_components=process.dim,
            whiten="unit-variance",
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=seed,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            ica.fit(x.numpy())
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        unmixing = ica.components_

        def encode(x_new: torch.Tensor) -> torch.Tensor:
            return torch.from_numpy(ica.transform(np.asarray(x_new, dtype=float)))

        return Fit(
            encode,
            [(int(ica.n_iter_), float("nan"))],
            int(ica.n_iter_),
            time.perf_counter() - start,
            "ok",
            "" if converged else "FastICA did not converge within max_iter",
            {"unmixing": unmixing},
        )
