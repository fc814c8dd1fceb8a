"""The engine's core: abstract values, primitives, traces and tracers, and the
jaxpr IR with its printer, typechecker and evaluator.

Tracing is "stackless", as in current JAX: there is one *current trace* (a
thread-local). ``bind`` hands a primitive application to it. A transformation
(jvp, vmap, staging to a jaxpr) installs its trace as current, runs the user's
function, and computes its own work by binding primitives in its *parent*
trace. Every tracer remembers the trace that made it; a tracer reaching a
trace that is not its own is treated as a constant of that trace, and a
tracer whose trace has ended raises ``UnexpectedTracerError``.

Read next: ``interpreters/eval.py`` (eager evaluation), then
``lax/elementwise.py`` (how primitives are declared).
"""

import contextlib
import itertools
import math
import threading

import numpy as np

from . import dtypes
from .errors import (NumbaxTypeError, TracerArrayConversionError, TracerBoolConversionError,
                     TracerIntegerConversionError, UnexpectedTracerError, user_source_line)


# --- abstract values -----------------------------------------------------------

class ShapedArray:
    """What a trace knows about an array: its shape, dtype and whether its
    type is weak (it came from a Python scalar)."""

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape = shape if type(shape) is tuple else tuple(int(d) for d in shape)
        self.dtype = dtype if type(dtype) is np.dtype or isinstance(dtype, np.dtype) else np.dtype(dtype)
        self.weak_type = bool(weak_type)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def update(self, shape=None, dtype=None, weak_type=None):
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type)

    def strip_weak_type(self):
        return self.update(weak_type=False) if self.weak_type else self

    def __eq__(self, other):
        return (type(other) is ShapedArray and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.weak_type))

    def str_short(self):
        return f"{dtypes.short_name(self.dtype)}[{','.join(map(str, self.shape))}]"

    __str__ = str_short

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.dtype.name}{list(self.shape)}{weak})"


def get_aval(x):
    """The ``ShapedArray`` of an array, tracer, NumPy value or Python scalar."""
    aval = getattr(x, "aval", None)
    if aval is not None:
        return aval
    dtype, weak = dtypes.dtype_and_weak_of(x)
    return ShapedArray(np.shape(x), dtype, weak)


def typeof(x):
    return get_aval(x)


# --- primitives -----------------------------------------------------------------

class Primitive:
    """A named operation with a table of rules, each set by one ``def_*`` call
    next to the primitive's definition:

    - ``impl(*numpy_arrays, **params)``: eager evaluation on NumPy buffers;
    - ``abstract_eval(*avals, **params)``: output ShapedArray(s), raising
      ``NumbaxTypeError`` for bad shapes/dtypes;
    - ``jvp``, ``transpose``, ``batch`` and per-backend ``lowering`` rules, used by
      the transformations that look them up (a missing rule is a clear error).

    Params are keyword arguments with hashable values, so jaxprs compare and cache.
    """

    multiple_results = False

    def __init__(self, name, multiple_results=False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl = None
        self.abstract_eval_rule = None
        self.jvp_rule = None
        self.transpose_rule = None
        self.batch_rule = None
        self.collective_batch_rule = None  # rule(trace, args, dims) for named-axis collectives
        self.lowerings = {}
        self.eager_fast_path = None
        # A print-like effect with no outputs (debug.print): dropped from code
        # that recomputes primal values (tangent bodies), so it runs once.
        self.is_debug_effect = False

    def __repr__(self):
        return self.name

    def bind(self, *args, **params):
        trace = trace_state.trace
        if trace.is_eager and self.eager_fast_path is not None:
            out = self.eager_fast_path(args, params)
            if out is not None:
                return out
        return trace.process_primitive(self, args, params)

    def def_impl(self, impl):
        self.impl = impl
        return impl

    def def_abstract_eval(self, rule):
        self.abstract_eval_rule = rule
        return rule

    def def_jvp(self, rule):
        self.jvp_rule = rule
        return rule

    def def_transpose(self, rule):
        self.transpose_rule = rule
        return rule

    def def_batch(self, rule):
        self.batch_rule = rule
        return rule

    def def_lowering(self, rule, backend="all"):
        self.lowerings[backend] = rule
        return rule

    def abstract_eval(self, *avals, **params):
        """Output aval(s), with the user's source line added to type errors."""
        try:
            return self.abstract_eval_rule(*avals, **params)
        except NumbaxTypeError as err:
            if getattr(err, "_numbax_located", False):
                raise
            located = NumbaxTypeError(f"{err}{user_source_line()}")
            located._numbax_located = True
            raise located from None


def shape_error(prim_name, message, *avals):
    """A ``NumbaxTypeError`` naming the primitive and the operand types."""
    seen = ", ".join(str(a) for a in avals)
    return NumbaxTypeError(f"{prim_name} {message} (got {seen}).")


# --- traces and tracers ---------------------------------------------------------

class Trace:
    """Base class of transformations. Subclasses implement ``process_primitive``
    (and, for higher-order primitives, whatever their rules need)."""

    is_eager = False  # only the EvalTrace at the bottom computes values directly

    def __init__(self):
        self.is_valid = True
        self.description = type(self).__name__

    def process_primitive(self, primitive, args, params):
        raise NotImplementedError

    def invalidate(self):
        self.is_valid = False


bottom_trace = None  # the EvalTrace, installed by interpreters/eval.py


class _TraceState(threading.local):
    def __init__(self):
        self.trace = bottom_trace  # every thread starts at eager evaluation


trace_state = _TraceState()


@contextlib.contextmanager
def set_current_trace(trace):
    previous = trace_state.trace
    trace_state.trace = trace
    try:
        yield trace
    finally:
        trace_state.trace = previous


def current_trace():
    return trace_state.trace


class Array:
    """Base class of everything array-like in numbax: concrete arrays
    (``ArrayImpl``) and the tracers transformations pass through user code.
    ``isinstance(x, numbax.Array)`` is true for both, as in JAX. Operators and
    methods are attached by ``numbax.numpy`` (see ``_src/numpy/array_methods.py``).
    """

    __slots__ = ()
    __array_priority__ = 100

    def __setitem__(self, index, value):
        raise TypeError(
            f"numbax arrays are immutable: '{type(self).__name__}' object does not support "
            "item assignment. Use x = x.at[index].set(value) (or .add/.multiply/.min/.max) "
            "to get an updated copy.")

    __hash__ = None


class Tracer(Array):
    """An abstract stand-in for an array while a transformation traces.

    Subclasses hold their transformation's data (e.g. ``primal, tangent``) and
    a ``_trace``; ``aval`` gives the shape and dtype."""

    __slots__ = ("_trace",)

    @property
    def aval(self):
        raise NotImplementedError

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)
    weak_type = property(lambda self: self.aval.weak_type)

    def to_concrete_value(self):
        """The concrete value behind this tracer if its trace knows it, else None.
        (A jvp tracer knows its primal; a staging tracer knows nothing.)"""
        return None

    def _concrete_or_raise(self, error_class, what):
        value = self.to_concrete_value()
        if value is not None:
            return value
        raise error_class(
            f"{what} on a traced {self.aval.str_short()} inside {self._trace.description}. "
            "Its value is not known while tracing, only its shape and dtype. For "
            "data-dependent control flow use numbax.lax.cond / lax.switch / "
            "lax.while_loop / lax.fori_loop, or numbax.numpy.where; or, if the value "
            "does not depend on the inputs being traced, mark the argument static with "
            "jit(f, static_argnums=...) (or static_argnames=...)."
            f"{user_source_line()}")

    def __bool__(self):
        what = "Python bool() (an `if`, `while`, `and`, `or` or `not`)"
        return bool(self._concrete_or_raise(TracerBoolConversionError, what))

    def __int__(self):
        return int(self._concrete_or_raise(TracerIntegerConversionError, "Python int()"))

    def __float__(self):
        return float(self._concrete_or_raise(TracerIntegerConversionError, "Python float()"))

    def __index__(self):
        what = "Using a traced value as a Python index (__index__)"
        return int(self._concrete_or_raise(TracerIntegerConversionError, what))

    def __complex__(self):
        return complex(self._concrete_or_raise(TracerIntegerConversionError, "Python complex()"))

    def __array__(self, dtype=None, copy=None):
        raise TracerArrayConversionError(
            f"np.asarray() (or another NumPy function) was called on a traced "
            f"{self.aval.str_short()} inside {self._trace.description}. NumPy cannot see "
            "inside a trace: use numbax.numpy functions instead of numpy ones, or "
            "numbax.pure_callback to run host code." f"{user_source_line()}")

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        return f"Traced<{self.aval!r}>with<{self._trace.description}>"


def check_tracer_alive(tracer):
    """Raise ``UnexpectedTracerError`` if the tracer's transformation has ended."""
    if not tracer._trace.is_valid:
        raise UnexpectedTracerError(
            f"Encountered a tracer ({tracer.aval.str_short()}) created by "
            f"{tracer._trace.description} after that transformation had finished: it escaped, "
            "e.g. by being stored in a global, an attribute or a list outside the "
            "function. Return it from the transformed function instead."
            f"{user_source_line()}")


# --- the jaxpr IR -----------------------------------------------------------------

class Var:
    """A variable of a jaxpr; named (a, b, c, ...) only when printed."""

    __slots__ = ("aval", "_id")
    _counter = itertools.count()

    def __init__(self, aval):
        self.aval = aval
        self._id = next(Var._counter)

    def __repr__(self):
        return f"Var({self.aval.str_short()})"


class DropVar(Var):
    """An output nobody reads; printed as ``_``."""


class Literal:
    """A scalar constant inlined into an equation (printed ``2.0:f32[]``).
    ``val`` is a concrete 0-d numbax array (it keeps the weak type)."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval):
        self.val = val
        self.aval = aval

    def __repr__(self):
        return f"Literal({_literal_text(self)})"


class JaxprEqn:
    __slots__ = ("invars", "outvars", "primitive", "params", "source_info")

    def __init__(self, invars, outvars, primitive, params, source_info=None):
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.primitive = primitive
        self.params = params
        self.source_info = source_info

    def __repr__(self):
        return pp_eqn(self, _Namer())


class Jaxpr:
    """``{ lambda constvars ; invars . let eqns in outvars }``."""

    __slots__ = ("constvars", "invars", "outvars", "eqns")

    def __init__(self, constvars, invars, outvars, eqns):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.eqns = list(eqns)

    in_avals = property(lambda self: [v.aval for v in self.invars])
    out_avals = property(lambda self: [v.aval for v in self.outvars])

    def __str__(self):
        return pp_jaxpr(self)

    __repr__ = __str__

    def pretty_print(self):
        return pp_jaxpr(self)


class ClosedJaxpr:
    """A jaxpr together with the values of its constvars."""

    __slots__ = ("jaxpr", "consts")

    def __init__(self, jaxpr, consts):
        self.jaxpr = jaxpr
        self.consts = list(consts)

    in_avals = property(lambda self: self.jaxpr.in_avals)
    out_avals = property(lambda self: self.jaxpr.out_avals)
    eqns = property(lambda self: self.jaxpr.eqns)

    def __str__(self):
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__

    def pretty_print(self):
        return pp_jaxpr(self.jaxpr)


# --- printing ---------------------------------------------------------------------

def _alphabetic_name(n):
    """0 -> a, 25 -> z, 26 -> ba, as JAX names variables."""
    name = ""
    while not name or n:
        n, digit = divmod(n, 26)
        name = chr(ord("a") + digit) + name
    return name


class _Namer:
    def __init__(self):
        self.names = {}

    def __call__(self, var):
        if isinstance(var, Literal):
            return _literal_text(var)
        if isinstance(var, DropVar):
            return "_"
        if var not in self.names:
            self.names[var] = _alphabetic_name(len(self.names))
        return self.names[var]

    def binder(self, var):
        return f"{self(var)}:{var.aval.str_short()}"


def _literal_text(lit):
    value = np.asarray(lit.val).item()
    if isinstance(value, float):
        text = repr(value) if np.isfinite(value) else {True: "inf", False: "-inf"}.get(value > 0, "nan")
        if not np.isfinite(value) and np.isnan(value):
            text = "nan"
    else:
        text = str(value)
    return f"{text}:{lit.aval.str_short()}"


def _indent(text, n):
    return "\n".join(" " * n + line if line else line for line in text.split("\n"))


def _param_text(value, namer):
    if isinstance(value, (Jaxpr, ClosedJaxpr)):
        return _pp_jaxpr(value.jaxpr if isinstance(value, ClosedJaxpr) else value, namer)
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # NamedTuple params print like JAX
        fields = ", ".join(f"{k}={_param_text(v, namer)}" for k, v in zip(value._fields, value))
        return f"{type(value).__name__}({fields})"
    if isinstance(value, tuple):
        if value and all(isinstance(v, (Jaxpr, ClosedJaxpr)) for v in value):
            return "(\n" + "\n".join(_indent(_param_text(v, namer), 2) for v in value) + "\n)"
        inner = ", ".join(_param_text(v, namer) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    return str(value)


def subjaxprs(eqn):
    """The Jaxprs in ``eqn``'s params (loop bodies, branches, called programs),
    ClosedJaxprs opened."""
    for value in eqn.params.values():
        for sub in value if isinstance(value, tuple) else (value,):
            if isinstance(sub, ClosedJaxpr):
                yield sub.jaxpr
            elif isinstance(sub, Jaxpr):
                yield sub


def _has_subjaxpr(eqn):
    def is_jaxpr(v):
        return isinstance(v, (Jaxpr, ClosedJaxpr)) or (isinstance(v, tuple) and any(map(is_jaxpr, v)))
    return any(is_jaxpr(v) for v in eqn.params.values())


def pp_eqn(eqn, namer):
    """One equation; equations carrying sub-jaxprs put a param per line."""
    outs = " ".join(namer.binder(v) for v in eqn.outvars)
    args = " ".join(namer(v) for v in eqn.invars)
    items = sorted(eqn.params.items())
    if _has_subjaxpr(eqn):
        body = "\n".join(_indent(f"{k}={_param_text(v, namer)}", 2) for k, v in items)
        return f"{outs} = {eqn.primitive.name}[\n{body}\n]{' ' if args else ''}{args}"
    params = "[" + " ".join(f"{k}={_param_text(v, namer)}" for k, v in items) + "]" if items else ""
    return f"{outs} = {eqn.primitive.name}{params}{' ' if args else ''}{args}"


def _pp_jaxpr(jaxpr, namer):
    consts = " ".join(namer.binder(v) for v in jaxpr.constvars)
    ins = " ".join(namer.binder(v) for v in jaxpr.invars)
    head = f"{{ lambda {consts}; {ins}. let"
    eqns = [pp_eqn(e, namer) for e in jaxpr.eqns]
    outs = ", ".join(namer(v) for v in jaxpr.outvars)
    tail = f"in ({outs}{',' if len(jaxpr.outvars) == 1 else ''}) }}"
    one_line = f"{head} {'; '.join(eqns)}{' ' if eqns else ''}{tail}"
    if len(one_line) <= 80 and "\n" not in one_line:
        return one_line
    return "\n".join([head] + [_indent(e, 4) for e in eqns] + ["  " + tail])


def pp_jaxpr(jaxpr):
    """JAX's text form: ``{ lambda ; a:f32[3]. let b:f32[3] = sin a in (b,) }``."""
    return _pp_jaxpr(jaxpr, _Namer())


# --- typechecking -----------------------------------------------------------------

class JaxprTypeError(TypeError):
    """A jaxpr is ill-typed; the message shows the equations around the fault."""


def _context_around(jaxpr, index):
    namer = _Namer()
    for v in jaxpr.constvars + jaxpr.invars:
        namer(v)
    lines = []
    for i, eqn in enumerate(jaxpr.eqns):
        text = pp_eqn(eqn, namer)
        if abs(i - index) <= 2:
            lines.append(("--> " if i == index else "    ") + text)
    return "\n".join(lines)


def check_jaxpr(jaxpr):
    """Re-derive every equation's output types and check variables are defined
    before use. Raises ``JaxprTypeError`` showing the equations around a fault."""
    defined = set(jaxpr.constvars) | set(jaxpr.invars)
    if len(defined) != len(jaxpr.constvars) + len(jaxpr.invars):
        raise JaxprTypeError("a jaxpr binds the same variable twice among its constvars/invars")
    for index, eqn in enumerate(jaxpr.eqns):
        for v in eqn.invars:
            if not isinstance(v, Literal) and v not in defined:
                raise JaxprTypeError(f"variable {v} used before it is defined:\n{_context_around(jaxpr, index)}")
        try:
            out = eqn.primitive.abstract_eval_rule(*[v.aval for v in eqn.invars], **eqn.params)
        except TypeError as err:
            raise JaxprTypeError(f"{err}\n{_context_around(jaxpr, index)}") from None
        out_avals = list(out) if eqn.primitive.multiple_results else [out]
        if [a.strip_weak_type() for a in out_avals] != [v.aval.strip_weak_type() for v in eqn.outvars]:
            expected = ", ".join(a.str_short() for a in out_avals)
            raise JaxprTypeError(
                f"{eqn.primitive.name} produces {expected} but its outputs are typed "
                f"{', '.join(v.aval.str_short() for v in eqn.outvars)}:\n{_context_around(jaxpr, index)}")
        defined.update(eqn.outvars)
    for v in jaxpr.outvars:
        if not isinstance(v, Literal) and v not in defined:
            raise JaxprTypeError(f"output variable {v} is never defined")


# --- evaluation ---------------------------------------------------------------------

def eval_jaxpr(jaxpr, consts, *args):
    """Run a jaxpr by binding each equation's primitive, so running a jaxpr is
    itself transformable (under jvp, vmap, or another trace). Returns a list."""
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"eval_jaxpr: the jaxpr takes {len(jaxpr.invars)} arguments, got {len(args)}")
    env = {}

    def read(v):
        return v.val if isinstance(v, Literal) else env[v]

    env.update(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        outs = eqn.primitive.bind(*map(read, eqn.invars), **eqn.params)
        if not eqn.primitive.multiple_results:
            outs = (outs,)
        env.update(zip(eqn.outvars, outs))
    return [read(v) for v in jaxpr.outvars]


def jaxpr_as_fun(closed_jaxpr):
    """A Python function that evaluates ``closed_jaxpr`` on positional arrays."""
    def fun(*args):
        return eval_jaxpr(closed_jaxpr.jaxpr, closed_jaxpr.consts, *args)
    return fun
