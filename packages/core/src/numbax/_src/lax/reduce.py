"""Reductions over axes: reduce_sum/prod/max/min/and/or/xor, argmax/argmin,
and ``lax.reduce`` for computations that are one of those monoids.

NaN semantics follow XLA: max/min propagate NaN, argmax/argmin return the
index of the first NaN. An empty reduction gives the monoid's identity
(``reduce_max`` of nothing is -inf, or the smallest integer).
"""

import math
import numpy as np

from .. import dtypes
from ..core import ShapedArray
from ..dtypes import ALL, INTEGERS, NUMBERS, bool_
from ..errors import ConcretizationTypeError, TracerArrayConversionError
from . import elementwise
from .elementwise import _ignoring_fp_errors
from .utils import canonical_axes, check_dtype, coerce_scalars, shape_error, standard_primitive

INTS_AND_BOOL = INTEGERS + (bool_,)


def _reduced_shape(prim_name, x, axes):
    if tuple(sorted(set(axes))) != tuple(axes) or any(not 0 <= a < x.ndim for a in axes):
        raise shape_error(prim_name, f"needs axes as a sorted tuple of distinct axes in [0, {x.ndim}), "
                          f"got axes={axes}", x)
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def _reducer(name, impl, allowed):
    """A reduction primitive with param ``axes`` (sorted tuple); same dtype out."""
    def abstract_eval(x, *, axes):
        check_dtype(name, x, allowed)
        return ShapedArray(_reduced_shape(name, x, axes), x.dtype, x.weak_type)
    abstract_eval.__name__ = f"_{name}_abstract_eval"
    return standard_primitive(name, abstract_eval, impl)


def _max_identity(dtype):
    if dtype == bool_:
        return False
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _min_identity(dtype):
    if dtype == bool_:
        return True
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


def _and_identity(dtype):
    return True if dtype == bool_ else np.iinfo(dtype).max if dtype.kind == "u" else -1


@_ignoring_fp_errors
def _reduce_sum_impl(x, *, axes):
    # float16 accumulates in float32, as XLA's CPU backend does.
    return np.sum(x, axis=axes, dtype=np.float32 if x.dtype == np.float16 else x.dtype).astype(x.dtype)


@_ignoring_fp_errors
def _reduce_prod_impl(x, *, axes):
    return np.prod(x, axis=axes, dtype=np.float32 if x.dtype == np.float16 else x.dtype).astype(x.dtype)


def _reduce_max_impl(x, *, axes):
    return np.maximum.reduce(x, axis=axes, initial=_max_identity(x.dtype))


def _reduce_min_impl(x, *, axes):
    return np.minimum.reduce(x, axis=axes, initial=_min_identity(x.dtype))


def _reduce_and_impl(x, *, axes):
    return np.bitwise_and.reduce(x, axis=axes, initial=_and_identity(x.dtype)).astype(x.dtype)


def _reduce_or_impl(x, *, axes):
    return np.bitwise_or.reduce(x, axis=axes, initial=x.dtype.type(0)).astype(x.dtype)


def _reduce_xor_impl(x, *, axes):
    return np.bitwise_xor.reduce(x, axis=axes, initial=x.dtype.type(0)).astype(x.dtype)


reduce_sum_p = _reducer("reduce_sum", _reduce_sum_impl, NUMBERS)
reduce_prod_p = _reducer("reduce_prod", _reduce_prod_impl, NUMBERS)
reduce_max_p = _reducer("reduce_max", _reduce_max_impl, ALL)
reduce_min_p = _reducer("reduce_min", _reduce_min_impl, ALL)
reduce_and_p = _reducer("reduce_and", _reduce_and_impl, INTS_AND_BOOL)
reduce_or_p = _reducer("reduce_or", _reduce_or_impl, INTS_AND_BOOL)
reduce_xor_p = _reducer("reduce_xor", _reduce_xor_impl, INTS_AND_BOOL)


# --- argmax, argmin -------------------------------------------------------------------

def _argminmax_abstract_eval(name):
    def abstract_eval(x, *, axes, index_dtype):
        check_dtype(name, x, ALL)
        if len(axes) != 1:
            raise shape_error(name, f"reduces exactly one axis, got axes={axes}", x)
        shape = _reduced_shape(name, x, axes)
        if x.shape[axes[0]] == 0:
            raise shape_error(name, f"needs a non-empty axis {axes[0]} to find an index in", x)
        if not dtypes.is_int(index_dtype):
            raise shape_error(name, f"needs an integer index_dtype, got {np.dtype(index_dtype).name}", x)
        return ShapedArray(shape, index_dtype)
    abstract_eval.__name__ = f"_{name}_abstract_eval"
    return abstract_eval


# NumPy's argmax/argmin return the first NaN's index, as XLA does.
def _argmax_impl(x, *, axes, index_dtype):
    return np.argmax(x, axis=axes[0]).astype(index_dtype)


def _argmin_impl(x, *, axes, index_dtype):
    return np.argmin(x, axis=axes[0]).astype(index_dtype)


argmax_p = standard_primitive("argmax", _argminmax_abstract_eval("argmax"), _argmax_impl)
argmin_p = standard_primitive("argmin", _argminmax_abstract_eval("argmin"), _argmin_impl)


# --- public wrappers ---------------------------------------------------------------------

def _reduction_wrapper(prim, what):
    def op(operand, axes):
        (operand,) = coerce_scalars(operand)
        return prim.bind(operand, axes=canonical_axes(axes, operand.ndim, prim.name))
    op.__name__ = prim.name
    op.__doc__ = (f"The {what} of ``operand`` over ``axes`` (ints, negative allowed).\n\n"
                  "Returns an array of ``operand``'s dtype whose shape drops the reduced axes.")
    return op


reduce_sum = _reduction_wrapper(reduce_sum_p, "sum")
reduce_prod = _reduction_wrapper(reduce_prod_p, "product")
reduce_max = _reduction_wrapper(reduce_max_p, "maximum (NaN propagates; -inf or the smallest integer "
                                "if empty)")
reduce_min = _reduction_wrapper(reduce_min_p, "minimum (NaN propagates; inf or the largest integer "
                                "if empty)")
reduce_and = _reduction_wrapper(reduce_and_p, "bitwise/logical and (bool or integer operand)")
reduce_or = _reduction_wrapper(reduce_or_p, "bitwise/logical or (bool or integer operand)")
reduce_xor = _reduction_wrapper(reduce_xor_p, "bitwise/logical xor (bool or integer operand)")


def _argminmax_wrapper(prim, what):
    def op(operand, axis, index_dtype):
        (operand,) = coerce_scalars(operand)
        axes = canonical_axes(int(axis), operand.ndim, prim.name)
        return prim.bind(operand, axes=axes, index_dtype=dtypes.canonicalize_dtype(index_dtype))
    op.__name__ = prim.name
    op.__doc__ = (f"Index of the {what} along ``axis`` (the first one on ties; the first NaN if any).\n\n"
                  "Returns an ``index_dtype`` array of ``operand``'s shape without ``axis``; the axis "
                  "must not be empty.")
    return op


argmax = _argminmax_wrapper(argmax_p, "maximum")
argmin = _argminmax_wrapper(argmin_p, "minimum")


# computation primitive -> (wrapper, identity of the operand dtype)
_MONOIDS = {
    elementwise.add_p: (reduce_sum, lambda dt: False if dt == bool_ else 0),
    elementwise.mul_p: (reduce_prod, lambda dt: True if dt == bool_ else 1),
    elementwise.max_p: (reduce_max, _max_identity),
    elementwise.min_p: (reduce_min, _min_identity),
    elementwise.and_p: (reduce_and, _and_identity),
    elementwise.or_p: (reduce_or, lambda dt: False if dt == bool_ else 0),
    elementwise.xor_p: (reduce_xor, lambda dt: False if dt == bool_ else 0),
}


def _monoid_primitive(computation, aval):
    """The primitive ``computation(x, y)`` applies, if it is exactly one of
    ``_MONOIDS`` applied to its two scalar arguments; else None."""
    from ..interpreters.partial_eval import trace_to_jaxpr
    closed = trace_to_jaxpr(lambda x, y: [computation(x, y)], [aval, aval], "lax.reduce computation")
    jaxpr = closed.jaxpr
    if len(jaxpr.eqns) != 1 or len(jaxpr.outvars) != 1 or closed.consts:
        return None
    (eqn,) = jaxpr.eqns
    if eqn.primitive not in _MONOIDS or eqn.params or jaxpr.outvars != eqn.outvars:
        return None
    if set(map(id, eqn.invars)) != set(map(id, jaxpr.invars)) or len(eqn.invars) != 2:
        return None
    return eqn.primitive


def reduce(operands, init_values, computation, dimensions):  # noqa: A001
    """Reduce ``operands`` over ``dimensions`` with ``computation`` starting at
    ``init_values``.

    Supported: one array operand and a computation that is add, mul, max, min,
    bitwise_and, bitwise_or or bitwise_xor (as ``lax.add``, ``jnp.add`` or
    ``lambda x, y: x + y``), with ``init_values`` that monoid's identity. The
    result has ``operand``'s dtype and drops ``dimensions``.
    """
    if isinstance(operands, (tuple, list)):
        raise NotImplementedError(
            f"lax.reduce of a sequence of {len(operands)} operands (a variadic reduction) is not "
            "supported. Reduce each array separately (lax.reduce_sum, reduce_max, ...), or use "
            "lax.argmax/argmin or lax.sort for index-tracking reductions.")
    (operand,) = coerce_scalars(operands)
    aval = ShapedArray((), operand.dtype)
    prim = _monoid_primitive(computation, aval)
    name = getattr(computation, "__name__", repr(computation))
    if prim is None:
        raise NotImplementedError(
            f"lax.reduce with computation {name}: only add, mul, max, min, bitwise_and, "
            "bitwise_or and bitwise_xor of the two arguments are supported. Use those reductions "
            "(lax.reduce_sum, reduce_max, ...) and combine the results, or lax.associative_scan.")
    wrapper, identity_of = _MONOIDS[prim]
    identity = identity_of(operand.dtype)
    try:
        init = np.asarray(init_values)
    except (TracerArrayConversionError, ConcretizationTypeError):
        init = None
    if init is None or init.shape != () or init.item() != identity:
        seen = "a traced value" if init is None else repr(init.tolist())
        raise NotImplementedError(
            f"lax.reduce with computation {prim.name} needs init_values equal to its identity "
            f"{identity!r} for {operand.dtype.name}, got {seen}. Reduce with the identity and "
            f"combine the result with your initial value afterwards, e.g. "
            f"lax.{prim.name}(lax.{wrapper.__name__}(x, dims), init).")
    return wrapper(operand, dimensions)


__all__ = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_and", "reduce_or",
           "reduce_xor", "argmax", "argmin", "reduce"]


# --- differentiation rules ---------------------------------------------------------------
# Tangents only meet linear operations (mul by primal-derived values, reduce_sum,
# div by primal counts), so every rule below also works under linearize/grad.

from ..interpreters import jvp as _ad  # noqa: E402
from . import shape as _shape  # noqa: E402


def _kept_dims(ndim, axes):
    return tuple(d for d in range(ndim) if d not in axes)


def _reduce_sum_transpose(ct, x, *, axes):
    return [_shape.broadcast_in_dim(ct, x.aval.shape, _kept_dims(len(x.aval.shape), axes))]


_ad.deflinear(reduce_sum_p, _reduce_sum_transpose)


def _exclusive_products(x, axes):
    """For each element of ``x``, the product of the *other* elements of its
    reduction window over ``axes`` (no division, so zeros are handled exactly):
    flatten the window to a trailing axis and multiply exclusive cumulative
    products from the left and from the right."""
    from .cumulative import cumprod
    kept = _kept_dims(x.ndim, axes)
    perm = kept + tuple(axes)
    identity = perm == tuple(range(x.ndim))
    moved = x if identity else _shape.transpose(x, perm)
    kept_shape = tuple(x.shape[d] for d in kept)
    n = math.prod([x.shape[d] for d in axes])
    flat = _shape.reshape(moved, kept_shape + (n,))
    last = len(kept_shape)
    one = elementwise._const(x, 1)
    no_pad = [(0, 0, 0)] * last
    left = _shape.pad(_shape.slice_in_dim(cumprod(flat, axis=last), 0, n - 1, axis=last), one,
                      no_pad + [(1, 0, 0)])
    right = _shape.pad(_shape.slice_in_dim(cumprod(flat, axis=last, reverse=True), 1, n, axis=last), one,
                       no_pad + [(0, 1, 0)])
    others = _shape.reshape(elementwise.mul(left, right), moved.shape)
    if identity:
        return others
    return _shape.transpose(others, tuple(int(i) for i in np.argsort(perm)))


def _reduce_prod_jvp(g, x, *, axes):
    if not axes:  # the identity
        return g
    if 0 in x.shape:  # nothing to multiply: the sum of the (empty) tangents is the right zero
        return reduce_sum(g, axes)
    return reduce_sum(elementwise.mul(g, _exclusive_products(x, axes)), axes)


_ad.defjvp(reduce_prod_p, _reduce_prod_jvp)


def _reduce_chooser_jvp(prim):
    """max/min: the tangent of the chosen element; ties share it evenly (JAX's rule)."""
    def rule(primals, tangents, *, axes):
        (x,), (g,) = primals, tangents
        ans = prim.bind(x, axes=axes)
        if any(x.shape[a] == 0 for a in axes):  # the identity, a constant (JAX gives 0/0 = nan)
            return ans, _ad.Zero(_ad.tangent_aval(ans.aval))
        where = elementwise.eq(x, _shape.broadcast_in_dim(ans, x.shape, _kept_dims(x.ndim, axes)))
        mask = elementwise.convert_element_type(where, g.dtype)
        counts = reduce_sum(mask, axes)
        return ans, elementwise.div(reduce_sum(elementwise.mul(g, mask), axes), counts)
    rule.__name__ = f"_{prim.name}_jvp"
    return rule


reduce_max_p.def_jvp(_reduce_chooser_jvp(reduce_max_p))
reduce_min_p.def_jvp(_reduce_chooser_jvp(reduce_min_p))
for _prim in (reduce_and_p, reduce_or_p, reduce_xor_p, argmax_p, argmin_p):
    _ad.defjvp(_prim)  # integer/bool valued: zero tangent


# --- batching rules ------------------------------------------------------------------------
# A reduction of the batched operand over the same axes, shifted past the batch
# axis; the batch axis moves left by the number of reduced axes before it.

def _batched_axes(axes, bdim):
    """``axes`` of the unbatched operand as axes of the operand with batch axis ``bdim``."""
    return tuple(a + (a >= bdim) for a in axes)


def _reduction_batch(prim):
    def rule(args, dims, **params):
        (x,), (d,) = args, dims  # one operand, so it is the batched one
        axes = params.pop("axes")
        out = prim.bind(x, axes=_batched_axes(axes, d), **params)
        return out, d - sum(a < d for a in axes)
    rule.__name__ = f"_{prim.name}_batch"
    return rule


for _prim in (reduce_sum_p, reduce_prod_p, reduce_max_p, reduce_min_p, reduce_and_p, reduce_or_p, reduce_xor_p,
              argmax_p, argmin_p):
    _prim.def_batch(_reduction_batch(_prim))


# --- lowering (jit) --------------------------------------------------------------------------
# Each reduction is a monoid: an identity and a combine template over the
# accumulator and the next element. The backend prints the loops.

def _monoid_lowering(identity, combine_float, combine_other=None):
    def rule(ctx, eqn):
        (x,), (out,) = eqn.invars, eqn.outvars
        dtype = x.aval.dtype
        combine = combine_float if dtype.kind == "f" or combine_other is None else combine_other
        ctx.reduction(x, eqn.params["axes"], out, identity(dtype), combine)
    return rule


reduce_sum_p.def_lowering(_monoid_lowering(lambda d: 0, "{acc} + {v}"), "cpu")
reduce_prod_p.def_lowering(_monoid_lowering(lambda d: 1, "{acc} * {v}"), "cpu")
reduce_max_p.def_lowering(_monoid_lowering(_max_identity, "rt.fmax({acc}, {v})", "max({acc}, {v})"), "cpu")
reduce_min_p.def_lowering(_monoid_lowering(_min_identity, "rt.fmin({acc}, {v})", "min({acc}, {v})"), "cpu")
reduce_and_p.def_lowering(_monoid_lowering(_and_identity, "{acc} & {v}"), "cpu")
reduce_or_p.def_lowering(_monoid_lowering(lambda d: False if d == bool_ else 0, "{acc} | {v}"), "cpu")
reduce_xor_p.def_lowering(_monoid_lowering(lambda d: False if d == bool_ else 0, "{acc} ^ {v}"), "cpu")


def _argminmax_lowering(better):
    # ``better`` compares the next element v with the best so far; NaN wins
    # once and then stays (the first NaN's index, as XLA).
    def rule(ctx, eqn):
        (x,), (out,) = eqn.invars, eqn.outvars
        test = better if x.aval.dtype.kind == "f" else better.split(" or ")[0]
        ctx.arg_reduction(x, eqn.params["axes"][0], out, test)
    return rule


argmax_p.def_lowering(_argminmax_lowering("{v} > {best} or ({v} != {v} and {best} == {best})"), "cpu")
argmin_p.def_lowering(_argminmax_lowering("{v} < {best} or ({v} != {v} and {best} == {best})"), "cpu")
