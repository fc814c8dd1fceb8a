"""Linear layers: Dense, DenseGeneral, Conv, ConvTranspose, Embed (channels-last,
parameter names and shapes as Flax's)."""

import math
from typing import Any, Callable

import numbax.lax as lax
import numbax.numpy as jnp

from . import initializers
from ._util import canonicalize_tuple, promote_dtype
from .module import Module, compact

__all__ = ["Dense", "DenseGeneral", "Conv", "ConvTranspose", "Embed"]

default_kernel_init = initializers.lecun_normal()
default_embed_init = initializers.variance_scaling(1.0, "fan_in", "normal", out_axis=0)


class Dense(Module):
    """``y = x @ kernel + bias`` over the last axis.

    Parameters: ``kernel (in_features, features)`` (``kernel_init``, default
    lecun_normal), ``bias (features,)`` (``bias_init``, default zeros).
    """

    features: int
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Callable = default_kernel_init
    bias_init: Callable = initializers.zeros

    @compact
    def __call__(self, inputs):
        kernel = self.param("kernel", self.kernel_init, (jnp.shape(inputs)[-1], self.features),
                            self.param_dtype)
        bias = (self.param("bias", self.bias_init, (self.features,), self.param_dtype)
                if self.use_bias else None)
        inputs, kernel, bias = promote_dtype(inputs, kernel, bias, dtype=self.dtype)
        y = lax.dot_general(inputs, kernel, (((inputs.ndim - 1,), (0,)), ((), ())),
                            precision=self.precision)
        return y if bias is None else y + bias


class DenseGeneral(Module):
    """A linear map contracting the input ``axis`` (int or tuple) onto
    ``features`` (int or tuple).

    Parameters: ``kernel (*[in.shape[a] for a in axis], *features)``, ``bias
    features``. As in Flax, the initializers see the flattened 2-D kernel
    ``(prod(in axes), prod(features))`` (so fan-in is the contracted size) and
    the result is reshaped. ``batch_dims`` other than ``()`` raise
    ``NotImplementedError``.
    """

    features: Any
    axis: Any = -1
    batch_dims: Any = ()
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    kernel_init: Callable = default_kernel_init
    bias_init: Callable = initializers.zeros
    precision: Any = None

    @compact
    def __call__(self, inputs):
        if tuple(self.batch_dims) != ():
            raise NotImplementedError("DenseGeneral(batch_dims=...) is not implemented in numbax_nn; "
                                      "vmap the layer over the batch axes instead.")
        features = (self.features,) if isinstance(self.features, int) else tuple(self.features)
        axis = (self.axis,) if isinstance(self.axis, int) else tuple(self.axis)
        axis = tuple(a % inputs.ndim for a in axis)
        kernel_shape = tuple(inputs.shape[a] for a in axis) + features

        def kernel_init(key, shape, dtype):
            flat = (math.prod(shape[:len(axis)]), math.prod(shape[len(axis):]))
            return jnp.reshape(self.kernel_init(key, flat, dtype), shape)

        def bias_init(key, shape, dtype):
            return jnp.reshape(self.bias_init(key, (math.prod(shape),), dtype), shape)

        kernel = self.param("kernel", kernel_init, kernel_shape, self.param_dtype)
        bias = self.param("bias", bias_init, features, self.param_dtype) if self.use_bias else None
        inputs, kernel, bias = promote_dtype(inputs, kernel, bias, dtype=self.dtype)
        y = lax.dot_general(inputs, kernel, ((axis, tuple(range(len(axis)))), ((), ())),
                            precision=self.precision)
        return y if bias is None else y + bias


def _conv_dimension_numbers(ndim):
    """(N, *spatial, C) inputs, (*window, I, O) kernels, as lax.ConvDimensionNumbers."""
    lhs = (0, ndim - 1) + tuple(range(1, ndim - 1))
    rhs = (ndim - 1, ndim - 2) + tuple(range(0, ndim - 2))
    return lax.ConvDimensionNumbers(lhs, rhs, lhs)


def _explicit_padding(padding, num_spatial):
    if isinstance(padding, str):
        return padding
    if isinstance(padding, int):
        return [(padding, padding)] * num_spatial
    padding = list(padding)
    if len(padding) != num_spatial:
        raise ValueError(f"padding must be a string, an int, or {num_spatial} ints / (low, high) "
                         f"pairs (one per spatial axis); got {padding!r}.")
    return [(p, p) if isinstance(p, int) else tuple(p) for p in padding]


class _ConvBase(Module):
    """Shared fields and input handling of Conv and ConvTranspose."""

    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = "SAME"
    input_dilation: Any = 1
    kernel_dilation: Any = 1
    feature_group_count: int = 1
    use_bias: bool = True
    mask: Any = None
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Callable = default_kernel_init
    bias_init: Callable = initializers.zeros

    def _parameters(self, inputs, kernel_shape):
        """``kernel`` (masked) and ``bias`` (or None), promoted with the inputs."""
        kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
        if self.mask is not None:
            kernel = kernel * self.mask
        bias = (self.param("bias", self.bias_init, (self.features,), self.param_dtype)
                if self.use_bias else None)
        return promote_dtype(inputs, kernel, bias, dtype=self.dtype)

    def _prepare(self, inputs):
        kernel_size = (self.kernel_size,) if isinstance(self.kernel_size, int) else tuple(self.kernel_size)
        num_spatial = len(kernel_size)
        unbatched = inputs.ndim == num_spatial + 1
        if unbatched:
            inputs = jnp.expand_dims(inputs, 0)
        if inputs.ndim < num_spatial + 2:
            raise ValueError(f"{type(self).__name__} with kernel_size {kernel_size} needs inputs "
                             f"(batch, *{num_spatial} spatial, features); got shape {tuple(inputs.shape)}.")
        batch_shape = inputs.shape[:inputs.ndim - num_spatial - 1]
        inputs = jnp.reshape(inputs, (-1,) + tuple(inputs.shape[len(batch_shape):]))
        return inputs, kernel_size, num_spatial, unbatched, batch_shape

    @staticmethod
    def _finish(y, bias, unbatched, batch_shape):
        if bias is not None:
            y = y + bias
        y = jnp.reshape(y, tuple(batch_shape) + tuple(y.shape[1:]))
        return y[0] if unbatched else y


class Conv(_ConvBase):
    """N-d convolution (cross-correlation) over channels-last inputs
    ``(batch, *spatial, in_features)``; unbatched inputs are accepted.

    Parameters: ``kernel (*kernel_size, in_features // feature_group_count,
    features)``, ``bias (features,)``. ``padding``: 'SAME', 'VALID',
    'CIRCULAR', 'CAUSAL' (1-d), an int, or per-axis ints / (low, high) pairs.
    """

    @compact
    def __call__(self, inputs):
        inputs, kernel_size, num_spatial, unbatched, batch_shape = self._prepare(inputs)
        strides = canonicalize_tuple(self.strides, num_spatial, "strides")
        input_dilation = canonicalize_tuple(self.input_dilation, num_spatial, "input_dilation")
        kernel_dilation = canonicalize_tuple(self.kernel_dilation, num_spatial, "kernel_dilation")
        padding = self.padding
        if padding == "CIRCULAR":
            pads = [(0, 0)] + [((k - 1) * d // 2, (k - 1) * d - (k - 1) * d // 2)
                               for k, d in zip(kernel_size, kernel_dilation)] + [(0, 0)]
            inputs = jnp.pad(inputs, pads, mode="wrap")
            padding = "VALID"
        elif padding == "CAUSAL":
            if num_spatial != 1:
                raise ValueError("padding='CAUSAL' is only defined for 1-d convolutions.")
            inputs = jnp.pad(inputs, [(0, 0), ((kernel_size[0] - 1) * kernel_dilation[0], 0), (0, 0)])
            padding = "VALID"
        padding = _explicit_padding(padding, num_spatial)
        in_features = inputs.shape[-1]
        if in_features % self.feature_group_count:
            raise ValueError(f"{type(self).__name__}: input features {in_features} are not divisible "
                             f"by feature_group_count={self.feature_group_count}.")
        inputs, kernel, bias = self._parameters(
            inputs, kernel_size + (in_features // self.feature_group_count, self.features))
        y = lax.conv_general_dilated(inputs, kernel, strides, padding, lhs_dilation=input_dilation,
                                     rhs_dilation=kernel_dilation,
                                     dimension_numbers=_conv_dimension_numbers(inputs.ndim),
                                     feature_group_count=self.feature_group_count,
                                     precision=self.precision)
        return self._finish(y, bias, unbatched, batch_shape)


class ConvTranspose(_ConvBase):
    """Transposed convolution (upsampling by ``strides``), channels-last.

    Parameters: ``kernel (*kernel_size, in_features, features)``, ``bias
    (features,)``. ``padding``: 'SAME', 'VALID', or (low, high) pairs;
    ``transpose_kernel`` flips the kernel as the gradient of a Conv would.
    """

    strides: Any = None
    transpose_kernel: bool = False

    @compact
    def __call__(self, inputs):
        inputs, kernel_size, num_spatial, unbatched, batch_shape = self._prepare(inputs)
        strides = canonicalize_tuple(1 if self.strides is None else self.strides, num_spatial, "strides")
        kernel_dilation = canonicalize_tuple(self.kernel_dilation, num_spatial, "kernel_dilation")
        if self.padding in ("CIRCULAR", "CAUSAL"):
            raise NotImplementedError(f"ConvTranspose(padding={self.padding!r}) is not implemented in "
                                      "numbax_nn; use 'SAME', 'VALID' or explicit pairs.")
        padding = _explicit_padding(self.padding, num_spatial)
        inputs, kernel, bias = self._parameters(inputs, kernel_size + (inputs.shape[-1], self.features))
        y = lax.conv_transpose(inputs, kernel, strides, padding, rhs_dilation=kernel_dilation,
                               dimension_numbers=_conv_dimension_numbers(inputs.ndim),
                               transpose_kernel=self.transpose_kernel, precision=self.precision)
        return self._finish(y, bias, unbatched, batch_shape)


class Embed(Module):
    """A lookup table: integer ids ``(...)`` → vectors ``(..., features)``.

    Parameter: ``embedding (num_embeddings, features)``, default
    ``variance_scaling(1, 'fan_in', 'normal', out_axis=0)`` (std
    ``1/sqrt(features)``). ``attend(query)`` computes ``query @ embedding.T``
    (a tied output layer).
    """

    num_embeddings: int
    features: int
    dtype: Any = None
    param_dtype: Any = jnp.float32
    embedding_init: Callable = default_embed_init

    def setup(self):
        self.embedding = self.param("embedding", self.embedding_init,
                                    (self.num_embeddings, self.features), self.param_dtype)

    def __call__(self, inputs):
        inputs = jnp.asarray(inputs)
        if not jnp.issubdtype(inputs.dtype, jnp.integer):
            raise ValueError(f"Embed ({'/'.join(self.path)}) needs integer ids, got {inputs.dtype}; "
                             "cast with .astype(jnp.int32).")
        (embedding,) = promote_dtype(self.embedding, dtype=self.dtype)
        return jnp.take(embedding, inputs, axis=0)

    def attend(self, query):
        """``query @ embedding.T``: scores of ``query (..., features)`` against every id."""
        query, embedding = promote_dtype(query, self.embedding, dtype=self.dtype)
        return jnp.dot(query, embedding.T)
