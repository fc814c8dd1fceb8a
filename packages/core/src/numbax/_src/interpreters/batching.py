"""Vectorization: the batch trace behind ``vmap``.

A ``BatchTracer`` holds a value with one extra axis, ``bdim`` (or
``not_mapped`` when the value is the same for every example). The trace looks
up the primitive's ``batch_rule(args, dims, **params) -> (out, out_dims)``
and runs it in the parent trace, so one batched call replaces a loop over the
examples; nesting (vmap of vmap, vmap of grad) needs nothing special.
"""

from .. import core
from ..core import Tracer

not_mapped = None


class BatchTracer(Tracer):
    __slots__ = ("val", "bdim")

    def __init__(self, trace, val, bdim):
        self._trace = trace
        self.val = val
        self.bdim = bdim

    @property
    def aval(self):
        aval = core.get_aval(self.val)
        if self.bdim is not_mapped:
            return aval
        shape = aval.shape[:self.bdim] + aval.shape[self.bdim + 1:]
        return aval.update(shape=shape)

    def to_concrete_value(self):
        return None


class BatchTrace(core.Trace):
    def __init__(self, parent, axis_size, axis_name=None, description="vmap"):
        super().__init__()
        self.parent = parent
        self.axis_size = axis_size
        self.axis_name = axis_name
        self.description = description

    def lift(self, x):
        if isinstance(x, BatchTracer) and x._trace is self:
            return x.val, x.bdim
        if isinstance(x, Tracer):
            core.check_tracer_alive(x)
        return x, not_mapped

    def process_primitive(self, primitive, args, params):
        vals, dims = zip(*map(self.lift, args)) if args else ((), ())
        if primitive.collective_batch_rule is not None:
            # Collectives (psum over a named axis, ...) need this trace's axis
            # name and size even when their operands are not batched.
            with core.set_current_trace(self.parent):
                out, out_dims = primitive.collective_batch_rule(self, list(vals), list(dims), **params)
            return self._wrap_all(primitive, out, out_dims)
        if all(d is not_mapped for d in dims):
            with core.set_current_trace(self.parent):
                return primitive.bind(*vals, **params)
        rule = primitive.batch_rule
        if rule is None:
            raise NotImplementedError(
                f"vmap of '{primitive.name}' is not implemented: the primitive has no batch rule. "
                f"numbax.lax.map(f, xs) runs f once per example instead; or add a batch rule next "
                f"to {primitive.name}_p's definition.")
        with core.set_current_trace(self.parent):
            out, out_dims = rule(list(vals), list(dims), **params)
        return self._wrap_all(primitive, out, out_dims)

    def _wrap_all(self, primitive, out, out_dims):
        if primitive.multiple_results:
            return [self.wrap(o, d) for o, d in zip(out, out_dims)]
        return self.wrap(out, out_dims)

    def wrap(self, val, bdim):
        return val if bdim is not_mapped else BatchTracer(self, val, bdim)


def batch_flat(fun, args, in_dims, axis_size, axis_name=None, out_dims=None):
    """Run ``fun`` on flat lists of arrays with batch axes ``in_dims`` (None:
    not batched); returns outputs with their batch axis moved to ``out_dims``
    (None: outputs must be unbatched; default 0)."""
    trace = BatchTrace(core.current_trace(), axis_size, axis_name)
    tracers = [BatchTracer(trace, a, d) if d is not not_mapped else a for a, d in zip(args, in_dims)]
    try:
        with core.set_current_trace(trace):
            outs = fun(*tracers)
        pairs = [trace.lift(o) for o in outs]
    finally:
        trace.invalidate()
    if out_dims is None:
        out_dims = [0] * len(pairs)
    elif hasattr(out_dims, "resolve"):
        out_dims = out_dims.resolve()
    return [move_batch_axis(val, bdim, axis_size, dst) for (val, bdim), dst in zip(pairs, out_dims)]


# --- helpers for batch rules ---------------------------------------------------------------

def move_batch_axis(x, src, size, dst):
    """Move batch axis ``src`` of ``x`` to ``dst``; an unbatched ``x`` (src None)
    is broadcast along a new axis ``dst`` of ``size``; ``dst`` None requires
    ``x`` to be unbatched."""
    from ..lax.shape import broadcast_in_dim, transpose
    if dst is not_mapped:
        if src is not not_mapped:
            raise ValueError("vmap: an output with out_axes=None must not depend on the mapped axis.")
        return x
    aval = core.get_aval(x)
    if src is not_mapped:
        ndim = aval.ndim + 1
        dst = dst % ndim
        shape = aval.shape[:dst] + (size,) + aval.shape[dst:]
        dims = tuple(i for i in range(ndim) if i != dst)
        return broadcast_in_dim(x, shape, dims)
    dst = dst % aval.ndim
    if src == dst:
        return x
    perm = [i for i in range(aval.ndim) if i != src]
    perm.insert(dst, src)
    return transpose(x, tuple(perm))


def bdim_at_front(x, bdim, size):
    """``x`` with its batch axis first (broadcast if it has none)."""
    return move_batch_axis(x, bdim, size, 0)


def batch_jaxpr(closed, axis_size, in_batched, force_out, axis_name=None):
    """A closed jaxpr batched along a new leading axis of the inputs marked in
    ``in_batched``, for higher-order primitives (control flow) whose bodies must
    be batched as a whole. Outputs marked in ``force_out`` are batched even if
    they do not depend on a batched input. ``axis_name`` names the axis for
    collectives in the body (``lax.psum(x, axis_name)``).

    Returns ``(batched_jaxpr, consts, out_batched)``: ``batched_jaxpr`` takes
    ``(*consts, *inputs)`` with batched inputs' batch axis first, and returns
    outputs with the batch axis first where ``out_batched``."""
    from .partial_eval import closure_convert
    out_batched_box = []

    def fun(*args):
        trace = BatchTrace(core.current_trace(), axis_size, axis_name)
        tracers = [BatchTracer(trace, a, 0) if b else a for a, b in zip(args, in_batched)]
        try:
            with core.set_current_trace(trace):
                outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *tracers)
            pairs = [trace.lift(o) for o in outs]
        finally:
            trace.invalidate()
        out_batched = [d is not not_mapped or force for (_, d), force in zip(pairs, force_out)]
        out_batched_box.append(out_batched)
        return [move_batch_axis(v, d, axis_size, 0) if b else v for (v, d), b in zip(pairs, out_batched)]

    in_avals = [a.update(shape=(axis_size,) + a.shape) if b else a for a, b in zip(closed.in_avals, in_batched)]
    jaxpr, consts = closure_convert(fun, in_avals, "vmap")
    return jaxpr, consts, out_batched_box[0]
