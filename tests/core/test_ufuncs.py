"""Elementwise numbax.numpy functions against NumPy references, with JAX's
result dtypes; weak-type promotion of Python scalars; integer sign rules;
special values; the eager fast paths; clear errors."""


import dataclasses

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax._src.config import enable_x64
from numbax.test_util import values_test, grads_test, vmap_test, jit_test, quiet
from numbax.test_util import (BOOL, F32, F64, I32, I64, U8, OpCase, always, float_of,
                              positive, uniform)

I8, I16, F16 = np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.float16)
FLOATS = (F32, F64)
NUMBERS = (F32, F64, I32, I64)
ALL = NUMBERS + (U8, BOOL)
INTEGERS = (I32, I64, U8)
BITS = INTEGERS + (BOOL,)

SHAPES1 = [[()], [(0,)], [(5,)], [(2, 3)]]
SHAPES2 = [[(), ()], [(0,), (0,)], [(5,), ()], [(), (5,)], [(2, 3), (2, 3)], [(4, 1), (3,)]]
SHAPES3 = [[(), (), ()], [(0,), (0,), (0,)], [(2, 3), (3,), ()], [(4, 1), (1, 3), (4, 3)]]




def halves(low=-4, high=4):
    """Multiples of 0.5 (exact halves, zeros, ties); integers and bools plainly."""
    def sample(rng, shape, dtype):
        dtype = np.dtype(dtype)
        if dtype == BOOL:
            return rng.random(shape) < 0.5
        if dtype.kind in "iu":
            return rng.integers(0 if dtype.kind == "u" else low, high, size=shape)
        return rng.integers(2 * low, 2 * high, size=shape) / 2
    return sample


def nonzero(low=-5, high=5):
    """Like ``uniform`` but never 0 (divisors)."""
    base = uniform(low, high)

    def sample(rng, shape, dtype):
        x = np.asarray(base(rng, shape, dtype))
        return np.where(x == 0, np.ones_like(x), x)
    return sample


def specials(low=-3.0, high=3.0):
    """Floats with nan, +-inf, 0 and -0.0 mixed in."""
    base = uniform(low, high)

    def sample(rng, shape, dtype):
        x = np.asarray(base(rng, shape, dtype))
        if np.dtype(dtype).kind != "f":
            return x
        picks = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])
        return np.where(rng.random(shape) < 0.4, picks[rng.integers(0, 5, size=shape)], x)
    return sample


def exponent(rng, shape, dtype):
    """Exponents: [0, 5) for integers (no negative integer powers), [-2, 2) for floats."""
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 5, size=shape)
    return rng.uniform(-2, 2, size=shape)


def shift_amount(rng, shape, dtype):
    return rng.integers(0, 8, size=shape)


def int_of(d):
    """JAX computes bools as the default int where NumPy has no bool meaning."""
    d = np.dtype(d)
    if d == BOOL:
        return I32
    return d


TOL = {F32: (2e-6, 2e-6), F64: (1e-13, 1e-14)}


def floats_first(ref):
    """NumPy computes bools in float16; JAX (and these references) in the default float."""
    return lambda *args: ref(*(a.astype(np.float32) if a.dtype == BOOL else a for a in args))


def inexact_unary(name, ref, sample=uniform(), dtypes=NUMBERS + (BOOL,), fun=None, tol=None):
    return OpCase(name, fun or getattr(jnp, name), quiet(floats_first(ref)), SHAPES1, dtypes, sample,
                  float_of, tol or TOL)


def identity_unary(name, ref, sample=uniform(), dtypes=ALL):
    return OpCase(name, getattr(jnp, name), quiet(ref), SHAPES1, dtypes, sample)


def binary(name, ref, dtypes=ALL, out=lambda d: d, sample=uniform(), samplers=None, shapes=SHAPES2,
           tol=None):
    return OpCase(name, getattr(jnp, name), quiet(ref), shapes, dtypes, sample, out, tol or TOL,
                  samplers=samplers)


bool_out = always(BOOL)

CASES = [
    # arithmetic
    binary("add", np.add),
    binary("subtract", np.subtract, dtypes=NUMBERS + (U8,)),
    binary("multiply", np.multiply),
    binary("divide", floats_first(np.divide), dtypes=NUMBERS + (BOOL,), out=float_of,
           samplers=[None, nonzero()]),
    binary("true_divide", np.true_divide, dtypes=NUMBERS, out=float_of, samplers=[None, nonzero()]),
    binary("floor_divide", np.floor_divide, dtypes=NUMBERS + (U8,), samplers=[uniform(-9, 9), nonzero()]),
    binary("remainder", np.remainder, dtypes=NUMBERS + (U8,), samplers=[uniform(-9, 9), nonzero()]),
    binary("mod", np.mod, dtypes=NUMBERS, samplers=[uniform(-9, 9), nonzero()]),
    binary("fmod", np.fmod, dtypes=NUMBERS + (U8,), samplers=[uniform(-9, 9), nonzero()]),
    OpCase("divmod", jnp.divmod, quiet(np.divmod), SHAPES2, NUMBERS, uniform(-9, 9),
           lambda d: (d, d), TOL, samplers=[None, nonzero()]),
    binary("power", np.power, dtypes=NUMBERS, samplers=[positive(0.5, 3), exponent]),
    OpCase("power[x**3]", lambda x: x ** 3, lambda x: x ** 3, SHAPES1, NUMBERS + (U8,), uniform(-3, 3)),
    OpCase("power[static -2]", lambda x: jnp.power(x, -2), quiet(lambda x: np.power(x, -2.0)), SHAPES1,
           FLOATS, positive(0.5, 3), tol=TOL),
    OpCase("power[2**x]", lambda x: 2 ** x, lambda x: np.power(2, x), SHAPES1, (I32, I64, F32), exponent,
           tol=TOL),
    binary("float_power", np.float_power, dtypes=NUMBERS, out=float_of,
           samplers=[positive(0.5, 3), exponent], tol={F32: (1e-6, 1e-6), F64: (1e-13, 1e-14)}),
    identity_unary("negative", np.negative, dtypes=NUMBERS + (U8,)),
    identity_unary("positive", lambda x: x.copy(), dtypes=ALL),
    identity_unary("abs", np.abs, dtypes=ALL),
    identity_unary("absolute", np.absolute, dtypes=ALL),
    identity_unary("sign", np.sign, sample=specials(), dtypes=NUMBERS + (U8,)),
    OpCase("square", jnp.square, np.square, SHAPES1, NUMBERS + (BOOL,), uniform(-5, 5), int_of),
    inexact_unary("reciprocal", lambda x: 1.0 / x, nonzero(), dtypes=NUMBERS),
    # exponentials and logarithms
    inexact_unary("exp", np.exp),
    inexact_unary("exp2", np.exp2),
    inexact_unary("expm1", np.expm1, tol={F32: (2e-6, 1e-6), F64: (1e-13, 1e-14)}),
    inexact_unary("log", np.log, positive(1, 9)),
    inexact_unary("log2", np.log2, positive(1, 9)),
    inexact_unary("log10", np.log10, positive(1, 9)),
    inexact_unary("log1p", np.log1p, positive(0, 9)),
    inexact_unary("sqrt", np.sqrt, positive(0, 9)),
    inexact_unary("cbrt", np.cbrt, uniform(-9, 9)),
    # trigonometry
    inexact_unary("sin", np.sin),
    inexact_unary("cos", np.cos),
    inexact_unary("tan", np.tan, uniform(-1.5, 1.5)),
    inexact_unary("arcsin", np.arcsin, uniform(-0.99, 0.99), dtypes=FLOATS),
    inexact_unary("arccos", np.arccos, uniform(-0.99, 0.99), dtypes=FLOATS),
    inexact_unary("arctan", np.arctan),
    inexact_unary("sinh", np.sinh),
    inexact_unary("cosh", np.cosh),
    inexact_unary("tanh", np.tanh),
    inexact_unary("arcsinh", np.arcsinh),
    inexact_unary("arccosh", np.arccosh, positive(1, 5)),
    inexact_unary("arctanh", np.arctanh, uniform(-0.99, 0.99), dtypes=FLOATS),
    binary("arctan2", np.arctan2, dtypes=NUMBERS, out=float_of),
    inexact_unary("deg2rad", np.deg2rad, uniform(-360, 360), dtypes=NUMBERS),
    inexact_unary("radians", np.radians, uniform(-360, 360), dtypes=NUMBERS),
    inexact_unary("rad2deg", np.rad2deg, dtypes=NUMBERS),
    inexact_unary("degrees", np.degrees, dtypes=NUMBERS),
    binary("hypot", np.hypot, dtypes=NUMBERS, out=float_of, sample=specials()),
    inexact_unary("sinc", np.sinc, halves(), dtypes=NUMBERS, tol={F32: (2e-6, 1e-6), F64: (1e-13, 1e-14)}),
    binary("logaddexp", np.logaddexp, dtypes=NUMBERS, out=float_of, sample=specials()),
    binary("logaddexp2", np.logaddexp2, dtypes=NUMBERS, out=float_of, sample=specials()),
    # rounding and clipping
    identity_unary("floor", np.floor, halves(), dtypes=NUMBERS + (U8, BOOL)),
    identity_unary("ceil", np.ceil, halves(), dtypes=NUMBERS + (U8, BOOL)),
    identity_unary("trunc", np.trunc, halves(), dtypes=NUMBERS + (U8, BOOL)),
    OpCase("fix", jnp.fix, np.trunc, SHAPES1, NUMBERS, halves()),
    identity_unary("round", np.round, halves(), dtypes=NUMBERS + (U8,)),
    identity_unary("around", np.round, halves(), dtypes=NUMBERS),
    OpCase("round[decimals=1]", lambda x: jnp.round(x, 1), lambda x: np.round(x, 1), SHAPES1, FLOATS,
           lambda rng, shape, dtype: rng.integers(-40, 40, size=shape) / 20, tol=TOL),
    OpCase("round[decimals=-1]", lambda x: jnp.round(x, -1), lambda x: np.round(x, -1), SHAPES1,
           NUMBERS, lambda rng, shape, dtype: rng.integers(-10, 10, size=shape) * 5, tol=TOL),
    OpCase("rint", jnp.rint, np.rint, SHAPES1, NUMBERS, halves(), float_of),
    OpCase("clip", lambda x: jnp.clip(x, -1, 2), lambda x: np.clip(x, -1, 2), SHAPES1, NUMBERS,
           halves()),
    OpCase("clip[arrays]", jnp.clip, np.clip, SHAPES3, NUMBERS, uniform(-4, 4)),
    binary("maximum", np.maximum, sample=specials()),
    binary("minimum", np.minimum, sample=specials()),
    binary("fmax", np.fmax, dtypes=NUMBERS, sample=specials()),
    binary("fmin", np.fmin, dtypes=NUMBERS, sample=specials()),
    OpCase("where", jnp.where, np.where, SHAPES3, ALL, arg_dtypes=[BOOL, None, None]),
    OpCase("where[nonbool condition]", jnp.where, lambda c, x, y: np.where(c != 0, x, y), SHAPES3,
           NUMBERS, halves()),
    OpCase("select", lambda c1, c2, a, b: jnp.select([c1, c2], [a, b], -1),
           lambda c1, c2, a, b: np.select([c1, c2], [a, b], -1),
           [[(), (), (), ()], [(0,), (0,), (0,), (0,)], [(2, 3), (3,), (2, 3), ()]], NUMBERS,
           arg_dtypes=[BOOL, BOOL, None, None]),
    # classification
    OpCase("isnan", jnp.isnan, np.isnan, SHAPES1, ALL, specials(), bool_out),
    OpCase("isinf", jnp.isinf, np.isinf, SHAPES1, ALL, specials(), bool_out),
    OpCase("isfinite", jnp.isfinite, np.isfinite, SHAPES1, ALL, specials(), bool_out),
    OpCase("isposinf", jnp.isposinf, np.isposinf, SHAPES1, NUMBERS + (U8,), specials(), bool_out),
    OpCase("isneginf", jnp.isneginf, np.isneginf, SHAPES1, NUMBERS + (U8,), specials(), bool_out),
    OpCase("nan_to_num", jnp.nan_to_num, np.nan_to_num, SHAPES1, ALL, specials()),
    OpCase("nan_to_num[values]", lambda x: jnp.nan_to_num(x, nan=1.5, posinf=9.0, neginf=-9.0),
           lambda x: np.nan_to_num(x, nan=1.5, posinf=9.0, neginf=-9.0), SHAPES1, FLOATS, specials()),
    OpCase("signbit", jnp.signbit, np.signbit, SHAPES1, ALL, specials(), bool_out),
    binary("copysign", np.copysign, dtypes=NUMBERS, out=float_of, sample=specials()),
    binary("heaviside", np.heaviside, dtypes=NUMBERS, out=float_of, sample=specials()),
    OpCase("ldexp", jnp.ldexp, quiet(np.ldexp), SHAPES2, NUMBERS, uniform(-3, 3), float_of,
           arg_dtypes=[None, I32], samplers=[None, uniform(-30, 30)]),
    OpCase("ldexp[extremes]", jnp.ldexp, quiet(np.ldexp), [[(40,), (40,)]], FLOATS, uniform(-3, 3),
           arg_dtypes=[None, I32], samplers=[None, uniform(-1200, 120)]),
    OpCase("frexp", jnp.frexp, np.frexp, SHAPES1, NUMBERS, specials(-1e3, 1e3),
           lambda d: (float_of(d), I32)),
    # comparisons and logic
    binary("equal", np.equal, out=bool_out, sample=halves()),
    binary("not_equal", np.not_equal, out=bool_out, sample=halves()),
    binary("less", np.less, out=bool_out, sample=halves()),
    binary("less_equal", np.less_equal, out=bool_out, sample=halves()),
    binary("greater", np.greater, out=bool_out, sample=halves()),
    binary("greater_equal", np.greater_equal, out=bool_out, sample=halves()),
    binary("logical_and", np.logical_and, out=bool_out, sample=halves(-1, 2)),
    binary("logical_or", np.logical_or, out=bool_out, sample=halves(-1, 2)),
    binary("logical_xor", np.logical_xor, out=bool_out, sample=halves(-1, 2)),
    OpCase("logical_not", jnp.logical_not, np.logical_not, SHAPES1, ALL, halves(-1, 2), bool_out),
    binary("isclose", np.isclose, dtypes=NUMBERS, out=bool_out, sample=halves(-2, 2)),
    OpCase("isclose[tolerances]", lambda a, b: jnp.isclose(a, b, rtol=0.3, atol=0.1, equal_nan=True),
           lambda a, b: np.isclose(a, b, rtol=0.3, atol=0.1, equal_nan=True), SHAPES2, NUMBERS,
           specials(-2, 2), bool_out),
    binary("allclose", np.allclose, dtypes=NUMBERS, out=bool_out, sample=halves(0, 1)),
    binary("array_equal", np.array_equal, out=bool_out, sample=halves(0, 1),
           shapes=SHAPES2 + [[(2,), (3,)]]),
    binary("array_equiv", np.array_equiv, out=bool_out, sample=halves(0, 1),
           shapes=SHAPES2 + [[(2,), (3,)]]),
    # bits
    binary("bitwise_and", np.bitwise_and, dtypes=BITS),
    binary("bitwise_or", np.bitwise_or, dtypes=BITS),
    binary("bitwise_xor", np.bitwise_xor, dtypes=BITS),
    identity_unary("bitwise_not", np.bitwise_not, uniform(-100, 100), dtypes=BITS),
    identity_unary("invert", np.invert, uniform(-100, 100), dtypes=BITS),
    OpCase("bitwise_count", jnp.bitwise_count, np.bitwise_count, SHAPES1, BITS, uniform(-1000, 1000),
           always(U8)),
    binary("left_shift", np.left_shift, dtypes=INTEGERS, samplers=[uniform(-100, 100), shift_amount]),
    binary("right_shift", np.right_shift, dtypes=INTEGERS, samplers=[uniform(-100, 100), shift_amount]),
    binary("gcd", np.gcd, dtypes=INTEGERS, sample=uniform(-60, 60)),
    binary("lcm", np.lcm, dtypes=INTEGERS, sample=uniform(-12, 12)),
    # complex parts, conversion
    identity_unary("conj", np.conj),
    identity_unary("conjugate", np.conjugate),
    identity_unary("real", np.real),
    identity_unary("imag", lambda x: np.zeros_like(x)),
    OpCase("astype[int32]", lambda x: jnp.astype(x, jnp.int32), lambda x: x.astype(np.int32), SHAPES1,
           FLOATS, uniform(-100, 100), always(I32)),
    OpCase("astype[bool]", lambda x: jnp.astype(x, bool), lambda x: x.astype(bool), SHAPES1, NUMBERS,
           halves(-1, 2), bool_out),
    OpCase("astype[float32]", lambda x: jnp.astype(x, jnp.float32), lambda x: x.astype(np.float32),
           SHAPES1, ALL, uniform(-100, 100), always(F32)),
]


test_op = values_test(CASES)
test_op_jit = jit_test(CASES)


INTERP_CASES = [
    OpCase("interp", lambda x, xp, fp: jnp.interp(x, xp, fp), lambda x, xp, fp: np.interp(x, xp, fp),
           [[(), (4,), (4,)], [(0,), (4,), (4,)], [(7,), (4,), (4,)], [(2, 3), (1,), (1,)]], NUMBERS,
           samplers=[uniform(-1, 5), lambda rng, shape, dtype: np.sort(rng.permutation(6)[:shape[0]]), None],
           out_dtype=float_of, tol=TOL),
    OpCase("interp[left, right]", lambda x, xp, fp: jnp.interp(x, xp, fp, left=-7.0, right=9.0),
           lambda x, xp, fp: np.interp(x, xp, fp, left=-7.0, right=9.0), [[(9,), (4,), (4,)]], FLOATS,
           samplers=[uniform(-2, 6), lambda rng, shape, dtype: np.array([0.0, 1.0, 2.5, 4.0]), None],
           tol=TOL),
    OpCase("interp[period]", lambda x, xp, fp: jnp.interp(x, xp, fp, period=360),
           lambda x, xp, fp: np.interp(x, xp, fp, period=360), [[(9,), (4,), (4,)]], FLOATS,
           samplers=[uniform(-400, 400), lambda rng, shape, dtype: np.array([190.0, -190, 350, -350]),
                     None], tol=TOL),
]


test_interp = values_test(INTERP_CASES)


# --- weak types and promotion ---------------------------------------------------------------

def arr(values, dtype):
    return jnp.asarray(np.asarray(values, dtype=dtype))


@pytest.mark.parametrize("fun,x,scalar,dtype,weak", [
    (jnp.add, (F32, [1.5]), 1.0, F32, False),
    (jnp.multiply, (I32, [3]), 1.5, F32, True),   # int32 joined with a weak float is a weak float
    (jnp.subtract, (U8, [3]), 1, U8, False),
    (jnp.add, (I8, [3]), 200, I8, False),
    (jnp.divide, (I32, [3]), 2, F32, False),
    (jnp.maximum, (F16, [3]), 2.5, F16, False),
    (jnp.power, (F32, [3]), 2, F32, False),
    (jnp.add, (BOOL, [True]), 1, I32, True),
    (jnp.less, (I32, [1, 2]), 1.5, BOOL, False),
    (jnp.equal, (I32, [1]), 1.5, BOOL, False),
    (jnp.arctan2, (I32, [1]), 1.0, F32, True),
])
def test_python_scalars_are_weak(fun, x, scalar, dtype, weak):
    x = arr(x[1], x[0])
    for out in (fun(x, scalar), fun(scalar, x)):
        assert out.dtype == dtype and out.weak_type == weak, (out.dtype, out.weak_type)
        traced = numbax.make_jaxpr(lambda a: fun(a, scalar))(x).out_avals[0]
        assert traced.dtype == dtype and traced.weak_type == weak


def test_array_promotion_follows_jax_lattice():
    assert jnp.add(arr([1], U8), arr([1], I8)).dtype == I16
    assert jnp.multiply(arr([1], F16), arr([1], I32)).dtype == F16
    assert jnp.subtract(arr([1], U8), arr([1], np.uint32)).dtype == np.uint32
    assert jnp.maximum(arr([1], BOOL), arr([1], I8)).dtype == I8
    assert jnp.add(1.0, 2.0).weak_type and jnp.add(1.0, 2.0).dtype == F32
    assert jnp.add(1, 2).weak_type and jnp.add(1, 2).dtype == I32
    with enable_x64():
        assert jnp.add(arr([1], F64), 1.0).dtype == F64
        assert jnp.multiply(arr([1], I64), 1.5).dtype == F64
        assert jnp.add(1.0, 2.0).dtype == F64
        assert jnp.add(arr([1], F32), 1.0).dtype == F32


def test_weak_inputs_give_weak_results_through_compositions():
    for fun in (jnp.logaddexp, jnp.hypot, jnp.fmax, jnp.copysign, jnp.remainder, jnp.floor_divide):
        out = fun(2.0, 3.0)
        assert out.dtype == F32 and out.weak_type, fun.__name__
    assert jnp.where(True, 1, 2.0).weak_type and jnp.where(True, 1, 2.0).dtype == F32
    assert not jnp.sqrt(arr([4.0], F32)).weak_type


def test_literals_in_jaxprs_take_the_array_dtype():
    text = str(numbax.make_jaxpr(lambda x: jnp.multiply(x, 2.0) + 1)(arr([1.0, 2.0], F32)))
    assert "mul a 2.0:f32[]" in text and "add b 1.0:f32[]" in text
    text = str(numbax.make_jaxpr(lambda x: x ** 2)(arr([1.0], F32)))
    assert "integer_pow[y=2] a" in text


# --- semantics beyond the table ----------------------------------------------------------------

def test_integer_division_follows_python_sign_rules():
    x = np.array([7, -7, 7, -7, 0, 6], np.int32)
    y = np.array([2, 2, -2, -2, 3, -3], np.int32)
    np.testing.assert_array_equal(jnp.floor_divide(arr(x, I32), arr(y, I32)), x // y)
    np.testing.assert_array_equal(jnp.remainder(arr(x, I32), arr(y, I32)), x % y)
    np.testing.assert_array_equal(jnp.fmod(arr(x, I32), arr(y, I32)), np.fmod(x, y))
    np.testing.assert_array_equal(arr(x, I32) // arr(y, I32), x // y)
    np.testing.assert_array_equal(arr(x, I32) % 3, x % 3)
    q, r = divmod(arr(x, I32), arr(y, I32))
    np.testing.assert_array_equal(q, x // y)
    np.testing.assert_array_equal(r, x % y)


def test_float_division_edges_match_numpy():
    x = np.array([1.0, -1.0, 0.0, 1.0, -1.0, 5.5, 1.0], np.float32)
    y = np.array([0.0, 0.0, 0.0, np.inf, np.inf, -2.0, 0.1], np.float32)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(jnp.floor_divide(arr(x, F32), arr(y, F32)), np.floor_divide(x, y))
        np.testing.assert_array_equal(jnp.remainder(arr(x, F32), arr(y, F32)), np.remainder(x, y))


def test_bools_compute_as_int_where_numpy_has_no_bool_meaning():
    t = arr([True, True], BOOL)
    f = arr([True, False], BOOL)
    assert jnp.floor_divide(t, t).dtype == I32
    assert jnp.remainder(t, f).dtype == I32
    assert jnp.power(t, f).dtype == I32 and jnp.power(t, 2).dtype == I32
    assert jnp.square(f).dtype == I32
    assert jnp.add(t, f).dtype == BOOL and jnp.multiply(t, f).dtype == BOOL
    np.testing.assert_array_equal(jnp.left_shift(t, f), [2, 1])


def test_integer_power_edges():
    base = arr([0, 1, -1, -1, 2, -3, 0], I32)
    exp = arr([0, 100, 100, 101, 10, 3, 7], I32)
    np.testing.assert_array_equal(jnp.power(base, exp), [1, 1, 1, -1, 1024, -27, 0])
    np.testing.assert_array_equal(jnp.power(arr([2, 3], U8), arr([3, 4], U8)), [8, 81])


def test_right_shift_is_arithmetic_for_signed_and_logical_for_unsigned():
    np.testing.assert_array_equal(jnp.right_shift(arr([-8, 8], I32), 1), [-4, 4])
    np.testing.assert_array_equal(jnp.right_shift(arr([255, 8], U8), 1), [127, 4])
    np.testing.assert_array_equal(jnp.right_shift(arr([-8, 8], I32), 40), [-1, 0])
    np.testing.assert_array_equal(jnp.left_shift(arr([1, 1], I32), arr([31, 32], I32)),
                                  [np.int32(-2 ** 31), 0])


def test_round_is_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.675], np.float32)
    np.testing.assert_array_equal(jnp.round(arr(x, F32)), np.round(x))
    np.testing.assert_array_equal(jnp.round(arr(x, F32), 2), np.round(x, 2))
    np.testing.assert_array_equal(jnp.round(arr([15, 25, -15, -25, 14], I32), -1), [20, 20, -20, -20, 10])
    np.testing.assert_array_equal(jnp.round(arr([0.5, 2.5], F16)), [0.0, 2.0])
    assert jnp.round(arr([1.26], F16), 1).dtype == F16
    assert arr([1.25, 2.5], F32).round().tolist() == [1.0, 2.0]


def test_nan_and_inf_semantics():
    nan, inf = np.nan, np.inf
    x = arr([nan, 1.0, nan], F32)
    y = arr([1.0, nan, nan], F32)
    assert np.isnan(np.asarray(jnp.maximum(x, y))).all()
    np.testing.assert_array_equal(jnp.fmax(x, y), [1.0, 1.0, nan])
    np.testing.assert_array_equal(jnp.hypot(arr([inf, nan, 3.0], F32), arr([nan, -inf, 4.0], F32)),
                                  [inf, inf, 5.0])
    np.testing.assert_array_equal(jnp.logaddexp(arr([-inf, inf, -inf], F32), arr([-inf, inf, 0.0], F32)),
                                  [-inf, inf, 0.0])
    np.testing.assert_array_equal(jnp.heaviside(arr([nan, 0.0], F32), 0.5), [nan, 0.5])
    np.testing.assert_array_equal(jnp.signbit(arr([-0.0, 0.0, -nan], F32)), [True, False, True])


def test_frexp_and_ldexp_round_trip_subnormals():
    x = np.array([1e-40, -3e-45, 1e-30, 3.4e38, 0.0, -0.0, np.inf, np.nan], np.float32)
    mantissa, exponent = jnp.frexp(arr(x, F32))
    np.testing.assert_array_equal(mantissa, np.frexp(x)[0])
    np.testing.assert_array_equal(exponent, np.frexp(x)[1])
    np.testing.assert_array_equal(jnp.ldexp(mantissa, exponent), x)
    with enable_x64():
        x = np.array([5e-324, 1e-310, 1.7e308], np.float64)
        mantissa, exponent = jnp.frexp(arr(x, F64))
        np.testing.assert_array_equal(mantissa, np.frexp(x)[0])
        np.testing.assert_array_equal(exponent, np.frexp(x)[1])
        np.testing.assert_array_equal(jnp.ldexp(mantissa, exponent), x)


def test_gcd_and_lcm_edges():
    np.testing.assert_array_equal(jnp.gcd(arr([0, 0, -12, 2 ** 30], I32), arr([0, 5, 18, 2 ** 20 * 3], I32)),
                                  [0, 5, 6, 2 ** 20])
    np.testing.assert_array_equal(jnp.lcm(arr([0, -4, 6], I32), arr([5, 6, -4], I32)), [0, 12, 12])
    # Consecutive Fibonacci numbers take the most Euclid steps.
    np.testing.assert_array_equal(jnp.gcd(arr([1134903170], I32), arr([1836311903], I32)), [1])


def test_where_forms():
    x = arr([1.0, 2.0, 3.0], F32)
    np.testing.assert_array_equal(jnp.where(x > 1.5, x, 0.0), [0.0, 2.0, 3.0])
    np.testing.assert_array_equal(jnp.where(True, x, arr([[0.0], [1.0]], F32)), [[1, 2, 3]] * 2)
    assert jnp.where(arr([1, 0], I32), 1, 2).dtype == I32
    if hasattr(jnp, "nonzero"):
        (idx,) = jnp.where(x > 1.5)
        np.testing.assert_array_equal(idx, [1, 2])


def test_operators_dispatch_to_ufuncs():
    x, y = arr([7, -7], I32), arr([2, 3], I32)
    np.testing.assert_array_equal(x // y, [3, -3])
    np.testing.assert_array_equal(x % y, [1, 2])
    np.testing.assert_array_equal(x ** 2, [49, 49])
    np.testing.assert_array_equal(2 ** y, [4, 8])
    np.testing.assert_array_equal(x >> 1, [3, -4])
    np.testing.assert_array_equal(1 << y, [4, 8])
    np.testing.assert_array_equal(~x, [-8, 6])
    np.testing.assert_array_equal(abs(x), [7, 7])
    np.testing.assert_array_equal(+x, [7, -7])
    np.testing.assert_array_equal((x > 0) | (y > 2), [True, True])
    np.testing.assert_array_equal(1.0 - arr([0.5], F32), [0.5])
    np.testing.assert_array_equal(arr([1.5, -2.5], F32).astype(jnp.int32), [1, -2])
    np.testing.assert_array_equal(arr([1.5, -2.5], F32).clip(-1, 1), [1.0, -1.0])


def test_eager_fast_paths_agree_with_promotion():
    x = arr([1.0, 2.0], F32)
    weak = jnp.asarray(3.0)  # a weak 0-d array
    for out in (jnp.add(x, weak), jnp.add(weak, x), x + 3.0, 3.0 + x):
        assert out.dtype == F32 and not out.weak_type
    assert jnp.add(weak, weak).weak_type
    assert (arr([250], U8) + 300).dtype == U8  # out-of-range scalars take the slow path (wrap)
    assert not jnp.less(weak, weak).weak_type
    assert jnp.sin(weak).weak_type


# --- errors -----------------------------------------------------------------------------------

def test_errors_name_the_function_and_the_fix():
    b = arr([True], BOOL)
    f = arr([1.5], F32)
    with pytest.raises(TypeError, match=r"subtract does not accept bool arguments.*logical_xor"):
        jnp.subtract(b, b)
    with pytest.raises(TypeError, match=r"negative does not accept bool.*logical_not"):
        jnp.negative(b)
    with pytest.raises(TypeError, match=r"bitwise_and does not accept float32 arguments; it takes "
                                        r"integer or bool arrays"):
        jnp.bitwise_and(f, f)
    with pytest.raises(TypeError, match=r"left_shift does not accept float32"):
        f << 1
    with pytest.raises(TypeError, match=r"gcd does not accept float32"):
        jnp.gcd(f, f)
    with pytest.raises(TypeError, match=r"power: integers cannot be raised to negative powers \(got "
                                        r"int32 \*\* -1\)"):
        jnp.power(arr([2], I32), -1)
    with pytest.raises(TypeError, match=r"ldexp: x2 must be an integer array"):
        jnp.ldexp(f, f)
    with pytest.raises(TypeError, match=r"add got incompatible shapes f32\[3\] and f32\[4\]"):
        jnp.add(jnp.asarray(np.ones(3, np.float32)), jnp.asarray(np.ones(4, np.float32)))
    with pytest.raises(TypeError, match=r"multiply requires ndarray or scalar arguments, got list"):
        jnp.multiply([1, 2], f)
    with pytest.raises(ValueError, match=r"where takes one argument \(condition\) or three"):
        jnp.where(b, f)
    with pytest.raises(ValueError, match=r"select: condlist and choicelist must have the same length"):
        jnp.select([b], [f, f])
    with pytest.raises(ValueError, match=r"round: out= is not supported"):
        jnp.round(f, out=f)
    with pytest.raises(TypeError, match=r"is not supported by numbax"):
        jnp.astype(f, np.complex64)


# --- the gradient column ------------------------------------------------------------------
# Differentiable rows, with the order check_grads verifies (3 for the
# transcendental ones). Piecewise-constant functions (floor, sign, round, ...)
# have zero derivatives almost everywhere, which check_grads also verifies.
_ORDER3 = """exp exp2 expm1 log log2 log10 log1p sqrt cbrt sin cos tan arcsin arccos arctan sinh cosh
tanh arcsinh arccosh arctanh logaddexp logaddexp2 power[x**3] reciprocal""".split()
_ORDER2 = """add subtract multiply divide true_divide remainder mod fmod power power[static -2] float_power
negative positive abs absolute square arctan2 deg2rad radians rad2deg degrees hypot sinc clip[arrays]
fmax fmin where select nan_to_num conj real""".split()
# Rows whose value samplers sit on kinks or integers (floor, clip at its bounds,
# ties in maximum) get continuous samples away from them for the gradient check.
_OFF_KINKS = {"floor": uniform(0.1, 0.9), "ceil": uniform(0.1, 0.9), "trunc": uniform(0.1, 0.9),
              "rint": uniform(0.1, 0.4), "clip": uniform(-0.9, 1.9), "maximum": uniform(-3, 3),
              "minimum": uniform(-3, 3), "copysign": uniform(0.2, 3)}
GRAD_CASES = [dataclasses.replace(c, grad_order=3 if c.name in _ORDER3 else 2)
              for c in CASES if c.name in _ORDER3 + _ORDER2]
GRAD_CASES += [dataclasses.replace(c, grad_order=2, sample=_OFF_KINKS[c.name], samplers=None,
                                   shapes=[s for s in c.shapes if all(s_ for s_ in s)] or c.shapes)
               for c in CASES if c.name in _OFF_KINKS]


test_op_grads = grads_test(GRAD_CASES)


test_op_vmap = vmap_test(CASES)


test_interp_vmap = vmap_test(INTERP_CASES)
