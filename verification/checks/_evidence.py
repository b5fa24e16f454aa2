"""The one way the built-in checks build Evidence.

Every decider returns one of these, so each verdict carries the fields its meaning
needs (see the verdicts in ``verification.evidence``):

- ``proved``: decided exactly (sympy, or the declared family of the process);
- ``holds``: survived the numeric attempts; never a proof, and never with a witness;
- ``violated``: with the witness where there is one (a point, a pair, an index);
- ``inconclusive``: the numerics could not decide; the message says why;
- ``not_applicable``: the assumption is not about this kind of process; the message
  says why (not satisfied, and not a violation either);
- ``decided``: a threshold decision, ``violated`` (with the witness) when the statistic
  exceeds the tolerance (for a lower bound: when it does not), else ``holds``;
- ``settled``: a yes/no decision, ``proved`` or ``holds`` when yes, else ``violated``.

``point`` turns a latent vector into a witness entry (a plain list of floats).
"""

from __future__ import annotations

from typing import Any

import torch

from verification.evidence import Evidence

Witness = dict[str, Any] | None


def point(z: torch.Tensor) -> list[float]:
    """A witness point: the entries of ``z`` as plain floats."""
    return [float(v) for v in z.detach().reshape(-1)]


def moved_witness(z: torch.Tensor, raw: torch.Tensor, moved: torch.Tensor, project) -> Witness:
    """The first positive a support's projection moves (``moved``, a row mask): its
    ``z``, the unprojected draw and where ``project`` puts it; None when none moved."""
    if not bool(moved.any()):
        return None
    k = int(moved.nonzero()[0, 0])
    return {
        "z": point(z[k]),
        "z_prime_unprojected": point(raw[k]),
        "z_prime": point(project(raw[k : k + 1])[0]),
    }


def _evidence(
    verdict: str,
    name: str,
    message: str,
    method: str,
    statistic: float | None = None,
    tolerance: float | None = None,
    n_points: int = 0,
    witness: Witness = None,
) -> Evidence:
    """The one Evidence constructor call of the builders below."""
    return Evidence(
        assumption=name,
        verdict=verdict,
        statistic=statistic,
        tolerance=tolerance,
        n_points=n_points,
        witness=witness,
        method=method,
        message=message,
    )


def proved(
    name: str,
    message: str,
    *,
    tolerance: float | None = None,
    statistic: float | None = 0.0,
    method: str = "sympy",
) -> Evidence:
    """An exact proof: by sympy (the default), or by ``method`` (e.g. "family")."""
    return _evidence("proved", name, message, method, statistic, tolerance)


def holds(
    name: str,
    message: str,
    *,
    statistic: float | None,
    tolerance: float | None,
    n_points: int,
    method: str,
) -> Evidence:
    """Held at ``n_points`` (and whatever search ``method`` names): evidence, not proof."""
    return _evidence("holds", name, message, method, statistic, tolerance, n_points)


def violated(
    name: str,
    message: str,
    *,
    method: str,
    statistic: float | None,
    tolerance: float | None,
    n_points: int,
    witness: Witness = None,
) -> Evidence:
    """Violated, with the witness and the size of the violation (``statistic``)."""
    return _evidence("violated", name, message, method, statistic, tolerance, n_points, witness)


def inconclusive(
    name: str,
    message: str,
    *,
    tolerance: float | None,
    n_points: int,
    method: str,
    statistic: float | None = None,
) -> Evidence:
    """The numerics could not decide; ``message`` says why."""
    return _evidence("inconclusive", name, message, method, statistic, tolerance, n_points)


def not_applicable(name: str, message: str, *, method: str) -> Evidence:
    """The assumption does not apply to this process (``message`` says why)."""
    return _evidence("not-applicable", name, message, method)


def settled(
    ok: bool,
    name: str,
    message: str,
    *,
    exact: bool,
    method: str,
    witness: Witness = None,
    statistic: float | None = None,
    tolerance: float | None = None,
    n_points: int = 0,
) -> Evidence:
    """A yes/no decision: ``proved`` (``exact``) or ``holds`` when ``ok``, else
    ``violated`` with the witness. The statistic and tolerance are reported as given;
    ``n_points`` is the number of points a sampled (not ``exact``) decision used."""
    if not ok:
        return _evidence("violated", name, message, method, statistic, tolerance, n_points, witness)
    if exact:  # an exact decision samples nothing: n_points stays 0
        return _evidence("proved", name, message, method, statistic, tolerance)
    return _evidence("holds", name, message, method, statistic, tolerance, n_points)


def full_rank(
    name: str, message: str, rank: Any, n: int, *, ratio: float, tolerance: float
) -> Evidence:
    """A rank decision (``rank`` from ``checks._rank.matrix_rank``; None when there was no
    row to rank, i.e. rank 0): ``proved`` (an exact rank) or ``holds`` when the rank is
    ``n``, else ``violated`` with a kernel vector as the witness (``e_1`` where none was
    found). ``ratio`` (σ_min/σ_max) is the statistic reported."""
    r = 0 if rank is None else rank.rank
    kernel = None
    if r < n:
        found = None if rank is None else rank.kernel
        kernel = [1.0] + [0.0] * (n - 1) if found is None else [float(v) for v in found]
    return settled(
        r == n,
        name,
        message,
        exact=rank is None or rank.exact,
        method="rank",
        statistic=ratio,
        tolerance=tolerance,
        witness=None if kernel is None else {"kernel_vector": kernel},
    )


def decided(
    name: str,
    statistic: float,
    tolerance: float,
    n_points: int,
    *,
    method: str,
    when_violated: str,
    when_holds: str,
    witness: Witness = None,
    lower_bound: bool = False,
) -> Evidence:
    """A threshold decision, never a proof.

    ``violated`` (message ``when_violated``, with the witness) when ``statistic >
    tolerance``, else ``holds`` (message ``when_holds``). With ``lower_bound=True`` it is
    the other way round: the statistic must exceed the tolerance to hold. Either way the
    test is ``statistic > tolerance``, so a NaN statistic counts as not exceeding it.
    """
    exceeds = statistic > tolerance
    ok = exceeds if lower_bound else not exceeds
    return settled(
        ok,
        name,
        when_holds if ok else when_violated,
        exact=False,
        method=method,
        statistic=statistic,
        tolerance=tolerance,
        n_points=n_points,
        witness=witness,
    )


__all__ = [
    "decided",
    "full_rank",
    "holds",
    "inconclusive",
    "moved_witness",
    "not_applicable",
    "point",
    "proved",
    "settled",
    "violated",
]
