"""Background compilation (backends/background.py): while a program is not in
the disk cache, jit calls evaluate its jaxpr op by op and a worker process
compiles it; later calls load the worker's machine code from the cache."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax._src.backends import background, cpu


@pytest.fixture
def background_compile(tmp_path, monkeypatch):
    """Background compilation on (the suite turns it off), into an empty cache."""
    monkeypatch.setenv("NUMBAX_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NUMBAX_BACKGROUND_COMPILE", "1")  # for workers and child processes
    numbax.config.update("numbax_background_compile", True)
    try:
        yield tmp_path
    finally:
        background.wait_all()  # no worker outlives its test
        numbax.config.update("numbax_background_compile", False)


def _chain(x, y):
    return jnp.sin(x) * jnp.tanh(y) + x @ y.T


def _chain_numpy(x, y):
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    return np.sin(x64) * np.tanh(y64) + x64 @ y64.T


def test_calls_run_op_by_op_until_the_worker_is_done(background_compile, rng):
    x, y = rng.standard_normal((2, 6, 6)).astype(np.float32)
    f = numbax.jit(_chain)
    before = dict(cpu.stats)
    first = f(x, y)
    second = f(x, y)
    np.testing.assert_allclose(np.asarray(first), _chain_numpy(x, y), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(second), np.asarray(first))
    assert (cpu.stats["compiled"], cpu.stats["cache_hits"]) == (before["compiled"], before["cache_hits"])
    executable = f.lower(x, y).compile().executable  # waits for the worker, loads its code
    assert executable.compiled and executable.job.succeeded
    assert (cpu.stats["compiled"], cpu.stats["cache_hits"]) == (before["compiled"], before["cache_hits"] + 1)
    np.testing.assert_allclose(np.asarray(f(x, y)), _chain_numpy(x, y), rtol=1e-5, atol=1e-5)
    assert any(name.endswith(".compiled") for name in os.listdir(background_compile))


def test_op_by_op_outputs_do_not_alias_inputs(background_compile):
    x = np.ones(3, np.float32)
    out = numbax.jit(lambda a, b: (a, b + 1.0))(x, x)
    x[0] = 5.0
    np.testing.assert_array_equal(np.asarray(out[0]), [1.0, 1.0, 1.0])
    assert out[0].dtype == np.float32 and out[1].dtype == np.float32


def test_nested_programs_start_no_worker_of_their_own(background_compile, rng):
    inner = numbax.jit(lambda v: jnp.cos(v) * 3.0)
    outer = numbax.jit(lambda v: inner(v) + inner(v * 2.0))
    x = rng.standard_normal(5).astype(np.float32)
    started = background.stats["workers"]
    out = outer(x)
    assert background.stats["workers"] == started + 1
    np.testing.assert_allclose(np.asarray(out), np.cos(x) * 3.0 + np.cos(x * 2.0) * 3.0, rtol=1e-6)
    outer.lower(x).compile()


def test_a_failed_worker_leaves_the_compile_to_the_caller(background_compile, monkeypatch, rng):
    monkeypatch.setattr(background.Job, "command", lambda self: [sys.executable, "-c", "raise SystemExit(3)"])
    f = numbax.jit(lambda v: jnp.exp(v) - 1.0)
    x = rng.standard_normal(4).astype(np.float32)
    before = cpu.stats["compiled"]
    np.testing.assert_allclose(np.asarray(f(x)), np.expm1(x), rtol=1e-5, atol=1e-6)
    executable = f.lower(x).compile().executable
    assert executable.job.finished and not executable.job.succeeded
    assert cpu.stats["compiled"] == before + 1  # compiled here instead
    np.testing.assert_allclose(np.asarray(f(x)), np.expm1(x), rtol=1e-5, atol=1e-6)


def test_while_loops_and_long_scans_compile_before_the_first_result():
    def body(c):
        return c + 1.0

    def looped(v):
        return numbax.lax.while_loop(lambda c: c[0] < 10.0, body, v)

    def scanned(v, length):
        return numbax.lax.scan(lambda c, _: (c * 0.5, None), v, None, length=length)[0]

    v = jnp.zeros(3)
    assert background._eager_ops(numbax.make_jaxpr(looped)(v).jaxpr) == float("inf")
    short = background._eager_ops(numbax.make_jaxpr(lambda v: scanned(v, 10))(v).jaxpr)
    long = background._eager_ops(numbax.make_jaxpr(lambda v: scanned(v, 10_000))(v).jaxpr)
    assert short <= background.INTERPRET_MAX_OPS < long
    assert long >= 10_000


_CHILD = textwrap.dedent("""
    import sys, numpy as np, numbax, numbax.numpy as jnp
    from numbax._src.backends import background, cpu
    f = numbax.jit(lambda x: jnp.tanh(x) * 2.0 + jnp.sum(x))
    x = np.linspace(-1, 1, 7, dtype=np.float32)
    out = f(x)
    numba_loaded = "numba" in sys.modules
    want = np.tanh(x.astype(np.float64)) * 2.0 + x.astype(np.float64).sum()
    assert np.allclose(np.asarray(out), want, atol=1e-5), (out, want)
    f.lower(x).compile()
    assert np.allclose(np.asarray(f(x)), want, atol=1e-5)
    print(numba_loaded, background.stats["workers"], cpu.stats["compiled"], cpu.stats["cache_hits"])
""")


def test_fresh_processes_first_evaluate_then_load_from_the_cache(background_compile):
    def child():
        out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    # Empty cache: the first result comes op by op, without even importing
    # numba; a worker compiles; .compile() waits for it and loads its code.
    assert child() == ["False", "1", "0", "1"]
    # Warm cache: the program loads before the first call returns, no worker.
    assert child() == ["True", "0", "0", "1"]


def test_a_program_another_process_compiles_is_watched_not_recompiled(background_compile, rng):
    from numbax._src.backends import cache
    from numbax._src.jit import executable_for
    f = numbax.jit(lambda v: jnp.log1p(v * v))
    x = rng.standard_normal(4).astype(np.float32)
    executable = executable_for(f.trace(x).jaxpr, "f")  # the one the calls run; nothing compiled yet
    assert cache.claim_compile(executable.path)  # as a worker of another process would
    np.testing.assert_allclose(np.asarray(f(x)), np.log1p(x * x), rtol=1e-6)
    assert executable.job.process is None and not executable.job.done()  # watching, no worker of its own
    assert not cache.claim_compile(executable.path)
    cache.release_compile(executable.path)  # that worker died without a result
    assert executable.job.done() and not executable.job.succeeded
    np.testing.assert_allclose(np.asarray(f(x)), np.log1p(x * x), rtol=1e-6)  # compiled here now
    assert executable.compiled


def test_programs_calling_user_kernels_compile_in_this_process(background_compile):
    import numba

    @numba.njit
    def double(x, out):
        for i in range(x.size):
            out.flat[i] = 2.0 * x.flat[i]

    def with_kernel(v):
        doubled = numbax.numba_call(double, jnp.sin(v), result_shape_dtypes=numbax.ShapeDtypeStruct(v.shape, v.dtype))
        return doubled + 1.0

    v = jnp.ones(3)
    assert background.wanted(numbax.make_jaxpr(lambda v: jnp.sin(v) + 1.0)(v).jaxpr, True)
    assert not background.wanted(numbax.make_jaxpr(with_kernel)(v).jaxpr, True)
    nested = numbax.make_jaxpr(lambda v: numbax.lax.scan(lambda c, x: (c + with_kernel(x), None), v, v[None])[0])
    assert not background.wanted(nested(v).jaxpr, True)
