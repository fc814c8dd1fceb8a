"""Samplers without jax vectors: moments and KS checks at fixed seeds, shapes, dtypes, bad input.

Tolerances: with n samples a sample mean has standard error sd / sqrt(n); the bounds below are
at least 5 standard errors (for variances, the standard error of the sample variance,
sqrt((m4 - sd^4) / n), computed from the distribution's fourth moment), so a correct sampler
fails with probability < 1e-6 and, the seeds being fixed, the outcome never changes between runs.
"""

import math

import numpy as np
import pytest

import numbax.numpy as jnp
import numbax_random as random
from numbax_random import _xla_math

N = 20_000
KEY = random.key(1234)


def sample(x):
    return np.asarray(x, dtype=np.float64)


def assert_moments(x, mean, var, kurtosis_excess=0.0):
    x = sample(x).ravel()
    n = x.size
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n), (x.mean(), mean)
    var_se = math.sqrt(var**2 * (kurtosis_excess + 2) / n)
    assert abs(x.var() - var) < 5 * var_se, (x.var(), var)


def ks_statistic(x, cdf):
    x = np.sort(sample(x).ravel())
    n = x.size
    c = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


# 1.95 / sqrt(n) is the KS critical value at the 0.1% level.
KS_BOUND = 1.95 / math.sqrt(N)


def test_uniform_ks_and_range():
    u = sample(random.uniform(KEY, (N,), minval=-1.0, maxval=3.0))
    assert u.min() >= -1.0 and u.max() < 3.0
    assert ks_statistic(u, lambda x: (x + 1.0) / 4.0) < KS_BOUND


def test_normal_ks():
    cdf = np.vectorize(lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2))))
    assert ks_statistic(random.normal(KEY, (N,)), cdf) < KS_BOUND


def test_truncated_normal_inside_bounds_and_moments():
    x = sample(random.truncated_normal(KEY, -2.0, 2.0, (N,)))
    assert x.min() > -2.0 and x.max() < 2.0
    # Variance of a standard normal truncated to (-2, 2): 1 - 4 phi(2) / (Phi(2) - Phi(-2)).
    phi2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    var = 1 - 4 * phi2 / math.erf(2 / math.sqrt(2))
    assert_moments(x, 0.0, var, kurtosis_excess=-1.0)  # lighter tails than normal; -1 is generous


def test_exponential_laplace_logistic_moments():
    assert_moments(random.exponential(KEY, (N,)), 1.0, 1.0, kurtosis_excess=6.0)
    assert_moments(random.laplace(KEY, (N,)), 0.0, 2.0, kurtosis_excess=3.0)
    assert_moments(random.logistic(KEY, (N,)), 0.0, math.pi**2 / 3, kurtosis_excess=1.2)


def test_cauchy_quartiles():
    x = sample(random.cauchy(KEY, (N,)))
    # P(|X| < 1) = 1/2 for a standard Cauchy; binomial standard error 0.5 / sqrt(n).
    assert abs(np.mean(np.abs(x) < 1) - 0.5) < 5 * 0.5 / math.sqrt(N)


def test_rademacher_values():
    x = np.asarray(random.rademacher(KEY, (N,)))
    assert x.dtype == np.int32 and set(np.unique(x).tolist()) == {-1, 1}
    assert abs(x.mean()) < 5 / math.sqrt(N)


def test_bernoulli_high_mode_rate():
    x = np.asarray(random.bernoulli(KEY, 0.25, (N,), mode="high"))
    assert x.dtype == np.bool_ and abs(x.mean() - 0.25) < 5 * math.sqrt(0.25 * 0.75 / N)


def test_gumbel_moments_both_modes():
    euler = 0.5772156649015329
    for mode in (None, "high"):
        assert_moments(random.gumbel(KEY, (N,), mode=mode), euler, math.pi**2 / 6, kurtosis_excess=2.4)


@pytest.mark.parametrize("a", [0.3, 1.0, 4.5])
def test_gamma_moments(a):
    # Gamma(a): mean a, variance a, excess kurtosis 6 / a.
    x = sample(random.gamma(KEY, a, (N,)))
    assert x.min() >= 0
    assert_moments(x, a, a, kurtosis_excess=6 / a)


def test_gamma_broadcasts_array_parameter():
    a = jnp.array([0.5, 2.0, 8.0])
    x = sample(random.gamma(KEY, a, (4000, 3)))
    assert x.shape == (4000, 3)
    np.testing.assert_array_less(np.abs(x.mean(0) - np.asarray(a)), 5 * np.sqrt(np.asarray(a) / 4000))


def test_beta_moments():
    a, b = 2.0, 3.0
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert_moments(random.beta(KEY, a, b, (N,)), mean, var, kurtosis_excess=0.0)


def test_dirichlet_simplex_and_mean():
    alpha = np.array([1.0, 2.0, 3.0])
    x = sample(random.dirichlet(KEY, jnp.asarray(alpha, jnp.float32), (N,)))
    assert x.shape == (N, 3)
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-5)
    mean = alpha / alpha.sum()
    var = mean * (1 - mean) / (alpha.sum() + 1)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(var / N))


def test_t_variance():
    # t(df=10): variance df / (df - 2), excess kurtosis 6 / (df - 4).
    assert_moments(random.t(KEY, 10.0, (N,)), 0.0, 10 / 8, kurtosis_excess=1.0)


def test_multivariate_normal_covariance():
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    for method in ("cholesky", "eigh", "svd"):
        x = sample(random.multivariate_normal(KEY, jnp.array([1.0, -1.0]), jnp.asarray(cov, jnp.float32),
                                              (N,), method=method))
        assert x.shape == (N, 2)
        np.testing.assert_array_less(np.abs(x.mean(0) - [1.0, -1.0]), 5 * np.sqrt(np.diag(cov) / N))
        # The sample covariance of a normal has standard error sqrt((s_ij^2 + s_ii s_jj) / n).
        se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / N)
        np.testing.assert_array_less(np.abs(np.cov(x.T) - cov), 5 * se)


@pytest.mark.parametrize("n,m", [(4, 4), (5, 3), (2, 6)])
def test_orthogonal(n, m):
    q = sample(random.orthogonal(KEY, n, (3,), m=m))
    assert q.shape == (3, n, m)
    gram = q.swapaxes(-1, -2) @ q if n >= m else q @ q.swapaxes(-1, -2)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(min(n, m)), gram.shape), atol=1e-5)


def test_ball_inside_unit_ball():
    x = sample(random.ball(KEY, 3, shape=(2000,)))
    norms = np.linalg.norm(x, axis=-1)
    assert x.shape == (2000, 3) and norms.max() <= 1.0
    # Uniform in the 3-ball: P(|x| < 1/2) = 1/8.
    assert abs(np.mean(norms < 0.5) - 0.125) < 5 * math.sqrt(0.125 * 0.875 / 2000)


def test_choice_with_p_matches_frequencies():
    p = np.array([0.1, 0.0, 0.6, 0.3])
    x = np.asarray(random.choice(KEY, 4, (N,), p=jnp.asarray(p, jnp.float32)))
    freq = np.bincount(x, minlength=4) / N
    np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / N) + 1e-12)


def test_choice_without_replacement_is_distinct():
    a = jnp.arange(10) * 10
    x = np.asarray(random.choice(KEY, a, (2, 3), replace=False))
    assert x.shape == (2, 3) and len(set(x.ravel().tolist())) == 6 and set(x.ravel()) <= set(range(0, 100, 10))
    y = np.asarray(random.choice(KEY, 10, (5,), replace=False, p=jnp.full(10, 0.1)))
    assert len(set(y.tolist())) == 5


def test_categorical_without_replacement_is_distinct():
    x = np.asarray(random.categorical(KEY, jnp.zeros((2, 6)), shape=(6, 2), replace=False))
    assert x.shape == (6, 2)
    for column in x.T:
        assert sorted(column.tolist()) == list(range(6))


def test_permutation_of_arrays():
    x = np.arange(12).reshape(3, 4)
    rows = np.asarray(random.permutation(KEY, jnp.asarray(x)))
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, x.tolist()))
    cols = np.asarray(random.permutation(KEY, jnp.asarray(x), axis=1, independent=True))
    np.testing.assert_array_equal(np.sort(cols, axis=1), x)
    shuffled = np.asarray(random.shuffle(KEY, jnp.arange(5)))
    assert sorted(shuffled.tolist()) == list(range(5))


def test_randint_edge_cases():
    # maxval <= minval gives minval; maxval beyond the dtype range means "up to the dtype max".
    np.testing.assert_array_equal(np.asarray(random.randint(KEY, (5,), 3, 3)), np.full(5, 3))
    x = np.asarray(random.randint(KEY, (N,), 0, 256, dtype=np.uint8))
    assert x.dtype == np.uint8 and x.max() > 250
    y = np.asarray(random.randint(KEY, (N,), jnp.int32(-2), jnp.int32(2)))
    assert set(np.unique(y).tolist()) == {-2, -1, 0, 1}


def test_default_dtypes_and_x64(x64):
    assert np.asarray(random.uniform(KEY, (2,))).dtype == np.float64
    assert np.asarray(random.randint(KEY, (2,), 0, 5)).dtype == np.int64
    assert np.asarray(random.bits(KEY, (2,))).dtype == np.uint64
    assert_moments(random.gamma(KEY, 2.0, (4000,)), 2.0, 2.0, kurtosis_excess=3.0)


@pytest.mark.parametrize("call,error,match", [
    (lambda: random.uniform(KEY, (2,), dtype=jnp.int32), ValueError, "dtype argument to `uniform` must be a float"),
    (lambda: random.randint(KEY, (2,), 0, 5, dtype=jnp.float32), TypeError, "randint only accepts integer"),
    (lambda: random.bernoulli(KEY, 1, (2,)), TypeError, "bernoulli probability `p` must have a floating"),
    (lambda: random.uniform(KEY, (2,), minval=jnp.zeros(3)), ValueError, "must be broadcast-compatible"),
    (lambda: random.choice(KEY, 3, (5,), replace=False), ValueError, "cannot take a larger sample"),
    (lambda: random.choice(KEY, 3, (2,), p=jnp.ones(4)), ValueError, r"p must be None or match"),
    (lambda: random.categorical(KEY, jnp.zeros(3), shape=(4,), replace=False), ValueError,
     "cannot exceed the number of categories"),
    (lambda: random.permutation(KEY, 2.5), TypeError, "integer or at least 1-dimensional"),
    (lambda: random.multivariate_normal(KEY, jnp.zeros(2), jnp.eye(3)), ValueError, r"cov.shape == \(\.\.\., n, n\)"),
    (lambda: random.multivariate_normal(KEY, jnp.zeros(2), jnp.eye(2), method="qr"), ValueError, "method must be"),
    (lambda: random.gumbel(KEY, (2,), mode="middle"), ValueError, "gumbel: mode must be"),
    (lambda: random.dirichlet(KEY, 1.0), ValueError, "alpha must have at least one axis"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("dtype,factor", [(np.float32, 2.0**12 + 1), (np.float64, 2.0**27 + 1)])
def test_fma_is_fused(request, rng, dtype, factor):
    # References: for f32, a*b is exact in float64, so one rounding of the f64 sum to f32 is the
    # fused result (up to rare double-rounding ties); for f64, math.fsum of the exact product's
    # four Veltkamp parts (computed in NumPy) plus c is correctly rounded.
    if dtype == np.float64:
        request.getfixturevalue("x64")
    a, b, c = (rng.standard_normal(2000).astype(dtype) for _ in range(3))
    got = np.asarray(_xla_math.fma(jnp.asarray(a), jnp.asarray(b), jnp.asarray(c)))
    if dtype == np.float32:
        want = (a.astype(np.float64) * b + c).astype(np.float32)
    else:
        def split(x):
            t = x * factor
            hi = t - (t - x)
            return hi, x - hi
        (ah, al), (bh, bl) = split(a), split(b)
        want = np.array([math.fsum(terms) for terms in zip(ah * bh, ah * bl, al * bh, al * bl, c)])
    assert got.dtype == dtype and np.mean(got != want) < 1e-3
    assert np.mean(got != (a * b + c)) > 0.05  # the unfused form differs often, so this test has teeth
