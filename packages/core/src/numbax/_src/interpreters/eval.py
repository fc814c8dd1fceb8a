"""Eager evaluation: the trace at the bottom of every stack.

``EvalTrace.process_primitive`` runs a primitive's NumPy ``impl`` on concrete
buffers and wraps the result in ``ArrayImpl``. Elementwise primitives may
install an ``eager_fast_path`` (tried by ``Primitive.bind`` before this trace)
that skips building abstract values when all operands already agree: this
keeps one eager op near a bare NumPy call.
"""

import warnings

import numpy as np

from .. import core
from ..array import ArrayImpl, to_canonical_numpy
from ..core import Tracer, check_tracer_alive


class EvalTrace(core.Trace):
    is_eager = True

    def __init__(self):
        super().__init__()
        self.description = "eager evaluation"

    def process_primitive(self, primitive, args, params):
        # Primitive.bind has already tried primitive.eager_fast_path.
        values, avals = [], []
        for x in args:
            if type(x) is ArrayImpl:
                value = x._value
                values.append(value)
                avals.append(core.ShapedArray(value.shape, value.dtype, x.weak_type))
                continue
            if isinstance(x, Tracer):
                check_tracer_alive(x)
                raise core.UnexpectedTracerError(
                    f"{primitive.name} received a tracer ({x.aval.str_short()}) of "
                    f"{x._trace.description} outside that transformation. Tracers must not "
                    f"leave the function being transformed.{core.user_source_line()}")
            value, weak = to_canonical_numpy(x)
            values.append(value)
            avals.append(core.ShapedArray(value.shape, value.dtype, weak))
        out_avals = primitive.abstract_eval(*avals, **params)
        if primitive.impl is None:
            raise NotImplementedError(f"primitive {primitive.name} has no eager implementation")
        out = primitive.impl(*values, **params)
        if primitive.multiple_results:
            return [wrap_output(o, a) for o, a in zip(out, out_avals)]
        return wrap_output(out, out_avals)


def wrap_output(value, aval):
    """Wrap an impl's NumPy result, coercing it to the abstract dtype and
    checking it has the abstract shape (an impl bug must not pass silently)."""
    if type(value) is not np.ndarray or value.dtype != aval.dtype:
        value = np.asarray(value, dtype=aval.dtype)
    if value.shape != aval.shape:
        raise AssertionError(f"impl produced shape {value.shape}, abstract_eval {aval.shape}")
    return ArrayImpl(value, aval.weak_type)


core.bottom_trace = core.trace_state.trace = EvalTrace()

# Like XLA, numbax computes inf/nan at domain edges (log(0), x/0, overflow)
# silently. NumPy warns, attributing the warning to the calling frame, which
# is one of numbax's impl modules: a filter scoped to those modules and to
# NumPy's floating-point messages silences exactly these, at no per-call cost
# (np.errstate would cost about 1.4us per operation).
warnings.filterwarnings(
    "ignore", message=r"(overflow|invalid value|divide by zero|underflow) encountered",
    category=RuntimeWarning, module=r"numbax\._src\.")
