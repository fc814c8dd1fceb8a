"""numbax-optim installs on its own and reaches numbax through its declared dependency."""

import numpy as np

import numbax_optim


def test_version():
    assert numbax_optim.__version__ == "0.1.0"


def test_sgd_step_over_a_pytree():
    numbax = numbax_optim.numbax
    jnp = numbax.numpy
    params = {"b": np.zeros(2, np.float32), "w": np.ones((2, 2), np.float32)}
    grads = {"b": np.array([1.0, -1.0], np.float32), "w": np.full((2, 2), 2.0, np.float32)}
    new = numbax.tree.map(lambda p, g: jnp.subtract(p, jnp.multiply(0.25, g)), params, grads)
    assert sorted(new) == ["b", "w"]
    assert new["w"].dtype == np.float32
    np.testing.assert_array_equal(np.asarray(new["b"]), [-0.25, 0.25])
    np.testing.assert_array_equal(np.asarray(new["w"]), np.full((2, 2), 0.5, np.float32))
