"""numbax-nn installs on its own and reaches numbax and numbax_random through its dependencies."""

import numpy as np

import numbax_nn


def test_version():
    assert numbax_nn.__version__ == "0.1.0"
    assert numbax_nn.numbax_random.__version__ == "0.1.0"


def test_uses_numbax_numpy():
    jnp = numbax_nn.numbax.numpy
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    x = np.array([1.0, -1.0], np.float32)
    # One Dense-like row computed elementwise: x[0] * kernel[0] + x[1] * kernel[1].
    y = jnp.add(jnp.multiply(x[0], kernel[0]), jnp.multiply(x[1], kernel[1]))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(y), np.array([-2.0, -2.0], np.float32))
