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
