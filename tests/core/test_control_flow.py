"""Structured control flow: cond, switch, while_loop, fori_loop, scan, map,
associative_scan — eagerly against Python references, under grad/jacfwd
against finite differences, under vmap against Python loops, and the errors
users meet."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax.test_util import check_grads


def loop_of(f, *batched):
    """Reference for vmap: f applied to each example, stacked with NumPy."""
    return np.stack([np.asarray(f(*xs)) for xs in zip(*batched)])


# --- cond / switch ------------------------------------------------------------------------

def branch_a(x, y):
    return jnp.sin(x) * y


def branch_b(x, y):
    return x ** 3 - jnp.exp(y)


def test_cond_runs_the_chosen_branch():
    x, y = np.float32(0.3), np.float32(1.5)
    assert np.isclose(lax.cond(True, branch_a, branch_b, x, y), np.sin(0.3) * 1.5)
    assert np.isclose(lax.cond(False, branch_a, branch_b, x, y), 0.3 ** 3 - np.exp(1.5), rtol=1e-6)
    # A numeric predicate is compared with zero, as in JAX.
    assert np.isclose(lax.cond(2, branch_a, branch_b, x, y), np.sin(0.3) * 1.5)
    assert np.isclose(lax.cond(0.0, branch_a, branch_b, x, y), 0.3 ** 3 - np.exp(1.5), rtol=1e-6)


def test_good_abs_seed():
    def good_abs(x):
        return lax.cond(x > 0, lambda x: x, lambda x: -x, x)
    assert float(good_abs(-3.0)) == 3.0 and float(good_abs(2.0)) == 2.0
    assert float(numbax.grad(good_abs)(-3.0)) == -1.0
    assert float(numbax.grad(good_abs)(2.0)) == 1.0


def test_cond_pytrees_and_closures():
    w = jnp.array([1.0, 2.0])

    def f(p):
        return {"s": p["a"] * w, "t": (p["b"], p["a"] + 1.0)}

    def g(p):
        return {"s": p["a"] - w, "t": (p["b"] * 2, p["a"])}
    p = {"a": jnp.float32(3.0), "b": jnp.int32(4)}
    out = lax.cond(False, f, g, p)
    np.testing.assert_allclose(out["s"], [2.0, 1.0])
    assert int(out["t"][0]) == 8 and out["t"][0].dtype == np.int32


def test_switch_clamps_the_index():
    branches = [lambda x: x + 1.0, lambda x: x * 10.0, lambda x: -x]
    x = jnp.float32(2.0)
    assert [float(lax.switch(i, branches, x)) for i in (-5, 0, 1, 2, 7)] == [3.0, 3.0, 20.0, -2.0, -2.0]


def test_cond_jaxpr_prints_its_branches():
    text = str(numbax.make_jaxpr(lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x))(1.0))
    assert "cond[" in text and "branches=(" in text
    assert "{ lambda ; e:f32[]. let f:f32[] = cos e in (f,) }" in text


@pytest.mark.parametrize("point", [-0.7, 0.4])
def test_cond_gradients(x64, point):
    def f(x, y):
        return lax.cond(x > 0, branch_a, branch_b, x, y)
    check_grads(f, [np.float64(point), np.float64(0.8)], order=2)


def test_switch_gradients_per_branch(x64):
    branches = [lambda x: jnp.sin(x), lambda x: x ** 2, lambda x: jnp.exp(-x)]
    for i in range(3):
        check_grads(lambda x, i=i: lax.switch(i, branches, x), [np.linspace(-1.0, 1.0, 3)], order=2)


def test_cond_hessian_matches_the_branch(x64):
    def f(x):
        return lax.cond(jnp.sum(x) > 0, lambda x: jnp.sum(x ** 3), lambda x: jnp.sum(jnp.sin(x)), x)
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(numbax.hessian(f)(x), np.diag(6 * x), rtol=1e-12)


def test_cond_vmap_with_batched_predicate():
    xs = np.linspace(-2, 2, 5).astype(np.float32)
    ys = np.linspace(0.5, 1.0, 5).astype(np.float32)

    def f(x, y):
        return lax.cond(x > 0, branch_a, branch_b, x, y)
    np.testing.assert_allclose(numbax.vmap(f)(xs, ys), loop_of(f, xs, ys), rtol=1e-6)
    # Predicate unbatched, operands batched.
    g = numbax.vmap(lambda y: lax.cond(True, branch_a, branch_b, np.float32(0.5), y))
    np.testing.assert_allclose(g(ys), np.sin(0.5) * ys, rtol=1e-6)


def test_switch_vmap_with_batched_index_and_axis_1():
    branches = [lambda x: x + 1.0, lambda x: x * 10.0, lambda x: -x]
    idx = np.array([2, 0, 1, 5], np.int32)
    xs = np.arange(12, dtype=np.float32).reshape(3, 4)  # batch on axis 1

    def f(i, x):
        return lax.switch(i, branches, x)
    got = numbax.vmap(f, in_axes=(0, 1))(idx, xs)
    np.testing.assert_allclose(got, loop_of(f, idx, xs.T))


def test_per_example_gradients_through_cond():
    xs = np.linspace(-1, 1, 4).astype(np.float32)
    g = numbax.grad(lambda x: lax.cond(x > 0, lambda x: x ** 2, lambda x: jnp.sin(x), x))
    np.testing.assert_allclose(numbax.vmap(g)(xs), [float(g(x)) for x in xs], rtol=1e-6)


def test_cond_errors():
    with pytest.raises(TypeError, match=r"(?s)must return identical types.*at \[1\]: false_fun has f32\[\] "
                                        r"but true_fun has i32\[\]"):
        lax.cond(True, lambda x: (x, 1), lambda x: (x, x), jnp.float32(1.0))
    with pytest.raises(TypeError, match="must return the same pytree structure"):
        lax.cond(True, lambda x: (x, x), lambda x: x, jnp.float32(1.0))
    with pytest.raises(TypeError, match=r"cond pred must be a scalar, got an array of shape \(2,\)"):
        lax.cond(jnp.array([True, False]), jnp.sin, jnp.cos, 1.0)
    with pytest.raises(TypeError, match="switch index must be an integer scalar"):
        lax.switch(1.5, [jnp.sin, jnp.cos], 1.0)


# --- while_loop / fori_loop --------------------------------------------------------------

def test_while_loop_matches_python():
    def collatz_steps(n):
        def body(c):
            k, steps = c
            return jnp.where(k % 2 == 0, k // 2, 3 * k + 1), steps + 1
        return lax.while_loop(lambda c: c[0] != 1, body, (n, 0))[1]

    def python(n):
        steps = 0
        while n != 1:
            n, steps = (n // 2 if n % 2 == 0 else 3 * n + 1), steps + 1
        return steps
    assert [int(collatz_steps(n)) for n in (1, 6, 27)] == [python(n) for n in (1, 6, 27)]
    # The documentation's table entry.
    assert int(lax.while_loop(lambda x: x < 10, lambda x: x + 1, 0)) == 10


def test_while_loop_forward_mode(x64):
    def f(x):  # x ** 5 by repeated multiplication, a data-independent trip count
        return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * x), (0, 1.0))[1]
    check_grads(f, [np.float64(0.8)], order=2, modes=("fwd",))
    np.testing.assert_allclose(numbax.jacfwd(f)(0.8), 5 * 0.8 ** 4)


def test_while_loop_reverse_mode_error():
    def f(x):
        return lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x)
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for lax.while_loop"):
        numbax.grad(f)(1.0)


def test_while_loop_vmap_batched_trip_counts():
    def f(n, x):
        return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * x), (0, jnp.float32(1.0)))[1]
    ns = np.array([0, 3, 1, 5], np.int32)
    xs = np.array([2.0, 1.5, -1.0, 0.5], np.float32)
    np.testing.assert_allclose(numbax.vmap(f)(ns, xs), xs ** ns, rtol=1e-6)
    # Unbatched predicate, batched carry.
    g = numbax.vmap(lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * x), (0, 1.0))[1])
    np.testing.assert_allclose(g(xs), xs ** 3, rtol=1e-6)


def test_fori_loop_power_and_its_derivatives(x64):
    def power(x, n=6):
        return lax.fori_loop(0, n, lambda i, v: v * x, jnp.ones_like(x))
    x = np.array([0.5, -1.2, 2.0])
    np.testing.assert_allclose(power(x), x ** 6)
    check_grads(power, [x], order=2)
    np.testing.assert_allclose(numbax.grad(lambda x: jnp.sum(power(x)))(x), 6 * x ** 5)
    # The documentation's table entry, with the index in the body.
    assert int(lax.fori_loop(0, 10, lambda i, x: x + i, 0)) == 45


def test_fori_loop_with_traced_bounds_is_a_while_loop():
    f = numbax.vmap(lambda n: lax.fori_loop(0, n, lambda i, s: s + i, 0))
    np.testing.assert_array_equal(f(np.array([0, 1, 4, 10], np.int32)), [0, 0, 6, 45])
    text = str(numbax.make_jaxpr(lambda n: lax.fori_loop(0, n, lambda i, s: s + i, 0))(3))
    assert "while[" in text and "scan[" not in text
    assert "scan[" in str(numbax.make_jaxpr(lambda x: lax.fori_loop(0, 3, lambda i, s: s * x, x))(1.0))


def test_while_loop_errors():
    with pytest.raises(TypeError, match=r"cond_fun must return a boolean scalar, got \(f32\[\]\)"):
        lax.while_loop(lambda c: c, lambda c: c - 1.0, 3.0)
    with pytest.raises(TypeError, match=r"(?s)must return a carry with the same types.*at \[0\]: the input "
                                        r"carry has i32\[\] but the output carry has f32\[\]"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 0.5, c[1]), (0, 1.0))


# --- scan ------------------------------------------------------------------------------------

def rnn(params, xs, reverse=False):
    w, u = params

    def step(h, x):
        h = jnp.tanh(h @ w + x @ u)
        return h, jnp.sum(h ** 2)
    return lax.scan(step, jnp.zeros(w.shape[0], w.dtype), xs, reverse=reverse)


def rnn_python(params, xs, reverse=False):
    w, u = (np.asarray(p, np.float64) for p in params)
    h, ys = np.zeros(w.shape[0]), [None] * len(xs)
    for t in (reversed(range(len(xs))) if reverse else range(len(xs))):
        h = np.tanh(h @ w + np.asarray(xs[t], np.float64) @ u)
        ys[t] = np.sum(h ** 2)
    return h, np.array(ys)


def rnn_data(dtype=np.float32, length=5):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((3, 3)) * 0.5).astype(dtype)
    u = (rng.standard_normal((2, 3)) * 0.5).astype(dtype)
    xs = rng.standard_normal((length, 2)).astype(dtype)
    return (w, u), xs


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_rnn_matches_python(reverse):
    params, xs = rnn_data()
    h, ys = rnn(params, xs, reverse)
    h_ref, ys_ref = rnn_python(params, xs, reverse)
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ys, ys_ref, rtol=1e-5, atol=1e-6)


def test_scan_table_entry_and_pytree_carry():
    carry, ys = lax.scan(lambda c, x: (c + x, c), 0, jnp.arange(5))
    assert int(carry) == 10
    np.testing.assert_array_equal(ys, [0, 0, 1, 3, 6])

    def step(c, x):
        return {"n": c["n"] + 1, "s": c["s"] + x["a"] * x["b"]}, None
    c, ys = lax.scan(step, {"n": 0, "s": jnp.float32(0)},
                     {"a": np.arange(4.0, dtype=np.float32), "b": np.ones((4,), np.float32) * 2})
    assert ys is None and int(c["n"]) == 4 and float(c["s"]) == 12.0
    c, ys = lax.scan(lambda c, _: (c * 2.0, c), 1.0, None, length=4)
    np.testing.assert_allclose(ys, [1, 2, 4, 8])


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_rnn_gradients(x64, reverse):
    params, xs = rnn_data(np.float64, length=4)

    def loss(w, u, xs):
        h, ys = rnn((w, u), xs, reverse)
        return jnp.sum(h) + jnp.sum(ys)
    check_grads(loss, [*params, xs], order=2)


def test_scan_jacfwd_equals_jacrev(x64):
    params, xs = rnn_data(np.float64, length=3)

    def final_state(w):
        return rnn((w, params[1]), xs)[0]
    np.testing.assert_allclose(numbax.jacfwd(final_state)(params[0]), numbax.jacrev(final_state)(params[0]),
                               rtol=1e-10, atol=1e-12)


def test_grad_of_grad_through_nested_scan_and_cond(x64):
    def f(x):
        def outer(c, _):
            inner = lax.scan(lambda d, _: (jnp.sin(d) * x, None), c, None, length=2)[0]
            return lax.cond(inner > 0, lambda v: v * x, lambda v: v - x, inner), None
        return lax.scan(outer, x, None, length=3)[0]
    check_grads(f, [np.float64(0.9)], order=2)
    check_grads(f, [np.float64(-0.4)], order=2)


def test_scan_vmap_and_per_example_gradients():
    params, xs = rnn_data()
    batch = np.stack([xs, xs * 0.5, -xs])
    h, ys = numbax.vmap(lambda xs: rnn(params, xs))(batch)
    np.testing.assert_allclose(h, loop_of(lambda x: rnn_python(params, x)[0], batch), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ys, loop_of(lambda x: rnn_python(params, x)[1], batch), rtol=1e-5, atol=1e-6)
    # The time axis second, the batch axis on xs' axis 1.
    h1, _ = numbax.vmap(lambda xs: rnn(params, xs), in_axes=1)(np.moveaxis(batch, 0, 1))
    np.testing.assert_allclose(h1, h, rtol=1e-6)

    def loss(w, xs):
        return jnp.sum(rnn((w, params[1]), xs)[0])
    per_example = numbax.vmap(numbax.grad(loss), in_axes=(None, 0))(params[0], batch)
    looped = np.stack([np.asarray(numbax.grad(loss)(params[0], x)) for x in batch])
    np.testing.assert_allclose(per_example, looped, rtol=1e-5, atol=1e-6)
    # grad of the batched loss is the sum of the per-example gradients.
    total = numbax.grad(lambda w: jnp.sum(numbax.vmap(lambda x: loss(w, x))(batch)))(params[0])
    np.testing.assert_allclose(total, looped.sum(0), rtol=1e-5, atol=1e-6)


def test_scan_jaxpr_is_one_equation_whatever_the_length():
    params, _ = rnn_data()
    counts = []
    for length in (2, 50):
        jaxpr = numbax.make_jaxpr(lambda xs: rnn(params, xs))(np.zeros((length, 2), np.float32))
        assert [e.primitive.name for e in jaxpr.eqns].count("scan") == 1
        counts.append(len(jaxpr.eqns))
    assert counts[0] == counts[1]
    text = str(numbax.make_jaxpr(lambda xs: rnn(params, xs))(np.zeros((7, 2), np.float32)))
    assert "scan[" in text and "jaxpr={ lambda" in text and "length=7" in text


def _tanh_rnn_loss(w, u, xs):
    def cell(h, x):
        return jnp.tanh(h @ w + x @ u), None
    h, _ = lax.scan(cell, jnp.zeros((2, 3), jnp.float32), xs)
    return jnp.sum(h * h)


def _tanh_rnn_grad_numpy(w, u, xs):
    """d/dw and d/du of sum(h_T**2) by backpropagation through time, in float64."""
    w, u, xs = (np.asarray(a, np.float64) for a in (w, u, xs))
    hs = [np.zeros((2, 3))]
    for x in xs:
        hs.append(np.tanh(hs[-1] @ w + x @ u))
    dh, dw, du = 2 * hs[-1], np.zeros_like(w), np.zeros_like(u)
    for t in range(len(xs), 0, -1):
        dz = dh * (1 - hs[t] ** 2)
        dw += hs[t - 1].T @ dz
        du += xs[t - 1].T @ dz
        dh = dz @ w.T
    return dw, du


def test_scan_gradient_stacks_residuals_and_jit_runs_the_forward_loop_once():
    rng = np.random.default_rng(1)
    w, u = rng.standard_normal((3, 3)).astype(np.float32) * 0.5, rng.standard_normal((4, 3)).astype(np.float32)
    xs = rng.standard_normal((6, 2, 4)).astype(np.float32)
    # the weight gradients are scan carries summing a product per step (c + h_t.T @ dz_t):
    # the compiled loop stacks the factors and takes one product after it
    grad = numbax.grad(_tanh_rnn_loss, argnums=(0, 1))
    jaxpr = numbax.make_jaxpr(grad)(w, u, xs)
    scans = [e for e in jaxpr.eqns if e.primitive.name == "scan"]
    backward = [e for e in scans if e.params["reverse"]]
    assert len(backward) == 1
    # the backward body reads the forward pass's stacked residuals: it computes no tanh again
    assert "tanh" not in str(backward[0].params["jaxpr"]), backward[0].params["jaxpr"]
    # reverse mode stages the primal scan and its re-run (stacking per-step values);
    # the compiled program runs that forward loop once
    assert len(scans) == 3
    jitted = numbax.jit(grad)
    plan = jitted.lower(w, u, xs).as_text().split("# fusion plan")[1]
    assert plan.count("kernel: scan") == 2, plan
    want = _tanh_rnn_grad_numpy(w, u, xs)
    for got in (grad(w, u, xs), jitted(w, u, xs)):
        for g, ref in zip(got, want):
            np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-5)


def test_scan_errors():
    with pytest.raises(ValueError, match=r"different leading axis sizes: xs\[0\] has 3, xs\[1\] has 4"):
        lax.scan(lambda c, x: (c, x), 0.0, (jnp.zeros(3), jnp.zeros(4)))
    with pytest.raises(ValueError, match="no values to scan over and `length` not provided"):
        lax.scan(lambda c, x: (c, x), 0.0, None)
    with pytest.raises(TypeError, match=r"(?s)scan body function must return a carry with the same types.*"
                                        r"the input carry has i32\[\] but the output carry has f32\[\]"):
        lax.scan(lambda c, x: (c + x, None), 0, jnp.zeros(3))
    with pytest.raises(TypeError, match="must return a pair"):
        lax.scan(lambda c, x: c, 0.0, jnp.zeros(3))


def test_lax_map():
    xs = np.arange(7.0, dtype=np.float32)
    np.testing.assert_allclose(lax.map(lambda x: jnp.sin(x) * x, xs), np.sin(xs) * xs, rtol=1e-6)
    np.testing.assert_allclose(lax.map(lambda x: jnp.sin(x) * x, xs, batch_size=3), np.sin(xs) * xs, rtol=1e-6)
    out = lax.map(lambda p: {"s": p[0] + p[1]}, (xs, xs * 2))
    np.testing.assert_allclose(out["s"], xs * 3)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_associative_scan(n):
    xs = np.arange(1.0, n + 1, dtype=np.float32)
    np.testing.assert_allclose(lax.associative_scan(jnp.add, xs), np.cumsum(xs))
    np.testing.assert_allclose(lax.associative_scan(jnp.add, xs, reverse=True), np.cumsum(xs[::-1])[::-1])
    # A non-commutative operator: composing affine maps x -> a x + b in order.
    rng = np.random.default_rng(n)
    a, b = rng.uniform(0.5, 1.5, (2, n, 3)).astype(np.float32)

    def compose(f, g):  # g after f
        return (g[0] * f[0], g[0] * f[1] + g[1])
    got_a, got_b = lax.associative_scan(compose, (a, b))
    ref_a, ref_b = [a[0]], [b[0]]
    for t in range(1, n):
        ref_a.append(a[t] * ref_a[-1])
        ref_b.append(a[t] * ref_b[-1] + b[t])
    np.testing.assert_allclose(got_a, np.stack(ref_a), rtol=1e-5)
    np.testing.assert_allclose(got_b, np.stack(ref_b), rtol=1e-5)


def test_associative_scan_along_axis_1():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(lax.associative_scan(jnp.maximum, x[:, ::-1], axis=1),
                               np.maximum.accumulate(x[:, ::-1], axis=1))


def test_collectives_over_the_vmap_axis_inside_bodies():
    xs = np.array([1.0, 2.0, 4.0], np.float32)

    def normalized_cumsum(x):
        # psum over the mapped axis inside a scan body and a cond branch.
        c, ys = lax.scan(lambda c, _: (c + x / lax.psum(x, "i"), c), 0.0, None, length=3)
        return lax.cond(lax.axis_index("i") > 0, lambda c: c, lambda c: -c, c), ys
    c, ys = numbax.vmap(normalized_cumsum, axis_name="i")(xs)
    share = xs / xs.sum()
    np.testing.assert_allclose(c, 3 * share * np.array([-1, 1, 1]), rtol=1e-6)
    np.testing.assert_allclose(ys, np.outer(share, [0, 1, 2]), rtol=1e-6)
    # A body using only the axis size, with no batched operand at all.
    count = numbax.vmap(lambda _: lax.fori_loop(0, 2, lambda i, s: s + lax.psum(1, "i"), 0),
                        axis_name="i")(xs)
    np.testing.assert_array_equal(count, [6, 6, 6])


def test_vmap_over_an_empty_batch():
    params, xs = rnn_data()
    h, ys = numbax.vmap(lambda xs: rnn(params, xs))(np.zeros((0,) + xs.shape, np.float32))
    assert h.shape == (0, 3) and ys.shape == (0, xs.shape[0])
    out = numbax.vmap(lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x))(np.zeros((0,), np.float32))
    assert out.shape == (0,)
