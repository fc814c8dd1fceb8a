"""numbax.Array: immutability, NumPy interop, repr, conversions."""

import pickle

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp


def test_repr_like_jax():
    assert repr(jnp.asarray(np.array([1.0, 2.0], np.float32))) == "Array([1., 2.], dtype=float32)"
    assert repr(jnp.asarray(np.arange(3, dtype=np.int32))) == "Array([0, 1, 2], dtype=int32)"
    assert repr(jnp.asarray(np.zeros((0, 3), np.float32))) == "Array([], shape=(0, 3), dtype=float32)"
    assert repr(jnp.asarray(np.array(True))) == "Array(True, dtype=bool)"
    assert repr(jnp.asarray(1.0) * 0.25) == "Array(0.25, dtype=float32, weak_type=True)"
    assert repr(jnp.asarray(np.float32(0.84147096))) == "Array(0.84147096, dtype=float32)"


def test_numpy_view_is_read_only_and_source_is_copied():
    source = np.arange(4.0, dtype=np.float32)
    x = jnp.asarray(source)
    source[0] = 100.0
    assert x[0].item() == 0.0
    view = np.asarray(x)
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[1] = 5.0
    copy = np.array(x, copy=True)
    copy[1] = 5.0
    assert x[1].item() == 1.0


def test_attributes_and_conversions():
    x = jnp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float32
    assert x.T.shape == (3, 2)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert x[1, 2].item() == 5.0 and float(x[1, 2]) == 5.0 and int(x[1, 1]) == 4
    assert x.block_until_ready() is x
    assert numbax.block_until_ready({"a": x})["a"] is x
    assert len(x) == 2 and [row.shape for row in x] == [(3,), (3,)]
    assert isinstance(x, numbax.Array)
    assert x.devices() == {numbax.devices()[0]}
    assert f"{x[0, 1]:.2f}" == "1.00"


def test_methods_forward_to_numpy_functions():
    x = jnp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(np.asarray(x.reshape(3, 2)), np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(np.asarray(x.reshape((6,))), np.arange(6.0))
    assert x.astype(jnp.int32).dtype == np.int32
    np.testing.assert_array_equal(np.asarray(x.sum(axis=0)), [3.0, 5.0, 7.0])
    assert x.mean().item() == 2.5


def test_operators_with_numpy_and_scalars():
    x = jnp.asarray(np.array([1.0, 2.0], np.float32))
    y = np.array([3.0, 4.0], np.float32)
    for out, want in [(x + y, [4, 6]), (y + x, [4, 6]), (2 * x, [2, 4]), (x ** 2, [1, 4]),
                      (-x, [-1, -2]), (1 / x, [1, 0.5]), (x @ x, 5.0)]:
        assert isinstance(out, numbax.Array)
        np.testing.assert_allclose(np.asarray(out), want)
    assert (x < 1.5).tolist() == [True, False]


def test_arrays_are_unhashable_and_picklable():
    x = jnp.asarray(np.arange(3, dtype=np.float32))
    with pytest.raises(TypeError):
        hash(x)
    y = pickle.loads(pickle.dumps(x))
    np.testing.assert_array_equal(np.asarray(y), np.asarray(x))


def test_device_put_and_get():
    tree = {"a": np.ones(2), "b": [1.5, np.arange(3)]}
    put = numbax.device_put(tree)
    assert isinstance(put["a"], numbax.Array) and put["a"].dtype == np.float32
    got = numbax.device_get(put)
    assert isinstance(got["b"][1], np.ndarray)
    np.testing.assert_array_equal(got["b"][1], np.arange(3))


def test_unknown_operand_types_defer_to_python():
    x = jnp.asarray(np.float32(0.5))
    assert x == pytest.approx(0.5)
    assert (x == None) is False  # noqa: E711
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError, match="requires ndarray or scalar arguments, got list"):
        jnp.add(x, [1.0])
