"""Dot-product attention, masks, and the multi-head attention layers.

Shapes: query/key/value ``(batch..., length, heads, head_dim)``; masks
``(batch..., heads, q_length, kv_length)`` with True (or nonzero) = attend.
"""

import functools
from typing import Any, Callable

import numbax.lax as lax
import numbax.numpy as jnp
import numbax_random
from numbax.nn import softmax

from . import initializers
from .linear import DenseGeneral, default_kernel_init
from .module import Module, compact, merge_param

__all__ = ["dot_product_attention_weights", "dot_product_attention", "make_attention_mask",
           "make_causal_mask", "combine_masks", "MultiHeadDotProductAttention",
           "MultiHeadAttention", "SelfAttention"]


def dot_product_attention_weights(query, key, bias=None, mask=None, broadcast_dropout=True,
                                  dropout_rng=None, dropout_rate=0.0, deterministic=False,
                                  dtype=None, precision=None):
    """``softmax(q k^T / sqrt(head_dim) + bias, masked)`` over the keys:
    ``(batch..., heads, q_length, kv_length)``."""
    if query.ndim != key.ndim or query.shape[-1] != key.shape[-1]:
        raise ValueError(f"attention: query {tuple(query.shape)} and key {tuple(key.shape)} need "
                         "the same rank and head_dim (batch..., length, heads, head_dim).")
    dtype = jnp.result_type(query, key) if dtype is None else dtype
    query = jnp.asarray(query, dtype) / jnp.sqrt(jnp.asarray(query.shape[-1], dtype))
    weights = jnp.einsum("...qhd,...khd->...hqk", query, jnp.asarray(key, dtype), precision=precision)
    if bias is not None:
        weights = weights + bias
    if mask is not None:
        weights = jnp.where(jnp.asarray(mask) != 0, weights, jnp.finfo(dtype).min)
    weights = softmax(weights, axis=-1)
    if not deterministic and dropout_rate > 0.0:
        if dropout_rng is None:
            raise ValueError("attention dropout (dropout_rate > 0, deterministic=False) needs "
                             "dropout_rng=key.")
        keep_prob = 1.0 - dropout_rate
        shape = ((1,) * (key.ndim - 2) + tuple(weights.shape[-2:]) if broadcast_dropout
                 else tuple(weights.shape))
        keep = numbax_random.bernoulli(dropout_rng, keep_prob, shape)
        weights = weights * (jnp.asarray(keep, dtype) / jnp.asarray(keep_prob, dtype))
    return weights


def dot_product_attention(query, key, value, bias=None, mask=None, broadcast_dropout=True,
                          dropout_rng=None, dropout_rate=0.0, deterministic=False, dtype=None,
                          precision=None):
    """Attention output ``(batch..., q_length, heads, head_dim)``: the
    attention weights applied to ``value``."""
    weights = dot_product_attention_weights(query, key, bias, mask, broadcast_dropout, dropout_rng,
                                            dropout_rate, deterministic, dtype, precision)
    return jnp.einsum("...hqk,...khd->...qhd", weights, jnp.asarray(value, weights.dtype),
                      precision=precision)


def make_attention_mask(query_input, key_input, pairwise_fn=jnp.multiply, extra_batch_dims=0,
                        dtype=jnp.float32):
    """``pairwise_fn(q[..., :, None], k[..., None, :])`` with a heads axis:
    ``(batch..., 1, q_length, kv_length)``, e.g. from padding masks."""
    mask = pairwise_fn(jnp.expand_dims(query_input, -1), jnp.expand_dims(key_input, -2))
    mask = jnp.expand_dims(mask, -3)
    mask = jnp.reshape(mask, (1,) * extra_batch_dims + tuple(mask.shape))
    return jnp.asarray(mask, dtype)


def make_causal_mask(x, extra_batch_dims=0, dtype=jnp.float32):
    """Lower-triangular mask for ``x (batch..., length)``: position i attends to j <= i;
    shape ``(batch..., 1, length, length)``."""
    idxs = jnp.broadcast_to(jnp.arange(x.shape[-1], dtype=jnp.int32), x.shape)
    return make_attention_mask(idxs, idxs, jnp.greater_equal, extra_batch_dims, dtype)


def combine_masks(*masks, dtype=jnp.float32):
    """Logical AND of the non-None masks (None if all are None)."""
    masks = [m for m in masks if m is not None]
    if not masks:
        return None
    return jnp.asarray(functools.reduce(jnp.logical_and, masks), dtype)


class MultiHeadDotProductAttention(Module):
    """Multi-head attention ``(inputs_q, inputs_k=None, inputs_v=None, *,
    mask=None, deterministic=None, dropout_rng=None)``; keys and values default
    to the queries.

    Parameters (DenseGeneral submodules): ``query``, ``key``, ``value``:
    ``kernel (in, num_heads, head_dim)``, ``bias (num_heads, head_dim)``;
    ``out``: ``kernel (num_heads, head_dim, out_features)``, ``bias
    (out_features,)``. ``head_dim = qkv_features // num_heads`` (qkv_features
    and out_features default to the input features). With ``decode=True`` the
    layer keeps a ``cache`` collection (``cached_key``, ``cached_value``
    ``(batch..., max_length, heads, head_dim)``, ``cache_index``): init on a
    full-length input, then apply one position at a time with
    ``mutable=['cache']``.
    """

    num_heads: int
    dtype: Any = None
    param_dtype: Any = jnp.float32
    qkv_features: Any = None
    out_features: Any = None
    broadcast_dropout: bool = True
    dropout_rate: float = 0.0
    deterministic: Any = None
    precision: Any = None
    kernel_init: Callable = default_kernel_init
    out_kernel_init: Any = None
    bias_init: Callable = initializers.zeros
    out_bias_init: Any = None
    use_bias: bool = True
    attention_fn: Callable = dot_product_attention
    decode: bool = False
    normalize_qk: bool = False

    @compact
    def __call__(self, inputs_q, inputs_k=None, inputs_v=None, *, inputs_kv=None, mask=None,
                 deterministic=None, dropout_rng=None, sow_weights=False):
        if self.normalize_qk:
            raise NotImplementedError("MultiHeadDotProductAttention(normalize_qk=True) is not "
                                      "implemented in numbax_nn.")
        if inputs_kv is not None:
            inputs_k = inputs_v = inputs_kv
        inputs_k = inputs_q if inputs_k is None else inputs_k
        inputs_v = inputs_k if inputs_v is None else inputs_v
        features = self.out_features or inputs_q.shape[-1]
        qkv_features = self.qkv_features or inputs_q.shape[-1]
        if qkv_features % self.num_heads:
            raise ValueError(f"MultiHeadDotProductAttention at /{'/'.join(self.path)}: qkv_features "
                             f"{qkv_features} must be divisible by num_heads={self.num_heads}.")
        head_dim = qkv_features // self.num_heads
        dense = functools.partial(DenseGeneral, axis=-1, dtype=self.dtype,
                                  param_dtype=self.param_dtype, features=(self.num_heads, head_dim),
                                  kernel_init=self.kernel_init, bias_init=self.bias_init,
                                  use_bias=self.use_bias, precision=self.precision)
        query = dense(name="query")(inputs_q)
        key = dense(name="key")(inputs_k)
        value = dense(name="value")(inputs_v)
        if self.decode:
            key, value, mask = self._decode_step(query, key, value, mask)
        dropout_rng_used = None
        deterministic_now = True
        if self.dropout_rate > 0.0:
            deterministic_now = merge_param("deterministic", self.deterministic, deterministic)
            if not deterministic_now:
                dropout_rng_used = self.make_rng("dropout") if dropout_rng is None else dropout_rng
        x = self.attention_fn(query, key, value, mask=mask, dropout_rng=dropout_rng_used,
                              dropout_rate=self.dropout_rate,
                              broadcast_dropout=self.broadcast_dropout,
                              deterministic=deterministic_now, dtype=self.dtype,
                              precision=self.precision)
        if sow_weights:
            raise NotImplementedError("sow_weights=True is not implemented in numbax_nn.")
        out = DenseGeneral(features=features, axis=(-2, -1),
                           kernel_init=self.out_kernel_init or self.kernel_init,
                           bias_init=self.out_bias_init or self.bias_init, use_bias=self.use_bias,
                           dtype=self.dtype, param_dtype=self.param_dtype,
                           precision=self.precision, name="out")
        return out(x)

    def _decode_step(self, query, key, value, mask):
        """Autoregressive decoding with a ``cache`` collection: init (on inputs of
        the full length) creates ``cached_key``/``cached_value``/``cache_index``;
        each later call takes one position, writes its key and value at
        ``cache_index`` and attends to the positions up to it."""
        initialized = self.has_variable("cache", "cached_key")
        cached_key = self.variable("cache", "cached_key", jnp.zeros, key.shape, key.dtype)
        cached_value = self.variable("cache", "cached_value", jnp.zeros, value.shape, value.dtype)
        cache_index = self.variable("cache", "cache_index", lambda: jnp.array(0, dtype=jnp.int32))
        if not initialized:
            return key, value, mask
        *batch, max_length, heads, head_dim = cached_key.value.shape
        expected = tuple(batch) + (1, heads, head_dim)
        if tuple(query.shape) != expected:
            raise ValueError(f"attention cache at /{'/'.join(self.path)}: decoding takes one position at a "
                             f"time, queries of shape {expected}; got {tuple(query.shape)}.")
        index = cache_index.value
        start = (0,) * len(batch) + (index, 0, 0)
        key = lax.dynamic_update_slice(cached_key.value, key, start)
        value = lax.dynamic_update_slice(cached_value.value, value, start)
        cached_key.value, cached_value.value = key, value
        cache_index.value = index + 1
        visible = jnp.broadcast_to(jnp.arange(max_length) <= index, tuple(batch) + (1, 1, max_length))
        return key, value, combine_masks(mask, visible)


MultiHeadAttention = MultiHeadDotProductAttention


class SelfAttention(MultiHeadDotProductAttention):
    """``MultiHeadDotProductAttention`` with keys and values = ``inputs_q``."""

    @compact
    def __call__(self, inputs_q, mask=None, deterministic=None, dropout_rng=None,
                 sow_weights=False):
        return super().__call__(inputs_q, mask=mask, deterministic=deterministic,
                                dropout_rng=dropout_rng, sow_weights=sow_weights)

