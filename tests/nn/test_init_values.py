"""Initial parameter values equal Flax's for the same key (reference/nn.md
sections 4-5).

How the expected vectors are made: the key of a parameter is
``fold_in(root, H)`` with ``H`` the first four bytes of SHA-1 over the module
path names and the per-module ``param`` counter, computed here with hashlib
(independently of numbax_nn); the values then follow the initializer formula,
evaluated in NumPy float32 on numbax_random's samples, e.g. lecun_normal =
``truncated_normal(key, -2, 2, shape) * (sqrt(f32(1 / fan_in)) / f32(0.8796...))``.
numbax_random's samplers are themselves checked bit-for-bit against jax.random
in tests/random, so equality here means equality with Flax.
"""

import hashlib

import numpy as np

import numbax.numpy as jnp
import numbax_nn as nn
import numbax_random

TRUNC_STD = np.float32(0.87962566103423978)  # std of a standard normal truncated to (-2, 2)


def param_key(root, *path_and_count):
    data = b"".join(x.encode() if isinstance(x, str) else x.to_bytes((x.bit_length() + 7) // 8, "big")
                    for x in path_and_count)
    return numbax_random.fold_in(root, np.uint32(int.from_bytes(hashlib.sha1(data).digest()[:4], "big")))


def lecun_normal_expected(key, shape, fan_in):
    sample = np.asarray(numbax_random.truncated_normal(key, -2.0, 2.0, shape, jnp.float32))
    return sample * (np.sqrt(np.float32(1.0 / fan_in)) / TRUNC_STD)


def test_dense_kernel_and_bias():
    root = numbax_random.key(0)
    p = nn.Dense(4).init(root, jnp.ones((1, 5)))["params"]
    np.testing.assert_array_equal(np.asarray(p["kernel"]), lecun_normal_expected(param_key(root, 1), (5, 4), 5))
    np.testing.assert_array_equal(np.asarray(p["bias"]), np.zeros(4, np.float32))


def test_dense_inside_a_model_uses_its_path():
    class Model(nn.Module):
        @nn.compact
        def __call__(self, x):
            h = nn.Dense(4)(x)
            return nn.Dense(3)(h)

    root = numbax_random.key(42)
    p = Model().init(root, jnp.ones((2, 5)))["params"]
    np.testing.assert_array_equal(np.asarray(p["Dense_0"]["kernel"]),
                                  lecun_normal_expected(param_key(root, "Dense_0", 1), (5, 4), 5))
    np.testing.assert_array_equal(np.asarray(p["Dense_1"]["kernel"]),
                                  lecun_normal_expected(param_key(root, "Dense_1", 1), (4, 3), 4))


def test_conv_kernel_fan_in_is_the_receptive_field_times_channels():
    root = numbax_random.key(1)
    p = nn.Conv(4, (3, 3)).init(root, jnp.ones((1, 5, 5, 2)))["params"]
    assert p["kernel"].shape == (3, 3, 2, 4)
    np.testing.assert_array_equal(np.asarray(p["kernel"]),
                                  lecun_normal_expected(param_key(root, 1), (3, 3, 2, 4), 3 * 3 * 2))


def test_embed_is_normal_with_std_one_over_sqrt_features():
    root = numbax_random.key(2)
    p = nn.Embed(7, 4).init(root, jnp.arange(3))["params"]
    sample = np.asarray(numbax_random.normal(param_key(root, 1), (7, 4), jnp.float32))
    np.testing.assert_array_equal(np.asarray(p["embedding"]), sample * np.sqrt(np.float32(1.0 / 4)))


def test_layer_norm_scale_ones_bias_zeros():
    p = nn.LayerNorm().init(numbax_random.key(3), jnp.ones((2, 6)))["params"]
    np.testing.assert_array_equal(np.asarray(p["scale"]), np.ones(6, np.float32))
    np.testing.assert_array_equal(np.asarray(p["bias"]), np.zeros(6, np.float32))


def test_dense_general_initializes_the_flattened_kernel():
    # Flax draws the kernel as (prod(in axes), prod(features)) and reshapes it.
    root = numbax_random.key(4)
    p = nn.DenseGeneral((2, 3), axis=(-2, -1)).init(root, jnp.ones((1, 4, 5)))["params"]
    assert p["kernel"].shape == (4, 5, 2, 3) and p["bias"].shape == (2, 3)
    flat = lecun_normal_expected(param_key(root, 1), (20, 6), 20)
    np.testing.assert_array_equal(np.asarray(p["kernel"]), flat.reshape(4, 5, 2, 3))


def test_dropout_mask_uses_the_dropout_stream_and_module_path():
    class Model(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dropout(0.5)(x, deterministic=False)

    root = numbax_random.key(5)
    x = jnp.ones((4, 8))
    got = np.asarray(Model().apply({}, x, rngs={"dropout": root}))
    keep = np.asarray(numbax_random.bernoulli(param_key(root, "Dropout_0", 1), 0.5, (4, 8)))
    np.testing.assert_array_equal(got, np.where(keep, 2.0, 0.0).astype(np.float32))


def test_lstm_cell_input_and_recurrent_kernels():
    # Input kernels: lecun_normal at path (name, count 1). Recurrent kernels:
    # orthogonal = Q of the QR of a normal sample with R's diagonal signs
    # folded in (jax.nn.initializers.orthogonal), computed here with NumPy's QR.
    root = numbax_random.key(6)
    cell = nn.LSTMCell(3)
    carry = cell.initialize_carry(root, (1, 4))
    p = cell.init(root, carry, jnp.ones((1, 4)))["params"]
    for gate in "ifgo":
        np.testing.assert_array_equal(np.asarray(p[f"i{gate}"]["kernel"]),
                                      lecun_normal_expected(param_key(root, f"i{gate}", 1), (4, 3), 4))
        sample = np.asarray(numbax_random.normal(param_key(root, f"h{gate}", 1), (3, 3), jnp.float32))
        q, r = np.linalg.qr(sample.astype(np.float64))
        np.testing.assert_allclose(np.asarray(p[f"h{gate}"]["kernel"]), q * np.sign(np.diag(r)),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(p[f"h{gate}"]["bias"]), np.zeros(3, np.float32))
