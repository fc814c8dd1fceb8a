"""``numbax.nn.initializers`` (≈ ``jax.nn.initializers``): functions
``init(key, shape, dtype) -> Array`` that make parameter arrays.

The random ones (normal, uniform, truncated_normal, variance_scaling and its
lecun/glorot/he family, orthogonal) draw with numbax_random, which depends on
core; it is imported when an initializer runs, so core alone still imports.
With the same key they give the same values as jax.nn.initializers
(reference/nn.md §5)."""

import math
from typing import Any, Protocol

from .. import dtypes
from ..core import Array
from ..lax import shape as lax_shape
from ..numpy.util import check_arraylike, convert, ensure_array

__all__ = ["Initializer", "zeros", "ones", "constant", "normal", "uniform", "truncated_normal",
           "variance_scaling", "lecun_normal", "lecun_uniform", "glorot_normal", "glorot_uniform",
           "xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "kaiming_normal",
           "kaiming_uniform", "orthogonal"]


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


def _random():
    try:
        import numbax_random
    except ImportError:
        raise ImportError("numbax.nn.initializers: the random initializers draw with numbax_random, "
                          "which is not installed; pip install numbax-random") from None
    return numbax_random


def _float(dtype):
    return dtypes.default_float_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)


def _scalar(value, dtype):
    import numpy as np

    return convert(ensure_array(np.asarray(value, dtype)), dtype)


def normal(stddev=1e-2, dtype=None):
    """An initializer drawing ``normal(key, shape) * stddev``.

    Returns:
      ``init(key, shape, dtype=dtype) -> Array`` of ``shape``.
    """
    default_dtype = dtype

    def init(key, shape, dtype=default_dtype):
        dtype = _float(dtype)
        return _random().normal(key, _shape(shape), dtype) * _scalar(stddev, dtype)

    return init


def uniform(scale=1e-2, dtype=None):
    """An initializer drawing uniformly from ``[0, scale)``: ``init(key, shape, dtype) -> Array``."""
    default_dtype = dtype

    def init(key, shape, dtype=default_dtype):
        dtype = _float(dtype)
        return _random().uniform(key, _shape(shape), dtype) * _scalar(scale, dtype)

    return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """An initializer drawing a standard normal truncated to ``(lower, upper)``, times ``stddev``
    (no variance correction, as in JAX): ``init(key, shape, dtype) -> Array``."""
    default_dtype = dtype

    def init(key, shape, dtype=default_dtype):
        dtype = _float(dtype)
        return _random().truncated_normal(key, lower, upper, _shape(shape), dtype) * _scalar(stddev, dtype)

    return init


def _axes_size(shape, axes):
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    return math.prod(shape[a] for a in axes)


def _compute_fans(shape, in_axis, out_axis, batch_axis):
    if len(shape) <= 1:
        raise ValueError(f"Can't compute input and output sizes of a {len(shape)}-dimensional weights "
                         f"tensor (shape {shape}). Must be at least 2D.")
    in_size, out_size = _axes_size(shape, in_axis), _axes_size(shape, out_axis)
    receptive = math.prod(shape) / in_size / out_size / _axes_size(shape, batch_axis)
    return in_size * receptive, out_size * receptive


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """An initializer whose samples have variance ``scale / n``, ``n`` a fan of the shape.

    Args:
      scale: positive float. mode: ``'fan_in'``, ``'fan_out'``, ``'fan_avg'`` or ``'fan_geo_avg'``.
      distribution: ``'truncated_normal'`` (a normal truncated to ±2 std, rescaled by its std
        0.87962566103423978 so the variance is exact), ``'normal'`` or ``'uniform'``.
      in_axis, out_axis, batch_axis: int or tuple of ints naming the fan axes; the other axes form
        the receptive field (fan = axis size * receptive field size).
      dtype: default dtype; float32 (float64 with x64).

    Returns:
      ``init(key, shape, dtype=dtype) -> Array`` of ``shape``.
    """
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"invalid mode for variance scaling initializer: {mode!r}; expected 'fan_in', "
                         "'fan_out', 'fan_avg' or 'fan_geo_avg'.")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(f"invalid distribution for variance scaling initializer: {distribution!r}; "
                         "expected 'truncated_normal', 'normal' or 'uniform'.")
    default_dtype = dtype

    def init(key, shape, dtype=default_dtype):
        import numbax.numpy as jnp

        shape, dtype, random = _shape(shape), _float(dtype), _random()
        fan_in, fan_out = _compute_fans(shape, in_axis, out_axis, batch_axis)
        denominator = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
                       "fan_geo_avg": (fan_in * fan_out) ** 0.5}[mode]
        variance = _scalar(scale / denominator, dtype)
        if distribution == "truncated_normal":
            stddev = jnp.sqrt(variance) / _scalar(0.87962566103423978, dtype)
            return random.truncated_normal(key, -2, 2, shape, dtype) * stddev
        if distribution == "normal":
            return random.normal(key, shape, dtype) * jnp.sqrt(variance)
        return random.uniform(key, shape, dtype, -1.0) * jnp.sqrt(3 * variance)

    return init


def _family(scale, mode, distribution, doc):
    def make(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis, dtype)
    make.__doc__ = f"{doc}: ``variance_scaling({scale}, {mode!r}, {distribution!r})``."
    return make


lecun_normal = _family(1.0, "fan_in", "truncated_normal", "LeCun normal (default kernel init of Dense/Conv)")
lecun_uniform = _family(1.0, "fan_in", "uniform", "LeCun uniform")
glorot_normal = xavier_normal = _family(1.0, "fan_avg", "truncated_normal", "Glorot/Xavier normal")
glorot_uniform = xavier_uniform = _family(1.0, "fan_avg", "uniform", "Glorot/Xavier uniform")
he_normal = kaiming_normal = _family(2.0, "fan_in", "truncated_normal", "He/Kaiming normal")
he_uniform = kaiming_uniform = _family(2.0, "fan_in", "uniform", "He/Kaiming uniform")
for _name in ("lecun_normal", "lecun_uniform", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform"):
    globals()[_name].__name__ = _name
del _name


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """An initializer of (semi-)orthogonal matrices: reshaped to 2-D ``(rows, shape[column_axis])``,
    the result has orthonormal columns (or rows, if wider than tall), times ``scale``.

    Returns:
      ``init(key, shape, dtype=dtype) -> Array`` of ``shape`` (at least 2-D).
    """
    default_dtype = dtype

    def init(key, shape, dtype=default_dtype):
        import numbax.numpy as jnp

        shape, dtype = _shape(shape), _float(dtype)
        if len(shape) < 2:
            raise ValueError(f"orthogonal initializer requires at least a 2D shape, got {shape}.")
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols
        q = _random().orthogonal(key, n_rows, (), dtype, m=n_cols)
        axis = column_axis % len(shape)
        q = jnp.reshape(q, shape[:axis] + shape[axis + 1:] + (n_cols,))
        return _scalar(scale, dtype) * jnp.moveaxis(q, -1, axis)

    return init
