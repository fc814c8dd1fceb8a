"""vmap: in/out axes over pytrees, compositions with autodiff, collectives,
the seed examples, and the errors users meet."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax


def arr(values, dtype=np.float32):
    return jnp.asarray(np.asarray(values, dtype=dtype))


def predict(params, x):
    w, b = params
    return jnp.tanh(x @ w + b)


PARAMS = (arr(np.linspace(-1, 1, 12).reshape(4, 3)), arr([0.1, -0.2, 0.3]))
XS = arr(np.linspace(-2, 2, 40).reshape(10, 4))


def test_seed_predict_in_axes_none_0():
    out = numbax.vmap(predict, in_axes=(None, 0))(PARAMS, XS)
    assert out.shape == (10, 3)
    expected = np.stack([np.asarray(predict(PARAMS, XS[i])) for i in range(10)])
    # BLAS rounds a stacked matmul differently from row-by-row ones (so does JAX).
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-6)


def test_seed_predict_three_args():
    def predict3(w, b, x):
        return jnp.tanh(x @ w + b)
    out = numbax.vmap(predict3, in_axes=(None, None, 0))(PARAMS[0], PARAMS[1], XS)
    assert out.shape == (10, 3)
    np.testing.assert_allclose(np.asarray(out), np.asarray(predict(PARAMS, XS)), rtol=1e-6)


def test_seed_per_example_gradients():
    def loss_fn(params, x, y):
        return jnp.sum((predict(params, x) - y) ** 2)
    ys = arr(np.linspace(0, 1, 30).reshape(10, 3))
    per_example = numbax.vmap(numbax.grad(loss_fn), in_axes=(None, 0, 0))(PARAMS, XS, ys)
    loop = [numbax.grad(loss_fn)(PARAMS, XS[i], ys[i]) for i in range(10)]
    for k in range(2):
        np.testing.assert_allclose(np.asarray(per_example[k]), np.stack([np.asarray(g[k]) for g in loop]),
                                   rtol=1e-5, atol=1e-6)
    assert per_example[0].shape == (10, 4, 3)


def test_grad_of_vmapped_loss_matches_hand_derivation():
    w = arr([0.5, -1.0, 2.0])
    xs = arr(np.arange(12.0).reshape(4, 3) / 10)
    ys = arr([1.0, 0.0, -1.0, 2.0])

    def loss(w):
        errors = numbax.vmap(lambda x, y: jnp.dot(x, w) - y)(xs, ys)
        return jnp.mean(errors ** 2)
    g = numbax.grad(loss)(w)
    xn, yn, wn = np.asarray(xs), np.asarray(ys), np.asarray(w)
    np.testing.assert_allclose(np.asarray(g), 2 * xn.T @ (xn @ wn - yn) / 4, rtol=1e-5)


def test_nested_vmap_and_pytree_axes():
    x = arr(np.arange(24.0).reshape(2, 3, 4))
    out = numbax.vmap(numbax.vmap(lambda v: v * v.sum()))(x)
    xn = np.asarray(x)
    np.testing.assert_allclose(np.asarray(out), xn * xn.sum(axis=2, keepdims=True))
    tree = {"a": x, "b": arr(np.ones((4, 2)))}
    out = numbax.vmap(lambda t: t["a"].sum() + t["b"].sum(), in_axes=({"a": 2, "b": 0},))(tree)
    np.testing.assert_allclose(np.asarray(out), xn.sum(axis=(0, 1)) + 2.0)


def test_out_axes_and_negative_in_axes():
    x = arr(np.arange(6.0).reshape(2, 3))
    out = numbax.vmap(lambda r: r * 2.0, in_axes=-1, out_axes=1)(x)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(x) * 2)
    out = numbax.vmap(lambda r: (r, r.sum()), out_axes=(1, 0))(x)
    assert out[0].shape == (3, 2) and out[1].shape == (2,)


def test_axis_size_without_mapped_inputs():
    out = numbax.vmap(lambda c: c * 2.0, in_axes=None, axis_size=4)(arr(1.5))
    np.testing.assert_array_equal(np.asarray(out), [3.0] * 4)


def test_unbatched_output_broadcasts():
    out = numbax.vmap(lambda x, c: c, in_axes=(0, None))(arr(np.ones((5, 2))), arr(7.0))
    np.testing.assert_array_equal(np.asarray(out), [7.0] * 5)


def test_collectives_over_named_axes():
    x = arr(np.arange(4.0))
    np.testing.assert_array_equal(np.asarray(numbax.vmap(lambda v: lax.psum(v, "i"), axis_name="i")(x)), [6.0] * 4)
    np.testing.assert_allclose(np.asarray(numbax.vmap(lambda v: v / lax.pmax(v, "i"), axis_name="i")(x)),
                               np.arange(4.0) / 3, rtol=1e-7)
    np.testing.assert_array_equal(np.asarray(numbax.vmap(lambda v: lax.pmin(v, "i"), axis_name="i")(x)), [0.0] * 4)
    np.testing.assert_array_equal(np.asarray(numbax.vmap(lambda v: lax.axis_index("i"), axis_name="i")(x)),
                                  [0, 1, 2, 3])
    gathered = numbax.vmap(lambda v: lax.all_gather(v, "i"), axis_name="i")(x)
    np.testing.assert_array_equal(np.asarray(gathered), np.tile(np.arange(4.0), (4, 1)))
    grid = arr(np.arange(6.0).reshape(2, 3))
    nested = numbax.vmap(numbax.vmap(lambda v: lax.psum(v, ("i", "j")), axis_name="j"), axis_name="i")(grid)
    np.testing.assert_array_equal(np.asarray(nested), np.full((2, 3), 15.0))
    inner_only = numbax.vmap(numbax.vmap(lambda v: lax.psum(v, "j"), axis_name="j"), axis_name="i")(grid)
    np.testing.assert_array_equal(np.asarray(inner_only), [[3.0] * 3, [12.0] * 3])
    centered = numbax.vmap(lambda v: v - lax.pmean(v, "i"), axis_name="i")(x)
    np.testing.assert_array_equal(np.asarray(centered), np.arange(4.0) - 1.5)


def test_jaxpr_has_no_per_example_loop():
    def f(x):
        return jnp.tanh(x * 2.0 + 1.0) * x
    small = numbax.make_jaxpr(numbax.vmap(f))(arr(np.ones((3, 4))))
    large = numbax.make_jaxpr(numbax.vmap(f))(arr(np.ones((50, 4))))
    assert len(small.eqns) == len(large.eqns) == 4


def test_vmap_of_jvp_and_jacobians():
    with numbax._src.config.enable_x64():
        x = jnp.asarray(np.array([0.3, -0.7, 1.1]))
        f = lambda v: jnp.sin(v) * v[0]  # noqa: E731
        jf, jr = numbax.jacfwd(f)(x), numbax.jacrev(f)(x)
        xn = np.asarray(x)
        expected = np.diag(np.cos(xn) * xn[0])
        expected[:, 0] += np.sin(xn)
        np.testing.assert_allclose(np.asarray(jf), expected, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(jr), expected, rtol=1e-12)


def test_errors():
    x = arr(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"args\[0\] has size 3, args\[1\] has size 5"):
        numbax.vmap(lambda a, b: a)(x, arr(np.ones(5)))
    with pytest.raises(ValueError, match=r"map axis 2 of args\[0\], which has rank 2"):
        numbax.vmap(lambda a: a, in_axes=2)(x)
    with pytest.raises(ValueError, match="in_axes has 1 entries but the function was called with 2"):
        numbax.vmap(lambda a, b: a, in_axes=(0,))(x, x)
    with pytest.raises(ValueError, match="at least one mapped input"):
        numbax.vmap(lambda a: a, in_axes=None)(x)
    with pytest.raises(NameError, match="unbound axis name: 'k'"):
        lax.psum(x, "k")

    from numbax._src.core import Primitive
    p = Primitive("unbatchable")
    p.def_impl(lambda v: v)
    p.def_abstract_eval(lambda a: a)
    with pytest.raises(NotImplementedError, match="vmap of 'unbatchable' is not implemented.*lax.map"):
        numbax.vmap(p.bind)(x)


def test_gradients_through_collectives():
    x = arr(np.array([1.0, 4.0, 2.0, 4.0]))
    # With psum's transpose being psum (JAX's semantics), the per-example
    # gradient of v * psum(v) is psum(v) + psum(v * 1) = 2 * sum(x); JAX gives 22 too.
    per_example = numbax.vmap(numbax.grad(lambda v: v * lax.psum(v, "i")), axis_name="i")(x)
    np.testing.assert_allclose(np.asarray(per_example), [22.0] * 4)
    total = numbax.grad(lambda v: jnp.sum(numbax.vmap(lambda e: lax.pmax(e, "i"), axis_name="i")(v)))(x)
    np.testing.assert_allclose(np.asarray(total), [0.0, 2.0, 0.0, 2.0])  # 4 copies of the max, tie split
    centered = numbax.grad(lambda v: jnp.sum(numbax.vmap(lambda e: (e - lax.pmean(e, "i")) ** 2,
                                                         axis_name="i")(v)))(x)
    xn = np.asarray(x)
    np.testing.assert_allclose(np.asarray(centered), 2 * (xn - xn.mean()), rtol=1e-6)
    _, t = numbax.jvp(lambda v: numbax.vmap(lambda e: lax.all_gather(e, "i"), axis_name="i")(v), (x,), (x,))
    np.testing.assert_allclose(np.asarray(t), np.tile(xn, (4, 1)))


def _custom_functions():
    @numbax.custom_jvp
    def f(x):
        return jnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 10.0 * t  # deliberately not cos(x): shows the rule is used

    @numbax.custom_vjp
    def g(x, w):
        return jnp.sin(x) * w

    def g_fwd(x, w):
        return g(x, w), (x, w)

    def g_bwd(res, ct):
        x, w = res
        return (20.0 * ct * w, ct * jnp.sin(x))  # 20.0 instead of cos(x) for x

    g.defvjp(g_fwd, g_bwd)
    return f, g


def test_vmap_of_custom_rules_keeps_them_in_every_order():
    f, g = _custom_functions()
    xs = arr([0.1, 0.2, 0.3])
    np.testing.assert_allclose(np.asarray(numbax.vmap(f)(xs)), np.sin(np.asarray(xs)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(numbax.vmap(numbax.grad(f))(xs)), [10.0] * 3)
    np.testing.assert_allclose(np.asarray(numbax.grad(lambda v: jnp.sum(numbax.vmap(f)(v)))(xs)), [10.0] * 3)
    w = arr(2.0)
    per_example = numbax.vmap(numbax.grad(g, argnums=(0, 1)), in_axes=(0, None))(xs, w)
    np.testing.assert_allclose(np.asarray(per_example[0]), [40.0] * 3)
    np.testing.assert_allclose(np.asarray(per_example[1]), np.sin(np.asarray(xs)), rtol=1e-6)
    gx, gw = numbax.grad(lambda v, w: jnp.sum(numbax.vmap(g, in_axes=(0, None))(v, w)), argnums=(0, 1))(xs, w)
    np.testing.assert_allclose(np.asarray(gx), [40.0] * 3)
    assert gw.item() == pytest.approx(np.sin(np.asarray(xs)).sum(), rel=1e-6)  # summed over the batch


def test_vmap_of_checkpoint():
    remat = numbax.checkpoint(lambda x: jnp.sin(jnp.sin(x)))
    xs = arr([0.1, 0.5, 0.9])
    xn = np.asarray(xs)
    np.testing.assert_allclose(np.asarray(numbax.vmap(remat)(xs)), np.sin(np.sin(xn)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(numbax.vmap(numbax.grad(remat))(xs)), np.cos(np.sin(xn)) * np.cos(xn),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(numbax.grad(lambda v: jnp.sum(numbax.vmap(remat)(v)))(xs)),
                               np.cos(np.sin(xn)) * np.cos(xn), rtol=1e-6)
