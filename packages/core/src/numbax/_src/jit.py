"""``jit``: stage a function once per input signature and run it as one
compiled numba program.

``jit(f)(*args)`` flattens the arguments, looks up the signature (pytree
structure, abstract values with weak types, static arguments, the x64 flag and
the backend) and, the first time, traces ``f`` to a jaxpr and compiles it
(``backends/cpu.py``). Later calls with the same signature skip straight to
the compiled program.

Inside another transformation (``grad``, ``vmap``, an outer ``jit``) the call
is one ``pjit`` equation, a higher-order primitive carrying the jaxpr like
``checkpoint`` does; its jvp, transpose and batch rules build new jaxprs that
are themselves compiled, so ``grad(jit(f))`` and ``vmap(jit(f))`` run
compiled code, and an outer ``jit`` inlines the inner program.
"""

import functools
import inspect
import sys
import weakref

import numpy as np
import optree

from . import core
from .array import ArrayImpl, to_canonical_numpy
from .config import config
from .core import Primitive
from .interpreters.partial_eval import aval_of_argument, closure_convert, drop_debug_effects
from .tree_util import NAMESPACE, tree_flatten, tree_unflatten

BACKEND = "cpu"


# --- the pjit primitive ---------------------------------------------------------------

pjit_p = Primitive("pjit", multiple_results=True)

# Executables of pjit equations evaluated eagerly, by jaxpr identity; the
# value keeps the jaxpr alive so its id is not reused.
_executables = {}


def executable_for(closed, name, donated=()):
    """The compiled program of ``closed`` (cached per jaxpr object and set of
    donated inputs, whose buffers the program may write outputs into)."""
    key = (id(closed), donated)
    hit = _executables.get(key)
    if hit is not None and hit[0] is closed:
        return hit[1]
    from .backends.cpu import compile_jaxpr
    executable = compile_jaxpr(closed, name, donated)
    if len(_executables) > 4096:
        _executables.clear()
    _executables[key] = (closed, executable)
    return executable


def _retry_contiguous(program, args):
    from .backends.cpu import retry_contiguous  # numba loads with the first compiled program
    return retry_contiguous(program, args)


def _pjit_impl(*args, jaxpr, name):
    return executable_for(jaxpr, name)(*args)


def _pjit_abstract_eval(*avals, jaxpr, name):
    return jaxpr.out_avals


def _pjit_lower(ctx, eqn):
    outs = ctx.lower_jaxpr(eqn.params["jaxpr"], [ctx.read(v) for v in eqn.invars])
    for var, expr in zip(eqn.outvars, outs):
        ctx.bind_name(var, expr)


def _pjit_jvp(primals, tangents, *, jaxpr, name):
    # As checkpoint: the primal outputs come from this program, the tangents
    # from a second one that recomputes what it needs, so linearize keeps
    # only the inputs as residuals and both halves stay compiled.
    from .interpreters.jvp import Zero, instantiate, jvp_flat, tangent_aval
    primals_out = pjit_p.bind(*primals, jaxpr=jaxpr, name=name)
    nonzero = [type(t) is not Zero for t in tangents]
    n = len(primals)
    # The first program already printed (debug.print): the tangent program,
    # which recomputes the primal values, must not print them again.
    quiet = drop_debug_effects(jaxpr.jaxpr)

    def jvp_body(*primals_and_tangents):
        ps, ts = primals_and_tangents[:n], iter(primals_and_tangents[n:])
        full = [next(ts) if nz else Zero(tangent_aval(core.get_aval(p))) for p, nz in zip(ps, nonzero)]
        _, t_out = jvp_flat(lambda *a: core.eval_jaxpr(quiet, jaxpr.consts, *a), ps, full)
        return [instantiate(t) for t in t_out]
    live = [t for t in tangents if type(t) is not Zero]
    in_avals = [core.get_aval(p) for p in primals] + [core.get_aval(t) for t in live]
    jvp_jaxpr, consts = closure_convert(jvp_body, in_avals, f"jvp(jit({name}))")
    tangents_out = pjit_p.bind(*consts, *primals, *live, jaxpr=jvp_jaxpr, name=f"jvp({name})")
    return primals_out, tangents_out


def _pjit_transpose(cts, *args, jaxpr, name):
    from .interpreters.jvp import Zero, instantiate
    from .interpreters.transpose import UndefinedPrimal, backward_pass, is_undefined_primal
    linear = [is_undefined_primal(a) for a in args]
    known = [a for a in args if not is_undefined_primal(a)]
    cts = [instantiate(ct) if type(ct) is Zero else ct for ct in cts]

    def transposed(*known_and_cts):
        it = iter(known_and_cts[:len(known)])
        full = [UndefinedPrimal(a.aval) if lin else next(it) for a, lin in zip(args, linear)]
        cts_in = backward_pass(jaxpr.jaxpr, jaxpr.consts, list(known_and_cts[len(known):]), full)
        return [instantiate(ct) for ct, lin in zip(cts_in, linear) if lin]
    in_avals = [core.get_aval(a) for a in known] + [core.get_aval(ct) for ct in cts]
    t_jaxpr, consts = closure_convert(transposed, in_avals, f"transpose(jit({name}))")
    outs = iter(pjit_p.bind(*consts, *known, *cts, jaxpr=t_jaxpr, name=f"transpose({name})"))
    return [next(outs) if lin else None for lin in linear]


def _pjit_batch(args, dims, *, jaxpr, name):
    from .custom_derivatives import _batch_setup, _batched_body
    size, moved, in_axes = _batch_setup(args, dims)
    batched, consts = _batched_body(jaxpr, moved, in_axes, size)
    outs = pjit_p.bind(*consts, *moved, jaxpr=batched, name=f"vmap({name})")
    return outs, [0] * len(outs)


pjit_p.def_impl(_pjit_impl)
pjit_p.def_abstract_eval(_pjit_abstract_eval)
pjit_p.def_jvp(_pjit_jvp)
pjit_p.def_transpose(_pjit_transpose)
pjit_p.def_batch(_pjit_batch)
pjit_p.def_lowering(_pjit_lower, "cpu")


def _call_lower(ctx, eqn):
    # custom_jvp/custom_vjp/checkpoint only change differentiation: compiled,
    # their body is inlined (registered here, where lowering meets them).
    outs = ctx.lower_jaxpr(eqn.params["call_jaxpr"], [ctx.read(v) for v in eqn.invars])
    for var, expr in zip(eqn.outvars, outs):
        ctx.bind_name(var, expr)


def _register_call_lowerings():
    from .custom_derivatives import checkpoint_p, custom_jvp_call_p, custom_vjp_call_p
    for prim in (custom_jvp_call_p, custom_vjp_call_p, checkpoint_p):
        prim.def_lowering(_call_lower, "cpu")


_register_call_lowerings()


# --- signatures and the per-function cache -------------------------------------------

class _Entry:
    """Everything one signature needs at call time, computed once."""

    __slots__ = ("jaxpr", "consts", "const_values", "out_tree", "out_weak", "executable", "prefix",
                 "program", "single")

    def __init__(self, jaxpr, consts, out_tree):
        self.jaxpr = jaxpr
        self.consts = consts
        self.const_values = [np.asarray(c) if not isinstance(c, core.Tracer) else c for c in consts]
        self.out_tree = out_tree
        self.out_weak = [a.weak_type for a in jaxpr.out_avals]
        self.executable = None
        self.program = None
        self.prefix = ()
        self.single = out_tree.is_leaf()

    def run(self, values, name):
        """Run on flat NumPy values; returns the flat output arrays."""
        if self.program is None:
            executable = self.executable = executable_for(self.jaxpr, name)
            outs = executable(*self.const_values, *values)
            if executable.compiled:  # not while it compiles in the background (background.py)
                self.prefix = tuple(executable.extra_consts) + tuple(self.const_values)
                self.program = executable.program
            return outs
        try:
            return self.program(*self.prefix, *values)
        except TypeError:  # an argument may not be C-contiguous
            return _retry_contiguous(self.program, (*self.prefix, *values))

    def outputs(self, flat):
        """The program's flat NumPy outputs as the function's pytree of arrays."""
        if self.single:
            return ArrayImpl(flat[0], self.out_weak[0])
        return optree.tree_unflatten(self.out_tree, [ArrayImpl(o, w) for o, w in zip(flat, self.out_weak)])


def _leaf_signature(x):
    if type(x) is ArrayImpl:
        v = x._value
        return v.shape, v.dtype, x.weak_type
    aval = aval_of_argument(x)
    return aval.shape, aval.dtype, aval.weak_type


def _leaf_value(x):
    if type(x) is ArrayImpl:
        return x._value
    return to_canonical_numpy(x)[0]


# --- donation ---------------------------------------------------------------------------

class DonatedBuffer:
    """Stands in for the buffer of an array donated to a jitted call, so any
    later use of that array raises a clear error (as JAX's deleted arrays)."""

    __slots__ = ("_what",)

    def __init__(self, what):
        self._what = what

    def _raise(self, *args, **kwargs):
        raise RuntimeError(
            f"Array has been deleted: it was donated to {self._what}, and an output may now live in its "
            "buffer. Use the function's outputs instead, pass a copy, or drop donate_argnums.")

    def __getattr__(self, name):
        self._raise()

    __array__ = __array_ufunc__ = __array_function__ = __getitem__ = __len__ = __iter__ = _raise
    __bool__ = __float__ = __int__ = __index__ = __str__ = __format__ = __repr__ = _raise


def _is_deleted(x):
    return type(x) is ArrayImpl and type(x._value) is DonatedBuffer


# References to a donated ndarray in _own_buffer: the ArrayImpl, the values
# list, the local name and getrefcount's argument. More means a view, a NumPy
# array the user holds, or another argument shares it.
_PRIVATE_REFCOUNT = 4


def _own_buffer(x, values, i):
    """A buffer for donated leaf ``i`` that the program may overwrite: the
    array's own when nothing else can see it, else a private copy (a NumPy
    argument or a shared buffer is never written)."""
    v = values[i]
    private = (type(x) is ArrayImpl and v.base is None and v.flags.writeable and v.flags.c_contiguous
               and not any(o is v for j, o in enumerate(values) if j != i)
               and sys.getrefcount(v) <= _PRIVATE_REFCOUNT)
    return v if private else np.array(v, copy=True)


_all_jitted = weakref.WeakSet()


class Jitted:
    """The result of ``jit(fun)``: call it like ``fun``. Also ``trace``,
    ``lower``, ``eval_shape`` and ``clear_cache``."""

    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=(), keep_unused=False):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.name = getattr(fun, "__name__", "fun")
        static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums or ())
        static_argnames = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames or ())
        try:
            parameters = list(inspect.signature(fun).parameters.values())
        except (TypeError, ValueError):
            parameters = []
        positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        # A static argument may be passed by position or by name, as in JAX.
        nums = set(static_argnums)
        names = set(static_argnames)
        for i in static_argnums:
            if 0 <= i < len(positional):
                names.add(positional[i])
        for n in static_argnames:
            if n in positional:
                nums.add(positional.index(n))
        self.static_argnums = tuple(sorted(nums))
        self.static_argnames = tuple(sorted(names))
        self.donate_argnums = (donate_argnums,) if isinstance(donate_argnums, int) else tuple(donate_argnums or ())
        if set(self.donate_argnums) & nums:
            raise ValueError(f"jit({self.name}): donate_argnums {self.donate_argnums} overlap static_argnums "
                             f"{self.static_argnums}; a static argument has no buffer to donate.")
        self.keep_unused = keep_unused
        self._has_static = bool(nums or names)
        # Calls whose arguments are all numbax arrays passed by position skip
        # pytree flattening: keyed on (x64 flag, each array's shape, dtype, weak type).
        self._arrays_only = not (self._has_static or self.donate_argnums)
        self._by_arrays = {}
        self._cache = {}
        self._fast = {}
        self.trace_count = 0
        _all_jitted.add(self)

    def __repr__(self):
        return f"<numbax.jit of {self.name}>"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    # --- signatures ---
    def _split(self, args, kwargs):
        """``(dynamic_args, dynamic_kwargs, static_key, merge)``."""
        if not self._has_static:
            return args, kwargs, (), None
        n = len(args)
        nums = {i % n if n else i for i in self.static_argnums if -n <= i < n}
        static_pos = tuple((i, args[i]) for i in sorted(nums))
        static_kw = tuple(sorted((k, v) for k, v in kwargs.items() if k in self.static_argnames))
        for where, value in static_pos + static_kw:
            try:
                hash(value)
            except TypeError:
                raise ValueError(
                    f"jit({self.name}): static argument {where!r} must be hashable, got a "
                    f"{type(value).__name__}. Pass a tuple instead of a list, or make it a traced "
                    "(non-static) argument.") from None
        dynamic = tuple(a for i, a in enumerate(args) if i not in nums)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}

        def merge(dyn, dyn_kw):
            it = iter(dyn)
            full = [args[i] if i in nums else next(it) for i in range(n)]
            return full, {**dyn_kw, **dict(static_kw)}
        return dynamic, dyn_kwargs, (static_pos, static_kw), merge

    def _entry(self, args, kwargs):
        dynamic, dyn_kwargs, static_key, merge = self._split(args, kwargs)
        leaves, in_tree = tree_flatten((tuple(dynamic), dyn_kwargs))
        signature = tuple(map(_leaf_signature, leaves))
        key = (in_tree, signature, static_key, config.x64_enabled, BACKEND)
        entry = self._cache.get(key)
        if entry is None:
            entry = self._cache[key] = self._trace(leaves, in_tree, merge)
        return entry, leaves

    def _trace(self, leaves, in_tree, merge):
        self.trace_count += 1
        out_tree_box = []
        fun = self.fun

        def flat_fun(*tracers):
            dyn, dyn_kw = tree_unflatten(in_tree, tracers)
            if merge is not None:
                dyn, dyn_kw = merge(dyn, dyn_kw)
            out = fun(*dyn, **dyn_kw)
            out_leaves, out_tree = tree_flatten(out)
            out_tree_box.append(out_tree)
            return out_leaves
        in_avals = [aval_of_argument(x) for x in leaves]
        jaxpr, consts = closure_convert(flat_fun, in_avals, f"jit({self.name})")
        return _Entry(jaxpr, consts, out_tree_box[0])

    # --- calling ---
    def _donated_leaves(self, args, kwargs):
        """Indices, among the flat dynamic leaves, of the donated arguments'."""
        n = len(args)
        static = {i % n for i in self.static_argnums if -n <= i < n}
        donated = {i % n for i in self.donate_argnums if -n <= i < n}
        indices, start = [], 0
        for position, arg in enumerate(args):
            if position in static:
                continue
            count = len(tree_flatten(arg)[0])
            if position in donated:
                indices.extend(range(start, start + count))
            start += count
        return indices

    def _call_donating(self, args, kwargs):
        """Run with donated buffers (eager callers only); None when a leaf is
        a tracer (donation is then ignored, as inside JAX transformations)."""
        entry, leaves = self._entry(args, kwargs)
        if any(isinstance(x, core.Tracer) for x in entry.consts + leaves):
            return None
        for position, x in enumerate(leaves):
            if _is_deleted(x):
                x._value._raise()
        donated = self._donated_leaves(args, kwargs)
        values = [_leaf_value(x) for x in leaves]
        for i in donated:
            values[i] = _own_buffer(leaves[i], values, i)
        offset = len(entry.const_values)
        executable = executable_for(entry.jaxpr, self.name, tuple(offset + i for i in donated))
        outs = executable(*entry.const_values, *values)
        what = f"jit({self.name}) (donate_argnums={self.donate_argnums})"
        for i in donated:
            if type(leaves[i]) is ArrayImpl:
                leaves[i]._value = DonatedBuffer(f"{what} as {leaves[i].aval.str_short()}")
        return tree_unflatten(entry.out_tree, [ArrayImpl(o, w) for o, w in zip(outs, entry.out_weak)])

    def __call__(self, *args, **kwargs):
        if not core.trace_state.trace.is_eager:
            return self._bind(args, kwargs)
        array_key = None
        if self._arrays_only and not kwargs:
            # The thinnest path (issue 6's dispatch target): no flattening, one dict lookup.
            key = [config._values["jax_enable_x64"]]
            for x in args:
                if type(x) is not ArrayImpl:
                    break
                v = x._value
                key += (v.shape, v.dtype, x.weak_type)
            else:
                entry = self._by_arrays.get(array_key := tuple(key))
                if entry is not None:
                    outs = entry.run([x._value for x in args], self.name)
                    return ArrayImpl(outs[0], entry.out_weak[0]) if entry.single else entry.outputs(outs)
        if self.donate_argnums:
            out = self._call_donating(args, kwargs)
            if out is not None:
                return out
        if not kwargs and not self._has_static:
            leaves, treedef = optree.tree_flatten(args, namespace=NAMESPACE)
            key = (treedef, config.x64_enabled, *map(_leaf_signature, leaves))
            entry = self._fast.get(key)
            if entry is not None and entry.program is not None:
                return entry.outputs(entry.run(list(map(_leaf_value, leaves)), self.name))
            entry, leaves = self._entry(args, kwargs)
            if not any(isinstance(x, core.Tracer) for x in leaves):
                self._fast[key] = entry
        else:
            entry, leaves = self._entry(args, kwargs)
        if any(isinstance(x, core.Tracer) for x in entry.consts + leaves):
            return self._bind(args, kwargs)
        outs = entry.outputs(entry.run([_leaf_value(x) for x in leaves], self.name))
        if array_key is not None:
            self._by_arrays[array_key] = entry
        return outs

    def _bind(self, args, kwargs):
        """One pjit equation in the current (non-eager) trace."""
        entry, leaves = self._entry(args, kwargs)
        outs = pjit_p.bind(*entry.consts, *leaves, jaxpr=entry.jaxpr, name=self.name)
        return tree_unflatten(entry.out_tree, outs)

    # --- inspection ---
    def trace(self, *args, **kwargs):
        """Stage for these arguments without compiling: ``.jaxpr`` is the
        ClosedJaxpr (closed-over values are its leading inputs)."""
        entry, _ = self._entry(args, kwargs)
        return Traced(self, entry, (args, kwargs))

    def lower(self, *args, **kwargs):
        """Stage and plan: ``.as_text()`` shows the jaxpr and the fusion plan,
        ``.compile()`` generates and compiles the numba program."""
        return self.trace(*args, **kwargs).lower()

    def eval_shape(self, *args, **kwargs):
        from .api import ShapeDtypeStruct
        entry, _ = self._entry(args, kwargs)
        return tree_unflatten(entry.out_tree, [ShapeDtypeStruct(a.shape, a.dtype, a.weak_type)
                                               for a in entry.jaxpr.out_avals])

    def clear_cache(self):
        """Forget every traced signature (the next call traces again)."""
        self._cache.clear()
        self._fast.clear()
        self._by_arrays.clear()


class Traced:
    def __init__(self, jitted, entry, call_args=((), {})):
        self._jitted = jitted
        self._entry = entry
        self._call_args = call_args
        self.jaxpr = entry.jaxpr
        self.out_tree = entry.out_tree

    def lower(self):
        return Lowered(self._jitted, self._entry, self._call_args)


class Lowered:
    def __init__(self, jitted, entry, call_args=((), {})):
        self._jitted = jitted
        self._entry = entry
        self._call_args = call_args

    def as_text(self):
        """The jaxpr, then one line per fused loop or kernel of the plan."""
        from .backends.plan import describe_plan, plan_jaxpr
        plan = describe_plan(plan_jaxpr(self._entry.jaxpr.jaxpr, BACKEND))
        return f"{self._entry.jaxpr}\n# fusion plan ({BACKEND}):\n{plan}\n"

    def compile(self):
        return Compiled(self._jitted, self._entry, self._call_args)


class Compiled:
    """A compiled program; ``source`` is the generated module's text."""

    def __init__(self, jitted, entry, call_args=((), {})):
        self._jitted = jitted
        self._entry = entry
        donated = ()
        if jitted.donate_argnums:  # the program donating calls run (it writes into donated inputs)
            offset = len(entry.const_values)
            donated = tuple(offset + i for i in jitted._donated_leaves(*call_args))
        self.executable = executable_for(entry.jaxpr, jitted.name, donated)
        self.executable.finish_compiling()
        self.source = self.executable.source
        self.path = self.executable.path

    def as_text(self):
        return self.source

    def __call__(self, *args, **kwargs):
        return self._jitted(*args, **kwargs)


def jit(fun=None, *, static_argnums=(), static_argnames=(), donate_argnums=(), keep_unused=False,
        inline=False, backend=None, device=None):
    """Compile ``fun`` with numba, once per input signature.

    Args:
      fun: a function of arrays (pytrees of arrays, Python scalars, NumPy arrays).
      static_argnums / static_argnames: arguments treated as compile-time
        constants (hashable; a new value means a new trace and program).
      donate_argnums: positional arguments whose buffers the call may reuse
        for outputs of the same shape and dtype (an output computed by a fused
        elementwise loop that reads the argument last is written straight
        into its buffer). Donated arrays are deleted afterwards: using one
        raises an error naming the donation. Ignored inside other
        transformations (the call is then one traced equation).
      keep_unused: accepted for compatibility (unused inputs cost nothing).

    Returns:
      A ``Jitted`` callable with the same signature. ``f.lower(*args)``
      gives ``.as_text()`` (jaxpr and fusion plan) and ``.compile()`` (with
      ``.source``, the generated numba module); ``f.clear_cache()`` forgets
      the traced signatures.

    Example:
      >>> f = numbax.jit(lambda x: numbax.numpy.sin(x) * 2.0)
      >>> f(numbax.numpy.zeros(3))
      Array([0., 0., 0.], dtype=float32)
    """
    if backend not in (None, "cpu"):
        raise NotImplementedError(f"jit(backend={backend!r}): only the 'cpu' backend is implemented.")
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums, static_argnames=static_argnames,
                                 donate_argnums=donate_argnums, keep_unused=keep_unused)
    if not callable(fun):
        raise TypeError(f"jit expects a callable, got {type(fun).__name__}.")
    return Jitted(fun, static_argnums, static_argnames, donate_argnums, keep_unused)


def clear_caches():
    """Forget every traced signature of every jitted function and every
    compiled program held in memory (the on-disk cache stays)."""
    for jitted in list(_all_jitted):
        jitted.clear_cache()
    _executables.clear()

