"""Test helpers shared by numbax's packages: the op table's ``OpCase`` and the
generic checks every row gets (eager vs a NumPy reference, with the expected
JAX dtype; staged through ``make_jaxpr``/``eval_jaxpr`` vs eager)."""

import dataclasses
from typing import Any, Callable

import numpy as np

from . import make_jaxpr
from ._src import core
from ._src.config import enable_x64
from .tree_util import tree_flatten, tree_leaves

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
I32, I64 = np.dtype(np.int32), np.dtype(np.int64)
U32, U8, BOOL = np.dtype(np.uint32), np.dtype(np.uint8), np.dtype(np.bool_)
FLOATS = (F32, F64)
INTS = (I32, I64)

DEFAULT_TOL = {np.dtype(np.float16): (1e-3, 1e-3), F32: (2e-5, 1e-6), F64: (1e-12, 1e-14)}


def uniform(low=-3.0, high=3.0):
    """Sampler: floats uniform in [low, high), ints in [low, high), bools at random."""
    def sample(rng, shape, dtype):
        dtype = np.dtype(dtype)
        if dtype == BOOL:
            return rng.random(shape) < 0.5
        if dtype.kind in "iu":
            lo = max(int(np.floor(low)), 0) if dtype.kind == "u" else int(np.floor(low))
            return rng.integers(lo, max(int(np.ceil(high)), lo + 1), size=shape).astype(dtype)
        return rng.uniform(low, high, size=shape).astype(dtype)
    return sample


def positive(low=0.1, high=3.0):
    return uniform(low, high)


def same(dtype):
    return np.dtype(dtype)


def always(dtype):
    """Expected-dtype rule: the result is ``dtype`` whatever the inputs."""
    return lambda _: np.dtype(dtype)


def float_of(dtype):
    """Expected-dtype rule of functions that promote integers to float."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype
    return F64 if dtype.itemsize == 8 else F32


@dataclasses.dataclass
class OpCase:
    """One row of the op table.

    ``fun`` is the numbax function and ``ref`` its NumPy reference; both take
    the same positional arguments (NumPy arrays for ``ref``). ``shapes`` lists
    argument-shape tuples; each argument gets dtype ``d`` for every ``d`` in
    ``dtypes`` unless ``arg_dtypes`` fixes some (a list, None = row dtype).
    ``out_dtype(d)`` is JAX's result dtype for input dtype ``d``.
    """

    name: str
    fun: Callable
    ref: Callable
    shapes: list
    dtypes: tuple = FLOATS
    sample: Callable = dataclasses.field(default_factory=uniform)
    out_dtype: Callable = same
    tol: dict = dataclasses.field(default_factory=dict)
    arg_dtypes: Any = None
    samplers: Any = None  # per-argument samplers, overriding ``sample``
    grad_order: int = 0  # check_grads to this order (0: not differentiable)
    grad_argnums: Any = None  # which positional args to differentiate (None: all float args)
    grad_modes: tuple = ("fwd", "rev")
    grad_tol: Any = None  # (atol, rtol) for the gradient check, or None for the default
    vmap: bool = True  # part of the vmap column
    jit: bool = True  # part of the jit column (False: not traceable with abstract values)

    def __str__(self):
        return self.name


def x64_context(dtype):
    """Run 64-bit rows with x64 enabled, others without."""
    return enable_x64(np.dtype(dtype).itemsize == 8 and np.dtype(dtype).kind in "iuf")


def make_args(case, shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    args = []
    for i, shape in enumerate(shapes):
        arg_dtype = dtype
        if case.arg_dtypes is not None and case.arg_dtypes[i] is not None:
            arg_dtype = case.arg_dtypes[i]
        sampler = case.samplers[i] if case.samplers and case.samplers[i] is not None else case.sample
        args.append(np.asarray(sampler(rng, shape, arg_dtype)).astype(arg_dtype))
    return args


def assert_close(actual, expected, dtype, tol=None, err_msg=""):
    """Compare a numbax result with a NumPy reference at ``dtype``'s tolerance."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{err_msg}: shape {actual.shape} != reference {expected.shape}"
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        rtol, atol = (tol or {}).get(dtype, DEFAULT_TOL.get(dtype, (1e-6, 1e-6)))
        np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                                   rtol=rtol, atol=atol, err_msg=err_msg, equal_nan=True)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=err_msg)


def check_op(case, shapes, dtype):
    """Eager result vs the reference (values and JAX dtype), then the staged
    jaxpr evaluated again vs the eager result (bitwise)."""
    with x64_context(dtype):
        np_args = make_args(case, shapes, dtype)
        from . import numpy as jnp
        args = [jnp.asarray(a) for a in np_args]
        out = case.fun(*args)
        expected = case.ref(*np_args)
        out_leaves, out_tree = tree_flatten(out)
        ref_leaves = tree_leaves(expected) if isinstance(expected, (tuple, list)) else [expected]
        assert len(out_leaves) == len(ref_leaves), f"{case.name}: {len(out_leaves)} outputs vs {len(ref_leaves)}"
        want = case.out_dtype(np.dtype(dtype))
        wants = want if isinstance(want, (tuple, list)) else [want] * len(out_leaves)
        for got, ref, want_dtype in zip(out_leaves, ref_leaves, wants):
            assert isinstance(got, core.Array), f"{case.name} returned {type(got).__name__}, not an Array"
            assert got.dtype == np.dtype(want_dtype), \
                f"{case.name}{shapes} {dtype}: dtype {got.dtype}, JAX gives {np.dtype(want_dtype)}"
            assert_close(got, np.asarray(ref).astype(want_dtype), want_dtype, case.tol,
                         err_msg=f"{case.name}{shapes} {dtype}")
        closed = make_jaxpr(case.fun)(*args)
        staged = core.eval_jaxpr(closed.jaxpr, closed.consts, *args)
        for got, again in zip(out_leaves, staged):
            np.testing.assert_array_equal(np.asarray(again), np.asarray(got),
                                          err_msg=f"{case.name}: staged jaxpr differs from eager")


def op_params(cases):
    """pytest parameters ``(case, shapes, dtype)`` with readable ids."""
    import pytest
    params = []
    for case in cases:
        for shapes in case.shapes:
            for dtype in case.dtypes:
                shape_id = "-".join("x".join(map(str, s)) or "scalar" for s in shapes)
                params.append(pytest.param(case, shapes, np.dtype(dtype),
                                           id=f"{case.name}-{shape_id}-{np.dtype(dtype).name}"))
    return params


# --- numerical gradient checks ---------------------------------------------------------

def _numerical_jvp(f, args, tangents, eps):
    """Central difference of ``f`` along ``tangents`` in float64 NumPy arithmetic."""
    plus = [np.asarray(a, np.float64) + eps * np.asarray(t, np.float64) for a, t in zip(args, tangents)]
    minus = [np.asarray(a, np.float64) - eps * np.asarray(t, np.float64) for a, t in zip(args, tangents)]
    from . import numpy as jnp
    f_plus = tree_leaves(f(*[jnp.asarray(p.astype(np.asarray(a).dtype)) for p, a in zip(plus, args)]))
    f_minus = tree_leaves(f(*[jnp.asarray(m.astype(np.asarray(a).dtype)) for m, a in zip(minus, args)]))
    return [(np.asarray(p, np.float64) - np.asarray(m, np.float64)) / (2 * eps)
            for p, m in zip(f_plus, f_minus)]


def _default_eps(dtype):
    return 1e-3 if np.dtype(dtype) == F32 else 1e-6


def _working_dtype(args, outs):
    """float32 if any float input or output is narrower than float64: finite
    differences and tolerances must follow the least precise value."""
    kinds = [np.asarray(x).dtype for x in list(args) + list(outs)]
    return F32 if any(d.kind == "f" and d.itemsize < 8 for d in kinds) else F64


def check_jvp(f, args, *, atol=None, rtol=None, eps=None, seed=0):
    """``jvp(f)`` along a random direction vs central differences."""
    from . import jvp
    from . import numpy as jnp
    rng = np.random.default_rng(seed)
    tangents = [rng.standard_normal(np.shape(a)).astype(np.asarray(a).dtype) for a in args]
    out, t_out = jvp(f, tuple(jnp.asarray(a) for a in args), tuple(jnp.asarray(t) for t in tangents))
    dtype = _working_dtype(args, tree_leaves(out))
    eps = eps or _default_eps(dtype)
    expected = _numerical_jvp(f, args, tangents, eps)
    tol = 2e-2 if dtype == F32 else 1e-5
    for got, want in zip(tree_leaves(t_out), expected):
        np.testing.assert_allclose(np.asarray(got, np.float64), want, atol=atol or tol, rtol=rtol or tol,
                                   err_msg="jvp disagrees with finite differences")


def check_vjp(f, args, *, atol=None, rtol=None, eps=None, seed=1):
    """``vjp(f)`` checked through the identity <ct, J t> = <J^T ct, t> against
    central differences of ``J t`` for a random direction ``t``."""
    from . import numpy as jnp
    from . import vjp
    rng = np.random.default_rng(seed)
    out, vjp_fun = vjp(f, *[jnp.asarray(a) for a in args])
    out_leaves, out_tree = tree_flatten(out)
    dtype = _working_dtype(args, out_leaves)
    eps = eps or _default_eps(dtype)
    cts = [rng.standard_normal(np.shape(o)).astype(np.asarray(o).dtype) for o in out_leaves]
    ct_in = tree_leaves(vjp_fun(out_tree.unflatten([jnp.asarray(c) for c in cts])))
    tangents = [rng.standard_normal(np.shape(a)).astype(np.asarray(a).dtype) for a in args]
    jt = _numerical_jvp(f, args, tangents, eps)
    lhs = sum(float(np.sum(np.asarray(c, np.float64) * j)) for c, j in zip(cts, jt))
    rhs = sum(float(np.sum(np.asarray(g, np.float64) * np.asarray(t, np.float64)))
              for g, t in zip(ct_in, tangents))
    tol = 2e-2 if dtype == F32 else 1e-5
    np.testing.assert_allclose(rhs, lhs, atol=atol or tol, rtol=rtol or tol,
                               err_msg="vjp disagrees with finite differences")


def check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None):
    """JAX-style numerical derivative check of ``f`` at ``args`` up to ``order``:
    forward mode (jvp) and/or reverse mode (vjp) against central differences,
    then recursively the derivatives of those derivatives."""
    from . import jvp, vjp
    from . import numpy as jnp
    args = [np.asarray(a) for a in args]
    kw = dict(atol=atol, rtol=rtol, eps=eps)
    if "fwd" in modes:
        check_jvp(f, args, **kw)
        if order > 1:
            rng = np.random.default_rng(order)
            tangents = [jnp.asarray(rng.standard_normal(np.shape(a)).astype(a.dtype)) for a in args]

            def f_jvp(*primals):
                return jvp(f, primals, tuple(tangents))[1]
            check_grads(f_jvp, args, order - 1, ("fwd",), **kw)
    if "rev" in modes:
        check_vjp(f, args, **kw)
        if order > 1:
            out = f(*[jnp.asarray(a) for a in args])
            rng = np.random.default_rng(order + 10)
            cts = [jnp.asarray(rng.standard_normal(np.shape(o)).astype(np.asarray(o).dtype))
                   for o in tree_leaves(out)]
            out_tree = tree_flatten(out)[1]

            def f_vjp(*primals):
                return vjp(f, *primals)[1](out_tree.unflatten(cts))
            check_grads(f_vjp, args, order - 1, ("rev",), **kw)


def grad_params(cases, dtypes=(F64,)):
    """pytest parameters for the gradient column: rows with ``grad_order > 0``,
    at their first non-empty shapes, in float64 (finite differences need it)."""
    import pytest
    params = []
    for case in cases:
        if not case.grad_order:
            continue
        for shapes in case.shapes[:2]:
            for dtype in dtypes:
                if np.dtype(dtype) not in [np.dtype(d) for d in case.dtypes]:
                    continue
                shape_id = "-".join("x".join(map(str, s)) or "scalar" for s in shapes)
                params.append(pytest.param(case, shapes, np.dtype(dtype),
                                           id=f"{case.name}-{shape_id}-{np.dtype(dtype).name}"))
    return params


def check_op_grads(case, shapes, dtype):
    """The op-table row's gradient column: ``check_grads`` forward and reverse
    to ``case.grad_order`` on the row's differentiable arguments."""
    with x64_context(dtype):
        args = make_args(case, shapes, dtype, seed=3)
        argnums = case.grad_argnums
        if argnums is None:
            argnums = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]
        fixed = list(args)

        def f(*diff):
            full = list(fixed)
            for i, d in zip(argnums, diff):
                full[i] = d
            from . import numpy as jnp
            return case.fun(*[jnp.asarray(a) if not isinstance(a, core.Array) else a for a in full])
        atol, rtol = case.grad_tol or (None, None)
        check_grads(f, [args[i] for i in argnums], case.grad_order, modes=case.grad_modes,
                    atol=atol, rtol=rtol)


# --- the vmap column ------------------------------------------------------------------------

def vmap_params(cases):
    """pytest parameters for the vmap column: each row at its first two
    non-empty shape sets and first dtype, for three batching layouts."""
    import pytest
    params = []
    for case in cases:
        if not getattr(case, "vmap", True):
            continue
        shape_sets = [s for s in case.shapes if all(d for shape in s for d in shape)][:2] or case.shapes[:1]
        for shapes in shape_sets:
            dtype = np.dtype(case.dtypes[0])
            shape_id = "-".join("x".join(map(str, s)) or "scalar" for s in shapes)
            for layout in ("all0", "last_first_only", "empty"):
                params.append(pytest.param(case, shapes, dtype, layout,
                                           id=f"{case.name}-{shape_id}-{dtype.name}-{layout}"))
    return params


def check_op_vmap(case, shapes, dtype, layout, batch=3):
    """``vmap(case.fun)`` equals a Python loop over the examples, stacked.

    Layouts: ``all0`` maps every argument over axis 0; ``last_first_only``
    maps the first argument over its last axis and leaves the others
    unbatched; ``empty`` maps every argument over a size-0 axis 0."""
    from . import numpy as jnp
    from . import vmap
    with x64_context(dtype):
        size = 0 if layout == "empty" else batch
        examples = [make_args(case, shapes, dtype, seed=10 + i) for i in range(max(size, 1))]
        if layout == "last_first_only":
            in_axes = (len(shapes[0]),) + (None,) * (len(shapes) - 1)
            stacked = [np.stack([ex[0] for ex in examples], axis=-1)] + examples[0][1:]
            per_example = [[ex[0]] + examples[0][1:] for ex in examples]
        else:
            in_axes = 0
            stacked = [np.stack([ex[i] for ex in examples[:size]]) if size
                       else np.zeros((0,) + tuple(shapes[i]), examples[0][i].dtype)
                       for i in range(len(shapes))]
            per_example = examples[:size]
        out = vmap(case.fun, in_axes=in_axes)(*[jnp.asarray(a) for a in stacked])
        out_leaves = tree_leaves(out)
        if size == 0:
            single = tree_leaves(case.fun(*[jnp.asarray(a) for a in examples[0]]))
            for got, one in zip(out_leaves, single):
                assert tuple(got.shape) == (0,) + tuple(one.shape), \
                    f"{case.name}: size-0 vmap gave {got.shape}, expected {(0,) + tuple(one.shape)}"
                assert got.dtype == one.dtype
            return
        loop = [tree_leaves(case.fun(*[jnp.asarray(a) for a in ex])) for ex in per_example]
        for k, got in enumerate(out_leaves):
            expected = np.stack([np.asarray(row[k]) for row in loop])
            assert got.dtype == loop[0][k].dtype, f"{case.name}: vmap dtype {got.dtype} != {loop[0][k].dtype}"
            assert_close(got, expected, got.dtype, case.tol, err_msg=f"{case.name} under vmap ({layout})")


# --- the three columns as pytest tests -------------------------------------------------------
# In a test module: ``test_op = values_test(CASES)``, ``test_op_grads =
# grads_test(CASES)``, ``test_op_vmap = vmap_test(CASES)``.

def values_test(cases):
    """Eager values and dtypes vs the NumPy reference, then staged vs eager."""
    import pytest

    @pytest.mark.parametrize("case,shapes,dtype", op_params(cases))
    def test(case, shapes, dtype):
        check_op(case, shapes, dtype)
    return test


def grads_test(cases):
    """The gradient column: check_grads forward and reverse."""
    import pytest

    @pytest.mark.parametrize("case,shapes,dtype", grad_params(cases))
    def test(case, shapes, dtype):
        check_op_grads(case, shapes, dtype)
    return test


def vmap_test(cases):
    """The vmap column: vmap equals a loop over examples, in three layouts."""
    import pytest

    @pytest.mark.parametrize("case,shapes,dtype,layout", vmap_params(cases))
    def test(case, shapes, dtype, layout):
        check_op_vmap(case, shapes, dtype, layout)
    return test


def quiet(ref):
    """A NumPy reference run without NumPy's warnings (empty means, all-NaN
    slices, log(0)): the reference's warnings are not what a test checks."""
    def run(*args):
        import warnings
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return ref(*args)
    return run


# --- the jit column --------------------------------------------------------------------------
# numba compiles cost ~0.3-3 s each, so the column compiles few programs per
# table and x64 setting: every row at its first shape set and first dtype,
# rows batched into jitted functions of about PROGRAM_EQNS equations (a
# numba compile grows faster than the program: one program for a whole
# table compiled several times slower than the same rows in chunks). Each
# row's test then compares its slice of a program's outputs with eager
# evaluation. The programs go to a per-session temporary cache directory, so
# tests never touch the user's cache.

PROGRAM_EQNS = 150

def _jit_cache_dir():
    import os
    import tempfile
    if "NUMBAX_TEST_CACHE_DIR" not in os.environ:
        os.environ["NUMBAX_TEST_CACHE_DIR"] = tempfile.mkdtemp(prefix="numbax-test-cache-")
        os.environ["NUMBAX_CACHE_DIR"] = os.environ["NUMBAX_TEST_CACHE_DIR"]


def _jit_row(case):
    shapes = next((s for s in case.shapes if all(d for shape in s for d in shape)), case.shapes[0])
    # numba has no float16 arithmetic on CPU: the column uses the row's next dtype.
    dtypes = [np.dtype(d) for d in case.dtypes if np.dtype(d) != np.float16] or [np.dtype(case.dtypes[0])]
    return shapes, dtypes[0]


class _JitTable:
    """The compiled program of one table, built on first use."""

    def __init__(self, cases):
        self.cases = [c for c in cases if getattr(c, "jit", True)
                      and any(np.dtype(d) != np.float16 for d in c.dtypes)]
        self.results = None

    def _group(self, x64):
        return [c for c in self.cases if (_jit_row(c)[1].itemsize == 8 and _jit_row(c)[1].kind in "iuf") == x64]

    def run(self):
        from . import jit
        from . import numpy as jnp
        from ._src.backends.chunks import count_eqns
        from ._src.backends.plan import lowering_rule
        from .errors import ConcretizationTypeError, TracerArrayConversionError
        if self.results is not None:
            return self.results
        _jit_cache_dir()
        self.results = {}
        for x64 in (False, True):
            group = self._group(x64)
            if not group:
                continue
            with enable_x64(x64):
                rows, args, sizes = [], [], []
                for case in group:
                    shapes, dtype = _jit_row(case)
                    row_args = [jnp.asarray(a) for a in make_args(case, shapes, dtype, seed=5)]
                    try:
                        closed = jit(case.fun).trace(*row_args).jaxpr
                    except (ConcretizationTypeError, TracerArrayConversionError) as err:
                        self.results[id(case)] = ("untraceable", str(err).split("\n")[0])
                        continue
                    try:
                        _check_lowerable(closed.jaxpr, lowering_rule)
                    except NotImplementedError as err:
                        self.results[id(case)] = ("error", err)
                        continue
                    rows.append(case)
                    args.append(row_args)
                    sizes.append(count_eqns(closed.jaxpr))
                start = 0
                while start < len(rows):  # chunks of about PROGRAM_EQNS equations
                    stop, total = start, 0
                    while stop < len(rows) and (stop == start or total + sizes[stop] <= PROGRAM_EQNS):
                        total += sizes[stop]
                        stop += 1
                    self._run_program(rows[start:stop], args[start:stop])
                    start = stop
        return self.results

    def _run_program(self, rows, args):
        from . import jit

        def program(all_args):
            return [case.fun(*a) for case, a in zip(rows, all_args)]
        jitted = jit(program)
        try:
            outs = jitted(args)
            again = jitted(args)
        except Exception:  # noqa: BLE001  (find the row that breaks the batch)
            outs = again = None
        for k, case in enumerate(rows):
            if outs is None:
                try:
                    single = jit(case.fun)
                    out, second = single(*args[k]), single(*args[k])
                    self.results[id(case)] = ("ok", args[k], out, second, single.trace_count)
                except Exception as err:  # noqa: BLE001
                    self.results[id(case)] = ("error", err)
                continue
            self.results[id(case)] = ("ok", args[k], outs[k], again[k], jitted.trace_count)


def _check_lowerable(jaxpr, lowering_rule):
    from ._src import core as _core
    for eqn in jaxpr.eqns:
        lowering_rule(eqn.primitive, "cpu")
        for value in eqn.params.values():
            for sub in value if isinstance(value, tuple) else (value,):
                if isinstance(sub, _core.ClosedJaxpr):
                    _check_lowerable(sub.jaxpr, lowering_rule)
                elif isinstance(sub, _core.Jaxpr):
                    _check_lowerable(sub, lowering_rule)


def check_op_jit(table, case):
    """The row's output from the table's jitted program equals eager
    evaluation (dtype exactly, values to the row's tolerance), and calling
    the program again did not trace again."""
    results = table.run()
    status, *rest = results[id(case)]
    if status == "untraceable":
        import pytest
        pytest.skip(f"{case.name} needs concrete values, so it cannot be traced under jit: {rest[0]}")
    if status == "error":
        raise rest[0]
    args, out, again, trace_count = rest
    shapes, dtype = _jit_row(case)
    with x64_context(dtype):
        expected = case.fun(*args)
    got_leaves, expected_leaves = tree_leaves(out), tree_leaves(expected)
    assert len(got_leaves) == len(expected_leaves)
    for got, want, second in zip(got_leaves, expected_leaves, tree_leaves(again)):
        assert got.dtype == want.dtype, f"{case.name} under jit: dtype {got.dtype}, eager {want.dtype}"
        assert_close(got, want, want.dtype, case.tol, err_msg=f"{case.name} under jit vs eager")
        np.testing.assert_array_equal(np.asarray(second), np.asarray(got))
    assert trace_count == 1, f"{case.name}: the second call traced again ({trace_count} traces)"


def jit_test(cases):
    """The jit column: one compiled program per table; each row's result
    under jit equals eager evaluation, and a second call does not retrace."""
    import pytest
    table = _JitTable(cases)

    @pytest.mark.parametrize("case", table.cases, ids=[c.name for c in table.cases])
    def test(case):
        check_op_jit(table, case)
    return test


# --- package READMEs ---------------------------------------------------------------------------

def readme_test(test_file, package, optionflags=None, min_examples=1, requires=()):
    """A pytest test running the doctest examples of ``packages/<package>/README.md``
    of the source checkout that holds ``test_file`` (``tests/<pkg>/test_readme.py``):
    ``test_readme = readme_test(__file__, "core")``. Skipped, saying why, when the
    README is not there (tests run from an installed copy) or a module named in
    ``requires`` is not installed."""
    import doctest
    import importlib.util
    import pathlib

    import pytest
    readme = pathlib.Path(test_file).resolve().parents[2] / "packages" / package / "README.md"
    flags = doctest.ELLIPSIS if optionflags is None else optionflags
    missing = [name for name in requires if importlib.util.find_spec(name) is None]

    @pytest.mark.skipif(not readme.exists(), reason="run from a source checkout: the README is not installed")
    @pytest.mark.skipif(bool(missing), reason=f"the README's examples need {', '.join(missing)}, not installed")
    def test():
        result = doctest.testfile(str(readme), module_relative=False, optionflags=flags)
        assert result.attempted >= min_examples
        assert result.failed == 0, f"{result.failed} README example(s) failed; run python -m doctest {readme}"
    return test
