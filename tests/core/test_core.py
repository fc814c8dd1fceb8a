"""The engine: jaxpr printing, tracing, the typechecker, eval_jaxpr, eval_shape."""

import re

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax._src import core


def one_line(text):
    return re.sub(r"\s+", " ", str(text)).strip()


def test_make_jaxpr_prints_like_jax():
    jaxpr = numbax.make_jaxpr(lambda x: jnp.sin(x) * 2.0)(jnp.ones(3))
    assert str(jaxpr) == ("{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] "
                          "in (c,) }")


def test_multiline_jaxpr_with_params_and_broadcast():
    jaxpr = numbax.make_jaxpr(lambda x, y: x + y)(jnp.ones((4, 3)), jnp.ones(3))
    assert str(jaxpr) == (
        "{ lambda ; a:f32[4,3] b:f32[3]. let\n"
        "    c:f32[1,3] = broadcast_in_dim[broadcast_dimensions=(1,) shape=(1, 3)] b\n"
        "    d:f32[4,3] = add a c\n"
        "  in (d,) }")


def test_array_constants_become_constvars_and_scalars_literals():
    const = jnp.asarray(np.arange(3.0))
    jaxpr = numbax.make_jaxpr(lambda x: x * const + 1)(jnp.ones(3))
    text = one_line(jaxpr)
    assert text.startswith("{ lambda a:f32[3]; b:f32[3]. let")
    assert "add c 1.0:f32[]" in text
    assert len(jaxpr.consts) == 1
    np.testing.assert_array_equal(np.asarray(jaxpr.consts[0]), np.arange(3.0))


def test_literals_print_with_their_type():
    jaxpr = numbax.make_jaxpr(lambda x: (x.astype(jnp.int32) + 1, x > 0.5))(jnp.ones(2))
    text = one_line(jaxpr)
    assert "convert_element_type[new_dtype=int32 weak_type=False] a" in text
    assert "add b 1:i32[]" in text
    assert "gt a 0.5:f32[]" in text


def test_variable_names_continue_past_z():
    def f(x):
        for _ in range(30):
            x = jnp.sin(x)
        return x
    text = str(numbax.make_jaxpr(f)(jnp.ones(())))
    assert "ba:f32[] = sin z" in text
    assert text.rstrip().endswith("in (be,) }")


def test_pytree_arguments_and_outputs():
    def f(params, x):
        return {"y": params["w"] * x + params["b"], "n": x}
    closed, shapes = numbax.make_jaxpr(f, return_shape=True)({"w": 2.0, "b": jnp.ones(3)}, jnp.ones(3))
    assert [a.str_short() for a in closed.in_avals] == ["f32[3]", "f32[]", "f32[3]"]
    assert shapes["y"] == numbax.ShapeDtypeStruct((3,), jnp.float32)
    assert closed.in_avals[1].weak_type  # a Python float stays weakly typed


def test_eval_jaxpr_reproduces_eager():
    def f(x, y):
        return jnp.tanh(x * y) - jnp.exp(-x) / (1.0 + y * y)
    x = jnp.asarray(np.linspace(-2, 2, 7, dtype=np.float32))
    y = jnp.asarray(np.linspace(0, 1, 7, dtype=np.float32))
    closed = numbax.make_jaxpr(f)(x, y)
    (staged,) = core.eval_jaxpr(closed.jaxpr, closed.consts, x, y)
    xn, yn = np.asarray(x), np.asarray(y)
    expected = np.tanh(xn * yn) - np.exp(-xn) / (1.0 + yn * yn)
    np.testing.assert_allclose(np.asarray(staged), expected, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(staged), np.asarray(f(x, y)))


def test_eval_jaxpr_is_itself_traceable():
    closed = numbax.make_jaxpr(lambda x: jnp.cos(x) * x)(jnp.ones(2))
    again = numbax.make_jaxpr(lambda x: core.eval_jaxpr(closed.jaxpr, closed.consts, x)[0])(jnp.ones(2))
    assert one_line(again) == one_line(closed)


def test_eval_shape_and_shape_dtype_struct_inputs():
    spec = numbax.ShapeDtypeStruct((2, 5), jnp.float32)
    out = numbax.eval_shape(lambda a, b: (a * b, a.sum()), spec, numbax.ShapeDtypeStruct((5,), jnp.float32))
    assert out[0] == numbax.ShapeDtypeStruct((2, 5), jnp.float32)
    assert out[1].shape == () and out[1].dtype == np.dtype(np.float32)
    assert repr(out[0]) == "ShapeDtypeStruct(shape=(2, 5), dtype=float32)"


def test_static_argnums_are_not_traced():
    def f(x, n):
        for _ in range(n):
            x = x * 2.0
        return x
    closed = numbax.make_jaxpr(f, static_argnums=1)(jnp.ones(2), 3)
    assert [e.primitive.name for e in closed.eqns] == ["mul"] * 3


def test_typechecker_accepts_traced_jaxprs_and_reports_bad_ones():
    closed = numbax.make_jaxpr(lambda x: jnp.sin(x) + x)(jnp.ones(3))
    core.check_jaxpr(closed.jaxpr)
    bad = closed.jaxpr.eqns[1]
    bad.outvars[0].aval = core.ShapedArray((4,), np.float32)
    with pytest.raises(core.JaxprTypeError, match=r"add produces f32\[3\] but its outputs are typed f32\[4\]"):
        core.check_jaxpr(closed.jaxpr)
    with pytest.raises(core.JaxprTypeError, match=r"--> c:f32\[4\] = add b a"):
        core.check_jaxpr(closed.jaxpr)


def test_lax_requires_equal_dtypes_and_ranks():
    with pytest.raises(TypeError, match=r"add requires arguments to have the same dtypes.*f32\[3\], i32\[3\]"):
        lax.add(jnp.ones(3), jnp.ones(3, jnp.int32))
    with pytest.raises(TypeError, match=r"add got incompatible shapes for broadcasting: \(3,\), \(4,\)"):
        lax.add(jnp.ones(3), jnp.ones(4))
    with pytest.raises(TypeError, match=r"sin does not accept dtype int32"):
        lax.sin(jnp.ones(3, jnp.int32))


def test_shape_error_names_primitive_shapes_and_user_line():
    def loss(x, y):
        return x * y

    with pytest.raises(TypeError) as info:
        numbax.make_jaxpr(loss)(jnp.ones((4, 3)), jnp.ones(4))
    message = str(info.value)
    assert "multiply got incompatible shapes f32[4,3] and f32[4]" in message
    assert "y[:, None]" in message
    assert "test_core.py" in message and "in loss" in message


def test_lax_shape_error_in_jaxpr_names_user_line():
    def f(x):
        return lax.add(x, jnp.ones(4))

    with pytest.raises(TypeError, match=r"(?s)add got incompatible shapes.*test_core\.py:\d+, in f"):
        numbax.make_jaxpr(f)(jnp.ones(3))


def test_custom_primitive_goes_through_every_trace():
    twice_p = core.Primitive("twice")
    twice_p.def_impl(lambda x: 2 * x)
    twice_p.def_abstract_eval(lambda aval: aval)
    x = jnp.asarray(np.arange(3, dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(twice_p.bind(x)), [0.0, 2.0, 4.0])
    assert str(numbax.make_jaxpr(twice_p.bind)(x)) == "{ lambda ; a:f32[3]. let b:f32[3] = twice a in (b,) }"


def test_floating_point_edges_are_silent_like_xla():
    # numbax silences NumPy's floating-point warnings from its own impls only
    # (pytest.ini turns every other warning into an error).
    assert np.isinf(np.asarray(jnp.log(jnp.asarray(0.0))))
    assert np.isnan(np.asarray(jnp.sqrt(jnp.asarray(-1.0))))
    big = jnp.asarray(np.float32(3e38))
    assert np.isinf(np.asarray(big * big))
    assert np.isinf(np.asarray(jnp.asarray(1.0) / 0.0))
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.log(np.zeros(1))  # NumPy called by the user still warns
