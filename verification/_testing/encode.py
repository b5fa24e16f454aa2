"""The checks of the fitted encoder: its shape, row by row, and blind to the
evaluation data and to the process.

Private: the public names live in :mod:`verification.testing`."""

from __future__ import annotations

import numpy as np
import torch

from verification._testing.harness import _N_HELD_OUT, _PROBE_STREAM, Harness, _difference


def check_encode_shape(h: Harness) -> None:
    check = "encode_shape"
    fit, _ = h.watched_fit(check)
    dim = h.latent_dim(h.subject(check))
    for m in (37, 1):
        x = h.observations(m)
        kept = x.clone()
        out = h.encode(check, fit, x)
        if not torch.equal(x, kept):
            raise h.fail(check, "encode modified its input in place")
        if tuple(out.shape) != (m, dim):
            raise h.fail(
                check,
                f"encode mapped {m} unseen observations to shape {tuple(out.shape)}, "
                f"expected ({m}, {dim}) (pass latent_dim= if it should differ)",
            )
        if not out.is_floating_point():
            raise h.fail(check, f"encode returned dtype {out.dtype}, not floating point")
        if not torch.isfinite(out).all():
            raise h.fail(
                check,
                f"encode returned {int((~torch.isfinite(out)).sum())} non-finite values "
                f"for {m} unseen observations of a fit with status 'ok'; report training "
                "trouble as Fit(status='diverged') instead",
            )


def check_encode_rowwise(h: Harness) -> None:
    check = "encode_rowwise"
    fit, _ = h.watched_fit(check)
    probe = h.observations(16)
    first = h.encode(check, fit, probe)
    other = h.observations(200, stream=_PROBE_STREAM + 1)
    h.encode(check, fit, other)
    h.encode(check, fit, 3.0 * other)
    again = h.encode(check, fit, probe)
    moved = _difference(first, again, rtol=1e-4, atol=1e-5)
    if moved is not None:
        raise h.fail(
            check,
            "encoding other (evaluation) data changed the encoding of a fixed probe "
            f"(max |difference| {moved}): encode must not adapt to what it is given",
        )
    mixed = torch.cat([other[:50], probe, 3.0 * other[50:100]])
    inside = h.encode(check, fit, mixed)
    if inside.shape[0] != len(mixed):
        raise h.fail(check, f"encode returned {inside.shape[0]} rows for {len(mixed)}")
    moved = _difference(first, inside[50 : 50 + len(probe)], rtol=1e-4, atol=1e-5)
    if moved is not None:
        raise h.fail(
            check,
            f"a probe's encoding depends on the other observations of its batch (max "
            f"|difference| {moved}): encode must map each observation on its own (no batch "
            "statistics), so evaluation data cannot influence it",
        )


def check_no_evaluation_data(h: Harness) -> None:
    from verification.recovery import TEST_STREAM

    check = "no_evaluation_data"
    fit, watch = h.watched_fit(check)
    held_out = np.random.default_rng([h.seed, TEST_STREAM]).bit_generator
    for seed, state in watch.seeds:
        seq = getattr(seed.bit_generator, "seed_seq", None) if state is not None else None
        same_stream = getattr(seq, "entropy", None) == held_out.seed_seq.entropy and tuple(
            getattr(seq, "spawn_key", ())
        ) == tuple(held_out.seed_seq.spawn_key)
        if same_stream or state == held_out.state:
            raise h.fail(
                check,
                f"fit drew samples from rng([seed, {TEST_STREAM}]) (or a generator in its "
                "state), the stream recover holds out for evaluation",
            )
    if watch.rows:
        x_test = h.process.sample(_N_HELD_OUT, np.random.default_rng([h.seed, TEST_STREAM]))[1]
        test_rows = {row.tobytes() for row in np.ascontiguousarray(x_test.double().numpy())}
        seen = sum(
            row.tobytes() in test_rows for rows in watch.rows for row in np.ascontiguousarray(rows)
        )
        if seen:
            raise h.fail(
                check,
                f"fit generated {seen} of the held-out observations recover evaluates on; "
                "a learner must train on its own samples only",
            )
    h.encode(check, fit, h.observations(8))  # fails if encode reads the process
    if watch.touched is not None:  # touched, and the error swallowed by the learner
        raise h.fail(
            check,
            f"encode read the process (attribute {watch.touched!r}) after fit returned",
        )
