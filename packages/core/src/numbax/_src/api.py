"""User-facing entry points that stage or inspect functions: ``make_jaxpr``,
``eval_shape``, ``ShapeDtypeStruct``, and moving values to and from devices."""

import math
import functools

import numpy as np

from . import core, dtypes
from .array import ArrayImpl, array_from_numpy
from .interpreters.partial_eval import aval_of_argument, trace_to_jaxpr
from .tree_util import tree_flatten, tree_map, tree_unflatten


class ShapeDtypeStruct:
    """A shape and dtype standing in for an array (``eval_shape``'s output,
    or an input to ``make_jaxpr``/``eval_shape`` without data)."""

    __slots__ = ("shape", "dtype", "weak_type", "sharding")

    def __init__(self, shape, dtype, weak_type=False, sharding=None):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = dtypes.canonicalize_dtype(dtype)
        self.weak_type = weak_type
        self.sharding = sharding

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{weak})"

    def __eq__(self, other):
        return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.weak_type))


def _split_static(args, static_argnums):
    static = {i % len(args) if args else i for i in static_argnums}
    dynamic = [a for i, a in enumerate(args) if i not in static]

    def merge(dynamic_values):
        it = iter(dynamic_values)
        return [args[i] if i in static else next(it) for i in range(len(args))]
    return dynamic, merge


def _trace_flat(fun, args, kwargs, static_argnums, description):
    """Stage ``fun(*args, **kwargs)`` with every array leaf abstract.
    Returns ``(closed_jaxpr, out_treedef)``."""
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    dynamic, merge = _split_static(args, static_argnums)
    leaves, in_tree = tree_flatten((dynamic, kwargs))
    in_avals = [aval_of_argument(x) for x in leaves]
    out_tree_box = []

    def flat_fun(*tracers):
        dyn, kw = tree_unflatten(in_tree, tracers)
        out = fun(*merge(dyn), **kw)
        out_leaves, out_tree = tree_flatten(out)
        out_tree_box.append(out_tree)
        return out_leaves

    closed = trace_to_jaxpr(flat_fun, in_avals, description)
    return closed, out_tree_box[0]


def make_jaxpr(fun, static_argnums=(), return_shape=False):
    """``make_jaxpr(f)(*args)`` stages ``f`` and returns its ``ClosedJaxpr``,
    which prints in JAX's form::

        >>> make_jaxpr(lambda x: jnp.sin(x) * 2.0)(jnp.ones(3))
        { lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c,) }

    Arguments may be arrays, scalars, ``ShapeDtypeStruct`` s or pytrees of them.
    With ``return_shape=True`` also returns the output's ``ShapeDtypeStruct`` tree.
    """
    @functools.wraps(fun)
    def make_jaxpr_fun(*args, **kwargs):
        name = getattr(fun, "__name__", "fun")
        closed, out_tree = _trace_flat(fun, args, kwargs, static_argnums, f"make_jaxpr({name})")
        if return_shape:
            shapes = [ShapeDtypeStruct(a.shape, a.dtype, a.weak_type) for a in closed.out_avals]
            return closed, tree_unflatten(out_tree, shapes)
        return closed
    return make_jaxpr_fun


def eval_shape(fun, *args, **kwargs):
    """The ``ShapeDtypeStruct`` tree of ``fun(*args, **kwargs)``, computed by
    tracing without running anything."""
    name = getattr(fun, "__name__", "fun")
    closed, out_tree = _trace_flat(fun, args, kwargs, (), f"eval_shape({name})")
    shapes = [ShapeDtypeStruct(a.shape, a.dtype, a.weak_type) for a in closed.out_avals]
    return tree_unflatten(out_tree, shapes)


def device_put(x, device=None):
    """Copy a pytree of array-likes into numbax arrays (on the one CPU device)."""
    def put(leaf):
        if isinstance(leaf, core.Tracer):
            return leaf
        if type(leaf) is ArrayImpl:
            return leaf
        if isinstance(leaf, (bool, int, float)):
            return ArrayImpl(np.array(leaf, dtype=dtypes.dtype_and_weak_of(leaf)[0]), False)
        return array_from_numpy(leaf)
    return tree_map(put, x)


def device_get(x):
    """NumPy arrays (read-only views) for every numbax array in a pytree."""
    return tree_map(lambda leaf: np.asarray(leaf) if isinstance(leaf, ArrayImpl) else leaf, x)


def block_until_ready(x):
    """Wait for every array in a pytree; returns the pytree."""
    tree_map(lambda leaf: leaf.block_until_ready() if hasattr(leaf, "block_until_ready") else leaf, x)
    return x
