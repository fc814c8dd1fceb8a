"""Staging a Python function into a jaxpr.

``JaxprTrace`` records every primitive bound while it is current as an
equation; its tracers know only their abstract value. Concrete arrays (and
tracers of outer transformations) that the function closes over become
constvars; 0-d constants are inlined as literals.
"""

import numpy as np

from .. import core
from ..array import ArrayImpl, to_canonical_numpy
from ..config import config
from ..core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, ShapedArray, Tracer, Var
from ..errors import user_frame


class JaxprTracer(Tracer):
    __slots__ = ("_aval", "var")

    def __init__(self, trace, aval, var):
        self._trace = trace
        self._aval = aval
        self.var = var

    @property
    def aval(self):
        return self._aval


class JaxprTrace(core.Trace):
    def __init__(self, description="make_jaxpr"):
        super().__init__()
        self.description = description
        self.eqns = []
        self.const_vars = {}   # id(value) -> Var
        self.const_values = []  # keeps the values alive, in constvar order

    def new_arg(self, aval):
        return JaxprTracer(self, aval, Var(aval))

    def to_atom(self, x):
        if isinstance(x, JaxprTracer) and x._trace is self:
            return x.var
        if isinstance(x, Tracer):
            core.check_tracer_alive(x)
            return self._const_var(x, x.aval)
        if type(x) is not ArrayImpl:
            value, weak = to_canonical_numpy(x)
            x = ArrayImpl(value, weak)
        aval = x.aval
        if not aval.shape:
            return Literal(x, aval)
        return self._const_var(x, aval.strip_weak_type() if aval.weak_type else aval)

    def _const_var(self, value, aval):
        var = self.const_vars.get(id(value))
        if var is None:
            var = self.const_vars[id(value)] = Var(aval)
            self.const_values.append((var, value))
        return var

    def process_primitive(self, primitive, args, params):
        atoms = [self.to_atom(x) for x in args]
        out = primitive.abstract_eval(*[a.aval for a in atoms], **params)
        out_avals = out if primitive.multiple_results else [out]
        out_tracers = [self.new_arg(aval) for aval in out_avals]
        self.eqns.append(JaxprEqn(atoms, [t.var for t in out_tracers], primitive, params, user_frame()))
        return out_tracers if primitive.multiple_results else out_tracers[0]

    def to_jaxpr(self, in_tracers, out_values):
        outvars = [self.to_atom(x) for x in out_values]
        constvars = [var for var, _ in self.const_values]
        consts = [value for _, value in self.const_values]
        jaxpr = Jaxpr(constvars, [t.var for t in in_tracers], outvars, self.eqns)
        if config.numbax_check_jaxprs:
            core.check_jaxpr(jaxpr)
        return ClosedJaxpr(jaxpr, consts)


def trace_to_jaxpr(fun, in_avals, description="make_jaxpr"):
    """Stage ``fun`` (taking and returning flat lists of arrays) to a ClosedJaxpr."""
    trace = JaxprTrace(description)
    in_tracers = [trace.new_arg(aval) for aval in in_avals]
    try:
        with core.set_current_trace(trace):
            outs = fun(*in_tracers)
        return trace.to_jaxpr(in_tracers, outs)
    finally:
        trace.invalidate()


def closure_convert(flat_fun, in_avals, description="closure_convert"):
    """Stage ``flat_fun`` to ``(closed_jaxpr, consts)`` where the jaxpr takes the
    values it closes over as leading invars and ``consts`` are those values.
    Higher-order primitives pass ``consts`` as operands, so outer
    transformations see them (a closed-over tracer is not hidden in a param)."""
    closed = trace_to_jaxpr(flat_fun, in_avals, description)
    jaxpr = closed.jaxpr
    converted = Jaxpr([], jaxpr.constvars + jaxpr.invars, jaxpr.outvars, jaxpr.eqns)
    return ClosedJaxpr(converted, []), closed.consts


def aval_of_argument(x):
    """The abstract value a traced argument gets (Python scalars are weak)."""
    if isinstance(x, ShapedArray):
        return x
    shape_dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if not isinstance(x, (core.Array, np.ndarray, np.generic, bool, int, float)) and None not in shape_dtype:
        from .. import dtypes
        return ShapedArray(shape_dtype[0], dtypes.canonicalize_dtype(shape_dtype[1]),
                           getattr(x, "weak_type", False))
    return core.get_aval(x)


class PartialEvalTrace(JaxprTrace):
    """Stages only what depends on its own (unknown) inputs; everything else is
    computed right away in the parent trace and enters the jaxpr as a constant.
    ``linearize`` runs a JVP on top of it: primal work is computed, tangent work
    (linear in the unknown tangents) is staged into the linear jaxpr."""

    def __init__(self, parent, description="linearize"):
        super().__init__(description)
        self.parent = parent

    def process_primitive(self, primitive, args, params):
        if not any(isinstance(x, JaxprTracer) and x._trace is self for x in args):
            with core.set_current_trace(self.parent):
                return primitive.bind(*args, **params)
        return super().process_primitive(primitive, args, params)


def dce_jaxpr(jaxpr, used_outputs):
    """Dead-code elimination: a jaxpr computing only the outputs marked in
    ``used_outputs``, and the mask of inputs it still reads. Constvars are kept."""
    live = {v for v, used in zip(jaxpr.outvars, used_outputs) if used and not isinstance(v, Literal)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(v for v in eqn.invars if not isinstance(v, Literal))
    used_inputs = [v in live for v in jaxpr.invars]
    new = Jaxpr(jaxpr.constvars, [v for v, u in zip(jaxpr.invars, used_inputs) if u],
                [v for v, used in zip(jaxpr.outvars, used_outputs) if used], kept[::-1])
    return new, used_inputs


def drop_debug_effects(jaxpr):
    """``jaxpr`` (a Jaxpr or ClosedJaxpr) without its debug effects (``debug.print``),
    in sub-jaxprs too. They have no outputs, so nothing else changes; the code
    that recomputes primal values for derivatives uses this so a print runs once."""
    if isinstance(jaxpr, ClosedJaxpr):
        inner = drop_debug_effects(jaxpr.jaxpr)
        return jaxpr if inner is jaxpr.jaxpr else ClosedJaxpr(inner, jaxpr.consts)
    eqns, changed = [], False
    for eqn in jaxpr.eqns:
        if eqn.primitive.is_debug_effect:
            changed = True
            continue
        params = {k: _drop_in_param(v) for k, v in eqn.params.items()}
        if any(params[k] is not v for k, v in eqn.params.items()):
            changed = True
            eqn = JaxprEqn(eqn.invars, eqn.outvars, eqn.primitive, params, eqn.source_info)
        eqns.append(eqn)
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns) if changed else jaxpr


def _drop_in_param(value):
    if isinstance(value, (Jaxpr, ClosedJaxpr)):
        return drop_debug_effects(value)
    if isinstance(value, tuple) and value and all(isinstance(v, (Jaxpr, ClosedJaxpr)) for v in value):
        new = tuple(drop_debug_effects(v) for v in value)
        return value if all(a is b for a, b in zip(new, value)) else new
    return value


def has_debug_effects(eqn):
    """Whether the equation is a debug effect or carries one in a sub-jaxpr (a
    print in a loop body): dead-code elimination must keep it."""
    if eqn.primitive.is_debug_effect:
        return True
    for value in eqn.params.values():
        for sub in (value if isinstance(value, tuple) else (value,)):
            if isinstance(sub, (Jaxpr, ClosedJaxpr)):
                jaxpr = sub.jaxpr if isinstance(sub, ClosedJaxpr) else sub
                if any(has_debug_effects(e) for e in jaxpr.eqns):
                    return True
    return False
