"""Reductions, statistics and cumulative sums of ``numbax.numpy``, written in
terms of ``lax``.

Result dtypes are JAX's: ``sum``/``prod`` promote bool and narrow integers to
the default integer; ``mean``/``var``/``std``/``quantile`` turn integers into
floats (int64 into float64, the others into float32); ``argmax`` gives the
default integer; float16 sums and means accumulate in float32.
"""

import math
import builtins

import numpy as np

from .. import dtypes
from ..lax import cumulative as lax_cumulative
from ..lax import elementwise as lax
from ..lax import reduce as lax_reduce
from ..lax import shape as lax_shape
from ..lax import sort as lax_sort
from ..lax.reduce import _max_identity, _min_identity
from .util import canonicalize_axis, check_arraylike, convert, ensure_array, normalize_axes

__all__ = ["sum", "prod", "mean", "max", "min", "amax", "amin", "var", "std", "argmax", "argmin",
           "any", "all", "cumsum", "cumprod", "cumulative_sum", "cumulative_prod", "nansum",
           "nanprod", "nanmean", "nanmax", "nanmin", "nanvar", "nanstd", "nanargmax", "nanargmin",
           "ptp", "average", "count_nonzero", "median", "quantile", "percentile"]


# --- helpers -------------------------------------------------------------------------------

def _check_out(fun_name, out):
    if out is not None:
        raise NotImplementedError(f"jnp.{fun_name}: the 'out' argument is not supported (numbax "
                                  "arrays are immutable); use the returned array.")


def _asarray(fun_name, a):
    check_arraylike(fun_name, a)
    return ensure_array(a)


def _user_dtype(dtype, fun_name, default=None):
    if dtype is None:
        return default
    try:
        return dtypes.canonicalize_dtype(dtype)
    except TypeError as err:
        raise TypeError(f"jnp.{fun_name}: {err}") from None


def _promote_integer(dtype):
    """JAX promotes bool and narrow integers to the default (u)int in sums."""
    if dtype == dtypes.bool_:
        return dtypes.default_int_dtype()
    if dtypes.is_unsigned(dtype):
        return builtins.max(dtype, dtypes.default_uint_dtype(), key=lambda d: d.itemsize)
    if dtypes.is_int(dtype):
        return builtins.max(dtype, dtypes.default_int_dtype(), key=lambda d: d.itemsize)
    return dtype


def _inexact(dtype):
    """The float dtype JAX computes means and variances of ``dtype`` in."""
    if dtypes.is_float(dtype):
        return dtype
    return dtypes.canonicalize_dtype(np.float64 if np.dtype(dtype).itemsize == 8 else np.float32)


def _upcast_f16(dtype):
    return dtypes.float32 if dtype == dtypes.float16 else dtype


def _full(shape, value, dtype):
    return lax_shape.broadcast_in_dim(convert(value, dtype), tuple(shape), ())


def _broadcast_to(fun_name, arg_name, x, shape):
    """``x`` broadcast (NumPy-style, one way) to ``shape``."""
    x = ensure_array(x)
    if tuple(x.shape) == tuple(shape):
        return x
    if x.ndim > len(shape) or builtins.any(d not in (1, s) for d, s in zip(x.shape[::-1], shape[::-1])):
        raise ValueError(f"jnp.{fun_name}: {arg_name} of shape {tuple(x.shape)} does not broadcast to "
                         f"the array's shape {tuple(shape)}; give it that shape or one that "
                         "broadcasts to it (trailing axes equal or 1).")
    dims = tuple(range(len(shape) - x.ndim, len(shape)))
    return lax_shape.broadcast_in_dim(x, tuple(shape), dims)


def _where(keep, x, fill, fun_name="where"):
    """``x`` where ``keep`` (bool, broadcastable to x) else the scalar ``fill``."""
    check_arraylike(fun_name, keep)
    keep = _broadcast_to(fun_name, "where", convert(keep, dtypes.bool_), x.shape)
    return lax.select_n(keep, _full(x.shape, fill, x.dtype), x)


def _isnan(x):
    return lax.ne(x, x)


def _keepdims(result, axes, keep):
    return lax_shape.expand_dims(result, axes) if keep and axes else result


def _reduced_size(shape, axes):
    return math.prod([shape[d] for d in axes])


# --- sum, prod, max, min, any, all ---------------------------------------------------------

def _reduction(fun_name, a, axis, dtype, out, keepdims, initial, where, *, reducer, combine,
               identity, bool_reducer=None, bool_combine=None, has_identity=True,
               promote_integers=False, upcast_f16=False):
    _check_out(fun_name, out)
    a = _asarray(fun_name, a)
    if initial is None and not has_identity and where is not None:
        raise ValueError(f"jnp.{fun_name}: a where= mask needs initial= too, since {fun_name} has no "
                         "identity to put in the masked-out places; e.g. initial=-jnp.inf for max.")
    axes = normalize_axes(axis, a.ndim, f"jnp.{fun_name}")
    if initial is None and not has_identity and builtins.any(a.shape[d] == 0 for d in axes):
        raise ValueError(f"jnp.{fun_name}: zero-size array (shape {tuple(a.shape)}, axis={axis}) to a "
                         f"reduction that has no identity; pass initial= to give the result for "
                         "empty reductions.")
    result_dtype = _user_dtype(dtype, fun_name, default=a.dtype)
    if dtype is None and promote_integers:
        result_dtype = _promote_integer(result_dtype)
    computation_dtype = _upcast_f16(result_dtype) if upcast_f16 else result_dtype
    a = convert(a, computation_dtype)
    if computation_dtype == dtypes.bool_ and bool_reducer is not None:
        reducer, combine = bool_reducer, bool_combine
    if where is not None:
        a = _where(where, a, identity(computation_dtype), fun_name)
    result = reducer(a, axes)
    if initial is not None:
        check_arraylike(fun_name, initial)
        initial = convert(initial, computation_dtype)
        if initial.shape != ():
            raise ValueError(f"jnp.{fun_name}: initial must be a scalar, got shape {tuple(initial.shape)}.")
        result = combine(initial, result)
    return convert(_keepdims(result, axes, keepdims), result_dtype)


def _zero(dtype):
    return False if dtype == dtypes.bool_ else 0


def _one(dtype):
    return True if dtype == dtypes.bool_ else 1


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,  # noqa: A001
        promote_integers=True):
    """Sum of array elements over ``axis``.

    Args:
      a: array of any shape.
      axis: None (all axes), an int or a tuple of ints; negative counts from the end.
      dtype: result dtype. By default bool and integers narrower than the
        default integer promote to it (``promote_integers=False`` keeps them).
      keepdims: keep reduced axes with length 1.
      initial: a scalar added to the sum.
      where: bool mask broadcastable to ``a``; only True elements are summed.

    Returns:
      Array of ``a``'s shape without the reduced axes (or with length 1 there).
    """
    return _reduction("sum", a, axis, dtype, out, keepdims, initial, where,
                      reducer=lax_reduce.reduce_sum, combine=lax.add, identity=_zero,
                      bool_reducer=lax_reduce.reduce_or, bool_combine=lax.bitwise_or,
                      promote_integers=promote_integers, upcast_f16=True)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers=True):
    """Product of array elements over ``axis``; arguments and result as in ``sum``
    (``initial`` multiplies the product)."""
    return _reduction("prod", a, axis, dtype, out, keepdims, initial, where,
                      reducer=lax_reduce.reduce_prod, combine=lax.mul, identity=_one,
                      bool_reducer=lax_reduce.reduce_and, bool_combine=lax.bitwise_and,
                      promote_integers=promote_integers, upcast_f16=True)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Maximum over ``axis`` (NaN propagates).

    Args:
      a: array of any shape.
      axis: None (all axes), an int or a tuple of ints.
      keepdims: keep reduced axes with length 1.
      initial: a scalar lower bound of the result; needed for empty reductions
        and with ``where``.
      where: bool mask broadcastable to ``a``; only True elements count.

    Returns:
      Array of ``a``'s dtype with the reduced shape. An empty reduction
      without ``initial`` raises ValueError.
    """
    return _reduction("max", a, axis, None, out, keepdims, initial, where,
                      reducer=lax_reduce.reduce_max, combine=lax.max, identity=_max_identity,
                      has_identity=False)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Minimum over ``axis`` (NaN propagates); arguments as in ``max``
    (``initial`` is an upper bound)."""
    return _reduction("min", a, axis, None, out, keepdims, initial, where,
                      reducer=lax_reduce.reduce_min, combine=lax.min, identity=_min_identity,
                      has_identity=False)


amax = max
amin = min


def any(a, axis=None, out=None, keepdims=False, *, where=None):  # noqa: A001
    """Whether any element over ``axis`` is nonzero (NaN counts as nonzero).

    Takes ``a`` of any shape, ``axis`` None/int/tuple, ``keepdims`` and a bool
    ``where`` mask; returns a bool array of the reduced shape."""
    return _reduction("any", a, axis, dtypes.bool_, out, keepdims, None, where,
                      reducer=lax_reduce.reduce_or, combine=lax.bitwise_or, identity=_zero)


def all(a, axis=None, out=None, keepdims=False, *, where=None):  # noqa: A001
    """Whether all elements over ``axis`` are nonzero; arguments as in ``any``."""
    return _reduction("all", a, axis, dtypes.bool_, out, keepdims, None, where,
                      reducer=lax_reduce.reduce_and, combine=lax.bitwise_and, identity=_one)


def count_nonzero(a, axis=None, keepdims=False):
    """Number of nonzero elements over ``axis``, as the default integer dtype,
    in the reduced shape."""
    a = _asarray("count_nonzero", a)
    nonzero = convert(a, dtypes.bool_)
    return sum(nonzero, axis=axis, dtype=dtypes.default_int_dtype(), keepdims=keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
    """Range (``max - min``) over ``axis``, in ``a``'s dtype and the reduced shape."""
    a = _asarray("ptp", a)
    if a.dtype == dtypes.bool_:
        raise TypeError("jnp.ptp does not accept bool arrays (max - min is undefined for them); "
                        "convert first, e.g. a.astype(jnp.int32).")
    return lax.sub(max(a, axis, out, keepdims), min(a, axis, None, keepdims))


# --- mean, var, std, average ------------------------------------------------------------------

def _count(fun_name, shape, axes, where, dtype, keepdims):
    """How many elements each reduction sees: a Python int, or an array with a mask."""
    if where is None:
        return _reduced_size(shape, axes)
    mask = _broadcast_to(fun_name, "where", convert(where, dtypes.bool_), shape)
    return sum(mask, axes, dtype=dtype, keepdims=keepdims)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over ``axis``.

    Args:
      a: array of any shape.
      axis: None (all axes), an int or a tuple of ints.
      dtype: result dtype; by default a's float dtype (integers become float).
      keepdims: keep reduced axes with length 1.
      where: bool mask broadcastable to ``a``; only True elements count.

    Returns:
      Array of the reduced shape; NaN where nothing is averaged.
    """
    _check_out("mean", out)
    a = _asarray("mean", a)
    axes = normalize_axes(axis, a.ndim, "jnp.mean")
    result_dtype = _user_dtype(dtype, "mean", default=_inexact(a.dtype))
    computation_dtype = _upcast_f16(result_dtype)
    total = sum(a, axes, dtype=computation_dtype, keepdims=keepdims, where=where)
    count = _count("mean", a.shape, axes, where, computation_dtype, keepdims)
    return convert(lax.div(total, count), result_dtype)


def _ddof(fun_name, ddof, correction):
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"jnp.{fun_name}: ddof and correction are the same argument; pass only one.")
    return correction


def _divide_or_nan(total, normalizer):
    """``total / normalizer``, NaN where the normalizer is not positive."""
    if isinstance(normalizer, (int, float)):
        return lax.div(total, normalizer) if normalizer > 0 else _full(total.shape, np.nan, total.dtype)
    positive = lax.gt(normalizer, convert(0, normalizer.dtype))
    return lax.select_n(positive, _full(total.shape, np.nan, total.dtype), lax.div(total, normalizer))


def _var(fun_name, a, axis, dtype, out, ddof, keepdims, where, ignore_nan):
    _check_out(fun_name, out)
    a = _asarray(fun_name, a)
    axes = normalize_axes(axis, a.ndim, f"jnp.{fun_name}")
    result_dtype = _user_dtype(dtype, fun_name, default=_inexact(a.dtype))
    computation_dtype = _upcast_f16(_inexact(result_dtype))
    a = convert(a, computation_dtype)
    if ignore_nan:
        nan = _isnan(a)
        center = nanmean(a, axes, dtype=computation_dtype, keepdims=True, where=where)
        centered = _where(lax.bitwise_not(nan), lax.sub(a, center), 0)
        count = sum(lax.bitwise_not(nan), axes, dtype=computation_dtype, keepdims=keepdims, where=where)
    else:
        center = mean(a, axes, dtype=computation_dtype, keepdims=True, where=where)
        centered = lax.sub(a, center)
        count = _count(fun_name, a.shape, axes, where, computation_dtype, keepdims)
    total = sum(lax.square(centered), axes, dtype=computation_dtype, keepdims=keepdims, where=where)
    if isinstance(count, int) and isinstance(ddof, (int, float)):
        normalizer = count - ddof
    else:
        normalizer = lax.sub(convert(count, computation_dtype), convert(ddof, computation_dtype))
    return convert(_divide_or_nan(total, normalizer), result_dtype)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    """Variance over ``axis``: ``sum((a - mean)**2) / (N - ddof)``.

    Args:
      a: array of any shape.
      axis: None (all axes), an int or a tuple of ints.
      dtype: result dtype; by default a's float dtype (integers become float).
      ddof: "delta degrees of freedom" subtracted from the count N
        (``correction`` is its array-API name).
      keepdims: keep reduced axes with length 1.
      where: bool mask broadcastable to ``a``; only True elements count.

    Returns:
      Array of the reduced shape; NaN where ``N - ddof <= 0``.
    """
    return _var("var", a, axis, dtype, out, _ddof("var", ddof, correction), keepdims, where, False)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    """Standard deviation over ``axis``: the square root of ``var`` (same arguments)."""
    return lax.sqrt(_var("std", a, axis, dtype, out, _ddof("std", ddof, correction), keepdims, where, False))


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """Weighted mean over ``axis``.

    Args:
      a: array of any shape.
      axis: None (all axes), an int or a tuple of ints.
      weights: None (plain mean), an array of ``a``'s shape, or a 1-D array as
        long as ``a``'s single ``axis``.
      returned: also return the sum of the weights.
      keepdims: keep reduced axes with length 1.

    Returns:
      The weighted mean (float, the reduced shape), or ``(mean, weight_sum)``
      with ``weight_sum`` broadcast to the mean's shape if ``returned``.
    """
    a = _asarray("average", a)
    axes = normalize_axes(axis, a.ndim, "jnp.average")
    if weights is None:
        avg = mean(a, axes, keepdims=keepdims)
        weight_sum = _full(avg.shape, _reduced_size(a.shape, axes), avg.dtype)
    else:
        weights = _asarray("average", weights)
        dtype = _inexact(dtypes.result_type(a, weights))
        a, weights = convert(a, dtype), convert(weights, dtype)
        if tuple(weights.shape) != tuple(a.shape):
            if weights.ndim != 1 or axis is None or len(axes) != 1 or weights.shape[0] != a.shape[axes[0]]:
                raise ValueError(
                    f"jnp.average: weights of shape {tuple(weights.shape)} do not fit a of shape "
                    f"{tuple(a.shape)} with axis={axis}. Give weights a's shape, or a 1-D array as "
                    "long as the one axis being averaged over.")
            shape = [1] * a.ndim
            shape[axes[0]] = a.shape[axes[0]]
            weights = _broadcast_to("average", "weights", lax_shape.reshape(weights, tuple(shape)), a.shape)
        weight_sum = sum(weights, axes, keepdims=keepdims)
        avg = lax.div(sum(lax.mul(a, weights), axes, keepdims=keepdims), weight_sum)
    if returned:
        return avg, weight_sum
    return avg


# --- argmax, argmin ---------------------------------------------------------------------------

def _argminmax(fun_name, lax_fun, a, axis, out, keepdims):
    _check_out(fun_name, out)
    a = _asarray(fun_name, a)
    if axis is None:
        x, axis_c = lax_shape.reshape(a, (a.size,)), 0
    else:
        x, axis_c = a, canonicalize_axis(axis, a.ndim, f"jnp.{fun_name}")
    if x.shape[axis_c] == 0:
        raise ValueError(f"jnp.{fun_name}: attempt to get {fun_name} of an empty sequence (axis {axis} "
                         f"of shape {tuple(a.shape)} is empty).")
    result = lax_fun(x, axis_c, dtypes.default_int_dtype())
    if keepdims:
        result = lax_shape.reshape(result, (1,) * a.ndim) if axis is None else \
            lax_shape.expand_dims(result, (axis_c,))
    return result


def argmax(a, axis=None, out=None, keepdims=None):
    """Index of the maximum along ``axis`` (of the flattened array if None).

    The first occurrence wins ties; NaN counts as the maximum. Returns the
    default integer dtype in ``a``'s shape without ``axis``. An empty axis
    raises ValueError."""
    return _argminmax("argmax", lax_reduce.argmax, a, axis, out, keepdims)


def argmin(a, axis=None, out=None, keepdims=None):
    """Index of the minimum along ``axis``; as ``argmax`` (NaN counts as the minimum)."""
    return _argminmax("argmin", lax_reduce.argmin, a, axis, out, keepdims)


# --- NaN-ignoring variants ----------------------------------------------------------------------

def _nan_reduction(fun, fill, a, nan_if_all_nan, axis, keepdims, **kwargs):
    a = _asarray(fun.__name__, a)
    if not dtypes.is_float(a.dtype):
        return fun(a, axis=axis, keepdims=keepdims, **kwargs)
    out = fun(_where(lax.bitwise_not(_isnan(a)), a, fill), axis=axis, keepdims=keepdims, **kwargs)
    if nan_if_all_nan:
        all_nan = all(_isnan(a), axis=axis, keepdims=keepdims)
        out = lax.select_n(all_nan, out, _full(out.shape, np.nan, out.dtype))
    return out


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """``sum`` treating NaN as zero (same arguments and result dtype)."""
    return _nan_reduction(sum, 0, a, False, axis, keepdims, dtype=dtype, out=out, initial=initial,
                          where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """``prod`` treating NaN as one (same arguments and result dtype)."""
    return _nan_reduction(prod, 1, a, False, axis, keepdims, dtype=dtype, out=out, initial=initial,
                          where=where)


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """``max`` ignoring NaN; NaN where every element is NaN (unless ``initial``)."""
    return _nan_reduction(max, -np.inf, a, initial is None, axis, keepdims, out=out, initial=initial,
                          where=where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """``min`` ignoring NaN; NaN where every element is NaN (unless ``initial``)."""
    return _nan_reduction(min, np.inf, a, initial is None, axis, keepdims, out=out, initial=initial,
                          where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """``mean`` of the non-NaN elements (NaN where there are none); arguments as in ``mean``."""
    _check_out("nanmean", out)
    a = _asarray("nanmean", a)
    if not dtypes.is_float(a.dtype):
        return mean(a, axis, dtype, keepdims=keepdims, where=where)
    dtype = _user_dtype(dtype, "nanmean", default=a.dtype)
    count = sum(lax.bitwise_not(_isnan(a)), axis, dtype=dtype, keepdims=keepdims, where=where)
    return lax.div(nansum(a, axis, dtype=dtype, keepdims=keepdims, where=where), count)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    """``var`` of the non-NaN elements; NaN where fewer than ``ddof + 1`` remain."""
    return _var("nanvar", a, axis, dtype, out, _ddof("nanvar", ddof, correction), keepdims, where, True)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    """``std`` of the non-NaN elements: the square root of ``nanvar``."""
    return lax.sqrt(_var("nanstd", a, axis, dtype, out, _ddof("nanstd", ddof, correction), keepdims,
                         where, True))


def _nanargminmax(fun, fill, a, axis, out, keepdims):
    a = _asarray(fun.__name__, a)
    if not dtypes.is_float(a.dtype):
        return fun(a, axis, out, keepdims)
    nan = _isnan(a)
    result = fun(_where(lax.bitwise_not(nan), a, fill), axis, out, keepdims)
    all_nan = all(nan, axis=axis, keepdims=keepdims)
    return lax.select_n(all_nan, result, _full(result.shape, -1, result.dtype))


def nanargmax(a, axis=None, out=None, keepdims=None):
    """``argmax`` ignoring NaN; -1 where every element is NaN."""
    return _nanargminmax(argmax, -np.inf, a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, keepdims=None):
    """``argmin`` ignoring NaN; -1 where every element is NaN."""
    return _nanargminmax(argmin, np.inf, a, axis, out, keepdims)


# --- cumulative ------------------------------------------------------------------------------------

def _cumulative(fun_name, lax_fun, a, axis, dtype, out, promote_integers):
    _check_out(fun_name, out)
    a = _asarray(fun_name, a)
    if axis is None or a.ndim == 0:
        a = lax_shape.reshape(a, (a.size,))
    axis = canonicalize_axis(0 if axis is None else axis, a.ndim, f"jnp.{fun_name}")
    dtype = _user_dtype(dtype, fun_name)
    result_dtype = a.dtype if dtype is None else dtype
    if (dtype is None and promote_integers) or result_dtype == dtypes.bool_:
        result_dtype = _promote_integer(result_dtype)
    if dtype == dtypes.bool_:
        a = convert(a, dtypes.bool_)
    result = lax_fun(convert(a, result_dtype), axis)
    return convert(result, dtypes.bool_) if dtype == dtypes.bool_ else result


def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (of the flattened array if None).

    Returns an array of ``a``'s shape (1-D if flattened) and dtype (bool
    becomes the default integer), or ``dtype``."""
    return _cumulative("cumsum", lax_cumulative.cumsum, a, axis, dtype, out, False)


def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product along ``axis``; arguments and result as in ``cumsum``."""
    return _cumulative("cumprod", lax_cumulative.cumprod, a, axis, dtype, out, False)


def _cumulative_array_api(fun_name, lax_fun, x, axis, dtype, include_initial, initial):
    x = _asarray(fun_name, x)
    if x.ndim == 0:
        raise ValueError(f"jnp.{fun_name} needs an array of rank >= 1, got a scalar; reshape it to "
                         "shape (1,) first.")
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"jnp.{fun_name}: axis is required for an array of rank {x.ndim} "
                             f"(shape {tuple(x.shape)}); it may be omitted only for 1-D arrays.")
        axis = 0
    axis = canonicalize_axis(axis, x.ndim, f"jnp.{fun_name}")
    result = _cumulative(fun_name, lax_fun, x, axis, dtype, None, True)
    if include_initial:
        shape = list(result.shape)
        shape[axis] = 1
        result = lax_shape.concatenate([_full(shape, initial, result.dtype), result], axis)
    return result


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Cumulative sum (array API): ``axis`` may be omitted only for 1-D ``x``;
    integers promote as in ``sum``; ``include_initial`` prepends a zero, so that
    axis grows by one."""
    return _cumulative_array_api("cumulative_sum", lax_cumulative.cumsum, x, axis, dtype,
                                 include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Cumulative product (array API); as ``cumulative_sum`` with a leading one."""
    return _cumulative_array_api("cumulative_prod", lax_cumulative.cumprod, x, axis, dtype,
                                 include_initial, 1)


# --- quantiles ----------------------------------------------------------------------------------------

_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _take_along_last(x, index):
    """``x[..., index]`` for int32 ``index`` of shape Q (() or (q,)): shape Q + x.shape[:-1].

    A masked max over the last axis (gather-free); the unselected places hold
    -inf, so NaN and -0.0 come through only when selected."""
    q_shape = tuple(index.shape)
    shape = q_shape + tuple(x.shape)
    last = len(shape) - 1
    x = lax_shape.broadcast_in_dim(x, shape, tuple(range(len(q_shape), len(shape))))
    index = lax_shape.broadcast_in_dim(index, shape, tuple(range(len(q_shape))))
    hit = lax.eq(lax.broadcasted_iota(dtypes.int32, shape, last), index)
    return lax_reduce.reduce_max(lax.select_n(hit, _full(shape, -np.inf, x.dtype), x), (last,))


def _quantile(fun_name, a, q, axis, out, method, keepdims, percent=False):
    _check_out(fun_name, out)
    if method not in _QUANTILE_METHODS:
        raise ValueError(f"jnp.{fun_name}: method={method!r} is not supported; use one of "
                         f"{', '.join(map(repr, _QUANTILE_METHODS))}.")
    check_arraylike(fun_name, a, q)
    a = ensure_array(a)
    # The result has a's float dtype, whatever q's is (as in JAX).
    dtype = _inexact(a.dtype)
    a = convert(a, dtype)
    if isinstance(q, (int, float)):
        q = convert(q / 100 if percent else q, dtype)
    else:
        q = ensure_array(q)
        if q.ndim > 1:
            raise ValueError(f"jnp.{fun_name}: q must be a scalar or 1-D, got shape {tuple(q.shape)}.")
        q = convert(q, _inexact(q.dtype))
        q = convert(lax.div(q, 100) if percent else q, dtype)
    axes = normalize_axes(axis, a.ndim, f"jnp.{fun_name}")
    kept = [d for d in range(a.ndim) if d not in axes]
    n = _reduced_size(a.shape, axes)
    if n == 0:
        raise ValueError(f"jnp.{fun_name} of an empty reduction (shape {tuple(a.shape)}, axis={axis}) "
                         "is undefined.")
    batch = tuple(a.shape[d] for d in kept)
    x = lax_shape.reshape(lax_shape.transpose(a, tuple(kept) + axes), batch + (n,))
    x = lax_sort.sort(x, dimension=-1)

    position = lax.mul(q, n - 1)
    low, high = lax.floor(position), lax.ceil(position)
    high_weight = lax.sub(position, low)
    low = lax.convert_element_type(lax.clamp(0, low, n - 1), dtypes.int32)
    high = lax.convert_element_type(lax.clamp(0, high, n - 1), dtypes.int32)
    low_value, high_value = _take_along_last(x, low), _take_along_last(x, high)
    shape = tuple(q.shape) + batch
    high_weight = lax_shape.broadcast_in_dim(high_weight, shape, tuple(range(q.ndim)))
    if method == "linear":
        result = lax.add(lax.mul(low_value, lax.sub(1, high_weight)), lax.mul(high_value, high_weight))
    elif method == "lower":
        result = low_value
    elif method == "higher":
        result = high_value
    elif method == "midpoint":
        result = lax.mul(lax.add(low_value, high_value), 0.5)
    else:  # nearest; a tie goes to the lower index, as in JAX
        result = lax.select_n(lax.le(high_weight, 0.5), high_value, low_value)
    # NaNs sort last, so the last element tells whether a slice has any.
    largest = lax_shape.reshape(lax_shape.slice_in_dim(x, n - 1, n, axis=-1), batch)
    has_nan = lax_shape.broadcast_in_dim(_isnan(largest), shape, tuple(range(q.ndim, len(shape))))
    result = lax.select_n(has_nan, result, _full(shape, np.nan, dtype))
    if keepdims:
        result = lax_shape.reshape(result, tuple(q.shape) + tuple(
            1 if d in axes else a.shape[d] for d in range(a.ndim)))
    return result


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """The ``q``-th quantiles of ``a`` over ``axis``.

    Args:
      a: array of any shape.
      q: a scalar or 1-D array of quantiles in [0, 1] (clipped to the ends).
      axis: None (all axes), an int or a tuple of ints.
      method: "linear" (default), "lower", "higher", "midpoint" or "nearest"
        (a tie goes to the lower element, as in JAX).
      keepdims: keep reduced axes with length 1.

    Returns:
      Float array of shape ``q.shape + reduced shape``; NaN where the slice
      has a NaN.
    """
    return _quantile("quantile", a, q, axis, out, method, keepdims)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """``quantile`` with ``q`` in percent (0 to 100); same arguments and result."""
    return _quantile("percentile", a, q, axis, out, method, keepdims, percent=True)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median over ``axis`` (the mean of the two middle values for even
    counts): a float array of the reduced shape; NaN where a slice has NaN."""
    return _quantile("median", a, 0.5, axis, out, "midpoint", keepdims)

