"""numbax.nn.initializers' random initializers vs NumPy re-derivations of reference/nn.md §5
from the same random bits."""

import math
import sys

import numpy as np
import pytest
import scipy.special

import numbax
import numbax.numpy as jnp
import numbax_random as random

init = numbax.nn.initializers
KEY = random.fold_in(random.key(0), 12345)
F32 = np.float32


def unit_uniform(k, shape):
    """uniform [0, 1) rebuilt in NumPy from the raw 32-bit draws (random.md §5, f32)."""
    bits = np.asarray(random.bits(k, shape, np.uint32))
    return ((bits >> 9) | np.uint32(0x3F800000)).view(np.float32) - F32(1)


def fans(shape, in_axis=-2, out_axis=-1):
    receptive = math.prod(shape) / shape[in_axis] / shape[out_axis]
    return shape[in_axis] * receptive, shape[out_axis] * receptive


@pytest.mark.parametrize("shape", [(5, 4), (3, 3, 4, 8)])
@pytest.mark.parametrize("name,scale,mode", [("lecun_uniform", 1.0, "fan_in"), ("glorot_uniform", 1.0, "fan_avg"),
                                             ("he_uniform", 2.0, "fan_in")])
def test_uniform_family(shape, name, scale, mode):
    fan_in, fan_out = fans(shape)
    denominator = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    variance = F32(scale / denominator)
    # uniform(key, shape, dtype, -1) is 2u - 1 (exact), scaled by sqrt(3 * variance) in float32.
    want = (F32(2) * unit_uniform(KEY, shape) - F32(1)) * np.sqrt(F32(3) * variance)
    got = np.asarray(getattr(init, name)()(KEY, shape))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape", [(5, 4), (3, 3, 4, 8)])
@pytest.mark.parametrize("name,scale,mode", [("lecun_normal", 1.0, "fan_in"), ("glorot_normal", 1.0, "fan_avg"),
                                             ("he_normal", 2.0, "fan_in")])
def test_truncated_normal_family(shape, name, scale, mode):
    fan_in, fan_out = fans(shape)
    denominator = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    stddev = np.sqrt(F32(scale / denominator)) / F32(0.87962566103423978)
    base = np.asarray(random.truncated_normal(KEY, -2.0, 2.0, shape))
    np.testing.assert_array_equal(np.asarray(getattr(init, name)()(KEY, shape)), base * stddev)
    # The truncated normal itself: sqrt2 * erfinv(u), u uniform on (erf(-sqrt2), erf(sqrt2)), from
    # the same bits, in float64 with SciPy; float32 kernels agree to a few ulps.
    a, b = math.erf(-math.sqrt(2)), math.erf(math.sqrt(2))
    u = a + unit_uniform(KEY, shape).astype(np.float64) * (b - a)
    np.testing.assert_allclose(base, math.sqrt(2) * scipy.special.erfinv(u), rtol=2e-6, atol=2e-7)


def test_embed_style_normal_with_out_axis_0():
    shape = (10, 6)  # (num_embeddings, features): fan_in along axis 1 when out_axis=0
    got = np.asarray(init.variance_scaling(1.0, "fan_in", "normal", out_axis=0)(KEY, shape))
    want = np.asarray(random.normal(KEY, shape)) * np.sqrt(F32(1 / 6))
    np.testing.assert_array_equal(got, want)
    # normal = sqrt2 * erfinv(u), u = 2 u0 + nextafter(-1, 0) rounded once in float32 (random.md §5).
    u = F32(2) * unit_uniform(KEY, shape) + np.nextafter(F32(-1), F32(0))
    np.testing.assert_allclose(np.asarray(random.normal(KEY, shape)),
                               math.sqrt(2) * scipy.special.erfinv(u.astype(np.float64)), rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("mode,denominator", [("fan_out", 72.0), ("fan_geo_avg", math.sqrt(36 * 72))])
def test_variance_scaling_modes(mode, denominator):
    shape = (3, 3, 4, 8)  # receptive field 9: fan_in 36, fan_out 72
    got = np.asarray(init.variance_scaling(0.5, mode, "uniform")(KEY, shape))
    want = (F32(2) * unit_uniform(KEY, shape) - F32(1)) * np.sqrt(F32(3) * F32(0.5 / denominator))
    np.testing.assert_array_equal(got, want)


def test_plain_normal_uniform_truncated_normal():
    shape = (3, 4)
    np.testing.assert_array_equal(np.asarray(init.uniform(0.5)(KEY, shape)), unit_uniform(KEY, shape) * F32(0.5))
    np.testing.assert_array_equal(np.asarray(init.normal(0.1)(KEY, shape)),
                                  np.asarray(random.normal(KEY, shape)) * F32(0.1))
    np.testing.assert_array_equal(np.asarray(init.truncated_normal(0.1)(KEY, shape)),
                                  np.asarray(random.truncated_normal(KEY, -2.0, 2.0, shape)) * F32(0.1))


@pytest.mark.parametrize("shape,column_axis", [((6, 3), -1), ((3, 6), -1), ((2, 3, 4), -1), ((4, 2, 3), 0)])
def test_orthogonal(shape, column_axis):
    q = np.asarray(init.orthogonal(scale=2.0, column_axis=column_axis)(KEY, shape), np.float64)
    assert q.shape == shape
    cols = shape[column_axis]
    flat = np.moveaxis(q, column_axis, -1).reshape(-1, cols) / 2.0
    rows = flat.shape[0]
    # Reference: NumPy's QR of the same normal draw, columns signed so R's diagonal is positive.
    z = np.asarray(random.normal(KEY, (max(rows, cols), min(rows, cols))), np.float64)
    qr_q, qr_r = np.linalg.qr(z)
    want = qr_q * np.sign(np.diag(qr_r))
    np.testing.assert_allclose(flat, want if rows >= cols else want.T, atol=1e-5)


def test_dtype_and_x64(x64):
    assert np.asarray(init.lecun_normal()(KEY, (3, 2))).dtype == np.float64
    assert np.asarray(init.glorot_uniform(dtype=jnp.float32)(KEY, (3, 2))).dtype == np.float32


@pytest.mark.parametrize("call,match", [
    (lambda: init.variance_scaling(1.0, "fan_middle", "normal"), "invalid mode for variance scaling"),
    (lambda: init.variance_scaling(1.0, "fan_in", "cauchy"), "invalid distribution for variance scaling"),
    (lambda: init.lecun_normal()(KEY, (5,)), "Must be at least 2D"),
    (lambda: init.orthogonal()(KEY, (5,)), "orthogonal initializer requires at least a 2D shape"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_missing_numbax_random_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numbax_random", None)  # makes `import numbax_random` fail
    with pytest.raises(ImportError, match="pip install numbax-random"):
        init.he_uniform()(KEY, (2, 2))
