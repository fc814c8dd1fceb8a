"""Forward-mode differentiation: the JVP trace, symbolic zero tangents, and
helpers for declaring JVP rules.

A ``JVPTracer`` carries a ``primal`` and a ``tangent``; the trace looks up the
primitive's ``jvp_rule(primals, tangents, **params) -> (primal_out,
tangent_out)`` and runs it in the *parent* trace, so nesting (``jvp`` of
``jvp``, ``jvp`` inside ``make_jaxpr``) needs nothing special. Tangents of
values that do not depend on the inputs are ``Zero`` objects, never arrays,
so ignoring most inputs stays cheap.
"""

import numpy as np

from .. import core, dtypes
from ..core import Tracer


class Zero:
    """A symbolic zero tangent (or cotangent) of type ``aval``."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


def tangent_aval(aval):
    """Tangents of floats have the primal's type; integers and bools have none
    (JAX's float0); we represent theirs as symbolic zeros of the primal type."""
    return aval.strip_weak_type()


def zeros_like_aval(aval):
    from ..lax.shape import broadcast_in_dim
    from ..array import ArrayImpl
    return broadcast_in_dim(ArrayImpl(np.zeros((), aval.dtype)), aval.shape, ())


def instantiate(tangent):
    """A real array for a possibly symbolic tangent."""
    return zeros_like_aval(tangent.aval) if type(tangent) is Zero else tangent


def is_differentiable(aval):
    return dtypes.is_float(aval.dtype)


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        return core.get_aval(self.primal)

    def to_concrete_value(self):
        primal = self.primal
        if isinstance(primal, Tracer):
            return primal.to_concrete_value()
        return primal


class JVPTrace(core.Trace):
    def __init__(self, parent, description="jvp"):
        super().__init__()
        self.parent = parent
        self.description = description

    def lift(self, x):
        """``(primal, tangent)`` of any argument; foreign values have zero tangent."""
        if isinstance(x, JVPTracer) and x._trace is self:
            return x.primal, x.tangent
        if isinstance(x, Tracer):
            core.check_tracer_alive(x)
        return x, Zero(tangent_aval(core.get_aval(x)))

    def process_primitive(self, primitive, args, params):
        primals, tangents = zip(*map(self.lift, args)) if args else ((), ())
        if all(type(t) is Zero for t in tangents):
            with core.set_current_trace(self.parent):
                return primitive.bind(*primals, **params)
        rule = primitive.jvp_rule
        if rule is None:
            raise NotImplementedError(
                f"Differentiation rule for '{primitive.name}' is not implemented: the primitive has "
                f"no jvp rule. Wrap the computation in numbax.custom_jvp or numbax.custom_vjp to "
                f"supply a derivative, or add a jvp rule next to {primitive.name}_p's definition.")
        with core.set_current_trace(self.parent):
            primal_out, tangent_out = rule(list(primals), list(tangents), **params)
        if primitive.multiple_results:
            return [self.wrap(p, t) for p, t in zip(primal_out, tangent_out)]
        return self.wrap(primal_out, tangent_out)

    def wrap(self, primal, tangent):
        if type(tangent) is Zero:
            return primal
        return JVPTracer(self, primal, tangent)


def jvp_flat(fun, primals, tangents, description="jvp"):
    """Run ``fun`` on flat lists; returns flat ``(primals_out, tangents_out)``
    with symbolic ``Zero`` tangents where outputs do not depend on the inputs."""
    trace = JVPTrace(core.current_trace(), description)
    tracers = [trace.wrap(p, t) if type(t) is not Zero else JVPTracer(trace, p, t)
               for p, t in zip(primals, tangents)]
    try:
        with core.set_current_trace(trace):
            outs = fun(*tracers)
        pairs = [trace.lift(o) for o in outs]
    finally:
        trace.invalidate()
    return [p for p, _ in pairs], [t for _, t in pairs]


# --- declaring rules ------------------------------------------------------------------

def _sum_of_contributions(primitive, tangent_fns, pass_output):
    def rule(primals, tangents, **params):
        primal_out = primitive.bind(*primals, **params)
        total = Zero(tangent_aval(core.get_aval(primal_out)))
        for fn, t in zip(tangent_fns, tangents):
            if fn is None or type(t) is Zero:
                continue
            extra = (primal_out,) if pass_output else ()
            total = add_tangents(total, fn(t, *extra, *primals, **params))
        return primal_out, total
    primitive.def_jvp(rule)
    return rule


def defjvp(primitive, *tangent_fns):
    """JVP from one function per operand: ``fn(g, *primals, **params)`` gives
    that operand's contribution to the output tangent (None: not differentiable
    in that operand). Contributions of non-zero tangents are summed."""
    return _sum_of_contributions(primitive, tangent_fns, pass_output=False)


def defjvp2(primitive, *tangent_fns):
    """Like ``defjvp`` but each fn also gets the primal output:
    ``fn(g, ans, *primals, **params)`` (e.g. exp's tangent is ``g * ans``)."""
    return _sum_of_contributions(primitive, tangent_fns, pass_output=True)


def deflinear(primitive, transpose_rule):
    """A primitive linear in all its operands: its JVP applies it to the
    tangents, and ``transpose_rule(ct, *operands, **params)`` gives cotangents."""
    def rule(primals, tangents, **params):
        primal_out = primitive.bind(*primals, **params)
        tangent_out = primitive.bind(*map(instantiate, tangents), **params)
        return primal_out, tangent_out
    primitive.def_jvp(rule)
    primitive.def_transpose(transpose_rule)


def add_tangents(x, y):
    if type(x) is Zero:
        return y
    if type(y) is Zero:
        return x
    from ..lax.elementwise import add
    return add(x, y)


def jvp_jaxpr(closed, nonzeros, instantiate_out):
    """The JVP of a closed jaxpr as a closure-converted jaxpr, for higher-order
    primitives (control flow) whose bodies must be differentiated as a whole.

    ``nonzeros[i]`` says whether input i has a (non-symbolic) tangent;
    ``instantiate_out[i]`` forces output i's tangent to be materialized.
    Returns ``(jvp_jaxpr, consts, out_nonzeros)``: ``jvp_jaxpr`` takes
    ``(*consts, *primals, *nonzero_tangents)`` and returns
    ``(*primal_outs, *nonzero_tangent_outs)``."""
    from .partial_eval import closure_convert, drop_debug_effects
    n = len(nonzeros)
    out_nonzeros_box = []
    # The primitive's primal bind already ran any debug.print of the body.
    closed = drop_debug_effects(closed)

    def fun(*args):
        primals, live = list(args[:n]), iter(args[n:])
        tangents = [next(live) if nz else Zero(tangent_aval(core.get_aval(p)))
                    for p, nz in zip(primals, nonzeros)]
        outs, out_tangents = jvp_flat(lambda *xs: core.eval_jaxpr(closed.jaxpr, closed.consts, *xs),
                                      primals, tangents)
        out_nz = [type(t) is not Zero or (inst and is_differentiable(core.get_aval(o)))
                  for o, t, inst in zip(outs, out_tangents, instantiate_out)]
        out_nonzeros_box.append(out_nz)
        return list(outs) + [instantiate(t) for t, nz in zip(out_tangents, out_nz) if nz]

    in_avals = list(closed.in_avals) + [tangent_aval(a) for a, nz in zip(closed.in_avals, nonzeros) if nz]
    jaxpr, consts = closure_convert(fun, in_avals, "jvp")
    return jaxpr, consts, out_nonzeros_box[0]
