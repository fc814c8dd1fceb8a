"""Host callbacks and user kernels: numbax.debug.print, numbax.pure_callback,
numbax.numba_call, eagerly and compiled, under vmap and grad.

Numba compiles are slow, so each test compiles one or two small programs
that check several things at once."""

import numba
import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax

F32 = np.float32


def lines(capsys):
    return capsys.readouterr().out.splitlines()


# --- debug.print ---------------------------------------------------------------------

def test_debug_print_eager_jit_and_scan_in_program_order(capsys):
    x = jnp.array([0.0, 1.0, 2.0])
    numbax.debug.print("x = {} total={t:.2f}", x, t=jnp.sum(x), ordered=True)
    numbax.debug.callback(lambda a, b: print("callback", a.dtype, b), x[:2], b=jnp.int32(4))
    assert lines(capsys) == ["x = [0. 1. 2.] total=3.00", "callback float32 4"]

    def body(c, xi):
        numbax.debug.print("step c={} x={}", c, xi)
        return c + xi, c * xi

    @numbax.jit
    def f(xs):
        numbax.debug.print("start {}", xs)
        y = jnp.sin(xs) * 2.0
        numbax.debug.print("y[0]={}", y[0])
        c, ys = numbax.lax.scan(body, 0.0, xs)
        numbax.debug.print("end c={}", c)
        return y, ys
    y, ys = f(x)
    expected = ["start [0. 1. 2.]", "y[0]=0.0", "step c=0.0 x=0.0", "step c=0.0 x=1.0",
                "step c=1.0 x=2.0", "end c=3.0"]
    assert lines(capsys) == expected
    np.testing.assert_allclose(np.asarray(y), np.sin(np.asarray(x)) * 2, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(ys), [0.0, 0.0, 2.0])
    f(x + 1.0)  # same signature: no retrace, prints the new values
    assert lines(capsys)[0] == "start [1. 2. 3.]"
    assert f.trace_count == 1
    source = f.lower(x).compile().source
    assert "numba.objmode()" in source and "nogil=False" in source


def test_debug_print_under_vmap_prints_each_example(capsys):
    def f(x, k):
        numbax.debug.print("x={} k={}", x, k)
        return x * 2

    numbax.vmap(f, in_axes=(0, None))(jnp.arange(3), 7)
    assert lines(capsys) == ["x=0 k=7", "x=1 k=7", "x=2 k=7"]
    out = numbax.jit(numbax.vmap(f, in_axes=(0, None)))(jnp.arange(3), 7)
    assert lines(capsys) == ["x=0 k=7", "x=1 k=7", "x=2 k=7"]
    np.testing.assert_array_equal(np.asarray(out), [0, 2, 4])


def test_debug_print_under_grad_prints_primals_once(capsys):
    def loss(x):
        numbax.debug.print("x={}", x)
        return jnp.sum(jnp.sin(x))
    x = jnp.array([0.5, 1.0])
    g = numbax.grad(loss)(x)
    assert lines(capsys) == ["x=[0.5 1. ]"]
    np.testing.assert_allclose(np.asarray(g), np.cos([0.5, 1.0]), rtol=1e-6)
    g2 = numbax.grad(numbax.jit(loss))(x)  # the tangent program does not print again
    assert lines(capsys) == ["x=[0.5 1. ]"]
    np.testing.assert_allclose(np.asarray(g2), np.cos([0.5, 1.0]), rtol=1e-6)


def test_debug_print_in_loop_bodies_under_derivatives_prints_each_step_once(capsys):
    def loss(w):
        def step(h, x):
            numbax.debug.print("h={h:.2f}", h=h)
            h = lax.cond(x > 0, lambda h: jnp.tanh(w * h + x), lambda h: h * w, h)
            return h, None
        h = lax.scan(step, jnp.float32(0.5), jnp.array([1.0, -1.0, 2.0]))[0]
        return numbax.checkpoint(lambda h: h * 2.0)(h)
    expected_states, h = [], 0.5
    for x in (1.0, -1.0, 2.0):
        expected_states.append(f"h={h:.2f}")
        h = np.tanh(0.7 * h + x) if x > 0 else h * 0.7
    for transform in (numbax.grad, numbax.jacfwd, lambda f: numbax.jit(numbax.grad(f))):
        transform(loss)(jnp.float32(0.7))
        assert lines(capsys) == expected_states


def test_debug_print_rejects_a_non_string_format():
    with pytest.raises(TypeError, match="fmt must be a str, got int"):
        numbax.debug.print(3, jnp.ones(2))


# --- pure_callback -------------------------------------------------------------------

def test_pure_callback_eager_jit_and_result_checks():
    calls = []

    def host(a, b):
        calls.append(a.shape)
        assert isinstance(a, np.ndarray)
        return {"sorted": np.sort(a), "n": np.int32(a.size) + b}
    spec = {"sorted": numbax.ShapeDtypeStruct((4,), F32), "n": numbax.ShapeDtypeStruct((), np.int32)}
    x = jnp.array([3.0, 1.0, 4.0, 2.0])

    def f(x, b):
        out = numbax.pure_callback(host, spec, x * 2.0, b)
        return out["sorted"] + 1.0, out["n"]
    eager = f(x, jnp.int32(5))
    compiled = numbax.jit(f)(x, jnp.int32(5))
    for s, n in (eager, compiled):
        np.testing.assert_array_equal(np.asarray(s), [3.0, 5.0, 7.0, 9.0])
        assert int(n) == 9
    assert calls == [(4,), (4,)]

    bad = numbax.ShapeDtypeStruct((3,), F32)
    message = (r"pure_callback: the callback .*<lambda> returned \[f32\[4\]\] but result_shape_dtypes "
               r"declares \[f32\[3\]\]")
    with pytest.raises(TypeError, match=message):
        numbax.pure_callback(lambda a: a, bad, x)
    with pytest.raises(TypeError, match=message):
        numbax.jit(lambda x: numbax.pure_callback(lambda a: a, bad, x))(x)
    with pytest.raises(TypeError, match=r"returned \[f64\[4\]\].*declares \[f32\[4\]\]"):
        numbax.pure_callback(lambda a: a.astype(np.float64), numbax.ShapeDtypeStruct((4,), F32), x)


def test_pure_callback_vmap_methods_and_no_derivative():
    seen = []

    def host(a, b):
        seen.append((a.shape, b.shape))
        return a * b
    xs = jnp.arange(6.0).reshape(3, 2)
    w = jnp.array([10.0, 100.0])
    spec = numbax.ShapeDtypeStruct((2,), F32)
    for method, shapes in [(None, [((2,), (2,))] * 3), ("sequential", [((2,), (2,))] * 3),
                           ("expand_dims", [((3, 2), (1, 2))]), ("broadcast_all", [((3, 2), (3, 2))])]:
        seen.clear()
        out = numbax.vmap(lambda x: numbax.pure_callback(host, spec, x, w, vmap_method=method))(xs)
        np.testing.assert_array_equal(np.asarray(out), np.asarray(xs) * np.asarray(w))
        assert seen == shapes, method
    seen.clear()
    out = numbax.jit(numbax.vmap(lambda x: numbax.pure_callback(host, spec, x, w)))(xs)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(xs) * np.asarray(w))
    assert seen == [((2,), (2,))] * 3
    with pytest.raises(NotImplementedError, match=r"pure_callback \(.*host\).*custom_jvp or numbax.custom_vjp"):
        numbax.grad(lambda x: jnp.sum(numbax.pure_callback(host, spec, x, w)))(xs[0])
    with pytest.raises(ValueError, match="vmap_method must be one of"):
        numbax.pure_callback(host, spec, xs[0], w, vmap_method="vectorized")


# --- numba_call ----------------------------------------------------------------------

@numba.njit(cache=True)
def _scaled_softplus(x, out, scale):
    """out = scale * log(1 + exp(x)), fused in one loop."""
    for i in range(x.size):
        out.flat[i] = scale * np.log1p(np.exp(x.flat[i]))


@numba.njit(cache=True)
def _scaled_softplus_bwd(x, g, dx, scale):
    for i in range(x.size):
        dx.flat[i] = g.flat[i] * scale / (1.0 + np.exp(-x.flat[i]))


@numba.njit
def _row_sums(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i].sum()


def _softplus(x, scale=2.0):
    return numbax.numba_call(_scaled_softplus, x, result_shape_dtypes=numbax.ShapeDtypeStruct(x.shape, x.dtype),
                             scale=scale)


@numbax.custom_vjp
def fused_softplus(x):
    return _softplus(x)


def _fwd(x):
    return _softplus(x), x


def _bwd(x, g):
    spec = numbax.ShapeDtypeStruct(x.shape, x.dtype)
    return (numbax.numba_call(_scaled_softplus_bwd, x, g, result_shape_dtypes=spec, scale=2.0),)


fused_softplus.defvjp(_fwd, _bwd)


def test_numba_call_eager_jit_vmap():
    x = jnp.array([[-1.0, 0.0, 2.0], [0.5, 1.5, -3.0]])
    reference = 3.0 * np.log1p(np.exp(np.asarray(x, np.float64)))

    def f(x):
        y = _softplus(x, scale=3.0)
        sums = numbax.numba_call(_row_sums, y, result_shape_dtypes=numbax.ShapeDtypeStruct((2,), F32))
        return y, sums, numbax.vmap(lambda r: _softplus(r, scale=3.0))(x)
    for y, sums, batched in (f(x), numbax.jit(f)(x)):
        np.testing.assert_allclose(np.asarray(y), reference, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(sums), reference.sum(1), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(batched), reference, rtol=1e-6)
    source = numbax.jit(f).lower(x).compile().source
    assert "cb.kernels.k_scaled_softplus_" in source and "objmode" not in source
    with pytest.raises(NotImplementedError, match=r"numba_call \(_scaled_softplus\).*custom_vjp"):
        numbax.grad(lambda x: jnp.sum(_softplus(x)))(x)
    with pytest.raises(TypeError, match="kernel must be a @numba.njit function"):
        numbax.numba_call(np.sin, x, result_shape_dtypes=x)
    with pytest.raises(TypeError, match=r"static parameter scale=\[1\] must be a Python int, float or bool"):
        numbax.numba_call(_scaled_softplus, x, result_shape_dtypes=x, scale=[1])


def test_numba_call_with_custom_vjp_grad_matches_finite_differences():
    x = np.array([-1.5, -0.2, 0.3, 2.0], np.float32)
    loss = numbax.jit(numbax.value_and_grad(lambda x: jnp.sum(jnp.sin(fused_softplus(x)))))
    value, g = loss(jnp.asarray(x))
    x64 = x.astype(np.float64)

    def reference(v):
        return np.sum(np.sin(2.0 * np.log1p(np.exp(v))))
    eps = 1e-6
    fd = [(reference(x64 + eps * e) - reference(x64 - eps * e)) / (2 * eps) for e in np.eye(4)]
    np.testing.assert_allclose(float(value), reference(x64), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-4, atol=1e-5)


# --- donate_argnums ----------------------------------------------------------------------

def test_donate_argnums_reuses_the_buffer_and_deletes_the_argument():
    step = numbax.jit(lambda p, g: (p - 0.5 * g, jnp.sum(p)), donate_argnums=0)
    p, g = jnp.array(np.ones((4, 3), F32)), jnp.full((4, 3), 2.0)
    address = p._value.ctypes.data
    new, total = step(p, g)
    np.testing.assert_array_equal(np.asarray(new), np.zeros((4, 3)))
    assert float(total) == 12.0
    assert new._value.ctypes.data == address  # the output was written into p's buffer
    deleted = r"Array has been deleted: it was donated to jit\(<lambda>\) \(donate_argnums=\(0,\)\) as f32\[4,3\]"
    with pytest.raises(RuntimeError, match=deleted):
        p + 1.0
    with pytest.raises(RuntimeError, match=deleted):
        step(p, g)
    assert "# donated buffer" in step.lower(new, g).compile().source
    # A NumPy argument, or a buffer something else still sees, is never overwritten.
    a = np.ones((4, 3), np.float32)
    out, _ = step(a, g)
    assert a[0, 0] == 1.0 and float(out[0, 0]) == 0.0
    q = jnp.array(np.ones((4, 3), F32))
    view = np.asarray(q)
    out, _ = step(q, g)
    np.testing.assert_array_equal(view, np.ones((4, 3)))
    np.testing.assert_array_equal(np.asarray(out), np.zeros((4, 3)))


def test_donate_argnums_keeps_a_buffer_still_read_later():
    # p is read again after p * 2 in the same loop: its buffer must not be reused.
    f = numbax.jit(lambda p: (p * 2.0, (p + 1.0)[None] * jnp.ones((2, 1, 1))), donate_argnums=(0,))
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    doubled, shifted = f(jnp.asarray(x.copy()))
    np.testing.assert_array_equal(np.asarray(doubled), x * 2)
    np.testing.assert_array_equal(np.asarray(shifted), np.broadcast_to(x + 1, (2, 2, 3)))
    assert "# donated buffer" not in f.lower(jnp.asarray(x)).compile().source


_FRESH_PROCESS = """
import numba, numpy as np, numbax, numbax.numpy as jnp
from numbax._src.backends import cpu

@numba.njit
def twice(x, out):
    for i in range(x.size):
        out[i] = 2.0 * x[i]

def body(c, x):
    y = numbax.numba_call(twice, x, result_shape_dtypes=numbax.ShapeDtypeStruct(x.shape, x.dtype))
    numbax.debug.print("c={} y={}", c, y)
    return c + y.sum(), y

f = numbax.jit(lambda xs: numbax.lax.scan(body, 0.0, xs))
c, ys = f(jnp.arange(4.0).reshape(2, 2))
print("result", float(c), np.asarray(ys).tolist(), "compiled", cpu.stats["compiled"], "hits", cpu.stats["cache_hits"])
"""


def test_programs_with_callbacks_and_kernels_hit_the_disk_cache_in_a_fresh_process(tmp_path):
    import os
    import subprocess
    import sys
    env = {**os.environ, "NUMBAX_CACHE_DIR": str(tmp_path)}

    def run():
        done = subprocess.run([sys.executable, "-c", _FRESH_PROCESS], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()
    printed = ["c=0.0 y=[0. 2.]", "c=2.0 y=[4. 6.]", "result 12.0 [[0.0, 2.0], [4.0, 6.0]] compiled {} hits {}"]
    assert run() == printed[:2] + [printed[2].format(1, 0)]
    assert run() == printed[:2] + [printed[2].format(0, 1)]  # same program text: loaded, not compiled
