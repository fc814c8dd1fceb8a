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


def backward_pass(jaxpr, consts, cts_out):
    """Transpose a linear jaxpr: cotangents of its outputs -> cotangents of its
    inputs (``Zero`` where an input does not affect the outputs). Every
    equation must be linear in its non-constant inputs."""
    linear_vars = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        linear_vars.update(eqn.outvars)
    known = dict(zip(jaxpr.constvars, consts))
    ct_env = {}

    def write_ct(var, ct):
        if isinstance(var, Literal) or var not in linear_vars or type(ct) is Zero or ct is None:
            return
        ct_env[var] = add_tangents(ct_env[var], ct) if var in ct_env else ct

    for var, ct in zip(jaxpr.outvars, cts_out):
        write_ct(var, ct)

    for eqn in reversed(jaxpr.eqns):
        cts = [ct_env.pop(v, None) for v in eqn.outvars]
        if all(ct is None for ct in cts):
            continue
        cts = [instantiate(ct) if ct is not None else instantiate(Zero(v.aval))
               for ct, v in zip(cts, eqn.outvars)]
        invals = []
        for v in eqn.invars:
            if isinstance(v, Literal):
                invals.append(v.val)
            elif v in linear_vars:
                invals.append(UndefinedPrimal(v.aval))
            else:
                invals.append(known[v])
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
    return [ct_env.get(v, Zero(v.aval)) for v in jaxpr.invars]
