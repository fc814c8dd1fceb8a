"""Indexing: lax.gather/scatter/dynamic_slice against Python-loop references,
NumPy indexing and ``.at[]`` updates against NumPy, the index helpers
(take, nonzero, ...), the jaxprs indexing emits, and its error messages."""

import functools

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax._src import core
from numbax.errors import ConcretizationTypeError
from numbax.test_util import values_test, jit_test, grads_test, vmap_test
from numbax.test_util import (BOOL, F32, F64, I32, I64, U8, OpCase, uniform)

FLOATS = (F32, F64)
DTYPES = (F32, F64, I32, BOOL)
GDN, SDN = lax.GatherDimensionNumbers, lax.ScatterDimensionNumbers


def ints(low, high):
    return uniform(low, high)


# --- references written as loops over index vectors ----------------------------------------

def _window_start(shape, vector, batch_index, index_map, operand_batching, indices_batching, sizes):
    start = [0] * len(shape)
    for k, d in enumerate(index_map):
        start[d] = int(vector[k])
    for o, i in zip(operand_batching, indices_batching):
        start[o] = batch_index[i]
    fits = all(0 <= start[d] <= shape[d] - sizes[d] for d in index_map)
    clamped = [min(max(s, 0), n - k) for s, n, k in zip(start, shape, sizes)]
    return clamped, fits


def gather_ref(x, idx, dn, sizes, mode="fill", fill=None):
    dropped = set(dn.collapsed_slice_dims) | set(dn.operand_batching_dims)
    kept = [sizes[d] for d in range(x.ndim) if d not in dropped]
    batch = idx.shape[:-1]
    out_rank = len(batch) + len(kept)
    out_shape, b, k = [], iter(batch), iter(kept)
    for p in range(out_rank):
        out_shape.append(next(k) if p in dn.offset_dims else next(b))
    out = np.zeros(out_shape, x.dtype)
    if fill is None:
        fill = np.nan if x.dtype.kind == "f" else True if x.dtype == BOOL else np.iinfo(x.dtype).min
    for bi in np.ndindex(*batch):
        start, fits = _window_start(x.shape, idx[bi], bi, dn.start_index_map, dn.operand_batching_dims,
                                    dn.start_indices_batching_dims, sizes)
        window = x[tuple(slice(s, s + n) for s, n in zip(start, sizes))]
        if mode == "fill" and not fits:
            window = np.full(window.shape, fill, x.dtype)
        window = window.reshape(kept)
        batch_iter = iter(bi)
        out[tuple(slice(None) if p in dn.offset_dims else next(batch_iter) for p in range(out_rank))] = window
    return out


def scatter_ref(x, idx, updates, dn, combine, mode="drop"):
    out = x.copy()
    dropped = set(dn.inserted_window_dims) | set(dn.operand_batching_dims)
    window_axes = [d for d in range(x.ndim) if d not in dropped]
    sizes = [1] * x.ndim
    for d, u in zip(window_axes, dn.update_window_dims):
        sizes[d] = updates.shape[u]
    for bi in np.ndindex(*idx.shape[:-1]):
        start, fits = _window_start(x.shape, idx[bi], bi, dn.scatter_dims_to_operand_dims,
                                    dn.operand_batching_dims, dn.scatter_indices_batching_dims, sizes)
        if mode != "clip" and not fits:
            continue
        batch_iter = iter(bi)
        window = updates[tuple(slice(None) if a in dn.update_window_dims else next(batch_iter)
                               for a in range(updates.ndim))].reshape(sizes)
        region = tuple(slice(s, s + n) for s, n in zip(start, sizes))
        out[region] = combine(out[region], window)
    return out


def dynamic_slice_ref(x, starts, sizes):
    starts = [s + n if s < 0 else s for s, n in zip(starts, x.shape)]
    starts = [min(max(s, 0), n - k) for s, n, k in zip(starts, x.shape, sizes)]
    return x[tuple(slice(s, s + k) for s, k in zip(starts, sizes))]


def dynamic_update_slice_ref(x, update, starts):
    starts = [s + n if s < 0 else s for s, n in zip(starts, x.shape)]
    starts = [min(max(s, 0), n - k) for s, n, k in zip(starts, x.shape, update.shape)]
    out = x.copy()
    out[tuple(slice(s, s + k) for s, k in zip(starts, update.shape))] = update
    return out


def _last(old, new):
    return new


# --- lax op table --------------------------------------------------------------------------

def gather_row(name, dn, sizes, shapes, mode="fill", fill=None, index_range=(-2, 6), dtypes=DTYPES,
               grad_order=None):
    if grad_order is None:  # windows filled with the default NaN have no finite differences
        grad_order = 0 if mode == "fill" and fill is None else 2
    return OpCase(name, lambda x, i: lax.gather(x, i, dn, sizes, mode=mode, fill_value=fill),
                  lambda x, i: gather_ref(x, i, dn, sizes, mode, fill), shapes, dtypes=dtypes,
                  arg_dtypes=[None, I32], samplers=[None, ints(*index_range)],
                  grad_order=grad_order, grad_argnums=(0,))


def scatter_row(name, wrapper, combine, dn, shapes, mode=None, dtypes=FLOATS + (I32,), index_range=(-2, 6)):
    return OpCase(name, lambda x, i, u: wrapper(x, i, u, dn, mode=mode),
                  lambda x, i, u: scatter_ref(x, i, u, dn, combine, mode or "drop"), shapes, dtypes=dtypes,
                  arg_dtypes=[None, I32, None], samplers=[None, ints(*index_range), None],
                  grad_order=2, grad_argnums=(0, 2))


ROWS_DN = GDN(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))
WINDOW_DN = GDN(offset_dims=(1, 2), collapsed_slice_dims=(), start_index_map=(0, 1))
POINT_DN = GDN(offset_dims=(), collapsed_slice_dims=(0, 1), start_index_map=(1, 0))
BATCHED_DN = GDN(offset_dims=(), collapsed_slice_dims=(1,), start_index_map=(1,),
                 operand_batching_dims=(0,), start_indices_batching_dims=(0,))
SCALAR_DN = GDN(offset_dims=(), collapsed_slice_dims=(), start_index_map=())
STARTS = [(0, 0), (-1, 1), (9, -9)]  # in bounds, negative, clamped

LAX_CASES = [
    gather_row("gather:rows", ROWS_DN, (1, 3), [[(5, 3), (4, 1)], [(5, 3), (2, 2, 1)], [(5, 3), (0, 1)]]),
    gather_row("gather:rows_clip", ROWS_DN, (1, 3), [[(5, 3), (4, 1)]], mode="clip"),
    gather_row("gather:rows_promise", ROWS_DN, (1, 3), [[(5, 3), (4, 1)]], mode="promise_in_bounds"),
    gather_row("gather:rows_fill_value", ROWS_DN, (1, 3), [[(5, 3), (4, 1)]], fill=-1),
    gather_row("gather:windows", WINDOW_DN, (2, 3), [[(4, 5), (3, 2)], [(4, 5), (0, 2)]]),
    gather_row("gather:windows_fill_value", WINDOW_DN, (2, 3), [[(4, 5), (3, 2)], [(4, 5), (2, 3, 2)]], fill=0.5),
    gather_row("gather:windows_clip", WINDOW_DN, (2, 3), [[(4, 5), (3, 2)]], mode="clip"),
    gather_row("gather:points", POINT_DN, (1, 1), [[(4, 5), (3, 2)], [(4, 5), (2, 3, 2)]]),
    gather_row("gather:points_fill_value", POINT_DN, (1, 1), [[(4, 5), (6, 2)]], fill=0),
    gather_row("gather:empty_window", GDN((1,), (0,), (0,)), (1, 0), [[(4, 0), (3, 1)]], grad_order=2),
    gather_row("gather:batching_dims", BATCHED_DN, (1, 1), [[(3, 5), (3, 1)], [(2, 4), (2, 1)]]),
    gather_row("gather:batching_dims_fill_value", BATCHED_DN, (1, 1), [[(3, 5), (3, 2, 1)]], fill=-2),
    gather_row("gather:scalar_operand", SCALAR_DN, (), [[(), (3, 0)]], grad_order=2),
    scatter_row("scatter", lax.scatter, _last, SDN((), (0,), (0,)),
                [[(5,), (3, 1), (3,)], [(5,), (0, 1), (0,)]], index_range=(0, 5)),
    scatter_row("scatter:drop", lax.scatter, _last, SDN((1,), (0,), (0,)), [[(4, 3), (5, 1), (5, 3)]]),
    scatter_row("scatter_add", lax.scatter_add, np.add, SDN((1,), (0,), (0,)), [[(4, 3), (6, 1), (6, 3)]]),
    scatter_row("scatter_add:clip", lax.scatter_add, np.add, SDN((1,), (0,), (0,)),
                [[(4, 3), (6, 1), (6, 3)]], mode="clip"),
    scatter_row("scatter_add:promise", lax.scatter_add, np.add, SDN((1,), (0,), (0,)),
                [[(4, 3), (6, 1), (6, 3)]], mode="promise_in_bounds"),
    scatter_row("scatter_add:windows", lax.scatter_add, np.add, SDN((1, 2), (), (0, 1)),
                [[(4, 5), (3, 2), (3, 2, 2)]]),
    scatter_row("scatter_add:batching_dims", lax.scatter_add, np.add, SDN((), (1,), (1,), (0,), (0,)),
                [[(3, 4), (3, 2, 1), (3, 2)]]),
    scatter_row("scatter_mul", lax.scatter_mul, np.multiply, SDN((), (0,), (0,)), [[(4,), (6, 1), (6,)]]),
    scatter_row("scatter_min", lax.scatter_min, np.minimum, SDN((), (0,), (0,)), [[(4,), (6, 1), (6,)]],
                dtypes=DTYPES),
    scatter_row("scatter_max", lax.scatter_max, np.maximum, SDN((1,), (0,), (0,)), [[(4, 2), (6, 1), (6, 2)]],
                dtypes=DTYPES),
    scatter_row("scatter_add:scalar_operand", lax.scatter_add, np.add, SDN((), (), ()), [[(), (3, 0), (3,)]]),
    OpCase("dynamic_slice", lambda x: [lax.dynamic_slice(x, s, (2, 3)) for s in STARTS],
           lambda x: [dynamic_slice_ref(x, s, (2, 3)) for s in STARTS], [[(4, 5)], [(2, 3)]], dtypes=DTYPES,
           grad_order=2),
    OpCase("dynamic_slice:traced_starts", lambda x, i, j: lax.dynamic_slice(x, (i, j), (1, 2)),
           lambda x, i, j: dynamic_slice_ref(x, (int(i), int(j)), (1, 2)), [[(3, 4), (), ()]], dtypes=FLOATS,
           arg_dtypes=[None, I32, I32], samplers=[None, ints(-5, 5), ints(-5, 5)], grad_order=2,
           grad_argnums=(0,)),
    OpCase("dynamic_slice:scalar", lambda x: lax.dynamic_slice(x, (), ()), lambda x: x, [[()]], grad_order=2),
    OpCase("dynamic_update_slice", lambda x, u: [lax.dynamic_update_slice(x, u, s) for s in STARTS],
           lambda x, u: [dynamic_update_slice_ref(x, u, s) for s in STARTS],
           [[(4, 5), (2, 3)], [(2, 2), (2, 0)]], dtypes=DTYPES, grad_order=2),
    OpCase("dynamic_update_slice:traced_start", lambda x, u, i: lax.dynamic_update_slice(x, u, (i,)),
           lambda x, u, i: dynamic_update_slice_ref(x, u, (int(i),)), [[(5,), (2,), ()]], dtypes=FLOATS,
           arg_dtypes=[None, None, I32], samplers=[None, None, ints(-7, 7)], grad_order=2,
           grad_argnums=(0, 1)),
    OpCase("dynamic_slice_in_dim", lambda x: lax.dynamic_slice_in_dim(x, -2, 2, axis=1),
           lambda x: x[:, -2:], [[(3, 4)]], grad_order=2),
    OpCase("dynamic_index_in_dim",
           lambda x: (lax.dynamic_index_in_dim(x, 1, 1), lax.dynamic_index_in_dim(x, 5, 0, False)),
           lambda x: (x[:, 1:2], x[-1]), [[(3, 4)]], grad_order=2),
    OpCase("dynamic_update_slice_in_dim", lambda x, u: lax.dynamic_update_slice_in_dim(x, u, 3, axis=1),
           lambda x, u: dynamic_update_slice_ref(x, u, (0, 3)), [[(3, 4), (3, 2)]], grad_order=2),
    OpCase("dynamic_update_index_in_dim", lambda x, u: lax.dynamic_update_index_in_dim(x, u, -1, 0),
           lambda x, u: dynamic_update_slice_ref(x, u[None], (2, 0)), [[(3, 4), (4,)]], grad_order=2),
]


test_lax_op_table = values_test(LAX_CASES)
test_lax_op_jit = jit_test(LAX_CASES)


test_lax_op_grads = grads_test(LAX_CASES)


test_lax_op_vmap = vmap_test(LAX_CASES)


# --- NumPy indexing: x[index] ---------------------------------------------------------------

def _numbax_index(index):
    """The same index with its NumPy arrays of rank >= 1 as numbax arrays."""
    def convert(item):
        return jnp.asarray(item) if isinstance(item, np.ndarray) and item.ndim else item
    return tuple(map(convert, index)) if isinstance(index, tuple) else convert(index)


def getitem_row(name, index, shapes=((2, 3, 4),), dtypes=DTYPES):
    return OpCase(f"getitem:{name}", lambda x: x[_numbax_index(index)], lambda x: x[index],
                  [[s] for s in shapes], dtypes=dtypes, grad_order=2)


GETITEM_CASES = [
    getitem_row("int", 1), getitem_row("negative_int", -1), getitem_row("ints", (0, -1, 2)),
    getitem_row("empty_tuple", (), shapes=((), (2, 3))), getitem_row("ellipsis", ..., shapes=((), (2, 3))),
    getitem_row("None", None, shapes=((), (2, 3))), getitem_row("ellipsis_None", (..., None)),
    getitem_row("slice", np.s_[1:]), getitem_row("slice_step", np.s_[:, ::2, 1:4:2]),
    getitem_row("negative_step", np.s_[::-1, 3:0:-2]), getitem_row("negative_step_empty", np.s_[:, 0:2:-1]),
    getitem_row("slice_out_of_range", np.s_[-10:10, 5:]),
    getitem_row("mixed_basic", np.s_[1, None, ..., ::-1]),
    getitem_row("size0", np.s_[:, 1], shapes=((0, 3), (2, 3))),
    getitem_row("array", np.array([0, -1, 1, 1]), shapes=((3,), (2, 3))),
    getitem_row("array_2d", np.array([[0, 1], [1, 0]])),
    getitem_row("array_second_axis", np.s_[:, np.array([2, 0, -3])]),
    getitem_row("arrays_adjacent", np.s_[:, np.array([0, 2]), np.array([[1], [3]])]),
    getitem_row("arrays_separated", np.s_[np.array([0, 1]), :, np.array([3, 2])]),
    getitem_row("int_and_array_separated", np.s_[1, :, np.array([0, 3])]),
    getitem_row("int_and_array_adjacent", np.s_[:, 1, np.array([0, 3])]),
    getitem_row("array_with_None", np.s_[None, np.array([1, 0]), None, ::-1]),
    getitem_row("array_with_slices", np.s_[1:, np.array([0, 2]), ::-2]),
    getitem_row("array_0d", np.array(1)),
    getitem_row("empty_array", np.array([], np.int32), shapes=((0, 2), (3, 2))),
    getitem_row("uint8_array", np.array([1, 0], np.uint8)),
    getitem_row("tuple_with_list", ([0, 1], 0)),
    getitem_row("mask", np.array([True, False])),
    getitem_row("mask_2d", np.array([[True, False, True], [False, False, True]])),
    getitem_row("mask_and_slice", np.s_[..., np.array([True, False, False, True])]),
    getitem_row("scalar_bool", True, shapes=((), (2,))), getitem_row("scalar_false", np.s_[False, 1]),
]


test_getitem_table = values_test(GETITEM_CASES)
test_getitem_jit = jit_test(GETITEM_CASES)


test_getitem_grads = grads_test(GETITEM_CASES)


test_getitem_vmap = vmap_test(GETITEM_CASES)


AT_CASES = [
    OpCase("index:traced_int_array", lambda x, i: x[i], lambda x, i: x[i], [[(4,), (3,)], [(3, 2), (2, 2)]],
           arg_dtypes=[None, I32], samplers=[None, ints(-3, 3)], grad_order=2, grad_argnums=(0,)),
    OpCase("index:traced_scalar", lambda x, i: (x[i], x[i, 1:]), lambda x, i: (x[i], x[i, 1:]),
           [[(3, 4), ()]], arg_dtypes=[None, I32], samplers=[None, ints(-3, 3)], grad_order=2,
           grad_argnums=(0,)),
    OpCase("index:out_of_bounds_clamps", lambda x, i: x[:, i], lambda x, i: x[:, np.clip(i, 0, 3)],
           [[(2, 4), (5,)]], arg_dtypes=[None, I32], samplers=[None, ints(0, 9)], grad_order=2,
           grad_argnums=(0,)),
    OpCase("at.get:fill", lambda x: x.at[np.array([0, 4, -1, -6])].get(mode="fill", fill_value=7),
           lambda x: np.where(np.array([[1], [0], [1], [0]]) == 1, x[[0, 0, -1, 0]], 7).astype(x.dtype),
           [[(3, 2)]], dtypes=(F32, F64, I32), grad_order=2),
    OpCase("at.get:default_fill", lambda x: x.at[5].get(mode="fill"),
           lambda x: np.full(x.shape[1:], np.nan if x.dtype.kind == "f" else np.iinfo(x.dtype).min, x.dtype),
           [[(3, 2)]], dtypes=(F32, I32)),
    OpCase("at.get:clamps", lambda x: x.at[np.s_[5, -9]].get(), lambda x: x[-1, 0], [[(3, 2)]], grad_order=2),
    OpCase("at.set", lambda x, v: x.at[1:, np.array([0, 2])].set(v),
           lambda x, v: _assigned(x, np.s_[1:, [0, 2]], v), [[(3, 4), ()], [(3, 4), (2,)], [(3, 4), (2, 2)]],
           dtypes=DTYPES, grad_order=2),
    OpCase("at.set:ints_and_slices", lambda x, v: x.at[0, ::-2].set(v),
           lambda x, v: _assigned(x, np.s_[0, ::-2], v),
           [[(2, 5), (3,)], [(2, 0), ()]], grad_order=2),
    OpCase("at.set:None_and_leading_ones", lambda x, v: x.at[None, 1].set(v),
           lambda x, v: _assigned(x, 1, v.reshape(v.shape[-1:])), [[(3, 4), (1, 1, 4)]],
           grad_order=2),
    OpCase("at.set:mask", lambda x: x.at[np.array([True, False, True])].set(0),
           lambda x: _assigned(x, np.array([True, False, True]), 0), [[(3,)], [(3, 2)]], dtypes=DTYPES,
           grad_order=2),
    OpCase("at.set:drops_out_of_bounds", lambda x: x.at[np.array([1, 5, -6])].set(9),
           lambda x: _assigned(x, 1, 9), [[(4,)], [(4, 2)]], grad_order=2),
    OpCase("at.set:scalar_array", lambda x: x.at[()].set(2), lambda x: np.full_like(x, 2), [[()]], grad_order=2),
    OpCase("at.set:casts", lambda x: x.at[0].set(2.7),
           lambda x: _assigned(x, 0, np.array(2.7).astype(x.dtype)),
           [[(3,)]], dtypes=(F32, I32, U8)),
    OpCase("at.add:duplicates_accumulate", lambda x, v: x.at[np.array([0, 2, 0, 0])].add(v),
           lambda x, v: _accumulated(np.add, x, [0, 2, 0, 0], v), [[(3,), (4,)], [(3, 2), (4, 1)]],
           dtypes=FLOATS + (I32, I64), grad_order=2),
    OpCase("at.add:traced_index", lambda x, i, v: x.at[i].add(v),
           lambda x, i, v: _accumulated(np.add, x, np.where(i < 0, i + 5, i), v),
           [[(5,), (6,), (6,)]], arg_dtypes=[None, I32, None], samplers=[None, ints(-5, 5), None],
           grad_order=2, grad_argnums=(0, 2)),
    OpCase("at.add:clip", lambda x: x.at[np.array([7, -1])].add(1, mode="clip"),
           lambda x: _accumulated(np.add, x, [2, 2], np.ones(2, x.dtype)), [[(3,)]], grad_order=2),
    OpCase("at.subtract", lambda x: x.at[1].subtract(1), lambda x: _assigned(x, 1, x[1] - 1), [[(3,)]],
           dtypes=FLOATS + (I32, U8), grad_order=2),
    OpCase("at.multiply", lambda x: x.at[np.array([1, 1])].multiply(3),
           lambda x: _accumulated(np.multiply, x, [1, 1], 3),
           [[(3,)]], dtypes=FLOATS + (I32,), grad_order=2),
    OpCase("at.divide", lambda x: x.at[::2].divide(2), lambda x: x / np.where(np.arange(3) % 2, 1, 2),
           [[(3,)]], dtypes=FLOATS + (I32,), out_dtype=lambda d: d if d.kind == "f" else F32,
           grad_order=2),
    OpCase("at.power", lambda x: x.at[1].power(2), lambda x: _assigned(x, 1, x[1] ** 2), [[(3,)]],
           dtypes=FLOATS + (I32,), grad_order=2),
    OpCase("at.min_max", lambda x: (x.at[np.array([0, 0])].min(np.array([0.5, -1.0])), x.at[:2].max(0.0)),
           lambda x: (_accumulated(np.minimum, x, [0, 0], np.array([0.5, -1.0])),
                      _assigned(x, np.s_[:2], np.maximum(x[:2], 0))),
           [[(3,)]], grad_order=2),
    OpCase("at.apply", lambda x: x.at[np.array([0, 2])].apply(jnp.negative),
           lambda x: _assigned(x, [0, 2], -x[[0, 2]]),
           [[(3,)], [(3, 2)]], grad_order=2),
]


def _assigned(x, index, value):
    out = x.copy()
    out[index] = value
    return out


def _accumulated(ufunc, x, index, value):
    out = x.copy()
    ufunc.at(out, np.asarray(index), np.asarray(value).astype(x.dtype))
    return out


test_at_table = values_test(AT_CASES)
test_at_jit = jit_test(AT_CASES)


test_at_grads = grads_test(AT_CASES)


test_at_vmap = vmap_test(AT_CASES)


# --- index helpers -----------------------------------------------------------------------------

def _take_fill(x, i, axis):
    n = x.shape[axis]
    i = np.where(i < 0, i + n, i)
    fill = np.nan if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    taken = np.take(x, np.clip(i, 0, n - 1), axis=axis)
    bad = np.expand_dims((i < 0) | (i >= n), tuple(range(axis))).reshape(
        (1,) * axis + i.shape + (1,) * (x.ndim - axis - 1))
    return np.where(bad, fill, taken).astype(x.dtype)


def int_default(d):
    return I64 if d.itemsize == 8 else I32


def _nonzero_padded(x, size, fill):
    found = np.nonzero(x)
    return tuple(np.concatenate([f[:size], np.full(max(size - f.size, 0), fill)]).astype(np.int32)
                 for f in found)


HELPER_CASES = [
    OpCase("take", lambda x, i: jnp.take(x, i, axis=1), lambda x, i: _take_fill(x, i, 1),
           [[(2, 4, 3), (5,)], [(2, 4), (2, 3)], [(2, 4), ()]], arg_dtypes=[None, I32],
           samplers=[None, ints(-6, 6)], dtypes=(F32, F64, I32)),
    OpCase("take:fill_value", lambda x, i: jnp.take(x, i, axis=0, fill_value=-1.5),
           lambda x, i: np.where(((i < -3) | (i >= 3))[:, None], -1.5, x[np.clip(i, -3, 2)]).astype(x.dtype),
           [[(3, 2), (5,)]], arg_dtypes=[None, I32], samplers=[None, ints(-5, 5)], grad_order=2,
           grad_argnums=(0,)),
    OpCase("take:flat", lambda x, i: jnp.take(x, i), lambda x, i: _take_fill(x.ravel(), i, 0),
           [[(2, 3), (4,)], [(), (2,)]], arg_dtypes=[None, I32], samplers=[None, ints(-8, 8)]),
    OpCase("take:clip_wrap",
           lambda x, i: (jnp.take(x, i, axis=0, mode="clip"), jnp.take(x, i, axis=0, mode="wrap")),
           lambda x, i: (np.take(x, i, axis=0, mode="clip"), np.take(x, i, axis=0, mode="wrap")),
           [[(3, 2), (6,)]], arg_dtypes=[None, I32], samplers=[None, ints(-7, 7)], grad_order=2,
           grad_argnums=(0,)),
    OpCase("take:empty", lambda x, i: jnp.take(x, i, axis=0), lambda x, i: np.take(x, i, axis=0),
           [[(0, 2), (0,)], [(3, 2), (0,)]], arg_dtypes=[None, I32], grad_order=2, grad_argnums=(0,)),
    OpCase("take_along_axis", lambda x, i: jnp.take_along_axis(x, i, axis=-1),
           lambda x, i: np.take_along_axis(x, np.broadcast_to(i, x.shape[:-1] + i.shape[-1:]), axis=-1),
           [[(2, 3), (2, 5)], [(2, 3), (1, 2)], [(2, 3, 4), (2, 3, 0)]], arg_dtypes=[None, I32],
           samplers=[None, ints(-3, 3)], dtypes=DTYPES, grad_order=2, grad_argnums=(0,)),
    OpCase("take_along_axis:sorted", lambda x: jnp.take_along_axis(x, np.array([[1, 0, 2], [0, 2, 1]]), 0),
           lambda x: np.take_along_axis(x, np.array([[1, 0, 2], [0, 2, 1]]), 0), [[(3, 3)]], grad_order=2),
    OpCase("take_along_axis:fill", lambda x: jnp.take_along_axis(x, np.array([7, -1]), axis=None),
           lambda x: np.array([np.nan, x.ravel()[-1]], x.dtype), [[(2, 3)]]),
    OpCase("nonzero:size", lambda x: jnp.nonzero(x, size=4, fill_value=-1),
           lambda x: _nonzero_padded(x, 4, -1),
           [[(3,)], [(2, 3)], [(0,)]], dtypes=(F32, I32, BOOL), sample=ints(-1, 2), out_dtype=lambda d: I32),
    OpCase("nonzero:size_per_axis", lambda x: jnp.nonzero(x, size=5, fill_value=(7, 8)),
           lambda x: tuple(np.concatenate([f, np.full(5 - f.size, v)])
                           for f, v in zip(np.nonzero(x), (7, 8))),
           [[(2, 2)]], dtypes=(F64,), sample=ints(-1, 2), out_dtype=int_default),
    OpCase("flatnonzero:size", lambda x: jnp.flatnonzero(x, size=2),
           lambda x: _nonzero_padded(x.ravel(), 2, 0)[0],
           [[(2, 3)]], dtypes=(F32, I32), sample=ints(-1, 2), out_dtype=lambda d: I32),
    OpCase("argwhere:size", lambda x: jnp.argwhere(x, size=3),
           lambda x: np.stack(_nonzero_padded(x, 3, 0), 1),
           [[(2, 3)]], sample=ints(-1, 2), out_dtype=int_default),
    OpCase("unravel_index", lambda i: jnp.unravel_index(i, (3, 4)),
           lambda i: np.unravel_index(np.where(i < 0, i + 12, i).clip(0, 11), (3, 4)),
           [[(6,)], [()]], dtypes=(I32, I64), sample=ints(-14, 14)),
    OpCase("ravel_multi_index", lambda i, j: (jnp.ravel_multi_index((i, j), (3, 4), mode="clip"),
                                              jnp.ravel_multi_index((i, j), (3, 4), mode="wrap", order="F")),
           lambda i, j: (np.ravel_multi_index((i, j), (3, 4), mode="clip"),
                         np.ravel_multi_index((i, j), (3, 4), mode="wrap", order="F")),
           [[(5,), (5,)], [(2, 1), (3,)]], dtypes=(I32, I64), sample=ints(-5, 6)),
]


test_helper_table = values_test(HELPER_CASES)
test_helper_jit = jit_test(HELPER_CASES)


test_helper_grads = grads_test(HELPER_CASES)


test_helper_vmap = vmap_test(HELPER_CASES)


@pytest.mark.parametrize("x", [np.array([0, 2, 0, -1]), np.array([[1.5, 0.0], [0.0, 0.0]]),
                               np.zeros((0, 2), np.int32), np.array([[True], [True]]), np.array(3.0)])
def test_nonzero_family_eager(x):
    if x.ndim:
        for got, want in zip(jnp.nonzero(jnp.asarray(x)), np.nonzero(x)):
            assert got.dtype == I32
            np.testing.assert_array_equal(np.asarray(got), want)
    np.testing.assert_array_equal(np.asarray(jnp.flatnonzero(jnp.asarray(x))), np.flatnonzero(x))
    got = jnp.argwhere(jnp.asarray(x))
    assert got.dtype == I32 and got.shape == np.argwhere(x).shape
    np.testing.assert_array_equal(np.asarray(got), np.argwhere(x))


def test_index_constructors():
    for got, want in [(jnp.diag_indices(3), np.diag_indices(3)),
                      (jnp.diag_indices(2, 3), np.diag_indices(2, 3)),
                      (jnp.tril_indices(3, 1), np.tril_indices(3, 1)),
                      (jnp.triu_indices(3, 1, 4), np.triu_indices(3, 1, 4)),
                      (jnp.tril_indices_from(jnp.ones((2, 3))), np.tril_indices(2, 0, 3)),
                      (jnp.triu_indices_from(jnp.ones((3, 3)), -1), np.triu_indices(3, -1)),
                      (jnp.diag_indices_from(jnp.ones((2, 2))), np.diag_indices(2)),
                      (jnp.indices((2, 3), sparse=True), np.indices((2, 3), sparse=True))]:
        for g, w in zip(got, want):
            assert g.dtype == I32
            np.testing.assert_array_equal(np.asarray(g), w)
    grid = jnp.indices((2, 3))
    assert grid.dtype == I32 and grid.shape == (2, 2, 3)
    np.testing.assert_array_equal(np.asarray(grid), np.indices((2, 3)))
    assert jnp.indices((2, 3), dtype=jnp.float32).dtype == F32


# --- jaxprs -----------------------------------------------------------------------------------

def _primitives(fun, *args):
    return [eqn.primitive.name for eqn in numbax.make_jaxpr(fun)(*args).eqns]


def test_static_indexing_emits_simple_primitives():
    x = jnp.ones((3, 4))
    text = str(numbax.make_jaxpr(lambda x: x[0])(x))
    assert "slice[limit_indices=(1, 4) start_indices=(0, 0) strides=None] a" in text
    assert "squeeze[dimensions=(0,)] b" in text
    assert _primitives(lambda x: x[0], x) == ["slice", "squeeze"]
    assert _primitives(lambda x: x[:, 1:2], x) == ["slice"]
    assert _primitives(lambda x: x[::-1], x) == ["rev"]
    assert _primitives(lambda x: x[::-2], x) == ["slice", "rev"]
    assert _primitives(lambda x: x[None], x) == ["broadcast_in_dim"]
    assert _primitives(lambda x: x[...], x) == []
    assert "dynamic_slice" in _primitives(lambda x, i: x[i], x, 1)
    assert _primitives(lambda x, i: x[i], x, jnp.asarray(np.array([0, 2])))[-1] == "gather"
    assert _primitives(lambda x, i: x.at[i].add(1.0), x, jnp.asarray(np.array([0, 2])))[-1] == "scatter-add"


def test_gather_jaxpr_params():
    text = str(numbax.make_jaxpr(lambda x, i: x[:, i])(jnp.ones((3, 4)), jnp.asarray(np.array([0, 2]))))
    assert "mode=GatherScatterMode.PROMISE_IN_BOUNDS" in text and "slice_sizes=(3, 1)" in text
    set_text = str(numbax.make_jaxpr(lambda x: x.at[1].set(0.0))(jnp.ones(3)))
    assert "mode=GatherScatterMode.FILL_OR_DROP" in set_text


def test_concrete_mask_under_a_trace():
    x = jnp.asarray(np.arange(6.0, dtype=np.float32))
    mask = np.arange(6) % 2 == 0
    out = core.jaxpr_as_fun(numbax.make_jaxpr(lambda x: x[mask])(x))(x)[0]
    np.testing.assert_array_equal(np.asarray(out), np.arange(6.0)[mask])


# --- lax details -----------------------------------------------------------------------------

def test_gather_scatter_mode_from_any():
    mode = lax.GatherScatterMode
    assert mode.from_any(None) is mode.FILL_OR_DROP and mode.from_any("drop") is mode.FILL_OR_DROP
    assert mode.from_any("clip") is mode.CLIP and mode.from_any(mode.CLIP) is mode.CLIP
    assert mode.from_any("promise_in_bounds") is mode.PROMISE_IN_BOUNDS
    with pytest.raises(ValueError, match='Unknown gather/scatter mode "wrap"'):
        mode.from_any("wrap")


def test_gather_fill_value_is_cast_and_scatter_keeps_weak_type():
    x = jnp.asarray(np.arange(5, dtype=np.int32))
    starts = jnp.asarray(np.array([[1], [3]]))
    out = lax.gather(x, starts, GDN((1,), (), (0,)), (3,), mode="fill", fill_value=2.5)
    np.testing.assert_array_equal(np.asarray(out), [[1, 2, 3], [2, 2, 2]])
    weak = jnp.asarray(1.0) * 0 + lax.broadcast_in_dim(1.0, (3,), ())
    assert lax.scatter_add(weak, jnp.asarray(np.array([[0]])), jnp.ones(1), SDN((), (0,), (0,))).dtype == F32


# --- vmap --------------------------------------------------------------------------------------

def _vmap_vs_loop(fun, args, in_axes, size=3):
    """``vmap(fun, in_axes)`` against a Python loop over the examples, stacked."""
    out = numbax.vmap(fun, in_axes=in_axes)(*[jnp.asarray(a) for a in args])
    examples = []
    for b in range(size):
        one = [a if ax is None else np.take(a, b, axis=ax) for a, ax in zip(args, in_axes)]
        examples.append(np.asarray(fun(*[jnp.asarray(a) for a in one])))
    np.testing.assert_array_equal(np.asarray(out), np.stack(examples))


def _batched(rng, shape, axis, low=-3, high=6, dtype=np.float32, size=3):
    """A random array of ``shape`` with a batch axis of ``size`` inserted at ``axis`` (None: none)."""
    if axis is not None:
        shape = shape[:axis] + (size,) + shape[axis:]
    return rng.integers(low, high, size=shape).astype(dtype)


def test_vmap_of_integer_array_indexing():
    rng = np.random.default_rng(0)
    fun = lambda x, i: x[i]  # noqa: E731
    for x_axis, i_axis in [(None, 0), (None, 1), (0, 0), (2, 1), (1, None)]:
        x = _batched(rng, (4, 2), x_axis)
        i = _batched(rng, (2, 5), i_axis, -4, 4, np.int32)
        _vmap_vs_loop(fun, [x, i], (x_axis, i_axis))


@pytest.mark.parametrize("dn,sizes,x_shape,i_shape", [
    (ROWS_DN, (1, 3), (5, 3), (4, 1)), (WINDOW_DN, (2, 3), (4, 5), (2, 3, 2)), (POINT_DN, (1, 1), (4, 5), (3, 2)),
    (BATCHED_DN, (1, 1), (3, 5), (3, 2, 1))])
def test_vmap_of_gather_every_batching(dn, sizes, x_shape, i_shape):
    rng = np.random.default_rng(1)
    for mode in ("fill", "clip"):
        fun = lambda x, i: lax.gather(x, i, dn, sizes, mode=mode)  # noqa: E731
        for x_axis, i_axis in [(0, None), (len(x_shape), None), (None, 0), (None, len(i_shape)), (0, 0),
                               (1, len(i_shape) - 1)]:
            x = _batched(rng, x_shape, x_axis)
            i = _batched(rng, i_shape, i_axis, -1, 5, np.int32)
            _vmap_vs_loop(fun, [x, i], (x_axis, i_axis))


@pytest.mark.parametrize("wrapper", [lax.scatter, lax.scatter_add, lax.scatter_mul, lax.scatter_min,
                                     lax.scatter_max])
def test_vmap_of_scatter_every_batching(wrapper):
    rng = np.random.default_rng(2)
    dn = SDN(update_window_dims=(1,), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,))
    fun = lambda x, i, u: wrapper(x, i, u, dn)  # noqa: E731
    for axes in [(0, None, None), (None, 0, None), (None, None, 0), (2, 1, None), (None, 2, 2), (1, None, 1),
                 (0, 0, 0)]:
        x = _batched(rng, (4, 2), axes[0])
        i = _batched(rng, (6, 1), axes[1], 0, 5, np.int32)  # duplicates, and out-of-bounds 4s dropped
        u = _batched(rng, (6, 2), axes[2])
        _vmap_vs_loop(fun, [x, i, u], axes)


def test_vmap_of_at_add_with_duplicate_indices():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    i = np.array([[0, 2, 0], [1, 1, 1], [3, 0, 3]], np.int32)
    v = np.array([[1.0, 2.0, 4.0], [8.0, 16.0, 32.0], [64.0, 128.0, 256.0]], np.float32)
    fun = lambda x, i, v: x.at[i].add(v)  # noqa: E731
    out = numbax.vmap(fun)(jnp.asarray(x), jnp.asarray(i), jnp.asarray(v))
    np.testing.assert_array_equal(np.asarray(out), [[5.0, 1.0, 4.0, 3.0], [4.0, 61.0, 6.0, 7.0],
                                                    [136.0, 9.0, 10.0, 331.0]])
    for axes in [(0, 0, 0), (None, 0, 0), (0, None, 0), (0, 0, None), (1, 1, None)]:
        args = [a[0] if ax is None else a.T if ax == 1 else a for a, ax in zip((x, i, v), axes)]
        _vmap_vs_loop(fun, args, axes)


def test_vmap_of_dynamic_slices_with_batched_starts():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)
    starts = np.array([[0, 1], [-1, 4], [2, -7]], np.int32)  # in bounds, negative, clamped
    slice_fun = lambda x, s: lax.dynamic_slice(x, (s[0], s[1]), (2, 3))  # noqa: E731
    for axes in [(None, 0), (0, 0), (2, 1)]:
        operand = x[0] if axes[0] is None else np.moveaxis(x, 0, axes[0])
        _vmap_vs_loop(slice_fun, [operand, starts if axes[1] == 0 else starts.T], axes)
    out = numbax.vmap(functools.partial(lax.dynamic_slice, slice_sizes=(3, 5)), in_axes=(None, (0, None)))(
        jnp.asarray(x[0]), (jnp.asarray(starts[:, 0]), 0))
    np.testing.assert_array_equal(np.asarray(out), [x[0, 0:3], x[0, 1:4], x[0, 1:4]])
    update = rng.normal(size=(3, 2, 3)).astype(np.float32)
    update_fun = lambda x, u, s: lax.dynamic_update_slice(x, u, (s[0], s[1]))  # noqa: E731
    for axes in [(None, None, 0), (0, None, 0), (None, 0, 0), (1, 2, 1), (0, 0, None)]:
        args = [a[1] if ax is None else np.moveaxis(a, 0, ax) for a, ax in zip((x, update, starts), axes)]
        _vmap_vs_loop(update_fun, args, axes)


def test_vmap_of_a_gather_is_one_gather():
    def fun(x, i):
        return x[i] * 2.0

    for size in (3, 50):
        x, i = jnp.ones((size, 4, 2)), jnp.zeros((size, 6), jnp.int32)
        names = [eqn.primitive.name for eqn in numbax.make_jaxpr(numbax.vmap(fun))(x, i).eqns]
        assert names.count("gather") == 1 and len(names) < 10, names
        names = [eqn.primitive.name for eqn in numbax.make_jaxpr(numbax.vmap(fun, (None, 0)))(x[0], i).eqns]
        assert names.count("gather") == 1 and len(names) < 10, names
    text = str(numbax.make_jaxpr(numbax.vmap(fun))(jnp.ones((3, 4, 2)), jnp.zeros((3, 6), jnp.int32)))
    assert "operand_batching_dims=(0,)" in text and "start_indices_batching_dims=(0,)" in text


def test_vmap_of_grad_and_grad_of_vmap_through_indexing():
    def loss(x, i, u):
        y = x.at[i].add(u)[i] * x[::-1][i]
        return (lax.dynamic_slice(y, (i[0],), (2,)) ** 2).sum()

    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5)).astype(np.float32)
    i = np.array([[0, 4, 0], [1, 2, 3], [4, 4, 4]], np.int32)
    u = rng.normal(size=(3, 3)).astype(np.float32)
    per_example = numbax.vmap(numbax.grad(loss, argnums=(0, 2)))(jnp.asarray(x), jnp.asarray(i), jnp.asarray(u))
    for b in range(3):
        grads = numbax.grad(loss, argnums=(0, 2))(jnp.asarray(x[b]), jnp.asarray(i[b]), jnp.asarray(u[b]))
        for got, want in zip(per_example, grads):
            np.testing.assert_allclose(np.asarray(got)[b], np.asarray(want), rtol=1e-5, atol=1e-6)
    total = numbax.grad(lambda x: numbax.vmap(loss)(x, jnp.asarray(i), jnp.asarray(u)).sum())(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(total), np.asarray(per_example[0]), rtol=1e-5, atol=1e-6)


def test_nested_vmap_of_indexing():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    i = np.array([[3, 0], [1, 1], [2, 0]], np.int32)
    out = numbax.vmap(numbax.vmap(lambda x, i: x[i], in_axes=(0, 0)), in_axes=(0, None))(jnp.asarray(x),
                                                                                         jnp.asarray(i))
    np.testing.assert_array_equal(np.asarray(out), np.take_along_axis(x, np.broadcast_to(i, (2, 3, 2)), axis=2))


# --- gradients ----------------------------------------------------------------------------------

def _grads(f, *args):
    """Gradients of ``sum(f(*args) * w)`` for fixed weights ``w`` = 1, 2, 3, ...,
    so each output element's derivative is recognisable."""
    args = [jnp.asarray(np.asarray(a, np.float32)) for a in args]
    w = jnp.asarray(np.arange(1.0, f(*args).size + 1, dtype=np.float32).reshape(f(*args).shape))
    grads = numbax.grad(lambda *a: (f(*a) * w).sum(), argnums=tuple(range(len(args))))(*args)
    return [np.asarray(g) for g in grads]


def test_grad_of_a_slice_is_a_mask():
    grad = numbax.grad(lambda x: x[1:3].sum())(jnp.arange(5.0))
    np.testing.assert_array_equal(np.asarray(grad), [0.0, 1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(_grads(lambda x: x[::2], np.ones(5))[0], [1.0, 0.0, 2.0, 0.0, 3.0])


def test_grad_through_at_set():
    dx, dy = _grads(lambda x, y: x.at[1].set(y), [4.0, 5.0, 6.0], 7.0)
    np.testing.assert_array_equal(dx, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(dy, 2.0)
    # Duplicate indices: the last write wins, so only its update has a gradient.
    dx, dy = _grads(lambda x, y: x.at[np.array([0, 2, 0])].set(y), [4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(dx, [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(dy, [0.0, 3.0, 1.0])


def test_grad_of_at_add_with_duplicate_indices_accumulates():
    dx, dy = _grads(lambda x, y: x.at[np.array([0, 2, 0])].add(y), [4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(dx, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(dy, [1.0, 3.0, 1.0])
    dx, = _grads(lambda x: x[np.array([0, 2, 0])], [4.0, 5.0, 6.0])  # gather's transpose adds too
    np.testing.assert_array_equal(dx, [4.0, 0.0, 2.0])


def test_grad_of_at_multiply_with_zero_and_duplicate_updates():
    index = np.array([0, 0, 1])
    for updates, expected in [([0.0, 3.0, 2.0], [3.0 * 4.0, 0.0, 2.0 * 5.0]),  # one zero at element 0
                              ([0.0, 0.0, 2.0], [0.0, 0.0, 2.0 * 5.0]),  # two zeros: each still multiplied by 0
                              ([2.0, 3.0, 2.0], [3.0 * 4.0, 2.0 * 4.0, 2.0 * 5.0])]:
        dx, du = _grads(lambda x, u: x.at[index].multiply(u), [4.0, 5.0], updates)
        np.testing.assert_allclose(du, expected)
        np.testing.assert_allclose(dx, [updates[0] * updates[1], 2.0 * updates[2]])


def test_grad_of_at_max_shares_ties():
    # As lax.max: the operand and every update equal to the result share its tangent.
    dx, du = _grads(lambda x, u: x.at[np.array([0, 0, 1])].max(u), [1.0, 5.0], [1.0, 1.0, 2.0])
    np.testing.assert_allclose(dx, [1 / 3, 2.0])
    np.testing.assert_allclose(du, [1 / 3, 1 / 3, 0.0])
    tangent = numbax.jvp(lambda x: x.at[np.array([0, 0, 1])].min(jnp.asarray([1.0, 1.0, 2.0])),
                         (jnp.asarray([1.0, 5.0]),), (jnp.asarray([3.0, 1.0]),))[1]
    np.testing.assert_allclose(np.asarray(tangent), [1.0, 0.0])


def test_out_of_bounds_gradients_follow_the_forward_mode():
    index = np.array([1, 7, -9])
    clamped, = _grads(lambda x: x[index], [1.0, 2.0, 3.0])  # reads clamp, so gradients do too
    np.testing.assert_array_equal(clamped, [3.0, 1.0, 2.0])
    filled, = _grads(lambda x: x.at[index].get(mode="fill", fill_value=0.0), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(filled, [0.0, 1.0, 0.0])
    dx, dy = _grads(lambda x, y: x.at[index].set(y), [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])  # writes drop
    np.testing.assert_array_equal(dx, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(dy, [2.0, 0.0, 0.0])


def test_grad_through_traced_dynamic_slices():
    def f(x, u, i):
        return lax.dynamic_update_slice(x, u * 2.0, (i,))[1:] + lax.dynamic_slice(x, (i,), (3,))
    x, u = jnp.asarray(np.arange(4.0, dtype=np.float32)), jnp.ones(2)
    dx, du = numbax.grad(lambda x, u, i: f(x, u, i).sum(), argnums=(0, 1))(x, u, jnp.asarray(5))
    np.testing.assert_array_equal(np.asarray(dx), [0.0, 2.0, 1.0, 1.0])  # start clamps to 2
    np.testing.assert_array_equal(np.asarray(du), [2.0, 2.0])


def test_backward_jaxpr_shows_the_transposed_slice():
    for fun in (lambda x: x[0] * 2.0, lambda x: x[jnp.asarray(np.array([0, 2]))].sum()):
        names = [eqn.primitive.name for eqn in numbax.make_jaxpr(numbax.grad(fun))(jnp.ones(3)).eqns]
        assert "pad" in names or "scatter-add" in names, names


# --- errors -----------------------------------------------------------------------------------

def test_list_index_raises_type_error():
    with pytest.raises(TypeError, match=r"non-tuple sequence for multidimensional indexing.*"
                                        r"arr\[array\(seq\)\]"):
        jnp.ones(3)[[0, 1]]


def test_traced_bool_mask_raises_with_fix():
    with pytest.raises(IndexError, match=r"boolean indices must be concrete.*bool\[3\].*"
                                         r"jnp\.where\(mask, x, 0\).*jnp\.nonzero\(mask, size=N\)"):
        numbax.make_jaxpr(lambda x: x[x > 0])(jnp.ones(3))
    with pytest.raises(IndexError, match="boolean indices must be concrete"):
        numbax.make_jaxpr(lambda x: x.at[x > 0].set(0.0))(jnp.ones(3))


def test_item_assignment_points_to_at():
    x = jnp.ones(3)
    with pytest.raises(TypeError, match=r"immutable.*\.at\[index\]\.set"):
        x[0] = 1.0


def test_index_errors():
    x = jnp.ones((2, 3))
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        x[0, 3]
    with pytest.raises(IndexError, match="index -3 is out of bounds for axis 0 with size 2"):
        x[-3]
    with pytest.raises(IndexError, match="Too many indices: array is 2-dimensional, but 3 were indexed"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(TypeError, match="Indexer must have integer or boolean type, got indexer with "
                                        "type float32"):
        x[jnp.ones(2)]
    with pytest.raises(TypeError, match="string indexing"):
        x["a"]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]
    with pytest.raises(IndexError, match=r"boolean index did not match.*got \(3,\), expected \(2,\)"):
        x[np.array([True, False, True])]
    with pytest.raises(IndexError, match=r"could not be broadcast together with shapes \(2,\) \(3,\)"):
        x[np.array([0, 1]), np.array([0, 1, 2])]
    with pytest.raises(IndexError, match=r"Slice bounds must be static.*dynamic_slice_in_dim"):
        numbax.make_jaxpr(lambda x, i: x[i:])(x, 1)
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 0"):
        jnp.ones((0, 2))[np.array([0])]
    with pytest.raises(ValueError, match=r"x.at\[...\].set: cannot broadcast the update of shape \(2,\) "
                                         r"to the indexed shape \(3,\)"):
        x.at[0].set(jnp.ones(2))


def test_helper_errors():
    with pytest.raises(ConcretizationTypeError, match=r"nonzero.*traced i32\[3\].*size=N"):
        numbax.make_jaxpr(jnp.nonzero)(jnp.asarray(np.arange(3, dtype=np.int32)))
    with pytest.raises(ValueError, match="nonzero on 0d arrays"):
        jnp.nonzero(jnp.asarray(1.0))
    with pytest.raises(NotImplementedError, match="'raise' mode to jnp.take"):
        jnp.take(jnp.ones(3), jnp.asarray(np.array([0])), mode="raise")
    with pytest.raises(TypeError, match=r"take requires ndarray or scalar arguments.*list"):
        jnp.take(jnp.ones(3), [0])
    with pytest.raises(TypeError, match=r"take: indices must be an integer array, got f32\[1\]"):
        jnp.take(jnp.ones(3), jnp.ones(1))
    with pytest.raises(ValueError, match="indices and arr must have the same number of dimensions"):
        jnp.take_along_axis(jnp.ones((2, 3)), jnp.asarray(np.array([0])), axis=1)
    with pytest.raises(ValueError, match="invalid entry in coordinates array"):
        jnp.ravel_multi_index((jnp.asarray(np.array([3])), jnp.asarray(np.array([0]))), (3, 4))
    with pytest.raises(ConcretizationTypeError, match="mode='wrap' or mode='clip'"):
        numbax.make_jaxpr(lambda i: jnp.ravel_multi_index((i, i), (3, 4)))(jnp.asarray(np.array([1])))


def test_lax_errors():
    x = jnp.ones((4, 3))
    idx = jnp.asarray(np.array([[1]]))
    with pytest.raises(TypeError, match=r"gather needs one slice size per operand axis.*slice_sizes=\(1, 4\)"
                                        r".*got f32\[4,3\], i32\[1,1\]"):
        lax.gather(x, idx, ROWS_DN, (1, 4))
    with pytest.raises(TypeError, match="gather needs slice size 1 along collapsed"):
        lax.gather(x, idx, ROWS_DN, (2, 3))
    with pytest.raises(TypeError, match=r"gather maps 1 operand axes but the index vectors.*have length 2"):
        lax.gather(x, jnp.asarray(np.array([[1, 0]])), ROWS_DN, (1, 3))
    with pytest.raises(TypeError, match="gather needs integer indices"):
        lax.gather(x, jnp.ones((1, 1)), ROWS_DN, (1, 3))
    with pytest.raises(TypeError, match=r"scatter-add needs updates of the operand's dtype"):
        lax.scatter_add(x, idx, jnp.asarray(np.ones((1, 3), np.int32)), SDN((1,), (0,), (0,)))
    with pytest.raises(TypeError, match=r"scatter needs the non-window axes of updates \(2,\) to match"):
        lax.scatter(x, idx, jnp.ones((2, 3)), SDN((1,), (0,), (0,)))
    with pytest.raises(TypeError, match="scatter-add does not accept dtype bool"):
        jnp.asarray(np.array([True])).at[0].add(True)
    with pytest.raises(TypeError, match=r"dynamic_slice needs slice_sizes=\(5, 1\)"):
        lax.dynamic_slice(x, (0, 0), (5, 1))
    with pytest.raises(TypeError, match="dynamic_slice: start indices must be scalar integers, got f32"):
        lax.dynamic_slice(x, (0, 1.0), (1, 1))
    with pytest.raises(TypeError, match="dynamic_slice: got 1 start indices for an operand of shape"):
        lax.dynamic_slice(x, (0,), (1, 1))
    with pytest.raises(TypeError, match="dynamic_update_slice needs an update of the operand's dtype"):
        lax.dynamic_update_slice(x, jnp.asarray(np.ones((1, 1), np.int32)), (0, 0))
