"""Sorting and searching of ``numbax.numpy``: sort, argsort, lexsort,
partition, searchsorted and unique, written in terms of ``lax.sort``.

NaNs sort after everything else (``descending=True`` puts them first). Under
tracing ``unique`` needs a static ``size=``, since its output length would
otherwise depend on the values.
"""

import math
import operator


from .. import dtypes
from ..errors import ConcretizationTypeError
from ..lax import elementwise as lax
from ..lax import reduce as lax_reduce
from ..lax import shape as lax_shape
from ..lax import sort as lax_sort
from ..lax.cumulative import cumsum as lax_cumsum
from .util import canonicalize_axis, check_arraylike, convert, ensure_array, promote_dtypes

__all__ = ["sort", "argsort", "lexsort", "partition", "argpartition", "searchsorted", "unique"]


def _prepare(fun_name, a, axis, kind, order):
    """``a`` as an array and ``axis`` as a non-negative int (None flattens)."""
    check_arraylike(fun_name, a)
    if order is not None:
        raise NotImplementedError(f"jnp.{fun_name}: order= (structured arrays) is not supported.")
    if kind is not None:
        raise TypeError(f"jnp.{fun_name}: kind= is not supported; use stable=True (the default) "
                        "or stable=False.")
    a = ensure_array(a)
    if axis is None:
        return lax_shape.reshape(a, (a.size,)), 0
    if a.ndim == 0:
        raise ValueError(f"jnp.{fun_name}: axis {axis} is out of bounds for a 0-d array; pass "
                         "axis=None to treat it as 1-D.")
    return a, canonicalize_axis(axis, a.ndim, f"jnp.{fun_name}")


def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Sorted copy of ``a`` along ``axis``.

    Args:
      a: array of rank >= 1 (any rank with ``axis=None``).
      axis: the axis to sort along; None sorts the flattened array.
      stable: keep the order of equal elements (only visible for -0.0/0.0).
      descending: largest first (NaNs first).

    Returns:
      Array of ``a``'s shape (1-D if flattened) and dtype.
    """
    a, axis = _prepare("sort", a, axis, kind, order)
    if descending:
        return lax_shape.rev(lax_sort.sort(a, dimension=axis, is_stable=stable), (axis,))
    return lax_sort.sort(a, dimension=axis, is_stable=stable)


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Indices that sort ``a`` along ``axis``.

    Args: as ``sort``. With ``descending`` and ``stable``, equal elements keep
    their input order.

    Returns:
      Default-integer array of ``a``'s shape (1-D if ``axis`` is None).
    """
    a, axis = _prepare("argsort", a, axis, kind, order)
    iota = lax.broadcasted_iota(dtypes.default_int_dtype(), a.shape, axis)
    if not descending:
        return lax_sort.sort_key_val(a, iota, dimension=axis, is_stable=stable)[1]
    # Sorting the reversed axis ascending and reading it backwards gives a
    # descending order in which ties keep their input order.
    _, indices = lax_sort.sort_key_val(lax_shape.rev(a, (axis,)), iota, dimension=axis, is_stable=stable)
    return lax_shape.rev(lax.sub(a.shape[axis] - 1, indices), (axis,))


def lexsort(keys, axis=-1):
    """Indices that sort by several keys, the last key being the primary one.

    Args:
      keys: a sequence of arrays of one shape (or a 2-D array whose rows are keys).
      axis: the axis to sort along.

    Returns:
      Default-integer array of the keys' shape.
    """
    if isinstance(keys, (tuple, list)):
        check_arraylike("lexsort", *keys)
        keys = [ensure_array(k) for k in keys]
    else:
        check_arraylike("lexsort", keys)
        keys = ensure_array(keys)
        keys = [lax_shape.reshape(lax_shape.slice_in_dim(keys, i, i + 1), keys.shape[1:])
                for i in range(keys.shape[0] if keys.ndim else 0)]
    if not keys:
        raise TypeError("jnp.lexsort needs a non-empty sequence of keys.")
    if len({tuple(k.shape) for k in keys}) > 1:
        raise ValueError("jnp.lexsort: all keys need the same shape, got "
                         + ", ".join(str(tuple(k.shape)) for k in keys) + ".")
    shape = tuple(keys[0].shape)
    if not shape:
        return convert(0, dtypes.default_int_dtype())
    axis = canonicalize_axis(axis, len(shape), "jnp.lexsort")
    iota = lax.broadcasted_iota(dtypes.default_int_dtype(), shape, axis)
    return lax_sort.sort((*keys[::-1], iota), dimension=axis, num_keys=len(keys))[-1]


def _kth(fun_name, kth, size):
    try:
        kth = operator.index(kth)
    except TypeError:
        raise TypeError(f"jnp.{fun_name}: kth must be a static Python int, got "
                        f"{type(kth).__name__}.") from None
    if not -size <= kth < size:
        raise ValueError(f"jnp.{fun_name}: kth={kth} is out of bounds for an axis of size {size}.")
    return kth


def partition(a, kth, axis=-1):
    """``a`` rearranged along ``axis`` so that the element at ``kth`` is the one
    a sort would put there, smaller-or-equal ones before it and larger-or-equal
    ones after it. Same shape and dtype.

    Differences from JAX: the result is fully sorted (a valid partition; JAX
    leaves the part after ``kth`` in descending order)."""
    a, axis = _prepare("partition", a, axis, None, None)
    _kth("partition", kth, a.shape[axis])
    return sort(a, axis)


def argpartition(a, kth, axis=-1):
    """Indices that ``partition`` ``a`` along ``axis``: default-integer array of
    ``a``'s shape. Differences from JAX: they fully sort (see ``partition``)."""
    a, axis = _prepare("argpartition", a, axis, None, None)
    _kth("argpartition", kth, a.shape[axis])
    return argsort(a, axis)


# --- searchsorted ------------------------------------------------------------------------

_SEARCH_METHODS = ("scan", "scan_unrolled", "sort", "compare_all")


def _less_total(x, y):
    """``x < y`` in the sort order: NaN after every number."""
    less = lax.lt(x, y)
    if not dtypes.is_float(x.dtype):
        return less
    return lax.bitwise_or(less, lax.bitwise_and(lax.ne(y, y), lax.eq(x, x)))


def _rank(x):
    """The position each element of 1-D ``x`` takes in a stable sort."""
    iota = lax.iota(dtypes.int32, x.shape[0])
    _, perm = lax_sort.sort_key_val(x, iota)
    return lax_sort.sort_key_val(perm, iota)[1]


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Where to insert ``v`` into sorted 1-D ``a`` to keep it sorted.

    Args:
      a: sorted 1-D array (NaNs last), or any 1-D array with ``sorter``.
      v: array of any shape (or scalar) of values to insert.
      side: "left" gives the first suitable index, "right" the last.
      sorter: int array of indices that sort ``a``.
      method: "scan", "scan_unrolled" or "sort" (all run a sort of a and v
        together: O((N + M) log(N + M))) or "compare_all" (compares every pair:
        O(N M), fast for small inputs).

    Returns:
      int32 array of ``v``'s shape.
    """
    if side not in ("left", "right"):
        raise ValueError(f"jnp.searchsorted: side={side!r}, expected 'left' or 'right'.")
    if method not in _SEARCH_METHODS:
        raise ValueError(f"jnp.searchsorted: method={method!r}, expected one of "
                         f"{', '.join(map(repr, _SEARCH_METHODS))}.")
    check_arraylike("searchsorted", a, v)
    a, v = promote_dtypes(a, v)
    if a.ndim != 1:
        raise ValueError(f"jnp.searchsorted: a must be 1-D, got shape {tuple(a.shape)}.")
    if sorter is not None:
        from ... import numpy as jnp  # indexing lives in its own module
        a = jnp.take(a, sorter)
    query = lax_shape.reshape(v, (v.size,))
    n, m = a.shape[0], v.size
    if method == "compare_all":
        grid = (m, n)
        a_grid = lax_shape.broadcast_in_dim(a, grid, (1,))
        v_grid = lax_shape.broadcast_in_dim(query, grid, (0,))
        before = _less_total(a_grid, v_grid) if side == "left" else \
            lax.bitwise_not(_less_total(v_grid, a_grid))
        index = lax_reduce.reduce_sum(lax.convert_element_type(before, dtypes.int32), (1,))
    elif side == "left":
        # Ranking v before a in one stable sort counts, for each query, the
        # elements of a below it (plus queries below it, which _rank(query) removes).
        index = lax.sub(lax_shape.slice_in_dim(_rank(lax_shape.concatenate([query, a], 0)), 0, m),
                        _rank(query))
    else:
        index = lax.sub(lax_shape.slice_in_dim(_rank(lax_shape.concatenate([a, query], 0)), n, n + m),
                        _rank(query))
    return lax_shape.reshape(index, tuple(v.shape))


# --- unique ------------------------------------------------------------------------------------

def _concrete_count(count):
    try:
        return int(count)
    except ConcretizationTypeError:
        raise ConcretizationTypeError(
            "jnp.unique of a traced array needs size=: the number of unique values depends on the "
            "values, which are not known while tracing. Pass a static size=N (and optionally "
            "fill_value=) to get exactly N outputs, padded if there are fewer unique values.") from None


def _full(shape, value, dtype):
    return lax_shape.broadcast_in_dim(convert(value, dtype), shape, ())


def _first_of_runs(columns, n, equal_nan):
    """Bool (n,): whether each row of the sorted ``columns`` differs from the one before."""
    differs = _full((n - 1,), False, dtypes.bool_) if not columns else None
    for c in columns:
        previous, current = lax_shape.slice_in_dim(c, 0, n - 1), lax_shape.slice_in_dim(c, 1, n)
        new = lax.ne(current, previous)
        if equal_nan and dtypes.is_float(c.dtype):
            both_nan = lax.bitwise_and(lax.ne(current, current), lax.ne(previous, previous))
            new = lax.bitwise_and(new, lax.bitwise_not(both_nan))
        differs = new if differs is None else lax.bitwise_or(differs, new)
    return lax_shape.concatenate([_full((1,), True, dtypes.bool_), differs], 0)


def _stack_rows(ar, axis, columns, size):
    """Unique rows given as columns of length ``size``, shaped like ``ar`` with
    ``axis`` (None: flattened) of length ``size``."""
    if axis is None:
        return columns[0]
    rest = tuple(ar.shape[d] for d in range(ar.ndim) if d != axis)
    rows = lax_shape.concatenate([lax_shape.reshape(c, (size, 1)) for c in columns], 1) if columns \
        else _full((size, 0), 0, ar.dtype)
    rows = lax_shape.reshape(rows, (size,) + rest)
    return lax_shape.transpose(rows, tuple(range(1, axis + 1)) + (0,) + tuple(range(axis + 1, ar.ndim)))


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, size=None, fill_value=None, sorted=True):  # noqa: A002
    """The sorted unique elements of ``ar`` (or unique slices along ``axis``).

    Args:
      ar: array of any shape.
      return_index: also return the index of each unique value's first occurrence.
      return_inverse: also return, for each element, the index of its unique value.
      return_counts: also return how often each unique value occurs.
      axis: None flattens ``ar``; an int finds unique slices along that axis.
      equal_nan: treat all NaNs as one value.
      size: a static number of outputs, required under tracing. Missing
        entries are padded (values with ``fill_value``, by default the
        smallest unique value; indices with the smallest value's index;
        counts with 0); extra ones are dropped.
      fill_value: scalar pad value for the unique values when ``size`` is given.

    Returns:
      ``values`` (1-D, or ``ar``'s shape with ``axis`` resized), followed by
      the requested ``index``, ``inverse`` (``ar``'s shape if ``axis`` is
      None, else 1-D) and ``counts`` (default integer dtype) in a tuple.
    """
    check_arraylike("unique", ar)
    if not sorted:
        raise NotImplementedError("jnp.unique: sorted=False is not supported; unique values come sorted.")
    ar = ensure_array(ar)
    if axis is None:
        n, width = ar.size, 1
    else:
        if ar.ndim == 0:
            raise ValueError(f"jnp.unique: axis {axis} is out of bounds for a 0-d array; use axis=None.")
        axis = canonicalize_axis(axis, ar.ndim, "jnp.unique")
        moved = lax_shape.transpose(ar, (axis,) + tuple(d for d in range(ar.ndim) if d != axis))
        n, width = ar.shape[axis], math.prod(moved.shape[1:])
        rows = lax_shape.reshape(moved, (n, width))
    int_dtype = dtypes.default_int_dtype()
    if size is not None:
        size = operator.index(size)
    if n == 0:
        size = size or 0
        if size and fill_value is None:
            raise ValueError("jnp.unique of an empty array with size > 0 needs fill_value= for the padding.")
        fill = _full((size,), 0 if fill_value is None else fill_value, ar.dtype)
        outputs = [_stack_rows(ar, axis, [fill] * width, size)]
        if return_index:
            outputs.append(_full((size,), 0, int_dtype))
        if return_inverse:
            outputs.append(_full(tuple(ar.shape) if axis is None else (0,), 0, int_dtype))
        if return_counts:
            outputs.append(_full((size,), 0, int_dtype))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    # Sort the rows lexicographically (first column primary), keeping their origins.
    iota = lax.iota(int_dtype, n)
    if axis is None:
        columns = [lax_shape.reshape(ar, (n,))]
    else:
        columns = [lax_shape.reshape(lax_shape.slice_in_dim(rows, j, j + 1, axis=1), (n,))
                   for j in range(width)]
    if columns:
        *columns, origin = lax_sort.sort((*columns, iota), num_keys=width)
    else:
        origin = iota
    is_first = _first_of_runs(columns, n, equal_nan)
    first_count = lax.convert_element_type(is_first, int_dtype)
    count = lax_reduce.reduce_sum(first_count, (0,))
    size = _concrete_count(count) if size is None else size
    # A stable sort on "not first" brings the first row of each run to the
    # front, in order: the unique rows, where they came from and where they start.
    *unique_columns, first_origin, start = lax_sort.sort(
        (lax.bitwise_not(is_first), *columns, origin, iota), num_keys=1)[1:]
    valid = lax.lt(lax.iota(int_dtype, size), count)

    def padded(x, fill):
        if size <= n:
            x = lax_shape.slice_in_dim(x, 0, size)
        else:
            x = lax_shape.pad(x, convert(0, x.dtype), [(0, size - n, 0)])
        return lax.select_n(valid, lax_shape.broadcast_in_dim(convert(fill, x.dtype), (size,), ()), x)

    def smallest(x):
        return lax_shape.reshape(lax_shape.slice_in_dim(x, 0, 1), ())

    fills = [smallest(c) if fill_value is None else fill_value for c in unique_columns]
    outputs = [_stack_rows(ar, axis, [padded(c, f) for c, f in zip(unique_columns, fills)], size)]
    if return_index:
        outputs.append(padded(first_origin, smallest(first_origin)))
    if return_inverse:
        run = lax.sub(lax_cumsum(first_count), 1)
        inverse = lax_sort.sort_key_val(origin, run)[1]
        outputs.append(lax_shape.reshape(inverse, tuple(ar.shape)) if axis is None else inverse)
    if return_counts:
        # A run's length is the distance from its start to the next run's start.
        starts = lax.select_n(lax.lt(iota, count), _full((n,), n, int_dtype), start)
        ends = lax_shape.concatenate([lax_shape.slice_in_dim(starts, 1, n), _full((1,), n, int_dtype)], 0)
        outputs.append(padded(lax.sub(ends, starts), 0))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)
