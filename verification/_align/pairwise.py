"""How far two representations of the same inputs agree: the pairwise scores of ``sith align``.

For representations A (N x a) and B (N x b) of one common held-out set (two trained
models, or a model and the true latents):

- ``cka``: linear CKA (Kornblith et al. 2019), invariant to orthogonal maps and isotropic
  scaling of either side;
- ``mutual_knn``: mutual k-nearest-neighbour alignment on unit-normalised rows, with
  ``k`` stated (Huh, Cheung, Wang & Isola 2024, "The Platonic Representation
  Hypothesis", Sec. 2.2: the fraction of shared neighbours, about k / N for unrelated
  representations);
- ``r2_a_to_b`` / ``r2_b_to_a``: held-out linear R² of predicting B from A and A from B
  (both 1 iff the two are related by an invertible affine map);
- ``procrustes``: the held-out relative residual after the best orthogonal map and one
  global scale (0 for a rotation/reflection and scale; needs a == b);
- ``aligned``: agreement up to the theorem's indeterminacy, scored by
  :data:`INDETERMINACY_SCORES` (e.g. the orthogonal R² for cl-ica, the cross-fitted MCC
  for permutation claims), averaged over both directions where the score is directional.

Identifiability makes a prediction about these numbers: if each of two models recovers
z up to the theorem's indeterminacy group G, then h_2 = T_2 ∘ T_1^{-1} ∘ h_1 with
T_2 T_1^{-1} in G, so the two models agree up to G as well ("aligned" near 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from verification import metrics as M

K_DEFAULT = 10  # neighbours of mutual k-NN (Huh et al. 2024 use k = 10)


def _both(score: Callable[..., float]) -> Callable[[np.ndarray, np.ndarray, int], float]:
    def symmetric(a: np.ndarray, b: np.ndarray, seed: int) -> float:
        return 0.5 * (score(a, b, seed=seed) + score(b, a, seed=seed))

    return symmetric


def _nonlinear(a: np.ndarray, b: np.ndarray, seed: int) -> float:
    ab = M.r2_nonlinear(a, b, seed=seed, max_train=1000)
    ba = M.r2_nonlinear(b, a, seed=seed, max_train=1000)
    return 0.5 * (ab + ba)


def _mcc(a: np.ndarray, b: np.ndarray, seed: int) -> float:
    return M.mcc_crossfit(a, b, seed=seed)


# indeterminacy (a claim's name, matched by prefix) -> (score name, score, needs a == b)
INDETERMINACY_SCORES: dict[
    str, tuple[str, Callable[[np.ndarray, np.ndarray, int], float], bool]
] = {
    "orthogonal": ("r2_orthogonal", _both(M.r2_orthogonal), True),
    "permutation": ("mcc_crossfit", _mcc, False),
    "block": ("r2_nonlinear", _nonlinear, False),
    "affine": ("r2_linear", _both(M.r2_linear), False),
    "linear": ("r2_linear", _both(M.r2_linear), False),
}
FALLBACK = INDETERMINACY_SCORES["affine"]


def indeterminacy_score(indeterminacy: str) -> tuple[str, Callable, bool]:
    """The score of agreement up to ``indeterminacy`` (a claim's ``indeterminacy``):
    ``(name, fn(a, b, seed), needs equal widths)``; an unknown one is scored as affine."""
    for prefix, entry in INDETERMINACY_SCORES.items():
        if indeterminacy.startswith(prefix):
            return entry
    return FALLBACK


def _value(fn: Callable[[], float]) -> float | None:
    value = float(fn())
    return value if math.isfinite(value) else None


def usable(a: np.ndarray) -> bool:
    """Finite and not constant: a representation the scores are defined for."""
    return bool(np.isfinite(a).all()) and bool((a.std(axis=0) > 0).any())


def compare(
    a: Any,
    b: Any,
    *,
    indeterminacy: str = "affine",
    k: int = K_DEFAULT,
    seed: int = 0,
) -> dict[str, float | None]:
    """Every pairwise score of A and B (see the module docstring). A score that is not
    defined for the pair (an unusable side, different widths for Procrustes) is None."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    _, aligned, same_width = indeterminacy_score(indeterminacy)
    out: dict[str, float | None] = dict.fromkeys(
        ("cka", "mutual_knn", "r2_a_to_b", "r2_b_to_a", "procrustes", "aligned")
    )
    if not (usable(a) and usable(b)):
        return out
    out["cka"] = _value(lambda: M.linear_cka(a, b))
    out["mutual_knn"] = _value(lambda: M.mutual_knn(a, b, k=k, normalize=True))
    out["r2_a_to_b"] = _value(lambda: M.r2_linear(b, a, seed=seed))
    out["r2_b_to_a"] = _value(lambda: M.r2_linear(a, b, seed=seed))
    if a.shape[1] == b.shape[1]:
        out["procrustes"] = _value(lambda: M.procrustes_error(b, a, seed=seed))
    if a.shape[1] == b.shape[1] or not same_width:
        out["aligned"] = _value(lambda: aligned(a, b, seed))
    return out


SCORES = ("cka", "mutual_knn", "r2_a_to_b", "r2_b_to_a", "procrustes", "aligned")

__all__ = ["INDETERMINACY_SCORES", "K_DEFAULT", "SCORES", "compare", "indeterminacy_score"]
