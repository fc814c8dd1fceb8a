"""Cumulative reductions along one axis: cumsum, cumprod, cummax, cummin and
cumlogsumexp, each with params ``axis`` and ``reverse`` (accumulate from the
end). Same shape and dtype as the operand; cummax/cummin propagate NaN."""

import numpy as np

from ..core import ShapedArray
from ..dtypes import FLOATS, NUMBERS
from .elementwise import _ignoring_fp_errors
from .utils import canonical_axes, check_dtype, coerce_scalars, shape_error, standard_primitive


def _cumulative(name, accumulate, allowed):
    """A primitive applying ``accumulate(x, axis)`` (a NumPy ufunc accumulation)."""
    def abstract_eval(x, *, axis, reverse):
        check_dtype(name, x, allowed)
        if not 0 <= axis < x.ndim:
            raise shape_error(name, f"axis {axis} is out of range for rank {x.ndim} (a 0-d operand "
                              "has no axis to accumulate along; reshape it to (1,))", x)
        return ShapedArray(x.shape, x.dtype, x.weak_type)

    @_ignoring_fp_errors
    def impl(x, *, axis, reverse):
        if reverse:
            return np.flip(accumulate(np.flip(x, axis), axis), axis).astype(x.dtype, copy=False)
        return accumulate(x, axis).astype(x.dtype, copy=False)

    abstract_eval.__name__ = f"_{name}_abstract_eval"
    impl.__name__ = f"_{name}_impl"
    prim = standard_primitive(name, abstract_eval, impl)

    def wrapper(operand, axis=0, reverse=False):
        (operand,) = coerce_scalars(operand)
        if operand.ndim == 0:
            raise ValueError(f"{name}: axis {axis} is out of bounds for a 0-d operand; reshape it "
                             "to shape (1,) first.")
        (axis,) = canonical_axes(int(axis), operand.ndim, name)
        return prim.bind(operand, axis=axis, reverse=bool(reverse))
    wrapper.__name__ = name
    return prim, wrapper


cumsum_p, cumsum = _cumulative(
    "cumsum", lambda x, axis: np.cumsum(x, axis=axis, dtype=x.dtype), NUMBERS)
cumprod_p, cumprod = _cumulative(
    "cumprod", lambda x, axis: np.cumprod(x, axis=axis, dtype=x.dtype), NUMBERS)
cummax_p, cummax = _cumulative("cummax", lambda x, axis: np.maximum.accumulate(x, axis=axis), NUMBERS)
cummin_p, cummin = _cumulative("cummin", lambda x, axis: np.minimum.accumulate(x, axis=axis), NUMBERS)
cumlogsumexp_p, cumlogsumexp = _cumulative(
    "cumlogsumexp", lambda x, axis: np.logaddexp.accumulate(x, axis=axis), FLOATS)

_DOC = """Cumulative {what} of ``operand`` along ``axis`` (from the end if ``reverse``).

Args:
  operand: array of rank >= 1 ({dtypes}).
  axis: the axis to accumulate along (negative counts from the end).
  reverse: accumulate from the last element towards the first.

Returns:
  Array of ``operand``'s shape and dtype{extra}.
"""
cumsum.__doc__ = _DOC.format(what="sum", dtypes="integer or float", extra=" (integers wrap)")
cumprod.__doc__ = _DOC.format(what="product", dtypes="integer or float", extra=" (integers wrap)")
cummax.__doc__ = _DOC.format(what="maximum", dtypes="integer or float", extra="; NaN propagates")
cummin.__doc__ = _DOC.format(what="minimum", dtypes="integer or float", extra="; NaN propagates")
cumlogsumexp.__doc__ = _DOC.format(what="log-sum-exp", dtypes="float", extra="")

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"]
