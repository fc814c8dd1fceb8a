"""Normalization layers: LayerNorm, RMSNorm, GroupNorm, BatchNorm. Statistics
are computed in at least float32; variance as ``max(0, E[x^2] - E[x]^2)``, as
Flax's ``use_fast_variance=True``."""

from typing import Any, Callable

import numbax.lax as lax
import numbax.numpy as jnp

from . import initializers
from ._util import promote_dtype
from .module import Module, compact, merge_param

__all__ = ["LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm"]


def _axes(axes, ndim):
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    return tuple(sorted(a % ndim for a in axes))


def _compute_stats(x, axes, use_mean=True, axis_name=None):
    """Mean and biased variance of ``x`` over ``axes`` (kept as size-1 axes),
    averaged over the named axis ``axis_name`` too when given."""
    dtype = jnp.promote_types(x.dtype, jnp.float32)
    x = jnp.asarray(x, dtype)
    mean2 = jnp.mean(x * x, axis=axes, keepdims=True)
    mean = jnp.mean(x, axis=axes, keepdims=True) if use_mean else jnp.zeros_like(mean2)
    if axis_name is not None:
        mean, mean2 = lax.pmean((mean, mean2), axis_name)
    var = jnp.maximum(0.0, mean2 - mean * mean) if use_mean else mean2
    return mean, var


def _normalize(module, x, mean, var, feature_axes, dtype, epsilon, use_scale, use_bias,
               scale_init, bias_init, param_dtype):
    """``(x - mean) * rsqrt(var + eps) * scale + bias`` with ``scale``/``bias``
    params of the feature axes' shape."""
    feature_shape = tuple(x.shape[a] for a in feature_axes)
    broadcast = tuple(x.shape[a] if a in feature_axes else 1 for a in range(x.ndim))
    y = x - mean
    mul = lax.rsqrt(var + epsilon)
    if use_scale:
        scale = module.param("scale", scale_init, feature_shape, param_dtype)
        mul = mul * jnp.reshape(scale, broadcast)
    y = y * mul
    if use_bias:
        bias = module.param("bias", bias_init, feature_shape, param_dtype)
        y = y + jnp.reshape(bias, broadcast)
    (y,) = promote_dtype(y, dtype=jnp.result_type(x) if dtype is None else dtype)
    return y


class _NormFields(Module):
    epsilon: float = 1e-6
    dtype: Any = None
    param_dtype: Any = jnp.float32
    use_bias: bool = True
    use_scale: bool = True
    bias_init: Callable = initializers.zeros
    scale_init: Callable = initializers.ones


class LayerNorm(_NormFields):
    """Normalize each example over ``reduction_axes`` (default the last).

    Parameters: ``scale`` (ones) and ``bias`` (zeros), shape of the
    ``feature_axes`` (default ``(C,)``). ``epsilon`` defaults to 1e-6.
    """

    reduction_axes: Any = -1
    feature_axes: Any = -1
    axis_name: Any = None

    @compact
    def __call__(self, x):
        mean, var = _compute_stats(x, _axes(self.reduction_axes, x.ndim), axis_name=self.axis_name)
        return _normalize(self, x, mean, var, _axes(self.feature_axes, x.ndim), self.dtype,
                          self.epsilon, self.use_scale, self.use_bias, self.scale_init,
                          self.bias_init, self.param_dtype)


class RMSNorm(Module):
    """``x * rsqrt(mean(x^2) + eps) * scale`` over ``reduction_axes`` (no mean
    subtraction, no bias). Parameter: ``scale (C,)`` (ones)."""

    epsilon: float = 1e-6
    dtype: Any = None
    param_dtype: Any = jnp.float32
    use_scale: bool = True
    scale_init: Callable = initializers.ones
    reduction_axes: Any = -1
    feature_axes: Any = -1
    axis_name: Any = None

    @compact
    def __call__(self, x):
        mean, var = _compute_stats(x, _axes(self.reduction_axes, x.ndim), use_mean=False,
                                   axis_name=self.axis_name)
        return _normalize(self, x, mean, var, _axes(self.feature_axes, x.ndim), self.dtype,
                          self.epsilon, self.use_scale, False, self.scale_init, None,
                          self.param_dtype)


class GroupNorm(_NormFields):
    """Split the channels into ``num_groups`` groups (or groups of
    ``group_size``) and normalize each example over its spatial axes and the
    channels of each group. Parameters: ``scale``, ``bias`` of shape ``(C,)``."""

    num_groups: Any = 32
    group_size: Any = None

    @compact
    def __call__(self, x):
        channels = x.shape[-1]
        if (self.num_groups is None) == (self.group_size is None):
            raise ValueError("GroupNorm: give exactly one of num_groups and group_size "
                             f"(got num_groups={self.num_groups}, group_size={self.group_size}).")
        groups = self.num_groups if self.group_size is None else channels // self.group_size
        if self.group_size is not None and channels % self.group_size:
            groups = None
        if groups is None or channels % groups:
            raise ValueError(f"GroupNorm at /{'/'.join(self.path)}: {channels} channels can't be split "
                             f"into num_groups={self.num_groups} / group_size={self.group_size} "
                             "equal groups; choose a divisor of the channel count.")
        grouped = jnp.reshape(x, tuple(x.shape[:-1]) + (groups, channels // groups))
        axes = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)
        mean, var = _compute_stats(grouped, axes)
        mean = jnp.reshape(jnp.broadcast_to(mean, grouped.shape), x.shape)
        var = jnp.reshape(jnp.broadcast_to(var, grouped.shape), x.shape)
        return _normalize(self, x, mean, var, (x.ndim - 1,), self.dtype, self.epsilon,
                          self.use_scale, self.use_bias, self.scale_init, self.bias_init,
                          self.param_dtype)


class BatchNorm(_NormFields):
    """Normalize over the batch (every axis but ``axis``).

    Parameters: ``scale``, ``bias`` ``(C,)``; collection ``batch_stats``:
    ``mean`` (zeros), ``var`` (ones) ``(C,)``. In training
    (``use_running_average=False``) the batch statistics normalize and, outside
    init, update ``ra = momentum * ra + (1 - momentum) * batch`` (call apply with
    ``mutable=['batch_stats']``); with ``use_running_average=True`` the stored
    statistics normalize. ``axis_name`` averages the statistics across a named
    (vmap/pmap) axis. ``momentum=0.99``, ``epsilon=1e-5``.
    """

    use_running_average: Any = None
    axis: int = -1
    momentum: float = 0.99
    epsilon: float = 1e-5
    axis_name: Any = None

    @compact
    def __call__(self, x, use_running_average=None):
        use_running_average = merge_param("use_running_average", self.use_running_average,
                                          use_running_average)
        feature_axes = _axes(self.axis, x.ndim)
        reduction_axes = tuple(a for a in range(x.ndim) if a not in feature_axes)
        feature_shape = tuple(x.shape[a] for a in feature_axes)
        broadcast = tuple(x.shape[a] if a in feature_axes else 1 for a in range(x.ndim))
        ra_mean = self.variable("batch_stats", "mean", lambda: jnp.zeros(feature_shape, jnp.float32))
        ra_var = self.variable("batch_stats", "var", lambda: jnp.ones(feature_shape, jnp.float32))
        if use_running_average:
            mean, var = jnp.reshape(ra_mean.value, broadcast), jnp.reshape(ra_var.value, broadcast)
        else:
            mean, var = _compute_stats(x, reduction_axes, axis_name=self.axis_name)
            if not self.is_initializing():
                ra_mean.value = (self.momentum * ra_mean.value
                                 + (1 - self.momentum) * jnp.reshape(mean, feature_shape))
                ra_var.value = (self.momentum * ra_var.value
                                + (1 - self.momentum) * jnp.reshape(var, feature_shape))
        return _normalize(self, x, mean, var, feature_axes, self.dtype, self.epsilon,
                          self.use_scale, self.use_bias, self.scale_init, self.bias_init,
                          self.param_dtype)
