"""numbax.jit: tracing once per signature, the pjit primitive under grad and
vmap (both orders), static arguments, inspection (lower/compile/source), the
persistent program cache across processes, and error messages."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import numbax
from numbax._src.config import enable_x64
import numbax.numpy as jnp
from numbax import lax
from numbax.test_util import _jit_cache_dir

_jit_cache_dir()


def _f(x, y):
    return jnp.sin(jnp.cos(x)) * jnp.tanh(x) + x * y


def _np_f(x, y):
    return np.sin(np.cos(x)) * np.tanh(x) + x * y


def test_values_match_numpy_and_trace_once():
    f = numbax.jit(_f)
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    y = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = f(jnp.asarray(x), jnp.asarray(y))
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_allclose(np.asarray(out), _np_f(x.astype(np.float64), y), rtol=2e-6, atol=1e-6)
    f(jnp.asarray(x) + 1.0, jnp.asarray(y))
    assert f.trace_count == 1
    f(jnp.ones((2, 2)), jnp.ones((2, 2)))  # new shape: new trace
    assert f.trace_count == 2


def test_retrace_rules_weak_types_and_numpy_inputs():
    f = numbax.jit(lambda x, s: x * s)
    x = jnp.arange(4.0)
    r1 = f(x, 2.0)                      # weak f32 scalar
    r2 = f(x, 3.0)                      # same signature
    assert f.trace_count == 1
    np.testing.assert_array_equal(np.asarray(r2), [0.0, 3.0, 6.0, 9.0])
    assert r1.dtype == np.float32
    f(x, np.float32(2.0))               # strongly typed scalar: a new signature
    assert f.trace_count == 2
    out = f(np.arange(4, dtype=np.float32), 2.0)  # NumPy input, same avals as x
    assert f.trace_count == 2
    np.testing.assert_array_equal(np.asarray(out), [0.0, 2.0, 4.0, 6.0])
    weak = numbax.jit(lambda s: s * 2)(3.0)
    assert weak.weak_type and weak.dtype == np.float32 and float(weak) == 6.0


def test_array_only_calls_key_on_dtype_shape_weak_type_and_x64():
    # Calls whose arguments are all numbax arrays take a path without pytree
    # flattening; it must still retrace for every change of signature.
    f = numbax.jit(lambda x, y: x * 2 + y)
    a = jnp.arange(3.0)
    np.testing.assert_array_equal(np.asarray(f(a, a)), [0.0, 3.0, 6.0])
    np.testing.assert_array_equal(np.asarray(f(a + 1, a)), [2.0, 5.0, 8.0])
    assert f.trace_count == 1
    ints = f(jnp.arange(3), jnp.arange(3))
    assert ints.dtype == np.int32 and f.trace_count == 2
    np.testing.assert_array_equal(np.asarray(ints), [0, 3, 6])
    weak = f(jnp.asarray(1.0), jnp.asarray(2.0))  # weak scalars in, weak scalar out
    assert f.trace_count == 3 and float(weak) == 4.0
    with enable_x64():
        wide = f(a, a)
    assert f.trace_count == 4 and np.asarray(wide).dtype == np.float32
    out = f(a, a)
    assert f.trace_count == 4
    assert out.dtype == np.float32 and not out.weak_type
    f.clear_cache()
    f(a, a)
    assert f.trace_count == 5


def test_pytrees_in_and_out():
    @numbax.jit
    def f(params, x):
        return {"y": params["w"] @ x + params["b"], "n": jnp.sum(x)}
    params = {"w": jnp.ones((2, 3)), "b": jnp.array([1.0, -1.0])}
    out = f(params, jnp.arange(3.0))
    np.testing.assert_array_equal(np.asarray(out["y"]), [4.0, 2.0])
    assert float(out["n"]) == 3.0


def test_static_argnums_and_argnames():
    def f(x, n, *, mode="sum"):
        y = x ** n
        return jnp.sum(y) if mode == "sum" else jnp.max(y)
    g = numbax.jit(f, static_argnums=1, static_argnames="mode")
    x = jnp.arange(4.0)
    assert float(g(x, 2)) == 14.0
    assert float(g(x, 3, mode="max")) == 27.0
    assert float(g(x, 2)) == 14.0
    assert g.trace_count == 2
    assert float(g(x, n=2)) == 14.0  # static by name too
    with pytest.raises(ValueError, match="static argument .* must be hashable"):
        g(x, [2])


def test_closure_constants_and_clear_cache():
    w = jnp.arange(3.0)
    f = numbax.jit(lambda x: x * w)
    np.testing.assert_array_equal(np.asarray(f(jnp.ones(3))), [0.0, 1.0, 2.0])
    f.clear_cache()
    f(jnp.ones(3))
    assert f.trace_count == 2
    numbax.clear_caches()
    f(jnp.ones(3))
    assert f.trace_count == 3


def test_pjit_prints_like_jax():
    inner = numbax.jit(lambda x: jnp.sin(x) * 2.0)
    text = str(numbax.make_jaxpr(lambda x: inner(x) + 1.0)(jnp.ones(3)))
    assert "pjit[" in text and "name=<lambda>" in text and "jaxpr={ lambda ; " in text


def _loss(w, x):
    return jnp.sum(jnp.tanh(x @ w) ** 2)


def _np_loss_grad(w, x):
    h = np.tanh(x @ w)
    return x.T @ (2 * h * (1 - h ** 2))


@pytest.mark.parametrize("order", ["jit(grad)", "grad(jit)"])
def test_grad_compositions(order):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 5)).astype(np.float32) * 0.3
    x = rng.standard_normal((3, 4)).astype(np.float32)
    fun = numbax.jit(numbax.grad(_loss)) if order == "jit(grad)" else numbax.grad(numbax.jit(_loss))
    g = fun(jnp.asarray(w), jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(g), _np_loss_grad(w.astype(np.float64), x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("order", ["jit(vmap)", "vmap(jit)"])
def test_vmap_compositions(order):
    def f(x):
        return jnp.sum(jnp.sin(x) * x)
    xs = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    fun = numbax.jit(numbax.vmap(f)) if order == "jit(vmap)" else numbax.vmap(numbax.jit(f))
    out = fun(jnp.asarray(xs))
    np.testing.assert_allclose(np.asarray(out), np.sum(np.sin(xs) * xs, axis=1), rtol=1e-6)


def test_jit_of_vmap_of_grad_and_nested_jit():
    inner = numbax.jit(lambda w, x: _loss(w, x[None]))
    per_example = numbax.jit(numbax.vmap(numbax.grad(inner), in_axes=(None, 0)))
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 2)).astype(np.float32)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    got = per_example(jnp.asarray(w), jnp.asarray(x))
    want = np.stack([_np_loss_grad(w.astype(np.float64), x[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-5)


def test_lower_as_text_and_compile_source():
    f = numbax.jit(_f)
    x = jnp.ones((3, 4))
    lowered = f.lower(x, x)
    text = lowered.as_text()
    assert "{ lambda ; a:f32[3,4] b:f32[3,4]. let" in text
    assert "fused loop [3, 4]: cos, sin, tanh, mul, mul, add" in text
    compiled = lowered.compile()
    assert "@numba.njit(" in compiled.source and "def program(" in compiled.source
    assert "# numbax program " in compiled.source and os.path.exists(compiled.path)
    np.testing.assert_allclose(np.asarray(compiled(x, x)), _np_f(np.ones((3, 4)), 1.0), rtol=2e-6)


def test_python_if_on_traced_value_names_cond_and_static_argnums():
    @numbax.jit
    def f(x):
        if x > 0:
            return x
        return -x
    with pytest.raises(numbax.errors.ConcretizationTypeError,
                       match=r"inside jit\(f\).*lax\.cond.*static_argnums"):
        f(jnp.float32(1.0))


def test_leaked_tracer_is_reported():
    leaked = []

    @numbax.jit
    def f(x):
        leaked.append(x)
        return x + 1.0
    f(jnp.ones(2))
    with pytest.raises(numbax.errors.UnexpectedTracerError, match=r"jit\(f\)"):
        jnp.sin(leaked[0])


def test_missing_lowering_names_the_primitive():
    from numbax._src.core import Primitive, ShapedArray
    mystery_p = Primitive("mystery")
    mystery_p.def_abstract_eval(lambda x: ShapedArray(x.shape, x.dtype))
    mystery_p.def_impl(lambda x: x)
    f = numbax.jit(lambda x: mystery_p.bind(x))
    with pytest.raises(NotImplementedError, match=r"cannot lower the primitive 'mystery'.*def_lowering"):
        f(jnp.ones(2))


def test_donate_argnums_is_accepted_and_checked():
    f = numbax.jit(lambda x: x * 2.0, donate_argnums=0)
    np.testing.assert_array_equal(np.asarray(f(jnp.ones(2))), [2.0, 2.0])
    with pytest.raises(ValueError, match="donate_argnums .* overlap static_argnums"):
        numbax.jit(lambda x, n: x, static_argnums=1, donate_argnums=1)


def test_outputs_do_not_alias_numpy_inputs():
    x = np.ones(3, np.float32)
    out = numbax.jit(lambda a: a)(x)
    x[0] = 5.0
    assert float(out[0]) == 1.0


_CHILD = textwrap.dedent("""
    import numpy as np, numbax, numbax.numpy as jnp
    from numbax._src.backends import cpu
    f = numbax.jit(lambda x, y: jnp.tanh(x @ y) + 1.0)
    out = f(jnp.ones((4, 3)), jnp.ones((3, 2)))
    print(cpu.stats["compiled"], cpu.stats["cache_hits"], float(out[0, 0]))
""")


def test_second_process_loads_programs_from_the_disk_cache(tmp_path):
    env = dict(os.environ, NUMBAX_CACHE_DIR=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    compiled, hits, value = first.stdout.split()
    assert (int(compiled), int(hits)) == (1, 0)
    compiled, hits, value2 = second.stdout.split()
    assert (int(compiled), int(hits)) == (0, 1), second.stdout
    assert value == value2 and abs(float(value) - (np.tanh(3.0) + 1.0)) < 1e-6
    assert any(name.startswith("p_") and name.endswith(".py") for name in os.listdir(tmp_path))


_KERNEL_CHILD = textwrap.dedent("""
    import numpy as np, numbax
    from numbax import lax
    from numbax._src.backends import cpu
    f = numbax.jit(lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                                         dimension_numbers=("NHWC", "HWIO", "NHWC")))
    out = np.asarray(f(np.ones((2, 5, 5, 3), np.float32), np.ones((3, 3, 3, 4), np.float32)))
    print(cpu.stats["compiled"], cpu.stats["cache_hits"], out[0, 0, 0, 0], out[0, 2, 2, 0])
""")


def test_second_process_loads_a_program_whose_kernels_run_on_numbas_threads(tmp_path):
    """A program with no parallel loop of its own that calls a parallel kernel
    (a convolution) is compiled parallel=True: numba sets up its threads when it
    loads such a program from its cache (it crashed, loaded parallel=False)."""
    env = dict(os.environ, NUMBAX_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", _KERNEL_CHILD], env=env, capture_output=True, text=True)
            for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr[-2000:]
    assert [r.stdout.split()[:2] for r in runs] == [["1", "0"], ["0", "1"]]
    # a corner sees 2x2 taps of 3 channels, the centre all 3x3
    assert [float(v) for v in runs[1].stdout.split()[2:]] == [12.0, 27.0]


def test_programs_fall_back_to_numba_dot_without_numpys_blas(tmp_path):
    """Where NumPy's own gemm is not used (NUMBAX_NUMPY_BLAS=0 stands in for a
    NumPy built on another BLAS), products go through numba's np.dot, and a
    program compiled to call NumPy's gemm is not loaded from the cache."""
    env = dict(os.environ, NUMBAX_CACHE_DIR=str(tmp_path))
    subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    env["NUMBAX_NUMPY_BLAS"] = "0"
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    compiled, hits, value = out.stdout.split()
    assert (int(compiled), int(hits)) == (1, 0), out.stdout
    assert abs(float(value) - (np.tanh(3.0) + 1.0)) < 1e-6


def test_cache_disabled_with_empty_dir():
    env = dict(os.environ, NUMBAX_CACHE_DIR="")
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    compiled, hits, _ = out.stdout.split()
    assert (int(compiled), int(hits)) == (1, 0)


def test_cache_cleanup_keeps_the_directory_bounded(tmp_path):
    from numbax._src.backends import cache
    for k in range(5):
        path = tmp_path / f"p_{k:020d}.py"
        path.write_text("x" * 1000)
        os.utime(path, (k, k))
    cache.cleanup(str(tmp_path), max_bytes=2500)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["p_00000000000000000003.py", "p_00000000000000000004.py"]


def test_lax_ops_lower_inside_one_program():
    @numbax.jit
    def f(x, i):
        y = lax.select(x > 0, x, -x)
        z = lax.shift_left(i, jnp.int32(3)) ^ lax.shift_right_logical(i, jnp.int32(1))
        return lax.reduce_max(y, (0,)), z, lax.convert_element_type(x * 2.7, np.int32)
    x = np.array([-1.5, 2.0, -3.25], np.float32)
    i = np.array([1, -8, 123456789], np.int32)
    m, z, c = f(jnp.asarray(x), jnp.asarray(i))
    assert float(m) == 3.25
    np.testing.assert_array_equal(np.asarray(z), (i << 3) ^ (i.view(np.uint32) >> 1).view(np.int32))
    np.testing.assert_array_equal(np.asarray(c), np.trunc(x * np.float32(2.7)).astype(np.int32))


def test_control_flow_compiles_to_loops_and_branches():
    def rnn(w, xs):
        def step(h, x):
            h = jnp.tanh(h @ w + x)
            return h, jnp.sum(h)
        h, ys = lax.scan(step, jnp.zeros((2, 3)), xs)
        return jnp.sum(h) + jnp.sum(ys)
    rng = np.random.default_rng(2)
    w = jnp.asarray(rng.standard_normal((3, 3)).astype(np.float32) * 0.5)
    xs = jnp.asarray(rng.standard_normal((6, 2, 3)).astype(np.float32))
    np.testing.assert_allclose(float(numbax.jit(rnn)(w, xs)), float(rnn(w, xs)), rtol=1e-5)
    for fun in (numbax.jit(numbax.grad(rnn)), numbax.grad(numbax.jit(rnn))):
        np.testing.assert_allclose(np.asarray(fun(w, xs)), np.asarray(numbax.grad(rnn)(w, xs)), rtol=1e-4,
                                   atol=1e-6)
    source = numbax.jit(rnn).lower(w, xs).compile().source
    assert "for step" in source
    loop = numbax.jit(lambda x: lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * 1.5), (0, x)))
    count, value = loop(jnp.ones(2))
    assert int(count) == 10
    np.testing.assert_allclose(np.asarray(value), [1.5 ** 10] * 2, rtol=1e-6)
    branches = numbax.jit(lambda i, x: lax.switch(i, [lambda x: x + 1, lambda x: x * 2, lambda x: -x], x))
    got = [float(branches(i, jnp.float32(3.0))) for i in (-1, 0, 1, 2, 5)]
    assert got == [4.0, 4.0, 6.0, -3.0, -3.0]
    assert branches.trace_count == 1
    fori = numbax.jit(lambda x: lax.fori_loop(0, 5, lambda i, c: c + i, x))
    assert float(fori(jnp.float32(0.5))) == 10.5
