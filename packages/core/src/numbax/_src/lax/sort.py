"""Sorting: ``sort`` of several operands by their first ``num_keys`` (the
others ride along), and ``top_k``.

Order is JAX's total order: NaNs (of either sign) after everything else and
-0.0 equal to 0.0, so a stable sort keeps their input order. NumPy's stable
sorts order floats the same way.
"""

import math

import numpy as np

from .. import dtypes
from ..core import NumbaxTypeError, ShapedArray
from .utils import coerce_scalars, shape_error, standard_primitive


# --- sort ---------------------------------------------------------------------------

def _sort_abstract_eval(*operands, dimension, is_stable, num_keys):
    if not operands:
        raise NumbaxTypeError("sort needs at least one operand.")
    first = operands[0]
    if any(o.shape != first.shape for o in operands):
        raise shape_error("sort", "requires operands of one shape", *operands)
    if not 0 <= dimension < first.ndim:
        raise shape_error("sort", f"dimension {dimension} is out of range for rank {first.ndim}", *operands)
    if not 1 <= num_keys <= len(operands):
        raise shape_error("sort", f"needs 1 <= num_keys <= {len(operands)} (the number of operands), "
                          f"got num_keys={num_keys}", *operands)
    return list(operands)


def _sort_impl(*operands, dimension, is_stable, num_keys):
    # A stable sort is also a valid unstable one, so is_stable needs no branch.
    if len(operands) == 1:
        return [np.sort(operands[0], axis=dimension, kind="stable")]
    if num_keys == 1:
        perm = np.argsort(operands[0], axis=dimension, kind="stable")
    else:
        perm = np.lexsort(operands[num_keys - 1::-1], axis=dimension)  # lexsort's primary key is last
    return [np.take_along_axis(o, perm, axis=dimension) for o in operands]


sort_p = standard_primitive("sort", _sort_abstract_eval, _sort_impl, multiple_results=True)


def _sort_dimension(fun_name, dimension, ndim):
    dimension = int(dimension)
    if not -ndim <= dimension < ndim:
        raise ValueError(f"{fun_name}: dimension {dimension} is out of bounds for operands of rank "
                         f"{ndim}" + (" (a 0-d array has nothing to sort; reshape it to (1,))." if ndim == 0
                                      else "."))
    return dimension % ndim


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """Sort along ``dimension``.

    Args:
      operand: an array, or a sequence of arrays of one shape. With several,
        they are ordered lexicographically by the first ``num_keys`` of them and
        the others are permuted alongside.
      dimension: the axis to sort along.
      is_stable: keep the input order of equal keys.
      num_keys: how many leading operands are keys.

    Returns:
      An array like ``operand``, or a tuple of arrays like the operands.
      NaNs sort after everything else.
    """
    single = not isinstance(operand, (tuple, list))
    operands = [coerce_scalars(o)[0] for o in ([operand] if single else operand)]
    if not operands:
        raise ValueError("sort needs at least one operand.")
    dimension = _sort_dimension("sort", dimension, operands[0].ndim)
    out = sort_p.bind(*operands, dimension=dimension, is_stable=bool(is_stable), num_keys=int(num_keys))
    return out[0] if single else tuple(out)


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """Sort ``keys`` along ``dimension`` and permute ``values`` (same shape) alike.

    Returns ``(sorted_keys, permuted_values)``."""
    return sort((keys, values), dimension=dimension, is_stable=is_stable, num_keys=1)


# --- top_k -------------------------------------------------------------------------------

def _top_k_abstract_eval(x, *, k, axis):
    if not 0 <= axis < x.ndim:
        raise shape_error("top_k", f"axis {axis} is out of range for rank {x.ndim}", x)
    if not 0 <= k <= x.shape[axis]:
        raise shape_error("top_k", f"needs 0 <= k <= {x.shape[axis]} (the size of axis {axis}), got k={k}", x)
    shape = x.shape[:axis] + (k,) + x.shape[axis + 1:]
    return [ShapedArray(shape, x.dtype, x.weak_type), ShapedArray(shape, dtypes.int32)]


def _top_k_impl(x, *, k, axis):
    # Descending and stable (ties keep the lower index first, NaN counts as
    # the largest): a stable ascending sort of the reversed axis, read backwards.
    n = x.shape[axis]
    ascending = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    indices = (n - 1 - np.flip(ascending, axis)).take(np.arange(k), axis=axis)
    return [np.take_along_axis(x, indices, axis=axis), indices.astype(np.int32)]


top_k_p = standard_primitive("top_k", _top_k_abstract_eval, _top_k_impl, multiple_results=True)


def top_k(operand, k, *, axis=-1):
    """The ``k`` largest entries along ``axis`` (default the last) and their indices.

    Returns ``(values, indices)``: ``operand``'s shape with ``axis`` of size
    ``k``, values in descending order (ties keep the lower index first; NaN
    counts as the largest) and int32 indices."""
    (operand,) = coerce_scalars(operand)
    if not isinstance(k, (int, np.integer)):
        raise TypeError(f"top_k: k must be a Python int, got {type(k).__name__}; k is static.")
    axis = _sort_dimension("top_k", axis, operand.ndim)
    return tuple(top_k_p.bind(operand, k=int(k), axis=axis))


# --- differentiation rules ---------------------------------------------------------------
# Both permute their operands, so tangents are permuted the same way: the
# permutation comes from sorting an iota alongside (or from top_k's indices)
# and is applied with a gather (take_along_axis), whose transpose is a
# scatter-add. Integer outputs (indices) have zero tangents.

from ..interpreters import jvp as _ad  # noqa: E402


def _take_along_axis(x, indices, axis):
    """``x``'s elements at ``indices`` (in bounds) along ``axis``; other axes
    match one to one."""
    from .index import GatherDimensionNumbers, GatherScatterMode, gather
    from .shape import reshape
    if indices.size == 0:  # nothing to read (gather wants windows that fit)
        return _ad.zeros_like_aval(ShapedArray(tuple(indices.shape), x.dtype))
    others = tuple(d for d in range(x.ndim) if d != axis)
    dnums = GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(axis,), start_index_map=(axis,),
                                   operand_batching_dims=others, start_indices_batching_dims=others)
    return gather(x, reshape(indices, tuple(indices.shape) + (1,)), dnums, (1,) * x.ndim,
                  mode=GatherScatterMode.PROMISE_IN_BOUNDS)


def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    from .elementwise import broadcasted_iota
    shape = tuple(primals[0].shape)
    iota = broadcasted_iota(dtypes.int32, shape, dimension)
    *outs, perm = sort_p.bind(*primals, iota, dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    tangents_out = [_ad.Zero(_ad.tangent_aval(out.aval)) if type(t) is _ad.Zero
                    else _take_along_axis(t, perm, dimension) for out, t in zip(outs, tangents)]
    return outs, tangents_out


sort_p.def_jvp(_sort_jvp)


def _top_k_jvp(primals, tangents, *, k, axis):
    (x,), (g,) = primals, tangents
    values, indices = top_k_p.bind(x, k=k, axis=axis)
    return [values, indices], [_take_along_axis(g, indices, axis), _ad.Zero(_ad.tangent_aval(indices.aval))]


top_k_p.def_jvp(_top_k_jvp)


# --- batching rules ------------------------------------------------------------------------
# One sort of the batched operands along ``dimension`` shifted past the batch
# axis. sort's operands must share a shape, so unbatched ones are broadcast
# along the batch axis and batched ones moved to where the first batched one has it.

from ..interpreters import batching as _batching  # noqa: E402


def _sort_batch(args, dims, *, dimension, is_stable, num_keys):
    first = next(i for i, d in enumerate(dims) if d is not _batching.not_mapped)
    d = dims[first]
    size = args[first].shape[d]
    operands = [_batching.move_batch_axis(a, ad, size, d) for a, ad in zip(args, dims)]
    outs = sort_p.bind(*operands, dimension=dimension + (dimension >= d), is_stable=is_stable,
                       num_keys=num_keys)
    return outs, [d] * len(outs)


sort_p.def_batch(_sort_batch)


def _top_k_batch(args, dims, *, k, axis):
    (x,), (d,) = args, dims  # one operand, so it is the batched one
    return top_k_p.bind(x, k=k, axis=axis + (axis >= d)), [d, d]


top_k_p.def_batch(_top_k_batch)


__all__ = ["sort", "sort_key_val", "top_k"]


# --- lowering (jit) --------------------------------------------------------------------------
# The sorted axis is moved last and the operand viewed as rows; a runtime
# helper computes each row's stable order, which every operand then follows.

def _as_rows(ctx, x, axis):
    shape = x.aval.shape
    perm = tuple(d for d in range(len(shape)) if d != axis) + (axis,)
    expr = ctx.array(x)
    if perm != tuple(range(len(shape))):
        expr = f"np.ascontiguousarray({expr}.transpose({perm}))"
    if x.aval.dtype == np.bool_:
        expr = f"{expr}.astype(np.int8)"  # numba sorts numbers, not bools
    rows = math.prod(shape) // shape[axis] if shape[axis] else 0
    return f"{expr}.reshape(({rows}, {shape[axis]}))", perm


def _from_rows(ctx, out, rows_name, perm):
    moved = tuple(out.aval.shape[d] for d in perm)
    expr = f"{rows_name}.reshape({moved})"
    inverse = tuple(int(i) for i in np.argsort(perm))
    if inverse != tuple(range(len(perm))):
        expr = f"np.ascontiguousarray({expr}.transpose({inverse}))"
    ctx.define(out, expr)


def _take_rows(ctx, x, axis, order, width):
    rows_expr, perm = _as_rows(ctx, x, axis)
    rows, taken = ctx.fresh("rows"), ctx.fresh("taken")
    ctx.emit(f"{rows} = {rows_expr}")
    count = math.prod(x.aval.shape) // x.aval.shape[axis] if x.aval.shape[axis] else 0
    ctx.emit(f"{taken} = rt.empty(({count}, {width}), {ctx.dtype(x)})")
    with ctx.loops((count, width), parallel=False) as (r, j):
        ctx.emit(f"{taken}[{r}, {j}] = {rows}[{r}, {order}[{r}, {j}]]")
    return taken, perm


def _sort_lower(ctx, eqn):
    p = eqn.params
    axis = p["dimension"]
    keys, _ = _as_rows(ctx, eqn.invars[p["num_keys"] - 1], axis)
    order = ctx.fresh("order")
    ctx.emit(f"{order} = rt.stable_argsort_rows({keys}, False)")
    for key in reversed(eqn.invars[:p["num_keys"] - 1]):  # least significant key first
        keys, _ = _as_rows(ctx, key, axis)
        ctx.emit(f"{order} = rt.refine_order({keys}, {order})")
    for x, out in zip(eqn.invars, eqn.outvars):
        taken, perm = _take_rows(ctx, x, axis, order, x.aval.shape[axis])
        _from_rows(ctx, out, taken, perm)


def _top_k_lower(ctx, eqn):
    (x,), (values, indices) = eqn.invars, eqn.outvars
    axis, k = eqn.params["axis"], eqn.params["k"]
    keys, perm = _as_rows(ctx, x, axis)
    order = ctx.fresh("order")
    ctx.emit(f"{order} = rt.top_k_rows({keys}, {k})")
    taken, perm = _take_rows(ctx, x, axis, order, k)
    _from_rows(ctx, values, taken, perm)
    _from_rows(ctx, indices, f"{order}.astype({ctx.dtype(indices)})", perm)


sort_p.def_lowering(_sort_lower, "cpu")
top_k_p.def_lowering(_top_k_lower, "cpu")
