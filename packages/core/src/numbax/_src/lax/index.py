"""Indexing primitives: gather, the scatter family and dynamic slices.

``gather`` and ``scatter`` follow XLA's definitions (the index vector is the
last axis of the indices, as in JAX). Out-of-bounds handling is a param
(``GatherScatterMode``): CLIP clamps each window start so the window fits,
FILL_OR_DROP fills (gather) or skips (scatter) windows that do not fit, and
PROMISE_IN_BOUNDS means "do what XLA does natively": clamp for gather, skip
for scatter. The NumPy impls build one index array per operand axis and do
a single fancy-indexing operation; there is no Python loop over indices.
"""

import math
import enum
from typing import NamedTuple

import numpy as np

from .. import core, dtypes
from ..array import ArrayImpl
from ..core import NumbaxTypeError, ShapedArray
from ..dtypes import ALL, NUMBERS
from ..interpreters import batching as _batching
from ..interpreters import jvp as _ad
from ..interpreters.transpose import is_undefined_primal
from .utils import as_operand, check_dtype, coerce_scalars, shape_error, standard_primitive


class GatherScatterMode(enum.Enum):
    """What gather and scatter do with windows that do not fit in the operand."""

    CLIP = "clip"
    FILL_OR_DROP = "fill"
    PROMISE_IN_BOUNDS = "promise_in_bounds"

    @staticmethod
    def from_any(mode):
        """A mode from None (FILL_OR_DROP), a mode, or "clip", "fill", "drop",
        "promise_in_bounds"."""
        if isinstance(mode, GatherScatterMode):
            return mode
        if mode is None or mode in ("fill", "drop"):
            return GatherScatterMode.FILL_OR_DROP
        if mode == "clip":
            return GatherScatterMode.CLIP
        if mode == "promise_in_bounds":
            return GatherScatterMode.PROMISE_IN_BOUNDS
        raise ValueError(f'Unknown gather/scatter mode "{mode}"; use "clip", "fill" (or "drop") '
                         'or "promise_in_bounds".')


class GatherDimensionNumbers(NamedTuple):
    """How ``gather`` reads windows (XLA's GatherDimensionNumbers).

    offset_dims: output axes that hold the window axes that are kept.
    collapsed_slice_dims: operand axes whose window size is 1 and that are dropped.
    start_index_map: operand axis that each entry of an index vector starts.
    operand_batching_dims / start_indices_batching_dims: paired axes along
      which operand and indices are batched together (window size 1, dropped).
    """

    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()


class ScatterDimensionNumbers(NamedTuple):
    """How ``scatter`` writes windows (XLA's ScatterDimensionNumbers).

    update_window_dims: axes of ``updates`` that are window axes.
    inserted_window_dims: operand axes with window size 1 absent from ``updates``.
    scatter_dims_to_operand_dims: operand axis that each index-vector entry starts.
    operand_batching_dims / scatter_indices_batching_dims: paired batch axes.
    """

    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    operand_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()


def _int_tuples(numbers, cls):
    if not isinstance(numbers, tuple):
        raise TypeError(f"dimension_numbers must be a {cls.__name__}, got {type(numbers).__name__}.")
    return cls(*(tuple(int(d) for d in field) for field in numbers))


# --- shared rules -------------------------------------------------------------------

def _check_dims(prim, field, dims, rank, avals, sorted_=True):
    """``dims`` must be distinct axes in [0, rank) (and sorted, where XLA asks)."""
    if any(not 0 <= d < rank for d in dims) or len(set(dims)) != len(dims) \
            or (sorted_ and list(dims) != sorted(dims)):
        order = "sorted, distinct" if sorted_ else "distinct"
        raise shape_error(prim, f"needs {field}={dims} to be {order} axes in [0, {rank})", *avals)


def _check_indices(prim, indices, avals):
    if not dtypes.is_int(indices.dtype):
        raise shape_error(prim, "needs integer indices; convert them with "
                          "lax.convert_element_type(indices, 'int32')", *avals)
    if indices.ndim < 1:
        raise shape_error(prim, "needs indices of rank >= 1 whose last axis holds the index "
                          "vectors; use indices[..., None] for scalar indices", *avals)


def _check_batching(prim, operand, indices, operand_batching, indices_batching, index_map,
                    window_dropped, avals):
    _check_dims(prim, "operand_batching_dims", operand_batching, operand.ndim, avals)
    _check_dims(prim, "indices batching dims", indices_batching, indices.ndim - 1, avals, False)
    if len(operand_batching) != len(indices_batching):
        raise shape_error(prim, "needs as many operand batching dims as indices batching dims", *avals)
    if any(operand.shape[o] != indices.shape[i] for o, i in zip(operand_batching, indices_batching)):
        raise shape_error(prim, "needs paired batching dims of equal sizes", *avals)
    if set(operand_batching) & set(window_dropped):
        raise shape_error(prim, "cannot use an axis both as a batching dim and a collapsed/inserted "
                          "window dim", *avals)
    _check_dims(prim, "the index-to-operand map", index_map, operand.ndim, avals, False)
    if len(index_map) != indices.shape[-1]:
        raise shape_error(prim, f"maps {len(index_map)} operand axes but the index vectors (last "
                          f"axis of the indices) have length {indices.shape[-1]}", *avals)
    if set(index_map) & set(operand_batching):
        raise shape_error(prim, "cannot index an operand batching dim", *avals)


def _window_starts(operand_shape, indices, index_map, operand_batching, indices_batching,
                   window_sizes, clip):
    """Per operand axis, the window start of each of the N index vectors
    (flattened batch), and which windows lie fully in bounds."""
    batch_shape = indices.shape[:-1]
    n = math.prod(batch_shape)
    vectors = indices.reshape(n, indices.shape[-1]).astype(np.int64)
    starts = [np.zeros(n, np.int64) for _ in operand_shape]
    in_bounds = np.ones(n, bool)
    for k, d in enumerate(index_map):
        upper = operand_shape[d] - window_sizes[d]
        in_bounds &= (vectors[:, k] >= 0) & (vectors[:, k] <= upper)
        starts[d] = np.clip(vectors[:, k], 0, upper) if clip else vectors[:, k]
    for o, i in zip(operand_batching, indices_batching):
        line = np.arange(batch_shape[i]).reshape([-1 if a == i else 1 for a in range(len(batch_shape))])
        starts[o] = np.broadcast_to(line, batch_shape).reshape(n)
    return starts, in_bounds


def _window_index(n, starts, window_sizes):
    """Index arrays selecting an (N, *window_sizes) block of windows from
    ``operand[None]``: the leading size-1 axis keeps the N axis when the
    operand has rank 0."""
    rank = len(window_sizes)
    grids = [np.zeros((n,) + (1,) * rank, np.int64)]
    for d, (start, size) in enumerate(zip(starts, window_sizes)):
        offsets = np.arange(size).reshape([-1 if a == d else 1 for a in range(rank)])
        grids.append(start.reshape((-1,) + (1,) * rank) + offsets[None])
    return tuple(grids)


def _full(shape, value, dtype):
    from .shape import broadcast_in_dim
    return broadcast_in_dim(ArrayImpl(np.array(value, dtype)), shape, ())


def _zero_tangent(x):
    return _ad.Zero(_ad.tangent_aval(core.get_aval(x)))


def _linear_jvp(primitive, *linear):
    """JVP of a primitive linear in the operands at positions ``linear`` (the
    others are integer indices): apply it to the tangents."""
    def rule(primals, tangents, **params):
        out = primitive.bind(*primals, **params)
        if all(type(tangents[i]) is _ad.Zero for i in linear):
            return out, _zero_tangent(out)
        args = [_ad.instantiate(t) if i in linear else p for i, (p, t) in enumerate(zip(primals, tangents))]
        return out, primitive.bind(*args, **params)
    primitive.def_jvp(rule)
    return rule


def _plus1(axes):
    return tuple(a + 1 for a in axes)


def _batch_size(args, dims):
    return next(a.shape[d] for a, d in zip(args, dims) if d is not _batching.not_mapped)


# --- gather ---------------------------------------------------------------------------

def _gather_abstract_eval(operand, indices, *, dimension_numbers, slice_sizes, indices_are_sorted,
                          unique_indices, mode, fill_value):
    dn, avals = dimension_numbers, (operand, indices)
    _check_indices("gather", indices, avals)
    if len(slice_sizes) != operand.ndim or any(not 0 <= s <= n for s, n in zip(slice_sizes, operand.shape)):
        raise shape_error("gather", f"needs one slice size per operand axis, each between 0 and the "
                          f"axis size; got slice_sizes={slice_sizes}", *avals)
    dropped = dn.collapsed_slice_dims + dn.operand_batching_dims
    _check_dims("gather", "collapsed_slice_dims", dn.collapsed_slice_dims, operand.ndim, avals)
    # A batching dim of size 0 (an empty vmap) has slice size 0, as in JAX.
    if any(slice_sizes[d] != 1 for d in dn.collapsed_slice_dims) or \
            any(slice_sizes[d] != min(1, operand.shape[d]) for d in dn.operand_batching_dims):
        raise shape_error("gather", "needs slice size 1 along collapsed and batching dims; got "
                          f"slice_sizes={slice_sizes}", *avals)
    _check_batching("gather", operand, indices, dn.operand_batching_dims,
                    dn.start_indices_batching_dims, dn.start_index_map, dn.collapsed_slice_dims, avals)
    kept = [slice_sizes[d] for d in range(operand.ndim) if d not in dropped]
    batch = list(indices.shape[:-1])
    out_rank = len(batch) + len(kept)
    _check_dims("gather", "offset_dims", dn.offset_dims, out_rank, avals)
    if len(dn.offset_dims) != len(kept):
        raise shape_error("gather", f"needs one offset dim per kept window axis ({len(kept)}), got "
                          f"offset_dims={dn.offset_dims}", *avals)
    shape = [kept.pop(0) if p in dn.offset_dims else batch.pop(0) for p in range(out_rank)]
    return ShapedArray(tuple(shape), operand.dtype, operand.weak_type)


def _default_fill(dtype):
    if dtype.kind == "f":
        return np.nan
    if dtype.kind == "b":
        return True
    info = np.iinfo(dtype)
    return info.min if dtype.kind == "i" else info.max


def _gather_impl(operand, indices, *, dimension_numbers, slice_sizes, indices_are_sorted,
                 unique_indices, mode, fill_value):
    dn = dimension_numbers
    batch_shape = indices.shape[:-1]
    starts, in_bounds = _window_starts(operand.shape, indices, dn.start_index_map,
                                       dn.operand_batching_dims, dn.start_indices_batching_dims,
                                       slice_sizes, clip=True)
    n = math.prod(batch_shape)
    windows = operand[None][_window_index(n, starts, slice_sizes)]
    if mode is GatherScatterMode.FILL_OR_DROP:
        fill = _default_fill(operand.dtype) if fill_value is None else fill_value
        mask = in_bounds.reshape((-1,) + (1,) * operand.ndim)
        windows = np.where(mask, windows, np.array(fill).astype(operand.dtype))
    dropped = set(dn.collapsed_slice_dims) | set(dn.operand_batching_dims)
    kept = [slice_sizes[d] for d in range(operand.ndim) if d not in dropped]
    windows = windows.reshape(batch_shape + tuple(kept))
    # Output axis p reads a window axis if p is an offset dim, else the next batch axis.
    batch_axes, window_axes = iter(range(len(batch_shape))), iter(range(len(batch_shape), windows.ndim))
    order = [next(window_axes) if p in dn.offset_dims else next(batch_axes) for p in range(windows.ndim)]
    return np.transpose(windows, order)


gather_p = standard_primitive("gather", _gather_abstract_eval, _gather_impl)


def _gather_jvp(primals, tangents, *, mode, fill_value, **params):
    operand, indices = primals
    out = gather_p.bind(operand, indices, mode=mode, fill_value=fill_value, **params)
    if type(tangents[0]) is _ad.Zero:
        return out, _zero_tangent(out)
    fill = 0 if mode is GatherScatterMode.FILL_OR_DROP else None  # filled windows are constant
    return out, gather_p.bind(tangents[0], indices, mode=mode, fill_value=fill, **params)


def _gather_transpose(ct, operand, indices, *, dimension_numbers, slice_sizes, indices_are_sorted,
                      unique_indices, mode, fill_value):
    dn = dimension_numbers
    scatter_dn = ScatterDimensionNumbers(
        update_window_dims=dn.offset_dims, inserted_window_dims=dn.collapsed_slice_dims,
        scatter_dims_to_operand_dims=dn.start_index_map, operand_batching_dims=dn.operand_batching_dims,
        scatter_indices_batching_dims=dn.start_indices_batching_dims)
    # The impl clamps PROMISE_IN_BOUNDS windows, so their cotangents go to the
    # clamped windows too (XLA would drop them).
    if mode is GatherScatterMode.PROMISE_IN_BOUNDS:
        mode = GatherScatterMode.CLIP
    zeros = _full(operand.aval.shape, 0, ct.dtype)
    ct_operand = scatter_add_p.bind(zeros, indices, ct, dimension_numbers=scatter_dn,
                                    indices_are_sorted=indices_are_sorted, unique_indices=unique_indices,
                                    mode=mode)
    return [ct_operand, None]


gather_p.def_jvp(_gather_jvp)
gather_p.def_transpose(_gather_transpose)


def _gather_batch(args, dims, *, dimension_numbers, slice_sizes, **params):
    # With the batch axis first everywhere: a batched operand alone gains a
    # whole window axis (output axis 0); batched indices alone gain a batch
    # axis (output axis 0, as no offset dim is 0 any more); both batched pair
    # their batch axes through operand/start_indices_batching_dims, as JAX does.
    (operand, indices), (operand_d, indices_d) = args, dims
    dn, size = dimension_numbers, _batch_size(args, dims)
    if indices_d is _batching.not_mapped:
        operand = _batching.bdim_at_front(operand, operand_d, size)
        dn = GatherDimensionNumbers(
            offset_dims=(0,) + _plus1(dn.offset_dims), collapsed_slice_dims=_plus1(dn.collapsed_slice_dims),
            start_index_map=_plus1(dn.start_index_map), operand_batching_dims=_plus1(dn.operand_batching_dims),
            start_indices_batching_dims=dn.start_indices_batching_dims)
        slice_sizes = (size,) + slice_sizes
    elif operand_d is _batching.not_mapped:
        # Different examples may read the same element: not sorted or unique any more.
        indices = _batching.bdim_at_front(indices, indices_d, size)
        dn = dn._replace(offset_dims=_plus1(dn.offset_dims),
                         start_indices_batching_dims=_plus1(dn.start_indices_batching_dims))
        params.update(indices_are_sorted=False, unique_indices=False)
    else:
        operand = _batching.bdim_at_front(operand, operand_d, size)
        indices = _batching.bdim_at_front(indices, indices_d, size)
        dn = GatherDimensionNumbers(
            offset_dims=_plus1(dn.offset_dims), collapsed_slice_dims=_plus1(dn.collapsed_slice_dims),
            start_index_map=_plus1(dn.start_index_map),
            operand_batching_dims=(0,) + _plus1(dn.operand_batching_dims),
            start_indices_batching_dims=(0,) + _plus1(dn.start_indices_batching_dims))
        slice_sizes = (min(1, size),) + slice_sizes
    return gather_p.bind(operand, indices, dimension_numbers=dn, slice_sizes=slice_sizes, **params), 0


gather_p.def_batch(_gather_batch)


def _static_fill_value(fill_value):
    if fill_value is None:
        return None
    if isinstance(fill_value, core.Tracer):
        raise TypeError("gather: fill_value must be a static Python scalar, got a traced value.")
    value = np.asarray(fill_value)
    if value.shape:
        raise TypeError(f"gather: fill_value must be a scalar, got shape {value.shape}.")
    return value.item()


def gather(operand, start_indices, dimension_numbers, slice_sizes, *, indices_are_sorted=False,
           unique_indices=False, mode=None, fill_value=None):
    """Read windows of ``operand`` starting at the index vectors in ``start_indices``.

    Args:
      operand: array of any rank.
      start_indices: integer array; its last axis holds the index vectors
        (``len(dimension_numbers.start_index_map)`` entries), the other axes are
        batch axes.
      dimension_numbers: a ``GatherDimensionNumbers``.
      slice_sizes: window size per operand axis (1 along collapsed/batching dims).
      mode: ``GatherScatterMode`` or str; None means FILL_OR_DROP, as in JAX.
      fill_value: value of out-of-bounds windows under FILL_OR_DROP; default NaN
        for floats, the minimum for signed ints, the maximum for unsigned, True.

    Returns:
      Array of ``operand``'s dtype: batch axes of ``start_indices`` and the kept
      window axes (at ``offset_dims``).
    """
    (operand,) = coerce_scalars(operand)
    start_indices = as_operand(start_indices)
    mode = GatherScatterMode.from_any(mode)
    return gather_p.bind(
        operand, start_indices, dimension_numbers=_int_tuples(dimension_numbers, GatherDimensionNumbers),
        slice_sizes=tuple(int(s) for s in slice_sizes), indices_are_sorted=bool(indices_are_sorted),
        unique_indices=bool(unique_indices), mode=mode,
        fill_value=_static_fill_value(fill_value) if mode is GatherScatterMode.FILL_OR_DROP else None)


# --- scatter -----------------------------------------------------------------------------

def _scatter_abstract_eval(name, allowed):
    def abstract_eval(operand, indices, updates, *, dimension_numbers, indices_are_sorted,
                      unique_indices, mode):
        dn, avals = dimension_numbers, (operand, indices, updates)
        _check_indices(name, indices, avals)
        check_dtype(name, operand, allowed)
        if updates.dtype != operand.dtype:
            raise shape_error(name, "needs updates of the operand's dtype; convert them with "
                              "lax.convert_element_type(updates, operand.dtype)", *avals)
        _check_dims(name, "inserted_window_dims", dn.inserted_window_dims, operand.ndim, avals)
        _check_batching(name, operand, indices, dn.operand_batching_dims,
                        dn.scatter_indices_batching_dims, dn.scatter_dims_to_operand_dims,
                        dn.inserted_window_dims, avals)
        _check_dims(name, "update_window_dims", dn.update_window_dims, updates.ndim, avals)
        window_axes = [d for d in range(operand.ndim)
                       if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
        if len(window_axes) != len(dn.update_window_dims):
            raise shape_error(name, f"needs one update window dim per operand axis that is not "
                              f"inserted or batched ({len(window_axes)}), got update_window_dims="
                              f"{dn.update_window_dims}", *avals)
        scatter_sizes = tuple(s for i, s in enumerate(updates.shape) if i not in dn.update_window_dims)
        if scatter_sizes != indices.shape[:-1]:
            raise shape_error(name, f"needs the non-window axes of updates {scatter_sizes} to match "
                              f"the batch axes of the indices {indices.shape[:-1]}", *avals)
        for axis, u in zip(window_axes, dn.update_window_dims):
            if updates.shape[u] > operand.shape[axis]:
                raise shape_error(name, f"got an update window of size {updates.shape[u]} along "
                                  f"operand axis {axis} of size {operand.shape[axis]}", *avals)
        return ShapedArray(operand.shape, operand.dtype, operand.weak_type)
    abstract_eval.__name__ = f"_{name.replace('-', '_')}_abstract_eval"
    return abstract_eval


def _scatter_impl(combine):
    def impl(operand, indices, updates, *, dimension_numbers, indices_are_sorted, unique_indices, mode):
        dn = dimension_numbers
        scatter_axes = [a for a in range(updates.ndim) if a not in dn.update_window_dims]
        updates = np.transpose(updates, scatter_axes + list(dn.update_window_dims))
        window_sizes = [1] * operand.ndim
        window_axes = [d for d in range(operand.ndim)
                       if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
        for axis, size in zip(window_axes, updates.shape[len(scatter_axes):]):
            window_sizes[axis] = size
        n = math.prod(updates.shape[:len(scatter_axes)])
        updates = updates.reshape((n,) + tuple(window_sizes))  # not -1: windows may be empty
        clip = mode is GatherScatterMode.CLIP
        starts, in_bounds = _window_starts(operand.shape, indices, dn.scatter_dims_to_operand_dims,
                                           dn.operand_batching_dims, dn.scatter_indices_batching_dims,
                                           window_sizes, clip)
        if not clip:  # windows that do not fit are skipped whole, as XLA does
            starts = [s[in_bounds] for s in starts]
            updates = updates[in_bounds]
        out = operand[None].copy()
        combine(out, _window_index(len(updates), starts, window_sizes), updates)
        return out[0]
    return impl


def _assign(out, index, updates):
    out[index] = updates  # with duplicate indices, the last update wins


def _scatter_primitive(name, combine, allowed):
    return standard_primitive(name, _scatter_abstract_eval(name, allowed), _scatter_impl(combine))


scatter_p = _scatter_primitive("scatter", _assign, ALL)
scatter_add_p = _scatter_primitive("scatter-add", np.add.at, NUMBERS)
scatter_mul_p = _scatter_primitive("scatter-mul", np.multiply.at, NUMBERS)
scatter_min_p = _scatter_primitive("scatter-min", np.minimum.at, ALL)
scatter_max_p = _scatter_primitive("scatter-max", np.maximum.at, ALL)


def _scatter_batch(prim):
    """Batch rule of a scatter: the output is batched, so the operand and the
    updates get the batch axis first (broadcast if they lack it). Unbatched
    indices write a window whose first axis spans the batch; batched indices
    pair their batch axis with the operand's through the batching dims."""
    def rule(args, dims, *, dimension_numbers, **params):
        (operand, indices, updates), (operand_d, indices_d, updates_d) = args, dims
        dn, size = dimension_numbers, _batch_size(args, dims)
        operand = _batching.bdim_at_front(operand, operand_d, size)
        updates = _batching.bdim_at_front(updates, updates_d, size)
        if indices_d is _batching.not_mapped:
            dn = ScatterDimensionNumbers(
                update_window_dims=(0,) + _plus1(dn.update_window_dims),
                inserted_window_dims=_plus1(dn.inserted_window_dims),
                scatter_dims_to_operand_dims=_plus1(dn.scatter_dims_to_operand_dims),
                operand_batching_dims=_plus1(dn.operand_batching_dims),
                scatter_indices_batching_dims=dn.scatter_indices_batching_dims)
        else:
            indices = _batching.bdim_at_front(indices, indices_d, size)
            dn = ScatterDimensionNumbers(
                update_window_dims=_plus1(dn.update_window_dims),
                inserted_window_dims=_plus1(dn.inserted_window_dims),
                scatter_dims_to_operand_dims=_plus1(dn.scatter_dims_to_operand_dims),
                operand_batching_dims=(0,) + _plus1(dn.operand_batching_dims),
                scatter_indices_batching_dims=(0,) + _plus1(dn.scatter_indices_batching_dims))
        return prim.bind(operand, indices, updates, dimension_numbers=dn, **params), 0
    rule.__name__ = f"_{prim.name.replace('-', '_')}_batch"
    return rule


for _prim in (scatter_p, scatter_add_p, scatter_mul_p, scatter_min_p, scatter_max_p):
    _prim.def_batch(_scatter_batch(_prim))


def _scatter_wrapper(prim, what):
    def wrapper(operand, scatter_indices, updates, dimension_numbers, *, indices_are_sorted=False,
                unique_indices=False, mode=None):
        operand, updates = coerce_scalars(operand, updates)
        return prim.bind(operand, as_operand(scatter_indices), updates,
                         dimension_numbers=_int_tuples(dimension_numbers, ScatterDimensionNumbers),
                         indices_are_sorted=bool(indices_are_sorted), unique_indices=bool(unique_indices),
                         mode=GatherScatterMode.from_any(mode))
    wrapper.__name__ = prim.name.replace("-", "_")
    wrapper.__doc__ = f"""Write windows of ``updates`` into ``operand`` at ``scatter_indices``, {what}.

    Args:
      operand: array of any rank.
      scatter_indices: integer array; its last axis holds the index vectors.
      updates: array of ``operand``'s dtype: the batch axes of ``scatter_indices``
        plus the window axes at ``dimension_numbers.update_window_dims``.
      dimension_numbers: a ``ScatterDimensionNumbers``.
      mode: None or "drop"/"fill" skip windows that do not fit (as do
        "promise_in_bounds"); "clip" clamps their starts.

    Returns:
      Array of ``operand``'s shape and dtype.
    """
    return wrapper


# --- scatter differentiation rules ------------------------------------------------------------
# ``_inverse_gather`` reads, for each element of ``updates``, the operand
# element that the scatter combines it with: the transposes of scatter_add and
# gather are each other.

def _inverse_gather(x, indices, updates_shape, *, dimension_numbers, indices_are_sorted, unique_indices,
                    mode, fill_value=0):
    dn = dimension_numbers
    window_axes = [d for d in range(x.ndim)
                   if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
    slice_sizes = [min(1, n) if d in dn.operand_batching_dims else 1 for d, n in enumerate(x.shape)]
    for axis, u in zip(window_axes, dn.update_window_dims):
        slice_sizes[axis] = updates_shape[u]
    gather_dn = GatherDimensionNumbers(
        offset_dims=dn.update_window_dims, collapsed_slice_dims=dn.inserted_window_dims,
        start_index_map=dn.scatter_dims_to_operand_dims, operand_batching_dims=dn.operand_batching_dims,
        start_indices_batching_dims=dn.scatter_indices_batching_dims)
    # Scatter skips the windows that do not fit unless it clips: gather fills those.
    clip = mode is GatherScatterMode.CLIP
    return gather_p.bind(x, indices, dimension_numbers=gather_dn, slice_sizes=tuple(slice_sizes),
                         indices_are_sorted=indices_are_sorted, unique_indices=unique_indices,
                         mode=GatherScatterMode.CLIP if clip else GatherScatterMode.FILL_OR_DROP,
                         fill_value=None if clip else fill_value)


def _shape_of(x):
    return x.aval.shape  # an UndefinedPrimal, an array or a tracer


def _scatter_add_transpose(ct, operand, indices, updates, **params):
    ct_updates = None
    if is_undefined_primal(updates):
        ct_updates = _inverse_gather(ct, indices, _shape_of(updates), **params)
    return [ct if is_undefined_primal(operand) else None, None, ct_updates]


_linear_jvp(scatter_add_p, 0, 2)
scatter_add_p.def_transpose(_scatter_add_transpose)


def _scatter_transpose(ct, operand, indices, updates, **params):
    from . import elementwise as lax
    updates_shape = _shape_of(updates)
    ct_operand = ct_updates = None
    if is_undefined_primal(operand):  # overwritten elements get no cotangent
        ct_operand = scatter_p.bind(ct, indices, _full(updates_shape, 0, ct.dtype), **params)
    if is_undefined_primal(updates):
        ct_updates = _inverse_gather(ct, indices, updates_shape, **params)
        if not params["unique_indices"]:
            # Of duplicate indices only the last writer reached the output: scatter
            # each update's id and keep the cotangents of the ids that survived.
            from .shape import reshape
            size = math.prod(updates_shape)
            ids = reshape(lax.iota(np.int32, size), updates_shape)
            written = scatter_p.bind(_full(ct.shape, -1, np.int32), indices, ids, **params)
            survived = lax.eq(_inverse_gather(written, indices, updates_shape, fill_value=-1, **params), ids)
            ct_updates = lax.select_n(survived, _full(updates_shape, 0, ct.dtype), ct_updates)
    return [ct_operand, None, ct_updates]


_linear_jvp(scatter_p, 0, 2)  # deterministic: the same update wins for the tangents
scatter_p.def_transpose(_scatter_transpose)


def _scatter_mul_jvp(primals, tangents, **params):
    from . import elementwise as lax
    operand, indices, updates = primals
    g_operand, _, g_updates = tangents
    out = scatter_mul_p.bind(operand, indices, updates, **params)
    if type(g_operand) is _ad.Zero and type(g_updates) is _ad.Zero:
        return out, _zero_tangent(out)
    dtype = core.get_aval(out).dtype
    ones, zeros = _full(operand.shape, 1, dtype), _full(operand.shape, 0, dtype)
    tangent = _zero_tangent(out)
    if type(g_operand) is not _ad.Zero:  # out = operand * (product of its updates)
        tangent = lax.mul(g_operand, scatter_mul_p.bind(ones, indices, updates, **params))
    if type(g_updates) is not _ad.Zero:
        # d out / d updates[k] = operand * (product of the other updates at k's
        # element), from the product of the nonzero ones and the count of zeros.
        def at_each_update(x):
            return _inverse_gather(x, indices, updates.shape, **params)
        is_zero = lax.eq(updates, _full((), 0, dtype))
        nonzero = lax.select_n(is_zero, updates, _full(updates.shape, 1, dtype))
        zero_count = at_each_update(scatter_add_p.bind(zeros, indices, lax.convert_element_type(is_zero, dtype),
                                                       **params))
        product = at_each_update(scatter_mul_p.bind(ones, indices, nonzero, **params))
        none = _full(updates.shape, 0, dtype)
        others = lax.select_n(
            is_zero,
            lax.select_n(lax.eq(zero_count, _full((), 0, dtype)), none, lax.div(product, nonzero)),
            lax.select_n(lax.eq(zero_count, _full((), 1, dtype)), none, product))
        spread = scatter_add_p.bind(zeros, indices, lax.mul(g_updates, others), **params)
        tangent = _ad.add_tangents(tangent, lax.mul(operand, spread))
    return out, tangent


scatter_mul_p.def_jvp(_scatter_mul_jvp)


def _scatter_extremum_jvp(primitive):
    """Tangent of the winning value; ties between the operand and updates share
    it equally, as for lax.max and lax.min."""
    def rule(primals, tangents, **params):
        from . import elementwise as lax
        operand, indices, updates = primals
        out = primitive.bind(operand, indices, updates, **params)
        if type(tangents[0]) is _ad.Zero and type(tangents[2]) is _ad.Zero:
            return out, _zero_tangent(out)
        g_operand, g_updates = _ad.instantiate(tangents[0]), _ad.instantiate(tangents[2])
        dtype = g_operand.dtype
        zeros = _full(operand.shape, 0, dtype)
        operand_won = lax.convert_element_type(lax.eq(operand, out), dtype)
        out_at_updates = _inverse_gather(out, indices, updates.shape, **params)
        update_won = lax.convert_element_type(lax.eq(updates, out_at_updates), dtype)
        winners = lax.add(operand_won, scatter_add_p.bind(zeros, indices, update_won, **params))
        total = lax.add(lax.mul(g_operand, operand_won),
                        scatter_add_p.bind(zeros, indices, lax.mul(g_updates, update_won), **params))
        return out, lax.div(total, lax.max(winners, _full((), 1, dtype)))  # no winner: a NaN was involved
    primitive.def_jvp(rule)
    return rule


_scatter_extremum_jvp(scatter_min_p)
_scatter_extremum_jvp(scatter_max_p)


scatter = _scatter_wrapper(scatter_p, "replacing its values (the last of duplicate indices wins)")
scatter_add = _scatter_wrapper(scatter_add_p, "adding (duplicate indices accumulate)")
scatter_mul = _scatter_wrapper(scatter_mul_p, "multiplying (duplicate indices accumulate)")
scatter_min = _scatter_wrapper(scatter_min_p, "taking the minimum (duplicates accumulate)")
scatter_max = _scatter_wrapper(scatter_max_p, "taking the maximum (duplicates accumulate)")


# --- dynamic_slice and dynamic_update_slice ------------------------------------------------

def _check_starts(prim, operand, starts, avals):
    if len(starts) != operand.ndim:
        raise shape_error(prim, f"needs one start index per operand axis ({operand.ndim}), got "
                          f"{len(starts)}", *avals)
    if any(s.shape or not dtypes.is_int(s.dtype) for s in starts):
        raise shape_error(prim, "needs start indices that are scalar integers", *avals)


def _clamped_starts(shape, starts, sizes):
    return tuple(int(np.clip(int(s), 0, n - k)) for s, n, k in zip(starts, shape, sizes))


def _dynamic_slice_abstract_eval(operand, *starts, slice_sizes):
    _check_starts("dynamic_slice", operand, starts, (operand, *starts))
    if len(slice_sizes) != operand.ndim or any(not 0 <= k <= n for k, n in zip(slice_sizes, operand.shape)):
        raise shape_error("dynamic_slice", f"needs slice_sizes={slice_sizes} to give one size per "
                          "axis, each between 0 and the axis size", operand)
    return ShapedArray(slice_sizes, operand.dtype, operand.weak_type)


def _dynamic_slice_impl(operand, *starts, slice_sizes):
    begin = _clamped_starts(operand.shape, starts, slice_sizes)
    return operand[tuple(slice(b, b + k) for b, k in zip(begin, slice_sizes))]


dynamic_slice_p = standard_primitive("dynamic_slice", _dynamic_slice_abstract_eval, _dynamic_slice_impl)


def _dynamic_slice_transpose(ct, operand, *starts, slice_sizes):
    zeros = _full(operand.aval.shape, 0, ct.dtype)
    return [dynamic_update_slice_p.bind(zeros, ct, *starts)] + [None] * len(starts)


_linear_jvp(dynamic_slice_p, 0)
dynamic_slice_p.def_transpose(_dynamic_slice_transpose)


def _stacked_starts(starts, dims, size):
    """Start scalars, some batched, as (size, len(starts)) gather/scatter indices."""
    from . import elementwise as lax
    from .shape import broadcast_in_dim, concatenate
    dtype = next(s.dtype for s, d in zip(starts, dims) if d is not _batching.not_mapped)
    columns = [broadcast_in_dim(lax.convert_element_type(s, dtype), (size, 1),
                                () if d is _batching.not_mapped else (0,))
               for s, d in zip(starts, dims)]
    return concatenate(columns, 1)


def _unbatched(dims):
    return all(d is _batching.not_mapped for d in dims)


def _zero_start(starts):
    return ArrayImpl(np.zeros((), starts[0].dtype if starts else np.int32))


def _dynamic_slice_batch(args, dims, *, slice_sizes):
    # Unbatched starts: the window spans the whole batch axis. Batched starts
    # read one window per example: a gather, clamping its starts as this does.
    (operand, *starts), (operand_d, *start_dims) = args, dims
    size = _batch_size(args, dims)
    if _unbatched(start_dims):
        starts.insert(operand_d, _zero_start(starts))
        sizes = slice_sizes[:operand_d] + (size,) + slice_sizes[operand_d:]
        return dynamic_slice_p.bind(operand, *starts, slice_sizes=sizes), operand_d
    indices = _stacked_starts(starts, start_dims, size)
    axes = tuple(range(1, len(starts) + 1))
    if operand_d is _batching.not_mapped:
        dn = GatherDimensionNumbers(offset_dims=axes, collapsed_slice_dims=(),
                                    start_index_map=tuple(range(len(starts))))
    else:
        operand = _batching.bdim_at_front(operand, operand_d, size)
        dn = GatherDimensionNumbers(offset_dims=axes, collapsed_slice_dims=(), start_index_map=axes,
                                    operand_batching_dims=(0,), start_indices_batching_dims=(0,))
        slice_sizes = (min(1, size),) + slice_sizes
    return gather_p.bind(operand, indices, dimension_numbers=dn, slice_sizes=slice_sizes,
                         indices_are_sorted=True, unique_indices=True, mode=GatherScatterMode.CLIP,
                         fill_value=None), 0


dynamic_slice_p.def_batch(_dynamic_slice_batch)


def _dynamic_update_slice_abstract_eval(operand, update, *starts):
    avals = (operand, update, *starts)
    _check_starts("dynamic_update_slice", operand, starts, avals)
    if update.dtype != operand.dtype:
        raise shape_error("dynamic_update_slice", "needs an update of the operand's dtype; convert "
                          "it with lax.convert_element_type(update, operand.dtype)", *avals)
    if update.ndim != operand.ndim or any(u > n for u, n in zip(update.shape, operand.shape)):
        raise shape_error("dynamic_update_slice", "needs an update of the operand's rank that fits "
                          "inside it", *avals)
    return ShapedArray(operand.shape, operand.dtype, operand.weak_type)


def _dynamic_update_slice_impl(operand, update, *starts):
    begin = _clamped_starts(operand.shape, starts, update.shape)
    out = operand.copy()
    out[tuple(slice(b, b + k) for b, k in zip(begin, update.shape))] = update
    return out


dynamic_update_slice_p = standard_primitive("dynamic_update_slice", _dynamic_update_slice_abstract_eval,
                                            _dynamic_update_slice_impl)


def _dynamic_update_slice_transpose(ct, operand, update, *starts):
    update_shape = update.aval.shape  # an UndefinedPrimal, an array or a tracer
    ct_operand = ct_update = None
    if is_undefined_primal(operand):
        ct_operand = dynamic_update_slice_p.bind(ct, _full(update_shape, 0, ct.dtype), *starts)
    if is_undefined_primal(update):
        ct_update = dynamic_slice_p.bind(ct, *starts, slice_sizes=update_shape)
    return [ct_operand, ct_update] + [None] * len(starts)


_linear_jvp(dynamic_update_slice_p, 0, 1)
dynamic_update_slice_p.def_transpose(_dynamic_update_slice_transpose)


def _dynamic_update_slice_batch(args, dims):
    # Unbatched starts: one update window spanning the batch axis. Batched
    # starts: a scatter of one window per example, clamped as this clamps.
    (operand, update, *starts), (operand_d, update_d, *start_dims) = args, dims
    size = _batch_size(args, dims)
    operand = _batching.bdim_at_front(operand, operand_d, size)
    update = _batching.bdim_at_front(update, update_d, size)
    if _unbatched(start_dims):
        return dynamic_update_slice_p.bind(operand, update, _zero_start(starts), *starts), 0
    axes = tuple(range(1, len(starts) + 1))
    dn = ScatterDimensionNumbers(update_window_dims=axes, inserted_window_dims=(),
                                 scatter_dims_to_operand_dims=axes, operand_batching_dims=(0,),
                                 scatter_indices_batching_dims=(0,))
    return scatter_p.bind(operand, _stacked_starts(starts, start_dims, size), update, dimension_numbers=dn,
                          indices_are_sorted=True, unique_indices=True, mode=GatherScatterMode.CLIP), 0


dynamic_update_slice_p.def_batch(_dynamic_update_slice_batch)


def _start_indices(prim, shape, start_indices):
    """Scalar integer start operands of one dtype, negative values counted from
    the end (as JAX's wrappers do); the primitive then clamps them."""
    from . import elementwise as lax
    if isinstance(start_indices, (core.Array, np.ndarray)) and np.ndim(start_indices) == 1:
        start_indices = list(start_indices)
    starts = list(start_indices)
    if len(starts) != len(shape):
        raise TypeError(f"{prim}: got {len(starts)} start indices for an operand of shape {shape}; "
                        "pass one per axis.")
    arrays = [s for s in starts if not isinstance(s, (int, np.integer))]
    avals = [core.get_aval(s) for s in arrays]
    for aval in avals:
        if not dtypes.is_int(aval.dtype) or aval.shape:
            raise TypeError(f"{prim}: start indices must be scalar integers, got {aval.str_short()}.")
    wide = any(aval.dtype.itemsize == 8 for aval in avals)
    index_dtype = dtypes.canonicalize_dtype(np.int64 if wide else np.int32)
    out = []
    for s, size in zip(starts, shape):
        if isinstance(s, (int, np.integer)):
            s = int(s)
            out.append(ArrayImpl(np.array(s + size if s < 0 else s, index_dtype)))
            continue
        s = lax.convert_element_type(as_operand(s), index_dtype)
        out.append(lax.select_n(lax.lt(s, 0), s, lax.add(s, size)))
    return out


def dynamic_slice(operand, start_indices, slice_sizes):
    """The window of ``operand`` of shape ``slice_sizes`` at ``start_indices``.

    Args:
      operand: array of any rank.
      start_indices: one scalar integer (Python int, array or tracer) per axis;
        negative values count from the end; starts are then clamped so the
        window fits, as in XLA.
      slice_sizes: static window size per axis.

    Returns:
      Array of shape ``slice_sizes`` and ``operand``'s dtype.
    """
    (operand,) = coerce_scalars(operand)
    starts = _start_indices("dynamic_slice", operand.shape, start_indices)
    return dynamic_slice_p.bind(operand, *starts, slice_sizes=tuple(int(k) for k in slice_sizes))


def dynamic_update_slice(operand, update, start_indices):
    """``operand`` with the window at ``start_indices`` replaced by ``update``.

    Args:
      operand: array of any rank.
      update: array of ``operand``'s rank and dtype, no larger along any axis.
      start_indices: one scalar integer per axis (negative counts from the
        end); clamped so ``update`` fits.

    Returns:
      Array of ``operand``'s shape and dtype.
    """
    operand, update = coerce_scalars(operand, update)
    starts = _start_indices("dynamic_update_slice", operand.shape, start_indices)
    return dynamic_update_slice_p.bind(operand, update, *starts)


def _axis(fun, axis, ndim):
    if not -ndim <= axis < ndim:
        raise NumbaxTypeError(f"{fun}: axis {axis} is out of bounds for an operand of rank {ndim}.")
    return axis % ndim


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0):
    """``dynamic_slice`` of ``slice_size`` elements from ``start_index`` along
    ``axis``, keeping every other axis whole."""
    (operand,) = coerce_scalars(operand)
    axis = _axis("dynamic_slice_in_dim", int(axis), operand.ndim)
    starts = [0] * operand.ndim
    sizes = list(operand.shape)
    starts[axis], sizes[axis] = start_index, int(slice_size)
    return dynamic_slice(operand, starts, sizes)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True):
    """Element ``index`` along ``axis`` (clamped); drops that axis unless ``keepdims``."""
    from .shape import squeeze
    (operand,) = coerce_scalars(operand)
    axis = _axis("dynamic_index_in_dim", int(axis), operand.ndim)
    out = dynamic_slice_in_dim(operand, index, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


def dynamic_update_slice_in_dim(operand, update, start_index, axis):
    """``dynamic_update_slice`` at ``start_index`` along ``axis`` (0 elsewhere)."""
    (operand,) = coerce_scalars(operand)
    axis = _axis("dynamic_update_slice_in_dim", int(axis), operand.ndim)
    starts = [0] * operand.ndim
    starts[axis] = start_index
    return dynamic_update_slice(operand, update, starts)


def dynamic_update_index_in_dim(operand, update, index, axis):
    """Replace element ``index`` along ``axis`` by ``update`` (which may lack that axis)."""
    from .shape import expand_dims
    operand, update = coerce_scalars(operand, update)
    axis = _axis("dynamic_update_index_in_dim", int(axis), operand.ndim)
    if update.ndim == operand.ndim - 1:
        update = expand_dims(update, (axis,))
    return dynamic_update_slice_in_dim(operand, update, index, axis)


__all__ = ["GatherDimensionNumbers", "GatherScatterMode", "ScatterDimensionNumbers", "gather", "scatter",
           "scatter_add", "scatter_mul", "scatter_min", "scatter_max", "dynamic_slice",
           "dynamic_update_slice", "dynamic_slice_in_dim", "dynamic_index_in_dim",
           "dynamic_update_slice_in_dim", "dynamic_update_index_in_dim"]


# --- lowering (jit) --------------------------------------------------------------------------
# Gathers and scatters are loops over the output (resp. the updates), each
# element computing its operand position from the index vector, with XLA's
# clamping (CLIP, PROMISE_IN_BOUNDS) or whole-window fill/drop (FILL_OR_DROP).

def _window_position(ctx, indices, batch_index, index_map, sizes, shape, clip, ok):
    """Emit the start of each mapped operand axis; returns {axis: start name}.
    Out-of-bounds windows clear the flag ``ok`` unless ``clip``."""
    starts = {}
    for k, axis in enumerate(index_map):
        start = ctx.fresh("st")
        ctx.emit(f"{start} = np.int64({ctx.element(indices, batch_index + [str(k)])})")
        limit = shape[axis] - sizes[axis]
        if clip:
            ctx.emit(f"{start} = min(max({start}, 0), {limit})")
        else:
            ctx.emit(f"if {start} < 0 or {start} > {limit}:")
            ctx.emit(f"    {ok} = False")
        starts[axis] = start
    return starts


def _gather_lower(ctx, eqn):
    (operand, indices), (out,) = eqn.invars, eqn.outvars
    p = eqn.params
    dn, sizes = p["dimension_numbers"], p["slice_sizes"]
    clip = p["mode"] is not GatherScatterMode.FILL_OR_DROP
    fill = _default_fill(operand.aval.dtype) if p["fill_value"] is None else p["fill_value"]
    shape = operand.aval.shape
    result = ctx.fresh("a")
    ctx.emit(f"{result} = {ctx.empty(out.aval)}")
    dropped = set(dn.collapsed_slice_dims) | set(dn.operand_batching_dims)
    kept = [d for d in range(len(shape)) if d not in dropped]
    with ctx.loops(out.aval.shape, parallel=False) as index:
        batch = [i for pos, i in enumerate(index) if pos not in dn.offset_dims]
        window = dict(zip(kept, [i for pos, i in enumerate(index) if pos in dn.offset_dims]))
        ok = ctx.fresh("ok")
        ctx.emit(f"{ok} = True")
        starts = _window_position(ctx, indices, batch, dn.start_index_map, sizes, shape, clip, ok)
        for axis, batch_axis in zip(dn.operand_batching_dims, dn.start_indices_batching_dims):
            starts[axis] = batch[batch_axis]
        position = [" + ".join(x for x in (starts.get(d), window.get(d)) if x) or "0" for d in range(len(shape))]
        target = f"{result}[{', '.join(index) or '()'}]"
        ctx.emit(f"if {ok}:")
        ctx.emit(f"    {target} = {ctx.element(operand, position)}")
        ctx.emit("else:")
        from ..backends.cpu import literal_text
        ctx.emit(f"    {target} = {literal_text(fill, operand.aval.dtype)}")
    ctx.define(out, result)


gather_p.def_lowering(_gather_lower, "cpu")


def _scatter_lowering(combine_float, combine_other=None):
    def rule(ctx, eqn):
        (operand, indices, updates), (out,) = eqn.invars, eqn.outvars
        dn, mode = eqn.params["dimension_numbers"], eqn.params["mode"]
        shape = operand.aval.shape
        result = ctx.fresh("a")
        ctx.emit(f"{result} = {ctx.array(operand)}.copy()")
        window_axes = [d for d in range(len(shape))
                       if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
        sizes = [1] * len(shape)
        for axis, u_axis in zip(window_axes, dn.update_window_dims):
            sizes[axis] = updates.aval.shape[u_axis]
        kind = operand.aval.dtype.kind
        combine = combine_float if kind == "f" or combine_other is None else combine_other
        # Serial loops: with repeated indices the last update wins (scatter).
        with ctx.loops(updates.aval.shape, parallel=False) as index:
            scatter = [i for pos, i in enumerate(index) if pos not in dn.update_window_dims]
            window = dict(zip(window_axes, [i for pos, i in enumerate(index) if pos in dn.update_window_dims]))
            ok = ctx.fresh("ok")
            ctx.emit(f"{ok} = True")
            starts = _window_position(ctx, indices, scatter, dn.scatter_dims_to_operand_dims, sizes, shape,
                                      mode is GatherScatterMode.CLIP, ok)
            for axis, batch_axis in zip(dn.operand_batching_dims, dn.scatter_indices_batching_dims):
                starts[axis] = scatter[batch_axis]
            position = [" + ".join(x for x in (starts.get(d), window.get(d)) if x) or "0" for d in range(len(shape))]
            target = f"{result}[{', '.join(position) or '()'}]"
            update = ctx.element(updates, index)
            ctx.emit(f"if {ok}:")
            ctx.emit(f"    {target} = {ctx.dtype(out)}({combine.format(acc=target, v=update)})")
        ctx.define(out, result)
    return rule


scatter_p.def_lowering(_scatter_lowering("{v}"), "cpu")
scatter_add_p.def_lowering(_scatter_lowering("{acc} + {v}"), "cpu")
scatter_mul_p.def_lowering(_scatter_lowering("{acc} * {v}"), "cpu")
scatter_min_p.def_lowering(_scatter_lowering("rt.fmin({acc}, {v})", "min({acc}, {v})"), "cpu")
scatter_max_p.def_lowering(_scatter_lowering("rt.fmax({acc}, {v})", "max({acc}, {v})"), "cpu")


def _clamped_start_names(ctx, operand_shape, starts, sizes):
    names = []
    for start, n, k in zip(starts, operand_shape, sizes):
        name = ctx.fresh("b")
        ctx.emit(f"{name} = min(max(np.int64({ctx.read(start)}), 0), {n - k})")
        names.append(name)
    return names


def _dynamic_slice_lower(ctx, eqn):
    (operand, *starts), (out,) = eqn.invars, eqn.outvars
    sizes = eqn.params["slice_sizes"]
    begin = _clamped_start_names(ctx, operand.aval.shape, starts, sizes)
    index = ", ".join(f"{b}:{b} + {k}" for b, k in zip(begin, sizes))
    ctx.define(out, f"np.ascontiguousarray({ctx.array(operand)}[{index}])" if index else ctx.array(operand))


def _dynamic_update_slice_lower(ctx, eqn):
    (operand, update, *starts), (out,) = eqn.invars, eqn.outvars
    sizes = update.aval.shape
    begin = _clamped_start_names(ctx, operand.aval.shape, starts, sizes)
    result = ctx.define(out, f"{ctx.array(operand)}.copy()")
    if sizes:
        index = ", ".join(f"{b}:{b} + {k}" for b, k in zip(begin, sizes))
        ctx.emit(f"{result}[{index}] = {ctx.read(update)}")
    else:
        ctx.emit(f"{result} = {ctx.read(update)}")


dynamic_slice_p.def_lowering(_dynamic_slice_lower, "cpu")
dynamic_update_slice_p.def_lowering(_dynamic_update_slice_lower, "cpu")
