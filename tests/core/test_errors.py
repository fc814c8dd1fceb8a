"""Each error users meet, with the fix in its message."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax.errors import (ConcretizationTypeError, TracerArrayConversionError,
                           TracerBoolConversionError, TracerIntegerConversionError,
                           UnexpectedTracerError)


def test_python_if_on_tracer():
    def f(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(TracerBoolConversionError) as info:
        numbax.make_jaxpr(f)(1.0)
    message = str(info.value)
    assert isinstance(info.value, ConcretizationTypeError)
    assert "numbax.lax.cond" in message and "static_argnums" in message
    assert "bool[]" in message and "make_jaxpr(f)" in message
    assert "test_errors.py" in message


def test_while_and_and_on_tracer():
    def f(x):
        while x < 3:
            x = x + 1
        return x

    with pytest.raises(TracerBoolConversionError, match="lax.while_loop"):
        numbax.make_jaxpr(f)(jnp.ones(()))


@pytest.mark.parametrize("convert", [int, float, lambda x: range(x)])
def test_int_float_index_on_tracer(convert):
    with pytest.raises(TracerIntegerConversionError, match="static_argnums"):
        numbax.make_jaxpr(lambda x: convert(x))(jnp.ones((), jnp.int32))


def test_numpy_on_tracer():
    with pytest.raises(TracerArrayConversionError, match="use numbax.numpy functions instead"):
        numbax.make_jaxpr(lambda x: np.sin(x))(jnp.ones(3))


def test_leaked_tracer():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2

    numbax.make_jaxpr(f)(jnp.ones(3))
    with pytest.raises(UnexpectedTracerError, match="escaped.*Return it from the transformed function"):
        leaked[0] + 1
    with pytest.raises(UnexpectedTracerError, match=r"tracer \(f32\[3\]\) created by make_jaxpr\(f\)"):
        jnp.sin(leaked[0])


def test_leaked_tracer_used_in_a_later_trace():
    leaked = []
    numbax.make_jaxpr(lambda x: leaked.append(x) or x)(jnp.ones(2))
    with pytest.raises(UnexpectedTracerError):
        numbax.make_jaxpr(lambda y: y + leaked[0])(jnp.ones(2))


def test_item_assignment_points_to_at():
    x = jnp.ones(3)
    with pytest.raises(TypeError, match=r"immutable.*x\.at\[index\]\.set\(value\)"):
        x[0] = 2.0
    with pytest.raises(TypeError, match=r"\.at\[index\]\.set"):
        numbax.make_jaxpr(lambda y: y.__setitem__(0, 1.0))(x)
