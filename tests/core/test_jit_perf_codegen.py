"""What the CPU backend generates for the performance-critical shapes of code:
matmuls go to BLAS, elementwise chains are one loop over xmath's vectorizable
kernels, column sums walk memory in order, and small loops stay serial.

Most checks read ``jit(f).lower(*args).compile().source`` (rendering a program
does not run numba); one program is compiled and checked against NumPy."""

import re

import numpy as np
import pytest

import numbax
import numbax.numpy as xnp
from numbax import lax
from numbax._src.backends import cpu
from numbax._src.config import enable_x64


def _body(fun, *args):
    source = numbax.jit(fun).lower(*args).compile().source
    return source.split("def program", 1)[1]


def test_matmul_calls_blas_without_loops():
    a, b = np.ones((16, 8), np.float32), np.ones((8, 4), np.float32)
    body = _body(lambda a, b: a @ b, a, b)
    assert "rt.matmul_serial(" in body
    assert not re.search(r"\bfor\b", body), body


def test_elementwise_chain_is_one_loop_of_xmath_kernels():
    x = np.ones((64, 32), np.float32)
    body = _body(lambda x: xnp.sin(xnp.cos(x)) * xnp.tanh(x) + x * x, x)
    assert len(re.findall(r"\bfor\b", body)) == 1, body
    for kernel in ("xmath.sin_f32(", "xmath.cos_f32(", "xmath.tanh_f32("):
        assert kernel in body
    assert "math.sin(" not in body.replace("xmath.", "")
    # float64 operands get the float64 kernels; erf keeps libm there (xmath's erf_f64 only wraps it).
    with enable_x64():
        body64 = _body(lambda x: (xnp.exp(x), numbax.lax.erf(x)), x.astype(np.float64))
    assert "xmath.exp_f64(" in body64 and "math.erf(" in body64 and "xmath.erf_f64" not in body64


def test_programs_contract_multiply_adds_but_keep_special_values():
    # fastmath is only 'contract' (fused multiply-adds): NaN, inf and -0.0 keep their meaning
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e5, -3.0, 2.5], np.float32)

    def f(x):
        return xnp.sin(xnp.cos(x)) * xnp.tanh(x) + x * x, x * 2.0 + 1.0, xnp.maximum(x, 0.0), -x * 0.0
    source = numbax.jit(f).lower(x).compile().source
    assert "fastmath={'contract'}" in source, source
    with np.errstate(over="ignore", invalid="ignore"):
        expected = f(x)
    for got, want in zip(numbax.jit(f)(x), expected):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)  # nan == nan, inf == inf
        zero = np.asarray(want) == 0
        np.testing.assert_array_equal(np.signbit(np.asarray(got)[zero]), np.signbit(np.asarray(want)[zero]))


def test_parallel_only_for_large_work():
    x = np.ones((256, 512), np.float32)  # 128K elements of two additions/multiplications: serial
    assert 256 * 512 * 2 < cpu.PARALLEL_THRESHOLD
    assert "prange" not in _body(lambda x: x * 2.0 + 1.0, x)
    # a transcendental weighs COSTLY_WEIGHT operations: the same size is parallel
    assert 256 * 512 * (cpu.COSTLY_WEIGHT + 1) >= cpu.PARALLEL_THRESHOLD
    assert "numba.prange" in _body(lambda x: xnp.tanh(x) + 1.0, x)


def test_column_sum_walks_rows_and_matches_numpy():
    x = np.random.default_rng(0).standard_normal((33, 17)).astype(np.float32)

    def f(x):
        return xnp.sum(x, axis=0), xnp.max(x, axis=0), xnp.sum(x, axis=1), xnp.sum(x)
    body = _body(f, x)
    # the column sum accumulates into its output with the contiguous axis innermost
    assert re.search(r"(a\d+)\[(i\d+)\] = np\.float32\(\1\[\2\] \+ x0\[i\d+, \2\]\)", body), body
    col_sum, col_max, row_sum, total = numbax.jit(f)(x)
    np.testing.assert_allclose(np.asarray(col_sum), x.sum(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(col_max), x.max(axis=0))
    np.testing.assert_allclose(np.asarray(row_sum), x.sum(axis=1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(float(total), float(x.astype(np.float64).sum()), rtol=1e-5)


def test_program_blas_is_limited_to_one_thread():
    threadpoolctl = __import__("pytest").importorskip("threadpoolctl")
    numbax.jit(lambda a: a @ a)(np.ones((4, 4), np.float32))
    scipy_blas = [info for info in threadpoolctl.threadpool_info()
                  if info["internal_api"] == "openblas" and "scipy.libs" in info["filepath"]]
    if not scipy_blas:
        __import__("pytest").skip("SciPy's OpenBLAS is not loaded here")
    assert all(info["num_threads"] == 1 for info in scipy_blas), scipy_blas


def test_small_batched_and_integer_dots_are_loops_matching_numpy():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 3, 4)).astype(np.float32)
    b = rng.standard_normal((5, 6, 4)).astype(np.float32)
    i, j = rng.integers(-50, 50, (3, 4)).astype(np.int32), rng.integers(-50, 50, (4, 2)).astype(np.int32)
    v = rng.standard_normal(4).astype(np.float32)

    def f(a, b, i, j, v):
        return xnp.einsum("bij,bkj->bik", a, b), i @ j, a[0] @ v, v @ v, xnp.einsum("bi,bj->bij", a[:, 0], b[:, 0])
    body = _body(f, a, b, i, j, v)
    # the batched 3x4x6 products and the integer product are loops; the float matrix-vector one is BLAS
    assert body.count("rt.matmul_serial(") == 2, body
    batched, ints, matvec, inner, outer = numbax.jit(f)(a, b, i, j, v)
    np.testing.assert_allclose(np.asarray(batched), np.einsum("bij,bkj->bik", a, b), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(ints), i @ j)
    np.testing.assert_allclose(np.asarray(matvec), a[0] @ v, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(float(inner), float(v @ v), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(outer), np.einsum("bi,bj->bij", a[:, 0], b[:, 0]), rtol=1e-6)


def test_per_example_grads_run_flat_and_write_outer_products_once():
    # vmap(grad): the cotangent seed (ones) is read as the scalar 1.0, so the elementwise loop
    # runs flat (a short last axis would not vectorize); the per-example outer products
    # contract a size-1 axis, written once without a zero fill or an accumulation.
    rng = np.random.default_rng(4)
    w, x = rng.standard_normal((16, 16)).astype(np.float32), rng.standard_normal((64, 16)).astype(np.float32)
    f = numbax.vmap(numbax.grad(lambda w, x: xnp.sum(xnp.tanh(x @ w) ** 2)), in_axes=(None, 0))
    body = _body(f, w, x)
    assert "np.zeros(" not in body and "rt.full(" not in body and "_flat[i]" in body, body
    assert len(re.findall(r"\bfor\b", body)) == 4, body  # the flat loop and the 3-deep outer product
    h = np.tanh(x @ w)
    want = x[:, :, None] * (2 * h * (1 - h * h))[:, None, :]
    np.testing.assert_allclose(np.asarray(numbax.jit(f)(w, x)), want, rtol=1e-4, atol=1e-5)
    # a splat that is also an output, and one read through a broadcast, keep their values
    g = numbax.jit(lambda x: (xnp.ones((64, 16), np.float32), x * xnp.ones((16,), np.float32) + 2.0))
    ones, y = g(x)
    np.testing.assert_array_equal(np.asarray(ones), np.ones((64, 16), np.float32))
    np.testing.assert_array_equal(np.asarray(y), x + 2.0)


def test_large_batched_dot_calls_blas_per_batch():
    a, b = np.ones((4, 32, 32), np.float32), np.ones((4, 32, 32), np.float32)
    body = _body(lambda a, b: xnp.matmul(a, b), a, b)
    assert re.search(r"rt\.matmul_serial\(lhs\d+\[i\d+\], rhs\d+\[i\d+\], a\d+\[i\d+\]\)", body), body


def test_transposed_product_is_computed_transposed():
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((6, 5)).astype(np.float32), rng.standard_normal((6, 3)).astype(np.float32)
    a, b = rng.standard_normal((2, 4, 3)).astype(np.float32), rng.standard_normal((2, 3, 5)).astype(np.float32)

    def xtg(x, g):  # x.T @ g as reverse-mode matmul writes it: contract the batch axes
        return numbax.lax.dot_general(x, g, (((0,), (0,)), ((), ())))

    def f(x, g, a, b):
        # a weight gradient's (x.T @ g).T, a batched product with its free axes swapped, and a
        # product that is also used untransposed (not folded)
        shared = xtg(x, g)
        return xtg(x, g).T, xnp.swapaxes(xnp.matmul(a, b), 1, 2), shared.T + shared[0, 0]
    body = _body(f, x, g, a, b)
    assert body.count("transpose(") == 1, body  # only the shared product's
    folded, batched, shared = numbax.jit(f)(x, g, a, b)
    np.testing.assert_allclose(np.asarray(folded), (x.T @ g).T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(batched), np.swapaxes(a @ b, 1, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(shared), (x.T @ g).T + (x.T @ g)[0, 0], rtol=1e-5, atol=1e-6)


def test_large_programs_compile_in_pieces_that_pass_values_between_them(monkeypatch):
    from numbax._src.backends import chunks
    monkeypatch.setattr(chunks, "CHUNK_EQNS", 4)

    def f(x, y):
        a = xnp.sin(x) * 2.0 + y
        b = xnp.sum(a * a) + xnp.cos(y).mean()
        c = lax.scan(lambda h, t: (xnp.tanh(h * b + t), h), x[0], y)[1]
        return a, b, c, x, 3.0  # an input and a literal among the outputs
    x = np.linspace(-1, 1, 6).astype(np.float32)
    y = np.linspace(0, 2, 6).astype(np.float32)
    jitted = numbax.jit(f)
    compiled = jitted.lower(x, y).compile()
    assert isinstance(compiled.executable, chunks.ChunkedExecutable)
    assert len(compiled.executable.pieces) >= 3
    for got, want in zip(jitted(x, y), f(xnp.asarray(x), xnp.asarray(y))):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
    pieces = chunks.split_jaxpr(jitted.trace(x, y).jaxpr.jaxpr, 4)
    assert sum(len(p.eqns) for p in pieces) == len(jitted.trace(x, y).jaxpr.jaxpr.eqns)


def test_scan_input_projection_is_one_product_before_the_loop():
    rng = np.random.default_rng(0)
    w, u = rng.standard_normal((8, 8)).astype(np.float32) * 0.3, rng.standard_normal((4, 8)).astype(np.float32)
    xs = rng.standard_normal((5, 3, 4)).astype(np.float32)

    def rnn(w, u, xs):
        return lax.scan(lambda h, x: (xnp.tanh(h @ w + x @ u), h), xnp.zeros((3, 8), xnp.float32), xs)
    body = _body(rnn, w, u, xs)
    before, loop = body.split("for step", 1)
    # x_t @ u reads no carry: one (5*3, 4) @ (4, 8) product before the loop; h @ w stays inside
    assert before.count("rt.matmul_serial(") == 1 and loop.count("rt.matmul_serial(") == 1, body
    assert "scan_rows" not in body  # too little work for a parallel loop
    h, hs = numbax.jit(rnn)(w, u, xs)
    want, want_hs = np.zeros((3, 8), np.float32), []
    for x in xs:
        want_hs.append(want)
        want = np.tanh(want @ w + x @ u)
    np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hs, np.stack(want_hs), rtol=1e-5, atol=1e-6)


def test_large_products_are_split_over_numbas_threads():
    a = np.ones((64, 64), np.float32)
    source = numbax.jit(lambda a: a @ a).lower(a).compile().source
    assert "rt.matmul_serial(" in source and "parallel=False" in source
    # products of 8M multiply-adds and more: one serial product per numba
    # thread, by rows of the result (more rows than columns) or by columns;
    # the program is compiled parallel=True (as numba's threads need)
    rng = np.random.default_rng(0)
    for x, y in ((rng.standard_normal((512, 256)), rng.standard_normal((256, 96))),
                 (rng.standard_normal((24, 4096)), rng.standard_normal((4096, 160)))):
        x, y = x.astype(np.float32), y.astype(np.float32)
        f = numbax.jit(lambda x, y: xnp.tanh(x) @ y)
        source = f.lower(x, y).compile().source
        assert "rt.matmul_split(" in source and "parallel=True" in source
        want = np.tanh(x.astype(np.float64)) @ y
        np.testing.assert_allclose(np.asarray(f(x, y)), want, rtol=1e-4, atol=1e-3)


def test_jitted_products_leave_numpys_blas_threads_as_they_were():
    """NumPy's OpenBLAS thread count is process-wide; programs set it to one
    around their products from one thread only (two numba threads restoring
    it in the wrong order used to leave NumPy's BLAS on one thread)."""
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl (with scikit-learn) reads the count")
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((512, 256)).astype(np.float32), rng.standard_normal((256, 96)).astype(np.float32)
    f = numbax.jit(lambda x, y: xnp.tanh(x) @ y)

    def numpys_blas_threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if "numpy" in i["filepath"]]
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert numpys_blas_threads() == [2]
        for _ in range(20):
            f(x, y)
        assert numpys_blas_threads() == [2]


def _lstm_layer(w, u, b, xs):
    """An LSTM over ``xs`` (steps, batch, inputs) with a bias broadcast over the
    batch, gates split from one product, and a per-row centring (a reduction
    over features): every step is row independent."""
    zeros = xnp.zeros((xs.shape[1], w.shape[0]), xnp.float32)

    def cell(carry, x):
        h, c = carry
        i, f, g, o = xnp.split(h @ w + x @ u + b, 4, axis=1)
        c = numbax.nn.sigmoid(f) * c + numbax.nn.sigmoid(i) * xnp.tanh(g)
        h = numbax.nn.sigmoid(o) * xnp.tanh(c)
        return (h, c), xnp.concatenate([h - h.mean(axis=1, keepdims=True), c], axis=1)
    return lax.scan(cell, (zeros, zeros), xs)


def _lstm_numpy(w, u, b, xs):
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = c = np.zeros((xs.shape[1], w.shape[0]))
    ys = []
    for x in xs.astype(np.float64):
        i, f, g, o = np.split(h @ w + x @ u + b, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        ys.append(np.concatenate([h - h.mean(axis=1, keepdims=True), c], axis=1))
    return (h, c), np.stack(ys)


def test_row_independent_scan_runs_in_blocks_of_rows(monkeypatch):
    from numbax._src.backends import rows
    monkeypatch.setattr(rows, "threads", lambda: 2)
    rng = np.random.default_rng(1)
    hidden, inputs, batch, steps = 32, 8, 16, 64
    w = (rng.standard_normal((hidden, 4 * hidden)) * 0.2).astype(np.float32)
    u = (rng.standard_normal((inputs, 4 * hidden)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(4 * hidden) * 0.1).astype(np.float32)
    xs = rng.standard_normal((steps, batch, inputs)).astype(np.float32)
    f = numbax.jit(_lstm_layer)
    source = f.lower(w, u, b, xs).compile().source
    # one function over a block of 8 rows, called for the 2 blocks in a parallel loop
    assert re.search(r"for block\d+ in numba\.prange\(2\):\n\s+scan_rows_\d+\(block\d+ \* 8, ", source), source
    helper = source.split("def scan_rows", 1)[1].split("def program", 1)[0]
    assert "rt.empty((8, 128), np.float32)" in helper and "numba.prange" not in helper
    (h, c), ys = f(w, u, b, xs)
    (want_h, want_c), want_ys = _lstm_numpy(w, u, b, xs)
    for got, want in ((h, want_h), (c, want_c), (ys, want_ys)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=2e-5)

    # Reverse mode: the forward and backward scans both run in blocks (a weight
    # gradient's sum leaves the backward loop as an unchanged carry).
    def loss(w, u, b, xs):
        (h, _), ys = _lstm_layer(w, u, b, xs)
        return xnp.sum(h * h) + xnp.sum(ys * ys) * 0.1
    grad = numbax.jit(numbax.grad(loss, argnums=(0, 1, 2)))
    assert grad.lower(w, u, b, xs).compile().source.count("def scan_rows") == 2
    for got, want in zip(grad(w, u, b, xs), numbax.grad(loss, argnums=(0, 1, 2))(w, u, b, xs)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=2e-4, atol=2e-5)


def test_scan_mixing_rows_stays_one_loop(monkeypatch):
    from numbax._src.backends import rows
    monkeypatch.setattr(rows, "threads", lambda: 2)
    rng = np.random.default_rng(2)
    w = (rng.standard_normal((64, 64)) * 0.2).astype(np.float32)
    xs = rng.standard_normal((80, 16, 64)).astype(np.float32)

    def centred_rnn(w, xs):  # subtracting the batch mean couples the rows
        def cell(h, x):
            h = xnp.tanh(h @ w + x)
            return h - h.mean(axis=0), None
        return lax.scan(cell, xnp.zeros((16, 64), xnp.float32), xs)[0]
    f = numbax.jit(centred_rnn)
    assert "scan_rows" not in f.lower(w, xs).compile().source
    h = np.zeros((16, 64))
    for x in xs:
        h = np.tanh(h @ w + x)
        h = h - h.mean(axis=0)
    np.testing.assert_allclose(np.asarray(f(w, xs)), h, rtol=1e-4, atol=2e-5)


def test_row_blocks_divide_the_batch():
    from numbax._src.backends import rows
    assert [rows.blocks(batch, threads) for batch, threads in
            ((32, 2), (32, 16), (24, 16), (48, 5), (15, 2), (17, 4), (64, 1))] == [2, 4, 3, 4, 1, 1, 1]


def test_scan_gradient_multiplies_by_a_transposed_copy_made_once():
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((8, 8)) * 0.4).astype(np.float32)
    xs = rng.standard_normal((6, 3, 8)).astype(np.float32)

    def loss(w, xs):
        h = lax.scan(lambda h, x: (xnp.tanh(h @ w + x), None), xnp.zeros((3, 8), xnp.float32), xs)[0]
        return xnp.sum(h * h)
    grad = numbax.jit(numbax.grad(loss))
    body = _body(grad, w, xs)
    loops = body.split("for step")
    # the backward loop's g @ w.T reads a copy of w.T made before it, not the strided view
    in_loop = [line for line in loops[2].splitlines() if line.startswith(" " * 8) and "rt.matmul_" in line]
    assert "np.ascontiguousarray(x0.transpose((1, 0)))" in loops[1] and len(in_loop) == 1, body
    assert ".T" not in in_loop[0], body
    hs = [np.zeros((3, 8))]
    for x in xs:
        hs.append(np.tanh(hs[-1] @ w + x))
    dh, want = 2 * hs[-1], np.zeros((8, 8))
    for t in range(len(xs), 0, -1):
        dz = dh * (1 - hs[t] ** 2)
        want += hs[t - 1].T @ dz
        dh = dz @ w.T
    np.testing.assert_allclose(np.asarray(grad(w, xs)), want, rtol=1e-4, atol=1e-5)


def test_vmapped_scan_runs_in_blocks_of_examples(monkeypatch):
    from numbax._src.backends import rows
    monkeypatch.setattr(rows, "threads", lambda: 2)
    rng = np.random.default_rng(4)
    w = (rng.standard_normal((64, 64)) * 0.2).astype(np.float32)
    xs = rng.standard_normal((32, 80, 64)).astype(np.float32)  # examples, steps, features

    def one(x):  # one example's recurrence: its carry has no batch axis
        return lax.scan(lambda h, xt: (xnp.tanh(h @ w + xt), None), xnp.zeros(64, xnp.float32), x)[0]
    f = numbax.jit(numbax.vmap(one))
    assert "scan_rows" in f.lower(xs).compile().source
    h = np.zeros((32, 64))
    for t in range(80):
        h = np.tanh(h @ w + xs[:, t])
    np.testing.assert_allclose(np.asarray(f(xs)), h, rtol=1e-4, atol=2e-5)
