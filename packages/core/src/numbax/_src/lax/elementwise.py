"""Elementwise primitives: math, comparisons, bitwise and shift ops, select,
type conversion and iota. Each primitive is declared in one place with its
NumPy impl and accepted dtypes; shapes broadcast within equal rank (sizes
equal or 1) and rank-0 operands broadcast to anything, as in JAX's lax.
"""

import builtins

import numpy as np

from .. import dtypes
from ..array import ArrayImpl
from ..core import NumbaxTypeError, ShapedArray
from ..dtypes import ALL, FLOATS, INTEGERS, NUMBERS, SIGNED, bool_
from .utils import check_dtype, coerce_scalars, shape_error, standard_primitive

INTS_AND_BOOL = INTEGERS + (bool_,)
SIGNED_NUMBERS = SIGNED + FLOATS


def broadcast_shapes_or_raise(prim_name, avals):
    """The shape of an elementwise result: operands of rank 0 broadcast; the
    rest must have equal rank with each dimension equal or 1."""
    shapes = [a.shape for a in avals if a.shape]
    if not shapes:
        return ()
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise shape_error(prim_name, "requires operands of equal rank (or rank 0); use "
                          "broadcast_in_dim / numbax.numpy broadcasting to align them", *avals)
    out = []
    for dims in zip(*shapes):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise shape_error(prim_name, "got incompatible shapes for broadcasting: "
                              + ", ".join(str(a.shape) for a in avals), *avals)
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def naryop(name, impl, allowed, result_dtype=None, weak_follows_inputs=True, nargs=None):
    """Declare an elementwise primitive.

    ``allowed``: dtypes accepted for the (common) operand dtype.
    ``result_dtype``: fixed output dtype (e.g. bool for comparisons) or None
    for "same as the operands". Weak results only when all operands are weak.
    """
    allowed = frozenset(allowed)

    def abstract_eval(*avals, **params):
        if nargs is not None and len(avals) != nargs:
            raise NumbaxTypeError(f"{name} takes {nargs} operands, got {len(avals)}.")
        dtype_set = {a.dtype for a in avals}
        if len(dtype_set) > 1:
            raise shape_error(name, "requires arguments to have the same dtypes; convert one with "
                              "lax.convert_element_type or x.astype(...)", *avals)
        check_dtype(name, avals[0], allowed)
        shape = broadcast_shapes_or_raise(name, avals)
        weak = weak_follows_inputs and all(a.weak_type for a in avals)
        return ShapedArray(shape, result_dtype or avals[0].dtype, weak)

    prim = standard_primitive(name, abstract_eval, impl)

    def eager_fast_path(args, params):
        # When every operand is a concrete array of one accepted dtype and one
        # shape, the abstract rules hold trivially: run the impl directly.
        # Unrolled for one and two operands, the hot cases.
        if len(args) == 2:
            x, y = args
            if type(x) is not ArrayImpl or type(y) is not ArrayImpl:
                return None
            vx, vy = x._value, y._value
            dtype = vx.dtype
            # Rank-0 operands broadcast against anything (the lax rule).
            if dtype is not vy.dtype or dtype not in allowed or (
                    vx.shape != vy.shape and vx.shape and vy.shape):
                return None
            out = impl(vx, vy, **params) if params else impl(vx, vy)
            weak = weak_follows_inputs and x.weak_type and y.weak_type
        elif len(args) == 1:
            x = args[0]
            if type(x) is not ArrayImpl or x._value.dtype not in allowed:
                return None
            out = impl(x._value, **params) if params else impl(x._value)
            weak = weak_follows_inputs and x.weak_type
        else:
            return None
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        return ArrayImpl(out, weak)

    prim.eager_fast_path = eager_fast_path
    return prim


def _ignoring_fp_errors(fun):
    # Kept for modules that still wrap their impls; the module-level warnings
    # filter in numbax._src.interpreters.eval now silences these warnings.
    return fun


# --- unary math ------------------------------------------------------------------

def _round_impl(x, rounding_method=0):
    if rounding_method == 1:
        return np.round(x)
    truncated = np.trunc(x)
    return np.where(np.abs(x - truncated) >= 0.5, truncated + np.sign(x), truncated).astype(x.dtype)


def _integer_pow_impl(x, y):
    if y == 0:
        return np.ones_like(x)
    base = np.reciprocal(x) if y < 0 else x
    return np.power(base, builtins.abs(y)).astype(x.dtype, copy=False)


def _scipy(name):
    """The eager impl calling ``scipy.special.<name>``. scipy.special is
    imported on first use: importing it costs ~0.23 s, a third of
    ``import numbax``, and most programs never evaluate these eagerly."""
    def impl(x):
        import scipy.special
        return getattr(scipy.special, name)(x).astype(x.dtype, copy=False)
    return impl


neg_p = naryop("neg", np.negative, NUMBERS, nargs=1)
sign_p = naryop("sign", np.sign, NUMBERS, nargs=1)
floor_p = naryop("floor", np.floor, FLOATS, nargs=1)
ceil_p = naryop("ceil", np.ceil, FLOATS, nargs=1)
round_p = naryop("round", _round_impl, FLOATS, nargs=1)
is_finite_p = naryop("is_finite", np.isfinite, FLOATS, result_dtype=bool_,
                     weak_follows_inputs=False, nargs=1)
exp_p = naryop("exp", np.exp, FLOATS, nargs=1)
exp2_p = naryop("exp2", np.exp2, FLOATS, nargs=1)
log_p = naryop("log", np.log, FLOATS, nargs=1)
log1p_p = naryop("log1p", np.log1p, FLOATS, nargs=1)
expm1_p = naryop("expm1", np.expm1, FLOATS, nargs=1)
tanh_p = naryop("tanh", np.tanh, FLOATS, nargs=1)
logistic_p = naryop("logistic", _scipy("expit"), FLOATS, nargs=1)
sin_p = naryop("sin", np.sin, FLOATS, nargs=1)
cos_p = naryop("cos", np.cos, FLOATS, nargs=1)
tan_p = naryop("tan", np.tan, FLOATS, nargs=1)
asin_p = naryop("asin", np.arcsin, FLOATS, nargs=1)
acos_p = naryop("acos", np.arccos, FLOATS, nargs=1)
atan_p = naryop("atan", np.arctan, FLOATS, nargs=1)
sinh_p = naryop("sinh", np.sinh, FLOATS, nargs=1)
cosh_p = naryop("cosh", np.cosh, FLOATS, nargs=1)
asinh_p = naryop("asinh", np.arcsinh, FLOATS, nargs=1)
acosh_p = naryop("acosh", np.arccosh, FLOATS, nargs=1)
atanh_p = naryop("atanh", np.arctanh, FLOATS, nargs=1)
sqrt_p = naryop("sqrt", np.sqrt, FLOATS, nargs=1)
rsqrt_p = naryop("rsqrt", lambda x: np.reciprocal(np.sqrt(x)), FLOATS, nargs=1)
cbrt_p = naryop("cbrt", np.cbrt, FLOATS, nargs=1)
square_p = naryop("square", np.square, NUMBERS, nargs=1)
abs_p = naryop("abs", np.abs, NUMBERS, nargs=1)
not_p = naryop("not", np.invert, INTS_AND_BOOL, nargs=1)
erf_p = naryop("erf", _scipy("erf"), FLOATS, nargs=1)
erfc_p = naryop("erfc", _scipy("erfc"), FLOATS, nargs=1)
erf_inv_p = naryop("erf_inv", _scipy("erfinv"), FLOATS, nargs=1)
lgamma_p = naryop("lgamma", _scipy("gammaln"), FLOATS, nargs=1)
digamma_p = naryop("digamma", _scipy("digamma"), FLOATS, nargs=1)
integer_pow_p = naryop("integer_pow", _integer_pow_impl, NUMBERS, nargs=1)
stop_gradient_p = naryop("stop_gradient", lambda x: x, ALL, nargs=1)
population_count_p = naryop("population_count", lambda x: np.bitwise_count(x).astype(x.dtype),
                            INTEGERS, nargs=1)


# --- binary math -------------------------------------------------------------------

def _div_impl(x, y):
    if x.dtype.kind == "f":
        return np.divide(x, y)
    # lax.div on integers rounds toward zero (C semantics), unlike NumPy's //.
    quotient = np.floor_divide(x, y)
    remainder = np.remainder(x, y)
    fix = (remainder != 0) & ((x < 0) != (y < 0)) if x.dtype.kind == "i" else False
    return (quotient + fix).astype(x.dtype, copy=False)


def _pow_impl(x, y):
    return np.power(x, y)


add_p = naryop("add", np.add, NUMBERS, nargs=2)
sub_p = naryop("sub", np.subtract, NUMBERS, nargs=2)
mul_p = naryop("mul", np.multiply, NUMBERS, nargs=2)
div_p = naryop("div", _div_impl, NUMBERS, nargs=2)
rem_p = naryop("rem", np.fmod, NUMBERS, nargs=2)
pow_p = naryop("pow", _pow_impl, FLOATS, nargs=2)
max_p = naryop("max", np.maximum, ALL, nargs=2)
min_p = naryop("min", np.minimum, ALL, nargs=2)
atan2_p = naryop("atan2", np.arctan2, FLOATS, nargs=2)
nextafter_p = naryop("nextafter", np.nextafter, FLOATS, nargs=2)
and_p = naryop("and", np.bitwise_and, INTS_AND_BOOL, nargs=2)
or_p = naryop("or", np.bitwise_or, INTS_AND_BOOL, nargs=2)
xor_p = naryop("xor", np.bitwise_xor, INTS_AND_BOOL, nargs=2)


def _comparison(name, impl):
    return naryop(name, impl, ALL, result_dtype=bool_, weak_follows_inputs=False, nargs=2)


eq_p = _comparison("eq", np.equal)
ne_p = _comparison("ne", np.not_equal)
lt_p = _comparison("lt", np.less)
le_p = _comparison("le", np.less_equal)
gt_p = _comparison("gt", np.greater)
ge_p = _comparison("ge", np.greater_equal)


# Shifts by an amount outside [0, bits) give 0 (or the sign for arithmetic
# right shifts), as XLA defines them; NumPy leaves that to the C compiler.
def _shift_left_impl(x, y):
    bits = x.dtype.itemsize * 8
    in_range = (y >= 0) & (y < bits)
    return np.where(in_range, np.left_shift(x, np.where(in_range, y, 0)), 0).astype(x.dtype, copy=False)


def _shift_right_arithmetic_impl(x, y):
    bits = x.dtype.itemsize * 8
    amount = np.where((y >= 0) & (y < bits), y, bits - 1)
    if x.dtype.kind == "u":
        return _shift_right_logical_impl(x, y)
    return np.right_shift(x, amount).astype(x.dtype, copy=False)


def _shift_right_logical_impl(x, y):
    bits = x.dtype.itemsize * 8
    unsigned = np.dtype(f"u{x.dtype.itemsize}")
    in_range = (y >= 0) & (y < bits)
    # Same-width casts between signed and unsigned wrap modulo 2**bits, so
    # they reinterpret the bits.
    shifted = np.right_shift(x.astype(unsigned), np.where(in_range, y, 0).astype(unsigned))
    return np.where(in_range, shifted, 0).astype(unsigned).astype(x.dtype)


shift_left_p = naryop("shift_left", _shift_left_impl, INTEGERS, nargs=2)
shift_right_arithmetic_p = naryop("shift_right_arithmetic", _shift_right_arithmetic_impl, INTEGERS, nargs=2)
shift_right_logical_p = naryop("shift_right_logical", _shift_right_logical_impl, INTEGERS, nargs=2)


# --- select_n and clamp ---------------------------------------------------------------

def _select_n_abstract_eval(which, *cases):
    if not cases:
        raise NumbaxTypeError("select_n requires at least one case.")
    if which.dtype != bool_ and which.dtype not in (dtypes.int32, dtypes.uint32, dtypes.int64, dtypes.uint64):
        raise shape_error("select_n", "requires a bool or int32 predicate", which)
    if which.dtype == bool_ and len(cases) > 2:
        raise shape_error("select_n", "with a bool predicate takes at most two cases", which, *cases)
    if len({c.dtype for c in cases}) > 1:
        raise shape_error("select_n", "requires all cases to have the same dtype", *cases)
    if len({c.shape for c in cases}) > 1:
        raise shape_error("select_n", "requires all cases to have the same shape", *cases)
    if which.shape and which.shape != cases[0].shape:
        raise shape_error("select_n", "requires the predicate to be a scalar or have the "
                          "cases' shape", which, *cases)
    return ShapedArray(cases[0].shape, cases[0].dtype, all(c.weak_type for c in cases))


def _select_n_impl(which, *cases):
    if len(cases) == 1:
        return cases[0]
    if which.dtype == bool_:
        return np.where(which, cases[1], cases[0])
    return np.choose(np.clip(which, 0, len(cases) - 1), cases)


select_n_p = standard_primitive("select_n", _select_n_abstract_eval, _select_n_impl)


def _clamp_abstract_eval(lo, x, hi):
    if len({lo.dtype, x.dtype, hi.dtype}) > 1:
        raise shape_error("clamp", "requires min, operand and max to share a dtype", lo, x, hi)
    for bound in (lo, hi):
        if bound.shape and bound.shape != x.shape:
            raise shape_error("clamp", "requires min and max to be scalars or have the "
                              "operand's shape", lo, x, hi)
    return ShapedArray(x.shape, x.dtype, x.weak_type)


clamp_p = standard_primitive("clamp", _clamp_abstract_eval,
                             lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi))


# --- conversions and iota ---------------------------------------------------------------

def _convert_element_type_abstract_eval(x, new_dtype, weak_type):
    return ShapedArray(x.shape, new_dtype, weak_type)


def _convert_element_type_impl(x, new_dtype, weak_type):
    if x.dtype.kind == "f" and np.dtype(new_dtype).kind in "iu":
        # float -> int truncates toward zero; NaN gives 0 and out-of-range
        # values saturate, as XLA does (NumPy's result there is undefined).
        info = np.iinfo(new_dtype)
        with np.errstate(all="ignore"):
            clipped = np.clip(np.nan_to_num(np.trunc(x), nan=0.0), info.min, info.max)
            return np.where(clipped >= float(info.max), info.max, clipped.astype(new_dtype)).astype(new_dtype)
    if np.dtype(new_dtype) == bool_:
        return x != 0
    return x.astype(new_dtype)


convert_element_type_p = standard_primitive(
    "convert_element_type", _convert_element_type_abstract_eval, _convert_element_type_impl)


def _bitcast_convert_type_abstract_eval(x, new_dtype):
    old, new = x.dtype.itemsize, np.dtype(new_dtype).itemsize
    if old == new:
        return ShapedArray(x.shape, new_dtype)
    if old > new:
        if old % new:
            raise shape_error("bitcast_convert_type", f"cannot convert to {new_dtype}", x)
        return ShapedArray(x.shape + (old // new,), new_dtype)
    if not x.shape or x.shape[-1] != new // old:
        raise shape_error("bitcast_convert_type", f"to the wider {np.dtype(new_dtype).name} needs a "
                          f"last axis of size {new // old}", x)
    return ShapedArray(x.shape[:-1], new_dtype)


def _bitcast_convert_type_impl(x, new_dtype):
    new_dtype = np.dtype(new_dtype)
    old, new = x.dtype.itemsize, new_dtype.itemsize
    contiguous = np.ascontiguousarray(x)
    if old > new:
        return contiguous.reshape(x.shape + (1,)).view(new_dtype).reshape(x.shape + (old // new,))
    return contiguous.view(new_dtype).reshape(x.shape[:-1] if old < new else x.shape)


bitcast_convert_type_p = standard_primitive(
    "bitcast_convert_type", _bitcast_convert_type_abstract_eval, _bitcast_convert_type_impl)


def _iota_abstract_eval(*, dtype, shape, dimension):
    if not 0 <= dimension < len(shape):
        raise NumbaxTypeError(f"iota: dimension {dimension} is out of range for shape {shape}.")
    return ShapedArray(shape, dtype)


def _iota_impl(*, dtype, shape, dimension):
    line = np.arange(shape[dimension], dtype=dtype)
    return np.broadcast_to(line.reshape([-1 if d == dimension else 1 for d in range(len(shape))]), shape)


iota_p = standard_primitive("iota", _iota_abstract_eval, _iota_impl)


# --- public wrappers ---------------------------------------------------------------------

def _unary(prim):
    def op(x):
        return prim.bind(*coerce_scalars(x))
    op.__name__ = prim.name
    op.__doc__ = (f"Elementwise ``{prim.name}``: array of any shape -> same shape and dtype"
                  f"{' (bool)' if prim in (is_finite_p,) else ''}.")
    return op


def _binary(prim):
    def op(x, y):
        return prim.bind(*coerce_scalars(x, y))
    op.__name__ = prim.name
    op.__doc__ = (f"Elementwise ``{prim.name}`` of two arrays of one dtype; shapes must have equal "
                  "rank with sizes equal or 1 (or be rank 0). Python scalars take the array's dtype.")
    return op


neg, sign, floor, ceil, is_finite = map(_unary, (neg_p, sign_p, floor_p, ceil_p, is_finite_p))
exp, exp2, log, log1p, expm1 = map(_unary, (exp_p, exp2_p, log_p, log1p_p, expm1_p))
tanh, logistic, sin, cos, tan = map(_unary, (tanh_p, logistic_p, sin_p, cos_p, tan_p))
asin, acos, atan, sinh, cosh = map(_unary, (asin_p, acos_p, atan_p, sinh_p, cosh_p))
asinh, acosh, atanh, sqrt, rsqrt = map(_unary, (asinh_p, acosh_p, atanh_p, sqrt_p, rsqrt_p))
cbrt, square, abs, bitwise_not = map(_unary, (cbrt_p, square_p, abs_p, not_p))  # noqa: A001
erf, erfc, erf_inv, lgamma, digamma = map(_unary, (erf_p, erfc_p, erf_inv_p, lgamma_p, digamma_p))
population_count = _unary(population_count_p)
add, sub, mul, div, rem, pow = map(_binary, (add_p, sub_p, mul_p, div_p, rem_p, pow_p))  # noqa: A001
max, min, atan2, nextafter = map(_binary, (max_p, min_p, atan2_p, nextafter_p))  # noqa: A001
bitwise_and, bitwise_or, bitwise_xor = map(_binary, (and_p, or_p, xor_p))
eq, ne, lt, le, gt, ge = map(_binary, (eq_p, ne_p, lt_p, le_p, gt_p, ge_p))
shift_left, shift_right_arithmetic, shift_right_logical = map(
    _binary, (shift_left_p, shift_right_arithmetic_p, shift_right_logical_p))


class RoundingMethod:
    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


def round(x, rounding_method=RoundingMethod.AWAY_FROM_ZERO):  # noqa: A001
    """Round to integral values; ``rounding_method`` 0 rounds halves away from
    zero (the default, as XLA), 1 to nearest even. Same shape and dtype."""
    return round_p.bind(*coerce_scalars(x), rounding_method=int(rounding_method))


def integer_pow(x, y):
    """``x ** y`` for a static Python int ``y`` (negative only for floats)."""
    if not isinstance(y, (int, np.integer)):
        raise TypeError(f"integer_pow: the exponent y must be a Python int, got {type(y).__name__}; "
                        "use lax.pow for array exponents.")
    (x,) = coerce_scalars(x)
    if y < 0 and not dtypes.is_float(x.dtype):
        raise TypeError(f"integer_pow: a negative exponent ({y}) needs a float operand, got {x.dtype}.")
    return integer_pow_p.bind(x, y=int(y))


def stop_gradient(x):
    """The identity on values, with zero derivative: gradients do not flow
    into ``x`` (any pytree of arrays)."""
    from ..tree_util import tree_map
    return tree_map(lambda leaf: stop_gradient_p.bind(*coerce_scalars(leaf)), x)


def select_n(which, *cases):
    """``cases[which]`` elementwise: ``which`` is bool (2 cases) or int32 (any
    number, clamped), a scalar or of the cases' shape."""
    return select_n_p.bind(*coerce_scalars(which), *coerce_scalars(*cases))


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` else ``on_false`` (JAX's older name for select_n)."""
    return select_n(pred, on_false, on_true)


def clamp(min, x, max):  # noqa: A002
    """``x`` limited to ``[min, max]``; bounds are scalars or of ``x``'s shape."""
    lo, x, hi = coerce_scalars(min, x, max)
    return clamp_p.bind(lo, x, hi)


def convert_element_type(operand, new_dtype, weak_type=False):
    """Cast to ``new_dtype`` (canonicalized by the x64 flag); same shape.
    Float-to-int conversion truncates toward zero and saturates."""
    new_dtype = dtypes.canonicalize_dtype(new_dtype)
    if not isinstance(operand, (ArrayImpl,)) and not hasattr(operand, "aval"):
        value = np.asarray(operand)
        return ArrayImpl(_convert_element_type_impl(value, new_dtype, weak_type)
                         if value.dtype != new_dtype else value.astype(new_dtype), bool(weak_type))
    aval = operand.aval
    if aval.dtype == new_dtype and aval.weak_type == bool(weak_type):
        return operand
    return convert_element_type_p.bind(operand, new_dtype=new_dtype, weak_type=bool(weak_type))


def bitcast_convert_type(operand, new_dtype):
    """Reinterpret the bits as ``new_dtype``. Equal widths keep the shape; a
    narrower type adds a trailing axis, a wider one consumes it."""
    (operand,) = coerce_scalars(operand)
    new_dtype = dtypes.canonicalize_dtype(new_dtype)
    if operand.dtype == new_dtype:
        return operand
    return bitcast_convert_type_p.bind(operand, new_dtype=new_dtype)


def iota(dtype, size):
    """``[0, 1, ..., size-1]`` of ``dtype``: shape ``(size,)``."""
    return iota_p.bind(dtype=dtypes.canonicalize_dtype(dtype), shape=(int(size),), dimension=0)


def broadcasted_iota(dtype, shape, dimension):
    """An array of ``shape`` counting along ``dimension``."""
    shape = tuple(int(d) for d in shape)
    return iota_p.bind(dtype=dtypes.canonicalize_dtype(dtype), shape=shape, dimension=int(dimension) % len(shape))


__all__ = [
    "neg", "sign", "floor", "ceil", "round", "is_finite", "exp", "exp2", "log", "log1p", "expm1",
    "tanh", "logistic", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
    "atanh", "sqrt", "rsqrt", "cbrt", "square", "abs", "bitwise_not", "erf", "erfc", "erf_inv",
    "lgamma", "digamma", "population_count", "integer_pow", "add", "sub", "mul", "div", "rem", "pow",
    "max", "min", "atan2", "nextafter", "bitwise_and", "bitwise_or", "bitwise_xor", "eq", "ne", "lt",
    "le", "gt", "ge", "shift_left", "shift_right_arithmetic", "shift_right_logical", "select_n",
    "select", "clamp", "stop_gradient", "convert_element_type", "bitcast_convert_type", "iota", "broadcasted_iota",
    "RoundingMethod",
]


# --- differentiation rules -----------------------------------------------------------------
# Tangent formulas per operand (interpreters/jvp.py: defjvp gets the tangent g
# and the primals, defjvp2 also the primal output). Kept together here so the
# math reads as a table; each references only the primitives above.

from ..interpreters import jvp as _ad  # noqa: E402


def _const(x, value):
    """``value`` as a 0-d array of ``x``'s dtype (a literal in jaxprs)."""
    return ArrayImpl(np.array(value, dtype=x.dtype))


def _out_shape(*operands):
    shapes = [tuple(o.shape) for o in operands if o.shape]
    return shapes and tuple(builtins.max(d) for d in zip(*shapes)) or ()


def _broadcast_like(g, *operands):
    """``g`` broadcast to the elementwise result shape of ``operands``."""
    from .shape import broadcast_in_dim
    shape = _out_shape(*operands)
    if tuple(g.shape) == shape:
        return g
    return broadcast_in_dim(g, shape, tuple(range(g.ndim)) if g.ndim else ())


def unbroadcast(ct, aval):
    """Sum a cotangent back down to an operand's shape (the transpose of the
    implicit rank-0 / size-1 broadcasting of elementwise primitives)."""
    from .reduce import reduce_sum
    from .shape import reshape
    if tuple(ct.shape) == aval.shape:
        return ct
    if not aval.shape:
        return reduce_sum(ct, tuple(range(ct.ndim)))
    axes = tuple(i for i, (a, c) in enumerate(zip(aval.shape, ct.shape)) if a == 1 and c != 1)
    return reshape(reduce_sum(ct, axes), aval.shape)


for _prim in (stop_gradient_p, sign_p, floor_p, ceil_p, round_p, is_finite_p, not_p, population_count_p, nextafter_p,
              and_p, or_p, xor_p, eq_p, ne_p, lt_p, le_p, gt_p, ge_p, shift_left_p,
              shift_right_arithmetic_p, shift_right_logical_p, bitcast_convert_type_p, iota_p):
    _ad.defjvp(_prim)  # piecewise constant or integer-valued: zero tangent

_ad.deflinear(neg_p, lambda ct, x: [neg(ct)])
_ad.defjvp2(exp_p, lambda g, ans, x: mul(g, ans))
_ad.defjvp2(exp2_p, lambda g, ans, x: mul(g, mul(ans, _const(x, np.log(2.0)))))
_ad.defjvp(log_p, lambda g, x: div(g, x))
_ad.defjvp(log1p_p, lambda g, x: div(g, add(x, _const(x, 1))))
_ad.defjvp2(expm1_p, lambda g, ans, x: mul(g, add(ans, _const(x, 1))))
_ad.defjvp2(tanh_p, lambda g, ans, x: mul(g, sub(_const(x, 1), mul(ans, ans))))
_ad.defjvp2(logistic_p, lambda g, ans, x: mul(g, mul(ans, sub(_const(x, 1), ans))))
_ad.defjvp(sin_p, lambda g, x: mul(g, cos(x)))
_ad.defjvp(cos_p, lambda g, x: neg(mul(g, sin(x))))
_ad.defjvp2(tan_p, lambda g, ans, x: mul(g, add(_const(x, 1), mul(ans, ans))))
_ad.defjvp(asin_p, lambda g, x: mul(g, rsqrt(sub(_const(x, 1), mul(x, x)))))
_ad.defjvp(acos_p, lambda g, x: neg(mul(g, rsqrt(sub(_const(x, 1), mul(x, x))))))
_ad.defjvp(atan_p, lambda g, x: div(g, add(_const(x, 1), mul(x, x))))
_ad.defjvp(sinh_p, lambda g, x: mul(g, cosh(x)))
_ad.defjvp(cosh_p, lambda g, x: mul(g, sinh(x)))
_ad.defjvp(asinh_p, lambda g, x: mul(g, rsqrt(add(mul(x, x), _const(x, 1)))))
_ad.defjvp(acosh_p, lambda g, x: mul(g, rsqrt(mul(sub(x, _const(x, 1)), add(x, _const(x, 1))))))
_ad.defjvp(atanh_p, lambda g, x: div(g, sub(_const(x, 1), mul(x, x))))
_ad.defjvp2(sqrt_p, lambda g, ans, x: div(g, mul(_const(x, 2), ans)))
_ad.defjvp2(rsqrt_p, lambda g, ans, x: mul(g, mul(_const(x, -0.5), div(ans, x))))
_ad.defjvp2(cbrt_p, lambda g, ans, x: mul(g, mul(_const(x, 1 / 3), integer_pow(ans, -2))))
_ad.defjvp(square_p, lambda g, x: mul(g, mul(_const(x, 2), x)))
_ad.defjvp(abs_p, lambda g, x: mul(g, sign(x)))
_ad.defjvp(erf_p, lambda g, x: mul(g, mul(_const(x, 2 / np.sqrt(np.pi)), exp(neg(mul(x, x))))))
_ad.defjvp(erfc_p, lambda g, x: mul(g, mul(_const(x, -2 / np.sqrt(np.pi)), exp(neg(mul(x, x))))))
_ad.defjvp2(erf_inv_p, lambda g, ans, x: mul(g, mul(_const(x, np.sqrt(np.pi) / 2), exp(mul(ans, ans)))))
_ad.defjvp(lgamma_p, lambda g, x: mul(g, digamma(x)))


def _integer_pow_jvp(g, x, *, y):
    if y == 0:
        return mul(g, _const(x, 0))
    power = {1: lambda: _const(x, 1), 2: lambda: x}.get(y, lambda: integer_pow(x, y - 1))()
    return mul(g, mul(_const(x, y), power))


_ad.defjvp(integer_pow_p, _integer_pow_jvp)


# Binary: tangents are broadcast to the result shape; transposes sum back.
def _add_transpose(ct, x, y):
    return [unbroadcast(ct, x.aval) if _ad_undefined(x) else None,
            unbroadcast(ct, y.aval) if _ad_undefined(y) else None]


def _sub_transpose(ct, x, y):
    return [unbroadcast(ct, x.aval) if _ad_undefined(x) else None,
            unbroadcast(neg(ct), y.aval) if _ad_undefined(y) else None]


def _mul_transpose(ct, x, y):
    if _ad_undefined(x):
        return [unbroadcast(mul(ct, y), x.aval), None]
    return [None, unbroadcast(mul(x, ct), y.aval)]


def _div_transpose(ct, x, y):
    if _ad_undefined(y):
        raise NotImplementedError("div is not linear in its denominator; cannot transpose it.")
    return [unbroadcast(div(ct, y), x.aval), None]


def _ad_undefined(x):
    from ..interpreters.transpose import is_undefined_primal
    return is_undefined_primal(x)


_ad.defjvp(add_p, lambda g, x, y: _broadcast_like(g, x, y), lambda g, x, y: _broadcast_like(g, x, y))
add_p.def_transpose(_add_transpose)
_ad.defjvp(sub_p, lambda g, x, y: _broadcast_like(g, x, y), lambda g, x, y: _broadcast_like(neg(g), x, y))
sub_p.def_transpose(_sub_transpose)
_ad.defjvp(mul_p, lambda g, x, y: mul(g, y), lambda g, x, y: mul(x, g))
mul_p.def_transpose(_mul_transpose)
_ad.defjvp2(div_p, lambda g, ans, x, y: div(_broadcast_like(g, x, y), y),
            lambda g, ans, x, y: neg(mul(g, div(ans, y))))
div_p.def_transpose(_div_transpose)
_ad.defjvp(rem_p, lambda g, x, y: _broadcast_like(g, x, y),
           lambda g, x, y: mul(neg(g), mul(sign(div(x, y)), floor(abs(div(x, y))))))


def _pow_jvp_base(g, x, y):
    # d/dx x**y = y * x**(y-1); written with select so x = 0, y = 0 gives 0 (not nan).
    zero = _const(x, 0)
    y_minus_1 = sub(y, _const(y, 1))
    dx = mul(y, pow(*_same_shape(x, y_minus_1)))
    return mul(g, select_n(eq(y, zero), dx, _broadcast_like(zero, dx)))


def _pow_jvp_exponent(g, ans, x, y):
    zero = _const(x, 0)
    safe_log = log(select_n(eq(x, zero), x, _broadcast_like(_const(x, 1), x)))
    return mul(g, mul(ans, safe_log))


def _same_shape(x, y):
    return _broadcast_like(x, x, y), _broadcast_like(y, x, y)


def _pow_jvp(primals, tangents):
    x, y = primals
    gx, gy = tangents
    ans = pow(x, y)
    out = _ad.Zero(_ad.tangent_aval(ans.aval))
    if type(gx) is not _ad.Zero:
        out = _ad.add_tangents(out, _pow_jvp_base(gx, x, y))
    if type(gy) is not _ad.Zero:
        out = _ad.add_tangents(out, _pow_jvp_exponent(gy, ans, x, y))
    return ans, out


pow_p.def_jvp(_pow_jvp)


def _minmax_jvp(pick):
    # Balanced at ties, as JAX: each side gets half of the tangent.
    def tangent(g, x, y):
        g = _broadcast_like(g, x, y)
        xb, yb = _same_shape(x, y)
        half, one, zero = _const(g, 0.5), _const(g, 1.0), _const(g, 0.0)
        weight = select_n(pick(xb, yb), select_n(eq(xb, yb), _broadcast_like(zero, g), _broadcast_like(half, g)),
                          _broadcast_like(one, g))
        return mul(g, weight)
    return tangent


_ad.defjvp(max_p, _minmax_jvp(gt), lambda g, x, y: _minmax_jvp(gt)(g, y, x))
_ad.defjvp(min_p, _minmax_jvp(lt), lambda g, x, y: _minmax_jvp(lt)(g, y, x))
_ad.defjvp(atan2_p,
           lambda g, x, y: mul(g, div(y, add(mul(x, x), mul(y, y)))),
           lambda g, x, y: mul(g, neg(div(x, add(mul(x, x), mul(y, y))))))


def _select_n_jvp(primals, tangents):
    which, *cases = primals
    out = select_n(which, *cases)
    if all(type(t) is _ad.Zero for t in tangents[1:]):
        return out, _ad.Zero(_ad.tangent_aval(out.aval))
    return out, select_n(which, *map(_ad.instantiate, tangents[1:]))


def _select_n_transpose(ct, which, *cases):
    zeros = _ad.zeros_like_aval(ct.aval)
    cts = [None]
    for i, case in enumerate(cases):
        if _ad_undefined(case):
            branches = [zeros] * len(cases)
            branches[i] = ct
            cts.append(select_n(which, *branches))
        else:
            cts.append(None)
    return cts


select_n_p.def_jvp(_select_n_jvp)
select_n_p.def_transpose(_select_n_transpose)
_ad.defjvp(clamp_p,
           lambda g, lo, x, hi: select_n(lt(x, lo), _broadcast_like(g, x), _ad.zeros_like_aval(x.aval)),
           lambda g, lo, x, hi: select_n(bitwise_and(ge(x, lo), le(x, hi)), _ad.zeros_like_aval(x.aval), g),
           lambda g, lo, x, hi: select_n(lt(hi, x), _ad.zeros_like_aval(x.aval), _broadcast_like(g, x)))


def _convert_element_type_jvp(primals, tangents, *, new_dtype, weak_type):
    (x,), (g,) = primals, tangents
    out = convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type)
    if type(g) is _ad.Zero or not (dtypes.is_float(x.dtype) and dtypes.is_float(new_dtype)):
        return out, _ad.Zero(_ad.tangent_aval(out.aval))
    return out, convert_element_type_p.bind(g, new_dtype=new_dtype, weak_type=False)


def _convert_element_type_transpose(ct, x, *, new_dtype, weak_type):
    return [convert_element_type_p.bind(ct, new_dtype=x.aval.dtype, weak_type=False)]


convert_element_type_p.def_jvp(_convert_element_type_jvp)
convert_element_type_p.def_transpose(_convert_element_type_transpose)


# --- batching rules ------------------------------------------------------------------------
# Elementwise primitives batch by putting every batch axis first; unbatched
# operands gain a size-1 leading axis (which lax broadcasts), and batched
# rank-0 operands gain trailing size-1 axes to match the others' rank.

from ..interpreters import batching as _batching  # noqa: E402


def _elementwise_batch(prim):
    def rule(args, dims, **params):
        if len(args) == 1:
            return prim.bind(args[0], **params), dims[0]
        size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        rank = builtins.max(a.ndim - (d is not None) for a, d in zip(args, dims))
        aligned = []
        for a, d in zip(args, dims):
            from .shape import reshape
            if d is None:
                aligned.append(a if a.ndim == 0 else reshape(a, (1,) + tuple(a.shape)))
                continue
            a = _batching.bdim_at_front(a, d, size)
            if a.ndim - 1 < rank:
                a = reshape(a, (size,) + (1,) * rank)
            aligned.append(a)
        return prim.bind(*aligned, **params), 0
    return rule


def _full_batch(prim):
    """Batch every operand at the front with its full shape (for primitives
    whose operands must agree exactly, like select_n and clamp)."""
    def rule(args, dims, **params):
        from .shape import broadcast_in_dim
        size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        shape = builtins.max((tuple(a.shape[:d]) + tuple(a.shape[d + 1:]) if d is not None else tuple(a.shape)
                              for a, d in zip(args, dims)), key=len)
        full = []
        for a, d in zip(args, dims):
            a = _batching.bdim_at_front(a, d, size)
            if tuple(a.shape[1:]) != shape:
                a = broadcast_in_dim(a, (size,) + shape, (0,) + tuple(range(1 + len(shape) - (a.ndim - 1),
                                                                            1 + len(shape))))
            full.append(a)
        return prim.bind(*full, **params), 0
    return rule


for _prim in (neg_p, sign_p, floor_p, ceil_p, round_p, is_finite_p, exp_p, exp2_p, log_p, log1p_p, expm1_p,
              tanh_p, logistic_p, sin_p, cos_p, tan_p, asin_p, acos_p, atan_p, sinh_p, cosh_p, asinh_p, acosh_p,
              atanh_p, sqrt_p, rsqrt_p, cbrt_p, square_p, abs_p, not_p, erf_p, erfc_p, erf_inv_p, lgamma_p,
              digamma_p, integer_pow_p, stop_gradient_p, population_count_p, add_p, sub_p, mul_p, div_p, rem_p,
              pow_p, max_p, min_p, atan2_p, nextafter_p, and_p, or_p, xor_p, eq_p, ne_p, lt_p, le_p, gt_p, ge_p,
              shift_left_p, shift_right_arithmetic_p, shift_right_logical_p, convert_element_type_p):
    _prim.def_batch(_elementwise_batch(_prim))
select_n_p.def_batch(_full_batch(select_n_p))
clamp_p.def_batch(_full_batch(clamp_p))


def _bitcast_convert_type_batch(args, dims, *, new_dtype):
    # Widening consumes the last axis, so keep the batch axis first.
    (x,), (d,) = args, dims
    x = _batching.bdim_at_front(x, d, x.shape[d])
    return bitcast_convert_type_p.bind(x, new_dtype=new_dtype), 0


bitcast_convert_type_p.def_batch(_bitcast_convert_type_batch)


# --- lowering (jit) --------------------------------------------------------------------------
# One template per primitive, over the operands' element expressions; the
# backend casts each result to the output dtype. Templates that depend on the
# dtype are small functions of (operands, eqn, index). ``rt`` is the backend's
# runtime module of scalar helpers (backends/cpu_runtime.py).

from ..backends.plan import Elementwise as _Elementwise  # noqa: E402


def _by_kind(float_template, int_template, bool_template=None):
    """A template choosing by the first operand's dtype kind."""
    def template(ops, eqn, index):
        kind = eqn.invars[0].aval.dtype.kind
        chosen = float_template if kind == "f" else (bool_template or int_template) if kind == "b" else int_template
        return chosen.format(*ops)
    return template


def _bits(eqn):
    return eqn.invars[0].aval.dtype.itemsize * 8


for _prim, _template in [
        (neg_p, "-{0}"), (sign_p, "rt.sign({0})"), (floor_p, "np.floor({0})"), (ceil_p, "np.ceil({0})"),
        (is_finite_p, "np.isfinite({0})"), (exp2_p, "np.exp2({0})"),
        (sqrt_p, "math.sqrt({0})"), (rsqrt_p, "1.0 / math.sqrt({0})"),
        (cbrt_p, "np.cbrt({0})"), (square_p, "{0} * {0}"), (abs_p, "abs({0})"),
        (erfc_p, "math.erfc({0})"),
        (lgamma_p, "math.lgamma({0})"), (digamma_p, "rt.digamma({0})"), (stop_gradient_p, "{0}"),
        (add_p, "{0} + {1}"), (sub_p, "{0} - {1}"), (mul_p, "{0} * {1}"),
        (nextafter_p, "np.nextafter({0}, {1})"),
        (and_p, "{0} & {1}"), (or_p, "{0} | {1}"), (xor_p, "{0} ^ {1}"),
        (eq_p, "{0} == {1}"), (ne_p, "{0} != {1}"), (lt_p, "{0} < {1}"), (le_p, "{0} <= {1}"),
        (gt_p, "{0} > {1}"), (ge_p, "{0} >= {1}")]:
    _prim.def_lowering(_template)

def _xmath_or(op, fallback, keep_f64=False):
    """A template calling the vectorizable ``xmath.<op>_f32``/``<op>_f64``
    kernel for float32/float64 operands (backends/xmath.py: libm calls stop
    LLVM's loop vectorizer), else ``fallback`` (libm, for float16 or where
    xmath's float64 version would only wrap libm: ``keep_f64``)."""
    def template(ops, eqn, index):
        dtype = eqn.invars[0].aval.dtype
        if dtype == np.float32 or (dtype == np.float64 and not keep_f64):
            return f"xmath.{op}_{'f32' if dtype == np.float32 else 'f64'}({', '.join(ops)})"
        return fallback.format(*ops)
    return template


for _prim, _op, _fallback, _keep_f64 in [
        (exp_p, "exp", "math.exp({0})", False), (expm1_p, "expm1", "math.expm1({0})", False),
        (log_p, "log", "math.log({0})", False), (log1p_p, "log1p", "math.log1p({0})", False),
        (tanh_p, "tanh", "math.tanh({0})", False),
        (logistic_p, "logistic", "1.0 / (1.0 + math.exp(-{0}))", False),
        (sin_p, "sin", "math.sin({0})", False), (cos_p, "cos", "math.cos({0})", False),
        (tan_p, "tan", "math.tan({0})", False), (asin_p, "asin", "math.asin({0})", False),
        (acos_p, "acos", "math.acos({0})", False), (atan_p, "atan", "math.atan({0})", False),
        (atan2_p, "atan2", "math.atan2({0}, {1})", False),
        (sinh_p, "sinh", "math.sinh({0})", False), (cosh_p, "cosh", "math.cosh({0})", False),
        (asinh_p, "asinh", "math.asinh({0})", False), (acosh_p, "acosh", "math.acosh({0})", False),
        (atanh_p, "atanh", "math.atanh({0})", False),
        # xmath's float64 erf and pow only wrap libm, and it has no float64 erf_inv.
        (erf_p, "erf", "math.erf({0})", True), (pow_p, "pow", "np.power({0}, {1})", True),
        (erf_inv_p, "erf_inv", "rt.erf_inv({0})", True)]:
    _prim.def_lowering(_Elementwise(_xmath_or(_op, _fallback, _keep_f64)))


not_p.def_lowering(_Elementwise(_by_kind("", "~{0}", "not {0}")))
div_p.def_lowering(_Elementwise(_by_kind("{0} / {1}", "rt.int_div({0}, {1})")))
rem_p.def_lowering(_Elementwise(_by_kind("np.fmod({0}, {1})", "rt.int_rem({0}, {1})")))
max_p.def_lowering(_Elementwise(_by_kind("rt.fmax({0}, {1})", "max({0}, {1})")))
min_p.def_lowering(_Elementwise(_by_kind("rt.fmin({0}, {1})", "min({0}, {1})")))
clamp_p.def_lowering(_Elementwise(
    lambda ops, eqn, index: (f"rt.fmin(rt.fmax({ops[1]}, {ops[0]}), {ops[2]})" if eqn.invars[1].aval.dtype.kind == "f"
                             else f"min(max({ops[1]}, {ops[0]}), {ops[2]})")))
round_p.def_lowering(_Elementwise(
    lambda ops, eqn, index: f"np.rint({ops[0]})" if eqn.params["rounding_method"] == 1 else f"rt.round_away({ops[0]})"))
population_count_p.def_lowering(_Elementwise(lambda ops, eqn, index: f"rt.popcount({ops[0]}, {_bits(eqn)})"))
shift_left_p.def_lowering(_Elementwise(lambda ops, eqn, index: f"rt.shift_left({ops[0]}, {ops[1]}, {_bits(eqn)})"))
shift_right_logical_p.def_lowering(_Elementwise(
    lambda ops, eqn, index: f"rt.shift_right_logical({ops[0]}, {ops[1]}, {_bits(eqn)}, {(1 << _bits(eqn)) - 1})"))
shift_right_arithmetic_p.def_lowering(_Elementwise(
    lambda ops, eqn, index: (f"rt.shift_right_arithmetic({ops[0]}, {ops[1]}, {_bits(eqn)})"
                             if eqn.invars[0].aval.dtype.kind == "i" else
                             f"rt.shift_right_logical({ops[0]}, {ops[1]}, {_bits(eqn)}, {(1 << _bits(eqn)) - 1})")))


def _integer_pow_lower(ops, eqn, index):
    y = eqn.params["y"]
    if y == 0:
        return "1"
    product = " * ".join([f"({ops[0]})"] * builtins.abs(y))
    return f"1.0 / ({product})" if y < 0 else product


integer_pow_p.def_lowering(_Elementwise(_integer_pow_lower))


def _select_n_lower(ops, eqn, index):
    which, cases = ops[0], ops[1:]
    if len(cases) == 1:
        return cases[0]
    if eqn.invars[0].aval.dtype == bool_:
        return f"({cases[1]} if {which} else {cases[0]})"
    expr = cases[-1]
    for k in range(len(cases) - 2, -1, -1):
        expr = f"({cases[k]} if {which} <= {k} else {expr})"
    return expr


select_n_p.def_lowering(_Elementwise(_select_n_lower))


def _convert_element_type_lower(ops, eqn, index):
    src, dst = eqn.invars[0].aval.dtype, np.dtype(eqn.params["new_dtype"])
    if dst == bool_:
        return f"({ops[0]} != 0)"
    if src.kind == "f" and dst.kind in "iu":
        info = np.iinfo(dst)
        return f"rt.float_to_int({ops[0]}, {int(info.min)}, {int(info.max)})"
    return ops[0]


convert_element_type_p.def_lowering(_Elementwise(_convert_element_type_lower))
iota_p.def_lowering(_Elementwise(lambda ops, eqn, index: index[eqn.params["dimension"]]))


def _bitcast_convert_type_lower(ctx, eqn):
    (x,), (out,) = eqn.invars, eqn.outvars
    old, new = x.aval.dtype.itemsize, np.dtype(eqn.params["new_dtype"]).itemsize
    source = ctx.array(x) if x.aval.shape else f"rt.full((1,), {ctx.read(x)}, {ctx.dtype(x)})"
    flat = f"{source}.reshape({builtins.max(x.aval.size, 1)}).view({ctx.dtype(out)})"
    if out.aval.shape:
        ctx.define(out, f"{flat}.reshape({tuple(out.aval.shape)})")
    else:
        ctx.bind_name(out, ctx.fresh("s"))
        ctx.emit(f"{ctx.read(out)} = {flat}[0]")
    del old, new


bitcast_convert_type_p.def_lowering(_bitcast_convert_type_lower, "cpu")
