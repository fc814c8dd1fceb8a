"""What every ``numbax.numpy`` function needs: turning inputs into arrays,
promoting dtypes with JAX's rules and broadcasting shapes NumPy-style, all in
terms of ``lax``."""

import numpy as np

from .. import core, dtypes
from ..array import ArrayImpl
from ..core import NumbaxTypeError
from ..errors import user_source_line
from ..lax import elementwise as lax_elementwise
from ..lax import shape as lax_shape


def check_arraylike(fun_name, *args):
    """Reject lists/tuples as array arguments, as JAX does."""
    for i, x in enumerate(args):
        if not isinstance(x, (core.Array, np.ndarray, np.generic, bool, int, float)):
            if isinstance(x, (list, tuple)):
                raise TypeError(
                    f"{fun_name} requires ndarray or scalar arguments, got {type(x).__name__} at "
                    f"position {i}. Wrap it with numbax.numpy.array(...) or numbax.numpy.asarray(...) "
                    "first (numbax, like JAX, does not convert lists implicitly).")
            raise TypeError(f"{fun_name} requires ndarray or scalar arguments, got "
                            f"{type(x).__name__} at position {i}.")


def ensure_array(x):
    """A numbax array (or tracer) for an array-like argument, without binding."""
    if isinstance(x, core.Array):
        return x
    dtype, weak = dtypes.dtype_and_weak_of(x)
    return ArrayImpl(np.array(x, dtype=dtype), weak)


def convert(x, dtype, weak_type=False):
    """``x`` as ``dtype``. Concrete inputs convert directly (no equation is
    recorded, so constants stay literals); traced ones through lax."""
    if isinstance(x, core.Tracer):
        return lax_elementwise.convert_element_type(x, dtype, weak_type)
    if type(x) is ArrayImpl:
        if x.dtype == dtype and x.weak_type == weak_type:
            return x
        return lax_elementwise.convert_element_type(x, dtype, weak_type)
    if type(x) is float or (type(x) is int and np.dtype(dtype).kind != "b"):
        try:
            return ArrayImpl(np.array(x, dtype=dtype), weak_type)
        except OverflowError:
            pass  # an int too large for dtype wraps below, as JAX's conversion does
    value = np.asarray(x)
    if value.dtype.kind == "f" and np.dtype(dtype).kind in "iu":
        return lax_elementwise.convert_element_type(ensure_array(x), dtype, weak_type)
    return ArrayImpl(value.astype(dtype), weak_type)


def promote_dtypes(*args):
    """Convert all arguments to their common dtype (JAX's promotion)."""
    pairs = [dtypes.dtype_and_weak_of(x) for x in args]
    dtype, weak = dtypes.result_type_with_weak(*pairs)
    return [convert(x, dtype, weak) for x in args]


def promote_dtypes_inexact(*args):
    """Like ``promote_dtypes`` but integers and bools become the default float."""
    pairs = [dtypes.dtype_and_weak_of(x) for x in args]
    dtype, weak = dtypes.result_type_with_weak(*pairs)
    return [convert(x, to_inexact_dtype(dtype), weak) for x in args]


def to_inexact_dtype(dtype):
    """The float type integers and bools become (JAX's rule): float64 for
    64-bit integers (when x64 is on), float32 for narrower ones."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype
    return dtypes.canonicalize_dtype(np.float64 if dtype.itemsize == 8 else np.float32)


def broadcast_shapes(*shapes, fun_name="broadcast_shapes", args=None):
    """NumPy broadcasting of static shapes, with a message naming the fix."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            seen = " and ".join(
                core.get_aval(a).str_short() for a in args) if args else " and ".join(map(str, shapes))
            raise NumbaxTypeError(
                f"{fun_name} got incompatible shapes {seen}. Trailing axes must match or be 1 "
                "(NumPy broadcasting); insert an axis where needed, e.g. y[:, None]."
                f"{user_source_line()}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def promote_shapes(fun_name, *args):
    """Broadcast ranks NumPy-style: check compatibility, then add leading size-1
    axes (lax broadcasts size-1 axes and rank-0 operands itself)."""
    shapes = [tuple(np.shape(x)) if not isinstance(x, core.Array) else tuple(x.shape) for x in args]
    nonscalar = {s for s in shapes if s}
    if len(nonscalar) <= 1:
        return list(args)  # equal shapes, or scalars that lax broadcasts itself
    broadcast_shapes(*shapes, fun_name=fun_name, args=args)
    ndim = max(len(s) for s in shapes)
    return [lax_shape.broadcast_to_rank(x, ndim) if 0 < len(s) < ndim else x for x, s in zip(args, shapes)]


def promote_args(fun_name, *args):
    """Check, promote dtypes and broadcast ranks of a NumPy function's arguments."""
    check_arraylike(fun_name, *args)
    return promote_shapes(fun_name, *promote_dtypes(*args))


def promote_args_inexact(fun_name, *args):
    check_arraylike(fun_name, *args)
    return promote_shapes(fun_name, *promote_dtypes_inexact(*args))


def canonicalize_axis(axis, ndim, fun_name="axis"):
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{fun_name}: axis {axis} is out of bounds for an array of rank {ndim}.")
    return axis % ndim


def normalize_axes(axis, ndim, fun_name="axis"):
    """None -> all axes; int or tuple -> sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        return (canonicalize_axis(axis, ndim, fun_name),)
    axes = tuple(canonicalize_axis(a, ndim, fun_name) for a in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{fun_name}: repeated axis in {axis}.")
    return tuple(sorted(axes))
