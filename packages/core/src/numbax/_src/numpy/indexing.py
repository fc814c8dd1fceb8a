"""NumPy indexing for numbax arrays: ``x[index]``, ``x.at[index].set(...)``
and friends, and the index helpers (``take``, ``nonzero``, ...), written in
terms of ``lax``.

An index is first parsed into one entry per index element (ints, static
slices, None, integer arrays; boolean masks become integer arrays, so they
must be concrete). Indexing without integer arrays of rank >= 1 emits simple
primitives (``slice``, ``rev``, ``dynamic_slice``, ``squeeze``), as JAX does.
Everything else becomes one ``gather`` (reads) or ``scatter`` (updates)
whose dimension numbers follow NumPy's rule for where the advanced axes go:
at the first advanced index if the advanced indices (integer arrays and
ints) are adjacent, else first.
"""

import math
import operator

import numpy as np

from ..errors import NonConcreteBooleanIndexError
from ... import lax
from .. import core, dtypes
from ..array import ArrayImpl
from ..errors import ConcretizationTypeError, user_source_line
from ..lax.index import (GatherDimensionNumbers, GatherScatterMode, ScatterDimensionNumbers,
                         _default_fill)
from .util import canonicalize_axis, check_arraylike, convert, ensure_array, promote_dtypes, promote_shapes

__all__ = ["take", "take_along_axis", "nonzero", "flatnonzero", "argwhere", "unravel_index",
           "ravel_multi_index", "diag_indices", "diag_indices_from", "tril_indices", "tril_indices_from",
           "triu_indices", "triu_indices_from", "indices"]


# --- parsing an index -------------------------------------------------------------------
# Entries are (kind, axis, value): ("none", None, 1 or 0) inserts an axis (0 for
# a False scalar mask); ("int", axis, i) with i >= 0 unless out of bounds;
# ("slice", axis, (start, step, length)); ("array", axis, integer Array).

def _index_error_type(item):
    dtype = getattr(item, "dtype", None)
    what = f"type {dtype}" if dtype is not None else f"{type(item).__name__} {item!r}"
    return TypeError(f"Indexer must have integer or boolean type, got indexer with {what}. Convert "
                     "it with .astype(int) (or use a bool mask of the indexed shape).")


def _concrete_mask(item):
    if isinstance(item, core.Tracer):
        value = item.to_concrete_value()
        if value is None:
            raise NonConcreteBooleanIndexError(
                f"Array boolean indices must be concrete; got a traced {item.aval.str_short()} inside "
                f"{item._trace.description}. The result's shape would depend on the mask's values. "
                "Use jnp.where(mask, x, 0) to keep the shape, or index with "
                f"jnp.nonzero(mask, size=N) for a static bound N.{user_source_line()}")
        item = value
    return np.asarray(item)


def _classify(item):
    """(kind, value) of one index element, before axes are assigned."""
    if item is None:
        return "none", 1
    if item is Ellipsis:
        return "ellipsis", None
    if isinstance(item, (bool, np.bool_)):
        return "none", int(item)
    if isinstance(item, (int, np.integer)):
        return "int", int(item)
    if isinstance(item, slice):
        return "slice", item
    if isinstance(item, str):
        raise TypeError(f"numbax does not support string indexing; got {item!r}.")
    if isinstance(item, (list, tuple)):
        item = np.asarray(item)
        if item.size == 0:
            item = item.astype(np.int32)
    if not isinstance(item, (core.Array, np.ndarray)):
        raise _index_error_type(item)
    dtype = np.dtype(item.dtype)
    if dtype == np.bool_:
        mask = _concrete_mask(item)
        return ("none", int(mask)) if mask.ndim == 0 else ("mask", mask)
    if not dtypes.is_int(dtype):
        raise _index_error_type(item)
    if isinstance(item, np.ndarray) and item.ndim == 0:
        return "int", int(item)
    return "array", ensure_array(item)


def _static_slice(item, size):
    """(start, step, length) of a slice with static bounds on an axis of ``size``."""
    try:
        bounds = [None if b is None else operator.index(b) for b in (item.start, item.stop, item.step)]
    except TypeError:
        raise IndexError(
            f"Slice bounds must be static Python ints, got {item}. For a traced start use "
            "lax.dynamic_slice_in_dim(x, start, size, axis) (the size must be static)."
            f"{user_source_line()}") from None
    if bounds[2] == 0:
        raise ValueError("slice step cannot be zero")
    start, stop, step = slice(*bounds).indices(size)
    return start, step, len(range(start, stop, step))


def _parse_index(shape, index, strict):
    """Entries for ``x[index]`` on an array of ``shape``. ``strict``: static ints
    out of bounds raise IndexError (plain indexing) instead of being left to
    the mode of ``.at[]``."""
    if isinstance(index, list):
        raise TypeError(
            "Using a non-tuple sequence for multidimensional indexing is not allowed; use "
            "`arr[array(seq)]` instead of `arr[seq]` (or `arr[tuple(seq)]` to index several axes).")
    items = [_classify(item) for item in (index if isinstance(index, tuple) else (index,))]
    if sum(kind == "ellipsis" for kind, _ in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(value.ndim if kind == "mask" else kind in ("int", "slice", "array")
                   for kind, value in items)
    if consumed > len(shape):
        raise IndexError(f"Too many indices: array is {len(shape)}-dimensional, but {consumed} were indexed.")
    full = [("slice", slice(None))] * (len(shape) - consumed)
    at = next((i for i, (kind, _) in enumerate(items) if kind == "ellipsis"), len(items))
    items = items[:at] + full + items[at + 1:]
    entries, axis = [], 0
    for position, (kind, value) in enumerate(items):
        if kind == "none":
            entries.append(("none", None, value))
            continue
        if kind == "mask":
            expected = shape[axis:axis + value.ndim]
            if value.shape != expected:
                raise IndexError(f"boolean index did not match shape of indexed array in index "
                                 f"{position}: got {value.shape}, expected {expected}")
            int_dtype = _index_dtype(shape)
            entries += [("array", axis + k, ArrayImpl(i.astype(int_dtype)))
                        for k, i in enumerate(np.nonzero(value))]
            axis += value.ndim
            continue
        size = shape[axis]
        if kind == "int":
            if strict and not -size <= value < size:
                raise IndexError(f"index {value} is out of bounds for axis {axis} with size {size}")
            value = value + size if value < 0 else value
        elif kind == "slice":
            value = _static_slice(value, size)
        entries.append((kind, axis, value))
        axis += 1
    return entries


def _index_dtype(shape):
    return dtypes.canonicalize_dtype(np.int64 if any(d >= 2**31 for d in shape) else np.int32)


def _none_axes(y, entries, result_kinds):
    """Insert the axes of None entries; ``result_kinds`` lists the result axes
    in order, "none" marking the inserted ones."""
    positions = [p for p, kind in enumerate(result_kinds) if kind == "none"]
    if not positions:
        return y
    y = lax.expand_dims(y, positions)
    sizes = [value for kind, _, value in entries if kind == "none"]
    for p, size in zip(positions, sizes):
        if size == 0:  # a False scalar mask selects nothing
            y = lax.slice_in_dim(y, 0, 0, axis=p)
    return y


# --- reading: x[index] and x.at[index].get() -------------------------------------------------

def _is_basic(entries, shape, mode):
    """Whether the index needs no gather: no integer arrays of rank >= 1, static
    ints in bounds, and no traced scalar index if out-of-bounds must fill."""
    for kind, axis, value in entries:
        if kind == "int" and not 0 <= value < shape[axis]:
            return False
        if kind == "array" and (value.ndim or mode is GatherScatterMode.FILL_OR_DROP):
            return False
    return True


def _basic_get(x, entries):
    starts, limits, strides = [0] * x.ndim, list(x.shape), [1] * x.ndim
    reversed_axes, dynamic, dropped, result_kinds = [], {}, [], []
    for kind, axis, value in entries:
        if kind == "int":
            starts[axis], limits[axis] = value, value + 1
            dropped.append(axis)
        elif kind == "array":
            dynamic[axis] = value
            dropped.append(axis)
        elif kind == "slice":
            start, step, length = value
            low = start + (length - 1) * step if length else 0
            if step < 0:
                start, step = low, -step
                if length > 1:
                    reversed_axes.append(axis)
            starts[axis] = start if length else 0
            limits[axis] = start + (length - 1) * step + 1 if length else 0
            strides[axis] = step
        if kind in ("slice", "none"):
            result_kinds.append(kind)
    y = lax.slice(x, starts, limits, strides)
    if reversed_axes:
        y = lax.rev(y, reversed_axes)
    if dynamic:
        y = lax.dynamic_slice(y, [dynamic.get(a, 0) for a in range(y.ndim)],
                              [1 if a in dynamic else d for a, d in enumerate(y.shape)])
    return _none_axes(lax.squeeze(y, dropped), entries, result_kinds)


def _normalized_index(index, size, dtype):
    """An integer index array as ``dtype``, negative values counted from the end."""
    signed = not dtypes.is_unsigned(index.dtype)
    index = lax.convert_element_type(index, dtype)
    return lax.select_n(lax.lt(index, 0), index, lax.add(index, size)) if signed else index


class _Plan:
    """One gather/scatter for an index: the index vectors and dimension numbers.

    ``core_shape`` is the indexed shape without None axes, ``result_kinds`` the
    kinds of the full result axes (for inserting the None axes afterwards).
    """

    def __init__(self, shape, entries):
        arrays = [value for kind, _, value in entries if kind == "array"]
        try:
            batch = tuple(np.broadcast_shapes(*[a.shape for a in arrays]))
        except ValueError:
            raise IndexError("shape mismatch: indexing arrays could not be broadcast together with "
                             f"shapes {' '.join(str(tuple(a.shape)) for a in arrays)}") from None
        advanced = [i for i, (kind, _, _) in enumerate(entries) if kind in ("int", "array")]
        adjacent = advanced == list(range(advanced[0], advanced[-1] + 1)) if advanced else True
        # Each result axis: ("adv", size, j-th axis of batch), ("strided", size, axis),
        # ("window", size, axis) or ("none", size, None).
        axes = [] if adjacent else [("adv", s, j) for j, s in enumerate(batch)]
        for i, (kind, axis, value) in enumerate(entries):
            if kind in ("int", "array"):
                if adjacent and i == advanced[0]:
                    axes += [("adv", s, j) for j, s in enumerate(batch)]
            elif kind == "none":
                axes.append(("none", value, None))
            else:
                _, step, length = value
                axes.append(("window" if step == 1 or length <= 1 else "strided", length, axis))
        core_axes = [a for a in axes if a[0] != "none"]
        self.result_kinds = [a[0] for a in axes]
        self.core_shape = tuple(a[1] for a in core_axes)
        self.batch_shape = tuple(a[1] for a in core_axes if a[0] in ("adv", "strided"))
        self.offset_dims = tuple(p for p, a in enumerate(core_axes) if a[0] == "window")
        batch_axes = [a for a in core_axes if a[0] in ("adv", "strided")]
        adv_start = next((g for g, a in enumerate(batch_axes) if a[0] == "adv"), 0)
        dtype = _index_dtype(shape)
        components, collapsed, self.slice_sizes = [], [], list(shape)
        for kind, axis, value in entries:
            if kind == "int":
                components.append((axis, self._constant(value, dtype)))
            elif kind == "array":
                index = _normalized_index(value, shape[axis], dtype)
                dims = tuple(adv_start + len(batch) - index.ndim + k for k in range(index.ndim))
                components.append((axis, lax.broadcast_in_dim(index, self.batch_shape, dims)))
            elif kind == "slice":
                start, step, length = value
                if step != 1 and length > 1:
                    g = batch_axes.index(("strided", length, axis))
                    line = lax.mul(lax.iota(dtype, length), step)
                    line = lax.add(line, start) if start else line
                    components.append((axis, lax.broadcast_in_dim(line, self.batch_shape, (g,))))
                else:
                    self.slice_sizes[axis] = length
                    if length < shape[axis]:
                        components.append((axis, self._constant(start if length else 0, dtype)))
                    continue
            else:
                continue
            collapsed.append(axis)
            self.slice_sizes[axis] = 1
        self.collapsed = tuple(sorted(collapsed))
        self.index_map = tuple(axis for axis, _ in components)
        self.empty_axis = next((a for a in self.collapsed if shape[a] == 0), None)
        self.static = not arrays
        self.sorted = self.static and all(v[1] > 0 for k, _, v in entries if k == "slice")
        vectors = [lax.broadcast_in_dim(c, self.batch_shape + (1,), tuple(range(len(self.batch_shape))))
                   for _, c in components]
        self.indices = lax.concatenate(vectors, len(self.batch_shape)) if vectors else \
            self._constant(0, dtype, self.batch_shape + (0,))

    def _constant(self, value, dtype, shape=None):
        return lax.broadcast_in_dim(ArrayImpl(np.array(value, dtype)), shape or self.batch_shape, ())


def _filled(shape, dtype, value):
    return lax.broadcast_in_dim(ArrayImpl(np.array(value).astype(dtype)), shape, ())


def _gather_from_plan(x, plan, entries, mode, fill_value, indices_are_sorted, unique_indices):
    if plan.empty_axis is not None:
        # A window of size 1 cannot start on an empty axis; only an empty
        # result or a fill is well defined.
        if math.prod(plan.batch_shape) and mode is not GatherScatterMode.FILL_OR_DROP:
            raise IndexError(f"index is out of bounds for axis {plan.empty_axis} with size 0")
        fill = _default_fill(x.dtype) if fill_value is None else fill_value
        out = _filled(plan.core_shape, x.dtype, fill)
    else:
        dnums = GatherDimensionNumbers(offset_dims=plan.offset_dims, collapsed_slice_dims=plan.collapsed,
                                       start_index_map=plan.index_map)
        out = lax.gather(x, plan.indices, dnums, plan.slice_sizes, mode=mode, fill_value=fill_value,
                         indices_are_sorted=indices_are_sorted or plan.sorted,
                         unique_indices=unique_indices or plan.static)
    return _none_axes(out, entries, plan.result_kinds)


def _get(x, index, *, strict, mode=None, fill_value=None, indices_are_sorted=False, unique_indices=False):
    mode = GatherScatterMode.PROMISE_IN_BOUNDS if mode is None else GatherScatterMode.from_any(mode)
    entries = _parse_index(x.shape, index, strict)
    if _is_basic(entries, x.shape, mode):
        return _basic_get(x, entries)
    plan = _Plan(x.shape, entries)
    return _gather_from_plan(x, plan, entries, mode, fill_value, indices_are_sorted, unique_indices)


def getitem(x, index):
    """``x[index]`` with NumPy's basic and advanced indexing, as in JAX.

    Args:
      x: array of any shape.
      index: ints, static slices (any step), None, Ellipsis, integer arrays
        (negative values count from the end), concrete boolean masks, or a
        tuple of these; a traced scalar integer picks a dynamic element.

    Returns:
      Array of ``x``'s dtype with NumPy's result shape. Static ints out of
      bounds raise IndexError; integer arrays out of bounds are clamped.
    """
    return _get(x, index, strict=True)


# --- updates: x.at[index].set(...) and friends ------------------------------------------------

def _broadcast_update(values, x, shape, method):
    """``values`` as ``x.dtype`` broadcast to the indexed ``shape`` (NumPy rules;
    extra leading size-1 axes are dropped)."""
    values = convert(values, x.dtype)
    extra = values.ndim - len(shape)
    if extra > 0 and all(d == 1 for d in values.shape[:extra]):
        values = lax.reshape(values, values.shape[extra:])
        extra = 0
    ok = extra <= 0 and all(v in (1, s) for v, s in zip(values.shape[::-1], shape[::-1]))
    if not ok:
        raise ValueError(f"x.at[...].{method}: cannot broadcast the update of shape {tuple(values.shape)} "
                         f"to the indexed shape {tuple(shape)}; make its trailing axes match or be 1.")
    dims = tuple(range(len(shape) - values.ndim, len(shape)))
    return lax.broadcast_in_dim(values, tuple(shape), dims)


def _scatter(x, index, values, scatter, method, mode=None, indices_are_sorted=False, unique_indices=False):
    mode = GatherScatterMode.from_any(mode)
    entries = _parse_index(x.shape, index, strict=False)
    plan = _Plan(x.shape, entries)
    full_shape = _full_shape(plan, entries)
    values = _broadcast_update(values, x, full_shape, method)
    if plan.empty_axis is not None or 0 in full_shape:
        return x  # nothing is written
    values = lax.reshape(values, plan.core_shape)
    dnums = ScatterDimensionNumbers(update_window_dims=plan.offset_dims, inserted_window_dims=plan.collapsed,
                                    scatter_dims_to_operand_dims=plan.index_map)
    return scatter(x, plan.indices, values, dnums, mode=mode,
                   indices_are_sorted=indices_are_sorted or plan.sorted,
                   unique_indices=unique_indices or plan.static)


def _full_shape(plan, entries):
    sizes = iter(plan.core_shape)
    nones = iter(value for kind, _, value in entries if kind == "none")
    return [next(nones) if kind == "none" else next(sizes) for kind in plan.result_kinds]


def _ones(x):
    return _filled(x.shape, x.dtype, 1)


class _IndexUpdateRef:
    """``x.at[index]``: methods return an updated copy of ``x`` (or, ``get``,
    the indexed values). Updates broadcast to the indexed shape and are cast
    to ``x.dtype``; out-of-bounds updates are dropped unless ``mode="clip"``.
    Duplicate indices accumulate for add/multiply/min/max; for ``set`` the last
    one wins."""

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None):
        """``x[index]``; out-of-bounds indices clamp by default, or give
        ``fill_value`` (NaN / the dtype's extreme) with ``mode="fill"``."""
        return _get(self.array, self.index, strict=False, mode=mode, fill_value=fill_value,
                    indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] = values``."""
        return _scatter(self.array, self.index, values, lax.scatter, "set", mode,
                        indices_are_sorted, unique_indices)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] += values``."""
        return _scatter(self.array, self.index, values, lax.scatter_add, "add", mode,
                        indices_are_sorted, unique_indices)

    def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] -= values``."""
        negated = lax.neg(convert(values, self.array.dtype))
        return _scatter(self.array, self.index, negated, lax.scatter_add, "subtract", mode,
                        indices_are_sorted, unique_indices)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] *= values``."""
        return _scatter(self.array, self.index, values, lax.scatter_mul, "multiply", mode,
                        indices_are_sorted, unique_indices)

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] /= values``; as in JAX, integer ``x`` gives a float result."""
        from ... import numpy as jnp
        divisor = _scatter(_ones(self.array), self.index, values, lax.scatter_mul, "divide", mode,
                           indices_are_sorted, unique_indices)
        return jnp.true_divide(self.array, divisor)

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] **= values``."""
        from ... import numpy as jnp
        exponent = _scatter(_ones(self.array), self.index, values, lax.scatter_mul, "power", mode,
                            indices_are_sorted, unique_indices)
        return jnp.power(self.array, exponent)

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] = minimum(x[index], values)``."""
        return _scatter(self.array, self.index, values, lax.scatter_min, "min", mode,
                        indices_are_sorted, unique_indices)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] = maximum(x[index], values)``."""
        return _scatter(self.array, self.index, values, lax.scatter_max, "max", mode,
                        indices_are_sorted, unique_indices)

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[index] = func(x[index])`` for an elementwise ``func``."""
        picked = self.get(mode="clip", indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)
        return self.set(func(picked), indices_are_sorted=indices_are_sorted,
                        unique_indices=unique_indices, mode=mode)


class IndexUpdateHelper:
    """``x.at``: index it to get an ``_IndexUpdateRef``, e.g.
    ``x.at[0, 1:].add(1.0)``; the functional form of ``x[idx] += 1.0``."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"IndexUpdateHelper({self.array!r})"


# --- take and take_along_axis ----------------------------------------------------------------

def _integer_array(fun, name, x):
    x = ensure_array(x)
    if not dtypes.is_int(x.dtype):
        raise TypeError(f"{fun}: {name} must be an integer array, got {x.aval.str_short()}; convert "
                        "it with .astype(int).")
    return x


def _take_mode(fun, mode):
    """(gather mode, how to treat negative indices) for take's ``mode``."""
    if mode is None or mode == "fill":
        return GatherScatterMode.FILL_OR_DROP, "wrap_once"
    if mode == "clip":
        return GatherScatterMode.CLIP, None
    if mode == "wrap":
        return GatherScatterMode.PROMISE_IN_BOUNDS, "modulo"
    if mode == "raise":
        raise NotImplementedError(f"The 'raise' mode to jnp.{fun} is not supported: errors cannot depend "
                                  "on array values. Use mode='fill', 'clip' or 'wrap'.")
    raise ValueError(f"{fun}: invalid mode {mode!r}; use 'fill' (the default), 'clip' or 'wrap'.")


def _take_indices(indices, size, negatives, dtype):
    if negatives == "wrap_once":
        return _normalized_index(indices, size, dtype)
    indices = lax.convert_element_type(indices, dtype)
    if negatives == "modulo" and size:
        remainder = lax.rem(indices, size)
        return lax.select_n(lax.lt(remainder, 0), remainder, lax.add(remainder, size))
    return indices


def _gather_or_fill(fun, operand, indices, dnums, slice_sizes, out_shape, mode, fill_value, empty_axis,
                    **flags):
    if empty_axis or 0 in out_shape:
        if 0 not in out_shape and mode is not GatherScatterMode.FILL_OR_DROP:
            raise IndexError(f"{fun}: cannot take indices from an empty axis unless mode='fill'.")
        fill = _default_fill(operand.dtype) if fill_value is None else fill_value
        return _filled(out_shape, operand.dtype, fill)
    return lax.gather(operand, indices, dnums, slice_sizes, mode=mode, fill_value=fill_value, **flags)


def take(a, indices, axis=None, mode=None, fill_value=None, unique_indices=False, indices_are_sorted=False):
    """Elements of ``a`` at ``indices`` along ``axis``.

    Args:
      a: array of any shape (flattened when ``axis`` is None).
      indices: integer array of any shape.
      axis: the axis to index, or None.
      mode: "fill" (default, as JAX): negative indices count from the end once
        and out-of-bounds ones give ``fill_value`` (NaN, or the dtype's extreme
        for ints); "clip" clamps; "wrap" takes indices modulo the axis size.
      fill_value: the value for "fill".

    Returns:
      Array of ``a.dtype`` and shape ``a.shape[:axis] + indices.shape + a.shape[axis+1:]``.
    """
    check_arraylike("take", a, indices)
    a, indices = ensure_array(a), _integer_array("take", "indices", indices)
    if axis is None:
        a, axis = lax.reshape(a, (a.size,)), 0
    axis = canonicalize_axis(axis, a.ndim, "take")
    gather_mode, negatives = _take_mode("take", mode)
    indices = _take_indices(indices, a.shape[axis], negatives, _index_dtype(a.shape))
    rank = indices.ndim
    start = lax.broadcast_in_dim(indices, indices.shape + (1,), tuple(range(rank)))
    offset_dims = tuple(range(axis)) + tuple(range(axis + rank, a.ndim - 1 + rank))
    dnums = GatherDimensionNumbers(offset_dims=offset_dims, collapsed_slice_dims=(axis,),
                                   start_index_map=(axis,))
    slice_sizes = a.shape[:axis] + (1,) + a.shape[axis + 1:]
    out_shape = a.shape[:axis] + indices.shape + a.shape[axis + 1:]
    return _gather_or_fill("take", a, start, dnums, slice_sizes, out_shape, gather_mode, fill_value,
                           a.shape[axis] == 0, unique_indices=unique_indices,
                           indices_are_sorted=indices_are_sorted)


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
    """Pick ``arr``'s elements along ``axis`` at ``indices`` (e.g. from argsort).

    Args:
      arr: array of any shape (flattened when ``axis`` is None).
      indices: integer array of ``arr``'s rank (1-d when ``axis`` is None);
        other axes broadcast against ``arr``'s.
      axis: the axis to index, or None.
      mode, fill_value: as in ``take`` (default "fill").

    Returns:
      Array of ``arr.dtype`` with the broadcast shape, ``indices.shape[axis]`` along ``axis``.
    """
    check_arraylike("take_along_axis", arr, indices)
    arr, indices = ensure_array(arr), _integer_array("take_along_axis", "indices", indices)
    if axis is None:
        if indices.ndim != 1:
            raise ValueError(f"take_along_axis: indices must be 1-d when axis=None, got shape "
                             f"{indices.shape}.")
        arr, axis = lax.reshape(arr, (arr.size,)), 0
    if indices.ndim != arr.ndim:
        raise ValueError(f"take_along_axis: indices and arr must have the same number of dimensions; "
                         f"got indices of shape {indices.shape} for arr of shape {arr.shape}.")
    axis = canonicalize_axis(axis, arr.ndim, "take_along_axis")
    batch = []
    for d, (n, m) in enumerate(zip(arr.shape, indices.shape)):
        if d != axis and n != m and 1 not in (n, m):
            raise ValueError(f"take_along_axis: arr of shape {arr.shape} and indices of shape "
                             f"{indices.shape} do not broadcast along axis {d}.")
        batch.append(max(n, m) if 0 not in (n, m) else 0)
    full = tuple(range(arr.ndim))
    arr = lax.broadcast_in_dim(arr, tuple(batch[:axis]) + (arr.shape[axis],) + tuple(batch[axis + 1:]), full)
    out_shape = tuple(batch[:axis]) + (indices.shape[axis],) + tuple(batch[axis + 1:])
    indices = lax.broadcast_in_dim(indices, out_shape, full)
    gather_mode, negatives = _take_mode("take_along_axis", mode)
    indices = _take_indices(indices, arr.shape[axis], negatives, _index_dtype(arr.shape))
    start = lax.broadcast_in_dim(indices, out_shape + (1,), full)
    others = tuple(d for d in full if d != axis)
    dnums = GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(axis,), start_index_map=(axis,),
                                   operand_batching_dims=others, start_indices_batching_dims=others)
    return _gather_or_fill("take_along_axis", arr, start, dnums, (1,) * arr.ndim, out_shape, gather_mode,
                           fill_value, arr.shape[axis] == 0)


# --- nonzero and friends -------------------------------------------------------------------

def _concrete_value(x):
    if isinstance(x, core.Tracer):
        value = x.to_concrete_value()
        return None if value is None else np.asarray(value)
    return np.asarray(x)


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements of ``a``, one integer array per axis.

    Args:
      a: array of rank >= 1.
      size: static number of results; required under jit/make_jaxpr. Extra
        results are dropped, missing ones are ``fill_value``.
      fill_value: scalar or one scalar per axis (default 0).

    Returns:
      Tuple of ``a.ndim`` arrays of the default int dtype, each of shape
      ``(size,)`` (or the number of nonzeros without ``size``).
    """
    check_arraylike("nonzero", a)
    a = ensure_array(a)
    if a.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use "
                         "jnp.atleast_1d(scalar).nonzero() instead.")
    int_dtype = dtypes.default_int_dtype()
    value = _concrete_value(a)
    if size is None:
        if value is None:
            raise ConcretizationTypeError(
                f"nonzero: the number of nonzero elements of a traced {a.aval.str_short()} inside "
                f"{a._trace.description} is not known while tracing, but it is the result's shape. "
                "Pass a static bound: jnp.nonzero(a, size=N, fill_value=...); or use "
                f"jnp.where(mask, x, 0) to keep the shape.{user_source_line()}")
        return tuple(ArrayImpl(i.astype(int_dtype)) for i in np.nonzero(value))
    size = operator.index(size)
    fills = tuple(fill_value) if isinstance(fill_value, (tuple, list)) else (fill_value or 0,) * a.ndim
    if len(fills) != a.ndim:
        raise ValueError(f"nonzero: fill_value has {len(fills)} entries for an array of rank {a.ndim}; "
                         "pass a scalar or one per axis.")
    if value is not None:
        out = []
        for found, fill in zip(np.nonzero(value), fills):
            padded = np.full(size, fill, int_dtype)
            padded[:min(size, found.size)] = found[:size]
            out.append(ArrayImpl(padded))
        return tuple(out)
    return _traced_nonzero(a, size, fills, int_dtype)


def _traced_nonzero(a, size, fills, int_dtype):
    flat = lax.reshape(a, (a.size,))
    mask = flat if flat.dtype == np.bool_ else lax.ne(flat, 0)
    ones = lax.convert_element_type(mask, int_dtype)
    # The k-th nonzero goes to slot k; the others to slot `size`, out of bounds, so dropped.
    slot = lax.select_n(mask, _filled(flat.shape, int_dtype, size), lax.sub(lax.cumsum(ones), 1))
    dnums = ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                    scatter_dims_to_operand_dims=(0,))
    positions = lax.scatter(_filled((size,), int_dtype, 0), lax.reshape(slot, (a.size, 1)),
                            lax.iota(int_dtype, a.size), dnums, mode="drop")
    found = lax.lt(lax.iota(int_dtype, size), lax.reduce_sum(ones, (0,)))
    coords = []
    for n in reversed(a.shape):
        coords.append(lax.rem(positions, n) if n else positions)
        positions = lax.div(positions, n) if n else positions
    return tuple(lax.select_n(found, _filled((size,), int_dtype, fill), c)
                 for c, fill in zip(reversed(coords), fills))


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements of ``a`` flattened: shape ``(size,)`` or
    ``(number of nonzeros,)``, the default int dtype. ``size`` as in ``nonzero``."""
    check_arraylike("flatnonzero", a)
    a = ensure_array(a)
    return nonzero(lax.reshape(a, (a.size,)), size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
    """Coordinates of the nonzero elements of ``a``: shape ``(n, a.ndim)`` with
    ``n = size`` or the number of nonzeros. ``size``/``fill_value`` as in ``nonzero``."""
    check_arraylike("argwhere", a)
    a = ensure_array(a)
    if a.ndim == 0:
        found = nonzero(lax.reshape(a, (1,)), size=size, fill_value=fill_value)[0]
        return lax.broadcast_in_dim(lax.slice(found, (0,), (0,)), (found.shape[0], 0), (1,))
    coords = nonzero(a, size=size, fill_value=fill_value)
    n = coords[0].shape[0]
    return lax.concatenate([lax.broadcast_in_dim(c, (n, 1), (0,)) for c in coords], 1)


# --- flat and multi-indices -------------------------------------------------------------------

def unravel_index(indices, shape):
    """Coordinates in an array of ``shape`` of the flat ``indices`` (C order).

    Args:
      indices: integer array of any shape; negative values count from the end
        and out-of-range values are clipped, as in JAX.
      shape: static tuple of ints.

    Returns:
      Tuple of ``len(shape)`` arrays of ``indices``' shape and dtype.
    """
    check_arraylike("unravel_index", indices)
    indices = _integer_array("unravel_index", "indices", indices)
    shape = tuple(operator.index(d) for d in shape)
    total = math.prod(shape)
    if total == 0:
        raise ValueError(f"unravel_index: cannot unravel into the empty shape {shape}.")
    flat = lax.clamp(-total if not dtypes.is_unsigned(indices.dtype) else 0, indices, total - 1)
    flat = lax.select_n(lax.lt(flat, 0), flat, lax.add(flat, total))
    coords = []
    for n in reversed(shape):
        coords.append(lax.rem(flat, n))
        flat = lax.div(flat, n)
    return tuple(reversed(coords))


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """Flat indices into an array of shape ``dims`` of the coordinates ``multi_index``.

    Args:
      multi_index: tuple of ``len(dims)`` integer arrays that broadcast together.
      dims: static tuple of ints.
      mode: "raise" (coordinates must be concrete and in bounds), "wrap"
        (modulo each size) or "clip" (clamped).
      order: "C" (row-major) or "F" (column-major).

    Returns:
      Integer array of the broadcast shape.
    """
    dims = tuple(operator.index(d) for d in dims)
    if len(multi_index) != len(dims):
        raise ValueError(f"ravel_multi_index: got {len(multi_index)} index arrays for dims {dims}; "
                         "pass one per dimension.")
    check_arraylike("ravel_multi_index", *multi_index)
    coords = [_integer_array("ravel_multi_index", "multi_index", i) for i in multi_index]
    coords = promote_shapes("ravel_multi_index", *promote_dtypes(*coords))
    if mode == "raise":
        for i, n in zip(coords, dims):
            value = _concrete_value(i)
            if value is None:
                raise ConcretizationTypeError(
                    "ravel_multi_index with mode='raise' checks the coordinates, so they must be "
                    f"concrete, but got a traced {i.aval.str_short()}. Use mode='wrap' or mode='clip'."
                    f"{user_source_line()}")
            if np.any((value < 0) | (value >= n)):
                raise ValueError("invalid entry in coordinates array")
    elif mode == "wrap":
        coords = [lax.select_n(lax.lt(r, 0), r, lax.add(r, n))
                  for r, n in ((lax.rem(i, n), n) for i, n in zip(coords, dims))]
    elif mode == "clip":
        coords = [lax.clamp(0, i, n - 1) for i, n in zip(coords, dims)]
    else:
        raise ValueError(f"ravel_multi_index: invalid mode {mode!r}; use 'raise', 'wrap' or 'clip'.")
    if order not in ("C", "F"):
        raise ValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}.")
    axes = range(len(dims)) if order == "F" else reversed(range(len(dims)))
    out, stride = None, 1
    for k in axes:
        term = lax.mul(coords[k], stride)
        out = term if out is None else lax.add(out, term)
        stride *= dims[k]
    return out


def diag_indices(n, ndim=2):
    """Indices of the main diagonal of an ``(n,) * ndim`` array: ``ndim``
    arrays ``arange(n)`` of the default int dtype."""
    n, ndim = operator.index(n), operator.index(ndim)
    if n < 0 or ndim < 0:
        raise ValueError(f"diag_indices: n and ndim must be >= 0, got n={n}, ndim={ndim}.")
    return tuple(ArrayImpl(np.arange(n, dtype=dtypes.default_int_dtype())) for _ in range(ndim))


def diag_indices_from(arr):
    """``diag_indices`` for ``arr``, whose axes (at least 2) must be equal."""
    shape = np.shape(arr)
    if len(shape) < 2 or len(set(shape)) != 1:
        raise ValueError(f"diag_indices_from: arr must have rank >= 2 and equal axes, got shape {shape}.")
    return diag_indices(shape[0], len(shape))


def _triangle_indices(fun, n, k, m):
    rows, cols = fun(operator.index(n), operator.index(k), None if m is None else operator.index(m))
    dtype = dtypes.default_int_dtype()
    return ArrayImpl(rows.astype(dtype)), ArrayImpl(cols.astype(dtype))


def tril_indices(n, k=0, m=None):
    """(rows, cols) of the lower triangle (diagonal offset ``k``) of an n x m matrix."""
    return _triangle_indices(np.tril_indices, n, k, m)


def triu_indices(n, k=0, m=None):
    """(rows, cols) of the upper triangle (diagonal offset ``k``) of an n x m matrix."""
    return _triangle_indices(np.triu_indices, n, k, m)


def tril_indices_from(arr, k=0):
    """``tril_indices`` for the last two axes of ``arr``."""
    if np.ndim(arr) < 2:
        raise ValueError(f"tril_indices_from: arr must have rank >= 2, got shape {np.shape(arr)}.")
    return tril_indices(np.shape(arr)[-2], k, np.shape(arr)[-1])


def triu_indices_from(arr, k=0):
    """``triu_indices`` for the last two axes of ``arr``."""
    if np.ndim(arr) < 2:
        raise ValueError(f"triu_indices_from: arr must have rank >= 2, got shape {np.shape(arr)}.")
    return triu_indices(np.shape(arr)[-2], k, np.shape(arr)[-1])


def indices(dimensions, dtype=None, sparse=False):
    """A grid of indices for an array of shape ``dimensions``.

    Returns:
      Array of shape ``(len(dimensions),) + dimensions`` whose i-th slice counts
      along axis i; with ``sparse=True`` a tuple of arrays with size-1 axes
      except axis i. Default int dtype unless ``dtype`` is given.
    """
    dims = tuple(operator.index(d) for d in dimensions)
    dtype = dtypes.canonicalize_dtype(dtype or dtypes.default_int_dtype())
    if sparse:
        return tuple(lax.broadcasted_iota(dtype, tuple(d if j == i else 1 for j, d in enumerate(dims)), i)
                     for i in range(len(dims)))
    if not dims:
        return ArrayImpl(np.zeros((0,), dtype))
    grids = [lax.broadcast_in_dim(lax.broadcasted_iota(dtype, dims, i), (1,) + dims,
                                  tuple(range(1, len(dims) + 1))) for i in range(len(dims))]
    return lax.concatenate(grids, 0)
