"""Collectives over named axes: ``psum``, ``pmean``, ``pmax``, ``pmin``,
``all_gather``, ``axis_index``. Inside ``vmap(..., axis_name=...)`` they
reduce or gather over the mapped axis (interpreters/batching.py gives their
rules the vmap trace); used outside any named axis they raise ``NameError``.
"""

from ..core import NumbaxTypeError, Primitive, ShapedArray
from ..interpreters.batching import bdim_at_front, move_batch_axis, not_mapped
from ..tree_util import tree_flatten, tree_unflatten
from .utils import coerce_scalars

__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "axis_index"]


def _unbound(name):
    def impl(*args, axes=None, axis_name=None, **_):
        names = axes if axes is not None else (axis_name,)
        raise NameError(f"unbound axis name: {names[0]!r}. Collectives such as lax.{name} need a named "
                        f"axis from an enclosing vmap(..., axis_name={names[0]!r}) (or pmap/shard_map).")
    return impl


def _collective(name, reduce_fn, unbatched_fn):
    """A reduction over named axes: inside the vmap whose axis it names it
    reduces over the batch axis; over other names it is elementwise here."""
    prim = Primitive(name)
    prim.def_impl(_unbound(name))
    prim.def_abstract_eval(lambda x, *, axes: x)

    def rule(trace, vals, dims, *, axes):
        (x,), (d,) = vals, dims
        if trace.axis_name not in axes:
            return prim.bind(x, axes=axes), d
        out = unbatched_fn(x, trace.axis_size) if d is not_mapped else reduce_fn(x, (d,))
        rest = tuple(a for a in axes if a != trace.axis_name)
        return (prim.bind(out, axes=rest) if rest else out), not_mapped

    prim.collective_batch_rule = rule
    return prim


def _psum_unbatched(x, size):
    from .elementwise import mul
    return mul(x, size)


def _reduce(name):
    def fn(x, axes):
        from . import reduce as lax_reduce
        return getattr(lax_reduce, name)(x, axes)
    return fn


psum_p = _collective("psum", _reduce("reduce_sum"), _psum_unbatched)
pmax_p = _collective("pmax", _reduce("reduce_max"), lambda x, size: x)
pmin_p = _collective("pmin", _reduce("reduce_min"), lambda x, size: x)


def _axes(axis_name):
    return tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)


def _tree_collective(prim, x, axis_name):
    leaves, tree = tree_flatten(x)
    return tree_unflatten(tree, [prim.bind(*coerce_scalars(leaf), axes=_axes(axis_name)) for leaf in leaves])


def psum(x, axis_name):
    """Sum ``x`` (a pytree) over the named mapped axis (or tuple of axes);
    every example gets the total. Same shapes and dtypes as ``x``."""
    return _tree_collective(psum_p, x, axis_name)


def pmax(x, axis_name):
    """Maximum of ``x`` over the named axis; same shapes as ``x``."""
    return _tree_collective(pmax_p, x, axis_name)


def pmin(x, axis_name):
    """Minimum of ``x`` over the named axis; same shapes as ``x``."""
    return _tree_collective(pmin_p, x, axis_name)


def pmean(x, axis_name):
    """Mean of ``x`` over the named axis; same shapes as ``x``."""
    sizes = psum(1, axis_name)
    from .elementwise import convert_element_type, div
    leaves, tree = tree_flatten(psum(x, axis_name))
    return tree_unflatten(tree, [div(leaf, convert_element_type(sizes, leaf.dtype)) for leaf in leaves])


all_gather_p = Primitive("all_gather")
all_gather_p.def_impl(_unbound("all_gather"))


def _all_gather_abstract_eval(x, *, axis_name, axis, tiled, axis_size):
    if axis_size is None:
        raise NumbaxTypeError(f"all_gather over {axis_name!r} outside a vmap/pmap that names that axis.")
    shape = list(x.shape)
    if tiled:
        shape[axis] *= axis_size
    else:
        shape.insert(axis, axis_size)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def _all_gather_rule(trace, vals, dims, *, axis_name, axis, tiled, axis_size):
    (x,), (d,) = vals, dims
    if trace.axis_name != axis_name:
        # Another axis: gather each example separately, keeping our batch axis first.
        x = bdim_at_front(x, d, trace.axis_size) if d is not not_mapped else x
        out_axis = axis + 1 if d is not not_mapped else axis
        return all_gather_p.bind(x, axis_name=axis_name, axis=out_axis, tiled=tiled,
                                 axis_size=axis_size), (0 if d is not not_mapped else not_mapped)
    gathered = move_batch_axis(x, d, trace.axis_size, axis)
    if tiled:
        from .shape import reshape
        shape = list(gathered.shape)
        merged = shape[:axis] + [shape[axis] * shape[axis + 1]] + shape[axis + 2:]
        gathered = reshape(gathered, tuple(merged))
    return gathered, not_mapped


all_gather_p.def_abstract_eval(_all_gather_abstract_eval)
all_gather_p.collective_batch_rule = _all_gather_rule


def all_gather(x, axis_name, *, axis=0, tiled=False):
    """Every example gets all examples' ``x`` stacked along a new ``axis`` (of
    the mapped size), or concatenated along ``axis`` when ``tiled``."""
    from ..core import current_trace
    trace = current_trace()
    size = _axis_size(trace, axis_name)
    leaves, tree = tree_flatten(x)
    return tree_unflatten(tree, [all_gather_p.bind(*coerce_scalars(leaf), axis_name=axis_name, axis=int(axis),
                                                   tiled=bool(tiled), axis_size=size) for leaf in leaves])


def _axis_size(trace, axis_name):
    while trace is not None:
        if getattr(trace, "axis_name", None) == axis_name:
            return trace.axis_size
        trace = getattr(trace, "parent", None)
    return None


axis_index_p = Primitive("axis_index")
axis_index_p.def_impl(_unbound("axis_index"))
axis_index_p.def_abstract_eval(lambda *, axis_name: ShapedArray((), _int32()))


def _int32():
    import numpy as np
    return np.dtype(np.int32)


def _axis_index_rule(trace, vals, dims, *, axis_name):
    if trace.axis_name != axis_name:
        return axis_index_p.bind(axis_name=axis_name), not_mapped
    from .elementwise import iota
    return iota(_int32(), trace.axis_size), 0


axis_index_p.collective_batch_rule = _axis_index_rule


def axis_index(axis_name):
    """This example's position (int32 scalar) along the named mapped axis."""
    return axis_index_p.bind(axis_name=axis_name)


# --- differentiation rules -------------------------------------------------------------------
# psum is linear (its transpose is psum again, as in JAX's vmap semantics);
# pmax/pmin pass the tangent of the chosen example, split evenly over ties;
# all_gather is linear; axis_index is integer-valued.

from ..interpreters import jvp as _ad  # noqa: E402


def _psum_transpose(ct, x, *, axes):
    return [psum_p.bind(ct, axes=axes)]


_ad.deflinear(psum_p, _psum_transpose)


def _chooser_jvp(prim):
    def rule(primals, tangents, *, axes):
        from .elementwise import convert_element_type, div, eq, mul
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axes=axes)
        mask = convert_element_type(eq(x, out), x.dtype)
        count = psum_p.bind(mask, axes=axes)
        return out, div(psum_p.bind(mul(t, mask), axes=axes), count)
    return rule


pmax_p.def_jvp(_chooser_jvp(pmax_p))
pmin_p.def_jvp(_chooser_jvp(pmin_p))


def _all_gather_jvp(primals, tangents, **params):
    return all_gather_p.bind(primals[0], **params), all_gather_p.bind(_ad.instantiate(tangents[0]), **params)


all_gather_p.def_jvp(_all_gather_jvp)
_ad.defjvp(axis_index_p)
