"""``numbax.nn.initializers`` (≈ ``jax.nn.initializers``): functions
``init(key, shape, dtype) -> Array`` that make parameter arrays. The
deterministic ones live here; the random ones (normal, uniform, glorot, he,
lecun, variance_scaling, orthogonal, truncated_normal) need numbax_random's
keys and arrive with it."""

from typing import Any, Protocol

from .. import dtypes
from ..core import Array
from ..lax import shape as lax_shape
from ..numpy.util import check_arraylike, convert, ensure_array

__all__ = ["Initializer", "zeros", "ones", "constant"]


class Initializer(Protocol):
    """The type of an initializer: ``init(key, shape, dtype=None) -> Array``."""

    def __call__(self, key: Any, shape: Any, dtype: Any = None) -> Array:
        ...


def _shape(shape):
    try:
        return (int(shape),) if not hasattr(shape, "__len__") else tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"initializer shape must be a tuple of ints, got {shape!r}.") from None


def _full(shape, value, dtype):
    shape = _shape(shape)
    dtype = dtypes.default_float_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)
    check_arraylike("constant", value)
    value = convert(ensure_array(value), dtype)
    if value.ndim > len(shape) or any(v not in (1, d) for v, d in zip(value.shape[::-1], shape[::-1])):
        raise ValueError(f"constant initializer: value of shape {tuple(value.shape)} does not "
                         f"broadcast to the requested shape {shape}.")
    return lax_shape.broadcast_in_dim(value, shape, tuple(range(len(shape) - value.ndim, len(shape))))


def zeros(key, shape, dtype=None):
    """An array of zeros.

    Args:
      key: PRNG key (unused; initializers share one signature).
      shape: tuple of ints.
      dtype: result dtype; default float32 (float64 with x64).

    Returns:
      Array of ``shape`` and ``dtype``.
    """
    del key
    return _full(shape, 0, dtype)


def ones(key, shape, dtype=None):
    """An array of ones; arguments as ``zeros``."""
    del key
    return _full(shape, 1, dtype)


def constant(value, dtype=None):
    """An initializer filling arrays with ``value``.

    Args:
      value: scalar or array broadcasting to the requested shapes.
      dtype: default dtype of the arrays; default float32 (float64 with x64).

    Returns:
      ``init(key, shape, dtype=dtype) -> Array`` of ``shape`` filled with ``value``.
    """
    default_dtype = dtype

    def init(key, shape, dtype=default_dtype):
        del key
        return _full(shape, value, dtype)

    return init
