"""CPU lowerings of the control-flow primitives (``lax/control_flow.py``):
``cond`` becomes an ``if``/``elif`` chain, ``while`` a ``while True`` loop,
``scan`` a ``for`` loop writing the stacked outputs in place. Their bodies are
planned and printed inline, in the same numba function, so a loop costs no
dispatch per iteration.

Registered here rather than next to the primitives because control_flow.py
is the control-flow family's own module; the rules only use the lowering
context, so they move there unchanged if preferred.
"""

from ..core import Literal


def _assign_all(ctx, names, exprs):
    """Simultaneous assignment: a loop body may swap its carries."""
    if names:
        ctx.emit(f"{', '.join(names)}, = ({', '.join(exprs)},)")


def _cond_lower(ctx, eqn):
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


def _scan_lower(ctx, eqn):
    p = eqn.params
    n_consts, n_carry, length = p["num_consts"], p["num_carry"], p["length"]
    reads = [ctx.read(v) for v in eqn.invars]
    consts, init, xs = reads[:n_consts], reads[n_consts:n_consts + n_carry], reads[n_consts + n_carry:]
    carries = [ctx.fresh("c") for _ in init]
    _assign_all(ctx, carries, init)
    ys = []
    for var in eqn.outvars[n_carry:]:
        name = ctx.fresh("ys")
        ctx.emit(f"{name} = {ctx.empty(var.aval)}")
        ys.append(name)
    step, t = ctx.fresh("step"), ctx.fresh("t")
    ctx.emit(f"for {step} in range({length}):")
    with ctx.indent():
        ctx.emit(f"{t} = {length - 1} - {step}" if p["reverse"] else f"{t} = {step}")
        slices = []
        for x, expr in zip(eqn.invars[n_consts + n_carry:], xs):
            if isinstance(x, Literal):
                slices.append(expr)
                continue
            name = ctx.fresh("x")
            ctx.emit(f"{name} = {expr}[{t}]")
            slices.append(name)
        outs = ctx.lower_jaxpr(p["jaxpr"], consts + carries + slices)
        for name, y in zip(ys, outs[n_carry:]):
            ctx.emit(f"{name}[{t}] = {y}")
        _assign_all(ctx, carries, outs[:n_carry])
    for var, name in zip(eqn.outvars, carries + ys):
        ctx.bind_name(var, name)


def register():
    from ..lax import control_flow
    control_flow.cond_p.def_lowering(_cond_lower, "cpu")
    control_flow.while_p.def_lowering(_while_lower, "cpu")
    control_flow.scan_p.def_lowering(_scan_lower, "cpu")
