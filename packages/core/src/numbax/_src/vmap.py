"""``vmap``: map a function over an axis of its arguments by batching every
primitive (interpreters/batching.py), never by looping in Python."""

import functools

import optree

from . import core
from .interpreters.batching import batch_flat, not_mapped
from .tree_util import NAMESPACE, keystr, tree_flatten, tree_flatten_with_path, tree_unflatten


def _broadcast_prefix(prefix, tree, what):
    """One axis (int or None) per leaf of ``tree``, from the pytree prefix
    ``prefix`` (an int or None applies to a whole subtree)."""
    if prefix is None or isinstance(prefix, int):
        return [prefix] * len(tree_flatten(tree)[0])
    try:
        leaves = []
        optree.tree_map_(lambda p, sub: leaves.extend(_broadcast_prefix(p, sub, what)), prefix, tree,
                         is_leaf=lambda p: p is None or isinstance(p, int), none_is_leaf=True,
                         namespace=NAMESPACE)
    except ValueError as err:
        raise ValueError(f"vmap {what} must be an int, None, or a pytree prefix of the "
                         f"{'arguments' if what == 'in_axes' else 'outputs'}; got {what}={prefix!r} "
                         f"which does not match their structure ({err}).") from None
    return leaves


def _leaf_paths(tree):
    return [keystr(path) for path, _ in tree_flatten_with_path(tree)[0]]


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
    """Vectorize ``fun`` over a batch axis.

    Args:
      fun: function of arrays (pytrees).
      in_axes: int, None, or a pytree prefix of the positional arguments
        (a tuple with one entry per argument) giving each input's batch axis;
        None means not batched. Keyword arguments are batched over axis 0.
      out_axes: the same for the outputs.
      axis_name: a name for the mapped axis, for collectives such as
        ``lax.psum(x, axis_name)`` inside ``fun``.
      axis_size: the batch size, needed when no input is batched.

    Returns:
      A function with the same arguments whose outputs gain the batch axis.
    """
    if spmd_axis_name is not None:
        raise NotImplementedError("vmap(spmd_axis_name=...) needs sharding, which numbax does not "
                                  "implement yet.")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)

    @functools.wraps(fun)
    def batched(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(f"vmap in_axes has {len(in_axes)} entries but the function was called with "
                             f"{len(args)} positional arguments; give one in_axes entry per argument.")
        axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        flat_axes = []
        for i, (axis, arg) in enumerate(zip(axes, args)):
            flat_axes += _broadcast_prefix(axis, arg, "in_axes")
        leaves, in_tree = tree_flatten((args, kwargs))
        kw_leaves = len(leaves) - len(flat_axes)
        flat_axes += [0] * kw_leaves
        paths = [f"args{p}" for p in _leaf_paths(args)] + [f"kwargs{p}" for p in _leaf_paths(kwargs)]
        sizes = {}
        canonical = []
        for path, leaf, axis in zip(paths, leaves, flat_axes):
            if axis is None:
                canonical.append(not_mapped)
                continue
            ndim = core.get_aval(leaf).ndim
            if not -ndim <= axis < ndim:
                raise ValueError(f"vmap was asked to map axis {axis} of {path}, which has rank {ndim} "
                                 f"(shape {core.get_aval(leaf).shape}); use an axis in [{-ndim}, {ndim}) or None.")
            canonical.append(axis % ndim)
            sizes[path] = core.get_aval(leaf).shape[axis % ndim]
        size = axis_size
        if len(set(sizes.values())) > 1:
            listing = ", ".join(f"{p} has size {s}" for p, s in sizes.items())
            raise ValueError(f"vmap got inconsistent sizes for the mapped axis: {listing}. All mapped "
                             "inputs must have the same size along their in_axes.")
        if sizes:
            found = next(iter(sizes.values()))
            if size is not None and size != found:
                raise ValueError(f"vmap axis_size={size} differs from the mapped inputs' size {found}.")
            size = found
        elif size is None:
            raise ValueError("vmap needs at least one mapped input (an in_axes entry that is not None) "
                             "or an explicit axis_size=.")
        out_tree_box = []

        def flat_fun(*flat_args):
            a, kw = tree_unflatten(in_tree, flat_args)
            out = fun(*a, **kw)
            out_leaves, out_tree = tree_flatten(out)
            out_tree_box.append((out, out_tree))
            return out_leaves

        out_axes_box = []

        def out_dims_for(outs_template):
            flat = _broadcast_prefix(out_axes, outs_template, "out_axes")
            out_axes_box.append(flat)
            return flat

        outs = batch_flat(flat_fun, leaves, canonical, size, axis_name,
                          out_dims=_LazyOutDims(out_tree_box, out_dims_for))
        return tree_unflatten(out_tree_box[0][1], outs)
    return batched


class _LazyOutDims:
    """Output axes are known only once the function has run (they are a prefix
    of its output tree); ``batch_flat`` reads them after the call."""

    def __init__(self, box, compute):
        self.box, self.compute = box, compute

    def resolve(self):
        return self.compute(self.box[0][0])
