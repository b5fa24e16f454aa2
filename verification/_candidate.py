"""A candidate: one process and the learner options to train it with, the unit that
searches, sweeps and alignments evaluate.

Its own module, without hypothesis, so that what evaluates candidates (a sweep's
driver and its workers) does not import the search's strategies (0.05 s).
:mod:`verification.spaces` is where its users import it from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import theory as th


@dataclass(frozen=True)
class Candidate:
    """One point of a search space: a process and the learner options to train it with."""

    process: th.Process
    learner_options: dict[str, Any]

    def params(self) -> dict[str, Any]:
        """Flat, plottable description of the searched parameters."""
        p = self.process
        out: dict[str, Any] = {
            "dim": p.dim,
            "latent": p.latent.family,
            "mixing": p.mixing.family,
            "conditional": None if p.conditional is None else p.conditional.family,
        }
        if p.view_mixing is not None:  # a two-view process (absent key otherwise)
            out["view_mixing"] = p.view_mixing.family
        for key in ("depth",):
            if hasattr(p.mixing, key):
                out[key] = getattr(p.mixing, key)
        for key in ("kappa", "scale", "p", "beta"):
            if p.conditional is not None and hasattr(p.conditional, key):
                out[key] = getattr(p.conditional, key)
        if isinstance(p.latent, th.latents.Segmented):
            out["n_segments"] = p.latent.n_segments
            out["spread"] = p.latent.spread
            if p.latent.location:
                out["location"] = p.latent.location
        if isinstance(p.latent, th.latents.ClusterSphere):
            out["n_clusters"] = p.latent.n_clusters
            out["cluster_kappa"] = p.latent.kappa
        out.update(self.learner_options)
        return out


__all__ = ["Candidate"]
