"""Array creation in ``numbax.numpy``: from host data (``array``, ``asarray``),
filled arrays (``zeros``, ``full``, ``*_like``), ranges (``arange``,
``linspace``, ...) and matrices (``eye``, ``tri``, ``diag``, ...).

Host data (NumPy arrays, nested lists of scalars) becomes an array without
binding any primitive, and is always copied, so writing to the NumPy source
later never changes the numbax array. Everything else is built from ``lax``
(``iota``, ``broadcast_in_dim``, ...), so under a trace it records small
equations, as JAX does: ``zeros`` is a broadcast of a literal.
"""

import math
import operator

import numpy as np

from ... import lax
from .. import core, dtypes
from ..array import ArrayImpl
from ..errors import ConcretizationTypeError, user_source_line
from .util import broadcast_shapes, check_arraylike, convert, ensure_array

__all__ = ["array", "asarray", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "arange", "linspace", "logspace", "geomspace", "eye",
           "identity", "tri", "tril", "triu", "diag", "diagflat", "vander", "copy"]

_PY_SCALARS = {bool, int, float}


# --- static arguments ----------------------------------------------------------------

def concrete(x, fun_name, arg_name):
    """``x`` itself, or the value behind a tracer that knows it (e.g. a jvp
    primal). A staged tracer raises ``ConcretizationTypeError``."""
    if not isinstance(x, core.Tracer):
        return x
    value = x.to_concrete_value()
    if value is None:
        raise ConcretizationTypeError(
            f"{fun_name}: {arg_name} is a traced {x.aval.str_short()} inside {x._trace.description}, "
            "but it decides the shape of the result, and numbax shapes must be static (known "
            "while tracing). Pass a Python number, or mark the argument static with "
            f"jit(f, static_argnums=...).{user_source_line()}")
    return value


def static_int(x, fun_name, arg_name):
    """A Python int from an int-like argument that fixes a shape."""
    x = concrete(x, fun_name, arg_name)
    try:
        return operator.index(x)
    except TypeError:
        raise TypeError(f"{fun_name}: {arg_name} must be an integer, got {x!r}.") from None


def as_tuple(x):
    """``x`` itself if it is a sequence, else ``(x,)`` (for an int or 0-d array)."""
    if (isinstance(x, core.Array) and x.ndim == 0) or not hasattr(x, "__iter__"):
        return (x,)
    return tuple(x)


def static_shape(shape, fun_name, arg_name="shape"):
    """A tuple of non-negative Python ints from an int or a sequence of ints."""
    dims = tuple(static_int(d, fun_name, arg_name) for d in as_tuple(shape))
    if any(d < 0 for d in dims):
        raise ValueError(f"{fun_name}: {arg_name} {dims} has a negative dimension; sizes must be >= 0.")
    return dims


def as_dtype(x, dtype, weak_type=False):
    """``x`` as ``dtype``. Concrete values convert on the host, so under a
    trace constants stay literals; tracers convert through ``lax``."""
    if isinstance(x, core.Tracer):
        return convert(x, dtype, weak_type)
    out = array(x._value if type(x) is ArrayImpl else x, dtype=dtype)
    return ArrayImpl(out._value, True) if weak_type else out


def canonical_dtype(dtype, fun_name):
    """``dtype`` as numbax uses it (narrowed to 32 bits unless x64 is on)."""
    try:
        return dtypes.canonicalize_dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{fun_name}: {err}") from None


# --- array and asarray --------------------------------------------------------------------

def array(object, dtype=None, copy=True, ndmin=0):  # noqa: A002
    """An array from array-like data.

    Args:
      object: a Python scalar, a nested list/tuple of scalars and arrays, a
        NumPy array or scalar, or a numbax array or tracer. A list holding
        tracers becomes a stack of them.
      dtype: the result dtype (canonicalized by the x64 flag). By default
        JAX's: Python floats give float32, ints int32, bools bool; lists take
        the promoted type of their elements; 64-bit NumPy data is narrowed to
        32 bits unless x64 is enabled.
      copy: accepted for NumPy compatibility. Host data is always copied (so
        later writes to a NumPy source never show); numbax arrays are
        immutable and need no copy.
      ndmin: prepend size-1 axes until the result has at least this rank.

    Returns:
      Array of the data's shape (with ``ndmin`` leading axes). A Python
      scalar without ``dtype`` gives a weakly typed 0-d array.

    Example:
      >>> array([1, 2.5])
      Array([1. , 2.5], dtype=float32)

    Differences from JAX: ``array(x)`` of a numbax array or tracer returns it
    unchanged (JAX records a ``copy``), as arrays are immutable.
    """
    if dtype is not None:
        dtype = canonical_dtype(dtype, "array")
    if isinstance(object, core.Array):
        out = object if dtype is None else convert(object, dtype)
    elif type(object) in _PY_SCALARS:
        natural, weak = dtypes.dtype_and_weak_of(object)
        if dtype is None:
            out = _from_host(object, natural, natural, weak, "array")
        else:
            out = _from_host(object, natural, dtype, False, "array")
    elif isinstance(object, (list, tuple)):
        out = _from_sequence(object, dtype)
    elif hasattr(object, "__jax_array__"):
        return array(object.__jax_array__(), dtype, copy, ndmin)
    else:
        value = np.asarray(object)
        natural = _host_dtype(value.dtype, object)
        out = _from_host(value, natural, natural if dtype is None else dtype, False, "array")
    ndmin = static_int(ndmin, "array", "ndmin")
    if out.ndim < ndmin:
        if type(out) is ArrayImpl:
            return ArrayImpl(out._value.reshape((1,) * (ndmin - out.ndim) + out.shape), out.weak_type)
        return lax.broadcast_to_rank(out, ndmin)
    return out


def asarray(a, dtype=None, copy=None):
    """``a`` as an array; numbax arrays and tracers of the right dtype come back
    as they are. See ``array`` for the accepted inputs and dtype rules.

    Args:
      a: array-like data.
      dtype: the result dtype, or None to keep (or infer) it.
      copy: accepted for NumPy compatibility; host data is always copied.

    Returns:
      Array of ``a``'s shape.
    """
    if dtype is None:
        if isinstance(a, core.Array):
            return a
        if type(a) is np.ndarray and a.dtype in dtypes._SUPPORTED:
            return ArrayImpl(np.array(a, dtype=dtypes.canonicalize_dtype(a.dtype)), False)
    return array(a, dtype=dtype, copy=copy)


def _host_dtype(np_dtype, obj):
    try:
        return dtypes.canonicalize_dtype(np_dtype)
    except TypeError as err:
        raise TypeError(f"array: cannot convert {type(obj).__name__} to a numbax array: {err}") from None


def _from_host(value, natural, dtype, weak, fun_name):
    """An ``ArrayImpl`` holding a fresh copy of host data ``value`` (whose
    JAX dtype is ``natural``) as ``dtype``. No primitive is bound."""
    if natural.kind == "f" and dtype.kind in "iu":
        # Float-to-int conversion truncates and saturates, as lax's does.
        return lax.convert_element_type(np.asarray(value), dtype)
    try:
        return ArrayImpl(np.array(value, dtype=dtype), weak)
    except OverflowError as err:
        raise OverflowError(
            f"{fun_name}: a Python int does not fit in {dtype.name} ({err}). Pass a wider dtype, "
            "or enable 64-bit types with numbax.config.update('jax_enable_x64', True).") from None
    except ValueError as err:
        if "inhomogeneous" not in str(err) and "sequence" not in str(err):
            raise
        raise ValueError(f"{fun_name}: the nested sequence is ragged (sublists of different lengths "
                         f"or shapes), but arrays are rectangular: {err}") from None


def _leaf_types(seq, out):
    for kind in set(map(type, seq)):
        if kind is list or kind is tuple:
            for item in seq:
                if type(item) is kind:
                    _leaf_types(item, out)
        else:
            out.add(kind)
    return out


def _leaves(seq, out):
    for item in seq:
        if isinstance(item, (list, tuple)):
            _leaves(item, out)
        else:
            out.append(item)
    return out


def _from_sequence(seq, dtype):
    types = _leaf_types(seq, set())
    if types <= _PY_SCALARS:
        # Only Python scalars: the common case, decided from their types alone.
        natural = (dtypes.default_float_dtype() if float in types or not types else
                   dtypes.default_int_dtype() if int in types else dtypes.bool_)
        return _from_host(seq, natural, natural if dtype is None else dtype, False, "array")
    leaves = _leaves(seq, [])
    try:
        natural = dtypes.result_type_with_weak(*[dtypes.dtype_and_weak_of(x) for x in leaves])[0]
    except TypeError as err:
        kinds = ", ".join(sorted({type(x).__name__ for x in leaves}))
        raise TypeError(f"array: cannot convert a sequence of {kinds} to a numbax array: {err}") from None
    if any(isinstance(x, core.Tracer) for x in leaves):
        return _stack_nested(seq, natural if dtype is None else dtype)
    return _from_host(seq, natural, natural if dtype is None else dtype, False, "array")


def _stack_nested(obj, dtype):
    if not isinstance(obj, (list, tuple)):
        return as_dtype(obj, dtype)
    if not obj:
        return zeros((0,), dtype)
    parts = [_stack_nested(item, dtype) for item in obj]
    shapes = {p.shape for p in parts}
    if len(shapes) > 1:
        raise ValueError(f"array: the nested sequence is ragged: its items have shapes "
                         f"{sorted(shapes)}, but arrays are rectangular.")
    return lax.concatenate([lax.expand_dims(p, (0,)) for p in parts], 0)


# --- filled arrays ------------------------------------------------------------------------

def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value``.

    Args:
      shape: int or sequence of ints (static).
      fill_value: scalar, or an array broadcastable to ``shape`` (may be traced).
      dtype: result dtype; by default ``fill_value``'s (a Python scalar gives
        a weakly typed result, as in JAX).

    Returns:
      Array of ``shape``.
    """
    shape = static_shape(shape, "full")
    fill = asarray(fill_value) if dtype is None else as_dtype(fill_value, canonical_dtype(dtype, "full"))
    return broadcast_to_shape(fill, shape, "full")


def zeros(shape, dtype=None):
    """An array of ``shape`` (int or sequence of ints) filled with 0, of
    ``dtype`` (default float32, or float64 with x64)."""
    return _filled(static_shape(shape, "zeros"), 0, dtype, False, "zeros")


def ones(shape, dtype=None):
    """An array of ``shape`` (int or sequence of ints) filled with 1, of
    ``dtype`` (default float32, or float64 with x64)."""
    return _filled(static_shape(shape, "ones"), 1, dtype, False, "ones")


def empty(shape, dtype=None):
    """Same as ``zeros``: numbax arrays are immutable, so there is nothing to
    gain from leaving memory uninitialized."""
    return _filled(static_shape(shape, "empty"), 0, dtype, False, "empty")


def _filled(shape, value, dtype, weak, fun_name):
    dtype = dtypes.default_float_dtype() if dtype is None else canonical_dtype(dtype, fun_name)
    return lax.broadcast_in_dim(ArrayImpl(np.array(value, dtype=dtype), weak), shape, ())


def broadcast_to_shape(x, shape, fun_name):
    """``x`` broadcast NumPy-style to ``shape`` (trailing axes aligned)."""
    if tuple(x.shape) == shape:
        return x
    lead = len(shape) - x.ndim
    if lead < 0 or any(d not in (1, s) for d, s in zip(x.shape, shape[lead:])):
        raise ValueError(f"{fun_name}: cannot broadcast an array of shape {tuple(x.shape)} to shape "
                         f"{shape}: trailing axes must match or be 1, and the rank cannot shrink.")
    return lax.broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))


def _like(fun_name, a, dtype, shape):
    check_arraylike(fun_name, a)
    aval = core.get_aval(a)
    shape = aval.shape if shape is None else static_shape(shape, fun_name)
    if dtype is None:
        return aval.dtype, aval.weak_type, shape
    return canonical_dtype(dtype, fun_name), False, shape


def zeros_like(a, dtype=None, shape=None):
    """Zeros with ``a``'s shape and dtype (and weak type), unless ``dtype`` or
    ``shape`` override them. Only ``a``'s type is used, never its values."""
    dtype, weak, shape = _like("zeros_like", a, dtype, shape)
    return _filled(shape, 0, dtype, weak, "zeros_like")


def ones_like(a, dtype=None, shape=None):
    """Ones with ``a``'s shape and dtype, unless ``dtype``/``shape`` override them."""
    dtype, weak, shape = _like("ones_like", a, dtype, shape)
    return _filled(shape, 1, dtype, weak, "ones_like")


def empty_like(a, dtype=None, shape=None):
    """Same as ``zeros_like`` (numbax arrays are immutable)."""
    dtype, weak, shape = _like("empty_like", a, dtype, shape)
    return _filled(shape, 0, dtype, weak, "empty_like")


def full_like(a, fill_value, dtype=None, shape=None):
    """``fill_value`` (scalar or broadcastable array, may be traced) converted
    to ``a``'s dtype and broadcast to ``a``'s shape, unless ``dtype``/``shape``
    override them."""
    dtype, weak, shape = _like("full_like", a, dtype, shape)
    return broadcast_to_shape(as_dtype(fill_value, dtype, weak), shape, "full_like")


# --- ranges ---------------------------------------------------------------------------------

def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``, as ``np.arange``.

    Args:
      start, stop, step: Python or NumPy scalars (or concrete 0-d arrays).
        With one argument it is ``stop`` and ``start`` is 0. They set the
        length, so they must be concrete: traced bounds raise
        ``ConcretizationTypeError``.
      dtype: result dtype; by default the promoted type of the arguments
        given (ints give int32, floats float32).

    Returns:
      1-D array of ``ceil((stop - start) / step)`` elements (0 if negative),
      ``start + step * i``.
    """
    if stop is None:
        start, stop = None, start
    given = {name: _concrete_scalar(x, "arange", name)
             for name, x in (("start", start), ("stop", stop), ("step", step)) if x is not None}
    if dtype is None:
        dtype = dtypes.result_type_with_weak(*[dtypes.dtype_and_weak_of(v) for v in given.values()])[0]
    else:
        dtype = canonical_dtype(dtype, "arange")
    if dtype == dtypes.bool_:
        raise TypeError("arange: bool is not a valid dtype for a range; use an integer or float dtype.")
    start, stop, step = given.get("start", 0), given["stop"], given.get("step", 1)
    if step == 0:
        raise ZeroDivisionError("arange: step must not be zero.")
    if all(isinstance(v, (int, np.integer)) for v in (start, stop, step)):
        size = -((int(start) - int(stop)) // int(step))
    else:
        size = math.ceil((float(stop) - float(start)) / float(step))
    out = lax.iota(dtype, max(size, 0))
    if step != 1:
        out = lax.mul(out, as_dtype(step, dtype))
    if start != 0:
        out = lax.add(out, as_dtype(start, dtype))
    return out


def _concrete_scalar(x, fun_name, arg_name):
    x = concrete(x, fun_name, arg_name)
    if np.ndim(x) != 0:
        raise TypeError(f"{fun_name}: {arg_name} must be a scalar, got an array of shape {np.shape(x)}.")
    if isinstance(x, core.Array):
        return np.asarray(x)[()]
    if not isinstance(x, (bool, int, float, np.generic)):
        raise TypeError(f"{fun_name}: {arg_name} must be a number, got {type(x).__name__}.")
    return x


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop``.

    Args:
      start, stop: scalars or arrays (may be traced) whose shapes broadcast
        to a shape ``S``.
      num: number of values (a static int >= 0).
      endpoint: include ``stop`` as the last value.
      retstep: also return the spacing.
      dtype: result dtype; by default the promoted float type of start/stop.
        Integer dtypes round down, as NumPy does.
      axis: where the new axis of length ``num`` goes in the result.

    Returns:
      Array of shape ``S`` with ``num`` inserted at ``axis``; with
      ``retstep``, a pair ``(values, step)`` where ``step`` has shape ``S``
      (NaN when there is nothing to divide by).
    """
    num = static_int(num, "linspace", "num")
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}.")
    start, stop, compute = _inexact_operands("linspace", start, stop)
    dtype = compute if dtype is None else canonical_dtype(dtype, "linspace")
    shape = _broadcast_shape("linspace", start, stop)
    start, stop = broadcast_to_shape(start, shape, "linspace"), broadcast_to_shape(stop, shape, "linspace")
    axis = _insert_axis(axis, len(shape), "linspace")
    out_shape = shape[:axis] + (num,) + shape[axis:]
    div = num - 1 if endpoint else num
    if div > 0:
        step = ramp_step = lax.div(lax.sub(stop, start), convert(div, compute))
    else:  # at most one value, start; NumPy reports the step as NaN
        step, ramp_step = full(shape, np.nan, compute), zeros(shape, compute)
    count = num - 1 if endpoint and num > 1 else num  # the last value is stop itself
    along = tuple(d for d in range(len(out_shape)) if d != axis)
    ramp_shape = shape[:axis] + (count,) + shape[axis:]
    ramp = lax.broadcasted_iota(compute, ramp_shape, axis)
    out = lax.add(lax.broadcast_in_dim(start, ramp_shape, along),
                  lax.mul(ramp, lax.broadcast_in_dim(ramp_step, ramp_shape, along)))
    if count < num:
        last = lax.broadcast_in_dim(stop, shape[:axis] + (1,) + shape[axis:], along)
        out = lax.concatenate([out, last], axis)
    out = _to_dtype(out, dtype)
    return (out, step) if retstep else out


def _inexact_operands(fun_name, *args):
    check_arraylike(fun_name, *args)
    compute = dtypes.result_type_with_weak(*[dtypes.dtype_and_weak_of(x) for x in args])[0]
    if not dtypes.is_float(compute):
        compute = dtypes.default_float_dtype()
    return [as_dtype(x, compute) for x in args] + [compute]


def _broadcast_shape(fun_name, *args):
    return broadcast_shapes(*[tuple(a.shape) for a in args], fun_name=fun_name, args=args)


def _insert_axis(axis, ndim, fun_name):
    axis = static_int(axis, fun_name, "axis")
    if not -ndim - 1 <= axis <= ndim:
        raise ValueError(f"{fun_name}: axis {axis} is out of bounds for a result of rank {ndim + 1}.")
    return axis % (ndim + 1)


def _to_dtype(x, dtype):
    if dtypes.is_int(dtype) or dtypes.is_bool(dtype):
        x = lax.floor(x)  # NumPy rounds down to integers
    return convert(x, dtype)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, num, endpoint, axis=axis)``.

    ``start``/``stop``/``base`` are scalars or arrays (may be traced); see
    ``linspace`` for the shapes (an array ``base`` gets ``axis`` inserted).
    Integer dtypes truncate, as NumPy does.
    """
    lin = linspace(start, stop, num, endpoint, axis=axis)
    check_arraylike("logspace", base)
    base = as_dtype(base, lin.dtype)
    if base.ndim:
        axis = _insert_axis(axis, lin.ndim - 1, "logspace")
        base = broadcast_to_shape(lax.expand_dims(base, (axis,)), lin.shape, "logspace")
    out = lax.pow(base, lin)
    return out if dtype is None else convert(out, canonical_dtype(dtype, "logspace"))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values from ``start`` to ``stop`` spaced evenly on a log scale
    (a geometric progression). Both ends must be nonzero and of one sign.

    Args: as ``linspace`` (without ``retstep``).

    Returns:
      Array of the broadcast shape of start/stop with ``num`` inserted at
      ``axis``; the end values are exactly ``start`` and ``stop``.
    """
    for value, name in ((start, "start"), (stop, "stop")):
        if not isinstance(value, core.Tracer) and np.any(np.asarray(value) == 0):
            raise ValueError(f"geomspace: {name} must be nonzero (a geometric sequence cannot include 0).")
    start, stop, compute = _inexact_operands("geomspace", start, stop)
    shape = _broadcast_shape("geomspace", start, stop)
    start, stop = broadcast_to_shape(start, shape, "geomspace"), broadcast_to_shape(stop, shape, "geomspace")
    sign = lax.sign(start)
    lin = linspace(lax.log(lax.mul(start, sign)), lax.log(lax.mul(stop, sign)), num, endpoint, axis=axis)
    axis = _insert_axis(axis, len(shape), "geomspace")
    shape = lin.shape
    along = tuple(d for d in range(len(shape)) if d != axis)
    out = lax.mul(lax.exp(lin), lax.broadcast_in_dim(sign, shape, along))
    if num > 0:
        one = shape[:axis] + (1,) + shape[axis + 1:]
        first = [lax.broadcast_in_dim(start, one, along)]
        last = [lax.broadcast_in_dim(stop, one, along)] if endpoint and num > 1 else []
        middle = lax.slice_in_dim(out, 1, num - len(last), axis=axis)
        out = lax.concatenate(first + [middle] + last, axis)
    return _to_dtype(out, compute if dtype is None else canonical_dtype(dtype, "geomspace"))


# --- matrices -------------------------------------------------------------------------------

def _diagonal_mask(fun_name, n, m, k, compare):
    rows = static_int(n, fun_name, "N")
    cols = rows if m is None else static_int(m, fun_name, "M")
    k = static_int(k, fun_name, "k")
    if rows < 0 or cols < 0:
        raise ValueError(f"{fun_name}: N and M must be non-negative, got N={rows}, M={cols}.")
    int_dtype = dtypes.default_int_dtype()
    i = lax.broadcasted_iota(int_dtype, (rows, cols), 0)
    j = lax.broadcasted_iota(int_dtype, (rows, cols), 1)
    return compare(lax.add(i, convert(k, int_dtype)) if k else i, j)


def _mask_as(mask, dtype, fun_name):
    dtype = dtypes.default_float_dtype() if dtype is None else canonical_dtype(dtype, fun_name)
    return convert(mask, dtype)


def eye(N, M=None, k=0, dtype=None):  # noqa: N803
    """A ``(N, M)`` matrix (``M`` defaults to ``N``) with ones on diagonal
    ``k`` (0 the main one, > 0 above, < 0 below) and zeros elsewhere; of
    ``dtype`` (default float). N, M, k are static ints."""
    return _mask_as(_diagonal_mask("eye", N, M, k, lax.eq), dtype, "eye")


def identity(n, dtype=None):
    """The ``(n, n)`` identity matrix of ``dtype`` (default float)."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803
    """A ``(N, M)`` matrix with ones at and below diagonal ``k`` and zeros
    above; of ``dtype`` (default float). N, M, k are static ints."""
    return _mask_as(_diagonal_mask("tri", N, M, k, lax.ge), dtype, "tri")


def _triangle(fun_name, m, k, compare):
    check_arraylike(fun_name, m)
    m = ensure_array(m)
    if m.ndim < 2:
        raise ValueError(f"{fun_name}: the argument must be at least 2-D (a stack of matrices), got "
                         f"shape {tuple(m.shape)}.")
    mask = _diagonal_mask(fun_name, m.shape[-2], m.shape[-1], k, compare)
    mask = lax.broadcast_in_dim(mask, m.shape, (m.ndim - 2, m.ndim - 1))
    return lax.select_n(mask, zeros_like(m), m)


def tril(m, k=0):
    """``m`` (shape ``(..., N, M)``) with the entries above diagonal ``k`` zeroed.
    Same shape and dtype."""
    return _triangle("tril", m, k, lax.ge)


def triu(m, k=0):
    """``m`` (shape ``(..., N, M)``) with the entries below diagonal ``k`` zeroed.
    Same shape and dtype."""
    return _triangle("triu", m, k - 1, lax.lt)


def diag(v, k=0):
    """A diagonal, or a matrix with a given diagonal.

    Args:
      v: 1-D array of length L: builds a square matrix of size ``L + |k|``
        with ``v`` on diagonal ``k``; or 2-D array: extracts its diagonal ``k``.
      k: static int; > 0 above the main diagonal, < 0 below.

    Returns:
      2-D array for 1-D ``v``; 1-D array for 2-D ``v``. ``v``'s dtype.
    """
    check_arraylike("diag", v)
    v = ensure_array(v)
    k = static_int(k, "diag", "k")
    if v.ndim == 1:
        length = v.shape[0]
        n = length + abs(k)
        # Interior padding n puts v[i] at i*(n+1) of the flattened matrix: the diagonal.
        offset = k if k >= 0 else -k * n
        flat = lax.pad(v, convert(0, v.dtype, v.weak_type),
                       [(offset, n * n - offset - length - max(length - 1, 0) * n, n)])
        return lax.reshape(flat, (n, n))
    if v.ndim == 2:
        return _diagonal(v, k)
    raise ValueError(f"diag: v must be 1-D (to build a matrix) or 2-D (to take its diagonal), got "
                     f"shape {tuple(v.shape)}.")


def _diagonal(m, k):
    """Diagonal ``k`` of a 2-D array: a strided slice of the flattened square
    block that holds it."""
    rows, cols = m.shape
    top, left = max(-k, 0), max(k, 0)
    d = max(min(rows - top, cols - left), 0)
    if d == 0:
        return lax.reshape(lax.slice(m, (0, 0), (0, 0)), (0,))
    block = lax.reshape(lax.slice(m, (top, left), (top + d, left + d)), (d * d,))
    return lax.slice(block, (0,), (d * d,), (d + 1,))


def diagflat(v, k=0):
    """A square matrix with the flattened ``v`` on diagonal ``k`` (see ``diag``)."""
    check_arraylike("diagflat", v)
    v = ensure_array(v)
    return diag(lax.reshape(v, (v.size,)), k)


def vander(x, N=None, increasing=False):  # noqa: N803
    """The Vandermonde matrix of 1-D ``x`` (length L): column j is
    ``x ** (N - 1 - j)`` (or ``x ** j`` if ``increasing``).

    Returns:
      Array of shape ``(L, N)``, ``N`` defaulting to L; ``x``'s dtype.
    """
    check_arraylike("vander", x)
    x = ensure_array(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {tuple(x.shape)}.")
    if dtypes.is_bool(x.dtype):
        raise TypeError("vander: x must be numeric, got bool; convert it with x.astype(int).")
    n = x.shape[0] if N is None else static_int(N, "vander", "N")
    if n < 0:
        raise ValueError(f"vander: N must be non-negative, got {n}.")
    columns = []
    for _ in range(n):
        columns.append(ones_like(x) if not columns else lax.mul(columns[-1], x))
    if not increasing:
        columns.reverse()
    if not columns:
        return zeros((x.shape[0], 0), x.dtype)
    return lax.concatenate([lax.expand_dims(c, (1,)) for c in columns], 1)


def copy(a, order=None):
    """A copy of ``a`` as an array. numbax arrays are immutable, so an array
    (or tracer) comes back as it is; host data is copied."""
    return asarray(a)
