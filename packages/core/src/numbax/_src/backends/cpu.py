"""The CPU backend: renders a jaxpr as ONE Python module of numba code whose
``@numba.njit`` entry point ``program(...)`` computes every output.

The planner (``plan.py``) decides what is fused; this module only prints:
fused loops become loop nests (``numba.prange`` over the outer axis above
``PARALLEL_THRESHOLD`` elements), kernels print themselves through their
primitive's rule (``rule(ctx, eqn)``, registered next to the primitive).

Inside the program a value of rank 0 is a numba scalar and every other value
is a C-contiguous array; rules may rely on both. Outputs are allocated once
per call inside the program.
"""

import contextlib
import logging
import os
import time

import numpy as np

from .. import core
from ..array import ArrayImpl
from ..core import Literal
from . import background, cache
from .plan import Elementwise, FusedLoop, Scalar, describe_plan, lowering_rule, plan_jaxpr

BACKEND = "cpu"
log = logging.getLogger("numbax.jit")

# A loop runs in parallel (``numba.prange``, OpenMP layer) when its work, in
# element-operations, reaches this. Measured on the 2-core dev machine (best of
# 30, float32 ``a * 2 + 1``): serial/parallel 2.5/2.7 us at 64K elements,
# 20/9.5 us at 256K, 85/44 us at 1M, 480/270 us at 4M. A quiet machine breaks
# even near 64K, but a parallel region must wait for every worker to be
# scheduled: on the loaded machine its median cost was up to ~10 ms (a
# scheduler time slice) even for 4K elements, and the MLP step of
# benchmarks/jit_workloads.py W4 took 106 ms with 2 threads against 15 ms with
# 1. So only loops of ~100 us of serial work or more (1M simple operations)
# are parallel; the loss on a quiet machine is at most ~40 us per loop.
PARALLEL_THRESHOLD = 1 << 20

# Matrix products of this many multiply-adds or more are split into one
# single-threaded BLAS product per numba thread (blas.matmul_split), smaller
# ones run on the calling thread: waking a second thread costs more than it
# saves on a ~0.1 ms product, and much more when other processes hold the
# cores (W8's 32x128x128 RNN steps took 176 ms with a thread pool against
# 15 ms on one thread on the loaded 2-core machine). Split products also beat
# NumPy's own OpenBLAS pool, and keep one pool of threads in a program (an
# OpenBLAS pool spinning after a product took the cores from the next numba
# parallel loop: W7's CNN step 92 ms against 57 ms). Measured on the 2-core
# machine, W4's four product shapes (128x784x512 and the like): 3.13 ms
# split, 4.65 ms on NumPy's pool; 5.58 against 5.70 ms with one core busy.
SPLIT_PRODUCT = 1 << 23

# LLVM fast-math flags of every program: only 'contract', which lets a
# multiply and the add consuming it become one fused multiply-add (one
# rounding instead of two, as XLA's CPU backend also does). It keeps NaN, inf
# and signed-zero semantics ('nnan'/'ninf'/'nsz' would not) and the order of
# every sum ('reassoc' would not). xmath's polynomials and Cody-Waite
# reductions are mostly multiply-adds: W3 of benchmarks/jit_workloads.py
# (sin(cos(x))*tanh(x)+x*x) ran ~25% faster serially, and test_xmath's
# accuracy bounds hold with it.
FASTMATH = {"contract"}

# Primitives whose element costs roughly as much as a dozen additions (an
# inlined xmath polynomial or a libm call): they weigh this much in a loop's
# work when choosing serial or parallel.
COSTLY_WEIGHT = 12
COSTLY = {"exp", "exp2", "expm1", "log", "log1p", "tanh", "logistic", "sin", "cos", "tan", "asin", "acos",
          "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc", "erf_inv", "pow", "lgamma",
          "digamma", "cbrt", "rem"}

# Counters a test (or NUMBAX_DEBUG) reads: programs numba compiled in this
# process, and programs it loaded from its on-disk cache.
stats = {"compiled": 0, "cache_hits": 0, "programs": 0}


def debug_level():
    try:
        return int(os.environ.get("NUMBAX_DEBUG", "0") or 0)
    except ValueError:
        return 0


def np_dtype(dtype):
    """Source text of the NumPy scalar type: ``np.float32``."""
    return f"np.{np.dtype(dtype).name}"


def literal_text(value, dtype):
    """Source text of a scalar constant of ``dtype``."""
    dtype = np.dtype(dtype)
    value = np.asarray(value).astype(dtype).item()
    if dtype.kind == "b":
        return "True" if value else "False"
    if dtype.kind == "f":
        if np.isnan(value):
            return f"{np_dtype(dtype)}(np.nan)"
        if np.isinf(value):
            return f"{np_dtype(dtype)}({'-' if value < 0 else ''}np.inf)"
        return f"{np_dtype(dtype)}({float(value)!r})"
    return f"{np_dtype(dtype)}({int(value)})"


class LoweringContext:
    """What a kernel rule sees while it prints itself.

    ``read(v)``: the source expression of a jaxpr var (array name, scalar name
    or literal). ``array(v)``: an expression that is an array even for rank-0
    values. ``define(v, expr)``: bind an output var to an array expression (a
    C-contiguous array of the var's shape; rank-0 outputs become scalars).
    ``emit(line)`` / ``indent()`` / ``fresh(prefix)``: print code.
    ``loops(shape)``: a context printing a loop nest, giving index names.
    ``lower_jaxpr(closed, args)``: inline a sub-jaxpr, returning its outputs.
    """

    def __init__(self):
        self.lines = []
        self.depth = 1
        self.counter = 0
        self.env = {}
        self.uses_prange = False
        # Whether a rule called a kernel that runs on numba's threads (conv_direct).
        self.parallel_kernels = False
        # Code that runs inside a numba-parallel loop (``helper``) must not
        # start parallel loops or thread pools of its own.
        self.serial = False
        # Functions printed before the program: (name, parameters, lines).
        self.helpers = []
        # Module-level imports a rule needs (``import_module``), and whether a
        # rule calls back into Python (``numba.objmode``): such a program keeps
        # the GIL, since an objmode block must hold it anyway.
        self.imports = {}
        self.holds_gil = False
        self.reuse = {}  # output var -> the donated input buffer it is written into

    # --- printing ---
    def emit(self, line):
        self.lines.append("    " * self.depth + line)

    @contextlib.contextmanager
    def indent(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def fresh(self, prefix="t"):
        self.counter += 1
        return f"{prefix}{self.counter}"

    @contextlib.contextmanager
    def loops(self, shape, parallel=None, names=None, work=None):
        """Print ``for`` loops over ``shape``; yields the index names. The
        outer loop is a ``prange`` when ``parallel``, or (``parallel=None``)
        when ``work`` (element-operations; default the nest's size) reaches
        ``PARALLEL_THRESHOLD``."""
        size = int(np.prod(shape)) if shape else 1
        if parallel is None:
            parallel = (size if work is None else work) >= PARALLEL_THRESHOLD and shape and shape[0] > 1
        parallel = parallel and not self.serial
        given, names = names, []
        start = self.depth
        for axis, n in enumerate(shape):
            name = given[axis] if given else self.fresh("i")
            names.append(name)
            loop = "numba.prange" if axis == 0 and parallel else "range"
            self.uses_prange |= axis == 0 and bool(parallel)
            self.emit(f"for {name} in {loop}({n}):")
            self.depth += 1
        try:
            yield names
        finally:
            self.depth = start

    def helper(self, prefix):
        """A context printing the body of a new function of the generated
        module, to run inside a numba-parallel loop: its loops and products
        are serial. Returns ``(context, name)``; ``add_helper`` keeps it."""
        child = LoweringContext()
        child.serial = True
        child.imports, child.helpers = self.imports, self.helpers
        return child, f"{prefix}{self.fresh('_')}"

    def add_helper(self, name, parameters, child):
        """Emit ``def name(*parameters)`` with ``child``'s lines before the program."""
        self.helpers.append((name, list(parameters), child.lines))

    def matmul(self, multiply_adds):
        """The runtime function computing a float matrix product of this many
        multiply-adds (``rt.matmul_serial`` or ``rt.matmul_split``, see
        SPLIT_PRODUCT; ``rt.gemm`` in a helper)."""
        if self.serial:
            return "rt.gemm"  # inside a parallel loop: BLAS is on one thread around it
        if multiply_adds < SPLIT_PRODUCT:
            return "rt.matmul_serial"
        self.parallel_kernels = True
        return "rt.matmul_split"

    def import_module(self, module, alias):
        """Make ``alias`` name ``module`` in the generated module; returns it."""
        self.imports[alias] = module
        return alias

    # --- values ---
    def read(self, v):
        if isinstance(v, Literal):
            return literal_text(v.val, v.aval.dtype)
        return self.env[v]

    def array(self, v):
        if v.aval.shape:
            return self.read(v)
        return f"rt.full((), {self.read(v)}, {np_dtype(v.aval.dtype)})"

    np_dtype = staticmethod(np_dtype)

    def dtype(self, v):
        return np_dtype(v.aval.dtype)

    def define(self, v, expr):
        """Bind ``v`` to the array expression ``expr``."""
        name = self.fresh("s" if not v.aval.shape else "a")
        if v.aval.shape:
            self.emit(f"{name} = {expr}")
        else:
            self.emit(f"{name} = ({expr}).reshape(1)[0]")
        self.env[v] = name
        return name

    def reshaped(self, source, v, shape):
        """An array expression of ``v`` (whose expression is ``source``) with
        the same elements in ``shape``."""
        if not v.aval.shape:
            return f"rt.full({tuple(shape)}, {source}, {np_dtype(v.aval.dtype)})"
        if tuple(shape) == tuple(v.aval.shape):
            return source
        return f"{source}.reshape({tuple(shape) if shape else (1,)})"

    def reduction(self, x, axes, out, identity, combine):
        """Print ``out = reduce(combine, x, axes)`` starting from ``identity``.
        When the last axis is reduced, kept axes are the outer loops (the
        first one parallel when large) and reduced axes the inner ones with a
        scalar accumulator; when it is kept (a column sum), see
        ``_reduction_rows``."""
        shape = x.aval.shape
        kept = [d for d in range(len(shape)) if d not in axes]
        reduced = [d for d in range(len(shape)) if d in axes]
        dtype = np_dtype(x.aval.dtype)
        init = literal_text(identity, x.aval.dtype)
        size = int(np.prod(shape)) if shape else 1
        if kept and reduced and kept[-1] == len(shape) - 1:
            self._reduction_rows(x, kept, out, init, combine, size)
            return
        result = None if not out.aval.shape else self.define(out, self.empty(out.aval))
        # A full sum is a numba parfor reduction (``acc += ...`` inside prange).
        parallel_total = not kept and size >= PARALLEL_THRESHOLD and combine == "{acc} + {v}" \
            and x.aval.dtype.kind == "f" and not self.serial
        with self.loops([shape[d] for d in kept], work=size) as outer:
            acc = self.fresh("acc")
            self.emit(f"{acc} = {init}")
            with self.loops([shape[d] for d in reduced], parallel=parallel_total) as inner:
                index = [None] * len(shape)
                for d, name in zip(kept, outer):
                    index[d] = name
                for d, name in zip(reduced, inner):
                    index[d] = name
                element = self.element(x, index)
                if parallel_total:
                    self.emit(f"{acc} += {element}")
                else:
                    self.emit(f"{acc} = {dtype}({combine.format(acc=acc, v=element)})")
            if result is not None:
                self.emit(f"{result}[{', '.join(outer)}] = {acc}")
        if result is None:
            self.env[out] = self.fresh("s")
            self.emit(f"{self.env[out]} = {dtype}({acc})")

    def _reduction_rows(self, x, kept, out, init, combine, size):
        """A reduction keeping the last axis: walk ``x`` in memory order and
        combine each element into its output slot, so the innermost loop
        reads and writes contiguously (and vectorizes) instead of striding
        down a column. Each output still combines its elements in index
        order, as the scalar-accumulator loop does. Parallel over the first
        axis only when that axis is kept (no two threads share an output)."""
        shape = x.aval.shape
        dtype = np_dtype(x.aval.dtype)
        result = self.define(out, f"rt.full({tuple(out.aval.shape)}, {init}, {dtype})")
        parallel = None if kept[0] == 0 else False
        with self.loops(shape, parallel=parallel, work=size) as index:
            slot = f"{result}[{', '.join(index[d] for d in kept)}]"
            self.emit(f"{slot} = {dtype}({combine.format(acc=slot, v=self.element(x, index))})")

    def arg_reduction(self, x, axis, out, better):
        """Print ``out = index of the best element of x along axis``."""
        shape = x.aval.shape
        kept = [d for d in range(len(shape)) if d != axis]
        result = None if not out.aval.shape else self.define(out, self.empty(out.aval))
        with self.loops([shape[d] for d in kept]) as outer:
            best, where, k = self.fresh("best"), self.fresh("idx"), self.fresh("k")
            index = [None] * len(shape)
            for d, name in zip(kept, outer):
                index[d] = name
            index[axis] = "0"
            self.emit(f"{best} = {self.element(x, index)}")
            self.emit(f"{where} = 0")
            self.emit(f"for {k} in range(1, {shape[axis]}):")
            with self.indent():
                index[axis] = k
                value = self.fresh("v")
                self.emit(f"{value} = {self.element(x, index)}")
                self.emit(f"if {better.format(v=value, best=best)}:")
                with self.indent():
                    self.emit(f"{best} = {value}")
                    self.emit(f"{where} = {k}")
            if result is not None:
                self.emit(f"{result}[{', '.join(outer)}] = {where}")
        if result is None:
            self.env[out] = self.fresh("s")
            self.emit(f"{self.env[out]} = {np_dtype(out.aval.dtype)}({where})")

    def accumulate(self, x, axis, reverse, out, combine):
        """Print ``out`` = the running ``combine`` of ``x`` along ``axis``."""
        shape = x.aval.shape
        kept = [d for d in range(len(shape)) if d != axis]
        result = self.define(out, self.empty(out.aval))
        n = shape[axis]
        dtype = np_dtype(x.aval.dtype)
        with self.loops([shape[d] for d in kept]) as outer:
            acc, k, pos = self.fresh("acc"), self.fresh("k"), self.fresh("p")
            index = [None] * len(shape)
            for d, name in zip(kept, outer):
                index[d] = name
            index[axis] = pos
            self.emit(f"{acc} = {dtype}(0)")
            self.emit(f"for {k} in range({n}):")
            with self.indent():
                self.emit(f"{pos} = {n - 1} - {k}" if reverse else f"{pos} = {k}")
                element = self.element(x, index)
                self.emit(f"{acc} = {element} if {k} == 0 else {dtype}({combine.format(acc=acc, v=element)})")
                self.emit(f"{result}[{', '.join(index)}] = {acc}")

    def element(self, v, index):
        """The element of ``v`` at the index expressions ``index``."""
        if isinstance(v, Literal) or not v.aval.shape:
            return self.read(v)
        return f"{self.read(v)}[{', '.join(index) or '()'}]"

    def bind_name(self, v, name):
        self.env[v] = name

    def empty(self, aval):
        return f"rt.empty({tuple(aval.shape)}, {np_dtype(aval.dtype)})"

    # --- sub-jaxprs ---
    def lower_jaxpr(self, closed, args):
        """Print ``closed`` (a ClosedJaxpr) inline on the expressions ``args``;
        returns the expressions of its outputs."""
        jaxpr = closed.jaxpr
        for var, value in zip(jaxpr.constvars, closed.consts):
            self.env[var] = self.constant(value)
        for var, arg in zip(jaxpr.invars, args):
            self.env[var] = arg
        lower_steps(self, plan_jaxpr(jaxpr, BACKEND))
        return [self.read(v) for v in jaxpr.outvars]

    def constant(self, value):
        """Sub-jaxpr constants are program arguments (registered by the caller)."""
        raise NotImplementedError("constants of inner jaxprs must be hoisted by the program")


def _operand_element(ctx, v, out_shape, index, dims):
    """The element of operand ``v`` at loop position ``index``; ``dims[d]`` is
    the output axis operand axis ``d`` follows (size-1 axes broadcast)."""
    if isinstance(v, Literal) or not v.aval.shape:
        return ctx.read(v)
    if index is None:  # flat loop
        return f"{ctx.env[v]}_flat[i]"
    parts = [index[out_axis] if size == out_shape[out_axis] else "0"
             for size, out_axis in zip(v.aval.shape, dims)]
    return f"{ctx.read(v)}[{', '.join(parts)}]"


def _element_expr(ctx, eqn, rule, operands, index):
    expr = rule.render(operands, eqn, index)
    dtype = eqn.outvars[0].aval.dtype
    if np.dtype(dtype).kind == "b":
        return expr
    # numba widens integer arithmetic to 64 bits and libm results to float64;
    # the cast keeps every value at its jaxpr dtype (it wraps integers).
    return f"{np_dtype(dtype)}({expr})"


def _can_loop_flat(loop):
    for eqn in loop.eqns:
        rule = lowering_rule(eqn.primitive, BACKEND)
        if rule.index_map is not None or eqn.primitive.name == "iota":
            return False
        for v in eqn.invars:
            if not isinstance(v, Literal) and v.aval.shape and v.aval.shape != loop.shape:
                return False
    return True


def lower_fused_loop(ctx, loop):
    shape = loop.shape
    size = int(np.prod(shape))
    produced = set()
    for eqn in loop.eqns:
        produced.update(eqn.outvars)
    names = {}
    for v in loop.outputs:
        names[v] = ctx.fresh("a")
        donated = ctx.reuse.get(v)
        ctx.emit(f"{names[v]} = {donated}  # donated buffer" if donated else f"{names[v]} = {ctx.empty(v.aval)}")
    flat = _can_loop_flat(loop) and len(shape) > 1
    ctx.emit(f"# fused: {', '.join(e.primitive.name for e in loop.eqns)}")
    if flat:
        inputs = {v for e in loop.eqns for v in e.invars
                  if not isinstance(v, Literal) and v.aval.shape and v not in produced}
        for v in sorted(inputs, key=lambda v: ctx.env[v]):
            ctx.emit(f"{ctx.env[v]}_flat = {ctx.env[v]}.reshape({size})")
        for v in loop.outputs:
            ctx.emit(f"{names[v]}_flat = {names[v]}.reshape({size})")
        loop_shape = (size,)
    else:
        loop_shape = shape
    work = size * sum(COSTLY_WEIGHT if eqn.primitive.name in COSTLY else 1 for eqn in loop.eqns)
    with ctx.loops(loop_shape, names=["i"] if flat else None, work=work) as index:
        temps = {}
        for eqn in loop.eqns:
            rule = lowering_rule(eqn.primitive, BACKEND)
            dims = rule.index_map(eqn) if rule.index_map is not None else None
            operands = []
            for v in eqn.invars:
                if v in temps:
                    operands.append(temps[v])
                    continue
                operand_dims = dims if dims is not None else range(len(shape))
                operands.append(_operand_element(ctx, v, shape, None if flat else index, operand_dims))
            out = eqn.outvars[0]
            temp = ctx.fresh("e")
            ctx.emit(f"{temp} = {_element_expr(ctx, eqn, rule, operands, index)}")
            temps[out] = temp
            if out in names:
                target = f"{names[out]}_flat[i]" if flat else f"{names[out]}[{', '.join(index)}]"
                ctx.emit(f"{target} = {temp}")
    for v in loop.outputs:
        ctx.env[v] = names[v]


def lower_steps(ctx, steps):
    for step in steps:
        if isinstance(step, FusedLoop):
            lower_fused_loop(ctx, step)
        elif isinstance(step, Scalar):
            eqn = step.eqn
            rule = lowering_rule(eqn.primitive, BACKEND)
            operands = [ctx.read(v) for v in eqn.invars]
            name = ctx.fresh("s")
            ctx.emit(f"{name} = {_element_expr(ctx, eqn, rule, operands, [])}")
            ctx.env[eqn.outvars[0]] = name
        else:
            eqn = step.eqn
            rule = lowering_rule(eqn.primitive, BACKEND)
            if isinstance(rule, Elementwise):  # a multiple-results elementwise rule is not expected
                raise NotImplementedError(f"jit: '{eqn.primitive.name}' has an elementwise rule but "
                                          "several results")
            ctx.emit(f"# {eqn.primitive.name}")
            rule(ctx, eqn)
            for v in eqn.outvars:
                if v not in ctx.env and not isinstance(v, core.DropVar):
                    raise AssertionError(f"lowering rule of {eqn.primitive.name} did not define an output")


# --- the program ------------------------------------------------------------------------

class ProgramContext(LoweringContext):
    """A LoweringContext that turns constants of inner jaxprs into extra
    program arguments (so no array is baked into the source)."""

    def __init__(self):
        super().__init__()
        self.extra_consts = []  # (name, value)
        self.const_names = {}

    def constant(self, value):
        key = id(value)
        if key not in self.const_names:
            arr = np.asarray(value)
            if arr.ndim == 0:
                self.const_names[key] = literal_text(arr, arr.dtype)
            else:
                name = f"k{len(self.extra_consts)}"
                self.extra_consts.append((name, value))
                self.const_names[key] = name
        return self.const_names[key]


HEADER = '''\
# numbax program {key}, backend=cpu. Generated from the jaxpr below; do not edit.
{jaxpr_comment}
import math

import numba
import numpy as np

from numbax._src.backends import cpu_runtime as rt
from numbax._src.backends import xmath

'''


def donation_targets(jaxpr, steps, donated):
    """``{output var: donated input var}``: outputs a fused loop may write
    straight into a donated input's buffer (``jit(donate_argnums=...)``).

    Safe when the input has the output's shape and dtype, is not itself an
    output, is read only by fused loops (elementwise reads at the loop index)
    and by kernels with scalar results (so no view of it can exist), by no
    step after this loop, and in this loop by no equation after the one
    producing the output (the loop body stores each output element right
    after computing it)."""
    candidates = [v for v in donated if v.aval.shape and v not in jaxpr.outvars]
    readers = {}
    for position, step in enumerate(steps):
        eqns = step.eqns if isinstance(step, FusedLoop) else [step.eqn]
        for eqn in eqns:
            no_view = isinstance(step, FusedLoop) or all(not v.aval.shape for v in eqn.outvars)
            for v in eqn.invars:
                if not isinstance(v, Literal) and v in candidates:
                    readers.setdefault(v, []).append((position, no_view))
    outputs = {v for v in jaxpr.outvars if not isinstance(v, Literal)}
    targets, used = {}, set()
    for position, step in enumerate(steps):
        if not isinstance(step, FusedLoop):
            continue
        for k, eqn in enumerate(step.eqns):
            out = eqn.outvars[0]
            if out not in outputs or out not in step.outputs or out in targets:
                continue
            for d in candidates:
                reads = readers.get(d, [])
                if d in used or d.aval.shape != out.aval.shape or d.aval.dtype != out.aval.dtype:
                    continue
                if not all(no_view and where <= position for where, no_view in reads):
                    continue
                if any(d in later.invars for later in step.eqns[k + 1:]):
                    continue
                targets[out] = d
                used.add(d)
                break
    return targets


def render_program(closed, key="", donated=()):
    """``(source_without_decorator_flags, plan_text, extra_consts, threaded, holds_gil)``;
    ``threaded``: whether the program runs code on numba's threads (its own
    parallel loops or kernels with them), so it must be compiled
    ``parallel=True``: numba starts its threading layer when it loads such a
    program from its cache, not when it loads a ``parallel=False`` program
    that calls parallel kernels, which then crashed (a jump to address 0).
    ``donated``: indices of inputs whose buffers outputs may be written into."""
    jaxpr = closed.jaxpr
    ctx = ProgramContext()
    params = []
    for k, var in enumerate(jaxpr.constvars + jaxpr.invars):
        # Array arguments arrive C-contiguous (``Executable.__call__`` and
        # ``call_contiguous``) and typed read-only.
        params.append(f"in{k}")
        ctx.emit(f"x{k} = rt.writeable(in{k})" if var.aval.shape else f"x{k} = in{k}[()]")
        ctx.env[var] = f"x{k}"
    steps = plan_jaxpr(jaxpr, BACKEND)
    all_inputs = jaxpr.constvars + jaxpr.invars
    targets = donation_targets(jaxpr, steps, [all_inputs[k] for k in donated])
    ctx.reuse = {out: ctx.env[d] for out, d in targets.items()}
    lower_steps(ctx, steps)
    inputs = set(jaxpr.constvars + jaxpr.invars)
    results = []
    for k, var in enumerate(jaxpr.outvars):
        expr = ctx.read(var)
        aval = var.aval
        if not aval.shape:
            name = f"out{k}"
            ctx.emit(f"{name} = rt.empty((), {np_dtype(aval.dtype)})")
            ctx.emit(f"{name}[()] = {expr}")
            results.append(name)
        elif not isinstance(var, Literal) and var in inputs:
            results.append(f"{expr}.copy()")  # outputs never alias a caller's buffer
        else:
            results.append(expr)
    ctx.emit(f"return ({', '.join(results)}{',' if len(results) == 1 else ''})")
    extra = [name for name, _ in ctx.extra_consts]
    signature = ", ".join(extra + params)
    body = "\n".join(ctx.lines)
    jaxpr_comment = "\n".join("# " + line for line in str(jaxpr).split("\n"))
    text = HEADER.format(key=key, jaxpr_comment=jaxpr_comment)
    text += "".join(f"import {module} as {alias}\n" for alias, module in sorted(ctx.imports.items()))
    threaded = ctx.uses_prange or ctx.parallel_kernels
    for name, parameters, lines in ctx.helpers:
        text += f"\n\n@numba.njit({{helper_flags}})\ndef {name}({', '.join(parameters)}):\n" + "\n".join(lines) + "\n"
    text += "\n\n@numba.njit({flags})\ndef program(" + signature + "):\n" + body + "\n"
    return text, describe_plan(steps), ctx.extra_consts, threaded, ctx.holds_gil


class Executable:
    """A compiled program: ``__call__(*flat_numpy_arrays)`` returns the tuple
    of output arrays. ``source`` is the generated module's text."""

    def __init__(self, closed, name="program", donated=()):
        self.closed = closed
        self.name = name
        started = time.perf_counter()
        text, self.plan_text, extra_consts, threaded, holds_gil = render_program(closed, donated=donated)
        self.extra_consts = [np.asarray(v) for _, v in extra_consts]
        key = cache.program_key(text, BACKEND, _version(), _runtime_fingerprint())
        text = text.replace("# numbax program ,", f"# numbax program {key},")

        def render(persistent):
            def flags(parallel):
                return (f"parallel={parallel}, nogil={not holds_gil}, cache={persistent}, error_model='numpy', "
                        f"fastmath={FASTMATH!r}")
            return text.replace("{flags}", flags(threaded), 1).replace("{helper_flags}", flags(False))
        self.path, self.persistent = cache.write_program(key, render)
        with open(self.path) as f:
            self.source = f.read()
        # The module's numba dispatcher, imported by finish_compiling: calls
        # evaluated op by op (background.py) never import numba.
        self.program = None
        # One specialization for every call: numba would compile the program
        # again for each new mix of array layouts and read-only flags (a
        # broadcast jnp.ones is a read-only strided view, a program output a
        # writeable C array), each time costing the whole compile. Read-only
        # C-contiguous arrays accept writeable ones too; other layouts are
        # copied by the caller (``call_contiguous``). Typed 'C' rather than
        # 'A', the program needs no np.ascontiguousarray per input (each a
        # numba overload compile, 0.4-0.7 s of W4's first call).
        self.argument_types = [(a.dtype, a.ndim) for a in self.extra_consts]
        self.argument_types += [(np.dtype(v.aval.dtype), len(v.aval.shape))
                                for v in closed.jaxpr.constvars + closed.jaxpr.invars]
        self.render_seconds = time.perf_counter() - started
        self.compiled = False
        self.job = None  # the background.Job compiling this program, if any
        stats["programs"] += 1
        level = debug_level()
        if level >= 1:
            log.warning("jit(%s): jaxpr\n%s", name, closed)
        if level >= 2:
            log.warning("jit(%s): fusion plan\n%s", name, self.plan_text)
        if level >= 3:
            log.warning("jit(%s): generated %s\n%s", name, self.path, self.source)

    def __call__(self, *args):
        if self.compiled:
            return call_contiguous(self.program, (*self.extra_consts, *args))
        if self._runs_op_by_op():
            return self._evaluate(args)
        self.finish_compiling()
        return call_contiguous(self.program, (*self.extra_consts, *args))

    def _runs_op_by_op(self):
        """Whether this call evaluates the jaxpr op by op while a worker process
        compiles the program (background.py), starting the worker if needed."""
        if background.interpreting():
            return True
        if self.job is None:
            if not background.wanted(self.closed.jaxpr, self.persistent) or cache.is_compiled(self.path):
                return False
            self.job = background.submit(self.path, background.signature_spec(self.argument_types))
            if debug_level() >= 1:
                log.warning("jit(%s): compiling in a worker process; calls run op by op until it is done (%s)",
                            self.name, self.path)
        return not self.job.done()

    def _evaluate(self, args):
        """The jaxpr's outputs evaluated op by op, as without jit, as the tuple
        of NumPy arrays the program would return."""
        jaxpr = self.closed.jaxpr
        wrapped = [ArrayImpl(a) for a in args]
        n = len(jaxpr.constvars)
        with background.interpreting_scope():
            outs = core.eval_jaxpr(jaxpr, wrapped[:n], *wrapped[n:])
        result = []
        for out, var in zip(outs, jaxpr.outvars):
            value = np.asarray(out._value if isinstance(out, ArrayImpl) else out, dtype=var.aval.dtype)
            if any(value is a or np.may_share_memory(value, a) for a in args):
                value = value.copy()  # as from the program: outputs never alias the caller's buffers
            result.append(value)
        return tuple(result)

    def finish_compiling(self):
        """Compile the program now, or load it from the disk cache (waiting for a
        background worker first), so that calls run machine code from here on."""
        if self.compiled:
            return
        if self.job is not None:
            self.job.wait()
        _limit_program_blas_threads()
        _keep_freed_memory()
        _sleeping_omp_threads()
        started = time.perf_counter()
        self.program = cache.import_program(self.path).program
        signature = background.numba_signature(self.argument_types)
        if signature not in self.program.signatures:  # programs with the same source share a module
            background.compile_program(self.program, signature)
            self.program.disable_compile()
        self.compiled = True
        program_stats = self.program.stats
        if program_stats.cache_hits:
            stats["cache_hits"] += 1
        else:
            stats["compiled"] += 1
        if self.persistent and not cache.is_compiled(self.path):
            cache.mark_compiled(self.path)
        if debug_level() >= 1:
            how = "loaded from numba's cache" if program_stats.cache_hits else "compiled"
            log.warning("jit(%s): %s in %.3f s (%s)", self.name, how, time.perf_counter() - started, self.path)


def call_contiguous(program, args):
    """``program(*args)``, copying the arrays that are not C-contiguous (its
    only signature takes C-contiguous arrays). The copies are made only after
    numba rejected the arguments, so the common case pays no check."""
    try:
        return program(*args)
    except TypeError:
        return retry_contiguous(program, args)


def retry_contiguous(program, args):
    """Called while handling the TypeError of ``program(*args)``: run it on
    C-contiguous copies of the arrays that are not, or re-raise when all are
    (the error was not about layouts)."""
    if all(a.flags.c_contiguous for a in args):
        raise  # the TypeError being handled: it was not about layouts
    # (np.ascontiguousarray would also turn a rank-0 array into rank 1.)
    return program(*[a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in args])


_blas_limited = False


def _limit_program_blas_threads():
    """Make SciPy's OpenBLAS (bound through scipy.linalg.cython_blas: a
    different library from NumPy's) use ``$NUMBAX_BLAS_THREADS`` threads,
    default 1. Programs call it for the LAPACK of the linalg kernels, and for
    matrix products only where NumPy's own BLAS was not found (blas.py); their
    matrix products otherwise run on NumPy's pool, configured as NumPy is
    (``OPENBLAS_NUM_THREADS``, threadpoolctl).

    Why: an idle OpenBLAS worker spins for a long while before it sleeps, so
    two OpenBLAS pools in one process take the cores from each other.
    Measured on the 2-core machine when programs still multiplied through
    SciPy's pool, W4 of benchmarks/jit_workloads.py (an MLP step, mostly GEMMs)
    took 87-356 ms right after NumPy GEMMs and 736 ms interleaved with them,
    against 3-9 ms with one BLAS thread. Best effort: where SciPy's OpenBLAS is
    not found (another BLAS), nothing changes."""
    global _blas_limited
    if _blas_limited:
        return
    _blas_limited = True
    try:
        threads = int(os.environ.get("NUMBAX_BLAS_THREADS", "1"))
        import ctypes
        import glob

        import scipy
        here = os.path.dirname(os.path.dirname(os.path.abspath(scipy.__file__)))
        for path in glob.glob(os.path.join(here, "scipy.libs", "libscipy_openblas*")):
            lib = ctypes.CDLL(path)
            for name in ("scipy_openblas_set_num_threads", "openblas_set_num_threads"):
                setter = getattr(lib, name, None)
                if setter is not None:
                    setter(threads)
                    break
    except (ImportError, OSError, ValueError):
        pass


def _sleeping_omp_threads():
    """``OMP_WAIT_POLICY=PASSIVE`` unless set: numba's OpenMP threads then
    sleep between parallel loops instead of spinning (read when numba starts
    its threads, at the first parallel loop; no effect once it has).

    Why: a spinning thread accrues CPU time, so when another process holds a
    core the scheduler runs that process instead of the spinner, and the next
    parallel loop waits a time slice for it. Measured on the 2-core machine
    with one other busy process: W7's CNN step 156-161 ms spinning (29 ms in
    one lucky run), 36-46 ms passive (as fast as on one thread); quiet, 22 ms
    spinning (passive not measured quiet: the machine never was again)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


_malloc_tuned = False


def _keep_freed_memory():
    """Ask glibc's malloc to keep freed memory instead of returning it to the
    OS after every call (``mallopt``; ``NUMBAX_MALLOC_TUNING=0`` leaves it).

    Why: a program allocates its outputs and intermediates on each call. By
    default glibc serves blocks above 128 KiB with mmap and trims the heap top
    above 128 KiB, raising both thresholds only as a process happens to free
    large blocks; so a process that loaded its program from the disk cache (a
    small heap) page-faults every buffer anew on every call, while one that
    just ran LLVM does not. Measured: W6 of benchmarks/jit_workloads.py (two
    512 KiB buffers per call) took 535 us per call after a cache load against
    157 us after compiling, and 157 us after a cache load with these settings.
    Blocks up to 32 MiB (glibc's largest mmap threshold) now come from the heap,
    which is trimmed only when 256 MiB at its top are free."""
    global _malloc_tuned
    if _malloc_tuned or os.environ.get("NUMBAX_MALLOC_TUNING") == "0":
        return
    _malloc_tuned = True
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return  # not glibc
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 2**20)
    mallopt(m_trim_threshold, 256 * 2**20)


def _version():
    from ... import __version__
    return __version__


_fingerprint = None


def _runtime_fingerprint():
    """Hash of every backend module's source (cpu_runtime.py, xmath.py, ...):
    generated programs call or inline their functions, and numba's cache only
    checks the program file itself, so a change there must change the key.
    It also holds which BLAS ``rt.matmul_*`` call (blas.py): a program compiled
    to call NumPy's gemm would not link where that gemm is not found."""
    global _fingerprint
    if _fingerprint is None:
        from . import numpy_gemm
        here = os.path.dirname(os.path.abspath(__file__))
        parts = [f"numpy_blas={numpy_gemm.available()}"]
        for name in sorted(os.listdir(here)):
            if name.endswith(".py"):
                with open(os.path.join(here, name)) as f:
                    parts.append(f.read())
        _fingerprint = cache.program_key(*parts)
    return _fingerprint


def compile_jaxpr(closed, name="program", donated=()):
    """An ``Executable`` for ``closed`` (a ClosedJaxpr whose consts are passed
    as leading arguments by the caller). ``donated``: indices of inputs whose
    buffers the program may overwrite with outputs. Large programs without
    donation compile in pieces (``chunks.py``: numba compiles big functions
    disproportionately slowly)."""
    from .chunks import CHUNK_EQNS, ChunkedExecutable, count_eqns
    if not donated and count_eqns(closed.jaxpr) > CHUNK_EQNS:
        return ChunkedExecutable(closed, name, Executable)
    return Executable(closed, name, donated)
