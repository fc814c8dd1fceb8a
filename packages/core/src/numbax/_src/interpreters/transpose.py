"""Reverse mode: ``linearize`` (JVP over a partial-evaluation trace, which
stages the tangent computation as a linear jaxpr) and the transpose of that
jaxpr (``backward_pass``), giving ``vjp`` and ``grad`` from the JVP rules plus
one transpose rule per linear primitive.
"""

from .. import core
from ..core import Literal
from .jvp import JVPTracer, JVPTrace, Zero, add_tangents, instantiate, tangent_aval
from .partial_eval import PartialEvalTrace


class UndefinedPrimal:
    """Stands for a linear input of an equation while transposing it."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined_primal(x):
    return type(x) is UndefinedPrimal


def linearize_flat(fun, primals, description="linearize"):
    """``(primals_out, linear_jaxpr, out_zero_mask)``: the linear jaxpr maps
    input tangents to the non-zero output tangents; its constvars hold the
    residuals computed by the forward pass."""
    parent = core.current_trace()
    pe = PartialEvalTrace(parent, description)
    tangent_args = [pe.new_arg(tangent_aval(core.get_aval(p))) for p in primals]
    jvp_trace = JVPTrace(pe, description)
    tracers = [JVPTracer(jvp_trace, p, t) for p, t in zip(primals, tangent_args)]
    try:
        with core.set_current_trace(jvp_trace):
            outs = fun(*tracers)
        pairs = [jvp_trace.lift(o) for o in outs]
    finally:
        jvp_trace.invalidate()
    primals_out = [p for p, _ in pairs]
    tangents_out = [t for _, t in pairs]
    zero_mask = [type(t) is Zero for t in tangents_out]
    try:
        # A non-zero tangent output that is a known value (it did not depend on
        # the input tangents) becomes a constant of the linear jaxpr.
        closed = pe.to_jaxpr(tangent_args, [t for t in tangents_out if type(t) is not Zero])
    finally:
        pe.invalidate()
    return primals_out, closed, zero_mask


def backward_pass(jaxpr, consts, cts_out, linear_args=None):
    """Transpose a jaxpr that is linear in some of its inputs.

    ``linear_args[i]`` says whether invar i is a linear input (default: all
    are) and otherwise gives its value. Equations that depend on no linear
    input are evaluated forward first (e.g. a remat recomputation); the rest
    are transposed in reverse order with their primitives' transpose rules.
    Returns one cotangent per linear input (``Zero`` where it has none)."""
    if linear_args is None:
        linear_args = [UndefinedPrimal(v.aval) for v in jaxpr.invars]
    known = dict(zip(jaxpr.constvars, consts))
    linear_vars = set()
    for var, arg in zip(jaxpr.invars, linear_args):
        if is_undefined_primal(arg):
            linear_vars.add(var)
        else:
            known[var] = arg

    def read(v):
        return v.val if isinstance(v, Literal) else known[v]

    linear_eqns = []
    for eqn in jaxpr.eqns:
        if any(not isinstance(v, Literal) and v in linear_vars for v in eqn.invars):
            linear_vars.update(eqn.outvars)
            linear_eqns.append(eqn)
        else:
            outs = eqn.primitive.bind(*map(read, eqn.invars), **eqn.params)
            known.update(zip(eqn.outvars, outs if eqn.primitive.multiple_results else [outs]))

    ct_env = {}

    def write_ct(var, ct):
        if isinstance(var, Literal) or var not in linear_vars or type(ct) is Zero or ct is None:
            return
        ct_env[var] = add_tangents(ct_env[var], ct) if var in ct_env else ct

    for var, ct in zip(jaxpr.outvars, cts_out):
        write_ct(var, ct)

    for eqn in reversed(linear_eqns):
        cts = [ct_env.pop(v, None) for v in eqn.outvars]
        if all(ct is None for ct in cts):
            continue
        cts = [instantiate(ct) if ct is not None else instantiate(Zero(v.aval))
               for ct, v in zip(cts, eqn.outvars)]
        invals = [UndefinedPrimal(v.aval) if not isinstance(v, Literal) and v in linear_vars else read(v)
                  for v in eqn.invars]
        rule = eqn.primitive.transpose_rule
        if rule is None:
            raise NotImplementedError(
                f"Reverse-mode differentiation of '{eqn.primitive.name}' is not implemented: the "
                f"primitive has no transpose rule (needed because it is applied to tangents). Use "
                f"forward mode (numbax.jvp / jacfwd) or add a transpose rule next to "
                f"{eqn.primitive.name}_p's definition.")
        ct_arg = cts if eqn.primitive.multiple_results else cts[0]
        cts_in = rule(ct_arg, *invals, **eqn.params)
        for v, ct in zip(eqn.invars, cts_in):
            write_ct(v, ct)
    return [ct_env.get(v, Zero(v.aval)) if is_undefined_primal(arg) else None
            for v, arg in zip(jaxpr.invars, linear_args)]
