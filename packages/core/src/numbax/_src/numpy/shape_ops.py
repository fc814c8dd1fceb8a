"""Shape manipulation in ``numbax.numpy``: reshaping, axis permutations,
joining and splitting, tiling and repeating, padding, flips and rolls.

Shapes are static, so every index these functions need (which elements a
pad, roll, repeat or delete picks) is computed on the host with NumPy and
turned into ``lax`` slices: runs of consecutive, reversed or repeated
indices become ``slice``/``rev``/``broadcast_in_dim`` pieces joined by one
``concatenate``. Only irregular index patterns fall back to a gather
(``numbax.numpy.take``).
"""

import math
import numpy as np

from ... import lax
from .. import core, dtypes
from ..core import NumbaxTypeError
from .creation import (as_dtype, as_tuple, asarray, broadcast_to_shape, canonical_dtype, concrete,
                       linspace, static_int, static_shape)
from .util import broadcast_shapes as _broadcast_shapes
from .util import (canonicalize_axis, check_arraylike, convert, ensure_array, normalize_axes,
                   promote_dtypes)

__all__ = ["reshape", "ravel", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze",
           "concatenate", "stack", "vstack", "hstack", "dstack", "column_stack", "split", "array_split",
           "hsplit", "vsplit", "dsplit", "tile", "repeat", "broadcast_to", "broadcast_arrays",
           "broadcast_shapes", "pad", "flip", "fliplr", "flipud", "roll", "rot90", "meshgrid",
           "atleast_1d", "atleast_2d", "atleast_3d", "shape", "ndim", "size", "append", "insert",
           "delete"]


def _array(fun_name, a):
    check_arraylike(fun_name, a)
    return ensure_array(a)


def _axis(axis, ndim, fun_name):
    return canonicalize_axis(static_int(axis, fun_name, "axis"), ndim, fun_name)


def _shape_str(x):
    return str(tuple(x.shape))


# --- reshaping and permuting axes ---------------------------------------------------------

def reshape(a, shape, order="C"):
    """``a`` with a new shape and the same elements.

    Args:
      a: array of any shape.
      shape: int or tuple of ints multiplying to ``a.size``; one entry may be
        -1, inferred from the others.
      order: ``'C'`` reads and writes elements in row-major order, ``'F'`` in
        column-major order.

    Returns:
      Array of ``shape`` and ``a``'s dtype.
    """
    a = _array("reshape", a)
    sizes = _reshape_sizes(tuple(static_int(d, "reshape", "shape") for d in as_tuple(shape)), a)
    if order == "C":
        return lax.reshape(a, sizes)
    if order == "F":
        reversed_axes = tuple(range(a.ndim))[::-1]
        flipped = lax.reshape(lax.transpose(a, reversed_axes), sizes[::-1])
        return lax.transpose(flipped, tuple(range(len(sizes)))[::-1])
    raise ValueError(f"reshape: order must be 'C' or 'F', got {order!r}.")


def _reshape_sizes(sizes, a):
    unknown = [i for i, d in enumerate(sizes) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in sizes):
        raise TypeError(f"reshape: shape {sizes} may contain at most one -1 (an inferred size) and "
                        "no other negative sizes.")
    known = math.prod([d for d in sizes if d != -1])
    if unknown:
        if known == 0 or a.size % known:
            raise TypeError(f"reshape: cannot reshape an array of shape {_shape_str(a)} (size {a.size}) "
                            f"into shape {sizes}: the known sizes multiply to {known}, which does not "
                            f"evenly divide {a.size}.")
        return sizes[:unknown[0]] + (a.size // known,) + sizes[unknown[0] + 1:]
    if known != a.size:
        raise TypeError(f"reshape: cannot reshape an array of shape {_shape_str(a)} (size {a.size}) "
                        f"into shape {sizes} (size {known}); the sizes must multiply to {a.size}.")
    return sizes


def ravel(a, order="C"):
    """``a``'s elements as a 1-D array of length ``a.size`` (``order`` as in
    ``reshape``)."""
    a = _array("ravel", a)
    return reshape(a, (a.size,), order)


def transpose(a, axes=None):
    """``a`` with its axes permuted: result axis i is ``a``'s axis ``axes[i]``.

    Args:
      a: array of rank n.
      axes: a permutation of ``range(n)`` (negative axes allowed); None
        reverses the axes.

    Returns:
      Array of shape ``tuple(a.shape[i] for i in axes)``.
    """
    a = _array("transpose", a)
    if axes is None:
        return lax.transpose(a, tuple(range(a.ndim))[::-1])
    axes = tuple(static_int(i, "transpose", "axes") for i in axes)
    perm = tuple(i % a.ndim if -a.ndim <= i < a.ndim else -1 for i in axes)
    if sorted(perm) != list(range(a.ndim)):
        raise TypeError(f"transpose: axes {axes} is not a permutation of the {a.ndim} axes of an "
                         f"array of shape {_shape_str(a)}.")
    return lax.transpose(a, perm)


def swapaxes(a, axis1, axis2):
    """``a`` with axes ``axis1`` and ``axis2`` exchanged."""
    a = _array("swapaxes", a)
    perm = list(range(a.ndim))
    i, j = _axis(axis1, a.ndim, "swapaxes"), _axis(axis2, a.ndim, "swapaxes")
    perm[i], perm[j] = j, i
    return lax.transpose(a, perm)


def moveaxis(a, source, destination):
    """``a`` with axes ``source`` (int or sequence) moved to positions
    ``destination`` (same length); the other axes keep their order."""
    a = _array("moveaxis", a)
    source = _axis_list(source, a.ndim, "moveaxis")
    destination = _axis_list(destination, a.ndim, "moveaxis")
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: source {source} and destination {destination} must have the "
                         "same number of axes.")
    order = [i for i in range(a.ndim) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return lax.transpose(a, order)


def _axis_list(axes, ndim, fun_name):
    axes = as_tuple(axes)
    out = [_axis(i, ndim, fun_name) for i in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"{fun_name}: repeated axis in {axes}.")
    return out


def expand_dims(a, axis):
    """``a`` with size-1 axes inserted at ``axis`` (int or tuple of ints,
    positions in the result)."""
    a = _array("expand_dims", a)
    axes = as_tuple(axis)
    axes = normalize_axes(tuple(static_int(i, "expand_dims", "axis") for i in axes),
                          a.ndim + len(axes), "expand_dims")
    return lax.expand_dims(a, axes)


def squeeze(a, axis=None):
    """``a`` without the size-1 axes ``axis`` (int or tuple; None: all of
    them). Removing an axis whose size is not 1 is an error."""
    a = _array("squeeze", a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = normalize_axes(axis, a.ndim, "squeeze")
        wrong = [i for i in axes if a.shape[i] != 1]
        if wrong:
            raise ValueError(f"squeeze: cannot remove axis {wrong[0]} of an array of shape "
                             f"{_shape_str(a)}: its size is {a.shape[wrong[0]]}, not 1.")
    return lax.squeeze(a, axes)


# --- joining ---------------------------------------------------------------------------------

def _sequence(fun_name, arrays):
    """The list of arrays to join; an array stands for the list of its rows."""
    if isinstance(arrays, (core.Array, np.ndarray)):
        a = ensure_array(arrays)
        if a.ndim == 0:
            raise ValueError(f"{fun_name}: a 0-d array is not a sequence of arrays.")
        return [lax.squeeze(lax.slice_in_dim(a, i, i + 1, axis=0), (0,)) for i in range(a.shape[0])]
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{fun_name}: need at least one array.")
    check_arraylike(fun_name, *arrays)
    return [ensure_array(x) for x in arrays]


def _common_dtype(arrays, dtype, fun_name):
    if dtype is None:
        return promote_dtypes(*arrays)
    dtype = canonical_dtype(dtype, fun_name)
    return [convert(x, dtype) for x in arrays]


def concatenate(arrays, axis=0, dtype=None):
    """Join arrays along an existing axis.

    Args:
      arrays: sequence of arrays of equal rank >= 1 whose shapes agree except
        along ``axis`` (an array stands for the sequence of its rows).
      axis: the axis to join along; None flattens every array first.
      dtype: result dtype; by default the promoted dtype of the inputs.

    Returns:
      Array whose ``axis`` has the sum of the inputs' sizes there.
    """
    arrays = _sequence("concatenate", arrays)
    if axis is None:
        arrays, axis = [ravel(x) for x in arrays], 0
    if any(x.ndim == 0 for x in arrays):
        raise ValueError("concatenate: 0-d arrays cannot be concatenated; use stack, or "
                         "atleast_1d on them first.")
    ndim = arrays[0].ndim
    axis = _axis(axis, ndim, "concatenate")
    for x in arrays:
        if x.ndim != ndim or any(d != e for i, (d, e) in enumerate(zip(x.shape, arrays[0].shape))
                                          if i != axis):
            shapes = ", ".join(_shape_str(y) for y in arrays)
            raise TypeError(f"concatenate: the shapes must agree except along axis {axis}, got {shapes}.")
    return lax.concatenate(_common_dtype(arrays, dtype, "concatenate"), axis)


def stack(arrays, axis=0, dtype=None):
    """Join arrays of one shape along a new axis.

    Args:
      arrays: non-empty sequence of arrays of one shape ``S`` (an array stands
        for the sequence of its rows).
      axis: position of the new axis in the result.
      dtype: result dtype; by default the promoted dtype of the inputs.

    Returns:
      Array of shape ``S`` with ``len(arrays)`` inserted at ``axis``.
    """
    arrays = _sequence("stack", arrays)
    shapes = {tuple(x.shape) for x in arrays}
    if len(shapes) > 1:
        raise ValueError(f"stack: all arrays must have the same shape, got "
                         f"{', '.join(_shape_str(x) for x in arrays)}.")
    axis = _axis(axis, arrays[0].ndim + 1, "stack")
    arrays = _common_dtype(arrays, dtype, "stack")
    return lax.concatenate([lax.expand_dims(x, (axis,)) for x in arrays], axis)


def vstack(tup, dtype=None):
    """Join arrays along axis 0, after making 0-d and 1-d ones 2-d
    (shape ``(1, n)``): stacks rows."""
    return concatenate([atleast_2d(x) for x in _sequence("vstack", tup)], 0, dtype)


def hstack(tup, dtype=None):
    """Join arrays along axis 1 (axis 0 for 1-d arrays; 0-d ones become 1-d)."""
    arrays = [atleast_1d(x) for x in _sequence("hstack", tup)]
    return concatenate(arrays, 0 if arrays[0].ndim == 1 else 1, dtype)


def dstack(tup, dtype=None):
    """Join arrays along axis 2, after making them at least 3-d (see
    ``atleast_3d``)."""
    return concatenate([atleast_3d(x) for x in _sequence("dstack", tup)], 2, dtype)


def column_stack(tup):
    """Join 1-d arrays as columns of a 2-d array (2-d arrays join as they are)."""
    arrays = [x if x.ndim >= 2 else lax.reshape(x, (x.size, 1)) for x in _sequence("column_stack", tup)]
    return concatenate(arrays, 1)


# --- splitting ----------------------------------------------------------------------------------

def split(ary, indices_or_sections, axis=0):
    """Split ``ary`` along ``axis`` into a list of arrays.

    Args:
      ary: array.
      indices_or_sections: an int N (N equal parts; the axis size must be
        divisible by N) or a sequence of static split points (as Python
        slice bounds: negative values count from the end, large ones clip).
      axis: the axis to split.

    Returns:
      List of arrays.
    """
    return _split("split", ary, indices_or_sections, axis, equal=True)


def array_split(ary, indices_or_sections, axis=0):
    """``split`` that allows an int N not dividing the axis size: the first
    ``size % N`` parts get one element more."""
    return _split("array_split", ary, indices_or_sections, axis, equal=False)


def _split(fun_name, ary, indices_or_sections, axis, equal):
    ary = _array(fun_name, ary)
    axis = _axis(axis, ary.ndim, fun_name)
    size = ary.shape[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = static_int(indices_or_sections, fun_name, "indices_or_sections")
        if sections <= 0:
            raise ValueError(f"{fun_name}: the number of sections must be positive, got {sections}.")
        if equal and size % sections:
            raise ValueError(f"{fun_name}: an axis of size {size} does not split into {sections} equal "
                             "parts; use array_split for unequal parts.")
        base, extra = divmod(size, sections)
        points = np.cumsum([0] + [base + 1] * extra + [base] * (sections - extra)).tolist()
    else:
        if isinstance(indices_or_sections, core.Tracer):
            indices_or_sections = concrete(indices_or_sections, fun_name, "indices_or_sections")
        points = [0] + [static_int(i, fun_name, "indices_or_sections") for i in indices_or_sections] + [size]
    return [lax.slice_in_dim(ary, start, stop, axis=axis) for start, stop in zip(points[:-1], points[1:])]


def hsplit(ary, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-d arrays)."""
    ary = _array("hsplit", ary)
    if ary.ndim == 0:
        raise ValueError("hsplit: the array must be at least 1-d.")
    return split(ary, indices_or_sections, 1 if ary.ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    """``split`` along axis 0 of an array of rank >= 2."""
    ary = _array("vsplit", ary)
    if ary.ndim < 2:
        raise ValueError(f"vsplit: the array must be at least 2-d, got shape {_shape_str(ary)}.")
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    """``split`` along axis 2 of an array of rank >= 3."""
    ary = _array("dsplit", ary)
    if ary.ndim < 3:
        raise ValueError(f"dsplit: the array must be at least 3-d, got shape {_shape_str(ary)}.")
    return split(ary, indices_or_sections, 2)


# --- picking elements by static index ----------------------------------------------------------

_MAX_PIECES = 16  # beyond this many slices one gather is cheaper


def _take_static(x, indices, axis):
    """``x`` indexed along ``axis`` by host integer ``indices`` (1-D, in
    bounds), as slices of ``x`` where the indices form a few runs of step
    +1, -1 or 0; otherwise as one gather."""
    indices = np.asarray(indices, dtype=np.int64)
    size = x.shape[axis]
    if len(indices) == size and np.array_equal(indices, np.arange(size)):
        return x
    runs = _runs(indices, _MAX_PIECES)
    if runs is None:
        from ... import numpy as jnp
        if hasattr(jnp, "take"):
            return jnp.take(x, asarray(indices.astype(dtypes.default_int_dtype())), axis=axis)
        runs = _runs(indices, None)
    pieces = []
    for first, step, length in runs:
        if step == 0:
            piece = lax.slice_in_dim(x, first, first + 1, axis=axis)
            shape = x.shape[:axis] + (length,) + x.shape[axis + 1:]
            pieces.append(lax.broadcast_in_dim(piece, shape, tuple(range(x.ndim))))
        elif step == 1:
            pieces.append(lax.slice_in_dim(x, first, first + length, axis=axis))
        else:
            pieces.append(lax.rev(lax.slice_in_dim(x, first - length + 1, first + 1, axis=axis), (axis,)))
    if not pieces:
        return lax.slice_in_dim(x, 0, 0, axis=axis)
    return lax.concatenate(pieces, axis)


def _runs(indices, limit):
    """``[(first, step, length)]`` covering ``indices`` with runs of step 1,
    -1 or 0 (greedily, left to right); None past ``limit`` runs."""
    steps = np.diff(indices)
    # Where the step changes, plus a sentinel: a run starting at i ends at the next change.
    changes = np.append(np.flatnonzero(steps[1:] != steps[:-1]) + 1, len(steps))
    runs, i = [], 0
    while i < len(indices):
        if limit is not None and len(runs) >= limit:
            return None
        if i == len(indices) - 1 or abs(steps[i]) > 1:
            runs.append((int(indices[i]), 1, 1))
            i += 1
            continue
        end = int(changes[np.searchsorted(changes, i, side="right")])
        runs.append((int(indices[i]), int(steps[i]), end - i + 1))
        i = end + 1
    return runs


# --- tiling and repeating ------------------------------------------------------------------------

def tile(A, reps):  # noqa: N803
    """``A`` repeated ``reps`` times along each axis.

    Args:
      A: array.
      reps: int or tuple of static ints >= 0. ``A`` and ``reps`` are padded
        with leading 1s to the same length d.

    Returns:
      Array of rank d with size ``A.shape[i] * reps[i]`` along axis i.
    """
    A = _array("tile", A)  # noqa: N806
    reps = static_shape(reps, "tile", "reps")
    d = max(len(reps), A.ndim)
    reps = (1,) * (d - len(reps)) + reps
    shape = (1,) * (d - A.ndim) + tuple(A.shape)
    interleaved = tuple(n for pair in zip(reps, shape) for n in pair)
    tiled = lax.broadcast_in_dim(lax.reshape(A, shape), interleaved, tuple(range(1, 2 * d, 2)))
    return lax.reshape(tiled, tuple(r * s for r, s in zip(reps, shape)))


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Each element of ``a`` repeated along ``axis``.

    Args:
      a: array; with ``axis=None`` it is flattened first.
      repeats: a static int >= 0, or one static count per element along
        ``axis`` (a concrete array or sequence). Traced repeats raise
        ``ConcretizationTypeError``.
      axis: the axis to repeat along.
      total_repeat_length: the length of the result along ``axis``: extra
        repeats are dropped, and the last element fills any shortfall (JAX's
        rule).

    Returns:
      Array of ``a``'s dtype, with ``sum(repeats)`` (or
      ``total_repeat_length``) elements along ``axis``.
    """
    a = _array("repeat", a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = _axis(axis, a.ndim, "repeat")
    size = a.shape[axis]
    counts = np.asarray(concrete(repeats, "repeat", "repeats"))
    if counts.dtype.kind not in "iub" or counts.ndim > 1:
        raise TypeError(f"repeat: repeats must be an int or a 1-D sequence of ints, got {repeats!r}.")
    if np.any(counts < 0):
        raise ValueError(f"repeat: repeats must be non-negative, got {counts.tolist()}.")
    if counts.ndim == 1 and len(counts) not in (1, size):
        raise ValueError(f"repeat: got {len(counts)} repeat counts for an axis of size {size}; give "
                         "one count, or one per element.")
    total = None if total_repeat_length is None else static_int(total_repeat_length, "repeat",
                                                                 "total_repeat_length")
    if counts.size == 1 and (total is None or total == size * int(counts.reshape(()))):
        count = int(counts.reshape(()))
        expanded = a.shape[:axis + 1] + (count,) + a.shape[axis + 1:]
        dims = tuple(i for i in range(a.ndim + 1) if i != axis + 1)
        out = lax.broadcast_in_dim(a, expanded, dims)
        return lax.reshape(out, a.shape[:axis] + (size * count,) + a.shape[axis + 1:])
    counts = np.broadcast_to(counts, (size,)).astype(np.int64)
    if total is None:
        indices = np.repeat(np.arange(size), counts)
    elif total and not size:
        raise ValueError(f"repeat: cannot fill total_repeat_length={total} from an empty axis.")
    else:
        ends = np.cumsum(counts)
        indices = np.minimum(np.searchsorted(ends, np.arange(total), side="right"), size - 1)
    return _take_static(a, indices, axis)


# --- broadcasting ------------------------------------------------------------------------------

def broadcast_to(array, shape):
    """``array`` broadcast NumPy-style to ``shape`` (int or tuple of static
    ints): trailing axes must match or be 1, leading axes are added."""
    return broadcast_to_shape(_array("broadcast_to", array), static_shape(shape, "broadcast_to"),
                              "broadcast_to")


def broadcast_shapes(*shapes):
    """The NumPy broadcast of shapes (ints or tuples of ints), as a tuple."""
    shapes = [static_shape(s, "broadcast_shapes") for s in shapes]
    try:
        return _broadcast_shapes(*shapes, fun_name="broadcast_shapes")
    except NumbaxTypeError as err:
        raise ValueError(str(err)) from None


def broadcast_arrays(*args):
    """The arguments broadcast to their common shape, as a list of arrays."""
    check_arraylike("broadcast_arrays", *args)
    arrays = [ensure_array(x) for x in args]
    shape = broadcast_shapes(*[tuple(x.shape) for x in arrays])
    return [broadcast_to_shape(x, shape, "broadcast_arrays") for x in arrays]


# --- padding ------------------------------------------------------------------------------------

_PAD_MODES = ("constant", "empty", "edge", "reflect", "symmetric", "wrap", "linear_ramp")
_PAD_OPTIONS = {"constant": {"constant_values"}, "linear_ramp": {"end_values"},
                "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}}


def pad(array, pad_width, mode="constant", **kwargs):
    """``array`` padded along each axis, as ``np.pad``.

    Args:
      array: array of rank n.
      pad_width: static ints: one width for every side, a ``(before, after)``
        pair for every axis, or one pair per axis (shape ``(n, 2)``).
      mode: ``'constant'`` (``constant_values``: a scalar or per-axis
        ``(before, after)`` values, may be traced), ``'edge'``,
        ``'reflect'``, ``'symmetric'``, ``'wrap'``, ``'linear_ramp'``
        (``end_values``), or ``'empty'`` (zeros here).

    Returns:
      Array of ``array``'s dtype, each axis longer by ``before + after``.

    Differences from JAX: the ``maximum``, ``minimum``, ``mean`` and
    ``median`` modes, ``reflect_type='odd'`` and callable modes are not
    supported yet.
    """
    x = _array("pad", array)
    widths = _pad_widths(pad_width, x.ndim)
    if mode not in _PAD_MODES:
        error = NotImplementedError if mode in ("maximum", "minimum", "mean", "median") else ValueError
        raise error(f"pad: mode {mode!r} is not supported; use one of {', '.join(_PAD_MODES)}.")
    unknown = set(kwargs) - _PAD_OPTIONS.get(mode, set())
    if unknown:
        raise TypeError(f"pad: unexpected keyword arguments {sorted(unknown)} for mode {mode!r}.")
    if mode in ("constant", "empty"):
        return _pad_constant(x, widths, kwargs.get("constant_values", 0))
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("pad: reflect_type='odd' is not supported yet; use 'even'.")
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        if x.shape[axis] == 0:
            raise ValueError(f"pad: cannot extend the empty axis {axis} with mode {mode!r}; only "
                             "'constant' and 'empty' can pad an empty axis.")
        if mode == "linear_ramp":
            x = _linear_ramp(x, axis, before, after, kwargs.get("end_values", 0))
        else:
            # The indices NumPy's padding picks from this axis, computed on the host.
            picked = np.pad(np.arange(x.shape[axis]), (before, after), mode=mode)
            x = lax.concatenate([_take_static(x, picked[:before], axis), x,
                                 _take_static(x, picked[before + x.shape[axis]:], axis)], axis)
    return x


def _pad_widths(pad_width, ndim):
    widths = np.asarray(concrete(pad_width, "pad", "pad_width"))
    if widths.size and widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers, got {pad_width!r}.")
    try:
        widths = np.broadcast_to(widths.astype(np.int64), (ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} must be an int, a (before, after) pair, or one "
                         f"pair per axis ({ndim} axes).") from None
    if np.any(widths < 0):
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}.")
    return [(int(before), int(after)) for before, after in widths]


def _per_side(values, x, fun_name):
    """Scalar ``values`` as a 0-d array; otherwise an ``(ndim, 2)`` array."""
    values = as_dtype(values, x.dtype)
    if values.ndim == 0:
        return values
    return broadcast_to_shape(values, (x.ndim, 2), fun_name)


def _side(values, axis, side):
    if values.ndim == 0:
        return values
    return lax.reshape(lax.slice(values, (axis, side), (axis + 1, side + 1)), ())


def _pad_constant(x, widths, constant_values):
    values = _per_side(constant_values, x, "pad")
    if values.ndim == 0:
        return lax.pad(x, values, [(before, after, 0) for before, after in widths])
    for axis, (before, after) in enumerate(widths):
        for side, width in ((0, before), (1, after)):
            if width:
                config = [(0, 0, 0)] * x.ndim
                config[axis] = (width, 0, 0) if side == 0 else (0, width, 0)
                x = lax.pad(x, _side(values, axis, side), config)
    return x


def _linear_ramp(x, axis, before, after, end_values):
    ends = _per_side(end_values, x, "pad")
    size = x.shape[axis]
    pieces = []
    for side, width in ((0, before), (1, after)):
        if not width:
            continue
        edge = lax.squeeze(lax.slice_in_dim(x, 0 if side == 0 else size - 1,
                                            1 if side == 0 else size, axis=axis), (axis,))
        ramp = linspace(_side(ends, axis, side), edge, width, endpoint=False, dtype=x.dtype, axis=axis)
        pieces.append(ramp if side == 0 else lax.rev(ramp, (axis,)))
    if before:
        return lax.concatenate([pieces[0], x] + pieces[1:], axis)
    return lax.concatenate([x] + pieces, axis)


# --- flips, rolls, rotations ---------------------------------------------------------------------

def flip(m, axis=None):
    """``m`` with the order of elements reversed along ``axis`` (int or
    tuple; None: every axis)."""
    m = _array("flip", m)
    return lax.rev(m, normalize_axes(axis, m.ndim, "flip"))


def fliplr(m):
    """``m`` reversed along axis 1 (left/right); ``m`` must be at least 2-d."""
    m = _array("fliplr", m)
    if m.ndim < 2:
        raise ValueError(f"fliplr: the array must be at least 2-d, got shape {_shape_str(m)}.")
    return lax.rev(m, (1,))


def flipud(m):
    """``m`` reversed along axis 0 (up/down); ``m`` must be at least 1-d."""
    m = _array("flipud", m)
    if m.ndim < 1:
        raise ValueError("flipud: the array must be at least 1-d, got a 0-d array.")
    return lax.rev(m, (0,))


def roll(a, shift, axis=None):
    """Elements shifted by ``shift`` along ``axis``, wrapping around.

    Args:
      a: array.
      shift: int or tuple of ints (one per axis in ``axis``). A traced shift
        is allowed for a single axis (it uses ``lax.dynamic_slice_in_dim``).
      axis: int or tuple of ints; None rolls the flattened array.

    Returns:
      Array of ``a``'s shape and dtype.
    """
    a = _array("roll", a)
    if axis is None:
        return lax.reshape(roll(ravel(a), shift, 0), a.shape)
    if isinstance(shift, core.Tracer) and shift.to_concrete_value() is None:
        return _roll_traced(a, shift, axis)
    shifts = np.asarray(concrete(shift, "roll", "shift"))
    axes = np.asarray(axis)
    if shifts.dtype.kind not in "iu" or axes.dtype.kind not in "iu" or shifts.ndim > 1 or axes.ndim > 1:
        raise TypeError(f"roll: shift and axis must be ints or 1-D sequences of ints, got shift={shift!r}, "
                        f"axis={axis!r}.")
    total = {}
    for s, ax in np.broadcast(shifts, axes):
        ax = _axis(int(ax), a.ndim, "roll")
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in sorted(total.items()):
        size = a.shape[ax]
        if size and s % size:
            a = _take_static(a, (np.arange(size) - s) % size, ax)
    return a


def _roll_traced(a, shift, axis):
    if shift.ndim or not isinstance(axis, (int, np.integer)):
        raise TypeError("roll: a traced shift must be a scalar with a single int axis; roll one axis "
                        "at a time.")
    axis = _axis(axis, a.ndim, "roll")
    size = a.shape[axis]
    if size == 0:
        return a
    int_dtype = dtypes.default_int_dtype()
    n = convert(size, int_dtype)
    shift = lax.rem(lax.add(lax.rem(convert(shift, int_dtype), n), n), n)
    doubled = lax.concatenate([a, a], axis)
    return lax.dynamic_slice_in_dim(doubled, lax.sub(n, shift), size, axis)


def rot90(m, k=1, axes=(0, 1)):
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes``
    (from the first axis towards the second). ``m`` must be at least 2-d."""
    m = _array("rot90", m)
    if m.ndim < 2:
        raise ValueError(f"rot90: the array must be at least 2-d, got shape {_shape_str(m)}.")
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must be two axes, got {axes}.")
    first, second = _axis_list(axes, m.ndim, "rot90")
    k = static_int(k, "rot90", "k") % 4
    if k == 0:
        return m
    if k == 2:
        return lax.rev(m, tuple(sorted((first, second))))
    perm = list(range(m.ndim))
    perm[first], perm[second] = second, first
    if k == 1:
        return lax.transpose(lax.rev(m, (second,)), perm)
    return lax.rev(lax.transpose(m, perm), (second,))


# --- grids and rank helpers ---------------------------------------------------------------------------

def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from 1-d coordinate vectors.

    Args:
      xi: 1-d arrays of lengths n1, n2, ...
      copy: accepted for NumPy compatibility (arrays are immutable).
      sparse: return arrays with size-1 axes, to broadcast, instead of full grids.
      indexing: ``'xy'`` (Cartesian: the first two output axes swapped, shape
        ``(n2, n1, ...)``) or ``'ij'`` (matrix: shape ``(n1, n2, ...)``).

    Returns:
      List of ``len(xi)`` arrays.
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
    check_arraylike("meshgrid", *xi)
    arrays = [ensure_array(x) for x in xi]
    if any(x.ndim != 1 for x in arrays):
        raise ValueError(f"meshgrid: the arguments must be 1-d, got shapes "
                         f"{[tuple(x.shape) for x in arrays]}.")
    axes = list(range(len(arrays)))
    if indexing == "xy" and len(arrays) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(arrays)
    for x, ax in zip(arrays, axes):
        shape[ax] = x.shape[0]
    out = []
    for x, ax in zip(arrays, axes):
        if sparse:
            out.append(lax.reshape(x, tuple(x.shape[0] if i == ax else 1 for i in range(len(arrays)))))
        else:
            out.append(lax.broadcast_in_dim(x, tuple(shape), (ax,)))
    return out


def _atleast(fun_name, arys, rank, place):
    check_arraylike(fun_name, *arys)
    out = []
    for x in arys:
        x = ensure_array(x)
        out.append(x if x.ndim >= rank else lax.reshape(x, place(tuple(x.shape))))
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    """Each argument as an array of rank >= 1 (0-d becomes shape ``(1,)``);
    one array for one argument, else a list."""
    return _atleast("atleast_1d", arys, 1, lambda s: (1,))


def atleast_2d(*arys):
    """Each argument as an array of rank >= 2: ``()`` -> ``(1, 1)``, ``(n,)``
    -> ``(1, n)``. One array for one argument, else a list."""
    return _atleast("atleast_2d", arys, 2, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*arys):
    """Each argument as an array of rank >= 3: ``()`` -> ``(1, 1, 1)``,
    ``(n,)`` -> ``(1, n, 1)``, ``(m, n)`` -> ``(m, n, 1)``. One array for one
    argument, else a list."""
    return _atleast("atleast_3d", arys, 3, _as_3d)


def _as_3d(shape):
    if not shape:
        return (1, 1, 1)
    return (1,) + shape + (1,) if len(shape) == 1 else shape + (1,)


def shape(a):
    """The shape of an array, tracer, scalar or nested sequence, as a tuple."""
    return tuple(a.shape) if isinstance(a, core.Array) else np.shape(a)


def ndim(a):
    """The number of axes of ``a`` (see ``shape``)."""
    return len(shape(a))


def size(a, axis=None):
    """The number of elements of ``a``, or its length along ``axis``."""
    dims = shape(a)
    if axis is None:
        return math.prod(dims)
    return dims[canonicalize_axis(axis, len(dims), "size")]


# --- appending, inserting, deleting ---------------------------------------------------------------

def append(arr, values, axis=None):
    """``values`` joined to the end of ``arr``: both flattened if ``axis`` is
    None, else along ``axis`` (shapes must agree elsewhere). Promoted dtype."""
    check_arraylike("append", arr, values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


def _static_index(obj, size, fun_name):
    """Host indices for a static ``obj``: an int, a slice, or ints."""
    if isinstance(obj, slice):
        return np.arange(*obj.indices(size))
    indices = np.asarray(concrete(obj, fun_name, "obj"))
    if indices.size and indices.dtype.kind not in "iub" or indices.ndim > 1:
        raise TypeError(f"{fun_name}: obj must be an int, a slice, or a 1-D sequence of ints, got {obj!r}.")
    return indices if indices.size else indices.astype(np.int64)


def delete(arr, obj, axis=None):
    """``arr`` without the entries ``obj`` along ``axis``.

    Args:
      arr: array; flattened first if ``axis`` is None.
      obj: static index: an int, a slice, a sequence of ints, or a boolean
        mask over the axis.
      axis: the axis to delete along.

    Returns:
      Array of ``arr``'s dtype, shorter along ``axis``.
    """
    arr = _array("delete", arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = _axis(axis, arr.ndim, "delete")
    size = arr.shape[axis]
    indices = _static_index(obj, size, "delete")
    try:
        keep = np.delete(np.arange(size), indices)
    except IndexError as err:
        raise IndexError(f"delete: {err}") from None
    return _take_static(arr, keep, axis)


def insert(arr, obj, values, axis=None):
    """``values`` inserted into ``arr`` before the static index (or indices)
    ``obj`` along ``axis``, as ``np.insert``.

    Args:
      arr: array; flattened first if ``axis`` is None.
      obj: an int, a slice, or a sequence of ints (positions in ``arr``).
      values: array broadcast to the inserted slots; converted to ``arr``'s dtype.
      axis: the axis to insert along.

    Returns:
      Array of ``arr``'s dtype, longer along ``axis``.
    """
    arr = _array("insert", arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = _axis(axis, arr.ndim, "insert")
    size = arr.shape[axis]
    indices = _static_index(obj, size, "insert")
    values = as_dtype(values, arr.dtype, arr.weak_type)
    if values.ndim < arr.ndim:
        values = lax.broadcast_to_rank(values, arr.ndim)
    if indices.size == 1:
        # One position: every row of values goes there, as NumPy does.
        position = int(indices.reshape(()))
        if not -size <= position <= size:
            raise IndexError(f"insert: index {position} is out of bounds for an axis of size {size}.")
        if indices.ndim == 0 and values.ndim:
            values = moveaxis(values, 0, axis)
        count = values.shape[axis]
        slots = np.full(count, position + size if position < 0 else position)
    else:
        if np.any((indices < -size) | (indices > size)):
            raise IndexError(f"insert: indices {indices.tolist()} are out of bounds for an axis of size "
                             f"{size}.")
        slots = np.where(indices < 0, indices + size, indices)
        count = len(slots)
    target = arr.shape[:axis] + (count,) + arr.shape[axis + 1:]
    values = broadcast_to_shape(values, target, "insert")
    # Output position of each inserted value: its slot plus the values placed before it.
    order = np.argsort(slots, kind="stable")
    new_positions = np.empty(count, dtype=np.int64)
    new_positions[order] = slots[order] + np.arange(count)
    picked = np.empty(size + count, dtype=np.int64)
    is_new = np.zeros(size + count, dtype=bool)
    is_new[new_positions] = True
    picked[new_positions] = size + np.arange(count)
    picked[~is_new] = np.arange(size)
    return _take_static(lax.concatenate([arr, values], axis), picked, axis)
