"""Host callbacks and user kernels: ``debug_callback`` (behind
``numbax.debug.print``), ``pure_callback`` and ``numba_call``.

All three are primitives with several results whose Python or numba function
rides in a param. Eagerly they call it on NumPy buffers. Compiled by
``numbax.jit``, ``debug_callback`` and ``pure_callback`` leave the numba
program through a ``with numba.objmode():`` block that calls ``invoke`` below
(the function is found by a registry key printed into the source, so the
program text, and numba's disk cache of it, stays the same from one process
to the next), while ``numba_call`` calls the user's ``@numba.njit`` dispatcher
directly in nopython code, through the ``kernels`` module the generated
module imports.

The planner keeps these equations in program order and never removes them as
dead code (``backends/plan.py``'s ``ORDERED_EFFECTS``).

Under ``vmap`` a callback runs once per example, in row-major order over the
batch axes (``batch_shape`` holds the sizes, outermost first; every operand
then carries those axes in front). ``pure_callback(vmap_method='expand_dims'
/ 'broadcast_all')`` instead calls the function once on the whole batch.
"""

import hashlib
import inspect
import re
import types

import numpy as np

from . import core, dtypes
from .array import ArrayImpl
from .core import Primitive, ShapedArray
from .interpreters.batching import move_batch_axis, not_mapped

# --- the registry the generated programs reach ---------------------------------------

# Python callbacks by key (called from objmode blocks) and user kernels as
# attributes of a module object: numba resolves ``cb.kernels.<name>`` to the
# dispatcher at compile time, as for any module-level global.
_callbacks = {}
kernels = types.ModuleType("numbax.kernels")
kernels.__doc__ = "User @numba.njit kernels called by numbax.numba_call, by registry name."


def _fingerprint(*parts):
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def _source_of(fun):
    try:
        return inspect.getsource(fun)
    except (OSError, TypeError):
        return ""


def _identifier(text):
    return re.sub(r"\W", "_", text).strip("_")[-40:] or "fn"


def _register(table, base, value, same=lambda held, value: held is value):
    """Store ``value`` under ``base`` (or ``base_2``, ... if something else
    holds that name): the first object of a name keeps it, so a fresh process
    that registers in the same order prints the same program text. An entry
    that ``same(held, value)`` (behaves identically) is replaced in place."""
    name, k = base, 1
    while True:
        held = table.get(name) if isinstance(table, dict) else getattr(table, name, None)
        if held is None or same(held, value):
            break
        k += 1
        name = f"{base}_{k}"
    if isinstance(table, dict):
        table[name] = value
    else:
        setattr(table, name, value)
    return name


class Callback:
    """A host function for a jaxpr param: compared by identity, printed by
    name. ``token`` says what determines its behaviour (two callbacks with
    equal tokens may share a registry key); the key is only taken when a
    program is lowered, so eager calls leave no registry entry behind."""

    __slots__ = ("fun", "base", "token", "_key", "__name__")

    def __init__(self, fun, base, token, name=None):
        self.fun = fun
        self.base = base
        self.token = token
        self._key = None
        self.__name__ = name or getattr(fun, "__name__", type(fun).__name__)

    @property
    def key(self):
        if self._key is None:
            self._key = _register(_callbacks, self.base, self, lambda held, new: held.token == new.token)
        return self._key

    def __call__(self, *args):
        return self.fun(*args)

    def __repr__(self):
        return self.__name__


def invoke(key, outs, *args):
    """Called from a compiled program's objmode block: run callback ``key`` on
    ``args`` (NumPy arrays or scalars), writing its results into ``outs``."""
    callback = _callbacks[key]
    results = callback(*[np.asarray(a) for a in args])
    for buffer, value in zip(outs, results):
        buffer[...] = value


# --- shared rules ----------------------------------------------------------------------

def _batch_slices(batch_shape):
    """Index tuples over the batch axes, row-major (``()`` when unbatched)."""
    return list(np.ndindex(*batch_shape)) if batch_shape else [()]


def _batched_operands(args, dims, size):
    """Every operand with the new batch axis in front (unbatched ones
    broadcast), for the loop-over-examples batch rules."""
    return [move_batch_axis(x, d, size, 0) for x, d in zip(args, dims)]


def _axis_size(args, dims):
    return next(core.get_aval(x).shape[d] for x, d in zip(args, dims) if d is not not_mapped)


def _example(x, index):
    """Example ``index`` of a batched NumPy operand, as an array (0-d too)."""
    return x[index + (Ellipsis,)] if index else x


def _lower_args(ctx, eqn):
    """Names of the operands as arrays (0-d for scalars), bound in nopython
    code: an expression such as ``rt.full((), s, dtype)`` for a scalar cannot
    run inside the objmode block, which is plain Python."""
    names = []
    for v in eqn.invars:
        expr = ctx.array(v)
        if not expr.isidentifier():
            name = ctx.fresh("arg")
            ctx.emit(f"{name} = {expr}")
            expr = name
        names.append(expr)
    return names


def _callbacks_module(ctx):
    ctx.holds_gil = True
    return ctx.import_module("numbax._src.callback", "cb")


def _looped(callback, impl, always=False, **params):
    """The callback a program calls: ``callback`` itself, or ``impl`` with
    ``params`` around it (under vmap, a Python loop over the examples; with
    ``always``, also unbatched, for its result checks)."""
    batch_shape = params["batch_shape"]
    if not batch_shape and not always:
        return callback
    sizes = "x".join(map(str, batch_shape))
    return Callback(lambda *args: impl(*args, callback=callback, **params), f"{callback.base}_b{sizes}",
                    (callback.token, batch_shape), callback.__name__)


def _lower_host_call(ctx, eqn, key):
    """``outs = empty(...)``; then an objmode block calling ``invoke``."""
    cb = _callbacks_module(ctx)
    outs = [ctx.fresh("h") for _ in eqn.outvars]
    for name, var in zip(outs, eqn.outvars):
        ctx.emit(f"{name} = {ctx.empty(var.aval)}")
    args = _lower_args(ctx, eqn)
    out_tuple = f"({', '.join(outs)}{',' if len(outs) == 1 else ''})"
    # numba/numba#3739: objmode cannot pass tuples of arrays by reference
    # through declared outputs, so results are written into buffers allocated
    # in nopython code (boxed arrays share their memory).
    ctx.emit("with numba.objmode():")
    with ctx.indent():
        ctx.emit(f"{cb}.invoke({key!r}, {out_tuple}{''.join(', ' + a for a in args)})")
    for name, var in zip(outs, eqn.outvars):
        if var.aval.shape:
            ctx.bind_name(var, name)
        else:
            ctx.define(var, name)


# --- debug_callback ----------------------------------------------------------------------

debug_callback_p = Primitive("debug_callback", multiple_results=True)
debug_callback_p.is_debug_effect = True


def _debug_impl(*args, callback, batch_shape):
    for index in _batch_slices(batch_shape):
        callback(*[_example(np.asarray(a), index) for a in args])
    return []


def _debug_abstract_eval(*avals, callback, batch_shape):
    return []


def _debug_jvp(primals, tangents, *, callback, batch_shape):
    # A print has no outputs, so it adds nothing to any derivative; it shows
    # the primal values.
    debug_callback_p.bind(*primals, callback=callback, batch_shape=batch_shape)
    return [], []


def _debug_batch(args, dims, *, callback, batch_shape):
    size = _axis_size(args, dims)
    moved = _batched_operands(args, dims, size)
    debug_callback_p.bind(*moved, callback=callback, batch_shape=(size,) + batch_shape)
    return [], []


def _debug_lower(ctx, eqn):
    callback, batch_shape = eqn.params["callback"], eqn.params["batch_shape"]
    _lower_host_call(ctx, eqn, _looped(callback, _debug_impl, batch_shape=batch_shape).key)


debug_callback_p.def_impl(_debug_impl)
debug_callback_p.def_abstract_eval(_debug_abstract_eval)
debug_callback_p.def_jvp(_debug_jvp)
debug_callback_p.def_batch(_debug_batch)
debug_callback_p.def_lowering(_debug_lower, "cpu")


def debug_callback(callback, *args, ordered=False, **kwargs):
    """Call ``callback(*args, **kwargs)`` at run time with numbax arrays, for
    its effect (it returns nothing). Works eagerly and under jit/vmap/grad.
    ``ordered`` is accepted for JAX compatibility: numbax always runs
    callbacks in program order."""
    from .tree_util import tree_flatten, tree_unflatten
    leaves, in_tree = tree_flatten((args, kwargs))

    def flat_callback(*values):
        a, kw = tree_unflatten(in_tree, [ArrayImpl(np.asarray(v)) for v in values])
        callback(*a, **kw)
        return ()
    name = getattr(callback, "__qualname__", type(callback).__name__)
    base = f"dbg_{_identifier(name)}_{_fingerprint(name, repr(in_tree))}"
    wrapped = Callback(flat_callback, base, (callback, in_tree), name)
    debug_callback_p.bind(*leaves, callback=wrapped, batch_shape=())


class _Print:
    """The callback of one ``debug.print`` site: formats and prints."""

    def __init__(self, fmt):
        self.fmt = fmt
        self.__qualname__ = f"print_{_fingerprint(fmt)}"

    def __eq__(self, other):  # two prints of one format behave the same
        return type(other) is _Print and other.fmt == self.fmt

    def __hash__(self):
        return hash(self.fmt)

    def __call__(self, *args, **kwargs):
        print(self.fmt.format(*args, **kwargs))


def debug_print(fmt, *args, ordered=False, **kwargs):
    """Print ``fmt.format(*args, **kwargs)`` when the program runs, with the
    arrays' run-time values (``jax.debug.print``).

    Eagerly it prints at once; under ``jit`` the compiled program calls back
    into Python at that point (in program order, every iteration of a loop);
    under ``vmap`` it prints once per example, with that example's values;
    under ``grad`` it prints the primal values during the forward pass.

    Args:
      fmt: a ``str.format`` string, e.g. ``"x = {x}, sum = {}"``.
      *args, **kwargs: arrays (pytrees of arrays) to format.
      ordered: accepted for JAX compatibility (prints are always in program
        order).

    Example:
      >>> numbax.debug.print("x = {}", numbax.numpy.arange(3))
      x = [0 1 2]
    """
    if not isinstance(fmt, str):
        raise TypeError(f"numbax.debug.print: fmt must be a str, got {type(fmt).__name__}.")
    debug_callback(_Print(fmt), *args, **kwargs)


# --- pure_callback ---------------------------------------------------------------------

pure_callback_p = Primitive("pure_callback", multiple_results=True)
VMAP_METHODS = (None, "sequential", "expand_dims", "broadcast_all")


def _pure_impl(*args, callback, result_avals, vmap_method, batch_shape):
    outs = [np.empty(batch_shape + a.shape, a.dtype) for a in result_avals]
    for index in _batch_slices(batch_shape):
        results = callback(*[_example(np.asarray(a), index) for a in args])
        results = _check_results(callback.__name__, results, result_avals)
        for out, value in zip(outs, results):
            out[index] = value
    return outs


def _result_avals(*avals, result_avals, batch_shape, **_):
    """pure_callback and numba_call: the declared results, with the batch shape vmap added."""
    return [ShapedArray(batch_shape + a.shape, a.dtype) for a in result_avals]


def _no_derivative(what, fix):
    def rule(primals, tangents, **params):
        fn = params.get("callback") or params.get("kernel")
        raise NotImplementedError(
            f"Differentiation of {what} ({fn.__name__}) is not supported: numbax cannot see inside "
            f"{fix}")
    return rule


_pure_jvp = _no_derivative("pure_callback", "the host function. Wrap the call in a numbax.custom_jvp or "
                           "numbax.custom_vjp function to give it a derivative (as in JAX).")


def _pure_batch(args, dims, *, callback, result_avals, vmap_method, batch_shape):
    size = _axis_size(args, dims)
    if vmap_method in (None, "sequential") or batch_shape:
        moved = _batched_operands(args, dims, size)
        outs = pure_callback_p.bind(*moved, callback=callback, result_avals=result_avals,
                                    vmap_method=vmap_method, batch_shape=(size,) + batch_shape)
        return outs, [0] * len(outs)
    from ..lax import broadcast_in_dim
    moved = []
    for x, d in zip(args, dims):
        if d is not not_mapped:
            moved.append(move_batch_axis(x, d, size, 0))
            continue
        shape = core.get_aval(x).shape
        lead = size if vmap_method == "broadcast_all" else 1
        moved.append(broadcast_in_dim(x, (lead,) + shape, tuple(range(1, len(shape) + 1))))
    batched_avals = tuple(ShapedArray((size,) + a.shape, a.dtype) for a in result_avals)
    outs = pure_callback_p.bind(*moved, callback=callback, result_avals=batched_avals,
                                vmap_method=vmap_method, batch_shape=())
    return outs, [0] * len(outs)


def _pure_lower(ctx, eqn):
    p = eqn.params
    looped = _looped(p["callback"], _pure_impl, always=True, result_avals=p["result_avals"],
                     vmap_method=p["vmap_method"], batch_shape=p["batch_shape"])
    _lower_host_call(ctx, eqn, looped.key)


pure_callback_p.def_impl(_pure_impl)
pure_callback_p.def_abstract_eval(_result_avals)
pure_callback_p.def_jvp(_pure_jvp)
pure_callback_p.def_batch(_pure_batch)
pure_callback_p.def_lowering(_pure_lower, "cpu")


def _declared_avals(what, result_shape_dtypes):
    from .tree_util import tree_flatten
    leaves, tree = tree_flatten(result_shape_dtypes)
    avals = []
    for leaf in leaves:
        shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
        if shape is None or dtype is None:
            raise TypeError(f"{what}: result_shape_dtypes must be a pytree of objects with .shape and "
                            f".dtype (numbax.ShapeDtypeStruct or arrays); got a {type(leaf).__name__}.")
        avals.append(ShapedArray(tuple(shape), dtypes.canonicalize_dtype(dtype)))
    return tree, tuple(avals)


def _describe(avals):
    return "[" + ", ".join(a.str_short() for a in avals) + "]"


def _check_results(name, results, avals, tree="", out_tree=""):
    """The callback's results as arrays of the declared types, or a clear error."""
    arrays = [np.asarray(r) for r in results]
    seen = [ShapedArray(a.shape, a.dtype) for a in arrays]
    # A Python scalar has no dtype of its own: it takes the declared one.
    python_scalar = [isinstance(r, (bool, int, float)) for r in results]
    ok = tree == out_tree and len(seen) == len(avals) and all(
        s.shape == d.shape and (s.dtype == d.dtype or py) for s, d, py in zip(seen, avals, python_scalar))
    if not ok:
        structure = f" (structure {tree})" if tree != out_tree else ""
        declared = f" (structure {out_tree})" if tree != out_tree else ""
        raise TypeError(
            f"pure_callback: the callback {name} returned {_describe(seen)}{structure} but "
            f"result_shape_dtypes declares {_describe(avals)}{declared}. Return arrays of exactly the "
            "declared shapes and dtypes (e.g. np.asarray(r, np.float32)), or fix result_shape_dtypes.")
    return [a.astype(d.dtype, copy=False) for a, d in zip(arrays, avals)]


def pure_callback(callback, result_shape_dtypes, *args, vmap_method=None, **kwargs):
    """Call the host function ``callback(*args, **kwargs)`` on NumPy arrays at
    run time and use its results (``jax.pure_callback``).

    Args:
      callback: a Python function of NumPy arrays returning a pytree of
        arrays; it must be pure (numbax may call it once per example under
        vmap).
      result_shape_dtypes: a pytree of ``numbax.ShapeDtypeStruct`` (or arrays)
        declaring the results; what the callback returns is checked against it.
      *args, **kwargs: array pytrees passed to ``callback``.
      vmap_method: under ``vmap``: ``None`` or ``'sequential'`` call
        ``callback`` once per example; ``'expand_dims'`` calls it once with
        the batch axis in front (unbatched arguments get a size-1 axis);
        ``'broadcast_all'`` broadcasts unbatched arguments to the batch size.

    Returns:
      The results, structured like ``result_shape_dtypes``.

    Not differentiable: wrap it in ``numbax.custom_jvp``/``custom_vjp``.

    Example:
      >>> out = numbax.pure_callback(lambda x: np.sort(x)[::-1].copy(),
      ...                            numbax.ShapeDtypeStruct((3,), np.float32),
      ...                            numbax.numpy.array([2.0, 3.0, 1.0]))
      >>> out
      Array([3., 2., 1.], dtype=float32)
    """
    from .tree_util import tree_flatten, tree_unflatten
    if vmap_method not in VMAP_METHODS:
        raise ValueError(f"pure_callback: vmap_method must be one of {VMAP_METHODS}, got {vmap_method!r}.")
    if not callable(callback):
        raise TypeError(f"pure_callback: callback must be callable, got {type(callback).__name__}.")
    out_tree, avals = _declared_avals("pure_callback", result_shape_dtypes)
    leaves, in_tree = tree_flatten((args, kwargs))
    name = getattr(callback, "__qualname__", type(callback).__name__)

    def flat_callback(*values):
        a, kw = tree_unflatten(in_tree, [np.asarray(v) for v in values])
        leaves, tree = tree_flatten(callback(*a, **kw))
        if tree != out_tree:
            _check_results(name, leaves, avals, tree, out_tree)
        return leaves
    base = f"cb_{_identifier(name)}_{_fingerprint(getattr(callback, '__module__', '') or '', name)}"
    wrapped = Callback(flat_callback, base, (callback, in_tree, out_tree, avals), name)
    outs = pure_callback_p.bind(*leaves, callback=wrapped, result_avals=avals, vmap_method=vmap_method,
                                batch_shape=())
    return tree_unflatten(out_tree, outs)


# --- numba_call --------------------------------------------------------------------------

numba_call_p = Primitive("numba_call", multiple_results=True)


class Kernel:
    """A user's numba dispatcher with its name in ``kernels``."""

    __slots__ = ("dispatcher", "name", "__name__")

    def __init__(self, dispatcher, name):
        self.dispatcher = dispatcher
        self.name = name
        self.__name__ = getattr(getattr(dispatcher, "py_func", dispatcher), "__name__", "kernel")

    def __repr__(self):
        return self.__name__


_kernels = {}  # id(dispatcher) -> (dispatcher, Kernel)


def _kernel_for(dispatcher):
    hit = _kernels.get(id(dispatcher))
    if hit is not None and hit[0] is dispatcher:
        return hit[1]
    py_func = dispatcher.py_func
    closure = tuple(repr(c.cell_contents) for c in (py_func.__closure__ or ()))
    qualname = f"{py_func.__module__}.{py_func.__qualname__}"
    # The name carries a hash of the kernel's source: a program calling it is
    # compiled with the kernel inside, so editing the kernel must change the
    # program's text (and so its cache key).
    code = py_func.__code__  # the bytecode too: a kernel typed at a prompt has no source file
    identity = (qualname, _source_of(py_func), code.co_code.hex(), repr(code.co_consts), *closure)
    base = f"k_{_identifier(py_func.__qualname__)}_{_fingerprint(*identity)}"
    kernel = Kernel(dispatcher, _register(kernels, base, dispatcher))
    _kernels[id(dispatcher)] = (dispatcher, kernel)
    return kernel


def _numba_impl(*args, kernel, result_avals, static_params, batch_shape):
    outs = [np.empty(batch_shape + a.shape, a.dtype) for a in result_avals]
    inputs = [np.ascontiguousarray(a) for a in args]
    for index in _batch_slices(batch_shape):
        kernel.dispatcher(*[_example(a, index) for a in inputs], *[_example(o, index) for o in outs],
                          **dict(static_params))
    return outs


_numba_jvp = _no_derivative("numba_call", "a numba kernel. Wrap the call in a numbax.custom_vjp (or "
                            "custom_jvp) function whose backward pass is written with numbax ops or another "
                            "numba_call.")


def _numba_batch(args, dims, *, kernel, result_avals, static_params, batch_shape):
    size = _axis_size(args, dims)
    moved = _batched_operands(args, dims, size)
    outs = numba_call_p.bind(*moved, kernel=kernel, result_avals=result_avals, static_params=static_params,
                             batch_shape=(size,) + batch_shape)
    return outs, [0] * len(outs)


def _static_text(value):
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return f"np.int64({int(value)})"
    return f"np.float64({float(value)!r})"


def _numba_lower(ctx, eqn):
    params = eqn.params
    cb = ctx.import_module("numbax._src.callback", "cb")
    batch_shape = params["batch_shape"]
    outs = [ctx.fresh("o") for _ in eqn.outvars]
    for name, var in zip(outs, eqn.outvars):
        ctx.emit(f"{name} = {ctx.empty(var.aval)}")
    args = _lower_args(ctx, eqn)
    shapes = [v.aval.shape[len(batch_shape):] for v in eqn.invars]
    out_shapes = [a.shape for a in params["result_avals"]]
    statics = "".join(f", {k}={_static_text(v)}" for k, v in params["static_params"])
    with ctx.loops(batch_shape, parallel=False) as index:
        def example(expr, shape):
            if not index:
                return expr
            last = index[-1]
            head = "".join(f"{i}, " for i in index[:-1])
            return f"{expr}[{head}{last}:{last} + 1].reshape({tuple(shape)})"
        operands = [example(a, s) for a, s in zip(args, shapes)]
        operands += [example(o, s) for o, s in zip(outs, out_shapes)]
        ctx.emit(f"{cb}.kernels.{params['kernel'].name}({', '.join(operands)}{statics})")
    for name, var in zip(outs, eqn.outvars):
        if var.aval.shape:
            ctx.bind_name(var, name)
        else:
            ctx.define(var, name)


numba_call_p.def_impl(_numba_impl)
numba_call_p.def_abstract_eval(_result_avals)
numba_call_p.def_jvp(_numba_jvp)
numba_call_p.def_batch(_numba_batch)
numba_call_p.def_lowering(_numba_lower, "cpu")


def numba_call(kernel, *args, result_shape_dtypes, **static_params):
    """Run a user's ``@numba.njit`` kernel as one primitive: eagerly on NumPy
    buffers, and under ``numbax.jit`` INSIDE the compiled program (the
    generated code calls the dispatcher directly, in nopython mode).

    The kernel is called as ``kernel(*inputs, *outputs, **static_params)``:
    inputs are C-contiguous arrays (0-d arrays for scalars), outputs are
    arrays numbax allocates uninitialized with the shapes of
    ``result_shape_dtypes``, which the kernel must fill completely (write a
    0-d output as ``out[()] = v``). Its return value is ignored.

    Args:
      kernel: a ``numba.njit`` dispatcher (``cache=True`` is fine).
      *args: arrays (not pytrees) passed as the inputs.
      result_shape_dtypes: a ``numbax.ShapeDtypeStruct`` or a pytree of them.
      **static_params: Python ``int``/``float``/``bool`` compile-time values
        passed as keyword arguments.

    Returns:
      The outputs, structured like ``result_shape_dtypes``.

    Under ``vmap`` the kernel runs once per example (a loop over the batch).
    It has no derivative: wrap the call in ``numbax.custom_vjp`` to give it one.
    """
    from .tree_util import tree_unflatten
    import numba.extending
    if not numba.extending.is_jitted(kernel):
        raise TypeError(f"numba_call: kernel must be a @numba.njit function (a numba dispatcher), got "
                        f"{type(kernel).__name__}. Decorate it with @numba.njit.")
    for key, value in static_params.items():
        if not isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
            raise TypeError(f"numba_call({kernel.py_func.__name__}): static parameter {key}={value!r} must "
                            f"be a Python int, float or bool, got {type(value).__name__}; pass arrays as "
                            "positional inputs.")
    out_tree, avals = _declared_avals(f"numba_call({kernel.py_func.__name__})", result_shape_dtypes)
    statics = tuple(sorted((k, v.item() if isinstance(v, np.generic) else v) for k, v in static_params.items()))
    outs = numba_call_p.bind(*args, kernel=_kernel_for(kernel), result_avals=avals, static_params=statics,
                             batch_shape=())
    return tree_unflatten(out_tree, outs)
