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


# --- differentiation rules ---------------------------------------------------------------
# cumsum is linear (its transpose accumulates the other way). The others get
# the JVP of a log-depth prefix scan (Hillis-Steele) of their binary combine:
# each step combines every element with the one ``s`` positions before it
# (the identity where there is none), so tangents meet only mul, select, pad
# and slice; products are exact with zeros and cumlogsumexp weights stay <= 1.

from ..interpreters import jvp as _ad  # noqa: E402
from . import elementwise as _ew  # noqa: E402
from . import shape as _shape  # noqa: E402


def _cumsum_transpose(ct, x, *, axis, reverse):
    return [cumsum_p.bind(ct, axis=axis, reverse=not reverse)]


_ad.deflinear(cumsum_p, _cumsum_transpose)


def _shifted(x, s, axis, reverse, fill):
    """``x`` moved ``s`` places along ``axis`` (towards the end, or the start if
    ``reverse``), ``fill`` flowing in."""
    n = x.shape[axis]
    config = [(0, 0, 0)] * x.ndim
    config[axis] = (0, s, 0) if reverse else (s, 0, 0)
    kept = _shape.slice_in_dim(x, s, n, axis=axis) if reverse else _shape.slice_in_dim(x, 0, n - s, axis=axis)
    return _shape.pad(kept, _ew._const(x, fill), config)


def _prefix_scan(combine, identity, x, axis, reverse):
    s = 1
    while s < x.shape[axis]:
        x = combine(_shifted(x, s, axis, reverse, identity), x)
        s *= 2
    return x


def _logaddexp(a, b):
    # Written so that a == b == -inf (the scan's fill meeting a -inf) gives -inf.
    big = _ew.max(a, b)
    diff = _ew.select_n(_ew.eq(a, b), _ew.sub(a, b), _shape.broadcast_in_dim(_ew._const(a, 0), a.shape, ()))
    return _ew.add(big, _ew.log1p(_ew.exp(_ew.neg(_ew.abs(diff)))))


def _scan_jvp(prim, combine, identity):
    def rule(primals, tangents, *, axis, reverse):
        (x,), (g,) = primals, tangents
        out = prim.bind(x, axis=axis, reverse=reverse)
        fill = identity(np.dtype(x.dtype))
        _, (g_out,) = _ad.jvp_flat(lambda v: [_prefix_scan(combine, fill, v, axis, reverse)], [x], [g],
                                   f"jvp of {prim.name}")
        if type(g_out) is _ad.Zero:
            g_out = _ad.instantiate(g_out)
        return out, g_out
    rule.__name__ = f"_{prim.name}_jvp"
    return rule


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


cumprod_p.def_jvp(_scan_jvp(cumprod_p, _ew.mul, lambda dt: 1))
cummax_p.def_jvp(_scan_jvp(cummax_p, _ew.max, _lowest))
cummin_p.def_jvp(_scan_jvp(cummin_p, _ew.min, _highest))
cumlogsumexp_p.def_jvp(_scan_jvp(cumlogsumexp_p, _logaddexp, lambda dt: -np.inf))


# --- batching rules ------------------------------------------------------------------------
# The same accumulation along ``axis`` shifted past the batch axis, which stays put.

def _cumulative_batch(prim):
    def rule(args, dims, *, axis, reverse):
        (x,), (d,) = args, dims  # one operand, so it is the batched one
        return prim.bind(x, axis=axis + (axis >= d), reverse=reverse), d
    rule.__name__ = f"_{prim.name}_batch"
    return rule


for _prim in (cumsum_p, cumprod_p, cummax_p, cummin_p, cumlogsumexp_p):
    _prim.def_batch(_cumulative_batch(_prim))


# --- lowering (jit) --------------------------------------------------------------------------
# A loop along the axis carrying the running value, one per position of the
# other axes (the backend prints the loops).

for _prim, _combine_float, _combine_int in [
        (cumsum_p, "{acc} + {v}", None), (cumprod_p, "{acc} * {v}", None),
        (cummax_p, "rt.fmax({acc}, {v})", "max({acc}, {v})"), (cummin_p, "rt.fmin({acc}, {v})", "min({acc}, {v})"),
        (cumlogsumexp_p, "rt.logaddexp({acc}, {v})", None)]:
    def _rule(ctx, eqn, _float=_combine_float, _int=_combine_int):
        (x,), (out,) = eqn.invars, eqn.outvars
        combine = _float if x.aval.dtype.kind == "f" or _int is None else _int
        ctx.accumulate(x, eqn.params["axis"], eqn.params["reverse"], out, combine)
    _prim.def_lowering(_rule, "cpu")
