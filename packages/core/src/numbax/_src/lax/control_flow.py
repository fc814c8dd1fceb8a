"""Structured control flow: ``cond``/``switch``, ``while_loop``/``fori_loop``,
``scan``/``map`` and ``associative_scan``.

Python ``if``/``for``/``while`` run while tracing; these run at run time. Each
is a higher-order primitive carrying its branches or loop body as
closure-converted jaxprs (values the functions close over become leading
operands, so outer transformations see them):

- ``cond``  operands ``(index, *operands)``, params ``branches`` (one
  ClosedJaxpr per branch, all taking the same operands);
- ``while`` operands ``(*cond_consts, *body_consts, *init)``, params
  ``cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts``;
- ``scan``  operands ``(*consts, *init, *xs)``, params ``jaxpr`` (consts,
  carry, x slices -> new carry, y slices), ``length, reverse, num_consts,
  num_carry, linear, unroll``.

Differentiation: each JVP rule binds the primal primitive unchanged and a
second "tangent" primitive whose body is the JVP of the original body (it
recomputes the primal values it needs). Under ``linearize`` the primal one is
computed in the forward pass and only the tangent one is staged into the
linear jaxpr, whose transpose needs no residual bookkeeping: ``cond``
transposes each branch with ``backward_pass`` (which re-evaluates the
non-linear equations, like ``checkpoint``); ``scan`` first re-runs the loop's
non-linear carries forward, stacking them, then runs the transposed body in the
opposite direction. The price is recomputation of the primal body (about one
extra forward pass), never wrong answers.
"""

import numpy as np

from .. import core, dtypes
from ..array import ArrayImpl
from ..core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Primitive, Var
from ..errors import user_source_line
from ..interpreters.batching import batch_flat, batch_jaxpr, bdim_at_front, not_mapped
from ..interpreters.jvp import Zero, instantiate, jvp_jaxpr, tangent_aval
from ..interpreters.partial_eval import aval_of_argument, closure_convert, dce_jaxpr
from ..interpreters.transpose import UndefinedPrimal, backward_pass, is_undefined_primal
from ..tree_util import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten
from .utils import as_operand

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "associative_scan"]


# --- shared helpers -------------------------------------------------------------------

def _operands(tree):
    """Leaves of ``tree`` as numbax arrays (Python scalars stay weakly typed)."""
    leaves, treedef = tree_flatten(tree)
    for leaf in leaves:
        if not isinstance(leaf, (core.Array, np.ndarray, np.generic, bool, int, float)):
            raise TypeError(f"control flow operands must be arrays or scalars, got {type(leaf).__name__}: "
                            f"{leaf!r}. Pass non-array values by closing over them instead.")
    return [as_operand(x) for x in leaves], treedef


def _leaf_paths(treedef):
    return [keystr(p) or "(root)" for p, _ in
            tree_flatten_with_path(tree_unflatten(treedef, list(range(treedef.num_leaves))))[0]]


def _stage(fun, in_avals, description):
    """``(jaxpr, consts)``: a flat function closure-converted (consts lead its invars)."""
    return closure_convert(fun, in_avals, description)


def _join_consts(staged):
    """Closure-converted jaxprs ``[(jaxpr_i, consts_i)]`` each taking their own
    consts first -> jaxprs all taking ``(*consts_0, *consts_1, ..., *rest)``,
    and the concatenated consts (what ``cond`` needs: one operand list)."""
    const_avals = [v.aval for jaxpr, consts in staged for v in jaxpr.jaxpr.invars[:len(consts)]]
    joined, offset = [], 0
    for jaxpr, consts in staged:
        n, j = len(consts), jaxpr.jaxpr
        invars = ([Var(a) for a in const_avals[:offset]] + j.invars[:n]
                  + [Var(a) for a in const_avals[offset + n:]] + j.invars[n:])
        joined.append(ClosedJaxpr(Jaxpr([], invars, j.outvars, j.eqns), jaxpr.consts))
        offset += n
    return tuple(joined), [c for _, consts in staged for c in consts]


def _reorder_invars(closed, order):
    """The same jaxpr with its invars permuted: new invar k is old invar ``order[k]``."""
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, [j.invars[i] for i in order], j.outvars, j.eqns), closed.consts)


def _with_unused_invars(closed, extra_avals):
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, j.invars + [Var(a) for a in extra_avals], j.outvars, j.eqns),
                       closed.consts)


def _type_mismatches(what, paths, avals_a, avals_b, name_a, name_b):
    """A TypeError message naming the first leaves whose types differ, or None."""
    bad = [(p, a, b) for p, a, b in zip(paths, avals_a, avals_b) if a.strip_weak_type() != b.strip_weak_type()]
    if not bad:
        return None
    lines = "\n".join(f"  at {p}: {name_a} has {a.str_short()} but {name_b} has {b.str_short()}"
                      for p, a, b in bad[:5])
    return f"{what}:\n{lines}"


def _eval(closed, args):
    return core.eval_jaxpr(closed.jaxpr, closed.consts, *args)


def _fit(values, avals):
    """Eager outputs coerced to the primitive's output types (weak types and all)."""
    out = []
    for v, aval in zip(values, avals):
        if type(v) is not ArrayImpl or v.dtype != aval.dtype or v.weak_type != aval.weak_type:
            v = ArrayImpl(np.asarray(v, dtype=aval.dtype), aval.weak_type)
        out.append(v)
    return out


def _control_primitive(name, eager):
    """A multiple-result primitive run eagerly by ``eager(args, **params)``
    on numbax arrays (its sub-jaxprs go through the eval interpreter)."""
    prim = Primitive(name, multiple_results=True)
    prim.eager_fast_path = lambda args, params: eager([as_operand(a) for a in args], **params)

    def impl(*values, **params):
        return [np.asarray(o) for o in eager([ArrayImpl(np.asarray(v)) for v in values], **params)]
    prim.def_impl(impl)
    return prim


def _def_batch(prim, rule):
    """Install a control-flow batch rule ``rule(args, dims, size, axis_name, **params)``.
    It runs even when no operand is batched, because a body may use a
    collective over this vmap's axis (``lax.psum(x, "i")``)."""
    prim.collective_batch_rule = lambda trace, args, dims, **params: rule(
        args, dims, trace.axis_size, trace.axis_name, **params)


def _moved(args, dims, size, batched):
    """Operands with their batch axis first; unbatched ones that must be batched are broadcast."""
    return [bdim_at_front(a, d, size) if b else a for a, d, b in zip(args, dims, batched)]


def _assign_all(ctx, names, exprs):
    """Lowering: simultaneous assignment, since a loop body may swap its carries."""
    if names:
        ctx.emit(f"{', '.join(names)}, = ({', '.join(exprs)},)")


# --- cond / switch -----------------------------------------------------------------------

def _cond_abstract_eval(index, *ops, branches):
    if index.shape != () or index.dtype != np.int32:
        raise core.shape_error("cond", "needs an int32 scalar index", index)
    for branch in branches:
        if [a.strip_weak_type() for a in branch.in_avals] != [a.strip_weak_type() for a in ops]:
            raise core.shape_error("cond", "branches must take the operands' types", *ops)
    outs = branches[0].out_avals
    return [a.update(weak_type=all(b.out_avals[i].weak_type for b in branches)) for i, a in enumerate(outs)]


def _cond_eager(args, *, branches):
    index = min(max(int(args[0]), 0), len(branches) - 1)
    return _fit(_eval(branches[index], args[1:]), _cond_abstract_eval(*[a.aval for a in args],
                                                                           branches=branches))


cond_p = _control_primitive("cond", _cond_eager)
cond_p.def_abstract_eval(_cond_abstract_eval)


def _switch(index, funs, operands, names):
    leaves, in_tree = _operands(operands)
    in_avals = [aval_of_argument(x) for x in leaves]
    staged, out_trees, out_avals = [], [], []
    for fun, name in zip(funs, names):
        box = []

        def flat(*args, fun=fun, box=box):
            out_leaves, out_tree = tree_flatten(fun(*tree_unflatten(in_tree, list(args))))
            box.append(out_tree)
            return out_leaves
        jaxpr, consts = _stage(flat, in_avals, name)
        staged.append((jaxpr, consts))
        out_trees.append(box[0])
        out_avals.append(jaxpr.out_avals)
    for tree, name, avals in zip(out_trees[1:], names[1:], out_avals[1:]):
        if tree != out_trees[0]:
            raise TypeError(f"{names[0]} and {name} must return the same pytree structure, got "
                            f"{out_trees[0]} and {tree}.{user_source_line()}")
        message = _type_mismatches(f"{names[0]} and {name} must return identical types",
                                   _leaf_paths(tree), out_avals[0], avals, names[0], name)
        if message:
            raise TypeError(f"{message}\nCast one branch's outputs (e.g. with .astype) so both "
                            f"match.{user_source_line()}")
    branches, consts = _join_consts(staged)
    outs = cond_p.bind(index, *consts, *leaves, branches=branches)
    return tree_unflatten(out_trees[0], outs)


def _as_index(x, name):
    from .elementwise import convert_element_type, ne
    x = as_operand(x)
    if x.shape != ():
        raise TypeError(f"{name} must be a scalar, got an array of shape {x.shape}. Reduce it first "
                        f"(e.g. jnp.any / jnp.all), or use jnp.where for elementwise choice."
                        f"{user_source_line()}")
    if dtypes.is_float(x.dtype) and name == "switch index":
        raise TypeError(f"switch index must be an integer scalar, got {x.dtype}.{user_source_line()}")
    if not dtypes.is_bool(x.dtype) and name == "cond pred":
        x = ne(x, as_operand(0, x.dtype))
    return convert_element_type(x, np.int32)


def cond(pred, true_fun, false_fun, *operands, operand=None):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``, decided
    at run time (inside jit/vmap too).

    Args:
      pred: boolean (or number, compared with 0) scalar.
      true_fun, false_fun: functions of ``operands`` returning pytrees of the same
        structure, shapes and dtypes.
      operands: arrays or pytrees passed to the chosen branch.

    Returns:
      The chosen branch's output. Under ``vmap`` with a batched ``pred`` both
      branches run and the results are selected per example, as in JAX.
    """
    if operand is not None:
        operands = operands + (operand,)
    if not (callable(true_fun) and callable(false_fun)):
        raise TypeError("cond: true_fun and false_fun must be callables, got "
                        f"{type(true_fun).__name__} and {type(false_fun).__name__}.")
    return _switch(_as_index(pred, "cond pred"), (false_fun, true_fun), operands,
                   ("false_fun", "true_fun"))


def switch(index, branches, *operands, operand=None):
    """``branches[index](*operands)``, with ``index`` clamped to
    ``[0, len(branches) - 1]`` as in JAX; decided at run time.

    Args:
      index: integer scalar.
      branches: sequence of functions returning the same types.
      operands: passed to the chosen branch.
    """
    from .elementwise import clamp
    if operand is not None:
        operands = operands + (operand,)
    branches = tuple(branches)
    if not branches or not all(callable(b) for b in branches):
        raise TypeError("switch: branches must be a non-empty sequence of callables.")
    index = _as_index(index, "switch index")
    if len(branches) == 1:
        return branches[0](*operands)
    index = clamp(np.int32(0), index, np.int32(len(branches) - 1))
    return _switch(index, branches, operands, tuple(f"branch {i}" for i in range(len(branches))))


def _cond_jvp(primals, tangents, *, branches):
    index, ops, op_tangents = primals[0], primals[1:], tangents[1:]
    primal_outs = cond_p.bind(index, *ops, branches=branches)
    nonzeros = [type(t) is not Zero for t in op_tangents]
    n_out = len(primal_outs)
    out_nz = [False] * n_out
    for branch in branches:
        out_nz = [a or b for a, b in zip(out_nz, jvp_jaxpr(branch, nonzeros, [False] * n_out)[2])]
    staged = [jvp_jaxpr(branch, nonzeros, out_nz)[:2] for branch in branches]
    jvp_branches, consts = _join_consts(staged)
    live_tangents = [t for t in op_tangents if type(t) is not Zero]
    outs = cond_p.bind(index, *consts, *ops, *live_tangents, branches=jvp_branches)
    live = iter(outs[n_out:])
    return primal_outs, [next(live) if nz else Zero(tangent_aval(core.get_aval(p)))
                         for p, nz in zip(primal_outs, out_nz)]


def _cond_transpose(cts, index, *ops, branches):
    linear = [is_undefined_primal(x) for x in ops]
    known = [x for x in ops if not is_undefined_primal(x)]
    cts = [instantiate(ct) for ct in cts]

    def transposed(branch):
        def fun(*args):
            it = iter(args[:len(known)])
            linear_args = [UndefinedPrimal(x.aval) if lin else next(it) for x, lin in zip(ops, linear)]
            cts_in = backward_pass(branch.jaxpr, branch.consts, list(args[len(known):]), linear_args)
            return [instantiate(ct) for ct, lin in zip(cts_in, linear) if lin]
        return _stage(fun, [core.get_aval(x) for x in known] + [core.get_aval(c) for c in cts],
                      "cond transpose")
    t_branches, consts = _join_consts([transposed(b) for b in branches])
    cts_in = iter(cond_p.bind(index, *consts, *known, *cts, branches=t_branches))
    return [None] + [next(cts_in) if lin else None for lin in linear]


def _cond_batch(args, dims, size, axis_name, *, branches):
    from .elementwise import select_n
    from .shape import broadcast_in_dim
    index, ops, op_dims = args[0], args[1:], dims[1:]
    if dims[0] is not not_mapped:
        # A per-example predicate: every branch runs on the whole batch and the
        # results are selected per example.
        index = bdim_at_front(index, dims[0], size)
        outs = [batch_flat(lambda *xs, b=b: _eval(b, xs), list(ops), list(op_dims), size, axis_name)
                for b in branches]
        selected = [select_n(broadcast_in_dim(index, core.get_aval(cases[0]).shape, (0,)), *cases)
                    for cases in zip(*outs)]
        return selected, [0] * len(selected)
    in_batched = [d is not not_mapped for d in op_dims]
    n_out = len(branches[0].out_avals)
    out_batched = [False] * n_out
    for branch in branches:
        found = batch_jaxpr(branch, size, in_batched, [False] * n_out, axis_name)[2]
        out_batched = [a or b for a, b in zip(out_batched, found)]
    batched, consts = _join_consts([batch_jaxpr(b, size, in_batched, out_batched, axis_name)[:2]
                                    for b in branches])
    outs = cond_p.bind(index, *consts, *_moved(ops, op_dims, size, in_batched), branches=batched)
    return outs, [0 if b else not_mapped for b in out_batched]


def _cond_lower(ctx, eqn):
    # An if/elif chain; the branches are planned and printed inline.
    index, *operands = eqn.invars
    branches = eqn.params["branches"]
    args = [ctx.read(v) for v in operands]
    names = [ctx.fresh("r") for _ in eqn.outvars]
    which = ctx.read(index)
    for k, branch in enumerate(branches):
        if len(branches) == 1:
            head = "if True:"
        elif k == 0:
            head = f"if {which} <= 0:"
        elif k == len(branches) - 1:
            head = "else:"
        else:
            head = f"elif {which} == {k}:"
        ctx.emit(head)
        with ctx.indent():
            outs = ctx.lower_jaxpr(branch, args)
            _assign_all(ctx, names, outs)
    for var, name in zip(eqn.outvars, names):
        ctx.bind_name(var, name)


cond_p.def_jvp(_cond_jvp)
cond_p.def_transpose(_cond_transpose)
_def_batch(cond_p, _cond_batch)
cond_p.def_lowering(_cond_lower)


# --- loop carries ------------------------------------------------------------------------

def _trace_loop_body(name, body_flat, carry_avals, extra_avals, carry_tree):
    """Stage a loop body whose first ``len(carry_avals)`` outputs must have the
    carry's types. A carry whose input is weakly typed but whose output is not
    is retraced strongly typed, as JAX does. Returns ``(jaxpr, consts, carry_avals)``."""
    for _ in range(2):
        jaxpr, consts = _stage(body_flat, carry_avals + extra_avals, name)
        outs = jaxpr.out_avals[:len(carry_avals)]
        message = _type_mismatches(f"{name} must return a carry with the same types as its input carry",
                                   _leaf_paths(carry_tree), carry_avals, outs, "the input carry",
                                   "the output carry")
        if message:
            raise TypeError(f"{message}\nMake the initial value's dtype match what the body returns "
                            f"(e.g. init = jnp.float32(0) instead of 0).{user_source_line()}")
        weak_fix = [a.update(weak_type=False) if a.weak_type and not o.weak_type else a
                    for a, o in zip(carry_avals, outs)]
        if weak_fix == carry_avals:
            return jaxpr, consts, carry_avals
        carry_avals = weak_fix
    return jaxpr, consts, carry_avals


def _carry_fixpoint(flags, step):
    """The least superset of ``flags`` (one bool per carry: has a tangent, a batch
    axis, is linear) that ``step(flags)`` (the body's outputs' flags; only the
    first ``len(flags)`` count) leaves unchanged: a loop carry is X if its
    initial value is or any iteration makes it so."""
    flags = list(flags)
    while True:
        new = [a or b for a, b in zip(flags, step(flags))]
        if new == flags:
            return flags
        flags = new


def _cast_to(values, avals):
    from .elementwise import convert_element_type
    return [convert_element_type(v, a.dtype, weak_type=a.weak_type) for v, a in zip(values, avals)]


# --- while_loop / fori_loop --------------------------------------------------------------

def _while_abstract_eval(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    return list(avals[cond_nconsts + body_nconsts:])


def _while_eager(args, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cconsts, bconsts = args[:cond_nconsts], args[cond_nconsts:cond_nconsts + body_nconsts]
    carry = args[cond_nconsts + body_nconsts:]
    avals = [a.aval for a in carry]
    while bool(_eval(cond_jaxpr, cconsts + carry)[0]):
        carry = _fit(_eval(body_jaxpr, bconsts + carry), avals)
    return carry


while_p = _control_primitive("while", _while_eager)
while_p.def_abstract_eval(_while_abstract_eval)


def while_loop(cond_fun, body_fun, init_val):
    """``val = init_val; while cond_fun(val): val = body_fun(val)``, at run time.

    Args:
      cond_fun: ``val -> bool scalar``.
      body_fun: ``val -> val`` (same pytree structure, shapes and dtypes).
      init_val: the initial loop value (a pytree of arrays).

    Returns:
      The final value. Forward-mode differentiable (``jvp``/``jacfwd``); reverse
      mode needs a static trip count (``lax.scan`` or ``fori_loop`` with Python
      int bounds), as in JAX. Under ``vmap`` with a batched predicate the loop
      runs until every example is done, freezing finished ones.
    """
    leaves, tree = _operands(init_val)
    avals = [aval_of_argument(x) for x in leaves]

    def body_flat(*args):
        out_leaves, out_tree = tree_flatten(body_fun(tree_unflatten(tree, list(args))))
        if out_tree != tree:
            raise TypeError(f"while_loop body_fun must return the same pytree structure as init_val: "
                            f"got {out_tree}, expected {tree}.{user_source_line()}")
        return out_leaves
    body_jaxpr, body_consts, avals = _trace_loop_body("while_loop body_fun", body_flat, avals, [], tree)
    leaves = _cast_to(leaves, avals)

    def cond_flat(*args):
        out = cond_fun(tree_unflatten(tree, list(args)))
        out_leaves, _ = tree_flatten(out)
        if len(out_leaves) != 1 or core.get_aval(out_leaves[0]).shape != () or \
                not dtypes.is_bool(core.get_aval(out_leaves[0]).dtype):
            seen = ", ".join(core.get_aval(o).str_short() for o in out_leaves)
            raise TypeError(f"while_loop cond_fun must return a boolean scalar, got ({seen})."
                            f"{user_source_line()}")
        return out_leaves
    cond_jaxpr, cond_consts = _stage(cond_flat, avals, "while_loop cond_fun")
    outs = while_p.bind(*cond_consts, *body_consts, *leaves, cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr,
                        cond_nconsts=len(cond_consts), body_nconsts=len(body_consts))
    return tree_unflatten(tree, outs)


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    params = dict(cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr, cond_nconsts=cond_nconsts,
                  body_nconsts=body_nconsts)
    primal_outs = while_p.bind(*primals, **params)
    nc = cond_nconsts + body_nconsts
    cconsts, bconsts, init = primals[:cond_nconsts], primals[cond_nconsts:nc], primals[nc:]
    bconst_t, init_t = tangents[cond_nconsts:nc], tangents[nc:]
    bconst_nz = [type(t) is not Zero for t in bconst_t]
    carry_nz = [type(t) is not Zero for t in init_t]
    carry_nz = _carry_fixpoint(carry_nz, lambda nz: jvp_jaxpr(body_jaxpr, bconst_nz + nz, nz)[2])
    body, jconsts, _ = jvp_jaxpr(body_jaxpr, bconst_nz + carry_nz, carry_nz)
    # jvp_jaxpr's inputs are (jconsts, bconsts, carry, bconst tangents, carry tangents);
    # a while body takes its consts first, then the (primal, tangent) carry.
    nj, nb, nk, nbt = len(jconsts), len(bconsts), len(init), sum(bconst_nz)
    order = (list(range(nj + nb)) + list(range(nj + nb + nk, nj + nb + nk + nbt))
             + list(range(nj + nb, nj + nb + nk)) + list(range(nj + nb + nk + nbt, len(body.in_avals))))
    body = _reorder_invars(body, order)
    carry_t = [instantiate(t) for t, nz in zip(init_t, carry_nz) if nz]
    cond = _with_unused_invars(cond_jaxpr, [core.get_aval(t) for t in carry_t])
    live_bconst_t = [t for t in bconst_t if type(t) is not Zero]
    outs = while_p.bind(*cconsts, *jconsts, *bconsts, *live_bconst_t, *init, *carry_t, cond_jaxpr=cond,
                        body_jaxpr=body, cond_nconsts=cond_nconsts,
                        body_nconsts=nj + nb + nbt)
    live = iter(outs[nk:])
    return primal_outs, [next(live) if nz else Zero(tangent_aval(core.get_aval(p)))
                         for p, nz in zip(primal_outs, carry_nz)]


def _while_transpose(cts, *args, **params):
    raise ValueError(
        "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with dynamic "
        "start/stop values. Try using lax.scan, or using fori_loop with static (Python int) "
        "start/stop; forward mode (numbax.jvp, jacfwd) works with while_loop.")


def _while_batch(args, dims, size, axis_name, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    from .elementwise import select_n
    from .reduce import reduce_or
    from .shape import broadcast_in_dim
    nc = cond_nconsts + body_nconsts
    cconsts, bconsts, init = args[:cond_nconsts], args[cond_nconsts:nc], args[nc:]
    cdims, bdims, idims = dims[:cond_nconsts], dims[cond_nconsts:nc], dims[nc:]
    cconst_b, bconst_b = [d is not not_mapped for d in cdims], [d is not not_mapped for d in bdims]
    carry_b = [d is not not_mapped for d in idims]
    carry_b = _carry_fixpoint(carry_b, lambda b: batch_jaxpr(body_jaxpr, size, bconst_b + b, b, axis_name)[2])
    pred_batched = batch_jaxpr(cond_jaxpr, size, cconst_b + carry_b, [False], axis_name)[2][0]
    if pred_batched:
        carry_b = [True] * len(init)
    cconsts, bconsts = _moved(cconsts, cdims, size, cconst_b), _moved(bconsts, bdims, size, bconst_b)
    init = _moved(init, idims, size, carry_b)
    carry_avals = [core.get_aval(x) for x in init]
    if not pred_batched:
        bcond, cc, _ = batch_jaxpr(cond_jaxpr, size, cconst_b + carry_b, [False], axis_name)
        bbody, bc, _ = batch_jaxpr(body_jaxpr, size, bconst_b + carry_b, carry_b, axis_name)
        outs = while_p.bind(*cc, *cconsts, *bc, *bconsts, *init, cond_jaxpr=bcond, body_jaxpr=bbody,
                            cond_nconsts=len(cc) + len(cconsts), body_nconsts=len(bc) + len(bconsts))
        return outs, [0 if b else not_mapped for b in carry_b]
    # A per-example predicate: loop while any example is running; finished
    # examples keep their value (select), so each gets exactly its own trips.
    c_in, b_in = [0 if b else None for b in cconst_b], [0 if b else None for b in bconst_b]
    ncc, nbc = len(cconsts), len(bconsts)

    def lane_pred(cc, carry):
        return batch_flat(lambda *xs: _eval(cond_jaxpr, xs), list(cc) + list(carry),
                          c_in + [0] * len(carry), size, axis_name)[0]

    def any_cond(*xs):
        return [reduce_or(lane_pred(xs[:ncc], xs[ncc:]), (0,))]

    def masked_body(*xs):
        cc, bc, carry = xs[:ncc], xs[ncc:ncc + nbc], xs[ncc + nbc:]
        running = lane_pred(cc, carry)
        new = batch_flat(lambda *ys: _eval(body_jaxpr, ys), list(bc) + list(carry),
                         b_in + [0] * len(carry), size, axis_name)
        return [select_n(broadcast_in_dim(running, core.get_aval(old).shape, (0,)), old, upd)
                for old, upd in zip(carry, new)]
    cconst_avals = [core.get_aval(x) for x in cconsts]
    bconst_avals = [core.get_aval(x) for x in bconsts]
    new_cond, cc = _stage(any_cond, cconst_avals + carry_avals, "vmap while cond")
    new_body, bc = _stage(masked_body, cconst_avals + bconst_avals + carry_avals, "vmap while body")
    outs = while_p.bind(*cc, *cconsts, *bc, *cconsts, *bconsts, *init, cond_jaxpr=new_cond,
                        body_jaxpr=new_body, cond_nconsts=len(cc) + ncc, body_nconsts=len(bc) + ncc + nbc)
    return outs, [0] * len(outs)


def _while_lower(ctx, eqn):
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    reads = [ctx.read(v) for v in eqn.invars]
    cond_consts, body_consts, init = reads[:nc], reads[nc:nc + nb], reads[nc + nb:]
    carries = [ctx.fresh("c") for _ in init]
    _assign_all(ctx, carries, init)
    ctx.emit("while True:")
    with ctx.indent():
        (pred,) = ctx.lower_jaxpr(p["cond_jaxpr"], cond_consts + carries)
        ctx.emit(f"if not {pred}:")
        ctx.emit("    break")
        new = ctx.lower_jaxpr(p["body_jaxpr"], body_consts + carries)
        _assign_all(ctx, carries, new)
    for var, name in zip(eqn.outvars, carries):
        ctx.bind_name(var, name)


while_p.def_jvp(_while_jvp)
while_p.def_transpose(_while_transpose)
_def_batch(while_p, _while_batch)
while_p.def_lowering(_while_lower)


def _is_static_int(x):
    return isinstance(x, (int, np.integer)) or (type(x) is ArrayImpl and x.shape == ()
                                                and dtypes.is_int(x.dtype))


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``val = init_val; for i in range(lower, upper): val = body_fun(i, val)``.

    With concrete bounds (Python ints or concrete arrays) this is a ``scan``
    with a static trip count, so it is reverse-differentiable, as in JAX; with
    traced bounds it is a ``while_loop`` (forward-mode only).

    Args:
      lower, upper: integer scalars.
      body_fun: ``(i, val) -> val`` with ``i`` an int32 scalar (the bounds' dtype).
      init_val: the initial value (pytree).
    """
    from .elementwise import add, convert_element_type, lt
    if _is_static_int(lower) and _is_static_int(upper):
        lo, hi = int(lower), int(upper)
        typed = [b.dtype for b in (lower, upper) if hasattr(b, "dtype")]
        dtype = dtypes.canonicalize_dtype(typed[0] if typed else np.int32)

        def step(carry, _):
            i, val = carry
            return (add(i, as_operand(1, dtype)), body_fun(i, val)), None
        start = ArrayImpl(np.array(lo, dtype), not typed)  # Python int bounds: a weak int32 index
        (_, out), _ = scan(step, (start, init_val), None, length=max(hi - lo, 0),
                           unroll=1 if unroll is None else unroll)
        return out
    lower, upper = as_operand(lower), as_operand(upper)
    for name, b in (("lower", lower), ("upper", upper)):
        if b.shape != () or not dtypes.is_int(b.dtype):
            raise TypeError(f"fori_loop {name} must be an integer scalar, got {b.aval.str_short()}.")
    dtype = np.result_type(lower.dtype, upper.dtype)
    lower, upper = convert_element_type(lower, dtype), convert_element_type(upper, dtype)

    def cond_fun(carry):
        return lt(carry[0], carry[1])

    def body(carry):
        i, hi, val = carry
        return add(i, as_operand(1, dtype)), hi, body_fun(i, val)
    return while_loop(cond_fun, body, (lower, upper, init_val))[2]


# --- scan ----------------------------------------------------------------------------------

def _scan_abstract_eval(*avals, jaxpr, length, reverse, num_consts, num_carry, linear, unroll):
    carry = list(avals[num_consts:num_consts + num_carry])
    ys = [a.update(shape=(length,) + a.shape) for a in jaxpr.out_avals[num_carry:]]
    return carry + ys


def _scan_eager(args, *, jaxpr, length, reverse, num_consts, num_carry, linear, unroll):
    consts, carry = args[:num_consts], args[num_consts:num_consts + num_carry]
    xs = [x._value for x in args[num_consts + num_carry:]]
    x_weak = [x.weak_type for x in args[num_consts + num_carry:]]
    carry_avals = [c.aval for c in carry]
    y_avals = jaxpr.out_avals[num_carry:]
    ys = [np.empty((length,) + a.shape, a.dtype) for a in y_avals]
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = _eval(jaxpr, consts + carry + [ArrayImpl(x[i, ...], w) for x, w in zip(xs, x_weak)])
        carry = _fit(outs[:num_carry], carry_avals)
        for y, out in zip(ys, outs[num_carry:]):
            y[i] = np.asarray(out)
    return carry + [ArrayImpl(y, a.weak_type) for y, a in zip(ys, y_avals)]


scan_p = _control_primitive("scan", _scan_eager)
scan_p.def_abstract_eval(_scan_abstract_eval)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _split_transpose=False):
    """Loop ``f`` over the leading axis of ``xs``, carrying state::

        def scan(f, init, xs):
            carry, ys = init, []
            for x in xs:
                carry, y = f(carry, x)
                ys.append(y)
            return carry, stack(ys)

    Args:
      f: ``(carry, x) -> (carry, y)``; the carry keeps its structure and types.
      init: initial carry (pytree of arrays).
      xs: pytree of arrays with a common leading axis (or None with ``length``).
      length: trip count, needed when ``xs`` is None.
      reverse: iterate from the end; ``ys`` stay aligned with ``xs``.
      unroll: accepted for compatibility; the compiled loop decides unrolling.

    Returns:
      ``(final carry, ys)`` where each leaf of ``ys`` has shape ``(length, ...)``.
    """
    x_leaves, x_tree = _operands(xs)
    x_paths = _leaf_paths(x_tree)
    for path, x in zip(x_paths, x_leaves):
        if x.ndim == 0:
            raise ValueError(f"scan got a value with no leading axis to scan over: xs{path} has shape (). "
                             f"Every leaf of xs needs a leading axis of the trip count.")
    sizes = {x.shape[0] for x in x_leaves}
    if length is not None:
        length = int(length)
        sizes.add(length)
    if len(sizes) > 1:
        seen = ", ".join(f"xs{p} has {x.shape[0]}" for p, x in zip(x_paths, x_leaves))
        given = f" and length={length}" if length is not None else ""
        raise ValueError(f"scan got values with different leading axis sizes: {seen}{given}.")
    if not sizes:
        raise ValueError("scan got no values to scan over and `length` not provided; pass length=N.")
    length = sizes.pop()
    carry_leaves, carry_tree = _operands(init)
    carry_avals = [aval_of_argument(x) for x in carry_leaves]
    x_avals = [aval_of_argument(x) for x in x_leaves]
    x_avals = [a.update(shape=a.shape[1:]) for a in x_avals]
    n_carry = len(carry_leaves)
    y_tree_box = []

    def body_flat(*args):
        out = f(tree_unflatten(carry_tree, list(args[:n_carry])), tree_unflatten(x_tree, list(args[n_carry:])))
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"scan body function must return a pair (carry, y), got "
                            f"{type(out).__name__}.{user_source_line()}")
        c_leaves, c_tree = tree_flatten(out[0])
        if c_tree != carry_tree:
            raise TypeError(f"scan body function must return a carry with the same pytree structure as "
                            f"init: got {c_tree}, expected {carry_tree}.{user_source_line()}")
        y_leaves, y_tree = tree_flatten(out[1])
        y_tree_box.append(y_tree)
        return c_leaves + y_leaves
    jaxpr, consts, carry_avals = _trace_loop_body("scan body function", body_flat, carry_avals, x_avals,
                                                  carry_tree)
    carry_leaves = _cast_to(carry_leaves, carry_avals)
    n_in = len(consts) + n_carry + len(x_leaves)
    outs = scan_p.bind(*consts, *carry_leaves, *x_leaves, jaxpr=jaxpr, length=length, reverse=bool(reverse),
                       num_consts=len(consts), num_carry=n_carry, linear=(False,) * n_in,
                       unroll=int(unroll) if not isinstance(unroll, bool) else int(unroll))
    return tree_unflatten(carry_tree, outs[:n_carry]), tree_unflatten(y_tree_box[-1], outs[n_carry:])


def _scan_jvp(primals, tangents, *, jaxpr, length, reverse, num_consts, num_carry, linear, unroll):
    primal_outs = scan_p.bind(*primals, jaxpr=jaxpr, length=length, reverse=reverse, num_consts=num_consts,
                              num_carry=num_carry, linear=linear, unroll=unroll)
    nc, nk = num_consts, num_carry
    consts, init, xs = primals[:nc], primals[nc:nc + nk], primals[nc + nk:]
    const_nz = [type(t) is not Zero for t in tangents[:nc]]
    carry_nz = [type(t) is not Zero for t in tangents[nc:nc + nk]]
    xs_nz = [type(t) is not Zero for t in tangents[nc + nk:]]
    n_y = len(jaxpr.out_avals) - nk
    carry_nz = _carry_fixpoint(carry_nz, lambda nz: jvp_jaxpr(jaxpr, const_nz + nz + xs_nz, nz + [False] * n_y)[2])
    body, jconsts, out_nz = jvp_jaxpr(jaxpr, const_nz + carry_nz + xs_nz, carry_nz + [False] * n_y)
    y_nz = out_nz[nk:]
    # jvp_jaxpr takes (jconsts, consts, carry, xs, const_t, carry_t, xs_t); scan wants
    # (consts..., carry..., xs...) groups: reorder its inputs into
    # (jconsts, consts, const_t | carry, carry_t | xs, xs_t).
    nj, nx = len(jconsts), len(xs)
    nct, nkt, nxt = sum(const_nz), sum(carry_nz), sum(xs_nz)
    base = nj + nc + nk + nx
    groups = [range(nj + nc), range(base, base + nct), range(nj + nc, nj + nc + nk),
              range(base + nct, base + nct + nkt), range(nj + nc + nk, base),
              range(base + nct + nkt, base + nct + nkt + nxt)]
    body = _reorder_invars(body, [i for g in groups for i in g])
    # Its outputs are (carry, ys, carry_t, ys_t); scan wants (carry, carry_t | ys, ys_t).
    j = body.jaxpr
    outvars = j.outvars[:nk] + j.outvars[nk + n_y:nk + n_y + nkt] + j.outvars[nk:nk + n_y] + j.outvars[nk + n_y + nkt:]
    body = ClosedJaxpr(Jaxpr(j.constvars, j.invars, outvars, j.eqns), body.consts)
    const_t = [t for t in tangents[:nc] if type(t) is not Zero]
    carry_t = [instantiate(t) for t, nz in zip(tangents[nc:nc + nk], carry_nz) if nz]
    xs_t = [t for t in tangents[nc + nk:] if type(t) is not Zero]
    operands = [*jconsts, *consts, *const_t, *init, *carry_t, *xs, *xs_t]
    outs = scan_p.bind(*operands, jaxpr=body, length=length, reverse=reverse, num_consts=nj + nc + nct,
                       num_carry=nk + nkt, linear=(False,) * len(operands), unroll=unroll)
    carry_t_out = iter(outs[nk:nk + nkt])
    ys_t_out = iter(outs[nk + nkt + n_y:])
    t_out = [next(carry_t_out) if nz else Zero(tangent_aval(core.get_aval(p)))
             for p, nz in zip(primal_outs[:nk], carry_nz)]
    t_out += [next(ys_t_out) if nz else Zero(tangent_aval(core.get_aval(p)))
              for p, nz in zip(primal_outs[nk:], y_nz)]
    return primal_outs, t_out


def _scan_transpose(cts, *args, jaxpr, length, reverse, num_consts, num_carry, linear, unroll):
    from .elementwise import add
    nc, nk = num_consts, num_carry
    lin = [is_undefined_primal(a) for a in args]
    # A carry is linear if its body output depends on a linear input, even when
    # its initial value is a known constant (a tangent carry starting at zeros).
    k_lin = _carry_fixpoint(lin[nc:nc + nk], lambda k: _depends_on(jaxpr.jaxpr, lin[:nc] + k + lin[nc + nk:]))
    lin = lin[:nc] + k_lin + lin[nc + nk:]
    c_lin, k_lin, x_lin = lin[:nc], lin[nc:nc + nk], lin[nc + nk:]
    args = [UndefinedPrimal(core.get_aval(a)) if ll and not is_undefined_primal(a) else a
            for a, ll in zip(args, lin)]
    consts, init, xs = args[:nc], args[nc:nc + nk], args[nc + nk:]
    known_consts = [c for c, ll in zip(consts, c_lin) if not ll]
    known_xs = [x for x, ll in zip(xs, x_lin) if not ll]
    n_y = len(jaxpr.out_avals) - nk
    # 1. The non-linear carries (e.g. primal state recomputed by a tangent scan)
    #    do not depend on linear inputs: run them forward, stacking each step's
    #    value and the residuals, the non-linear values the linear equations
    #    read (say tanh(h @ w) of an RNN cell), so the backward body does not
    #    compute the primal step again (W8's RNN gradient: 600 -> 400 GEMMs).
    nl_carry = [k for k, ll in zip(init, k_lin) if not ll]
    body = jaxpr.jaxpr
    linear_eqns, residuals = _split_linear(body, lin)
    if not nl_carry:
        residuals = []  # without a forward scan the backward body computes them once anyway
    if nl_carry:
        with_residuals = Jaxpr(body.constvars, body.invars, body.outvars + residuals, body.eqns)
        fwd, used = dce_jaxpr(with_residuals, [not ll for ll in k_lin] + [False] * n_y + [True] * len(residuals))

        def fwd_body(*a):
            it = iter(a)
            full = [next(it) if not ll else None for ll in lin]
            new = core.eval_jaxpr(fwd, jaxpr.consts, *[v for v, u in zip(full, used) if u])
            carry_in = full[nc:nc + nk]
            n_new = len(new) - len(residuals)
            return list(new[:n_new]) + [c for c, ll in zip(carry_in, k_lin) if not ll] + list(new[n_new:])
        known_avals = [core.get_aval(a) for a, ll in zip(args, lin) if not ll]
        known_avals = known_avals[:len(known_consts) + len(nl_carry)] + \
            [a.update(shape=a.shape[1:]) for a in known_avals[len(known_consts) + len(nl_carry):]]
        fwd_jaxpr, fwd_consts = _stage(fwd_body, known_avals, "scan transpose forward")
        outs = scan_p.bind(*fwd_consts, *known_consts, *nl_carry, *known_xs, jaxpr=fwd_jaxpr, length=length,
                           reverse=reverse, num_consts=len(fwd_consts) + len(known_consts),
                           num_carry=len(nl_carry), linear=(False,) * (len(fwd_consts) + len(args) - sum(lin)),
                           unroll=unroll)
        stacked_carry = outs[len(nl_carry):len(outs) - len(residuals)]
        stacked_residuals = outs[len(outs) - len(residuals):]
    else:
        stacked_carry = stacked_residuals = []
    # The backward body: the linear equations alone, the residuals its extra inputs.
    reduced = Jaxpr(body.constvars, body.invars + residuals, body.outvars,
                    linear_eqns if residuals else body.eqns)
    # 2. The linear part, transposed, runs in the opposite direction: its carry is
    #    (const cotangent accumulators, carry cotangent); xs are (non-linear carry
    #    per step, non-linear xs, ys cotangents).
    ct_carry = [instantiate(ct) for ct, ll in zip(cts[:nk], k_lin) if ll]
    ct_ys = [instantiate(ct) for ct in cts[nk:]]
    lin_const_avals = [c.aval for c, ll in zip(consts, c_lin) if ll]
    from ..interpreters.jvp import zeros_like_aval
    ct_consts = [zeros_like_aval(a) for a in lin_const_avals]
    nlc, nkc, nkn = len(known_consts), len(ct_consts), len(nl_carry)
    nkl = len(ct_carry)

    n_res = len(residuals)

    def bwd_body(*a):
        kc, acc = a[:nlc], a[nlc:nlc + nkc]
        ct_k = a[nlc + nkc:nlc + nkc + nkl]
        rest = a[nlc + nkc + nkl:]
        k_nl, res = rest[:nkn], rest[nkn:nkn + n_res]
        x_nl, ct_y = rest[nkn + n_res:nkn + n_res + len(known_xs)], rest[nkn + n_res + len(known_xs):]
        kc_it, knl_it, xnl_it = iter(kc), iter(k_nl), iter(x_nl)
        linear_args = ([UndefinedPrimal(c.aval) if ll else next(kc_it) for c, ll in zip(consts, c_lin)]
                       + [UndefinedPrimal(k.aval) if ll else next(knl_it) for k, ll in zip(init, k_lin)]
                       + [UndefinedPrimal(x.aval.update(shape=x.aval.shape[1:])) if ll else next(xnl_it)
                          for x, ll in zip(xs, x_lin)])
        ct_k_it = iter(ct_k)
        cts_out = [next(ct_k_it) if ll else Zero(a_.aval) for a_, ll in zip(jaxpr.jaxpr.outvars[:nk], k_lin)]
        cts_out += list(ct_y)
        cts_in = backward_pass(reduced, jaxpr.consts, cts_out, linear_args + list(res))[:len(lin)]
        cts_in = [instantiate(ct) if ll else None for ct, ll in zip(cts_in, lin)]
        new_acc = [add(a_, ct) for a_, ct in zip(acc, [ct for ct, ll in zip(cts_in[:nc], c_lin) if ll])]
        new_ct_k = [ct for ct, ll in zip(cts_in[nc:nc + nk], k_lin) if ll]
        ct_x = [ct for ct, ll in zip(cts_in[nc + nk:], x_lin) if ll]
        return new_acc + new_ct_k + ct_x
    in_avals = ([core.get_aval(c) for c in known_consts] + lin_const_avals + [core.get_aval(c) for c in ct_carry]
                + [core.get_aval(k).update(shape=core.get_aval(k).shape[1:]) for k in stacked_carry]
                + [core.get_aval(r).update(shape=core.get_aval(r).shape[1:]) for r in stacked_residuals]
                + [core.get_aval(x).update(shape=core.get_aval(x).shape[1:]) for x in known_xs]
                + [core.get_aval(c).update(shape=core.get_aval(c).shape[1:]) for c in ct_ys])
    bwd_jaxpr, bwd_consts = _stage(bwd_body, in_avals, "scan transpose")
    operands = [*bwd_consts, *known_consts, *ct_consts, *ct_carry, *stacked_carry, *stacked_residuals, *known_xs,
                *ct_ys]
    outs = scan_p.bind(*operands, jaxpr=bwd_jaxpr, length=length, reverse=not reverse,
                       num_consts=len(bwd_consts) + nlc, num_carry=nkc + nkl,
                       linear=(False,) * len(operands), unroll=unroll)
    ct_c, ct_i, ct_x = iter(outs[:nkc]), iter(outs[nkc:nkc + nkl]), iter(outs[nkc + nkl:])
    return ([next(ct_c) if ll else None for ll in c_lin] + [next(ct_i) if ll else None for ll in k_lin]
            + [next(ct_x) if ll else None for ll in x_lin])


def _split_linear(jaxpr, in_lin):
    """``(linear_eqns, residuals)`` of a jaxpr linear in the inputs marked in
    ``in_lin``: the equations that read a linear value, and the values computed
    by the other equations that they read."""
    linear = {v for v, ll in zip(jaxpr.invars, in_lin) if ll}
    computed = set()
    linear_eqns, residuals = [], []
    for eqn in jaxpr.eqns:
        reads = [v for v in eqn.invars if not isinstance(v, core.Literal)]
        if any(v in linear for v in reads):
            linear.update(eqn.outvars)
            linear_eqns.append(eqn)
            residuals += [v for v in reads if v in computed and v not in residuals]
        else:
            computed.update(eqn.outvars)
    return linear_eqns, residuals


def _depends_on(jaxpr, in_mask):
    """Which outputs of ``jaxpr`` depend on the inputs marked in ``in_mask``."""
    marked = {v for v, m in zip(jaxpr.invars, in_mask) if m}
    for eqn in jaxpr.eqns:
        if any(v in marked for v in eqn.invars if not isinstance(v, core.Literal)):
            marked.update(eqn.outvars)
    return [not isinstance(v, core.Literal) and v in marked for v in jaxpr.outvars]


def _scan_batch(args, dims, size, axis_name, *, jaxpr, length, reverse, num_consts, num_carry, linear, unroll):
    from .shape import transpose
    nc, nk = num_consts, num_carry
    const_b = [d is not not_mapped for d in dims[:nc]]
    carry_b = [d is not not_mapped for d in dims[nc:nc + nk]]
    xs_b = [d is not not_mapped for d in dims[nc + nk:]]
    n_y = len(jaxpr.out_avals) - nk
    carry_b = _carry_fixpoint(carry_b, lambda b: batch_jaxpr(jaxpr, size, const_b + b + xs_b, b + [False] * n_y,
                                                             axis_name)[2])
    body, bconsts, out_b = batch_jaxpr(jaxpr, size, const_b + carry_b + xs_b, carry_b + [False] * n_y,
                                       axis_name)
    consts = _moved(args[:nc], dims[:nc], size, const_b)
    init = _moved(args[nc:nc + nk], dims[nc:nc + nk], size, carry_b)
    xs = []
    for x, d in zip(args[nc + nk:], dims[nc + nk:]):
        if d is not_mapped:
            xs.append(x)
        else:  # batch axis second, so each scanned slice has it first
            perm = [i for i in range(x.ndim) if i != d]
            perm.insert(1, d)
            xs.append(transpose(x, tuple(perm)) if perm != list(range(x.ndim)) else x)
    operands = [*bconsts, *consts, *init, *xs]
    outs = scan_p.bind(*operands, jaxpr=body, length=length, reverse=reverse,
                       num_consts=len(bconsts) + nc, num_carry=nk, linear=(False,) * len(operands),
                       unroll=unroll)
    return outs, [0 if b else not_mapped for b in carry_b] + [1 if b else not_mapped for b in out_b[nk:]]


# A matrix product in a scan body that reads only the consts and the xs is
# computed for every step at once before the loop (one GEMM instead of one per
# step: an RNN's input projection x_t @ u), up to this many stacked bytes.
HOIST_MAX_BYTES = 64 * 2**20


def _hoisted_products(body, n_consts, n_carry, length):
    """``(batched, batched_consts, body_rest, exported)`` when some dot_general
    of ``body`` (a ClosedJaxpr) depends on the xs but on no carry: ``batched``
    computes those products and what they read from ``(*batched_consts,
    *consts, *xs)`` for all steps at once (stacked outputs ``exported``);
    ``body_rest`` is the body reading them as extra xs. None when there is
    nothing to hoist."""
    jaxpr = body.jaxpr
    if body.consts or jaxpr.constvars:
        return None
    xs_vars = jaxpr.invars[n_consts + n_carry:]
    carry_dependent = set(jaxpr.invars[n_consts:n_consts + n_carry])
    per_step = set(xs_vars)  # values that change with the step but not with the carries
    for eqn in jaxpr.eqns:
        reads = [v for v in eqn.invars if not isinstance(v, Literal)]
        if eqn.primitive.is_debug_effect or any(v in carry_dependent for v in reads) or eqn.params.get("jaxpr"):
            carry_dependent.update(eqn.outvars)
        elif any(v in per_step for v in reads):
            per_step.update(eqn.outvars)
    wanted = {id(e) for e in jaxpr.eqns if e.primitive.name == "dot_general" and e.outvars[0] in per_step}
    if not wanted:
        return None
    # the products and the per-step values they are computed from
    needed = set()
    hoisted = []
    for eqn in reversed(jaxpr.eqns):
        if id(eqn) in wanted or any(v in needed for v in eqn.outvars):
            hoisted.append(eqn)
            needed.update(v for v in eqn.invars if not isinstance(v, Literal) and v in per_step)
    hoisted = hoisted[::-1]
    hoisted_ids = {id(e) for e in hoisted}
    rest = [e for e in jaxpr.eqns if id(e) not in hoisted_ids]
    read_later = {v for e in rest for v in e.invars if not isinstance(v, Literal)} | set(jaxpr.outvars)
    exported = [v for e in hoisted for v in e.outvars if v in read_later]
    if not exported or sum(v.aval.size * v.aval.dtype.itemsize for v in exported) * length > HOIST_MAX_BYTES:
        return None
    consts = jaxpr.invars[:n_consts]
    one_step = Jaxpr([], consts + xs_vars, exported, hoisted)
    batched, batched_consts, _ = batch_jaxpr(ClosedJaxpr(one_step, []), length,
                                             [False] * n_consts + [True] * len(xs_vars), [True] * len(exported))
    body_rest = Jaxpr([], jaxpr.invars + exported, jaxpr.outvars, rest)
    return batched, batched_consts, body_rest, exported


def _hoisted_accumulators(jaxpr, n_consts, n_carry, length):
    """Carries that only sum a matrix product of per-step values, ``c + a_t @ b_t``
    (optionally transposed), as reverse mode makes for every weight gradient
    of a scan: the loop stacks ``a_t`` and ``b_t`` instead (xs are stacked
    already), and one product contracting the step axis too computes the sum
    after the loop (one large GEMM instead of one small GEMM and one addition
    per step; the products are summed in another order).

    Returns ``(body, stacked, finals)`` or None: ``body`` is ``jaxpr`` (no
    consts) with those carries passed through unchanged and the per-step
    values it must stack appended to its outputs (``stacked``: one var each;
    xs are not stacked again); ``finals[k]`` is a Jaxpr of ``(carry k's
    initial value, stacked a, stacked b)`` giving carry k's final value."""
    from ..backends.plan import use_counts
    if jaxpr.constvars:
        return None
    uses = use_counts(jaxpr.eqns, jaxpr.outvars)
    producer = {v: e for e in jaxpr.eqns for v in e.outvars}
    consts = set(jaxpr.invars[:n_consts])
    found = {}
    for k in range(n_carry):
        carry, out = jaxpr.invars[n_consts + k], jaxpr.outvars[k]
        add = producer.get(out) if not isinstance(out, Literal) else None
        if add is None or add.primitive.name != "add" or uses.get(carry) != 1 or uses[out] != 1:
            continue
        if carry not in add.invars or add.invars[0] is add.invars[1]:
            continue
        term = add.invars[1] if add.invars[0] is carry else add.invars[0]
        if isinstance(term, Literal) or uses[term] != 1 or term.aval != out.aval or carry.aval != out.aval:
            continue
        product, flip = producer.get(term), None
        if product is not None and product.primitive.name == "transpose":
            flip, inner = product, product.invars[0]
            if isinstance(inner, Literal) or uses[inner] != 1:
                continue
            product = producer.get(inner)
        if product is None or product.primitive.name != "dot_general":
            continue
        if any(isinstance(v, Literal) or v in consts for v in product.invars):
            continue  # a loop-invariant factor: the sum of products is not one product over steps
        found[k] = (add, product, flip)
    if not found:
        return None
    dropped = {id(e) for parts in found.values() for e in parts if e is not None}
    xs_vars = jaxpr.invars[n_consts + n_carry:]
    stacked = []
    for _, product, _ in found.values():
        stacked += [v for v in product.invars if v not in xs_vars and v not in stacked]
    if sum(v.aval.size * v.aval.dtype.itemsize for v in stacked) * length > HOIST_MAX_BYTES:
        return None
    outvars = [jaxpr.invars[n_consts + k] if k in found else v for k, v in enumerate(jaxpr.outvars[:n_carry])]
    body = Jaxpr([], jaxpr.invars, outvars + list(jaxpr.outvars[n_carry:]) + stacked,
                 [e for e in jaxpr.eqns if id(e) not in dropped])
    finals = {}
    for k, (add, product, flip) in found.items():
        init = Var(jaxpr.invars[n_consts + k].aval)
        whole = [Var(v.aval.update(shape=(length, *v.aval.shape))) for v in product.invars]
        (lc, rc), (lb, rb) = product.params["dimension_numbers"]
        shift = lambda dims: tuple(d + 1 for d in dims)  # noqa: E731
        params = dict(product.params, dimension_numbers=(((0, *shift(lc)), (0, *shift(rc))), (shift(lb), shift(rb))))
        total = Var(product.outvars[0].aval)
        eqns = [JaxprEqn(whole, [total], product.primitive, params, product.source_info)]
        if flip is not None:
            flipped = Var(flip.outvars[0].aval)
            eqns.append(JaxprEqn([total], [flipped], flip.primitive, flip.params, flip.source_info))
            total = flipped
        final = Var(add.outvars[0].aval)
        eqns.append(JaxprEqn([init, total], [final], add.primitive, add.params, add.source_info))
        finals[k] = (Jaxpr([], [init, *whole], [final], eqns), product.invars)
    return body, stacked, finals


def _consts_read_transposed(jaxpr, n_consts):
    """Consts (2-D) that the body's products read only transposed: as the
    right operand contracting its last axis (``g @ w.T``, which reverse mode
    makes of every ``h @ w``). BLAS reads a transposed operand in place but
    packs it more slowly (a 16x128 @ (128x128).T product took 12.0 us
    against 8.8 us with a contiguous operand), and the loop would pay that
    every step, so the scan passes a transposed copy made once instead.

    Returns ``(body, positions)``: ``body`` is ``jaxpr`` reading the const at
    each of ``positions`` as its transpose (shape swapped, products adjusted),
    or None when there is no such const."""
    uses = {}
    for eqn in jaxpr.eqns:
        for k, v in enumerate(eqn.invars):
            if not isinstance(v, Literal):
                uses.setdefault(v, []).append((eqn, k))
    renamed, positions = {}, []
    for position, var in enumerate(jaxpr.invars[:n_consts]):
        if len(var.aval.shape) != 2 or var in jaxpr.outvars or var not in uses:
            continue
        if all(eqn.primitive.name == "dot_general" and k == 1 and eqn.invars[0] is not var
               and eqn.params["dimension_numbers"][0][1] == (1,) and not eqn.params["dimension_numbers"][1][0]
               for eqn, k in uses[var]):
            renamed[var] = Var(var.aval.update(shape=var.aval.shape[::-1]))
            positions.append(position)
    if not renamed:
        return None
    eqns = []
    for eqn in jaxpr.eqns:
        rhs = eqn.invars[1] if eqn.primitive.name == "dot_general" else None
        if rhs is not None and not isinstance(rhs, Literal) and rhs in renamed:
            (lc, _), batch = eqn.params["dimension_numbers"]
            params = dict(eqn.params, dimension_numbers=((lc, (0,)), batch))
            eqn = JaxprEqn([eqn.invars[0], renamed[rhs]], eqn.outvars, eqn.primitive, params, eqn.source_info)
        eqns.append(eqn)
    invars = [renamed.get(v, v) for v in jaxpr.invars]
    return Jaxpr(jaxpr.constvars, invars, jaxpr.outvars, eqns), positions


def _transposed(ctx, var, expr):
    """Print a C-contiguous transposed copy of the 2-D ``var`` (``expr``)."""
    from .shape import transpose_p
    out = Var(var.aval.update(shape=var.aval.shape[::-1]))
    copy = Jaxpr([], [var], [out], [JaxprEqn([var], [out], transpose_p, {"permutation": (1, 0)})])
    return ctx.lower_jaxpr(ClosedJaxpr(copy, []), [expr])[0]


def _scan_lower(ctx, eqn):
    # A for loop writing the stacked outputs in place; the body is printed inline,
    # so an iteration costs no dispatch.
    p = eqn.params
    n_consts, n_carry, length = p["num_consts"], p["num_carry"], p["length"]
    reads = [ctx.read(v) for v in eqn.invars]
    consts, init, xs = reads[:n_consts], reads[n_consts:n_consts + n_carry], reads[n_consts + n_carry:]
    body = p["jaxpr"]
    xs_vars = list(eqn.invars[n_consts + n_carry:])
    hoist = _hoisted_products(body, n_consts, n_carry, length) if length > 1 and xs_vars else None
    if hoist is not None:
        batched, batched_consts, body_rest, exported = hoist
        xs = xs + ctx.lower_jaxpr(batched, [ctx.constant(c) for c in batched_consts] + consts + xs)
        xs_vars += [Var(v.aval.update(shape=(length, *v.aval.shape))) for v in exported]
        body = ClosedJaxpr(body_rest, [])
    accumulate = _hoisted_accumulators(body.jaxpr, n_consts, n_carry, length) \
        if length > 1 and not body.consts else None
    stacked, finals = [], {}
    if accumulate is not None:
        body_jaxpr, stacked, finals = accumulate
        body = ClosedJaxpr(body_jaxpr, [])
    transposed = _consts_read_transposed(body.jaxpr, n_consts) if length > 1 else None
    if transposed is not None:
        body_jaxpr, positions = transposed
        consts = list(consts)
        for position in positions:
            consts[position] = _transposed(ctx, body.jaxpr.invars[position], consts[position])
        body = ClosedJaxpr(body_jaxpr, body.consts)
    ys = []
    for aval in [v.aval for v in eqn.outvars[n_carry:]] + [v.aval.update(shape=(length, *v.aval.shape))
                                                          for v in stacked]:
        name = ctx.fresh("ys")
        ctx.emit(f"{name} = {ctx.empty(aval)}")
        ys.append(name)
    sliced = [not isinstance(x, Literal) for x in xs_vars]
    carries = _scan_in_row_blocks(ctx, body, consts, init, xs, sliced, ys, p) if not body.consts else None
    if carries is None:
        carries = [ctx.fresh("c") for _ in init]
        _assign_all(ctx, carries, init)
        _scan_steps(ctx, body, consts, carries, xs, sliced, ys, p)
    whole = dict(zip(body.jaxpr.invars[n_consts + n_carry:], xs))
    whole.update(zip(stacked, ys[len(eqn.outvars) - n_carry:]))
    for k, (final, factors) in finals.items():
        carries[k] = ctx.lower_jaxpr(ClosedJaxpr(final, []), [carries[k]] + [whole[v] for v in factors])[0]
    for var, name in zip(eqn.outvars, carries + ys):
        ctx.bind_name(var, name)


def _scan_steps(ctx, body, consts, carries, xs, sliced, ys, params, block=None):
    """Print the loop over steps: ``carries`` (names, reassigned each step)
    and the per-step slices of ``xs`` (expressions of the whole arrays; read
    as is where not ``sliced``: a literal) in, rows of ``ys`` out. ``block``:
    ``(first_row, rows)`` expressions when the loop computes only those rows
    of the carries, xs and ys."""
    n_carry, length = params["num_carry"], params["length"]
    rows = "" if block is None else f", {block[0]}:{block[0]} + {block[1]}"
    step, t = ctx.fresh("step"), ctx.fresh("t")
    ctx.emit(f"for {step} in range({length}):")
    with ctx.indent():
        ctx.emit(f"{t} = {length - 1} - {step}" if params["reverse"] else f"{t} = {step}")
        slices = []
        for x, whole in zip(xs, sliced):
            if not whole:
                slices.append(x)
                continue
            name = ctx.fresh("x")
            ctx.emit(f"{name} = {x}[{t}{rows}]")
            slices.append(name)
        outs = ctx.lower_jaxpr(body, consts + carries + slices)
        for name, y in zip(ys, outs[n_carry:]):
            ctx.emit(f"{name}[{t}{rows}] = {y}")
        _assign_all(ctx, carries, outs[:n_carry])


def _scan_in_row_blocks(ctx, body, consts, init, xs, sliced, ys, params):
    """When the body is row independent (``rows.split_rows``) and the loop is
    large, print it as one function over a block of rows, called for each
    block in a numba-parallel loop, and return the names of the final
    carries; else print nothing and return None."""
    from ..backends import rows
    n_consts, n_carry, length = params["num_consts"], params["num_carry"], params["length"]
    jaxpr = body.jaxpr
    batch = rows.batch_size(jaxpr, n_consts, n_carry)
    if ctx.serial or batch is None or rows.work(jaxpr, length) < rows.PARALLEL_WORK:
        return None
    count = rows.blocks(batch, rows.threads())
    size = batch // count
    split = rows.split_rows(jaxpr, n_consts, n_carry, size) if count > 1 else None
    if split is None or not all(sliced):
        return None
    unchanged = rows.unchanged_carries(jaxpr, n_consts, n_carry)
    child, name = ctx.helper("scan_rows")
    first = child.fresh("first")
    names = {"k": consts, "c": init, "xs": xs, "ys": ys}
    parameters = {prefix: [child.fresh(prefix) for _ in exprs] for prefix, exprs in names.items()}
    finals = {k: child.fresh("out") for k in range(n_carry) if not unchanged[k]}
    carries = [child.fresh("c") for _ in init]
    _assign_all(child, carries, [c if unchanged[k] else f"{c}[{first}:{first} + {size}]"
                                 for k, c in enumerate(parameters["c"])])
    _scan_steps(child, ClosedJaxpr(split, []), parameters["k"], carries, parameters["xs"], sliced,
                parameters["ys"], params, block=(first, size))
    for k, out in finals.items():
        child.emit(f"{out}[{first}:{first} + {size}] = {carries[k]}")
    if child.holds_gil or child.parallel_kernels:
        return None  # (not expected: split_rows admits no callbacks or kernels with threads)
    ctx.add_helper(name, [first] + [n for prefix in names for n in parameters[prefix]] + list(finals.values()),
                   child)
    results = list(init)
    for k in finals:
        results[k] = ctx.fresh("c")
        ctx.emit(f"{results[k]} = {ctx.empty(jaxpr.invars[n_consts + k].aval)}")
    block, previous = ctx.fresh("block"), ctx.fresh("blas")
    ctx.emit(f"{previous} = rt.blas_threads(1)  # the blocks' products: one BLAS thread each")
    ctx.emit(f"for {block} in numba.prange({count}):")
    with ctx.indent():
        arguments = consts + init + xs + ys + [results[k] for k in finals]
        ctx.emit(f"{name}({block} * {size}, {', '.join(arguments)})")
    ctx.emit(f"rt.blas_threads({previous})")
    ctx.uses_prange = True
    return results


scan_p.def_jvp(_scan_jvp)
scan_p.def_transpose(_scan_transpose)
_def_batch(scan_p, _scan_batch)
scan_p.def_lowering(_scan_lower)


def map(f, xs, *, batch_size=None):  # noqa: A001
    """``stack([f(x) for x in xs])`` over the leading axis of ``xs`` (a pytree),
    as a ``scan``: one compiled loop, one example at a time.

    Args:
      f: function of one example.
      xs: pytree of arrays with a common leading axis.
      batch_size: when given, examples run ``batch_size`` at a time through
        ``vmap(f)`` (the remainder in a final vmap).
    """
    if batch_size is None:
        return scan(lambda _, x: ((), f(x)), (), xs)[1]
    from ..vmap import vmap
    from ..tree_util import tree_map
    from .shape import concatenate, reshape, slice_in_dim
    leaves, _ = tree_flatten(xs)
    n = core.get_aval(leaves[0]).shape[0]
    batch_size = int(batch_size)
    full, rest = divmod(n, batch_size)
    parts = []
    if full:
        head = tree_map(lambda x: reshape(slice_in_dim(x, 0, full * batch_size),
                                          (full, batch_size) + tuple(x.shape[1:])), xs)
        ys = scan(lambda _, x: ((), vmap(f)(x)), (), head)[1]
        parts.append(tree_map(lambda y: reshape(y, (full * batch_size,) + tuple(y.shape[2:])), ys))
    if rest:
        parts.append(vmap(f)(tree_map(lambda x: slice_in_dim(x, full * batch_size, n), xs)))
    if len(parts) == 1:
        return parts[0]
    return tree_map(lambda a, b: concatenate([a, b], 0), *parts)


# --- associative_scan ------------------------------------------------------------------------

def associative_scan(fn, elems, reverse=False, axis=0):
    """Inclusive scan of an associative binary ``fn`` along ``axis`` of every
    leaf of ``elems``, in O(log n) parallel steps (the odd/even recursion of
    Blelloch), built from slices and concatenations.

    Args:
      fn: associative ``(a, b) -> c`` on pytrees shaped like ``elems`` slices,
        applied elementwise over the scanned axis.
      elems: pytree of arrays sharing the length of ``axis``.
      reverse: scan from the end.

    Returns:
      A pytree like ``elems``: element i combines elements 0..i (or i..n-1).
    """
    from .shape import concatenate, expand_dims, pad, reshape, rev, slice_in_dim
    leaves, tree = tree_flatten(elems)
    leaves = [as_operand(x) for x in leaves]
    if not leaves:
        return elems
    axis = axis % leaves[0].ndim
    n = leaves[0].shape[axis]
    if any(x.shape[axis] != n for x in leaves):
        raise ValueError(f"associative_scan: every leaf of elems needs the same length along axis {axis}, "
                         f"got {[x.shape[axis] for x in leaves]}.")
    if reverse:
        leaves = [rev(x, (axis,)) for x in leaves]

    def combine(a, b):
        out, out_tree = tree_flatten(fn(tree_unflatten(tree, a), tree_unflatten(tree, b)))
        if out_tree != tree:
            raise TypeError(f"associative_scan fn must return the structure of elems ({tree}), got {out_tree}.")
        return out

    def sl(xs, start, stop, step=1):
        return [slice_in_dim(x, start, stop, step, axis) for x in xs]

    def interleave(even, odd):
        # even has ceil(m/2) elements and odd floor(m/2): pad odd to even's length,
        # stack the pairs on a new axis, merge it into the scanned one, trim.
        out = []
        for e, o in zip(even, odd):
            m = e.shape[axis] + o.shape[axis]
            if o.shape[axis] < e.shape[axis]:
                cfg = [(0, 0, 0)] * o.ndim
                cfg[axis] = (0, 1, 0)
                o = pad(o, as_operand(0, o.dtype), cfg)
            pairs = concatenate([expand_dims(e, (axis + 1,)), expand_dims(o, (axis + 1,))], axis + 1)
            shape = e.shape[:axis] + (2 * e.shape[axis],) + e.shape[axis + 1:]
            out.append(slice_in_dim(reshape(pairs, shape), 0, m, 1, axis))
        return out

    def recurse(xs):
        m = xs[0].shape[axis]
        if m < 2:
            return xs
        reduced = combine(sl(xs, 0, m - 1, 2), sl(xs, 1, m, 2))
        odd = recurse(reduced)
        if m % 2 == 0:
            even = combine(sl(odd, 0, len_of(odd) - 1), sl(xs, 2, m, 2))
        else:
            even = combine(odd, sl(xs, 2, m, 2))
        even = [concatenate([slice_in_dim(x, 0, 1, 1, axis), e], axis) for x, e in zip(xs, even)]
        return interleave(even, odd)

    def len_of(xs):
        return xs[0].shape[axis]

    out = recurse(leaves)
    if reverse:
        out = [rev(x, (axis,)) for x in out]
    return tree_unflatten(tree, out)
