"""Pooling over channels-last inputs ``(batch, *spatial, features)``."""

import math

import numpy as np

import numbax.lax as lax
import numbax.numpy as jnp

__all__ = ["pool", "max_pool", "avg_pool", "min_pool"]


def pool(inputs, init, reduce_fn, window_shape, strides=None, padding="VALID"):
    """``lax.reduce_window`` over the spatial axes (batch and features keep
    window 1). ``padding``: 'SAME', 'VALID' or one (low, high) pair per spatial
    axis. Unbatched inputs ``(*spatial, features)`` are accepted."""
    window_shape = tuple(window_shape)
    strides = (1,) * len(window_shape) if strides is None else tuple(strides)
    if len(strides) != len(window_shape):
        raise ValueError(f"pool: strides {strides} and window_shape {window_shape} need the same length.")
    unbatched = inputs.ndim == len(window_shape) + 1
    if unbatched:
        inputs = jnp.expand_dims(inputs, 0)
    batch = inputs.ndim - len(window_shape) - 1
    if batch < 1:
        raise ValueError(f"pool: window_shape {window_shape} needs inputs (batch, *spatial, features); "
                         f"got shape {tuple(inputs.shape)}.")
    dims = (1,) * batch + window_shape + (1,)
    steps = (1,) * batch + strides + (1,)
    if not isinstance(padding, str):
        padding = tuple(tuple(p) for p in padding)
        if len(padding) != len(window_shape):
            raise ValueError(f"pool: padding needs one (low, high) pair per spatial axis; got {padding}.")
        padding = ((0, 0),) * batch + padding + ((0, 0),)
    y = lax.reduce_window(inputs, init, reduce_fn, dims, steps, padding)
    return y[0] if unbatched else y


def max_pool(inputs, window_shape, strides=None, padding="VALID"):
    """Maximum over each window (padding counts as -inf)."""
    return pool(inputs, -jnp.inf, lax.max, window_shape, strides, padding)


def min_pool(inputs, window_shape, strides=None, padding="VALID"):
    """Minimum over each window (padding counts as +inf)."""
    return pool(inputs, jnp.inf, lax.min, window_shape, strides, padding)


def avg_pool(inputs, window_shape, strides=None, padding="VALID", count_include_pad=True):
    """Mean over each window; with ``count_include_pad=False`` padded elements
    are left out of the count."""
    total = pool(inputs, 0.0, lax.add, window_shape, strides, padding)
    if count_include_pad or padding == "VALID":
        return total / math.prod(window_shape)
    ones = jnp.asarray(np.ones(inputs.shape, np.float32), total.dtype)
    return total / pool(ones, 0.0, lax.add, window_shape, strides, padding)
