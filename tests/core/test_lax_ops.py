"""Op table for the lax elementwise, conversion and shape primitives: eager
results against NumPy, with the dtypes JAX gives, then staged vs eager."""

import numpy as np
import scipy.special

from numbax import lax
from numbax.test_util import values_test, jit_test
from numbax.test_util import vmap_test
from numbax.test_util import (BOOL, F32, F64, FLOATS, I32, I64, U32, U8, OpCase, always, positive, uniform)

INTS = (I32, I64, U32, U8)
UNIT = uniform(-0.9, 0.9)
SHAPES1 = [[()], [(5,)], [(2, 3)], [(0, 3)]]
SHAPES2 = [[(), ()], [(5,), (5,)], [(2, 3), (1, 3)], [(2, 3), ()], [(0, 3), (0, 3)]]


def unary(name, ref, sample=uniform(), dtypes=FLOATS, **kw):
    return OpCase(f"lax.{name}", getattr(lax, name), ref, SHAPES1, dtypes=dtypes, sample=sample, **kw)


def binary(name, ref, sample=uniform(), dtypes=FLOATS, **kw):
    return OpCase(f"lax.{name}", getattr(lax, name), ref, SHAPES2, dtypes=dtypes, sample=sample, **kw)


def _c_div(x, y):
    if x.dtype.kind == "f":
        return x / y
    return (np.trunc(x.astype(np.float64) / y.astype(np.float64))).astype(x.dtype)


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _shift(op, bits_of):
    def ref(x, y):
        bits = x.dtype.itemsize * 8
        out = np.zeros_like(x)
        flat_x, flat_y, flat_out = x.reshape(-1), np.broadcast_to(y, x.shape).reshape(-1), out.reshape(-1)
        for i in range(flat_x.size):  # a Python loop, as the independent reference
            flat_out[i] = op(int(flat_x[i]), int(flat_y[i]), bits, x.dtype)
        return out
    return ref


def _logical_right(v, s, bits, dtype):
    unsigned = v % (1 << bits)
    return np.array(unsigned >> s if 0 <= s < bits else 0).astype(np.dtype(f"u{bits // 8}")).astype(dtype)


def _left(v, s, bits, dtype):
    return np.array(((v << s) % (1 << bits)) if 0 <= s < bits else 0).astype(np.dtype(f"u{bits // 8}")).astype(dtype)


def _arith_right(v, s, bits, dtype):
    return np.array(v >> min(max(s, 0), bits - 1)).astype(dtype)


SHIFT_AMOUNT = uniform(0, 12)
CASES = [
    unary("neg", np.negative, dtypes=FLOATS + (I32, I64)),
    unary("sign", np.sign, dtypes=FLOATS + (I32,)),
    unary("floor", np.floor), unary("ceil", np.ceil),
    unary("round", _round_half_away, sample=uniform(-3, 3)),
    unary("is_finite", np.isfinite, out_dtype=always(BOOL)),
    unary("exp", np.exp), unary("exp2", np.exp2), unary("log", np.log, positive()),
    unary("log1p", np.log1p, positive()), unary("expm1", np.expm1), unary("tanh", np.tanh),
    unary("logistic", scipy.special.expit), unary("sin", np.sin), unary("cos", np.cos),
    unary("tan", np.tan, UNIT), unary("asin", np.arcsin, UNIT), unary("acos", np.arccos, UNIT),
    unary("atan", np.arctan), unary("sinh", np.sinh), unary("cosh", np.cosh), unary("asinh", np.arcsinh),
    unary("acosh", np.arccosh, positive(1.1, 3)), unary("atanh", np.arctanh, UNIT),
    unary("sqrt", np.sqrt, positive()), unary("rsqrt", lambda x: 1 / np.sqrt(x), positive()),
    unary("cbrt", np.cbrt), unary("square", np.square, dtypes=FLOATS + (I32,)),
    unary("abs", np.abs, dtypes=FLOATS + (I32,)), unary("erf", scipy.special.erf),
    unary("erfc", scipy.special.erfc), unary("erf_inv", scipy.special.erfinv, UNIT),
    unary("lgamma", scipy.special.gammaln, positive()), unary("digamma", scipy.special.digamma, positive()),
    unary("bitwise_not", np.invert, dtypes=INTS + (BOOL,)),
    unary("population_count", lambda x: np.bitwise_count(x).astype(x.dtype), dtypes=INTS),
    OpCase("lax.integer_pow", lambda x: lax.integer_pow(x, 3), lambda x: x ** 3, SHAPES1, dtypes=FLOATS + (I32,),
           sample=uniform(-2, 2)),
    OpCase("lax.integer_pow[-2]", lambda x: lax.integer_pow(x, -2), lambda x: x ** -2.0, SHAPES1,
           sample=positive(0.5, 2)),
    OpCase("lax.stop_gradient", lax.stop_gradient, lambda x: x, SHAPES1, dtypes=FLOATS + (I32,)),
    binary("add", np.add, dtypes=FLOATS + INTS), binary("sub", np.subtract, dtypes=FLOATS + (I32, I64)),
    binary("mul", np.multiply, dtypes=FLOATS + INTS),
    binary("div", _c_div, dtypes=FLOATS + (I32,), sample=positive(1, 7)),
    OpCase("lax.div[signed]", lax.div, _c_div, [[(6,), (6,)]], dtypes=(I32, I64),
           samplers=[uniform(-20, 20), positive(1, 5)]),
    binary("rem", np.fmod, dtypes=FLOATS + (I32,), sample=positive(1, 7)),
    binary("pow", np.power, sample=positive(0.5, 2)),
    binary("max", np.maximum, dtypes=FLOATS + (I32, BOOL)), binary("min", np.minimum, dtypes=FLOATS + (I32,)),
    binary("atan2", np.arctan2), binary("nextafter", np.nextafter),
    binary("bitwise_and", np.bitwise_and, dtypes=INTS + (BOOL,)),
    binary("bitwise_or", np.bitwise_or, dtypes=INTS + (BOOL,)),
    binary("bitwise_xor", np.bitwise_xor, dtypes=INTS + (BOOL,)),
    binary("eq", np.equal, dtypes=FLOATS + (I32, BOOL), out_dtype=always(BOOL)),
    binary("ne", np.not_equal, dtypes=FLOATS + (I32,), out_dtype=always(BOOL)),
    binary("lt", np.less, out_dtype=always(BOOL)), binary("le", np.less_equal, out_dtype=always(BOOL)),
    binary("gt", np.greater, out_dtype=always(BOOL)), binary("ge", np.greater_equal, out_dtype=always(BOOL)),
    OpCase("lax.shift_left", lax.shift_left, _shift(_left, None), [[(7,), (7,)], [(), ()]], dtypes=(I32, U32, U8),
           samplers=[uniform(0, 200), SHIFT_AMOUNT]),
    OpCase("lax.shift_right_logical", lax.shift_right_logical, _shift(_logical_right, None),
           [[(7,), (7,)], [(), ()]], dtypes=(I32, U32), samplers=[uniform(-500, 500), uniform(0, 40)]),
    OpCase("lax.shift_right_arithmetic", lax.shift_right_arithmetic, _shift(_arith_right, None),
           [[(7,), (7,)]], dtypes=(I32, I64), samplers=[uniform(-500, 500), uniform(0, 70)]),
    OpCase("lax.select_n", lax.select_n, lambda p, a, b: np.where(p, b, a), [[(4,), (4,), (4,)], [(), (2, 2), (2, 2)]],
           dtypes=FLOATS + (I32,), arg_dtypes=[BOOL, None, None]),
    OpCase("lax.select_n[int]", lax.select_n, lambda i, a, b, c: np.choose(i, [a, b, c]), [[(5,), (5,), (5,), (5,)]],
           dtypes=FLOATS, arg_dtypes=[I32, None, None, None], samplers=[uniform(0, 3), None, None, None]),
    OpCase("lax.clamp", lambda x: lax.clamp(-1.0, x, 1.0), lambda x: np.clip(x, -1, 1), SHAPES1),
    OpCase("lax.convert_element_type", lambda x: lax.convert_element_type(x, np.int32),
           lambda x: np.trunc(x).astype(np.int32), SHAPES1, out_dtype=always(I32)),
    OpCase("lax.convert_element_type[f]", lambda x: lax.convert_element_type(x, np.float32),
           lambda x: x.astype(np.float32), SHAPES1, dtypes=(I32, BOOL, F64), out_dtype=always(F32)),
    OpCase("lax.bitcast_convert_type", lambda x: lax.bitcast_convert_type(x, np.uint32),
           lambda x: x.view(np.uint32), SHAPES1, dtypes=(F32, I32), out_dtype=always(U32)),
    OpCase("lax.bitcast_convert_type[narrow]", lambda x: lax.bitcast_convert_type(x, np.uint8),
           lambda x: x.reshape(x.shape + (1,)).view(np.uint8), [[(3,)], [()]], dtypes=(U32,),
           out_dtype=always(U8)),
    OpCase("lax.iota", lambda x: lax.iota(x.dtype, 5) + x, lambda x: np.arange(5, dtype=x.dtype) + x,
           [[()]], dtypes=(F32, I32)),
    OpCase("lax.broadcasted_iota", lambda x: lax.broadcasted_iota(np.int32, (2, 3), 1) + x,
           lambda x: np.broadcast_to(np.arange(3, dtype=np.int32), (2, 3)) + x, [[()]], dtypes=(I32,)),
    OpCase("lax.broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2,) + x.shape, tuple(range(1, x.ndim + 1))),
           lambda x: np.broadcast_to(x, (2,) + x.shape), SHAPES1, dtypes=FLOATS + (I32,)),
    OpCase("lax.reshape", lambda x: lax.reshape(x, (x.size,)), lambda x: x.reshape(-1), SHAPES1),
    OpCase("lax.transpose", lambda x: lax.transpose(x, (1, 0)), lambda x: x.T, [[(2, 3)], [(0, 3)]]),
    OpCase("lax.squeeze", lambda x: lax.squeeze(x, (0,)), lambda x: x[0], [[(1, 3)], [(1,)]]),
    OpCase("lax.expand_dims", lambda x: lax.expand_dims(x, (0, 2)), lambda x: np.expand_dims(x, (0, 2)),
           [[(2, 3)], [(4,)]]),
    OpCase("lax.rev", lambda x: lax.rev(x, (0,)), lambda x: x[::-1], [[(5,)], [(2, 3)], [(0,)]]),
    OpCase("lax.slice", lambda x: lax.slice(x, (1, 0), (3, 3), (1, 2)), lambda x: x[1:3, 0:3:2],
           [[(4, 3)], [(3, 5)]], dtypes=FLOATS + (I32,)),
    OpCase("lax.slice_in_dim", lambda x: lax.slice_in_dim(x, 1, None, axis=1), lambda x: x[:, 1:], [[(2, 4)]]),
    OpCase("lax.concatenate", lambda x, y: lax.concatenate([x, y], 0), lambda x, y: np.concatenate([x, y]),
           [[(2, 3), (4, 3)], [(0, 3), (1, 3)]]),
    OpCase("lax.pad", lambda x: lax.pad(x, 0.5, ((1, 2, 1), (0, -1, 0))) if x.ndim == 2 else x,
           lambda x: _pad_ref(x), [[(3, 4)]]),
    OpCase("lax.collapse", lambda x: lax.collapse(x, 1), lambda x: x.reshape(x.shape[0], -1), [[(2, 3, 4)]]),
]


def _pad_ref(x):
    out = np.full((1 + 3 + 2 + 2, 4), 0.5, dtype=x.dtype)
    out[1:1 + 5:2] = x
    return out[:, :3]


test_lax_op = values_test(CASES)
test_lax_op_jit = jit_test(CASES)


def test_shift_edge_cases_match_xla():
    x = np.array([1, -8, 255], np.int32)
    np.testing.assert_array_equal(np.asarray(lax.shift_left(x, np.int32(32))), [0, 0, 0])
    np.testing.assert_array_equal(np.asarray(lax.shift_right_arithmetic(x, np.int32(40))), [0, -1, 0])
    np.testing.assert_array_equal(np.asarray(lax.shift_right_logical(x, np.int32(-1))), [0, 0, 0])


def test_convert_float_to_int_saturates_and_maps_nan_to_zero():
    x = np.array([np.nan, 3e9, -3e9, -2.7, 2.7], np.float32)
    np.testing.assert_array_equal(np.asarray(lax.convert_element_type(x, np.int32)),
                                  [0, 2**31 - 1, -2**31, -2, 2])
    _ = I64


test_lax_op_vmap = vmap_test(CASES)
