"""Shape primitives: broadcast_in_dim, reshape, transpose, squeeze, rev,
slice, concatenate, pad. Rule functions sit right below each primitive."""

import math
import builtins

import numpy as np

from ..array import ArrayImpl
from ..core import ShapedArray
from ..interpreters import batching as _batching
from ..interpreters import jvp as _ad
from ..interpreters.transpose import is_undefined_primal
from .utils import canonical_axes, coerce_scalars, shape_error, standard_primitive


def _static_shape(shape, what="shape"):
    try:
        out = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    except TypeError:
        raise TypeError(f"{what} must be a tuple of Python ints, got {shape!r}; shapes are static "
                        "in numbax, so they cannot depend on traced values.") from None
    if any(d < 0 for d in out):
        raise ValueError(f"{what} {out} has a negative dimension.")
    return out


_py_slice = builtins.slice  # this module defines lax.slice


# Every primitive here is linear: its JVP applies it to the tangents (_ad.deflinear)
# and its transpose rule maps a cotangent of the output back to the operands.
# Batch rules bind the primitive once on the batched operand, with the axis
# params shifted past the batch axis (``_shift``), and say where it ends up.

def _sum(x, axes):
    from .reduce import reduce_sum  # reduce.py's rules use this module
    return reduce_sum(x, tuple(axes)) if axes else x


def _zero_scalar(x):
    """A 0-d zero of ``x``'s dtype (a literal in jaxprs)."""
    return ArrayImpl(np.zeros((), x.dtype))


def _shift(axes, bdim):
    """Axes of the unbatched operand as axes of the operand with batch axis ``bdim``."""
    return tuple(a + (a >= bdim) for a in axes)


def _batch_size(args, dims):
    return next(a.shape[d] for a, d in zip(args, dims) if d is not _batching.not_mapped)


# --- broadcast_in_dim ---------------------------------------------------------------

def _broadcast_in_dim_abstract_eval(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        raise shape_error("broadcast_in_dim", f"needs one broadcast dimension per operand axis, got "
                          f"broadcast_dimensions={broadcast_dimensions} for target shape {shape}", x)
    if list(broadcast_dimensions) != sorted(set(broadcast_dimensions)) or \
            any(not 0 <= d < len(shape) for d in broadcast_dimensions):
        raise shape_error("broadcast_in_dim", f"needs strictly increasing broadcast_dimensions within "
                          f"range, got {broadcast_dimensions} for target shape {shape}", x)
    for axis, dim in enumerate(broadcast_dimensions):
        if x.shape[axis] not in (1, shape[dim]):
            raise shape_error("broadcast_in_dim", f"cannot broadcast axis {axis} (size {x.shape[axis]}) "
                              f"to size {shape[dim]} of target shape {shape}", x)
    return ShapedArray(shape, x.dtype, x.weak_type)


def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for axis, dim in enumerate(broadcast_dimensions):
        expanded[dim] = x.shape[axis]
    return np.broadcast_to(x.reshape(expanded), shape)


broadcast_in_dim_p = standard_primitive("broadcast_in_dim", _broadcast_in_dim_abstract_eval,
                                        _broadcast_in_dim_impl)


def _broadcast_in_dim_transpose(ct, operand, *, shape, broadcast_dimensions):
    # Sum over the new axes and over the size-1 axes that were stretched.
    in_shape = operand.aval.shape
    new = [d for d in range(len(shape)) if d not in broadcast_dimensions]
    stretched = [d for i, d in enumerate(broadcast_dimensions) if in_shape[i] == 1 and shape[d] != 1]
    return [reshape(_sum(ct, sorted(new + stretched)), in_shape)]


_ad.deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)


def _broadcast_in_dim_batch(args, dims, *, shape, broadcast_dimensions):
    # The batch axis lands right after the output axis of the operand axis
    # before it, which keeps broadcast_dimensions increasing: no transpose.
    (x,), (d,) = args, dims
    out_d = broadcast_dimensions[d - 1] + 1 if d else 0
    new_dims = broadcast_dimensions[:d] + (out_d,) + tuple(b + 1 for b in broadcast_dimensions[d:])
    out_shape = shape[:out_d] + (x.shape[d],) + shape[out_d:]
    return broadcast_in_dim_p.bind(x, shape=out_shape, broadcast_dimensions=new_dims), out_d


broadcast_in_dim_p.def_batch(_broadcast_in_dim_batch)


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    """Place ``operand``'s axis i at axis ``broadcast_dimensions[i]`` of an array
    of ``shape``, repeating it along the other axes (size-1 axes stretch)."""
    (operand,) = coerce_scalars(operand)
    shape = _static_shape(shape)
    broadcast_dimensions = tuple(int(d) for d in broadcast_dimensions)
    if operand.shape == shape and broadcast_dimensions == tuple(range(len(shape))):
        return operand
    return broadcast_in_dim_p.bind(operand, shape=shape, broadcast_dimensions=broadcast_dimensions)


def broadcast(operand, sizes):
    """Add leading axes of ``sizes``: result shape ``sizes + operand.shape``."""
    (operand,) = coerce_scalars(operand)
    sizes = _static_shape(sizes, "sizes")
    dims = tuple(range(len(sizes), len(sizes) + operand.ndim))
    return broadcast_in_dim(operand, sizes + tuple(operand.shape), dims)


def broadcast_to_rank(x, rank):
    """Add leading size-1 axes until ``x`` has ``rank`` axes."""
    (x,) = coerce_scalars(x)
    if x.ndim >= rank:
        return x
    shape = (1,) * (rank - x.ndim) + tuple(x.shape)
    return broadcast_in_dim(x, shape, tuple(range(rank - x.ndim, rank)))


# --- reshape ---------------------------------------------------------------------------

def _reshape_abstract_eval(x, *, new_sizes, dimensions):
    if math.prod(new_sizes) != x.size:
        raise shape_error("reshape", f"cannot reshape {x.size} elements into shape {new_sizes}", x)
    if dimensions is not None and sorted(dimensions) != list(range(x.ndim)):
        raise shape_error("reshape", f"dimensions={dimensions} must be a permutation of the axes", x)
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


def _reshape_impl(x, *, new_sizes, dimensions):
    if dimensions is not None:
        x = np.transpose(x, dimensions)
    return x.reshape(new_sizes)


reshape_p = standard_primitive("reshape", _reshape_abstract_eval, _reshape_impl)


def _reshape_transpose(ct, operand, *, new_sizes, dimensions):
    if dimensions is None:
        return [reshape(ct, operand.aval.shape)]
    permuted = tuple(operand.aval.shape[d] for d in dimensions)
    return [transpose(reshape(ct, permuted), np.argsort(dimensions))]


_ad.deflinear(reshape_p, _reshape_transpose)


def _reshape_batch(args, dims, *, new_sizes, dimensions):
    # ``dimensions`` transposes before the reshape: it also brings the batch axis first.
    (x,), (d,) = args, dims
    order = tuple(range(x.ndim - 1)) if dimensions is None else dimensions
    return reshape(x, (x.shape[d],) + new_sizes, (d,) + _shift(order, d)), 0


reshape_p.def_batch(_reshape_batch)


def reshape(operand, new_sizes, dimensions=None):
    """Reshape to ``new_sizes`` (static ints, no -1), optionally transposing by
    ``dimensions`` first."""
    (operand,) = coerce_scalars(operand)
    new_sizes = _static_shape(new_sizes, "new_sizes")
    dims = None if dimensions is None or tuple(dimensions) == tuple(range(operand.ndim)) \
        else tuple(int(d) for d in dimensions)
    if dims is None and tuple(operand.shape) == new_sizes:
        return operand
    return reshape_p.bind(operand, new_sizes=new_sizes, dimensions=dims)


# --- transpose, squeeze, expand_dims, rev --------------------------------------------------

def _transpose_abstract_eval(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise shape_error("transpose", f"permutation {permutation} is not a permutation of the "
                          f"{x.ndim} axes", x)
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


transpose_p = standard_primitive("transpose", _transpose_abstract_eval,
                                 lambda x, *, permutation: np.transpose(x, permutation))
_ad.deflinear(transpose_p, lambda ct, x, *, permutation: [transpose(ct, np.argsort(permutation))])


def _transpose_batch(args, dims, *, permutation):
    (x,), (d,) = args, dims
    return transpose(x, (d,) + _shift(permutation, d)), 0


transpose_p.def_batch(_transpose_batch)


def transpose(operand, permutation):
    """Permute axes: result axis i is ``operand`` axis ``permutation[i]``."""
    (operand,) = coerce_scalars(operand)
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(operand.ndim)):
        return operand
    return transpose_p.bind(operand, permutation=permutation)


def _squeeze_abstract_eval(x, *, dimensions):
    for d in dimensions:
        if x.shape[d] != 1:
            raise shape_error("squeeze", f"can only remove axes of size 1, axis {d} has size {x.shape[d]}", x)
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions), x.dtype, x.weak_type)


squeeze_p = standard_primitive("squeeze", _squeeze_abstract_eval,
                               lambda x, *, dimensions: np.squeeze(x, dimensions))
_ad.deflinear(squeeze_p, lambda ct, x, *, dimensions: [reshape(ct, x.aval.shape)])


def _squeeze_batch(args, dims, *, dimensions):
    (x,), (d,) = args, dims
    return squeeze_p.bind(x, dimensions=_shift(dimensions, d)), d - sum(a < d for a in dimensions)


squeeze_p.def_batch(_squeeze_batch)


def squeeze(array, dimensions):
    """Remove the size-1 axes ``dimensions``."""
    (array,) = coerce_scalars(array)
    dimensions = canonical_axes(dimensions, array.ndim, "squeeze")
    if not dimensions:
        return array
    return squeeze_p.bind(array, dimensions=dimensions)


def expand_dims(array, dimensions):
    """Insert size-1 axes at ``dimensions`` (positions in the result)."""
    (array,) = coerce_scalars(array)
    ndim_out = array.ndim + len(dimensions)
    dims = canonical_axes(dimensions, ndim_out, "expand_dims")
    shape = list(array.shape)
    for d in dims:
        shape.insert(d, 1)
    kept = tuple(i for i in range(ndim_out) if i not in dims)
    return broadcast_in_dim(array, tuple(shape), kept)


def _rev_abstract_eval(x, *, dimensions):
    canonical_axes(dimensions, x.ndim, "rev")
    return x


rev_p = standard_primitive("rev", _rev_abstract_eval, lambda x, *, dimensions: np.flip(x, dimensions))
_ad.deflinear(rev_p, lambda ct, x, *, dimensions: [rev(ct, dimensions)])



def _rev_batch(args, dims, *, dimensions):
    (x,), (d,) = args, dims
    return rev_p.bind(x, dimensions=_shift(dimensions, d)), d


rev_p.def_batch(_rev_batch)


def rev(operand, dimensions):
    """Reverse the order of elements along ``dimensions``."""
    (operand,) = coerce_scalars(operand)
    dimensions = canonical_axes(dimensions, operand.ndim, "rev")
    if not dimensions:
        return operand
    return rev_p.bind(operand, dimensions=dimensions)


# --- slice, concatenate, pad ------------------------------------------------------------------

def _slice_abstract_eval(x, *, start_indices, limit_indices, strides):
    if not len(start_indices) == len(limit_indices) == x.ndim:
        raise shape_error("slice", f"needs start/limit indices for each of the {x.ndim} axes, got "
                          f"start_indices={start_indices} limit_indices={limit_indices}", x)
    strides = strides or (1,) * x.ndim
    shape = []
    for start, limit, stride, size in zip(start_indices, limit_indices, strides, x.shape):
        if not 0 <= start <= limit <= size or stride < 1:
            raise shape_error("slice", f"got start_indices={start_indices} limit_indices={limit_indices} "
                              f"strides={strides}, which do not lie within the operand", x)
        shape.append(-(-(limit - start) // stride))
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def _slice_impl(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    return x[tuple(_py_slice(s, e, st) for s, e, st in zip(start_indices, limit_indices, strides))]


slice_p = standard_primitive("slice", _slice_abstract_eval, _slice_impl)


def _slice_transpose(ct, operand, *, start_indices, limit_indices, strides):
    # Zeros around the slice and, for strides, between its elements.
    strides = strides or (1,) * len(start_indices)
    config = []
    for start, stride, out, size in zip(start_indices, strides, ct.shape, operand.aval.shape):
        extent = (out - 1) * stride + 1 if out else 0
        config.append((start, size - start - extent, stride - 1))
    return [pad(ct, _zero_scalar(ct), config)]


_ad.deflinear(slice_p, _slice_transpose)


def _slice_batch(args, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = args, dims
    strides = None if strides is None else strides[:d] + (1,) + strides[d:]
    return slice_p.bind(x, start_indices=start_indices[:d] + (0,) + start_indices[d:],
                        limit_indices=limit_indices[:d] + (x.shape[d],) + limit_indices[d:],
                        strides=strides), d


slice_p.def_batch(_slice_batch)


def slice(operand, start_indices, limit_indices, strides=None):  # noqa: A001
    """Static slice ``operand[start:limit:stride]`` per axis (non-negative, in bounds)."""
    (operand,) = coerce_scalars(operand)
    start = tuple(int(i) for i in start_indices)
    limit = tuple(int(i) for i in limit_indices)
    strides = None if strides is None or all(s == 1 for s in strides) else tuple(int(s) for s in strides)
    if start == (0,) * operand.ndim and limit == tuple(operand.shape) and strides is None:
        return operand
    return slice_p.bind(operand, start_indices=start, limit_indices=limit, strides=strides)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """``slice`` along one ``axis``; None and negative bounds count as in Python."""
    (operand,) = coerce_scalars(operand)
    axis = canonical_axes(axis, operand.ndim, "slice_in_dim")[0]
    start, limit, stride = _py_slice(start_index, limit_index, stride).indices(operand.shape[axis])
    starts = [0] * operand.ndim
    limits = list(operand.shape)
    strides = [1] * operand.ndim
    starts[axis], limits[axis], strides[axis] = start, max(limit, start), stride
    return slice(operand, starts, limits, strides)




def _concatenate_abstract_eval(*operands, dimension):
    first = operands[0]
    if not 0 <= dimension < first.ndim:
        raise shape_error("concatenate", f"dimension {dimension} is out of range", *operands)
    if len({o.dtype for o in operands}) > 1:
        raise shape_error("concatenate", "requires operands of one dtype", *operands)
    for o in operands:
        if o.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(o.shape, first.shape))
                                       if i != dimension):
            raise shape_error("concatenate", f"requires equal shapes except along dimension {dimension}",
                              *operands)
    shape = list(first.shape)
    shape[dimension] = sum(o.shape[dimension] for o in operands)
    return ShapedArray(tuple(shape), first.dtype, all(o.weak_type for o in operands))


concatenate_p = standard_primitive("concatenate", _concatenate_abstract_eval,
                                   lambda *xs, dimension: np.concatenate(xs, axis=dimension))


def _concatenate_transpose(ct, *operands, dimension):
    cts, start = [], 0
    for operand in operands:
        size = operand.aval.shape[dimension]  # an UndefinedPrimal, an array or a tracer
        if is_undefined_primal(operand):
            starts, limits = [0] * ct.ndim, list(ct.shape)
            starts[dimension], limits[dimension] = start, start + size
            cts.append(slice(ct, starts, limits))
        else:
            cts.append(None)
        start += size
    return cts


_ad.deflinear(concatenate_p, _concatenate_transpose)


def _concatenate_batch(args, dims, *, dimension):
    # Every operand takes the first batched operand's batch axis (unbatched
    # ones are broadcast along it).
    size = _batch_size(args, dims)
    d = next(d for d in dims if d is not _batching.not_mapped)
    operands = [_batching.move_batch_axis(x, xd, size, d) for x, xd in zip(args, dims)]
    return concatenate_p.bind(*operands, dimension=dimension + (dimension >= d)), d


concatenate_p.def_batch(_concatenate_batch)


def concatenate(operands, dimension):
    """Join arrays of one dtype and rank along ``dimension``."""
    operands = coerce_scalars(*operands)
    if not operands:
        raise ValueError("concatenate needs at least one operand.")
    if len(operands) == 1:
        return operands[0]
    return concatenate_p.bind(*operands, dimension=int(dimension))


def _pad_abstract_eval(x, padding_value, *, padding_config):
    if padding_value.shape:
        raise shape_error("pad", "requires a scalar padding value", x, padding_value)
    if padding_value.dtype != x.dtype:
        raise shape_error("pad", "requires the padding value to have the operand's dtype", x, padding_value)
    if len(padding_config) != x.ndim:
        raise shape_error("pad", f"needs one (low, high, interior) triple per axis, got {padding_config}", x)
    shape = []
    for (lo, hi, interior), size in zip(padding_config, x.shape):
        if interior < 0:
            raise shape_error("pad", f"interior padding must be >= 0, got {padding_config}", x)
        out = lo + hi + size + max(size - 1, 0) * interior
        if out < 0:
            raise shape_error("pad", f"padding {padding_config} removes more than the whole axis", x)
        shape.append(out)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def _pad_impl(x, padding_value, *, padding_config):
    # Interior padding first, then edges; negative edges crop.
    if not padding_config:
        return x
    shape = [size + max(size - 1, 0) * interior for (_, _, interior), size in zip(padding_config, x.shape)]
    out = np.full(shape, padding_value, dtype=x.dtype)
    out[tuple(_py_slice(None, None, interior + 1) for _, _, interior in padding_config)] = x
    widths = [(max(lo, 0), max(hi, 0)) for lo, hi, _ in padding_config]
    out = np.pad(out, widths, constant_values=padding_value)
    crop = tuple(_py_slice(-min(lo, 0), out.shape[i] + min(hi, 0)) for i, (lo, hi, _) in enumerate(padding_config))
    return out[crop]


pad_p = standard_primitive("pad", _pad_abstract_eval, _pad_impl)


def _pad_transpose(ct, operand, padding_value, *, padding_config):
    # The operand's cotangent: undo the edges (negative edges give zeros back),
    # then step over the interior padding. The padding value's: the rest.
    unpadded = pad(ct, _zero_scalar(ct), [(-lo, -hi, 0) for lo, hi, _ in padding_config])
    strides = [interior + 1 for _, _, interior in padding_config]
    ct_operand = slice(unpadded, (0,) * ct.ndim, unpadded.shape, strides)
    ct_padding_value = None
    if is_undefined_primal(padding_value):
        from .elementwise import sub
        ct_padding_value = sub(_sum(ct, range(ct.ndim)), _sum(ct_operand, range(ct.ndim)))
    return [ct_operand if is_undefined_primal(operand) else None, ct_padding_value]


_ad.deflinear(pad_p, _pad_transpose)


def _pad_batch(args, dims, *, padding_config):
    (x, padding_value), (d, value_d) = args, dims
    if value_d is _batching.not_mapped:
        config = padding_config[:d] + ((0, 0, 0),) + padding_config[d:]
        return pad_p.bind(x, padding_value, padding_config=config), d
    # A padding value per example: pad with zeros, then select each example's
    # value where the padded mask of the unbatched operand shape is False.
    from .elementwise import select_n
    size = padding_value.shape[value_d]
    x = _batching.bdim_at_front(x, d, size)
    padded = pad_p.bind(x, _zero_scalar(x), padding_config=((0, 0, 0),) + padding_config)
    ones = broadcast_in_dim(ArrayImpl(np.ones((), bool)), tuple(x.shape[1:]), ())
    inside = pad_p.bind(ones, ArrayImpl(np.zeros((), bool)), padding_config=padding_config)
    inside = broadcast_in_dim(inside, padded.shape, tuple(range(1, padded.ndim)))
    values = broadcast_in_dim(padding_value, padded.shape, (0,))
    return select_n(inside, values, padded), 0


pad_p.def_batch(_pad_batch)


def pad(operand, padding_value, padding_config):
    """Pad each axis by ``(low, high, interior)`` elements of ``padding_value``
    (negative low/high crop)."""
    operand, padding_value = coerce_scalars(operand, padding_value)
    config = tuple((int(lo), int(hi), int(interior)) for lo, hi, interior in padding_config)
    return pad_p.bind(operand, padding_value, padding_config=config)


def collapse(operand, start_dimension, stop_dimension=None):
    """Merge axes ``start_dimension:stop_dimension`` into one."""
    (operand,) = coerce_scalars(operand)
    stop = operand.ndim if stop_dimension is None else stop_dimension
    size = math.prod(operand.shape[start_dimension:stop])
    return reshape(operand, tuple(operand.shape[:start_dimension]) + (size,) + tuple(operand.shape[stop:]))


__all__ = ["broadcast_in_dim", "broadcast", "broadcast_to_rank", "reshape", "transpose", "squeeze",
           "expand_dims", "rev", "slice", "slice_in_dim", "concatenate", "pad", "collapse"]


# --- lowering (jit) --------------------------------------------------------------------------
# broadcast_in_dim fuses into loops (its operand is indexed through
# broadcast_dimensions); the others move data with NumPy slicing in numba.

from ..backends.plan import Elementwise as _Elementwise  # noqa: E402

broadcast_in_dim_p.def_lowering(_Elementwise("{0}", index_map=lambda eqn: eqn.params["broadcast_dimensions"]))


def _reshape_lower(ctx, eqn):
    (x,), (out,) = eqn.invars, eqn.outvars
    source = ctx.read(x)
    if eqn.params["dimensions"] is not None and x.aval.shape:
        source = f"np.ascontiguousarray({source}.transpose({tuple(eqn.params['dimensions'])}))"
    ctx.define(out, ctx.reshaped(source, x, out.aval.shape))


def _transpose_lower(ctx, eqn):
    (x,), (out,) = eqn.invars, eqn.outvars
    perm = tuple(eqn.params["permutation"])
    if perm == tuple(range(len(perm))):
        ctx.bind_name(out, ctx.read(x))
        return
    ctx.define(out, f"np.ascontiguousarray({ctx.read(x)}.transpose({perm}))")


def _squeeze_lower(ctx, eqn):
    (x,), (out,) = eqn.invars, eqn.outvars
    ctx.define(out, ctx.reshaped(ctx.read(x), x, out.aval.shape))


def _rev_lower(ctx, eqn):
    (x,), (out,) = eqn.invars, eqn.outvars
    dims = eqn.params["dimensions"]
    index = ", ".join("::-1" if d in dims else ":" for d in range(x.aval.ndim))
    ctx.define(out, f"np.ascontiguousarray({ctx.read(x)}[{index}])")


def _slice_lower(ctx, eqn):
    (x,), (out,) = eqn.invars, eqn.outvars
    strides = eqn.params["strides"] or (1,) * x.aval.ndim
    index = ", ".join(f"{lo}:{hi}:{st}" for lo, hi, st in
                      zip(eqn.params["start_indices"], eqn.params["limit_indices"], strides))
    ctx.define(out, f"np.ascontiguousarray({ctx.read(x)}[{index}])")


def _concatenate_lower(ctx, eqn):
    out = eqn.outvars[0]
    dim = eqn.params["dimension"]
    name = ctx.define(out, ctx.empty(out.aval))
    offset = 0
    for x in eqn.invars:
        n = x.aval.shape[dim]
        index = ", ".join(f"{offset}:{offset + n}" if d == dim else ":" for d in range(out.aval.ndim))
        ctx.emit(f"{name}[{index}] = {ctx.read(x)}")
        offset += n


def _pad_lower(ctx, eqn):
    (x, value), (out,) = eqn.invars, eqn.outvars
    name = ctx.define(out, f"rt.full({tuple(out.aval.shape)}, {ctx.read(value)}, {ctx.dtype(out)})")
    target, source = [], []
    for (lo, hi, interior), size, out_size in zip(eqn.params["padding_config"], x.aval.shape, out.aval.shape):
        step = interior + 1
        first = builtins.max(0, -(lo // step)) if lo < 0 else 0
        while first < size and lo + first * step < 0:
            first += 1
        last = size
        while last > first and lo + (last - 1) * step >= out_size:
            last -= 1
        if last <= first:
            return  # nothing of the operand survives the cropping
        start = lo + first * step
        target.append(f"{start}:{start + (last - first - 1) * step + 1}:{step}")
        source.append(f"{first}:{last}")
    if not target:
        return
    ctx.emit(f"{name}[{', '.join(target)}] = {ctx.read(x)}[{', '.join(source)}]")


reshape_p.def_lowering(_reshape_lower, "cpu")
transpose_p.def_lowering(_transpose_lower, "cpu")
squeeze_p.def_lowering(_squeeze_lower, "cpu")
rev_p.def_lowering(_rev_lower, "cpu")
slice_p.def_lowering(_slice_lower, "cpu")
concatenate_p.def_lowering(_concatenate_lower, "cpu")
pad_p.def_lowering(_pad_lower, "cpu")
