"""Known-answer tests for verification.metrics (kept small: whole file runs in seconds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group
from threadpoolctl import threadpool_limits

from theory.errors import InvalidArgument
from verification.metrics import (
    METRICS,
    MCCResult,
    MetricInfo,
    amari_distance,
    block_r2,
    linear_cka,
    mcc,
    mcc_crossfit,
    mcc_crossfit_min,
    mcc_matching,
    mcc_null_baseline,
    mutual_knn,
    procrustes_error,
    r2_linear,
    r2_nonlinear,
    r2_orthogonal,
    r2_orthogonal_min,
    recovery_metrics,
)


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_blas():
    """Small matrices on a shared 2-core machine: multi-threaded BLAS only adds contention."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


C45 = np.cos(np.pi / 4)
ROT45 = np.array([[C45, -C45], [C45, C45]])


def _laplace(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).laplace(size=(n, d))


def _uniform(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, d))


# --------------------------------------------------------------------------- MCC


def test_permutation_scaling_sign_flip_is_perfect() -> None:
    z = _laplace(2000, 4)
    perm = np.array([2, 0, 3, 1])
    scale = np.array([2.0, -0.5, 3.0, -7.0])
    z_hat = z[:, perm] * scale + np.array([1.0, -2.0, 0.0, 5.0])
    res = mcc_matching(z, z_hat)
    assert isinstance(res, MCCResult)
    assert abs(res.value - 1.0) < 1e-9
    assert abs(mcc(z, z_hat, method="spearman") - 1.0) < 1e-9
    # the matching recovers the permutation: z[:, perm[j]] is matched with z_hat[:, j]
    assert dict(res.pairs) == {int(p): j for j, p in enumerate(perm)}
    assert res.correlation.shape == (4, 4)
    np.testing.assert_allclose(np.sign(res.correlation[perm, range(4)]), np.sign(scale))
    assert r2_linear(z, z_hat) > 0.999


def test_monotone_nonlinearity_spearman_exact_pearson_not() -> None:
    z = _laplace(2000, 3)
    z_hat = z[:, ::-1] ** 3
    assert abs(mcc(z, z_hat, method="spearman") - 1.0) < 1e-12
    assert mcc(z, z_hat, method="pearson") < 0.95


def test_mcc_rectangular() -> None:
    z = _laplace(1000, 2)
    noise = _laplace(1000, 3, seed=1)
    wide = np.column_stack([noise[:, 0], 3 * z[:, 1], noise[:, 1:], -z[:, 0]])
    res = mcc_matching(z, wide)
    assert abs(res.value - 1.0) < 1e-9
    assert res.row_ind.size == 2 and res.correlation.shape == (2, 5)
    assert sorted(res.pairs) == [(0, 4), (1, 1)]
    # fewer estimated than true components: matched over min(d, d_hat)
    assert abs(mcc(z, 2 * z[:, [1]]) - 1.0) < 1e-9


def test_collapsed_representation_scores_zero_not_crash() -> None:
    z = _laplace(500, 3)
    collapsed = np.full((500, 3), 4.2)
    assert mcc(z, collapsed) == 0.0
    assert mcc(z, collapsed, method="spearman") == 0.0
    assert linear_cka(z, collapsed) == 0.0
    # partially collapsed: the constant column contributes 0
    partial = np.column_stack([z[:, 0], np.zeros(500), z[:, 2]])
    assert abs(mcc(z, partial) - 2.0 / 3.0) < 0.05


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    perm=st.permutations(list(range(3))),
    scales=st.lists(
        st.floats(0.1, 100.0, allow_nan=False) | st.floats(-100.0, -0.1, allow_nan=False),
        min_size=3,
        max_size=3,
    ),
)
def test_mcc_invariant_to_permutation_and_scaling(
    seed: int, perm: list[int], scales: list[float]
) -> None:
    rng = np.random.default_rng(seed)
    z = rng.exponential(size=(200, 3)) @ rng.normal(size=(3, 3))  # non-Gaussian, correlated
    z_hat = z[:, perm] * np.asarray(scales)
    for method in ("pearson", "spearman"):
        assert abs(mcc(z, z_hat, method=method) - 1.0) < 1e-9
        assert abs(mcc(z_hat, z, method=method) - 1.0) < 1e-9


def test_crossfit_mcc_known_answers() -> None:
    z = _laplace(2000, 4)
    assert mcc_crossfit(z, z) == pytest.approx(1.0, abs=1e-12)
    perm, scale = [2, 0, 3, 1], np.array([2.0, -0.5, 3.0, -7.0])
    assert mcc_crossfit(z, z[:, perm] * scale + 1.0) == pytest.approx(1.0, abs=1e-12)
    assert mcc_crossfit(z, z[:, ::-1] ** 3, method="spearman") == pytest.approx(1.0, abs=1e-12)
    # analytic: z_hat_i = z_i + unit noise has correlation 1 / sqrt(2) with z_i
    rng = np.random.default_rng(0)
    g = rng.normal(size=(4000, 3))
    noisy = (g + rng.normal(size=(4000, 3)))[:, [2, 0, 1]] * np.array([1.0, -2.0, 3.0])
    assert mcc_crossfit(g, noisy) == pytest.approx(1 / np.sqrt(2), abs=0.02)
    assert mcc_crossfit(g, noisy) == pytest.approx(mcc(g, noisy), abs=0.005)
    # a collapsed column contributes 0, as in mcc
    partial = np.column_stack([z[:, 0], np.zeros(2000), z[:, 2], z[:, 3]])
    assert mcc_crossfit(z, partial) == pytest.approx(0.75, abs=0.05)


def test_crossfit_mcc_has_no_selection_bias() -> None:
    """In-sample MCC chooses the matching on the data it scores: unrelated arrays get
    about sqrt(2 / (pi N)) per pair and more. Cross-fitted, they get about 0."""
    n, d = 2000, 3
    insample, crossfit = [], []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        z, noise = rng.uniform(size=(n, d)), rng.normal(size=(n, d))
        insample.append(mcc(z, noise))
        crossfit.append(mcc_crossfit(z, noise, seed=seed))
    assert all(c < i for c, i in zip(crossfit, insample, strict=True))
    assert abs(np.mean(crossfit)) < 0.01 and max(np.abs(crossfit)) < 0.05
    assert np.mean(insample) > 0.02


def test_mcc_null_baseline_is_the_chance_level_of_mcc() -> None:
    # analytic, d = 1: |corr| of a random permutation has mean sqrt(2 / pi) / sqrt(N - 1)
    rng = np.random.default_rng(0)
    n = 1000
    a, b = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    null = mcc_null_baseline(a, b, n_shuffles=1000)
    assert null == pytest.approx(np.sqrt(2 / np.pi / (n - 1)), abs=0.002)
    # independent data: the baseline is what in-sample MCC gives them on average
    z, noise = _uniform(2000, 3), np.random.default_rng(5).normal(size=(2000, 3))
    fresh = [
        mcc(_uniform(2000, 3, seed=s), np.random.default_rng(100 + s).normal(size=(2000, 3)))
        for s in range(10)
    ]
    assert mcc_null_baseline(z, noise, n_shuffles=20) == pytest.approx(np.mean(fresh), abs=0.006)
    # a perfect representation has the same chance level (shuffling breaks the link)
    assert mcc_null_baseline(z, z) < 0.05 < 1.0 == pytest.approx(mcc(z, z))
    assert mcc_null_baseline(z, noise, seed=3) == mcc_null_baseline(z, noise, seed=3)


# --------------------------------------------------------------------------- rotations


def test_rotation_keeps_r2_but_breaks_mcc() -> None:
    z = _uniform(2000, 2)
    z_hat = z @ ROT45
    assert r2_linear(z, z_hat) > 0.999
    m = mcc(z, z_hat)
    assert 0.65 < m < 0.8  # about 1 / sqrt(2)
    assert procrustes_error(z, 3.0 * z_hat + np.array([1.0, -4.0])) < 1e-10


def test_procrustes_detects_non_orthogonal_map() -> None:
    z = _uniform(1000, 2)
    assert procrustes_error(z, z @ np.array([[1.0, 0.0], [0.0, 5.0]])) > 0.2
    assert procrustes_error(z, _uniform(1000, 2, seed=1)) > 0.9


def test_amari_distance_known_values() -> None:
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(4, 4))
    scaled_perm = np.eye(4)[[3, 1, 0, 2]] * np.array([2.0, -1.0, 0.5, 3.0])
    unmixing = scaled_perm @ np.linalg.inv(mixing)
    assert amari_distance(unmixing, mixing) < 1e-12
    assert amari_distance(ROT45, np.eye(2)) > 0.1
    assert abs(amari_distance(ROT45, np.eye(2)) - 1.0) < 1e-12  # |P| all equal: maximal
    # hand computed: R = [[1, .5], [0, 1]]: rows 0.5 + 0, cols 0 + 0.5 -> 1 / (2*2*1)
    assert abs(amari_distance(np.array([[1.0, 0.5], [0.0, 1.0]]), np.eye(2)) - 0.25) < 1e-12


def _singular_map(singular_values, seed: int = 0) -> np.ndarray:
    d = len(singular_values)
    u, v = ortho_group.rvs(d, random_state=seed), ortho_group.rvs(d, random_state=seed + 1)
    return u @ np.diag(singular_values) @ v


def test_r2_orthogonal_tells_orthogonal_from_affine() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(20000, 3))  # many rows: the analytic limits below within 0.01
    q = ortho_group.rvs(3, random_state=1)
    assert r2_orthogonal(z, z @ q.T) == pytest.approx(1.0, abs=1e-12)
    assert r2_orthogonal(z, 3.0 * z @ q.T + 1.0) == pytest.approx(1.0, abs=1e-12)
    assert r2_orthogonal(z, -0.2 * z[:, [2, 0, 1]]) == pytest.approx(1.0, abs=1e-12)
    for sv in [(1.0, 1.0, 5.0), (1.0, 5.0, 5.0), (1.0, 1.0, 2.0), (1.0, 2.0, 2.0)]:
        sheared = z @ _singular_map(sv).T
        assert r2_linear(z, sheared) > 0.999  # linear R² cannot tell
        # analytic limit for isotropic z: (sum sigma)^2 / (d sum sigma^2)
        s = np.asarray(sv)
        expected = s.sum() ** 2 / (3 * (s**2).sum())
        assert r2_orthogonal(z, sheared) == pytest.approx(expected, abs=0.01)
        assert r2_orthogonal(z, sheared) < 0.935
    # second method: 1 - procrustes_error^2 is the same fit scored by total variance
    bent = np.tanh(z @ _singular_map((1.0, 1.5, 2.0)).T)
    assert r2_orthogonal(z, bent) == pytest.approx(1 - procrustes_error(z, bent) ** 2, abs=0.01)
    # unrelated: about 0 (or below); never above linear R² by more than held-out noise
    noise = rng.normal(size=(20000, 3))
    assert -0.01 < r2_orthogonal(z, noise) < 0.01
    assert r2_orthogonal(z, bent) <= r2_linear(z, bent) + 0.005


def test_r2_orthogonal_in_two_dimensions() -> None:
    z = _uniform(4000, 2)  # uniform on a square: isotropic covariance
    for ratio in (2.0, 5.0):
        expected = (1 + ratio) ** 2 / (2 * (1 + ratio**2))  # 0.9 and 0.69
        value = r2_orthogonal(z, z @ _singular_map((1.0, ratio), seed=3).T)
        assert value == pytest.approx(expected, abs=0.01)
    assert r2_orthogonal(z, 3.0 * z @ ROT45 + 1.0) == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------- worst direction, worst pair


def _fold(z: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """z with its component along the unit ``direction`` replaced by its absolute value."""
    t = z @ direction
    return z + np.outer(np.abs(t) - t, direction)


@pytest.mark.parametrize("d", [2, 5, 20, 50])
def test_r2_orthogonal_min_keeps_its_meaning_at_every_dimension(d: int) -> None:
    z = _uniform(20000, d, seed=d)  # isotropic, symmetric: a folded direction is unrelated
    q = ortho_group.rvs(d, random_state=d)
    assert r2_orthogonal_min(z, 3.0 * z @ q.T + 1.0) == pytest.approx(1.0, abs=1e-12)
    axis = np.eye(d)[0]
    diagonal = np.ones(d) / np.sqrt(d)
    for direction in (axis, diagonal):  # the worst direction is basis-free
        folded = _fold(z, direction) @ q.T
        assert r2_orthogonal_min(z, folded) < 0.05  # fails the claim at every d
    # the mean over coordinates dilutes one folded axis: 0.975 at d = 50 passes 0.95
    if d == 50:
        assert r2_orthogonal(z, _fold(z, axis) @ q.T) > 0.95
    # one sigma = 2 among ones: 1 - max_i (1 - s sigma_i)^2, s = sum sigma / sum sigma^2
    sv = np.ones(d)
    sv[0] = 2.0
    s = sv.sum() / (sv**2).sum()
    expected = 1 - np.max((1 - s * sv) ** 2)
    value = r2_orthogonal_min(z, z @ _singular_map(tuple(sv), seed=d).T)
    assert value == pytest.approx(expected, abs=0.02)
    assert value <= 8 / 9 + 0.01  # the bound for a singular-value ratio of 2


def test_r2_orthogonal_min_is_the_worst_direction() -> None:
    """Second method: scan unit vectors in 2-D; the coordinates and the mean bound it."""
    from sklearn.metrics import r2_score

    from verification._metrics.orthogonal import _procrustes_predict

    z = _laplace(4000, 2, seed=5)
    z_hat = np.tanh(z @ np.array([[1.0, 0.4], [-0.2, 0.8]]))
    a_te, pred = _procrustes_predict(z, z_hat, "test", 0.5, 0)
    angles = np.linspace(0, np.pi, 20001)
    v = np.stack([np.cos(angles), np.sin(angles)])  # (2, K)
    residual = ((a_te - pred) @ v) ** 2
    spread = ((a_te - a_te.mean(0)) @ v) ** 2
    scanned = float((1 - residual.sum(0) / spread.sum(0)).min())
    value = r2_orthogonal_min(z, z_hat)
    assert value == pytest.approx(scanned, abs=1e-6)
    per_coordinate = r2_score(a_te, pred, multioutput="raw_values")
    assert value <= per_coordinate.min() + 1e-12
    assert per_coordinate.mean() == pytest.approx(r2_orthogonal(z, z_hat), abs=1e-12)


@pytest.mark.parametrize("d", [2, 5, 20, 50])
def test_mcc_crossfit_min_keeps_its_meaning_at_every_dimension(d: int) -> None:
    z = _laplace(20000, d, seed=d)
    rng = np.random.default_rng(d)
    perm, scale = rng.permutation(d), rng.choice([-3.0, 0.5, 2.0], size=d)
    z_hat = z[:, perm] * scale + 1.0
    assert mcc_crossfit_min(z, z_hat) == pytest.approx(1.0, abs=1e-12)
    folded = z_hat.copy()
    folded[:, 0] = np.abs(folded[:, 0] - 1.0)  # |z_k|: uncorrelated with z_k (symmetric)
    worst = mcc_crossfit_min(z, folded)
    assert worst < 0.1  # fails a permutation claim at every d
    mean = mcc_crossfit(z, folded)
    assert worst <= mean and mean == pytest.approx((d - 1) / d, abs=0.02)  # diluted
    # second method: the worst pair by hand, on the same two folds
    halves = np.array_split(np.random.default_rng(0).permutation(20000), [10000])
    minima = []
    for choose, score in (halves, halves[::-1]):
        matching = mcc_matching(z[choose], folded[choose])
        signs = np.sign(matching.correlation[matching.row_ind, matching.col_ind])
        c = mcc_matching(z[score], folded[score]).correlation
        minima.append((signs * c[matching.row_ind, matching.col_ind]).min())
    assert worst == pytest.approx(float(np.mean(minima)), abs=1e-12)


def test_worst_metrics_refuse_what_they_cannot_score() -> None:
    z = _laplace(4000, 3)
    flat = z.copy()
    flat[:, 2] = 1.0  # a direction of z without variance: no R² along it, left out
    q = ortho_group.rvs(3, random_state=2)
    assert r2_orthogonal_min(flat, 2.0 * flat @ q.T) == pytest.approx(1.0, abs=1e-12)
    assert r2_orthogonal_min(flat, _fold(flat, np.eye(3)[0]) @ q.T) < 0.05
    with pytest.raises(ValueError, match="varies"):
        r2_orthogonal_min(np.ones((400, 3)), z[:400])
    z = z[:400]
    with pytest.raises(ValueError, match="same dimension"):
        r2_orthogonal_min(z, z[:, :2])
    assert -1.0 <= mcc_crossfit_min(z, z[:, :2]) <= mcc_crossfit(z, z[:, :2])


# --------------------------------------------------------------------------- unrelated noise


def test_independent_noise_scores_low() -> None:
    n = 5000
    z = _uniform(n, 3)
    noise = np.random.default_rng(1).normal(size=(n, 3))
    assert mcc(z, noise) < 0.1
    assert r2_linear(z, noise) < 0.05
    assert r2_nonlinear(z, noise, max_train=1000) < 0.1
    assert linear_cka(z, noise) < 0.05
    assert mutual_knn(z, noise, k=10) < 0.05


# --------------------------------------------------------------------------- nonlinear recovery


def test_nonlinear_invertible_map_needs_nonlinear_r2() -> None:
    z = _uniform(1000, 2)
    z_hat = (z**3) @ ROT45
    lin = r2_linear(z, z_hat)
    nonlin = r2_nonlinear(z, z_hat)
    assert nonlin > 0.9
    assert lin < 0.9
    assert nonlin > lin + 0.05


def test_r2_nonlinear_of_an_unrelated_target_is_zero_not_negative() -> None:
    """The kernel ridge penalty grid reaches the mean predictor, so an unrelated target is
    not forced to fit noise (the old grid, alpha <= 0.1, scored -0.01 to -0.03 here)."""
    from verification._metrics.regression import _KRR_ALPHAS, _select_kernel_ridge

    values = []
    for seed in range(2):
        rng = np.random.default_rng(seed)
        z, noise = rng.uniform(-1, 1, size=(4000, 3)), rng.normal(size=(4000, 3))
        values.append(r2_nonlinear(z, noise, seed=seed))
    assert all(abs(v) < 0.02 for v in values), values
    # the choice is not cut off by the grid: it lies inside it, and the scores have
    # converged at its top end (a larger alpha could not change the verdict)
    rng = np.random.default_rng(0)
    z, noise = rng.uniform(-1, 1, size=(2000, 3)), rng.normal(size=(2000, 3))
    x, y = (noise - noise.mean(0)) / noise.std(0), (z - z.mean(0)) / z.std(0)
    _, alpha, _, scores = _select_kernel_ridge(x[:1000], y[:1000], np.random.default_rng(0))
    assert 0.1 < alpha < max(_KRR_ALPHAS)
    for factor in {f for f, _ in scores}:
        top, below = scores[(factor, _KRR_ALPHAS[-1])], scores[(factor, _KRR_ALPHAS[-2])]
        assert abs(top - below) < 1e-3 and top > scores[(factor, 0.1)]


def test_block_r2_isolates_content() -> None:
    z = _uniform(1000, 4)
    content, style = [0, 1], [2, 3]
    mixed = z[:, content] @ np.array([[1.0, 0.5], [-0.3, 1.0]])
    z_hat = mixed + 0.3 * mixed**3
    assert block_r2(z, z_hat, content) > 0.9
    assert block_r2(z, z_hat, style) < 0.2
    assert block_r2(z, z_hat, style, nonlinear=False) < 0.2


# --------------------------------------------------------------------------- CKA / kNN


def test_linear_cka_invariances() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    q = ortho_group.rvs(5, random_state=1)
    assert abs(linear_cka(x, 2.5 * x @ q + 7.0) - 1.0) < 1e-10
    y = np.tanh(x[:, :3] @ rng.normal(size=(3, 3)))
    assert abs(linear_cka(x, y) - linear_cka(x @ q, -0.1 * y)) < 1e-10
    assert abs(linear_cka(x, y) - linear_cka(y, x)) < 1e-12


def test_linear_cka_matches_hsic_formula() -> None:
    rng = np.random.default_rng(3)
    n = 40
    x = rng.normal(size=(n, 6))
    y = np.tanh(x[:, :2] @ rng.normal(size=(2, 3))) + 0.5 * rng.normal(size=(n, 3))
    h = np.eye(n) - np.ones((n, n)) / n
    k, l_ = x @ x.T, y @ y.T
    hsic = np.trace(k @ h @ l_ @ h)
    expected = hsic / np.sqrt(np.trace(k @ h @ k @ h) * np.trace(l_ @ h @ l_ @ h))
    assert 0.05 < expected < 0.95
    assert abs(linear_cka(x, y) - expected) < 1e-10


def test_mutual_knn_identical_neighbourhoods() -> None:
    x = _laplace(400, 3)
    assert mutual_knn(x, x, k=10) == 1.0
    q = ortho_group.rvs(3, random_state=0)
    assert mutual_knn(x, 0.3 * x @ q - 2.0, k=5) == 1.0
    assert mutual_knn(x, x[:, :2], k=5) < 1.0
    # high-dimensional inputs take the brute-force path
    wide = _laplace(300, 12, seed=2)
    assert mutual_knn(wide, wide @ ortho_group.rvs(12, random_state=0), k=10) == 1.0
    # duplicated points: a sample is never its own neighbour
    dup = np.repeat(x[:50], 3, axis=0)
    assert mutual_knn(dup, dup, k=2) == 1.0


def test_mutual_knn_normalized_rows_as_huh_et_al() -> None:
    x = _laplace(300, 4)
    radii = np.random.default_rng(1).uniform(0.5, 3.0, size=(300, 1))
    # per-sample positive scaling moves Euclidean neighbours, not cosine ones
    assert mutual_knn(x, x * radii, k=10, normalize=True) == 1.0
    assert mutual_knn(x, x * radii, k=10) < 0.9
    assert mutual_knn(x, x * radii, k=10) == mutual_knn(x, x * radii, k=10, normalize=False)
    # second method: sklearn's brute-force cosine neighbours
    from sklearn.neighbors import NearestNeighbors

    y = np.tanh(x @ np.random.default_rng(2).normal(size=(4, 12)))  # wide: brute-force path
    overlap = 0
    sets = []
    for data in (x, y):
        nn = NearestNeighbors(n_neighbors=6, metric="cosine", algorithm="brute").fit(data)
        sets.append([set(row[1:]) for row in nn.kneighbors(data, return_distance=False)])
    overlap = sum(len(a & b) for a, b in zip(*sets, strict=True))
    assert mutual_knn(x, y, k=5, normalize=True) == pytest.approx(overlap / (300 * 5))
    zero = x.copy()
    zero[0] = 0.0  # an all-zero row stays zero instead of dividing by 0
    assert 0.0 <= mutual_knn(zero, x, k=5, normalize=True) <= 1.0


def test_mutual_knn_validates_k() -> None:
    x = _laplace(20, 2)
    for k in (0, 20, 25):
        with pytest.raises(ValueError, match="k must be"):
            mutual_knn(x, x, k=k)
    assert mutual_knn(x, x, k=19) == 1.0


# --------------------------------------------------------------------------- misc contract


def test_split_metrics_are_deterministic() -> None:
    z = _uniform(600, 3)
    z_hat = np.tanh(z @ np.random.default_rng(1).normal(size=(3, 3))) + 0.1 * _laplace(600, 3)
    for fn in (r2_linear, r2_nonlinear, procrustes_error):
        assert fn(z, z_hat, seed=7) == fn(z, z_hat, seed=7)
    assert block_r2(z, z_hat, [0], seed=3) == block_r2(z, z_hat, [0], seed=3)
    assert r2_linear(z, z_hat, seed=0) != r2_linear(z, z_hat, seed=1)


def test_recovery_metrics_and_registry() -> None:
    z = _laplace(400, 3)
    z_hat = z[:, [1, 2, 0]] * np.array([1.0, -2.0, 0.5])
    out = recovery_metrics(z, z_hat, content=[0, 1])
    expected = {
        "mcc", "mcc_crossfit", "mcc_crossfit_min", "mcc_null", "mcc_spearman", "r2_linear",
        "r2_orthogonal", "r2_orthogonal_min", "r2_nonlinear", "procrustes_error",
        "cka_linear", "mutual_knn", "block_r2",
    }  # fmt: skip
    assert set(out) == expected
    assert all(type(v) is float for v in out.values())
    assert abs(out["mcc"] - 1.0) < 1e-9 and out["r2_linear"] > 0.999
    narrow = recovery_metrics(z, z_hat[:, :2])
    assert not {"procrustes_error", "r2_orthogonal", "r2_orthogonal_min", "block_r2"} & set(narrow)
    built_in = {k for k, info in METRICS.items() if info.fn.__module__ == "verification._metrics.builtins"}
    assert built_in == expected | {"amari_distance", "block_r2_style", "r2_sufficient_stats"}
    assert all(isinstance(info, MetricInfo) and info.name == key for key, info in METRICS.items())
    assert not METRICS["procrustes_error"].higher_is_better
    assert not METRICS["amari_distance"].higher_is_better
    assert METRICS["mcc"].higher_is_better


def test_torch_inputs() -> None:
    torch = pytest.importorskip("torch")
    z = _laplace(300, 2)
    z_hat = 2.0 * z[:, ::-1]
    value = mcc(torch.from_numpy(z).float(), torch.from_numpy(z_hat.copy()))
    assert type(value) is float and abs(value - 1.0) < 1e-6
    assert linear_cka(torch.from_numpy(z), z_hat) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda z: mcc(z, z[:99]), "same number of samples, got 100 and 99"),
        (lambda z: r2_linear(z[:, 0], z), "2-D"),
        (lambda z: mcc(np.where(z > 1.5, np.nan, z), z), "non-finite"),
        (lambda z: linear_cka(z, np.full_like(z, np.inf)), "non-finite"),
        (lambda z: mcc(z, z, method="kendall"), "method"),
        (lambda z: r2_linear(z, z, test_fraction=1.0), "test_fraction"),
        (lambda z: r2_linear(z[:3], z[:3]), "not enough samples"),
        (lambda z: procrustes_error(z, z[:, :1]), "same dimension"),
        (lambda z: r2_orthogonal(z, z[:, :1]), "r2_orthogonal requires .* same dimension"),
        (lambda z: mcc_crossfit(z[:3], z[:3]), "at least 4 samples"),
        (lambda z: mcc_null_baseline(z, z, n_shuffles=0), "n_shuffles"),
        (lambda z: mutual_knn(z, z, normalize="yes"), "normalize must be True or False"),
        (lambda z: block_r2(z, z, [0, 5]), "block indices"),
        (lambda z: block_r2(z, z, []), "non-empty"),
        (lambda z: amari_distance(z[:3], z[:3]), "square"),
        (lambda z: amari_distance(np.eye(2), np.eye(3)), "same size"),
        (lambda z: amari_distance(np.zeros((2, 2)), np.eye(2)), "all-zero"),
    ],
)
def test_bad_input_raises(call, match: str) -> None:
    z = _laplace(100, 2)
    with pytest.raises(ValueError, match=match):
        call(z)


# --------------------------------------------------------------------------- the registry


@pytest.fixture
def metrics_registry():
    """METRICS, restored after the test (registrations do not leak into other tests)."""
    from verification import metrics as M

    saved = dict(M.METRICS)
    yield M.METRICS
    M.METRICS.clear()
    M.METRICS.update(saved)


def test_register_metric_as_decorator_and_call(metrics_registry) -> None:
    from verification.metrics import compute_metrics, register_metric

    @register_metric("max_abs_corr", higher_is_better=True)
    def max_abs_corr(z, z_hat):
        """Largest absolute correlation between any true and estimated column."""
        d = z.shape[1]
        return float(np.abs(np.corrcoef(z.T, z_hat.T)[:d, d:]).max())

    assert max_abs_corr.__name__ == "max_abs_corr"  # the decorator returns the function
    info = metrics_registry["max_abs_corr"]
    assert info.higher_is_better and info.description.startswith("Largest absolute")
    register_metric("seeded", lambda z, z_hat, seed: float(seed), higher_is_better=False)
    z = _laplace(200, 2)
    out = compute_metrics(["max_abs_corr", "seeded", "mcc"], z, 2 * z, seed=5)
    assert out == {"max_abs_corr": pytest.approx(1.0), "seeded": 5.0, "mcc": pytest.approx(1.0)}
    assert list(out) == ["max_abs_corr", "seeded", "mcc"]
    assert "max_abs_corr" in metrics_registry.names()


def test_register_metric_refuses_silent_overrides(metrics_registry) -> None:
    from verification.metrics import register_metric

    def constant(z, z_hat):
        return 1.0

    with pytest.raises(ValueError, match="'mcc' is already registered; pass replace=True"):
        register_metric("mcc", constant, higher_is_better=True)
    assert metrics_registry["mcc"].fn is not constant
    register_metric("mcc", constant, higher_is_better=True, replace=True)
    assert metrics_registry["mcc"].fn is constant


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "", "fn": lambda z, z_hat: 0.0}, "non-empty name"),
        ({"name": "x", "fn": "not a function"}, "expected a function"),
        ({"name": "x", "fn": lambda z: 0.0}, r"cannot be called as fn\(z, z_hat"),
        ({"name": "x", "fn": lambda z, z_hat, *, other: 0.0}, "cannot be called"),
        ({"name": "x", "fn": lambda z, z_hat: 0.0, "higher_is_better": 1}, "True or False"),
    ],
)
def test_register_metric_validates_at_once(metrics_registry, kwargs, match) -> None:
    from verification.metrics import register_metric

    kwargs.setdefault("higher_is_better", True)
    with pytest.raises(ValueError, match=match):
        register_metric(**kwargs)
    assert "x" not in metrics_registry


def test_metrics_registry_only_holds_metric_info(metrics_registry) -> None:
    with pytest.raises(ValueError, match="use register_metric"):
        metrics_registry.register("plain", lambda z, z_hat: 0.0)


def test_unknown_metric_is_one_line_listing_the_choices() -> None:
    from theory.errors import UnknownName
    from verification.metrics import compute_metrics, metric_info

    z = _laplace(50, 2)
    with pytest.raises(UnknownName, match=r"unknown metric 'nope'; known: .*mcc") as info:
        compute_metrics(["mcc", "nope"], z, z)
    assert "\n" not in str(info.value)
    with pytest.raises(UnknownName):
        metric_info("r2")


def test_a_metric_must_return_a_number_or_none(metrics_registry) -> None:
    from verification.metrics import compute_metrics, register_metric

    register_metric("words", lambda z, z_hat: "high", higher_is_better=True)
    register_metric("absent", lambda z, z_hat: None, higher_is_better=True)
    register_metric("np", lambda z, z_hat: np.float32(0.5), higher_is_better=True)
    z = _laplace(50, 2)
    with pytest.raises(ValueError, match="metric 'words' returned str, not a number"):
        compute_metrics(["words"], z, z)
    out = compute_metrics(["absent", "np"], z, z)
    assert out == {"np": 0.5} and type(out["np"]) is float


def test_check_claim_metric() -> None:
    import theory as th
    from theory.errors import UnknownName
    from verification.metrics import check_claim_metric

    assert check_claim_metric(th.claims.affine()).name == "r2_linear"
    with pytest.raises(UnknownName, match="claim's metric 'nope' is not registered; known: "):
        check_claim_metric(th.claims.Claim("x", "nope", 0.5))
    backwards = th.claims.Claim("orthogonal", "procrustes_error", 0.1)  # higher_is_better=True
    with pytest.raises(ValueError, match="'procrustes_error' is lower-is-better"):
        check_claim_metric(backwards, where="theorem 't'")


def test_claims_are_decided_by_held_out_and_orthogonality_sensitive_metrics() -> None:
    import theory as th
    from verification.metrics import check_claim_metric, compute_metrics

    orthogonal = th.claims.orthogonal()
    name = check_claim_metric(orthogonal).name
    assert name == "r2_orthogonal_min" and orthogonal.threshold == 0.95
    for claim in (th.claims.permutation_scaling(), th.claims.permutation_elementwise()):
        assert check_claim_metric(claim).name == "mcc_crossfit_min"
    z = np.random.default_rng(0).normal(size=(4000, 3))
    q = ortho_group.rvs(3, random_state=4)
    for z_hat, passes in [
        (z @ q.T, True),
        (3.0 * z @ q.T + 1.0, True),
        (z @ _singular_map((1.0, 1.0, 2.0)).T, False),
        (z @ _singular_map((1.0, 2.0, 2.0)).T, False),
        (z @ _singular_map((1.0, 1.0, 5.0)).T, False),
    ]:
        out = compute_metrics(["r2_orthogonal_min", "r2_orthogonal", "r2_linear"], z, z_hat)
        assert out["r2_linear"] > 0.999
        assert orthogonal.passes(out["r2_orthogonal_min"]) is passes, out
        assert out["r2_orthogonal_min"] <= out["r2_orthogonal"] + 1e-12


@pytest.mark.parametrize("d", [2, 10, 50])
def test_claims_decide_one_folded_direction_alike_at_every_dimension(d: int) -> None:
    """An orthogonal (permuted, scaled) map passes both claims; one folded direction
    fails both, at every d; the diluted means are reported beside the deciding metric."""
    import theory as th
    from verification.metrics import compute_metrics

    z = _uniform(20000, d, seed=d)
    q = ortho_group.rvs(d, random_state=d)
    perm = np.random.default_rng(d).permutation(d)
    one_folded = -2.0 * z[:, perm]
    one_folded[:, 0] = np.abs(one_folded[:, 0])
    names = ["r2_orthogonal_min", "r2_orthogonal", "mcc_crossfit_min", "mcc_crossfit"]
    for claim, good, bad, mean in [
        (th.claims.orthogonal(), 2.0 * z @ q.T, _fold(z, np.eye(d)[0]) @ q.T, "r2_orthogonal"),
        (th.claims.permutation_scaling(), -2.0 * z[:, perm], one_folded, "mcc_crossfit"),
    ]:
        ok, folded = compute_metrics(names, z, good), compute_metrics(names, z, bad)
        assert claim.passes(ok[claim.metric]), ok
        assert not claim.passes(folded[claim.metric]), folded
        if d == 50:  # the mean would have passed it: one bad direction out of 50
            assert folded[mean] > claim.threshold, folded


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 60),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 3.0),
)
def test_r2_uniform_is_scikit_learns_r2_score(n: int, d: int, seed: int, noise: float) -> None:
    """The written-out R² (workers skip importing scikit-learn) against r2_score, constant
    columns included (1 when predicted exactly, 0 otherwise: force_finite)."""
    from sklearn.metrics import r2_score

    from verification._metrics._arrays import r2_uniform

    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, d))
    pred = y + noise * rng.normal(size=(n, d))
    if d > 1:
        y[:, 0] = 2.0
        pred[:, 0] = 2.0 if seed % 2 else 2.5
    expected = r2_score(y, pred, multioutput="uniform_average")
    assert r2_uniform(y, pred) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert r2_uniform(y[:, -1], pred[:, -1]) == pytest.approx(r2_score(y[:, -1], pred[:, -1]))


def test_r2_linear_is_ordinary_least_squares_as_scikit_learn_fits_it() -> None:
    """r2_linear fits by scipy's lstsq on centred data: scikit-learn's LinearRegression."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    from verification._metrics._arrays import _split

    rng = np.random.default_rng(4)
    z = rng.normal(size=(400, 4))
    z_hat = np.tanh(z @ rng.normal(size=(4, 4))) + 0.1 * rng.normal(size=(400, 4)) + 3.0
    train, test = _split(400, 0.5, 0)
    model = LinearRegression().fit(z_hat[train], z[train])
    expected = r2_score(z[test], model.predict(z_hat[test]))
    assert r2_linear(z, z_hat) == pytest.approx(expected, rel=1e-10)
    assert r2_linear(z, z @ rng.normal(size=(4, 4)) + 1.0) == pytest.approx(1.0)
    # nearly collapsed: a second column that differs from the first by 1e-8 of a signal;
    # scikit-learn cuts singular values below 1e-6 of the largest (its tol), and so does
    # r2_linear (without the cut-off, the 1e-8 signal would be read as a direction)
    first = rng.normal(size=(400, 1))
    collapsed = np.hstack([first, first + 1e-8 * z[:, :1]])
    model = LinearRegression().fit(collapsed[train], z[train, :2])
    expected = r2_score(z[test, :2], model.predict(collapsed[test]))
    assert r2_linear(z[:, :2], collapsed) == pytest.approx(expected, rel=1e-8, abs=1e-10)


def test_r2_uniform_refuses_what_it_cannot_score() -> None:
    from verification._metrics._arrays import r2_uniform

    with pytest.raises(InvalidArgument, match="one shape"):
        r2_uniform(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(InvalidArgument, match="finite"):
        r2_uniform(np.array([[1.0], [np.nan]]), np.zeros((2, 1)))
