"""Accuracy of numbax's branch-free math kernels (backends/xmath.py), in ulp.

float32 results are compared with float64 NumPy on the same (exactly widened) inputs;
float64 results with long double NumPy (x86 80-bit, 11 extra bits) or, where NumPy has no
long double version, SciPy in float64. The error of a result is |y - ref| in units of the
spacing of the result dtype at ref. Samples: every 2**k-th bit pattern of the dtype (so
the whole exponent range, subnormals included, is covered evenly in log scale), a dense
uniform grid over the interesting range, and the special values.
"""

import numba
import numpy as np
import pytest
import scipy.special

from numbax._src.backends import xmath

f32, f64, ld = np.float32, np.float64, np.longdouble


# Not cached: these take the kernel as a first-class function, and numba's cache
# index would pickle the function types of every earlier specialization, some of
# whose dispatchers are gone by then ("ReferenceError: underlying object has
# vanished" in a full test run).
@numba.njit(error_model="numpy")
def _map1(fn, x, out):
    for i in range(x.shape[0]):
        out[i] = fn(x[i])


@numba.njit(error_model="numpy")
def _map2(fn, x, y, out):
    for i in range(x.shape[0]):
        out[i] = fn(x[i], y[i])


def _bit_samples(dtype, step_bits):
    """Every 2**step_bits-th non-negative finite bit pattern, and their negatives."""
    itype, top = (np.uint32, 0x7F800000) if dtype == f32 else (np.uint64, 0x7FF0000000000000)
    pos = np.arange(0, top, 1 << step_bits, dtype=itype).view(dtype)
    return np.concatenate([pos, -pos])


SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -0.5, 2.0]


def _samples(dtype, lo, hi, extra=()):
    tiny = np.finfo(dtype).tiny
    edges = [tiny, -tiny, tiny / 2 ** 10, np.finfo(dtype).max, -np.finfo(dtype).max,
             np.finfo(dtype).eps, np.finfo(dtype).smallest_subnormal]
    x = np.concatenate([
        _bit_samples(dtype, 11 if dtype == f32 else 43),
        np.linspace(lo, hi, 200_001, dtype=dtype),
        np.array(SPECIAL + edges + list(extra), dtype=dtype),
    ])
    return x


def ulp_error(y, ref, dtype):
    """Elementwise error of y (dtype) against ref (wider float) in ulp of dtype; nan/inf
    must match exactly (error 0 where they do, inf where they do not)."""
    with np.errstate(all="ignore"):
        r = ref.astype(dtype)
        special = ~np.isfinite(r) | ~np.isfinite(y)
        same = (np.isnan(r) & np.isnan(y)) | (r == y)
        a = np.abs(r)
        # ulp of the binade that ref lies in (the lower one when ref rounded up to 2**k)
        below = np.abs(ref) < a
        ulp = np.spacing(np.where(below, np.nextafter(a, dtype(0)), a)).astype(ref.dtype)
        err = np.abs(y.astype(ref.dtype) - ref) / ulp
    return np.where(special, np.where(same, 0.0, np.inf), err)


def _run(fn, *args):
    out = np.empty_like(args[0])
    (_map1 if len(args) == 1 else _map2)(fn, *args, out)
    return out


def _logistic(x):
    with np.errstate(all="ignore"):
        return 1 / (1 + np.exp(-x))


# name: (reference ufunc, float32 grid, float64 grid, max ulp allowed for both dtypes)
CASES = {
    "exp": (np.exp, (-110, 90), (-750, 712), 1),
    "expm1": (np.expm1, (-30, 90), (-50, 712), 2),
    "log": (np.log, (0, 10), (0, 10), 1),
    "log1p": (np.log1p, (-1, 10), (-1, 10), 1),
    "tanh": (np.tanh, (-12, 12), (-25, 25), 3),
    "logistic": (_logistic, (-110, 30), (-750, 50), 3),
    "sin": (np.sin, (-100, 100), (-100, 100), 2),
    "cos": (np.cos, (-100, 100), (-100, 100), 2),
    "tan": (np.tan, (-100, 100), (-100, 100), 4),
    "erf": (scipy.special.erf, (-5, 5), (-7, 7), 4),
    "atan": (np.arctan, (-10, 10), (-10, 10), 2),
    "asin": (np.arcsin, (-1.1, 1.1), (-1.1, 1.1), 4),
    "acos": (np.arccos, (-1.1, 1.1), (-1.1, 1.1), 4),
    "sinh": (np.sinh, (-100, 100), (-720, 720), 2),
    "cosh": (np.cosh, (-100, 100), (-720, 720), 2),
    "asinh": (np.arcsinh, (-10, 10), (-10, 10), 2),
    "acosh": (np.arccosh, (0, 10), (0, 10), 2),
    "atanh": (np.arctanh, (-1.1, 1.1), (-1.1, 1.1), 2),
}
# scipy's float64 erf is the float64 reference; it has no long double version, so the
# float64 erf (a libm call) is checked against it in float64.
LONG_DOUBLE_MISSING = {"erf"}

TRIG = {"sin", "cos", "tan"}
TRIG_LIMIT = 1.6e6  # documented range of accurate pi/2 reduction


@pytest.mark.parametrize("dtype", [f32, f64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(CASES))
def test_accuracy(name, dtype):
    ref_fn, grid32, grid64, max_ulp = CASES[name]
    fn = getattr(xmath, f"{name}_{'f32' if dtype == f32 else 'f64'}")
    x = _samples(dtype, *(grid32 if dtype == f32 else grid64))
    if name in TRIG:
        x = x[~(np.abs(x) >= TRIG_LIMIT)]
    y = _run(fn, x)
    wide = f64 if (dtype == f32 or name in LONG_DOUBLE_MISSING) else ld
    with np.errstate(all="ignore"):
        ref = ref_fn(x.astype(wide))
    err = ulp_error(y, ref, dtype)
    worst = np.argmax(err)
    assert err[worst] <= max_ulp, f"{name}_{dtype.__name__}({x[worst]!r}) = {y[worst]!r}, ref {ref[worst]!r}: " \
        f"{err[worst]:.2f} ulp"


def test_float32_sin_cos_of_large_arguments():
    """Accurate up to 2**48 (the fused multiply-adds of the pi/2 reduction keep the
    reduced argument exact enough), nan from there on: never a wrong number."""
    x = _bit_samples(f32, 11)
    big = x[(np.abs(x) >= TRIG_LIMIT) & (np.abs(x) < 2.0**48)]
    huge = x[np.abs(x) >= 2.0**48]
    assert big.size > 1000 and huge.size > 1000
    for name, ref in (("sin", np.sin), ("cos", np.cos)):
        fn = getattr(xmath, f"{name}_f32")
        assert ulp_error(_run(fn, big), ref(big.astype(f64)), f32).max() <= 2
        assert np.isnan(_run(fn, huge)).all()


@pytest.mark.parametrize("name", ["sin", "tan", "tanh", "sinh", "asinh", "atan", "atanh", "erf", "expm1", "log1p"])
def test_odd_functions_keep_the_sign_of_zero(name):
    # ulp_error compares with ==, which cannot tell -0 from +0
    for suffix in ("f32", "f64"):
        y = _run(getattr(xmath, f"{name}_{suffix}"), np.array([0.0, -0.0], dtype=f32 if suffix == "f32" else f64))
        assert list(np.signbit(y)) == [False, True], f"{name}_{suffix}(±0) = {y}"


def test_erf_inv_f32():
    # dense near ±1 too, where the tail branch and the log1p(-x^2) argument matter
    x = _samples(f32, -1, 1)
    near_one = (1 - np.logspace(-7.3, -0.01, 200_000)).astype(f32)
    x = np.concatenate([x, near_one, -near_one])
    y = _run(xmath.erf_inv_f32, x)
    with np.errstate(all="ignore"):
        ref = scipy.special.erfinv(x.astype(f64))
    err = ulp_error(y, ref, f32)
    worst = np.argmax(err)
    assert err[worst] <= 3, f"erf_inv_f32({x[worst]!r}) = {y[worst]!r}, ref {ref[worst]!r}: {err[worst]:.2f} ulp"


def _pairs(dtype):
    """All pairs of a small set of edge values, plus random pairs over a wide range."""
    edges = np.array(SPECIAL + [3.0, -3.0, 0.25, 1e-30, 1e30, -7.5, 1e-40, 100.0, -101.0], dtype=dtype)
    ex, ey = (a.ravel() for a in np.meshgrid(edges, edges))
    rng = np.random.default_rng(0)
    x = np.concatenate([ex, (rng.standard_normal(300_000) * 10.0 ** rng.uniform(-3, 3, 300_000))]).astype(dtype)
    y = np.concatenate([ey, (rng.standard_normal(300_000) * 10.0 ** rng.uniform(-3, 2, 300_000))]).astype(dtype)
    return x, y


@pytest.mark.parametrize("name, dtype, ref_fn, max_ulp", [
    ("pow_f32", f32, np.power, 1),
    ("atan2_f32", f32, np.arctan2, 1),
    ("atan2_f64", f64, np.arctan2, 4),
])
def test_accuracy_binary(name, dtype, ref_fn, max_ulp):
    x, y = _pairs(dtype)
    if name == "pow_f32":   # bases of both signs, integer exponents among them
        x, y = np.concatenate([x, x]), np.concatenate([y, np.round(y)]).astype(dtype)
    out = _run(getattr(xmath, name), x, y)
    wide = f64 if dtype == f32 else ld
    with np.errstate(all="ignore"):
        ref = ref_fn(x.astype(wide), y.astype(wide))
    err = ulp_error(out, ref, dtype)
    worst = np.argmax(err)
    assert err[worst] <= max_ulp, f"{name}({x[worst]!r}, {y[worst]!r}) = {out[worst]!r}, ref {ref[worst]!r}: " \
        f"{err[worst]:.2f} ulp"
