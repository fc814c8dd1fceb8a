"""User-facing differentiation: ``jvp``, ``linearize``, ``vjp``, ``grad``,
``value_and_grad``, ``jacfwd``, ``jacrev``, ``hessian``, over pytrees.

Forward mode is the JVP interpreter; reverse mode linearizes (JVP over
partial evaluation) and transposes the linear jaxpr (interpreters/transpose.py).
"""

import functools

import numpy as np

from . import core, dtypes
from .api_util import flatten_fun
from .array import ArrayImpl
from .interpreters.jvp import Zero, instantiate, jvp_flat, tangent_aval
from .interpreters.transpose import backward_pass, linearize_flat
from .tree_util import tree_flatten, tree_structure, tree_unflatten


def _as_array(x):
    if isinstance(x, core.Array):
        return x
    dtype, weak = dtypes.dtype_and_weak_of(x)
    return ArrayImpl(np.array(x, dtype=dtype), weak)


def _check_tangent(path, primal, tangent):
    p_aval, t_aval = core.get_aval(primal), core.get_aval(tangent)
    if p_aval.shape != t_aval.shape or (dtypes.is_float(p_aval.dtype) and
                                        p_aval.dtype != t_aval.dtype):
        raise TypeError(
            f"jvp: the primal and tangent at input {path} must have the same shape and dtype; got "
            f"primal {p_aval.str_short()} and tangent {t_aval.str_short()}. Build tangents with "
            "numbax.numpy.zeros_like/ones_like(primal).")


def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode derivative: ``(fun(*primals), J @ tangents)``.

    Args:
      fun: function of arrays (pytrees) returning arrays (pytrees).
      primals, tangents: tuples of equal structure, shapes and dtypes.

    Returns:
      ``(primals_out, tangents_out)`` (plus ``aux`` when ``has_aux``).
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples or lists, e.g. jvp(f, (x,), (t,)); "
                        f"got {type(primals).__name__} and {type(tangents).__name__}.")
    p_leaves, p_tree = tree_flatten(tuple(primals))
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise TypeError(f"jvp: primal and tangent structures differ: {p_tree} vs {t_tree}.")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        _check_tangent(i, p, t)
    flat_fun, out_tree, aux_tree = _flatten_fun_with_aux(fun, p_tree, has_aux)
    out_p, out_t = jvp_flat(flat_fun, [_as_array(p) for p in p_leaves], [_as_array(t) for t in t_leaves])
    n_out = out_tree[0].num_leaves
    result = (tree_unflatten(out_tree[0], out_p[:n_out]),
              tree_unflatten(out_tree[0], [instantiate(t) for t in out_t[:n_out]]))
    if has_aux:
        return (*result, tree_unflatten(aux_tree[0], out_p[n_out:]))
    return result


def _flatten_fun_with_aux(fun, in_tree, has_aux):
    """A flat function whose outputs are the output leaves followed by the aux
    leaves: aux values then leave the trace like outputs (as primals)."""
    out_tree_box, aux_tree_box = [], []

    def flat_fun(*leaves):
        out = fun(*tree_unflatten(in_tree, leaves))
        aux_leaves = []
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("a function differentiated with has_aux=True must return a pair "
                                f"(output, auxiliary_data); got {type(out).__name__}.")
            out, aux = out
            aux_leaves, aux_tree = tree_flatten(aux)
            aux_tree_box.append(aux_tree)
        out_leaves, out_tree = tree_flatten(out)
        out_tree_box.append(out_tree)
        return out_leaves + aux_leaves
    return flat_fun, out_tree_box, aux_tree_box


def linearize(fun, *primals):
    """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` evaluates the
    linear map ``t -> J @ t`` without re-running ``fun``'s primal computation."""
    p_leaves, p_tree = tree_flatten(primals)
    flat_fun, out_tree = flatten_fun(fun, p_tree)
    out_p, linear, zero_mask = linearize_flat(flat_fun, [_as_array(p) for p in p_leaves])
    out_avals = [core.get_aval(p) for p in out_p]

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_flatten(tangents)
        if t_tree != p_tree:
            raise TypeError(f"linearize: tangents must have the primals' structure {p_tree}, got {t_tree}.")
        nonzero = iter(core.eval_jaxpr(linear.jaxpr, linear.consts, *map(_as_array, t_leaves)))
        outs = [instantiate(Zero(tangent_aval(a))) if zero else next(nonzero)
                for zero, a in zip(zero_mask, out_avals)]
        return tree_unflatten(out_tree[0], outs)
    return tree_unflatten(out_tree[0], out_p), f_jvp


def vjp(fun, *primals, has_aux=False):
    """Reverse-mode derivative: ``(fun(*primals), vjp_fun)`` where
    ``vjp_fun(ct)`` returns a tuple of cotangents shaped like ``primals``."""
    p_leaves, p_tree = tree_flatten(primals)
    flat_fun, out_tree, aux_tree = _flatten_fun_with_aux(fun, p_tree, has_aux)
    in_arrays = [_as_array(p) for p in p_leaves]
    all_out, linear, zero_mask = linearize_flat(flat_fun, in_arrays)
    n_out = out_tree[0].num_leaves
    out_p = all_out[:n_out]
    in_avals = [tangent_aval(core.get_aval(p)) for p in in_arrays]

    def vjp_fun(ct):
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree[0]:
            raise TypeError(f"vjp: the cotangent must have the output's structure {out_tree[0]}, "
                            f"got {ct_tree}.")
        for i, (c, p) in enumerate(zip(ct_leaves, out_p)):
            c_aval, p_aval = core.get_aval(c), core.get_aval(p)
            if c_aval.shape != p_aval.shape:
                raise TypeError(f"vjp: cotangent {i} has shape {c_aval.str_short()} but the output has "
                                f"{p_aval.str_short()}.")
        # Auxiliary outputs get zero cotangents.
        cts = [_as_array(c) for c in ct_leaves] + [Zero(tangent_aval(core.get_aval(a))) for a in all_out[n_out:]]
        cts_in = backward_pass(linear.jaxpr, linear.consts, [c for c, zero in zip(cts, zero_mask) if not zero])
        cts_in = [instantiate(Zero(a)) if type(c) is Zero else c for c, a in zip(cts_in, in_avals)]
        return tree_unflatten(p_tree, cts_in)

    out = tree_unflatten(out_tree[0], out_p)
    if has_aux:
        return out, vjp_fun, tree_unflatten(aux_tree[0], all_out[n_out:])
    return out, vjp_fun


def _check_grad_input(fun_name, index, x, allow_int):
    aval = core.get_aval(x)
    if not dtypes.is_float(aval.dtype) and not allow_int:
        raise TypeError(
            f"{fun_name} requires real-valued (float) inputs; argument {index} has dtype "
            f"{aval.dtype.name}. Cast it with x.astype(jnp.float32), or pass allow_int=True to get "
            "zero gradients for integer inputs.")


def value_and_grad(fun, argnums=0, has_aux=False, allow_int=False):
    """``f -> (f(x), df/dx)`` for a scalar-valued ``f``; ``argnums`` (int or
    tuple) picks the differentiated positional arguments (pytrees allowed)."""
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        for n in nums:
            if n >= len(args):
                raise TypeError(f"grad: argnums={argnums} but only {len(args)} positional arguments "
                                "were given.")
            for leaf in tree_flatten(args[n])[0]:
                _check_grad_input("grad", n, leaf, allow_int)

        def partial(*diff_args):
            full = list(args)
            for n, a in zip(nums, diff_args):
                full[n] = a
            return fun(*full, **kwargs)
        out, vjp_fun, *aux = vjp(partial, *[args[n] for n in nums], has_aux=has_aux)
        value = out
        aval = core.get_aval(value) if isinstance(value, (core.Array, float, int)) else None
        if aval is None or aval.shape != ():
            shape = "a pytree" if aval is None else aval.str_short()
            raise TypeError(f"grad requires a scalar output (shape ()), got {shape}. Use "
                            "numbax.vjp or jacrev for non-scalar outputs, or reduce with .sum().")
        if not dtypes.is_float(aval.dtype):
            raise TypeError(f"grad requires a float output, got {aval.dtype.name}.")
        from .lax.elementwise import convert_element_type
        one = convert_element_type(ArrayImpl(np.ones((), aval.dtype)), aval.dtype)
        grads = vjp_fun(one)
        grads = grads[0] if single else tuple(grads)
        if has_aux:
            return (value, aux[0]), grads
        return value, grads
    return wrapped


def grad(fun, argnums=0, has_aux=False, allow_int=False):
    """``f -> df/dx`` for a scalar-valued ``f`` (see ``value_and_grad``)."""
    vg = value_and_grad(fun, argnums, has_aux, allow_int)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapped


def _std_basis(leaves):
    """The identity matrix over all leaves' elements: shape (total, total)."""
    total = sum(core.get_aval(x).size for x in leaves)
    dtype = dtypes.result_type(*[core.get_aval(x).dtype for x in leaves]) if leaves else np.float32
    return ArrayImpl(np.eye(total, dtype=dtype))


def _split_basis(basis, leaves, axis):
    """Slices of a (.., total, ..) array, one per leaf, reshaped to the leaf's shape."""
    from .lax.shape import slice_in_dim
    pieces, start = [], 0
    for leaf in leaves:
        aval = core.get_aval(leaf)
        piece = slice_in_dim(basis, start, start + aval.size, axis=axis)
        shape = piece.shape[:axis] + aval.shape + piece.shape[axis + 1:] if axis >= 0 else \
            piece.shape[:axis] + aval.shape
        pieces.append(piece.reshape(shape).astype(aval.dtype))
        start += aval.size
    return pieces


def _partial_fun(fun, args, nums):
    def partial(*diff):
        full = list(args)
        for n, a in zip(nums, diff):
            full[n] = a
        return fun(*full)
    return partial


def jacfwd(fun, argnums=0, has_aux=False):
    """Jacobian by forward mode: ``vmap`` of ``jvp`` over the standard basis of
    the inputs. Output leaves get shape ``out.shape + in.shape``."""
    from .vmap import vmap
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    def jac(*args):
        diff = tuple(args[n] for n in nums)
        leaves, in_tree = tree_flatten(diff)
        partial = _partial_fun(fun, args, nums)
        basis = _std_basis(leaves)

        def push(column):
            tangents = tree_unflatten(in_tree, _split_basis(column[None], leaves, 1))
            tangents = [t[0] for t in tree_flatten(tangents)[0]]
            return jvp(partial, diff, tuple(tree_unflatten(in_tree, tangents)), has_aux=has_aux)
        # Each Jacobian column lands on the last axis; the primal (and aux) do
        # not depend on the column.
        out = vmap(push, out_axes=(None, -1, None) if has_aux else (None, -1))(basis)
        primal, columns, *aux = out
        per_out = []
        for o, col in zip(tree_flatten(primal)[0], tree_flatten(columns)[0]):
            o_shape = tuple(core.get_aval(o).shape)
            blocks = [b.reshape(o_shape + tuple(core.get_aval(leaf).shape))
                      for b, leaf in zip(_split_basis(col, leaves, col.ndim - 1), leaves)]
            per_in = tree_unflatten(in_tree, blocks)
            per_out.append(per_in[0] if single else per_in)
        result = tree_unflatten(tree_structure(primal), per_out)
        return (result, aux[0]) if has_aux else result
    return jac


def jacrev(fun, argnums=0, has_aux=False):
    """Jacobian by reverse mode: ``vmap`` of the ``vjp`` over the standard basis
    of the outputs. Output leaves get shape ``out.shape + in.shape``."""
    from .vmap import vmap
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    def jac(*args):
        diff = tuple(args[n] for n in nums)
        partial = _partial_fun(fun, args, nums)
        out, vjp_fun, *aux = vjp(partial, *diff, has_aux=has_aux)
        out_leaves, out_tree = tree_flatten(out)
        in_leaves, in_tree = tree_flatten(diff)
        basis = _std_basis(out_leaves)

        def pull(row):
            cts = _split_basis(row[None], out_leaves, 1)
            return vjp_fun(tree_unflatten(out_tree, [c[0] for c in cts]))
        rows = tree_flatten(vmap(pull)(basis))[0]  # leaf i: (total_out,) + in_leaf.shape
        per_out, start = [], 0
        for o in out_leaves:
            o_aval = core.get_aval(o)
            blocks = [r[start:start + o_aval.size].reshape(tuple(o_aval.shape) + tuple(core.get_aval(x).shape))
                      for r, x in zip(rows, in_leaves)]
            start += o_aval.size
            per_in = tree_unflatten(in_tree, blocks)
            per_out.append(per_in[0] if single else per_in)
        result = tree_unflatten(out_tree, per_out)
        return (result, aux[0]) if has_aux else result
    return jac


def hessian(fun, argnums=0):
    """Second derivatives: ``jacfwd(jacrev(fun))``."""
    return jacfwd(jacrev(fun, argnums), argnums)

