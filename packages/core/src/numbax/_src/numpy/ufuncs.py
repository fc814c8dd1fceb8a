"""Elementwise ``numbax.numpy`` functions, written in terms of ``lax``.

Binary functions promote dtypes (JAX's lattice, weak Python scalars) and
broadcast NumPy-style. Functions that are one primitive after promotion come
from the ``_unary``/``_binary`` factories, whose fast path sends concrete
arrays of an accepted dtype straight to the primitive: this keeps eager
dispatch near a bare NumPy call. The rest are compositions of ``lax`` ops.

Constants are passed to ``lax`` as Python scalars, so they take the other
operand's dtype weakly and a weakly typed input gives a weakly typed result,
as in JAX.
"""

import operator

import numpy as np

from .. import core, dtypes
from ..array import ArrayImpl
from ..errors import user_source_line
from ..lax import elementwise as lax
from ..lax import shape as lax_shape
from ..lax.utils import coerce_scalars
from .util import (broadcast_shapes, check_arraylike, convert, ensure_array, promote_args,
                   promote_args_inexact, promote_dtypes, promote_dtypes_inexact,
                   promote_shapes)

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "remainder", "mod",
    "fmod", "divmod", "power", "float_power", "negative", "positive", "abs", "absolute", "sign",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "square", "reciprocal",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "deg2rad", "rad2deg", "degrees", "radians", "hypot", "floor", "ceil",
    "trunc", "fix", "round", "around", "rint", "clip", "maximum", "minimum", "fmax", "fmin", "where",
    "isnan", "isinf", "isfinite", "isposinf", "isneginf", "nan_to_num", "logaddexp", "logaddexp2",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "invert", "bitwise_count", "left_shift", "right_shift", "copysign", "signbit",
    "heaviside", "sinc", "ldexp", "frexp", "gcd", "lcm", "isclose", "allclose", "array_equal",
    "array_equiv", "select", "conj", "conjugate", "real", "imag", "astype", "interp",
]

_FLOATS = frozenset(dtypes.FLOATS)
_INTEGERS = frozenset(dtypes.INTEGERS)
_NUMBERS = frozenset(dtypes.NUMBERS)
_INTS_AND_BOOL = _INTEGERS | {dtypes.bool_}
_ALL = frozenset(dtypes.ALL)


# --- helpers ------------------------------------------------------------------------

def _kinds(accepted):
    words = [word for word, group in (("floating", _FLOATS), ("integer", _INTEGERS),
                                      ("bool", {dtypes.bool_})) if accepted & group]
    return " or ".join(words)


def _dtype_error(name, dtype, accepted, hint=""):
    return TypeError(f"{name} does not accept {np.dtype(dtype).name} arguments; it takes "
                     f"{_kinds(accepted)} arrays.{' ' + hint if hint else ''}{user_source_line()}")


def _to_default_int(*args):
    # NumPy arithmetic that has no bool meaning computes on the default int.
    dtype = dtypes.default_int_dtype()
    return [convert(x, dtype) for x in args]


def _identity(x):
    return x


def _broadcast_to(x, shape):
    if tuple(x.shape) == shape:
        return x
    return lax_shape.broadcast_in_dim(x, shape, tuple(range(len(shape) - x.ndim, len(shape))))


def _select(pred, on_true, on_false):
    """``where`` on lax-level operands: ``on_true`` and ``on_false`` share a
    dtype, or one is a Python scalar that takes the other's dtype weakly.
    Shapes broadcast NumPy-style to the result."""
    on_true, on_false = coerce_scalars(on_true, on_false) if isinstance(on_true, core.Array) \
        else coerce_scalars(on_false, on_true)[::-1]
    shape = broadcast_shapes(pred.shape, on_true.shape, on_false.shape, fun_name="where")
    if pred.shape:
        pred = _broadcast_to(pred, shape)
    return lax.select_n_p.bind(pred, _broadcast_to(on_false, shape), _broadcast_to(on_true, shape))


def _full_like(x, value, dtype):
    return lax_shape.broadcast_in_dim(ArrayImpl(np.array(value, dtype=dtype)), tuple(x.shape), ())


def _as_bool(x):
    return x if x.dtype == dtypes.bool_ else lax.ne(x, 0)


def _is_float(x):
    return x.dtype.kind == "f"


# --- the factories ----------------------------------------------------------------------
# Eagerly, when the operands already agree (one accepted dtype, shapes equal
# or rank 0, or a Python scalar that JAX's promotion lets defer to the array's
# dtype), promotion would change nothing and the abstract rules hold
# trivially: the factories then run the primitive's NumPy impl directly, which
# is exactly what binding it in the eager trace would do, minus the dispatch.

def _weak_scalar(x, dtype):
    """``x`` as a NumPy scalar of ``dtype`` if it is a Python int or float that
    promotion would convert to ``dtype``, else None."""
    kind = type(x)
    if kind is float and dtype.kind == "f" or kind is int and dtype.kind in "iuf":
        try:
            return dtype.type(x)
        except OverflowError:  # the slow path wraps it, as JAX does
            return None
    return None


def _binary(prim, name, accepted, inexact=False, on_bool=None, hint="", doc=None, weak_result=True):
    """A NumPy binary function that is ``prim`` after promotion. ``accepted``:
    the dtypes ``prim`` takes; ``inexact``: integers promote to float first;
    ``on_bool(x1, x2)`` computes bool operands (else they are an error);
    ``weak_result``: whether weak inputs give a weak result (not for comparisons)."""
    promote = promote_args_inexact if inexact else promote_args
    impl = prim.impl

    def fn(x1, x2, /):
        if type(x1) is ArrayImpl and core.trace_state.trace.is_eager:
            v1 = x1._value
            if v1.dtype in accepted:
                if type(x2) is ArrayImpl:
                    v2 = x2._value
                    if v2.dtype is v1.dtype and (v1.shape == v2.shape or not v1.shape or not v2.shape):
                        out = impl(v1, v2)
                        return ArrayImpl(out if type(out) is np.ndarray else np.asarray(out),
                                         weak_result and x1.weak_type and x2.weak_type)
                else:
                    v2 = _weak_scalar(x2, v1.dtype)
                    if v2 is not None:
                        out = impl(v1, v2)
                        return ArrayImpl(out if type(out) is np.ndarray else np.asarray(out),
                                         weak_result and x1.weak_type)
        elif type(x2) is ArrayImpl and core.trace_state.trace.is_eager:
            v2 = x2._value
            v1 = _weak_scalar(x1, v2.dtype) if v2.dtype in accepted else None
            if v1 is not None:
                out = impl(v1, v2)
                return ArrayImpl(out if type(out) is np.ndarray else np.asarray(out),
                                 weak_result and x2.weak_type)
        x1, x2 = promote(name, x1, x2)
        if x1.dtype not in accepted:
            if on_bool is not None and x1.dtype == dtypes.bool_:
                return on_bool(x1, x2)
            raise _dtype_error(name, x1.dtype, accepted, hint)
        return prim.bind(x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or (
        f"Elementwise ``{name}`` with NumPy broadcasting and JAX type promotion.\n\n"
        f"Args:\n  x1, x2: {_kinds(accepted if not inexact else _ALL)} arrays or scalars whose "
        "shapes broadcast together.\n\nReturns:\n  Array of the broadcast shape and the promoted "
        "dtype" + (" (integers and bools promote to float)." if inexact else "."))
    return fn


def _unary(prim, name, accepted, inexact=False, on_other=None, hint="", doc=None, weak_result=True):
    """A NumPy unary function that is ``prim`` after promotion; ``on_other(x)``
    computes dtypes ``prim`` does not take (else they are an error)."""
    promote = promote_args_inexact if inexact else promote_args
    impl = prim.impl

    def fn(x, /):
        if type(x) is ArrayImpl and x._value.dtype in accepted and core.trace_state.trace.is_eager:
            out = impl(x._value)
            return ArrayImpl(out if type(out) is np.ndarray else np.asarray(out),
                             weak_result and x.weak_type)
        (x,) = promote(name, x)
        if x.dtype not in accepted:
            if on_other is not None:
                return on_other(x)
            raise _dtype_error(name, x.dtype, accepted, hint)
        return prim.bind(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or (
        f"Elementwise ``{name}``.\n\nArgs:\n  x: array or scalar.\n\nReturns:\n  Array of ``x``'s "
        "shape and dtype" + (" (integers and bools promote to float)." if inexact else "."))
    return fn


# --- arithmetic ------------------------------------------------------------------------

add = _binary(lax.add_p, "add", _NUMBERS, on_bool=lax.or_p.bind)
subtract = _binary(lax.sub_p, "subtract", _NUMBERS,
                   hint="For bools use logical_xor, or convert with x.astype(int).")
multiply = _binary(lax.mul_p, "multiply", _NUMBERS, on_bool=lax.and_p.bind)
true_divide = _binary(lax.div_p, "true_divide", _FLOATS, inexact=True)
divide = true_divide
fmod = _binary(lax.rem_p, "fmod", _NUMBERS,
               on_bool=lambda x1, x2: lax.rem_p.bind(*_to_default_int(x1, x2)),
               doc="Elementwise remainder of ``x1 / x2`` with the sign of ``x1`` (C's fmod).\n\n"
                   "Args:\n  x1, x2: arrays or scalars whose shapes broadcast together.\n\n"
                   "Returns:\n  Array of the broadcast shape and the promoted dtype.")


def _divmod_promoted(x1, x2):
    """Floor quotient and remainder with Python's sign rules, from lax's
    truncating ``div``/``rem``: where the truncated remainder is nonzero and
    its sign differs from the divisor's, step the quotient down by one."""
    remainder_ = lax.rem(x1, x2)
    if x1.dtype.kind == "u":
        return lax.div(x1, x2), remainder_
    fix = lax.bitwise_and(lax.ne(remainder_, 0), lax.ne(lax.lt(remainder_, 0), lax.lt(x2, 0)))
    if x1.dtype.kind in "iu":
        quotient = lax.div(x1, x2)
        return _select(fix, lax.sub(quotient, 1), quotient), _select(fix, lax.add(remainder_, x2), remainder_)
    # Floats: (x1 - fmod(x1, x2)) / x2 is an integer up to rounding, as in
    # NumPy's divmod; dividing by zero gives what x1 / x2 gives.
    quotient = lax.div(lax.sub(x1, remainder_), x2)
    quotient = lax.round(_select(fix, lax.sub(quotient, 1), quotient), lax.RoundingMethod.TO_NEAREST_EVEN)
    quotient = _select(lax.eq(x2, 0), lax.div(x1, x2), quotient)
    return quotient, _select(fix, lax.add(remainder_, x2), remainder_)


def _promote_for_divmod(name, x1, x2):
    x1, x2 = promote_args(name, x1, x2)
    if x1.dtype == dtypes.bool_:
        x1, x2 = _to_default_int(x1, x2)
    return x1, x2


def floor_divide(x1, x2, /):
    """Elementwise ``x1 // x2``: the quotient rounded toward minus infinity.

    Args:
      x1, x2: arrays or scalars whose shapes broadcast together.

    Returns:
      Array of the broadcast shape and promoted dtype (bools compute as int).
      Integer division by zero gives 0; float division by zero gives +-inf/nan.
    """
    return _divmod_promoted(*_promote_for_divmod("floor_divide", x1, x2))[0]


def remainder(x1, x2, /):
    """Elementwise ``x1 % x2`` with the sign of ``x2`` (Python's rule).

    Args:
      x1, x2: arrays or scalars whose shapes broadcast together.

    Returns:
      Array of the broadcast shape and promoted dtype (bools compute as int).
    """
    return _divmod_promoted(*_promote_for_divmod("remainder", x1, x2))[1]


mod = remainder


def divmod(x1, x2, /):  # noqa: A001
    """``(floor_divide(x1, x2), remainder(x1, x2))``, computed together.

    Args:
      x1, x2: arrays or scalars whose shapes broadcast together.

    Returns:
      Tuple of two arrays of the broadcast shape and promoted dtype.
    """
    return tuple(_divmod_promoted(*_promote_for_divmod("divmod", x1, x2)))


def _integer_power(base, exponent):
    # Square-and-multiply over the exponent's low 6 bits: a base of magnitude
    # >= 2 overflows every integer type before exponent 64, and bases 0, 1, -1
    # need only the exponent's parity and whether it is zero.
    acc = lax.convert_element_type(lax.bitwise_or(lax.ne(base, 0), lax.eq(exponent, 0)), base.dtype)
    for _ in range(6):
        acc = _select(lax.ne(lax.bitwise_and(exponent, 1), 0), lax.mul(acc, base), acc)
        base = lax.mul(base, base)
        exponent = lax.shift_right_logical(exponent, 1)
    return acc


def power(x1, x2, /):
    """Elementwise ``x1 ** x2``.

    A static integer exponent (a Python or NumPy int) becomes
    ``lax.integer_pow`` (repeated multiplication), as in JAX.

    Args:
      x1, x2: arrays or scalars whose shapes broadcast together.

    Returns:
      Array of the broadcast shape and promoted dtype (bools compute as int).
      Integer results that overflow, and integer arrays raised to negative
      array exponents, are unspecified (as in JAX); a negative static exponent
      with an integer base raises ``TypeError``.
    """
    if type(x1) is ArrayImpl and type(x2) is int and core.trace_state.trace.is_eager and (
            x1._value.dtype.kind == "f" or x1._value.dtype.kind in "iu" and x2 >= 0):
        return ArrayImpl(np.asarray(lax.integer_pow_p.impl(x1._value, y=x2)), x1.weak_type)
    if isinstance(x2, (int, np.integer)) and not isinstance(x2, (bool, np.bool_)):
        x1 = promote_args("power", x1, x2)[0]
        if x1.dtype == dtypes.bool_:
            (x1,) = _to_default_int(x1)
        if x2 < 0 and not _is_float(x1):
            raise TypeError(f"power: integers cannot be raised to negative powers (got {x1.dtype.name} "
                            f"** {int(x2)}); convert the base to float first, e.g. "
                            f"x.astype(float) ** {int(x2)}.{user_source_line()}")
        return lax.integer_pow(x1, int(x2))
    x1, x2 = promote_args("power", x1, x2)
    if x1.dtype == dtypes.bool_:
        x1, x2 = _to_default_int(x1, x2)
    if _is_float(x1):
        return lax.pow_p.bind(x1, x2)
    return _integer_power(x1, x2)


def float_power(x1, x2, /):
    """Elementwise ``x1 ** x2`` computed in floating point (integers promote to
    the default float, float32 unless x64 is enabled; NumPy always uses float64).

    Args:
      x1, x2: arrays or scalars whose shapes broadcast together.

    Returns:
      Float array of the broadcast shape.
    """
    return lax.pow_p.bind(*promote_args_inexact("float_power", x1, x2))


negative = _unary(lax.neg_p, "negative", _NUMBERS, hint="For bools use logical_not or invert.")
sign = _unary(lax.sign_p, "sign", _NUMBERS, hint="Convert bools with x.astype(int) first.")
abs = _unary(lax.abs_p, "abs", _NUMBERS, on_other=_identity)  # noqa: A001
absolute = abs
square = _unary(lax.square_p, "square", _NUMBERS,
                on_other=lambda x: lax.square_p.bind(*_to_default_int(x)))


def positive(x, /):
    """Elementwise ``+x``: ``x`` unchanged, as an array of its own shape and dtype."""
    check_arraylike("positive", x)
    return ensure_array(x)


def reciprocal(x, /):
    """Elementwise ``1 / x``; integers and bools promote to float.

    Args:
      x: array or scalar.

    Returns:
      Float array of ``x``'s shape.
    """
    (x,) = promote_args_inexact("reciprocal", x)
    return lax.integer_pow(x, -1)


# --- exponentials, logarithms, trigonometry ----------------------------------------------

exp = _unary(lax.exp_p, "exp", _FLOATS, inexact=True)
exp2 = _unary(lax.exp2_p, "exp2", _FLOATS, inexact=True)
expm1 = _unary(lax.expm1_p, "expm1", _FLOATS, inexact=True)
log = _unary(lax.log_p, "log", _FLOATS, inexact=True)
log1p = _unary(lax.log1p_p, "log1p", _FLOATS, inexact=True)
sqrt = _unary(lax.sqrt_p, "sqrt", _FLOATS, inexact=True)
cbrt = _unary(lax.cbrt_p, "cbrt", _FLOATS, inexact=True)
sin = _unary(lax.sin_p, "sin", _FLOATS, inexact=True)
cos = _unary(lax.cos_p, "cos", _FLOATS, inexact=True)
tan = _unary(lax.tan_p, "tan", _FLOATS, inexact=True)
arcsin = _unary(lax.asin_p, "arcsin", _FLOATS, inexact=True)
arccos = _unary(lax.acos_p, "arccos", _FLOATS, inexact=True)
arctan = _unary(lax.atan_p, "arctan", _FLOATS, inexact=True)
sinh = _unary(lax.sinh_p, "sinh", _FLOATS, inexact=True)
cosh = _unary(lax.cosh_p, "cosh", _FLOATS, inexact=True)
tanh = _unary(lax.tanh_p, "tanh", _FLOATS, inexact=True)
arcsinh = _unary(lax.asinh_p, "arcsinh", _FLOATS, inexact=True)
arccosh = _unary(lax.acosh_p, "arccosh", _FLOATS, inexact=True)
arctanh = _unary(lax.atanh_p, "arctanh", _FLOATS, inexact=True)
arctan2 = _binary(lax.atan2_p, "arctan2", _FLOATS, inexact=True)


def log2(x, /):
    """Elementwise base-2 logarithm; integers and bools promote to float.
    Same shape as ``x``."""
    (x,) = promote_args_inexact("log2", x)
    return lax.div(lax.log(x), float(np.log(2.0)))


def log10(x, /):
    """Elementwise base-10 logarithm; integers and bools promote to float.
    Same shape as ``x``."""
    (x,) = promote_args_inexact("log10", x)
    return lax.div(lax.log(x), float(np.log(10.0)))


def deg2rad(x, /):
    """Degrees to radians; integers promote to float. Same shape as ``x``."""
    (x,) = promote_args_inexact("deg2rad", x)
    return lax.mul(x, np.pi / 180)


def rad2deg(x, /):
    """Radians to degrees; integers promote to float. Same shape as ``x``."""
    (x,) = promote_args_inexact("rad2deg", x)
    return lax.mul(x, 180 / np.pi)


radians = deg2rad
degrees = rad2deg


def hypot(x1, x2, /):
    """Elementwise ``sqrt(x1**2 + x2**2)`` without overflow or underflow in the
    squares; infinite if either argument is infinite (even if the other is nan).

    Args:
      x1, x2: arrays or scalars whose shapes broadcast together.

    Returns:
      Float array of the broadcast shape.
    """
    x1, x2 = promote_args_inexact("hypot", x1, x2)
    a, b = lax.abs(x1), lax.abs(x2)
    big, small = lax.max(a, b), lax.min(a, b)
    is_zero = lax.eq(big, 0)
    ratio = lax.div(small, _select(is_zero, 1.0, big))
    out = _select(is_zero, 0.0, lax.mul(big, lax.sqrt(lax.add(lax.mul(ratio, ratio), 1.0))))
    return _select(lax.bitwise_or(isinf(a), isinf(b)), np.inf, out)


def logaddexp(x1, x2, /):
    """Elementwise ``log(exp(x1) + exp(x2))`` without overflow.

    Args:
      x1, x2: arrays or scalars whose shapes broadcast together.

    Returns:
      Float array of the broadcast shape.
    """
    x1, x2 = promote_args_inexact("logaddexp", x1, x2)
    return _log_add(x1, x2, lax.exp, 1.0)


def _log_add(x1, x2, exp, scale):
    # larger + log1p(exp(smaller - larger)) * scale; an infinite larger value is
    # the answer itself, so shifting by 0 there avoids inf - inf.
    larger, smaller = lax.max(x1, x2), lax.min(x1, x2)
    shift = _select(lax.is_finite(larger), larger, 0.0)
    tail = lax.log1p(exp(lax.sub(smaller, shift)))
    return lax.add(larger, tail if scale == 1.0 else lax.mul(tail, scale))


def logaddexp2(x1, x2, /):
    """Elementwise ``log2(2**x1 + 2**x2)`` without overflow.

    Args:
      x1, x2: arrays or scalars whose shapes broadcast together.

    Returns:
      Float array of the broadcast shape.
    """
    x1, x2 = promote_args_inexact("logaddexp2", x1, x2)
    return _log_add(x1, x2, lax.exp2, float(1 / np.log(2.0)))


def sinc(x, /):
    """Normalized sinc, ``sin(pi x) / (pi x)`` with ``sinc(0) = 1``; integers
    promote to float. Same shape as ``x``."""
    (x,) = promote_args_inexact("sinc", x)
    y = lax.mul(x, np.pi)
    # Near 0 the quotient's derivatives cancel catastrophically (JAX gives sinc a
    # custom rule there); the Taylor series 1 - y^2/6 + y^4/120 is exact to
    # rounding below this bound, and differentiates correctly at any order.
    small = lax.lt(lax.abs(y), (5040 * float(np.finfo(x.dtype).eps)) ** (1 / 6))
    safe = _select(small, 1.0, y)
    square = lax.mul(y, y)
    series = lax.add(lax.mul(square, lax.add(lax.mul(square, 1 / 120), -1 / 6)), 1.0)
    return _select(small, series, lax.div(lax.sin(safe), safe))


# --- rounding and clipping -----------------------------------------------------------------

floor = _unary(lax.floor_p, "floor", _FLOATS, on_other=_identity,
               doc="Elementwise floor. Integers and bools are returned unchanged.\n\n"
                   "Args:\n  x: array or scalar.\n\nReturns:\n  Array of ``x``'s shape and dtype.")
ceil = _unary(lax.ceil_p, "ceil", _FLOATS, on_other=_identity,
              doc="Elementwise ceiling. Integers and bools are returned unchanged.\n\n"
                  "Args:\n  x: array or scalar.\n\nReturns:\n  Array of ``x``'s shape and dtype.")


def trunc(x, /):
    """Round toward zero. Integers and bools are returned unchanged.

    Args:
      x: array or scalar.

    Returns:
      Array of ``x``'s shape and dtype.
    """
    (x,) = promote_args("trunc", x)
    if not _is_float(x):
        return x
    return _select(lax.lt(x, 0), lax.ceil(x), lax.floor(x))


def fix(x, /):
    """Round toward zero (NumPy's older name for ``trunc``; JAX removed it).
    Same shape and dtype as ``x``."""
    return trunc(x)


def round(a, decimals=0, out=None):  # noqa: A001
    """Round to ``decimals`` decimal places, halves to even (NumPy's rule).

    Args:
      a: array or scalar.
      decimals: int; negative values round to tens, hundreds, ...
      out: unsupported (numbax arrays are immutable); must be None.

    Returns:
      Array of ``a``'s shape and dtype. Integers and bools are unchanged for
      ``decimals >= 0``.
    """
    if out is not None:
        raise ValueError("round: out= is not supported, numbax arrays are immutable; use the "
                         "returned array instead.")
    (x,) = promote_args("round", a)
    decimals = operator.index(decimals)
    if not _is_float(x):
        if decimals >= 0 or x.dtype == dtypes.bool_:
            return x
        return _round_integer(x, 10 ** -decimals)
    if decimals == 0:
        return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)
    dtype = x.dtype
    if dtype == dtypes.float16:  # 10**decimals scaling loses too much in float16
        x = lax.convert_element_type(x, dtypes.float32, x.weak_type)
    if decimals > 0:
        factor = 10.0 ** decimals
        y = lax.div(lax.round(lax.mul(x, factor), lax.RoundingMethod.TO_NEAREST_EVEN), factor)
    else:
        factor = 10.0 ** -decimals
        y = lax.mul(lax.round(lax.div(x, factor), lax.RoundingMethod.TO_NEAREST_EVEN), factor)
    return lax.convert_element_type(y, dtype, x.weak_type)


def _round_integer(x, factor):
    if factor > np.iinfo(x.dtype).max:
        return _full_like(x, 0, x.dtype)
    quotient, rest = _divmod_promoted(x, lax.convert_element_type(factor, x.dtype, True))
    twice = lax.mul(rest, 2)
    odd = lax.ne(lax.bitwise_and(quotient, 1), 0)
    up = lax.bitwise_or(lax.gt(twice, factor), lax.bitwise_and(lax.eq(twice, factor), odd))
    return lax.mul(_select(up, lax.add(quotient, 1), quotient), factor)


around = round


def rint(x, /):
    """Round to the nearest integer, halves to even; integers and bools promote
    to float. Same shape as ``x``."""
    (x,) = promote_args_inexact("rint", x)
    return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)


def clip(arr, /, min=None, max=None):  # noqa: A002
    """Limit values to ``[min, max]`` (either bound may be None).

    Args:
      arr: array or scalar.
      min, max: arrays or scalars broadcasting with ``arr``, or None.

    Returns:
      ``minimum(max, maximum(min, arr))``: the broadcast shape and promoted dtype
      (where ``min > max`` the result is ``max``, as NumPy).
    """
    check_arraylike("clip", arr)
    x = ensure_array(arr)
    if min is not None:
        x = maximum(min, x)
    if max is not None:
        x = minimum(max, x)
    return x


maximum = _binary(lax.max_p, "maximum", _ALL)
minimum = _binary(lax.min_p, "minimum", _ALL)


def fmax(x1, x2, /):
    """Elementwise maximum that ignores nan: nan only where both are nan.
    Broadcast shape, promoted dtype."""
    x1, x2 = promote_args("fmax", x1, x2)
    out = lax.max(x1, x2)
    if not _is_float(x1):
        return out
    return _select(lax.ne(x1, x1), x2, _select(lax.ne(x2, x2), x1, out))


def fmin(x1, x2, /):
    """Elementwise minimum that ignores nan: nan only where both are nan.
    Broadcast shape, promoted dtype."""
    x1, x2 = promote_args("fmin", x1, x2)
    out = lax.min(x1, x2)
    if not _is_float(x1):
        return out
    return _select(lax.ne(x1, x1), x2, _select(lax.ne(x2, x2), x1, out))


# --- selection -------------------------------------------------------------------------------

def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """``x`` where ``condition`` is true, else ``y``; or, with ``condition``
    alone, ``nonzero(condition, size=size, fill_value=fill_value)``.

    Args:
      condition: array; non-bool values count as true where nonzero.
      x, y: arrays or scalars; all three shapes broadcast together.

    Returns:
      Array of the broadcast shape and the promoted dtype of ``x`` and ``y``.
    """
    if x is None and y is None:
        from .indexing import nonzero
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("where takes one argument (condition) or three (condition, x, y); got "
                         f"only one of x and y.{user_source_line()}")
    if size is not None or fill_value is not None:
        raise ValueError("where: size= and fill_value= apply only to the one-argument form "
                         "where(condition).")
    if type(condition) is ArrayImpl and type(x) is ArrayImpl and type(y) is ArrayImpl:
        c, vx, vy = condition._value, x._value, y._value
        if c.dtype == dtypes.bool_ and vx.dtype is vy.dtype and vx.shape == vy.shape and (
                c.shape == vx.shape or not c.shape) and core.trace_state.trace.is_eager:
            return ArrayImpl(np.asarray(lax.select_n_p.impl(c, vy, vx)), x.weak_type and y.weak_type)
    check_arraylike("where", condition, x, y)
    condition = _as_bool(ensure_array(condition))
    x, y = promote_dtypes(x, y)
    shape = broadcast_shapes(condition.shape, x.shape, y.shape, fun_name="where", args=(condition, x, y))
    if condition.shape:
        condition = _broadcast_to(condition, shape)
    return lax.select_n_p.bind(condition, _broadcast_to(y, shape), _broadcast_to(x, shape))


def select(condlist, choicelist, default=0):
    """Elementwise, the choice of the first true condition, else ``default``.

    Args:
      condlist: sequence of arrays (non-bool values count as true where nonzero).
      choicelist: sequence of arrays, as long as ``condlist``.
      default: array or scalar used where no condition holds.

    Returns:
      Array of the broadcast shape of all arguments and the promoted dtype of
      the choices and ``default``.
    """
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist and choicelist must have the same length, got "
                         f"{len(condlist)} and {len(choicelist)}.{user_source_line()}")
    if not condlist:
        raise ValueError("select: condlist is empty; give at least one condition.")
    check_arraylike("select", *condlist, *choicelist, default)
    choices = promote_dtypes(default, *choicelist)
    out = choices[0]
    for condition, choice in reversed(list(zip(condlist, choices[1:]))):
        out = where(condition, choice, out)
    return out


# --- floating-point classification ------------------------------------------------------------

def isnan(x, /):
    """Elementwise test for nan (always false for integers and bools); bool
    array of ``x``'s shape."""
    (x,) = promote_args("isnan", x)
    return lax.ne(x, x) if _is_float(x) else _full_like(x, False, dtypes.bool_)


def isinf(x, /):
    """Elementwise test for +-inf (always false for integers and bools); bool
    array of ``x``'s shape."""
    (x,) = promote_args("isinf", x)
    return lax.eq(lax.abs(x), np.inf) if _is_float(x) else _full_like(x, False, dtypes.bool_)


def isposinf(x, /):
    """Elementwise test for +inf; bool array of ``x``'s shape."""
    (x,) = promote_args("isposinf", x)
    return lax.eq(x, np.inf) if _is_float(x) else _full_like(x, False, dtypes.bool_)


def isneginf(x, /):
    """Elementwise test for -inf; bool array of ``x``'s shape."""
    (x,) = promote_args("isneginf", x)
    return lax.eq(x, -np.inf) if _is_float(x) else _full_like(x, False, dtypes.bool_)


isfinite = _unary(lax.is_finite_p, "isfinite", _FLOATS, weak_result=False,
                  on_other=lambda x: _full_like(x, True, dtypes.bool_),
                  doc="Elementwise test for finite values (always true for integers and bools).\n\n"
                      "Args:\n  x: array or scalar.\n\nReturns:\n  Bool array of ``x``'s shape.")


def _like(value, x):
    """A replacement value for ``x``'s elements: Python scalars stay scalars
    (lax makes them ``x``'s dtype); arrays convert to ``x``'s dtype."""
    if isinstance(value, (int, float)):
        return value
    return convert(ensure_array(value), x.dtype)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Replace nan, +inf and -inf by finite numbers.

    Args:
      x: array or scalar.
      copy: ignored (numbax arrays are immutable).
      nan: value for nan.
      posinf, neginf: values for +-inf; default the largest finite value of
        ``x``'s dtype and its negative.

    Returns:
      Array of ``x``'s shape and dtype (integers and bools unchanged).
    """
    del copy
    (x,) = promote_args("nan_to_num", x)
    if not _is_float(x):
        return x
    info = np.finfo(x.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    out = _select(lax.ne(x, x), _like(nan, x), x)
    out = _select(lax.eq(x, np.inf), _like(posinf, x), out)
    return _select(lax.eq(x, -np.inf), _like(neginf, x), out)


def signbit(x, /):
    """Elementwise test of the sign bit (true for -0.0 and negative nan).

    Args:
      x: array or scalar.

    Returns:
      Bool array of ``x``'s shape (always false for unsigned and bool).
    """
    (x,) = promote_args("signbit", x)
    kind = x.dtype.kind
    if kind == "i":
        return lax.lt(x, 0)
    if kind in "ub":
        return _full_like(x, False, dtypes.bool_)
    bits = lax.bitcast_convert_type(x, np.dtype(f"i{x.dtype.itemsize}"))
    return lax.lt(bits, 0)


def copysign(x1, x2, /):
    """Elementwise ``|x1|`` with the sign bit of ``x2``; integers promote to
    float. Broadcast shape."""
    x1, x2 = promote_args_inexact("copysign", x1, x2)
    magnitude = lax.abs(x1)
    return _select(signbit(x2), lax.neg(magnitude), magnitude)


def heaviside(x1, x2, /):
    """Step function: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where
    ``x1 > 0`` and nan where ``x1`` is nan. Integers promote to float;
    broadcast shape."""
    x1, x2 = promote_args_inexact("heaviside", x1, x2)
    out = _select(lax.lt(x1, 0), 0.0, _select(lax.gt(x1, 0), 1.0, x2))
    return _select(lax.ne(x1, x1), x1, out)


def ldexp(x1, x2, /):
    """Elementwise ``x1 * 2**x2`` for integer ``x2``.

    Args:
      x1: float array or scalar (integers promote to float).
      x2: integer array or scalar, broadcasting with ``x1``.

    Returns:
      Array of the broadcast shape and ``x1``'s float dtype.
    """
    check_arraylike("ldexp", x1, x2)
    x2 = ensure_array(x2)
    if x2.dtype.kind not in "iu":
        raise TypeError(f"ldexp: x2 must be an integer array (the powers of two), got "
                        f"{x2.dtype.name}. For non-integer powers use x1 * 2.0 ** x2."
                        f"{user_source_line()}")
    (x1,) = promote_args_inexact("ldexp", x1)
    x1, x2 = promote_shapes("ldexp", x1, x2)
    info = np.finfo(x1.dtype)
    # Past this bound every finite nonzero x1 over- or underflows anyway. Three
    # factors of 2**(k/3) stay representable where 2**k itself would not.
    bound = info.maxexp - info.minexp + info.nmant + 1
    k = lax.clamp(-float(bound), lax.convert_element_type(x2, x1.dtype), float(bound))
    first = lax.floor(lax.div(k, 3.0))
    second = lax.floor(lax.div(lax.sub(k, first), 2.0))
    third = lax.sub(lax.sub(k, first), second)
    out = x1
    for part in (first, second, third):
        out = lax.mul(out, lax.exp2(part))
    return out


def frexp(x, /):
    """Split into mantissa and exponent: ``x == mantissa * 2**exponent`` with
    ``0.5 <= |mantissa| < 1`` (both 0 for 0; inf and nan keep ``x`` and give 0).

    Args:
      x: array or scalar (integers promote to float).

    Returns:
      ``(mantissa, exponent)``: a float array and an int32 array, both of
      ``x``'s shape.
    """
    (x,) = promote_args_inexact("frexp", x)
    info = np.finfo(x.dtype)
    int_dtype = np.dtype(f"i{x.dtype.itemsize}")
    nmant, bias = info.nmant, info.maxexp - 1
    field = (1 << (x.dtype.itemsize * 8 - nmant - 1)) - 1
    # Subnormals are scaled into the normal range so the exponent field counts.
    subnormal = lax.lt(lax.abs(x), float(info.tiny))
    scaled = _select(subnormal, lax.mul(_select(subnormal, x, 0.0), float(2 ** (nmant + 1))), x)
    bits = lax.bitcast_convert_type(scaled, int_dtype)
    biased = lax.bitwise_and(lax.shift_right_logical(bits, nmant), field)
    offset = lax.add(lax.mul(lax.convert_element_type(subnormal, int_dtype), nmant + 1), bias - 1)
    exponent = lax.sub(biased, offset)
    mantissa_bits = lax.bitwise_or(lax.bitwise_and(bits, ~(field << nmant)), (bias - 1) << nmant)
    mantissa = lax.bitcast_convert_type(mantissa_bits, x.dtype)
    special = lax.bitwise_or(lax.eq(x, 0), lax.bitwise_not(lax.is_finite(x)))
    mantissa = _select(special, x, mantissa)
    exponent = _select(special, 0, exponent)
    return mantissa, lax.convert_element_type(exponent, dtypes.int32)


# --- comparisons and logic ---------------------------------------------------------------------

equal = _binary(lax.eq_p, "equal", _ALL, weak_result=False)
not_equal = _binary(lax.ne_p, "not_equal", _ALL, weak_result=False)
less = _binary(lax.lt_p, "less", _ALL, weak_result=False)
less_equal = _binary(lax.le_p, "less_equal", _ALL, weak_result=False)
greater = _binary(lax.gt_p, "greater", _ALL, weak_result=False)
greater_equal = _binary(lax.ge_p, "greater_equal", _ALL, weak_result=False)


def _logical(prim, name):
    def fn(x1, x2, /):
        if type(x1) is ArrayImpl and type(x2) is ArrayImpl and x1._value.dtype == dtypes.bool_ \
                and x2._value.dtype == dtypes.bool_ and x1._value.shape == x2._value.shape:
            return prim.bind(x1, x2)
        check_arraylike(name, x1, x2)
        x1, x2 = promote_shapes(name, _as_bool(ensure_array(x1)), _as_bool(ensure_array(x2)))
        return prim.bind(x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` of truth values (nonzero counts as true).\n\n"
                  "Args:\n  x1, x2: arrays or scalars whose shapes broadcast together.\n\n"
                  "Returns:\n  Bool array of the broadcast shape.")
    return fn


logical_and = _logical(lax.and_p, "logical_and")
logical_or = _logical(lax.or_p, "logical_or")
logical_xor = _logical(lax.xor_p, "logical_xor")


def logical_not(x, /):
    """Elementwise ``not x`` (nonzero counts as true); bool array of ``x``'s shape."""
    check_arraylike("logical_not", x)
    return lax.not_p.bind(_as_bool(ensure_array(x)))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|``; infinities are close only
    to themselves, nan to nothing (to nan if ``equal_nan``).

    Args:
      a, b: arrays or scalars whose shapes broadcast together (integers are
        compared as floats, as NumPy and JAX do).
      rtol, atol: relative and absolute tolerances.
      equal_nan: count nan as close to nan.

    Returns:
      Bool array of the broadcast shape.
    """
    a, b = promote_args_inexact("isclose", a, b)
    rtol, atol = _like(rtol, a), _like(atol, a)
    # Infinities are compared exactly; zeroing them first avoids inf - inf.
    infinite = lax.bitwise_or(isinf(a), isinf(b))
    finite_a, finite_b = _select(infinite, 0.0, a), _select(infinite, 0.0, b)
    close = lax.le(lax.abs(lax.sub(finite_a, finite_b)), lax.add(atol, lax.mul(rtol, lax.abs(finite_b))))
    close = _select(infinite, lax.eq(a, b), close)
    if equal_nan:
        close = lax.bitwise_or(close, lax.bitwise_and(lax.ne(a, a), lax.ne(b, b)))
    return close


def _all(x):
    from ... import numpy as jnp
    return jnp.all(x)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``isclose`` holds everywhere: a bool array of shape ()."""
    return _all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """Whether the arrays have the same shape and elements.

    Args:
      a1, a2: arrays or scalars.
      equal_nan: count nan as equal to nan.

    Returns:
      Bool array of shape () (false for different shapes).
    """
    check_arraylike("array_equal", a1, a2)
    a1, a2 = ensure_array(a1), ensure_array(a2)
    if tuple(a1.shape) != tuple(a2.shape):
        return ArrayImpl(np.array(False))
    same = equal(a1, a2)
    if equal_nan:
        same = lax.bitwise_or(same, lax.bitwise_and(isnan(a1), isnan(a2)))
    return _all(same)


def array_equiv(a1, a2):
    """Whether the arrays are equal after broadcasting: a bool array of shape ()
    (false when the shapes do not broadcast; JAX raises there)."""
    check_arraylike("array_equiv", a1, a2)
    a1, a2 = ensure_array(a1), ensure_array(a2)
    try:
        broadcast_shapes(tuple(a1.shape), tuple(a2.shape))
    except TypeError:
        return ArrayImpl(np.array(False))
    return _all(equal(a1, a2))


# --- bits ---------------------------------------------------------------------------------------

_BITWISE_HINT = "Bitwise operations need integer or bool arrays."
bitwise_and = _binary(lax.and_p, "bitwise_and", _INTS_AND_BOOL, hint=_BITWISE_HINT)
bitwise_or = _binary(lax.or_p, "bitwise_or", _INTS_AND_BOOL, hint=_BITWISE_HINT)
bitwise_xor = _binary(lax.xor_p, "bitwise_xor", _INTS_AND_BOOL, hint=_BITWISE_HINT)
bitwise_not = _unary(lax.not_p, "bitwise_not", _INTS_AND_BOOL, hint=_BITWISE_HINT)
invert = _unary(lax.not_p, "invert", _INTS_AND_BOOL, hint=_BITWISE_HINT)
left_shift = _binary(lax.shift_left_p, "left_shift", _INTEGERS,
                     on_bool=lambda x1, x2: lax.shift_left_p.bind(*_to_default_int(x1, x2)))


def right_shift(x1, x2, /):
    """Elementwise ``x1 >> x2``: arithmetic (sign-filling) for signed integers,
    logical for unsigned; shifts past the width give 0 (or -1 for negative x1).

    Args:
      x1, x2: integer or bool arrays or scalars whose shapes broadcast together.

    Returns:
      Array of the broadcast shape and promoted dtype (bools compute as int).
    """
    x1, x2 = promote_args("right_shift", x1, x2)
    if x1.dtype == dtypes.bool_:
        x1, x2 = _to_default_int(x1, x2)
    if x1.dtype.kind == "u":
        return lax.shift_right_logical(x1, x2)
    if x1.dtype.kind != "i":
        raise _dtype_error("right_shift", x1.dtype, _INTS_AND_BOOL)
    return lax.shift_right_arithmetic(x1, x2)


def bitwise_count(x, /):
    """Number of 1 bits in ``|x|`` (NumPy's rule for negative integers).

    Args:
      x: integer or bool array or scalar.

    Returns:
      uint8 array of ``x``'s shape.
    """
    (x,) = promote_args("bitwise_count", x)
    if x.dtype == dtypes.bool_:
        return lax.convert_element_type(x, dtypes.uint8)
    if x.dtype.kind not in "iu":
        raise _dtype_error("bitwise_count", x.dtype, _INTS_AND_BOOL)
    return lax.convert_element_type(lax.population_count(lax.abs(x)), dtypes.uint8)


def _euclid_steps(dtype):
    # Lame's theorem: Euclid's algorithm on numbers below F(n+2) (Fibonacci)
    # takes at most n steps.
    limit, (a, b), n = np.iinfo(dtype).max, (1, 1), 0
    while b <= limit:
        a, b, n = b, a + b, n + 1
    return n + 1


def gcd(x1, x2, /):
    """Elementwise greatest common divisor of ``|x1|`` and ``|x2|`` (0 for 0, 0).

    Args:
      x1, x2: integer arrays or scalars whose shapes broadcast together.

    Returns:
      Array of the broadcast shape and promoted integer dtype.
    """
    x1, x2 = promote_args("gcd", x1, x2)
    if x1.dtype.kind not in "iu":
        raise _dtype_error("gcd", x1.dtype, _INTEGERS)
    shape = broadcast_shapes(x1.shape, x2.shape)
    a, b = _broadcast_to(lax.abs(x1), shape), _broadcast_to(lax.abs(x2), shape)
    # Unrolled Euclid (lax has no while_loop yet); eagerly it stops as soon as
    # every remainder is zero.
    for _ in range(_euclid_steps(a.dtype)):
        if type(b) is ArrayImpl and not b._value.any():
            break
        nonzero = lax.ne(b, 0)
        a, b = _select(nonzero, b, a), _select(nonzero, lax.rem(a, _select(nonzero, b, 1)), 0)
    return a


def lcm(x1, x2, /):
    """Elementwise least common multiple of ``|x1|`` and ``|x2|`` (0 if either is 0).

    Args:
      x1, x2: integer arrays or scalars whose shapes broadcast together.

    Returns:
      Array of the broadcast shape and promoted integer dtype.
    """
    x1, x2 = promote_args("lcm", x1, x2)
    if x1.dtype.kind not in "iu":
        raise _dtype_error("lcm", x1.dtype, _INTEGERS)
    divisor = gcd(x1, x2)
    is_zero = lax.eq(divisor, 0)
    return _select(is_zero, 0, lax.abs(lax.mul(x1, lax.div(x2, _select(is_zero, 1, divisor)))))


# --- complex parts (numbax arrays are real) and dtype conversion ---------------------------------

def conj(x, /):
    """Complex conjugate; numbax arrays are real, so ``x`` unchanged."""
    check_arraylike("conj", x)
    return ensure_array(x)


conjugate = conj


def real(val, /):
    """Real part; numbax arrays are real, so ``val`` unchanged."""
    check_arraylike("real", val)
    return ensure_array(val)


def imag(val, /):
    """Imaginary part; numbax arrays are real, so zeros of ``val``'s shape and dtype."""
    check_arraylike("imag", val)
    val = ensure_array(val)
    return _full_like(val, 0, val.dtype)


def astype(x, dtype, /, *, copy=False, device=None):
    """``x`` converted to ``dtype`` (64-bit types narrow unless x64 is enabled).
    Floats to integers truncate toward zero; anything to bool tests nonzero.

    Args:
      x: array or scalar.
      dtype: the target dtype.
      copy, device: accepted for compatibility; arrays are immutable and on
        one device.

    Returns:
      Array of ``x``'s shape and ``dtype`` (not weakly typed).
    """
    del copy, device
    check_arraylike("astype", x)
    return lax.convert_element_type(ensure_array(x), dtypes.canonicalize_dtype(dtype))


# --- interpolation ---------------------------------------------------------------------------

def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points ``(xp, fp)`` at ``x``.

    Args:
      x: array of any shape.
      xp: 1-d increasing array of sample points (sorted by this function when
        ``period`` is given).
      fp: 1-d array of values, as long as ``xp``.
      left, right: values for ``x < xp[0]`` and ``x > xp[-1]`` (default
        ``fp[0]`` and ``fp[-1]``), or ``"extrapolate"`` to extend the end
        segments linearly. Ignored when ``period`` is given.
      period: a period for ``xp``; ``x`` and ``xp`` are taken modulo it.

    Returns:
      Float array of ``x``'s shape.
    """
    from ... import numpy as jnp
    check_arraylike("interp", x, xp, fp)
    x, xp, fp = promote_dtypes_inexact(x, xp, fp)
    if xp.ndim != 1 or fp.ndim != 1 or xp.shape[0] != fp.shape[0] or not xp.shape[0]:
        raise ValueError(f"interp: xp and fp must be non-empty 1-d arrays of one length, got "
                         f"shapes {tuple(xp.shape)} and {tuple(fp.shape)}.{user_source_line()}")
    if period is not None:
        period = abs(period)
        x = remainder(x, period)
        xp = remainder(xp, period)
        order = jnp.argsort(xp)
        xp, fp = xp[order], fp[order]
        xp = jnp.concatenate([xp[-1:] - period, xp, xp[:1] + period])
        fp = jnp.concatenate([fp[-1:], fp, fp[:1]])
        left = right = None
    n = xp.shape[0]
    if n == 1:
        lo_x, hi_x, lo_f, hi_f = xp[0], xp[0], fp[0], fp[0]
        step = _full_like(x, 0, x.dtype)
    else:
        index = clip(jnp.searchsorted(xp, x, side="right"), 1, n - 1)
        lo_x, hi_x, lo_f, hi_f = xp[index - 1], xp[index], fp[index - 1], fp[index]
        width = lax.sub(hi_x, lo_x)
        flat = lax.le(lax.abs(width), float(np.finfo(x.dtype).eps))
        step = lax.div(lax.sub(x, lo_x), _select(flat, 1.0, width))
        step = _select(flat, 0.0, step)
    out = lax.add(lo_f, lax.mul(step, lax.sub(hi_f, lo_f)))
    for bound, edge_x, edge_f, outside in ((left, xp[0], fp[0], lax.lt), (right, xp[-1], fp[-1], lax.gt)):
        if isinstance(bound, str):
            if bound != "extrapolate":
                raise ValueError(f"interp: left/right must be a value or 'extrapolate', got {bound!r}.")
            continue
        out = _select(outside(x, edge_x), edge_f if bound is None else _like(bound, x), out)
    return out
