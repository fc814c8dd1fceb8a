"""Reductions, statistics and cumulative ops (numbax.numpy and numbax.lax)
against NumPy references, with JAX's result dtypes; NaN and empty-axis
semantics; lax.reduce's monoid recognition; clear errors."""


import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax._src.config import enable_x64
from numbax.test_util import values_test, jit_test, grads_test, vmap_test, quiet
from numbax.test_util import (BOOL, F32, F64, I32, I64, U8, OpCase, always, float_of)

I8, U32, F16 = np.dtype(np.int8), np.dtype(np.uint32), np.dtype(np.float16)
FLOATS = (F32, F64)
NUMBERS = (F32, F64, I32, I64)
ALL = NUMBERS + (BOOL,)




def summed(d):
    """JAX's sum/prod dtype: bool and narrow ints promote to the default (u)int."""
    d = np.dtype(d)
    if d == BOOL or (d.kind == "i" and d.itemsize < 4):
        return I32
    if d.kind == "u" and d.itemsize < 4:
        return U32
    return d


def index_of(d):
    """The default integer of a row: int64 on x64 rows."""
    return I64 if np.dtype(d).itemsize == 8 else I32


def with_nans(low=-3.0, high=3.0, fraction=0.3):
    """Floats with about ``fraction`` NaNs (ints and bools as plain samples)."""
    def sample(rng, shape, dtype):
        dtype = np.dtype(dtype)
        if dtype.kind == "b":
            return rng.random(shape) < 0.5
        if dtype.kind in "iu":
            return rng.integers(max(int(low), 0) if dtype.kind == "u" else int(low), int(high), size=shape)
        x = rng.uniform(low, high, size=shape)
        return np.where(rng.random(shape) < fraction, np.nan, x).astype(dtype)
    return sample


def ties(rng, shape, dtype):
    """Few distinct values, so stable orders and first occurrences matter."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    return rng.integers(0 if dtype.kind == "u" else -2, 3, size=shape).astype(dtype)


def distinct(rng, shape, dtype):
    """Floats at least 0.25 apart in random order: no ties, so max/min/sort and
    friends are differentiable there and finite differences stay on one piece."""
    n = int(np.prod(shape, dtype=np.int64))
    values = (rng.permutation(n) - n / 2) * 0.5 + rng.uniform(0, 0.25, n)
    return values.reshape(shape).astype(dtype)


def running(reduce):
    """Reference cumulative op from a reduction over growing prefixes of axis ``axis``."""
    def ref(x, axis=0, reverse=False):
        x = np.flip(x, axis) if reverse else x
        parts = [reduce(np.take(x, np.arange(i + 1), axis=axis), axis=axis) for i in range(x.shape[axis])]
        out = np.stack(parts, axis=axis) if parts else x
        return np.flip(out, axis) if reverse else out
    return ref


def lowest(dtype):
    """The identity of max for ``dtype`` (what reduce_max gives for no elements)."""
    if dtype == BOOL:
        return False
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def highest(dtype):
    """The identity of min for ``dtype``."""
    if dtype == BOOL:
        return True
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


def quantile_nearest(x, q, axis=None):
    """JAX's "nearest": the lower element on a tie (NumPy rounds to even)."""
    s = np.sort(x, axis=axis) if axis is not None else np.sort(x.ravel())
    axis = -1 if axis is None else axis
    pos = np.asarray(q, np.float64) * (s.shape[axis] - 1)
    index = np.where(pos - np.floor(pos) <= 0.5, np.floor(pos), np.ceil(pos)).astype(int)
    return np.take(s, index, axis=axis)


ANY = [[()], [(5,)], [(0,)], [(2, 3)], [(2, 0, 3)]]
NONEMPTY = [[()], [(5,)], [(2, 3)]]  # reductions over all axes that see >= 1 element
AXIS1 = [[(2, 3)], [(3, 0)], [(2, 3, 4)]]
WHERE = [[(2, 3), (3,)], [(2, 3), (2, 3)], [(0, 2), (2,)]]
INITIAL = -100
NAN_SHAPES = [[()], [(6,)], [(3, 4)], [(2, 0)]]


def row(name, fun, ref, shapes, dtypes=NUMBERS, **kw):
    return OpCase(name, fun, quiet(ref), shapes, dtypes=dtypes, **kw)


REDUCTIONS = [
    row("sum", jnp.sum, np.sum, ANY, ALL + (I8, U8), out_dtype=summed, grad_order=2),
    row("sum:axis", lambda x: jnp.sum(x, axis=1), lambda x: np.sum(x, axis=1), AXIS1, ALL, out_dtype=summed,
        grad_order=2),
    row("sum:keepdims", lambda x: jnp.sum(x, axis=(0, -1), keepdims=True),
        lambda x: np.sum(x, axis=(0, -1), keepdims=True), AXIS1, out_dtype=summed, grad_order=2),
    row("sum:where", lambda x, m: jnp.sum(x, axis=-1, where=m), lambda x, m: np.sum(x, axis=-1, where=m),
        WHERE, arg_dtypes=[None, BOOL], out_dtype=summed, grad_order=2),
    row("sum:initial", lambda x: jnp.sum(x, axis=0, initial=3), lambda x: np.sum(x, axis=0) + 3,
        [[(4,)], [(0, 2)]], NUMBERS + (I8,), out_dtype=summed, grad_order=2),
    row("sum:dtype", lambda x: jnp.sum(x, dtype=jnp.float32), lambda x: np.sum(x.astype(np.float32)),
        ANY[:4], ALL, out_dtype=always(F32)),
    row("sum:no_promote", lambda x: jnp.sum(x, promote_integers=False), lambda x: np.sum(x, dtype=x.dtype),
        [[(4,)]], (I8, U8, I32)),
    row("sum:float16", jnp.sum, lambda x: np.sum(x.astype(np.float64)), [[(6,)], [(2, 3)]], (F16,)),
    row("prod", jnp.prod, np.prod, ANY, ALL, out_dtype=summed, grad_order=2),
    row("prod:axis", lambda x: jnp.prod(x, axis=-1, keepdims=True), lambda x: np.prod(x, -1, keepdims=True),
        AXIS1, out_dtype=summed, grad_order=2),
    row("prod:where", lambda x, m: jnp.prod(x, axis=1, where=m, initial=2),
        lambda x, m: np.prod(x, axis=1, where=m, initial=2), WHERE[:2], arg_dtypes=[None, BOOL],
        out_dtype=summed, grad_order=2),
    row("max", jnp.max, np.max, NONEMPTY, ALL, grad_order=2),
    row("max:axis", lambda x: jnp.max(x, axis=(0, 2)), lambda x: np.max(x, axis=(0, 2)),
        [[(2, 3, 4)], [(1, 0, 2)]], ALL, grad_order=2),
    row("max:initial", lambda x: jnp.max(x, axis=0, initial=INITIAL),
        lambda x: np.max(x, axis=0, initial=INITIAL), [[(0,)], [(3, 2)], [(0, 2)]], grad_order=2),
    row("max:where", lambda x, m: jnp.max(x, axis=-1, where=m, initial=INITIAL),
        lambda x, m: np.max(x, axis=-1, where=m, initial=INITIAL), WHERE, arg_dtypes=[None, BOOL], grad_order=2),
    row("max:nan", lambda x: jnp.max(x, axis=-1), lambda x: np.max(x, axis=-1), NAN_SHAPES[1:3], FLOATS,
        sample=with_nans()),
    row("min", jnp.min, np.min, NONEMPTY, ALL, grad_order=2),
    row("min:axis", lambda x: jnp.min(x, axis=0, keepdims=True), lambda x: np.min(x, 0, keepdims=True),
        [[(3,)], [(2, 3)], [(2, 0)]], ALL, grad_order=2),
    row("min:where", lambda x, m: jnp.min(x, axis=-1, where=m, initial=-INITIAL),
        lambda x, m: np.min(x, axis=-1, where=m, initial=-INITIAL), WHERE, arg_dtypes=[None, BOOL], grad_order=2),
    row("min:nan", jnp.min, np.min, NAN_SHAPES[:3], FLOATS, sample=with_nans()),
    row("amax", lambda x: jnp.amax(x, axis=1), lambda x: np.amax(x, axis=1), AXIS1[:1] + AXIS1[2:], grad_order=2),
    row("amin", jnp.amin, np.amin, NONEMPTY, grad_order=2),
    row("any", jnp.any, np.any, ANY, ALL, out_dtype=always(BOOL), sample=ties),
    row("any:axis", lambda x: jnp.any(x, axis=-1, keepdims=True), lambda x: np.any(x, -1, keepdims=True),
        AXIS1, ALL, out_dtype=always(BOOL), sample=ties),
    row("any:where", lambda x, m: jnp.any(x, axis=1, where=m), lambda x, m: np.any(x, axis=1, where=m),
        WHERE[:2], ALL, arg_dtypes=[None, BOOL], out_dtype=always(BOOL), sample=ties),
    row("any:nan", jnp.any, np.any, NAN_SHAPES, FLOATS, out_dtype=always(BOOL), sample=with_nans(0, 0, 0.5)),
    row("all", jnp.all, np.all, ANY, ALL, out_dtype=always(BOOL), sample=ties),
    row("all:where", lambda x, m: jnp.all(x, axis=-1, where=m), lambda x, m: np.all(x, axis=-1, where=m),
        WHERE, ALL, arg_dtypes=[None, BOOL], out_dtype=always(BOOL), sample=ties),
    row("mean", jnp.mean, np.mean, ANY, ALL, out_dtype=float_of, grad_order=2),
    row("mean:axis", lambda x: jnp.mean(x, axis=(0, -1), keepdims=True),
        lambda x: np.mean(x, axis=(0, -1), keepdims=True), AXIS1[::2] + AXIS1[1:2], out_dtype=float_of,
        grad_order=2),
    row("mean:where", lambda x, m: jnp.mean(x, axis=1, where=m), lambda x, m: np.mean(x, axis=1, where=m),
        WHERE[:2], arg_dtypes=[None, BOOL], out_dtype=float_of, grad_order=2),
    row("mean:dtype", lambda x: jnp.mean(x, dtype=jnp.float32), lambda x: np.mean(x, dtype=np.float64),
        ANY[2:4], out_dtype=always(F32)),
    row("mean:float16", jnp.mean, lambda x: np.mean(x.astype(np.float64)), [[(6,)]], (F16,)),
    row("var", jnp.var, np.var, ANY, ALL, out_dtype=float_of, grad_order=2),
    row("var:ddof", lambda x: jnp.var(x, axis=-1, ddof=1), lambda x: np.var(x, axis=-1, ddof=1),
        [[(2, 3)], [(2, 3, 4)], [(3, 1)]], out_dtype=float_of, grad_order=2),
    row("var:where", lambda x, m: jnp.var(x, axis=-1, where=m, keepdims=True),
        lambda x, m: np.var(x, axis=-1, where=m, keepdims=True), WHERE[:2], arg_dtypes=[None, BOOL],
        out_dtype=float_of, grad_order=2),
    row("std", jnp.std, np.std, ANY, out_dtype=float_of),
    row("std:grad", lambda x: jnp.std(x, axis=-1), lambda x: np.std(x, axis=-1), [[(5,)], [(2, 3)]], FLOATS,
        grad_order=2),
    row("std:axis", lambda x: jnp.std(x, axis=0, ddof=1), lambda x: np.std(x, axis=0, ddof=1),
        AXIS1, out_dtype=float_of, grad_order=2),
    row("std:where", lambda x, m: jnp.std(x, axis=1, where=m, correction=1),
        lambda x, m: np.std(x, axis=1, where=m, ddof=1), WHERE[:2], arg_dtypes=[None, BOOL],
        out_dtype=float_of, grad_order=2),
    row("argmax", jnp.argmax, np.argmax, NONEMPTY, ALL, out_dtype=index_of, sample=ties),
    row("argmax:axis", lambda x: jnp.argmax(x, axis=-1), lambda x: np.argmax(x, axis=-1),
        [[(2, 3)], [(0, 3)], [(2, 3, 4)]], ALL, out_dtype=index_of, sample=ties),
    row("argmax:keepdims", lambda x: jnp.argmax(x, axis=0, keepdims=True),
        lambda x: np.argmax(x, axis=0, keepdims=True), [[(3, 2)]], out_dtype=index_of),
    row("argmax:nan", lambda x: jnp.argmax(x, axis=-1), lambda x: np.argmax(x, axis=-1),
        NAN_SHAPES[1:3], FLOATS, out_dtype=index_of, sample=with_nans()),
    row("argmin", jnp.argmin, np.argmin, NONEMPTY, ALL, out_dtype=index_of, sample=ties),
    row("argmin:axis", lambda x: jnp.argmin(x, axis=0, keepdims=True),
        lambda x: np.argmin(x, axis=0, keepdims=True), [[(3, 2)], [(2, 0)]], ALL, out_dtype=index_of,
        sample=ties),
    row("argmin:nan", jnp.argmin, np.argmin, NAN_SHAPES[1:3], FLOATS, out_dtype=index_of, sample=with_nans()),
    row("ptp", jnp.ptp, np.ptp, NONEMPTY, grad_order=2),
    row("ptp:axis", lambda x: jnp.ptp(x, axis=1, keepdims=True), lambda x: np.ptp(x, axis=1, keepdims=True),
        AXIS1[:1] + AXIS1[2:], grad_order=2),
    row("count_nonzero", jnp.count_nonzero, np.count_nonzero, ANY, ALL, out_dtype=index_of, sample=ties),
    row("count_nonzero:axis", lambda x: jnp.count_nonzero(x, axis=1, keepdims=True),
        lambda x: np.count_nonzero(x, axis=1, keepdims=True), AXIS1, ALL, out_dtype=index_of, sample=ties),
    row("average", jnp.average, np.average, ANY[:4], out_dtype=float_of, grad_order=2),
    row("average:weights", lambda x, w: jnp.average(x, axis=1, weights=w),
        lambda x, w: np.average(x, axis=1, weights=w), [[(2, 3), (3,)], [(2, 3, 4), (3,)]],
        out_dtype=float_of, samplers=[None, lambda rng, s, d: rng.uniform(0.5, 2.0, s).astype(d)], grad_order=2),
    row("average:returned", lambda x, w: jnp.average(x, weights=w, returned=True, keepdims=True),
        lambda x, w: tuple(np.average(x, weights=w, returned=True, keepdims=True)),
        [[(2, 3), (2, 3)], [(4,), (4,)]], out_dtype=float_of,
        samplers=[None, lambda rng, s, d: rng.uniform(0.5, 2.0, s).astype(d)], grad_order=2),
    row("median", jnp.median, np.median, NONEMPTY, NUMBERS, out_dtype=float_of, grad_order=2),
    row("median:axis", lambda x: jnp.median(x, axis=-1, keepdims=True),
        lambda x: np.median(x, axis=-1, keepdims=True), [[(2, 3)], [(0, 4)], [(2, 4, 4)]],
        out_dtype=float_of, grad_order=2),
    row("median:nan", lambda x: jnp.median(x, axis=1), lambda x: np.median(x, axis=1), NAN_SHAPES[2:3],
        FLOATS, sample=with_nans()),
    row("quantile", lambda x, q: jnp.quantile(x, q), lambda x, q: np.quantile(x, q),
        [[(5,), ()], [(2, 3), (4,)]], FLOATS,
        samplers=[None, lambda rng, s, d: rng.uniform(0, 1, s).astype(d)], grad_order=2),
    row("quantile:axis", lambda x: jnp.quantile(x, 0.3, axis=(0, 2), keepdims=True),
        lambda x: np.quantile(x, 0.3, axis=(0, 2), keepdims=True), [[(2, 3, 4)], [(3, 1, 2)]],
        out_dtype=float_of, grad_order=2),
    row("quantile:methods", lambda x: [jnp.quantile(x, np.array([0.0, 0.25, 0.5, 1.0]), axis=0, method=m)
                                       for m in ("lower", "higher", "midpoint")],
        lambda x: [np.quantile(x, [0.0, 0.25, 0.5, 1.0], axis=0, method=m)
                   for m in ("lower", "higher", "midpoint")],
        [[(4,)], [(5, 2)]], out_dtype=float_of, grad_order=2),
    row("quantile:nearest", lambda x: jnp.quantile(x, np.array([0.3, 0.5]), axis=0, method="nearest"),
        lambda x: quantile_nearest(x, [0.3, 0.5], axis=0), [[(4,)], [(5, 2)], [(3,)]], out_dtype=float_of,
        grad_order=2),
    row("percentile", lambda x: jnp.percentile(x, np.array([10.0, 50.0]), axis=-1),
        lambda x: np.percentile(x, [10.0, 50.0], axis=-1), [[(5,)], [(2, 3)]], out_dtype=float_of, grad_order=2),
]

NAN_REDUCTIONS = [
    row("nansum", jnp.nansum, np.nansum, NAN_SHAPES, NUMBERS, sample=with_nans(), grad_order=2),
    row("nansum:axis", lambda x: jnp.nansum(x, axis=0), lambda x: np.nansum(x, axis=0), NAN_SHAPES[2:],
        NUMBERS + (BOOL,), sample=with_nans(), out_dtype=summed, grad_order=2),
    row("nanprod", lambda x: jnp.nanprod(x, axis=-1), lambda x: np.nanprod(x, axis=-1), NAN_SHAPES[1:],
        sample=with_nans(), grad_order=2),
    row("nanmax", lambda x: jnp.nanmax(x, axis=-1), lambda x: np.nanmax(x, axis=-1), NAN_SHAPES[1:3],
        sample=with_nans(fraction=0.6), grad_order=2),
    row("nanmax:initial", lambda x: jnp.nanmax(x, axis=-1, initial=0.5),
        lambda x: np.fmax(np.nanmax(x, axis=-1, initial=-np.inf), 0.5), NAN_SHAPES[1:3], FLOATS,
        sample=with_nans(fraction=0.6), grad_order=2),
    row("nanmin", lambda x: jnp.nanmin(x, axis=0), lambda x: np.nanmin(x, axis=0), NAN_SHAPES[2:3],
        sample=with_nans(fraction=0.6)),
    row("nanmean", lambda x: jnp.nanmean(x, axis=-1), lambda x: np.nanmean(x, axis=-1), NAN_SHAPES[1:],
        sample=with_nans(fraction=0.6), out_dtype=float_of, grad_order=2),
    row("nanvar", lambda x: jnp.nanvar(x, axis=-1, ddof=1), lambda x: np.nanvar(x, axis=-1, ddof=1),
        NAN_SHAPES[1:], sample=with_nans(fraction=0.5), out_dtype=float_of),
    row("nanstd", jnp.nanstd, np.nanstd, NAN_SHAPES, sample=with_nans(), out_dtype=float_of),
    row("nanargmax", lambda x: jnp.nanargmax(x, axis=-1),
        lambda x: np.where(np.isnan(x).all(-1), -1, np.argmax(np.where(np.isnan(x), -np.inf, x), -1)),
        NAN_SHAPES[1:3], sample=with_nans(fraction=0.6), out_dtype=index_of),
    row("nanargmin", lambda x: jnp.nanargmin(x, axis=0),
        lambda x: np.where(np.isnan(x).all(0), -1, np.argmin(np.where(np.isnan(x), np.inf, x), 0)),
        NAN_SHAPES[2:3], sample=with_nans(fraction=0.6), out_dtype=index_of),
]

CUMULATIVE = [
    row("cumsum", jnp.cumsum, np.cumsum, ANY, ALL, out_dtype=lambda d: summed(d) if d == BOOL else d, grad_order=2),
    row("cumsum:axis", lambda x: jnp.cumsum(x, axis=-1), lambda x: np.cumsum(x, axis=-1, dtype=x.dtype),
        AXIS1, NUMBERS + (I8,), grad_order=2),
    row("cumsum:dtype", lambda x: jnp.cumsum(x, axis=0, dtype=jnp.float32),
        lambda x: np.cumsum(x.astype(np.float32), axis=0), AXIS1[:2], ALL, out_dtype=always(F32)),
    row("cumprod", lambda x: jnp.cumprod(x, axis=0), lambda x: np.cumprod(x, axis=0, dtype=x.dtype),
        [[(4,)], [(3, 2)], [(0, 2)]], grad_order=2),
    row("cumulative_sum", jnp.cumulative_sum, lambda x: np.cumulative_sum(x), [[(0,)], [(5,)]],
        NUMBERS + (BOOL, I8), out_dtype=summed, grad_order=2),
    row("cumulative_sum:axis", lambda x: jnp.cumulative_sum(x, axis=1, include_initial=True),
        lambda x: np.cumulative_sum(x, axis=1, include_initial=True), AXIS1, out_dtype=summed, grad_order=2),
    row("cumulative_prod", lambda x: jnp.cumulative_prod(x, axis=0, include_initial=True),
        lambda x: np.cumulative_prod(x, axis=0, include_initial=True), [[(3,)], [(2, 3)]], out_dtype=summed,
        grad_order=2),
    row("lax.cumsum", lambda x: lax.cumsum(x, axis=x.ndim - 1), lambda x: running(np.sum)(x, x.ndim - 1),
        [[(5,)], [(2, 3)], [(0, 2)]], NUMBERS, grad_order=2),
    row("lax.cumsum:reverse", lambda x: lax.cumsum(x, axis=0, reverse=True),
        lambda x: running(np.sum)(x, 0, True), [[(5,)], [(3, 2)]], grad_order=2),
    row("lax.cumprod", lambda x: lax.cumprod(x, axis=0), running(np.prod), [[(5,)], [(3, 2)]], grad_order=2),
    row("lax.cummax", lambda x: lax.cummax(x, axis=0, reverse=True), lambda x: running(np.max)(x, 0, True),
        [[(6,)], [(3, 2)]], sample=with_nans(fraction=0.2)),
    row("lax.cummin", lambda x: lax.cummin(x, axis=0), running(np.min), [[(6,)], [(3, 2)]],
        sample=with_nans(fraction=0.2)),
    row("lax.cummax:grad", lambda x: lax.cummax(x, axis=x.ndim - 1), lambda x: running(np.max)(x, x.ndim - 1),
        [[(6,)], [(3, 4)]], FLOATS, sample=distinct, grad_order=2),
    row("lax.cummin:grad", lambda x: lax.cummin(x, axis=0, reverse=True), lambda x: running(np.min)(x, 0, True),
        [[(7,)], [(5, 2)]], FLOATS, sample=distinct, grad_order=2),
    row("lax.cumprod:reverse", lambda x: lax.cumprod(x, axis=1, reverse=True),
        lambda x: running(np.prod)(x, 1, True), [[(2, 5)], [(3, 9)]], FLOATS, grad_order=2),
    row("lax.cumlogsumexp:reverse", lambda x: lax.cumlogsumexp(x, axis=1, reverse=True),
        lambda x: np.flip(np.logaddexp.accumulate(np.flip(x, 1), axis=1), 1), [[(2, 5)], [(3, 9)]], FLOATS,
        grad_order=2),
    row("lax.cumlogsumexp", lambda x: lax.cumlogsumexp(x, axis=0),
        lambda x: np.log(np.cumsum(np.exp(x.astype(np.float64)), axis=0)), [[(6,)], [(3, 2)], [(0,)]],
        FLOATS, grad_order=2),
]

LAX_REDUCTIONS = [
    row("lax.reduce_sum", lambda x: lax.reduce_sum(x, (0,)), lambda x: np.sum(x, 0, dtype=x.dtype),
        [[(3,)], [(0, 2)], [(2, 3)]], grad_order=2),
    row("lax.reduce_prod", lambda x: lax.reduce_prod(x, (0, 1)), lambda x: np.prod(x, dtype=x.dtype),
        [[(2, 3)], [(2, 0)]], grad_order=2),
    row("lax.reduce_max", lambda x: lax.reduce_max(x, (x.ndim - 1,)),
        lambda x: np.max(x, axis=-1, initial=lowest(x.dtype)),
        [[(4,)], [(2, 0)], [(2, 3)]], ALL, sample=with_nans(fraction=0.2)),
    row("lax.reduce_min", lambda x: lax.reduce_min(x, (0,)),
        lambda x: np.min(x, axis=0, initial=highest(x.dtype)),
        [[(4,)], [(0, 2)]], ALL, sample=with_nans(fraction=0.2)),
    row("lax.reduce_max:grad", lambda x: lax.reduce_max(x, (0, 2)), lambda x: np.max(x, axis=(0, 2)),
        [[(3, 2, 4)], [(2, 1, 3)]], FLOATS, sample=distinct, grad_order=2),
    row("lax.reduce_min:grad", lambda x: lax.reduce_min(x, (1,)), lambda x: np.min(x, axis=1),
        [[(3, 4)], [(2, 5, 2)]], FLOATS, sample=distinct, grad_order=2),
    row("lax.reduce_and", lambda x: lax.reduce_and(x, (0,)), lambda x: np.bitwise_and.reduce(x, axis=0),
        [[(4,)], [(3, 2)]], (I32, I64, BOOL, U8), sample=ties),
    row("lax.reduce_or", lambda x: lax.reduce_or(x, (0,)), lambda x: np.bitwise_or.reduce(x, axis=0),
        [[(4,)], [(0, 2)]], (I32, BOOL), sample=ties),
    row("lax.reduce_xor", lambda x: lax.reduce_xor(x, (1,)), lambda x: np.bitwise_xor.reduce(x, axis=1),
        [[(2, 3)], [(2, 0)]], (I32, BOOL), sample=ties),
    row("lax.argmax", lambda x: lax.argmax(x, 0, jnp.int32), lambda x: np.argmax(x, axis=0),
        [[(4,)], [(3, 2)], [(3, 0)]], ALL, out_dtype=always(I32), sample=with_nans()),
    row("lax.argmin", lambda x: lax.argmin(x, x.ndim - 1, jnp.int8), lambda x: np.argmin(x, axis=-1),
        [[(4,)], [(3, 2)]], ALL, out_dtype=always(I8), sample=with_nans()),
    row("lax.reduce", lambda x: lax.reduce(x, 0, lax.add, (0,)), lambda x: np.sum(x, 0, dtype=x.dtype),
        [[(4,)], [(2, 3)]], grad_order=2),
]

CASES = REDUCTIONS + NAN_REDUCTIONS + CUMULATIVE + LAX_REDUCTIONS


test_op_table = values_test(CASES)
test_op_table_jit = jit_test(CASES)


test_op_grads = grads_test(CASES)


test_op_vmap = vmap_test(CASES)


def test_nan_and_empty_semantics():
    x = jnp.asarray(np.array([1.0, np.nan, 3.0, np.nan], np.float32))
    assert np.isnan(float(jnp.max(x))) and np.isnan(float(lax.reduce_min(x, (0,))))
    assert int(jnp.argmax(x)) == 1 and int(jnp.argmin(x)) == 1  # the first NaN
    assert float(lax.reduce_max(jnp.zeros((0,)), (0,))) == -np.inf
    assert int(lax.reduce_max(jnp.zeros((0,), jnp.int32), (0,))) == np.iinfo(np.int32).min
    assert int(lax.reduce_and(jnp.zeros((0,), jnp.uint8), (0,))) == 255
    assert np.isnan(float(jnp.mean(jnp.zeros((0,)))))
    assert np.isnan(float(jnp.var(jnp.ones(3), ddof=3)))
    np.testing.assert_array_equal(np.asarray(jnp.max(jnp.zeros((0, 2)), axis=0, initial=2.0)), [2.0, 2.0])


def test_result_dtypes_follow_x64():
    ints = jnp.asarray(np.arange(4, dtype=np.int32))
    assert jnp.sum(ints).dtype == I32 and jnp.mean(ints).dtype == F32 and jnp.argmax(ints).dtype == I32
    with enable_x64():
        ints = jnp.asarray(np.arange(4, dtype=np.int64))
        assert jnp.sum(ints).dtype == I64 and jnp.mean(ints).dtype == F64
        assert jnp.argmax(ints).dtype == I64 and jnp.count_nonzero(ints).dtype == I64
        assert jnp.mean(jnp.asarray(np.arange(4, dtype=np.int32))).dtype == F32  # as in JAX
        assert jnp.sum(jnp.asarray(np.ones(3, np.uint8))).dtype == np.dtype(np.uint64)


def test_python_scalars_and_weak_types():
    assert float(jnp.sum(2.0)) == 2.0 and jnp.sum(2.0).dtype == F32 and not jnp.sum(2.0).weak_type
    assert int(jnp.argmax(2.0)) == 0 and bool(jnp.any(2.0))
    assert lax.reduce_sum(lax.convert_element_type(jnp.ones(3), jnp.float32, weak_type=True), (0,)).weak_type


def test_jaxprs_read_like_jax():
    x = jnp.ones((2, 3))
    text = str(numbax.make_jaxpr(lambda x: jnp.sum(x, axis=1))(x))
    assert text == "{ lambda ; a:f32[2,3]. let b:f32[2] = reduce_sum[axes=(1,)] a in (b,) }"
    text = str(numbax.make_jaxpr(lambda x: jnp.argmax(x, axis=0))(x))
    assert "argmax[axes=(0,) index_dtype=int32] a" in text
    text = str(numbax.make_jaxpr(lambda x: lax.cumsum(x, axis=1, reverse=True))(x))
    assert "cumsum[axis=1 reverse=True] a" in text
    text = str(numbax.make_jaxpr(lambda x: jnp.sum(x.astype(jnp.int8)))(x))
    assert "reduce_sum[axes=(0, 1)]" in text and "i32[] = reduce_sum" in text


def test_lax_reduce_recognizes_monoids():
    x = jnp.asarray(np.array([[1.0, 5.0], [3.0, 2.0]], np.float32))
    for computation, init, want in [(lax.add, 0.0, [4, 7]), (jnp.multiply, 1.0, [3, 10]),
                                    (lambda a, b: lax.max(a, b), -np.inf, [3, 5]), (lax.min, np.inf, [1, 2])]:
        np.testing.assert_array_equal(np.asarray(lax.reduce(x, init, computation, (0,))), want)
    bits = jnp.asarray(np.array([6, 3], np.int32))
    assert int(lax.reduce(bits, -1, lax.bitwise_and, (0,))) == 2
    assert int(lax.reduce(bits, 0, lax.bitwise_xor, (0,))) == 5


def test_grad_of_sum_of_squares_is_2x():
    x = np.array([[1.5, -2.0, 0.25], [3.0, 0.0, -1.0]], np.float32)
    got = numbax.grad(lambda x: jnp.sum(x ** 2))(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(got), 2 * x, rtol=1e-6)


def test_max_and_min_split_ties_evenly():
    # As JAX: the cotangent is shared equally by the elements equal to the result.
    x = jnp.asarray(np.array([1.0, 3.0, 3.0, 2.0, 3.0], np.float32))
    np.testing.assert_allclose(np.asarray(numbax.grad(jnp.max)(x)), [0, 1 / 3, 1 / 3, 0, 1 / 3], rtol=1e-6)
    y = jnp.asarray(np.array([[1.0, 1.0], [4.0, 2.0], [1.0, 5.0]], np.float32))
    got = numbax.grad(lambda y: jnp.sum(lax.reduce_min(y, (1,)) * jnp.asarray([1.0, 2.0, 3.0])))(y)
    np.testing.assert_allclose(np.asarray(got), [[0.5, 0.5], [0, 2], [3, 0]])
    _, t = numbax.jvp(lambda y: jnp.max(y, axis=0), (y,), (jnp.ones((3, 2)),))
    np.testing.assert_array_equal(np.asarray(t), [1, 1])


def test_cumsum_jacobians_are_triangular_ones():
    x = jnp.asarray(np.arange(1.0, 5.0, dtype=np.float32))
    lower = np.tril(np.ones((4, 4), np.float32))
    for jac in (numbax.jacfwd, numbax.jacrev):
        np.testing.assert_array_equal(np.asarray(jac(jnp.cumsum)(x)), lower)
        np.testing.assert_array_equal(np.asarray(jac(lambda x: lax.cumsum(x, reverse=True))(x)), lower.T)


def test_products_are_differentiated_exactly_at_zeros():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    with enable_x64():
        np.testing.assert_array_equal(np.asarray(numbax.grad(jnp.prod)(jnp.asarray(x))), [0, 24, 0, 0])
        np.testing.assert_array_equal(np.asarray(numbax.grad(jnp.prod)(jnp.asarray([2.0, 0.0, 3.0, 0.0]))),
                                      [0, 0, 0, 0])
        # d2/dxi dxj prod(x) = product of the others (i != j), 0 on the diagonal
        want = np.array([[0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(4)] for i in range(4)])
        np.testing.assert_array_equal(np.asarray(numbax.hessian(jnp.prod)(jnp.asarray(x))), want)
        # cumprod's tangent at a zero (JAX: [1, 2, 6, 24])
        _, t = numbax.jvp(lambda x: lax.cumprod(x), (jnp.asarray(x),), (jnp.ones(4),))
        np.testing.assert_array_equal(np.asarray(t), [1, 2, 6, 24])
        # over several axes, through a transpose of the reduced axes
        z = np.arange(12.0).reshape(2, 3, 2)
        got = numbax.grad(lambda z: jnp.sum(lax.reduce_prod(z, (0, 2))))(jnp.asarray(z))
        want = np.stack([[[np.prod(np.delete(z[:, j].ravel(), 2 * i + k)) for k in range(2)] for j in range(3)]
                         for i in range(2)])
        np.testing.assert_allclose(np.asarray(got), want)


def test_cumulative_tangents_match_jax():
    x = jnp.asarray(np.array([1.0, 3.0, 3.0, 2.0, 3.0], np.float32))
    t = jnp.asarray(np.array([1.0, 10.0, 100.0, 1000.0, 10000.0], np.float32))
    np.testing.assert_allclose(np.asarray(numbax.jvp(lambda x: lax.cummax(x), (x,), (t,))[1]),
                               [1, 10, 55, 55, 5027.5])  # JAX's values (ties share, as max does)
    # cumlogsumexp's tangent weights exp(x_j - out_i) never overflow
    x = jnp.asarray(np.array([-1000.0, 0.0, 1.0], np.float32))
    out, t = numbax.jvp(lambda x: lax.cumlogsumexp(x), (x,), (jnp.ones(3),))
    np.testing.assert_allclose(np.asarray(t), [1, 1, 1], rtol=1e-6)
    g = numbax.grad(lambda x: lax.cumlogsumexp(x)[-1])(x)
    np.testing.assert_allclose(np.asarray(g), np.exp(np.asarray(x) - np.asarray(out)[-1]), rtol=1e-6)


def test_integer_valued_reductions_have_zero_tangents():
    x = jnp.asarray(np.array([[1.0, 5.0], [3.0, 2.0]], np.float32))
    _, t = numbax.jvp(lambda x: lax.argmax(x, 0, jnp.int32), (x,), (jnp.ones((2, 2)),))
    np.testing.assert_array_equal(np.asarray(t), [0, 0])
    # the argmax picks, the gradient flows only through the value
    grad = numbax.grad(lambda x: jnp.sum(x * (jnp.argmax(x, axis=0) == 1)))(x)
    np.testing.assert_array_equal(np.asarray(grad), [[1, 0], [1, 0]])
    text = str(numbax.make_jaxpr(numbax.grad(lambda x: jnp.sum(jnp.max(x, axis=1))))(x))
    assert "reduce_max[axes=(1,)]" in text and "div" in text


def loop(fun, x, axis):
    """``fun`` on each slice of ``x`` along ``axis``, stacked on a new axis 0."""
    return np.stack([np.asarray(fun(jnp.asarray(np.take(x, i, axis=axis)))) for i in range(x.shape[axis])])


def test_vmap_of_a_reduction_is_one_reduction_over_shifted_axes():
    f = numbax.vmap(lambda x: jnp.sum(x ** 2))
    small, large = (numbax.make_jaxpr(f)(jnp.ones((n, 2, 3))) for n in (3, 50))
    assert len(small.jaxpr.eqns) == len(large.jaxpr.eqns)  # no per-example loop
    assert "f32[50] = reduce_sum[axes=(1, 2)]" in str(large)
    # a batch axis in the middle: axes after it shift right, and the result's
    # batch axis moves left past the reduced axes before it (no transpose needed)
    f = numbax.vmap(lambda x: (jnp.sum(x, axis=0), lax.argmax(x, 1, jnp.int32)), in_axes=1, out_axes=(0, 1))
    text = str(numbax.make_jaxpr(f)(jnp.ones((2, 5, 3))))
    assert "f32[5,3] = reduce_sum[axes=(0,)] a" in text and "i32[2,5] = argmax[axes=(2,) index_dtype=int32] a" in text
    assert "transpose" not in text
    x = np.random.default_rng(0).normal(size=(4, 5, 3)).astype(np.float32)
    got = numbax.vmap(lambda x: jnp.max(x, axis=1), in_axes=1, out_axes=1)(jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(got), np.max(x, axis=2))


def test_vmap_of_cumsum_and_median_over_a_non_leading_axis():
    x = np.random.default_rng(1).normal(size=(4, 3, 2)).astype(np.float32)
    got = numbax.vmap(jnp.cumsum, in_axes=1)(jnp.asarray(x))  # each example (4, 2), flattened
    np.testing.assert_allclose(np.asarray(got), loop(jnp.cumsum, x, 1), rtol=1e-6)
    got = numbax.vmap(lambda v: lax.cumprod(v, axis=0, reverse=True), in_axes=2)(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(got), loop(lambda v: lax.cumprod(v, axis=0, reverse=True), x, 2),
                               rtol=1e-6)
    got = numbax.vmap(jnp.median, in_axes=2)(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(got), np.median(x, axis=(0, 1)), rtol=1e-6)
    got = numbax.vmap(lambda v: jnp.median(v, axis=0), in_axes=1)(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(got), np.median(x, axis=0), rtol=1e-6)


def test_nested_vmap_of_reductions():
    x = np.random.default_rng(2).normal(size=(2, 3, 4)).astype(np.float32)
    got = numbax.vmap(numbax.vmap(lambda v: jnp.sum(v) + lax.cumlogsumexp(v, axis=0)[-1], in_axes=1),
                      in_axes=2)(jnp.asarray(x))
    want = x.sum(0).T + np.logaddexp.reduce(x, axis=0).T
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)


def test_array_methods_reduce():
    x = jnp.asarray(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    assert float(x.sum()) == 15.0 and float(x.max()) == 5.0 and int(x.argmin()) == 0
    np.testing.assert_allclose(np.asarray(x.mean(axis=0)), [1.5, 2.5, 3.5])
    np.testing.assert_allclose(np.asarray(x.cumsum(axis=1)), np.cumsum(np.arange(6.0).reshape(2, 3), 1))
    assert bool(x.any()) and not bool(x.all())


X = jnp.ones((2, 3))


@pytest.mark.parametrize("make,error,match", [
    (lambda: jnp.max(X, where=X > 0), ValueError, r"jnp\.max: a where= mask needs initial="),
    (lambda: jnp.min(jnp.zeros((0, 2)), axis=0), ValueError,
     r"zero-size array \(shape \(0, 2\), axis=0\).*initial="),
    (lambda: jnp.argmax(jnp.zeros((0, 2)), axis=0), ValueError, r"argmax of an empty sequence"),
    (lambda: jnp.sum(X, axis=2), ValueError, r"jnp\.sum: axis 2 is out of bounds for an array of rank 2"),
    (lambda: jnp.sum(X, axis=(1, -1)), ValueError, r"repeated axis"),
    (lambda: jnp.sum([1, 2]), TypeError, r"sum requires ndarray or scalar arguments, got list"),
    (lambda: jnp.sum(X, out=X), NotImplementedError, r"'out' argument is not supported"),
    (lambda: jnp.sum(X, where=jnp.ones(4, bool)), ValueError,
     r"where of shape \(4,\) does not broadcast to the array's shape \(2, 3\)"),
    (lambda: jnp.sum(X, initial=jnp.ones(2)), ValueError, r"initial must be a scalar, got shape \(2,\)"),
    (lambda: jnp.average(X, weights=jnp.ones(3)), ValueError, r"weights of shape \(3,\) do not fit a of"),
    (lambda: jnp.quantile(X, 0.5, method="inverted_cdf"), ValueError, r"method='inverted_cdf' is not"),
    (lambda: jnp.quantile(X, jnp.ones((1, 1))), ValueError, r"q must be a scalar or 1-D, got shape \(1, 1\)"),
    (lambda: jnp.median(jnp.zeros(0)), ValueError, r"median of an empty reduction"),
    (lambda: jnp.cumulative_sum(X), ValueError, r"axis is required for an array of rank 2"),
    (lambda: jnp.cumulative_sum(jnp.ones(())), ValueError, r"needs an array of rank >= 1"),
    (lambda: jnp.ptp(X > 0), TypeError, r"ptp does not accept bool arrays"),
    (lambda: jnp.var(X, ddof=1, correction=1), ValueError, r"ddof and correction"),
    (lambda: lax.reduce_sum(X > 0, (0,)), TypeError, r"reduce_sum does not accept dtype bool"),
    (lambda: lax.reduce_and(X, (0,)), TypeError, r"reduce_and does not accept dtype float32"),
    (lambda: lax.reduce_max(X, (2,)), TypeError, r"reduce_max: axis 2 is out of bounds for an array of rank"),
    (lambda: lax.argmax(jnp.zeros((0, 2)), 0, jnp.int32), TypeError, r"argmax needs a non-empty axis 0"),
    (lambda: lax.argmax(X, 0, jnp.float32), TypeError, r"argmax needs an integer index_dtype"),
    (lambda: lax.cumsum(jnp.ones(())), ValueError, r"cumsum: axis 0 is out of bounds for a 0-d operand"),
    (lambda: lax.cumlogsumexp(jnp.ones(3, jnp.int32)), TypeError, r"cumlogsumexp does not accept dtype int"),
    (lambda: lax.reduce(X, 1.0, lax.add, (0,)), NotImplementedError,
     r"needs init_values equal to its identity 0 for float32, got 1\.0"),
    (lambda: lax.reduce(X, 0.0, lambda a, b: a - b, (0,)), NotImplementedError,
     r"only add, mul, max, min, bitwise_and, bitwise_or and bitwise_xor"),
    (lambda: lax.reduce((X, X), (0.0, 0.0), lax.add, (0,)), NotImplementedError, r"variadic reduction"),
])
def test_bad_arguments_raise_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()
