"""Type promotion against JAX's published promotion table (x32 mode)."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax._src import dtypes
from numbax._src.config import enable_x64

# (a, b, JAX's jnp.promote_types(a, b)) from the table in JAX's type promotion docs.
JAX_PROMOTION_TABLE = [
    ("bool", "bool", "bool"), ("bool", "uint8", "uint8"), ("bool", "int8", "int8"),
    ("bool", "int32", "int32"), ("bool", "float16", "float16"), ("bool", "float32", "float32"),
    ("uint8", "uint8", "uint8"), ("uint8", "int8", "int16"), ("uint8", "int16", "int16"),
    ("uint8", "int32", "int32"), ("uint8", "uint32", "uint32"), ("uint8", "float16", "float16"),
    ("int8", "int8", "int8"), ("int8", "uint32", "int32"), ("int8", "float16", "float16"),
    ("int16", "int32", "int32"), ("int16", "uint32", "int32"), ("int32", "uint32", "int32"),
    ("int32", "float16", "float16"), ("uint32", "float32", "float32"), ("float16", "float32", "float32"),
]


@pytest.mark.parametrize("a,b,expected", JAX_PROMOTION_TABLE)
def test_promote_types_matches_jax_table(a, b, expected):
    assert jnp.promote_types(a, b) == np.dtype(expected)
    assert jnp.promote_types(b, a) == np.dtype(expected)


def test_x64_widens_int32_uint32():
    with enable_x64():
        assert jnp.promote_types("int32", "uint32") == np.dtype("int64")
        assert jnp.promote_types("int64", "uint64") == np.dtype("float64")
    assert jnp.promote_types("int32", "uint32") == np.dtype("int32")


@pytest.mark.parametrize("array_dtype,scalar,expected,weak", [
    ("float32", 1.0, "float32", False),
    ("int32", 1.5, "float32", True),
    ("uint8", 3, "uint8", False),
    ("int8", 2, "int8", False),
    ("float16", 2.0, "float16", False),
    ("bool", 1, "int32", True),
])
def test_python_scalars_are_weak(array_dtype, scalar, expected, weak):
    x = jnp.asarray(np.ones(3, dtype=array_dtype))
    out = x + scalar
    assert out.dtype == np.dtype(expected)
    assert out.weak_type is weak
    np.testing.assert_allclose(np.asarray(out, dtype=np.float64),
                               np.ones(3) + scalar)


def test_canonicalize_narrows_without_x64():
    assert dtypes.canonicalize_dtype(np.float64) == np.dtype(np.float32)
    assert dtypes.canonicalize_dtype(np.int64) == np.dtype(np.int32)
    with enable_x64():
        assert dtypes.canonicalize_dtype(np.float64) == np.dtype(np.float64)
    assert jnp.asarray(np.zeros(2, np.float64)).dtype == np.dtype(np.float32)


def test_unsupported_dtype_names_the_supported_ones():
    with pytest.raises(TypeError, match="complex is not supported"):
        dtypes.canonicalize_dtype(np.complex64)


def test_config_update_and_unknown_option():
    before = numbax.config.jax_enable_x64
    numbax.config.update("jax_enable_x64", True)
    try:
        assert jnp.zeros(2).dtype == np.dtype(np.float64) or jnp.asarray(1.0).dtype == np.dtype(np.float64)
        assert jnp.asarray(np.ones(2)).dtype == np.dtype(np.float64)
    finally:
        numbax.config.update("jax_enable_x64", before)
    assert jnp.asarray(np.ones(2)).dtype == np.dtype(np.float32)
    with pytest.raises(AttributeError, match="Unknown numbax config option 'jax_enable_x32'"):
        numbax.config.update("jax_enable_x32", True)


@pytest.mark.parametrize("spec", [np.float32, np.dtype("float32"), "float32", "float64"])
def test_finfo_accepts_scalar_types_dtypes_names_and_arrays(spec):
    assert jnp.finfo(spec).eps == np.finfo(np.float32).eps  # float64 narrows without x64
    assert jnp.finfo(jnp.ones(2)).bits == 32
    assert jnp.iinfo(np.int32).max == 2 ** 31 - 1 and jnp.iinfo(jnp.arange(2)).bits == 32
