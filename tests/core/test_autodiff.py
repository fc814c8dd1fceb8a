"""Autodiff: the elementwise rows' gradient column, the API's behaviour over
pytrees and nesting, custom rules, remat, and the errors users meet."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax._src.config import enable_x64
from numbax._src.interpreters.transpose import linearize_flat
from numbax.test_util import grads_test
from numbax.test_util import (F32, F64, OpCase, check_grads, positive,
                              uniform)

UNIT = uniform(-0.9, 0.9)


def _unary(name, fun, sample=uniform(-2.0, 2.0), order=3):
    return OpCase(name, fun, None, [[(3,)], [()]], dtypes=(F64,), sample=sample, grad_order=order)


# The elementwise lax primitives: transcendental ones to order 3, the rest to 2.
CASES = [
    _unary("lax.exp", lax.exp), _unary("lax.exp2", lax.exp2), _unary("lax.log", lax.log, positive(0.5, 3)),
    _unary("lax.log1p", lax.log1p, positive(0.1, 3)), _unary("lax.expm1", lax.expm1),
    _unary("lax.tanh", lax.tanh), _unary("lax.logistic", lax.logistic), _unary("lax.sin", lax.sin),
    _unary("lax.cos", lax.cos), _unary("lax.tan", lax.tan, UNIT), _unary("lax.asin", lax.asin, UNIT),
    _unary("lax.acos", lax.acos, UNIT), _unary("lax.atan", lax.atan), _unary("lax.sinh", lax.sinh),
    _unary("lax.cosh", lax.cosh), _unary("lax.asinh", lax.asinh), _unary("lax.acosh", lax.acosh, positive(1.5, 3)),
    _unary("lax.atanh", lax.atanh, UNIT), _unary("lax.sqrt", lax.sqrt, positive(0.5, 3)),
    _unary("lax.rsqrt", lax.rsqrt, positive(0.5, 3)), _unary("lax.cbrt", lax.cbrt, positive(0.5, 3)),
    _unary("lax.erf", lax.erf), _unary("lax.erfc", lax.erfc), _unary("lax.erf_inv", lax.erf_inv, UNIT),
    _unary("lax.lgamma", lax.lgamma, positive(0.5, 3), order=1),
    _unary("lax.square", lax.square, order=2), _unary("lax.neg", lax.neg, order=2),
    _unary("lax.abs", lax.abs, positive(0.5, 2), order=2),
    _unary("lax.integer_pow", lambda x: lax.integer_pow(x, 3), order=3),
    _unary("lax.integer_pow_neg", lambda x: lax.integer_pow(x, -2), positive(0.5, 2), order=2),
    OpCase("lax.convert_element_type", lambda x: lax.convert_element_type(x, np.float32), None,
           [[(3,)]], dtypes=(F64,), grad_order=2, grad_tol=(1e-3, 1e-3)),  # float32 output
    OpCase("lax.add", lax.add, None, [[(3,), (3,)], [(2, 3), (1, 3)], [(), (3,)]], dtypes=(F64,), grad_order=2),
    OpCase("lax.sub", lax.sub, None, [[(3,), (3,)], [(2, 1), (2, 3)]], dtypes=(F64,), grad_order=2),
    OpCase("lax.mul", lax.mul, None, [[(3,), (3,)], [(), (2, 3)]], dtypes=(F64,), grad_order=2),
    OpCase("lax.div", lax.div, None, [[(3,), (3,)], [(2, 3), ()]], dtypes=(F64,), grad_order=3,
           samplers=[uniform(-2, 2), positive(0.5, 2)]),
    OpCase("lax.pow", lax.pow, None, [[(3,), (3,)]], dtypes=(F64,), grad_order=2,
           samplers=[positive(0.5, 2), uniform(-1.5, 1.5)]),
    OpCase("lax.max", lax.max, None, [[(4,), (4,)]], dtypes=(F64,), grad_order=2),
    OpCase("lax.min", lax.min, None, [[(4,), (4,)]], dtypes=(F64,), grad_order=2),
    OpCase("lax.atan2", lax.atan2, None, [[(3,), (3,)]], dtypes=(F64,), grad_order=2,
           samplers=[uniform(-2, 2), positive(0.5, 2)]),
    OpCase("lax.rem", lax.rem, None, [[(3,), (3,)]], dtypes=(F64,), grad_order=2,
           samplers=[positive(2.1, 2.9), positive(1.1, 1.9)]),
    OpCase("lax.select_n", lambda p, a, b: lax.select_n(p, a, b), None, [[(4,), (4,), (4,)]],
           dtypes=(F64,), arg_dtypes=[np.bool_, None, None], grad_order=2, grad_argnums=[1, 2]),
    OpCase("lax.clamp", lambda x: lax.clamp(-0.5, x, 0.5), None, [[(6,)]], dtypes=(F64,), grad_order=2),
    OpCase("jnp.tanh_chain", lambda x, y: jnp.tanh(jnp.sin(x) * 2.0 + y) - x * y, None,
           [[(2, 3), (3,)]], dtypes=(F64,), grad_order=3),
]


test_op_grads = grads_test(CASES)


def test_grad_matches_hand_derivative_in_float32():
    x = jnp.asarray(np.linspace(-1, 1, 5, dtype=np.float32))
    g = numbax.grad(lambda x: jnp.sum(jnp.sin(x) * x))(x)
    assert g.dtype == np.float32
    xn = np.asarray(x)
    np.testing.assert_allclose(np.asarray(g), np.cos(xn) * xn + np.sin(xn), rtol=1e-6)


def test_pytrees_argnums_and_aux():
    params = {"w": jnp.asarray(np.array([1.0, 2.0], np.float32)), "b": jnp.asarray(0.5)}

    def loss(p, x, scale):
        y = jnp.sum(p["w"] * x) + p["b"]
        return scale * y * y, {"y": y}

    x = jnp.asarray(np.array([3.0, -1.0], np.float32))
    (value, aux), grads = numbax.value_and_grad(loss, has_aux=True)(params, x, 2.0)
    y = 1 * 3 - 2 * 1 + 0.5
    assert value.item() == pytest.approx(2 * y * y)
    assert aux["y"].item() == pytest.approx(y)
    np.testing.assert_allclose(np.asarray(grads["w"]), 4 * y * np.array([3.0, -1.0]), rtol=1e-6)
    assert grads["b"].item() == pytest.approx(4 * y)
    g_x, g_scale = numbax.grad(lambda p, x, s: loss(p, x, s)[0], argnums=(1, 2))(params, x, 2.0)
    np.testing.assert_allclose(np.asarray(g_x), 4 * y * np.array([1.0, 2.0]), rtol=1e-6)
    assert g_scale.item() == pytest.approx(y * y)


def test_nested_derivatives_and_hessian():
    f = lambda x: jnp.sin(x) * x ** 2  # noqa: E731
    x = jnp.asarray(0.3)
    d1 = lambda x: np.cos(x) * x ** 2 + 2 * x * np.sin(x)  # noqa: E731
    d2 = lambda x: -np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x)  # noqa: E731
    assert numbax.grad(f)(x).item() == pytest.approx(d1(0.3), rel=1e-5)
    assert numbax.grad(numbax.grad(f))(x).item() == pytest.approx(d2(0.3), rel=1e-5)
    v = jnp.asarray(np.array([0.2, -0.4, 0.9], np.float32))
    h = numbax.hessian(lambda v: jnp.sum(v ** 3) + v[0] * v[1])(v)
    expected = np.diag(6 * np.asarray(v)) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(np.asarray(h), expected, rtol=1e-5, atol=1e-6)


def test_jacfwd_matches_jacrev():
    def f(x):
        return jnp.stack([jnp.sum(x ** 2), x[0] * x[1], jnp.sin(x[2])])
    with enable_x64():
        x = jnp.asarray(np.array([0.5, -1.0, 2.0]))
        np.testing.assert_allclose(np.asarray(numbax.jacfwd(f)(x)), np.asarray(numbax.jacrev(f)(x)), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(numbax.jacfwd(f)(x)),
                                   [[1.0, -2.0, 4.0], [-1.0, 0.5, 0.0], [0.0, 0.0, np.cos(2.0)]], rtol=1e-12)


def test_no_perturbation_confusion():
    # d/dx [ d/dy (x * y) ] = d/dx x = 1
    out = numbax.grad(lambda x: numbax.grad(lambda y: x * y)(jnp.asarray(1.0)))(jnp.asarray(2.0))
    assert out.item() == 1.0


def test_python_control_flow_on_concrete_primals_works_eagerly():
    f = lambda x: x * 3.0 if x > 0 else -x  # noqa: E731
    assert numbax.grad(f)(jnp.asarray(2.0)).item() == 3.0
    assert numbax.grad(f)(jnp.asarray(-2.0)).item() == -1.0


def test_symbolic_zeros_keep_unused_inputs_free():
    def f(x, *unused):
        return [jnp.sin(x) * 2.0]

    x = jnp.asarray(np.ones(3, np.float32))
    few = linearize_flat(f, [x])[1]
    many = linearize_flat(f, [x] + [jnp.asarray(np.ones(100, np.float32))] * 50)[1]
    assert len(many.eqns) == len(few.eqns) == 2  # mul by cos(x), mul by 2: no zeros anywhere
    grads = numbax.grad(lambda x, y: jnp.sum(x), argnums=(0, 1))(x, x)
    np.testing.assert_array_equal(np.asarray(grads[1]), np.zeros(3))


def test_linearize_and_jvp_in_make_jaxpr():
    y, f_jvp = numbax.linearize(jnp.sin, jnp.asarray(0.5))
    assert f_jvp(jnp.asarray(2.0)).item() == pytest.approx(2 * np.cos(0.5), rel=1e-6)
    jaxpr = numbax.make_jaxpr(lambda x, t: numbax.jvp(jnp.sin, (x,), (t,)))(0.5, 1.0)
    assert [e.primitive.name for e in jaxpr.eqns] == ["sin", "cos", "mul"]


def test_custom_jvp_is_used_and_nondiff_argnums():
    @numbax.custom_jvp
    def f(x):
        return jnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), t * 10.0

    assert numbax.grad(f)(jnp.asarray(1.0)).item() == 10.0
    assert numbax.jvp(f, (jnp.asarray(1.0),), (jnp.asarray(2.0),))[1].item() == 20.0
    assert f(jnp.asarray(0.5)).item() == pytest.approx(np.sin(0.5))

    @numbax.custom_jvp
    def power(n, x):
        return x ** n

    power.defjvp(lambda n, primals, tangents: (power(n, primals[0]), n * primals[0] ** (n - 1) * tangents[0]))
    power = numbax.custom_jvp(power.fun, nondiff_argnums=(0,))
    power.defjvp(lambda n, primals, tangents: (primals[0] ** n, n * primals[0] ** (n - 1) * tangents[0]))
    assert numbax.grad(lambda x: power(3, x))(jnp.asarray(2.0)).item() == 12.0


def test_custom_jvp_defjvps_and_second_order():
    @numbax.custom_jvp
    def f(x):
        return jnp.exp(x)
    f.defjvps(lambda t, ans, x: ans * t)
    x = jnp.asarray(0.3)
    assert numbax.grad(numbax.grad(f))(x).item() == pytest.approx(np.exp(0.3), rel=1e-6)


def test_custom_vjp_with_residuals():
    @numbax.custom_vjp
    def clip_gradient(x):
        return x

    def fwd(x):
        return x, jnp.sign(x)

    def bwd(sign, g):
        return (jnp.clip(g, -1.0, 1.0) * sign,)

    clip_gradient.defvjp(fwd, bwd)
    x = jnp.asarray(np.array([2.0, -3.0], np.float32))
    g = numbax.grad(lambda x: jnp.sum(clip_gradient(x) * 5.0))(x)
    np.testing.assert_array_equal(np.asarray(g), [1.0, -1.0])  # clip(5) * sign(x)
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
        numbax.jvp(clip_gradient, (x,), (x,))


def test_stop_gradient_and_checkpoint():
    x = jnp.asarray(0.7)
    assert numbax.grad(lambda x: x * lax.stop_gradient(x))(x).item() == pytest.approx(0.7)
    f = lambda x: jnp.sin(jnp.sin(x))  # noqa: E731
    remat_f = numbax.checkpoint(f)
    assert numbax.grad(remat_f)(x).item() == pytest.approx(numbax.grad(f)(x).item(), rel=1e-6)
    assert numbax.grad(numbax.grad(remat_f))(x).item() == pytest.approx(
        numbax.grad(numbax.grad(f))(x).item(), rel=1e-5)
    plain = [e.primitive.name for e in numbax.make_jaxpr(numbax.grad(f))(x).eqns]
    remat = [e.primitive.name for e in numbax.make_jaxpr(numbax.grad(remat_f))(x).eqns]
    assert "checkpoint" in remat and plain.count("sin") == 2
    assert remat.count("sin") == 2  # recomputed in the backward pass, outside the checkpoint


def test_grad_errors():
    with pytest.raises(TypeError, match=r"argument 0 has dtype int32.*astype.*allow_int=True"):
        numbax.grad(lambda x: x * 2)(jnp.asarray(np.int32(3)))
    with pytest.raises(TypeError, match=r"grad requires a scalar output \(shape \(\)\), got f32\[3\]"):
        numbax.grad(lambda x: x * 2)(jnp.asarray(np.ones(3, np.float32)))
    with pytest.raises(TypeError, match=r"primal f32\[3\] and tangent f32\[2\]"):
        numbax.jvp(jnp.sin, (jnp.ones(3),), (jnp.ones(2),))
    with pytest.raises(TypeError, match="primals and tangents must be tuples"):
        numbax.jvp(jnp.sin, jnp.ones(3), jnp.ones(3))


def test_missing_rule_is_a_clear_error():
    from numbax._src.core import Primitive
    p = Primitive("mystery")
    p.def_impl(lambda x: x)
    p.def_abstract_eval(lambda a: a)
    with pytest.raises(NotImplementedError, match="Differentiation rule for 'mystery' is not implemented"):
        numbax.grad(lambda x: p.bind(x))(jnp.asarray(1.0))


def test_check_grads_catches_a_wrong_rule():
    @numbax.custom_jvp
    def f(x):
        return jnp.sin(x)
    f.defjvp(lambda primals, tangents: (f(primals[0]), tangents[0] * 2.0))
    with pytest.raises(AssertionError, match="jvp disagrees with finite differences"):
        check_grads(f, [np.array([0.1, 0.2])], order=1, modes=("fwd",))
    _ = F32, F64


# --- compositions give identical numbers ------------------------------------------------------

def _mlp_loss(params, x):
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.sum(jnp.sin(h @ params["w2"]) ** 2)


def _scalar_fn(v):
    return jnp.sum(jnp.sin(v) * v[0] + jnp.exp(-v * v) * v[1])


def test_jacfwd_of_jacrev_equals_jacrev_of_jacfwd_and_hessian_matches_differences():
    with enable_x64():
        v = jnp.asarray(np.array([0.3, -0.8, 1.2]))
        fr = numbax.jacfwd(numbax.jacrev(_scalar_fn))(v)
        rf = numbax.jacrev(numbax.jacfwd(_scalar_fn))(v)
        np.testing.assert_allclose(np.asarray(fr), np.asarray(rf), rtol=1e-12, atol=1e-14)
        h = numbax.hessian(_scalar_fn)(v)
        np.testing.assert_allclose(np.asarray(h), np.asarray(fr), rtol=1e-12, atol=1e-14)
        g = numbax.grad(_scalar_fn)
        eps = 1e-6
        columns = [(np.asarray(g(v + eps * e)) - np.asarray(g(v - eps * e))) / (2 * eps) for e in np.eye(3)]
        np.testing.assert_allclose(np.asarray(h), np.stack(columns, axis=1), rtol=1e-6, atol=1e-8)


def test_grad_of_grad_equals_hessian_diagonal_terms():
    with enable_x64():
        f = lambda x: jnp.sin(x) ** 3 * jnp.exp(x)  # noqa: E731
        x = jnp.asarray(0.4)
        d2 = numbax.grad(numbax.grad(f))(x)
        assert d2.item() == pytest.approx(numbax.hessian(f)(x).item(), rel=1e-12)
        assert d2.item() == pytest.approx(numbax.jacfwd(numbax.jacrev(f))(x).item(), rel=1e-12)


def test_forward_over_reverse_and_reverse_over_forward():
    with enable_x64():
        v = jnp.asarray(np.array([0.3, -0.8, 1.2]))
        t = jnp.asarray(np.array([1.0, 0.5, -2.0]))
        hvp_fwd_rev = numbax.jvp(numbax.grad(_scalar_fn), (v,), (t,))[1]

        def directional(x):
            return numbax.jvp(_scalar_fn, (x,), (t,))[1]
        _, pullback = numbax.vjp(directional, v)
        hvp_rev_fwd = pullback(jnp.asarray(1.0))[0]
        hvp = np.asarray(numbax.hessian(_scalar_fn)(v)) @ np.asarray(t)
        np.testing.assert_allclose(np.asarray(hvp_fwd_rev), hvp, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(hvp_rev_fwd), hvp, rtol=1e-12)


# --- the seeds' examples, verbatim after swapping imports ----------------------------------------

def test_seed_grad_of_sin_squared():
    assert numbax.grad(lambda x: jnp.sin(x)**2 + 1.0)(0.5) == pytest.approx(np.sin(1.0), rel=1e-6)


def test_seed_argnums_tuple_and_value_and_grad_with_aux():
    def loss(w, b, x, y):
        pred = x @ w + b
        return jnp.mean((pred - y) ** 2), pred

    x = jnp.asarray(np.arange(6.0, dtype=np.float32).reshape(3, 2) / 6)
    y = jnp.asarray(np.array([1.0, 0.0, 1.0], np.float32))
    w, b = jnp.asarray(np.array([0.2, -0.1], np.float32)), jnp.asarray(0.3)
    gw, gb = numbax.grad(lambda *a: loss(*a)[0], argnums=(0, 1))(w, b, x, y)
    (value, pred), (gw2, gb2) = numbax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(w, b, x, y)
    xn, yn, wn = np.asarray(x), np.asarray(y), np.asarray(w)
    residual = xn @ wn + 0.3 - yn
    np.testing.assert_allclose(np.asarray(gw), 2 * xn.T @ residual / 3, rtol=1e-5)
    assert gb.item() == pytest.approx(2 * residual.mean(), rel=1e-5)
    assert value.item() == pytest.approx(np.mean(residual ** 2), rel=1e-5)
    np.testing.assert_allclose(np.asarray(pred), xn @ wn + 0.3, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(gw2), np.asarray(gw))
    assert gb2.item() == gb.item()


def test_seed_training_loop_on_a_pytree_with_tree_map_sgd():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((32, 3)).astype(np.float32))
    params = {"w1": jnp.asarray(rng.standard_normal((3, 8)).astype(np.float32) * 0.5),
              "b1": jnp.zeros(8), "w2": jnp.asarray(rng.standard_normal((8, 1)).astype(np.float32) * 0.5)}
    target = jnp.asarray(np.sin(np.asarray(x).sum(axis=1, keepdims=True)))

    def loss(p):
        pred = jnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"]
        return jnp.mean((pred - target) ** 2)

    first = loss(params).item()
    for _ in range(60):
        grads = numbax.grad(loss)(params)
        params = numbax.tree.map(lambda p, g: p - 0.2 * g, params, grads)
    assert loss(params).item() < 0.5 * first
    assert set(params) == {"w1", "b1", "w2"} and params["w1"].shape == (3, 8)


def test_make_jaxpr_of_grad_is_a_readable_backward_pass():
    jaxpr = numbax.make_jaxpr(numbax.grad(lambda x: jnp.sum(jnp.sin(x) * x)))(jnp.ones(3))
    names = [e.primitive.name for e in jaxpr.eqns]
    # forward: sin (with its residual cos), mul, reduce_sum; backward: broadcast
    # the output cotangent, then the two products' cotangents, summed.
    assert names[0] == "sin" and names.index("reduce_sum") < names.index("broadcast_in_dim")
    assert "cos" in names and names.count("mul") == 4 and names[-1] == "add"
    text = str(jaxpr)
    assert text.startswith("{ lambda ; a:f32[3]. let") and text.rstrip().endswith("}")
    assert len(jaxpr.eqns) <= 10
