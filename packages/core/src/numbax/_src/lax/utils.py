"""Helpers shared by the primitive families: declaring a primitive from its
shape/dtype rules, and coercing Python scalars at the ``lax`` boundary."""

import numpy as np

from .. import core, dtypes
from ..array import ArrayImpl
from ..core import Primitive, ShapedArray, shape_error

__all__ = ["standard_primitive", "shape_error", "as_operand", "coerce_scalars", "ShapedArray",
           "check_dtype", "check_same_dtypes", "canonical_axes"]


def standard_primitive(name, abstract_eval, impl, multiple_results=False):
    """A primitive with its eager impl and abstract-eval rules set."""
    prim = Primitive(name, multiple_results=multiple_results)
    prim.def_impl(impl)
    prim.def_abstract_eval(abstract_eval)
    return prim


def as_operand(x, dtype=None, weak_type=None):
    """Arrays and tracers pass through; Python scalars and NumPy values become
    concrete numbax arrays (Python scalars weakly typed), without binding."""
    if isinstance(x, core.Array):
        return x
    if isinstance(x, (bool, int, float)) and dtype is None:
        dtype, weak = dtypes.dtype_and_weak_of(x)
    elif dtype is None:
        dtype, weak = dtypes.dtype_and_weak_of(x)
    else:
        weak = isinstance(x, (int, float)) and not isinstance(x, bool) if weak_type is None else weak_type
        dtype = dtypes.canonicalize_dtype(dtype)
    return ArrayImpl(np.array(x, dtype=dtype), weak)


def coerce_scalars(*args):
    """JAX's ``lax`` accepts Python scalars next to arrays: they take the dtype
    of the first array operand (weakly typed)."""
    dtype = next((x.dtype for x in args if isinstance(x, (core.Array, np.ndarray, np.generic))), None)
    if dtype is not None:
        dtype = dtypes.canonicalize_dtype(dtype)
    out = []
    for x in args:
        if isinstance(x, core.Array):
            out.append(x)
        elif type(x) in (int, float) and dtype is not None:
            out.append(as_operand(x, dtype))
        else:
            out.append(as_operand(x))
    return out


def check_dtype(prim_name, aval, allowed, what="operand"):
    if aval.dtype not in allowed:
        kinds = sorted({dtypes.short_name(d) for d in allowed})
        raise shape_error(prim_name, f"does not accept dtype {aval.dtype.name} for its {what}; "
                          f"accepted: {', '.join(kinds)}", aval)


def check_same_dtypes(prim_name, *avals):
    if len({a.dtype for a in avals}) > 1:
        raise shape_error(prim_name, "requires arguments to have the same dtypes; convert one "
                          "with lax.convert_element_type or x.astype(...)", *avals)


def canonical_axes(axes, ndim, prim_name="reduction"):
    """Normalize an int / tuple of ints (negative allowed) to a sorted tuple."""
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise core.NumbaxTypeError(f"{prim_name}: axis {a} is out of bounds for an array of rank {ndim}.")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise core.NumbaxTypeError(f"{prim_name}: repeated axis in {tuple(axes)}.")
    return tuple(sorted(out))


ShapedArray = ShapedArray
