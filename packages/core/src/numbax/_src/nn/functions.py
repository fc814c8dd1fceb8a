"""``numbax.nn`` activation functions (≈ ``jax.nn``), compositions of ``lax``
ops in their numerically stable forms. Integer inputs promote to float, except
for ``relu`` and ``hard_tanh``, which keep them (as JAX)."""

import math
import operator

import numpy as np

from .. import dtypes
from ..lax import elementwise as lax
from ..lax import reduce as lax_reduce
from ..lax import shape as lax_shape
from ..numpy import ufuncs
from ..numpy.ufuncs import _select
from ..numpy.util import canonicalize_axis, normalize_axes, promote_args, promote_args_inexact
from ..scipy.special import _as_mask, _log_softmax, _ndtr, _reduce, _softmax, logsumexp

__all__ = ["relu", "relu6", "sigmoid", "log_sigmoid", "softplus", "soft_sign", "silu", "swish",
           "gelu", "elu", "celu", "selu", "leaky_relu", "hard_tanh", "hard_sigmoid", "hard_silu",
           "hard_swish", "mish", "squareplus", "glu", "tanh", "softmax", "log_softmax",
           "logsumexp", "standardize", "one_hot"]

tanh = ufuncs.tanh


def _float(name, x):
    return promote_args_inexact(name, x)[0]


def relu(x):
    """``max(x, 0)``, with derivative 0 at 0 (as JAX). Same shape and dtype as
    ``x`` (integers stay integers, bools become int)."""
    x = promote_args("relu", x, 0)[0]
    return _select(lax.le(x, 0), 0, x)


def relu6(x):
    """``min(max(x, 0), 6)``, with derivative 0 at both kinks. Float array of
    ``x``'s shape."""
    x = _float("relu6", x)
    return _select(lax.le(x, 0), 0.0, _select(lax.ge(x, 6), 6.0, x))


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``. Float array of ``x``'s shape."""
    return lax.logistic(_float("sigmoid", x))


def softplus(x):
    """``log(1 + exp(x))`` without overflow (``logaddexp(x, 0)``). Float array
    of ``x``'s shape."""
    return ufuncs.logaddexp(_float("softplus", x), 0.0)


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``. Float
    array of ``x``'s shape."""
    return lax.neg(softplus(lax.neg(_float("log_sigmoid", x))))


def soft_sign(x):
    """``x / (|x| + 1)``. Float array of ``x``'s shape."""
    x = _float("soft_sign", x)
    return lax.div(x, lax.add(lax.abs(x), 1.0))


def silu(x):
    """SiLU (swish): ``x * sigmoid(x)``. Float array of ``x``'s shape."""
    x = _float("silu", x)
    return lax.mul(x, lax.logistic(x))


swish = silu


def gelu(x, approximate=True):
    """Gaussian error linear unit ``x * Phi(x)``.

    Args:
      x: array (integers promote to float).
      approximate: use the tanh approximation
        ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` instead of the exact
        normal CDF.

    Returns:
      Float array of ``x``'s shape.
    """
    x = _float("gelu", x)
    if approximate:
        inner = lax.mul(lax.add(x, lax.mul(lax.integer_pow(x, 3), 0.044715)), float(np.sqrt(2 / np.pi)))
        return lax.mul(lax.mul(x, 0.5), lax.add(lax.tanh(inner), 1.0))
    return lax.mul(x, _ndtr(x))


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``. Float array of ``x``'s shape."""
    x = _float("elu", x)
    positive = lax.gt(x, 0)
    return _select(positive, x, lax.mul(lax.expm1(_select(positive, 0.0, x)), alpha))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``.
    Float array of ``x``'s shape."""
    x = _float("celu", x)
    return lax.add(lax.max(x, 0.0), lax.mul(lax.expm1(lax.div(lax.min(x, 0.0), alpha)), alpha))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled ELU, ``scale * elu(x, alpha)`` with the self-normalizing constants
    (Klambauer et al., 2017). Float array of ``x``'s shape."""
    return lax.mul(elu(x, _SELU_ALPHA), _SELU_SCALE)


def leaky_relu(x, negative_slope=0.01):
    """``x`` for ``x >= 0``, else ``negative_slope * x``. Float array of ``x``'s shape."""
    x = _float("leaky_relu", x)
    return _select(lax.ge(x, 0), x, lax.mul(x, negative_slope))


def hard_tanh(x):
    """``x`` clipped to [-1, 1]. Same shape and dtype as ``x`` (integers stay
    integers, as JAX)."""
    (x,) = promote_args("hard_tanh", x)
    if x.dtype.kind != "u":
        x = _select(lax.lt(x, -1), -1, x)
    return _select(lax.gt(x, 1), 1, x)


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``. Float array of ``x``'s shape."""
    x = _float("hard_sigmoid", x)
    return lax.div(relu6(lax.add(x, 3.0)), 6.0)


def hard_silu(x):
    """Hard SiLU (hard swish): ``x * hard_sigmoid(x)``. Float array of ``x``'s shape."""
    x = _float("hard_silu", x)
    return lax.mul(x, hard_sigmoid(x))


hard_swish = hard_silu


def mish(x):
    """``x * tanh(softplus(x))``. Float array of ``x``'s shape."""
    x = _float("mish", x)
    return lax.mul(x, lax.tanh(softplus(x)))


def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``, a smooth ReLU. Float array of ``x``'s shape."""
    x = _float("squareplus", x)
    return lax.mul(lax.add(x, lax.sqrt(lax.add(lax.mul(x, x), b))), 0.5)


def glu(x, axis=-1):
    """Gated linear unit: split ``x`` in two halves ``a, b`` along ``axis`` and
    return ``a * sigmoid(b)``.

    Args:
      x: array whose ``axis`` has even length 2n.
      axis: the axis to split.

    Returns:
      Float array of ``x``'s shape with ``axis`` of length n.
    """
    x = _float("glu", x)
    axis = canonicalize_axis(axis, x.ndim, "glu")
    size = x.shape[axis]
    if size % 2:
        raise ValueError(f"glu: axis {axis} of the input (shape {tuple(x.shape)}) must have even "
                         f"length to split into two halves, got {size}.")
    a = lax_shape.slice_in_dim(x, 0, size // 2, axis=axis)
    b = lax_shape.slice_in_dim(x, size // 2, size, axis=axis)
    return lax.mul(a, lax.logistic(b))


def softmax(x, axis=-1, where=None):
    """``exp(x) / sum(exp(x))`` over ``axis``, without overflow.

    Args:
      x: array (integers promote to float).
      axis: int or tuple of ints; None normalizes over all axes.
      where: optional bool mask broadcasting with ``x``: elements to include;
        excluded ones come out as 0.

    Returns:
      Float array of ``x``'s (broadcast) shape whose slices sum to 1.
    """
    return _softmax(x, axis, where)


def log_softmax(x, axis=-1, where=None):
    """``x - logsumexp(x)`` over ``axis``.

    Args:
      x: array (integers promote to float).
      axis: int or tuple of ints; None normalizes over all axes.
      where: optional bool mask broadcasting with ``x``: elements to include;
        excluded ones come out as -inf.

    Returns:
      Float array of ``x``'s (broadcast) shape.
    """
    return _log_softmax(x, axis, where)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None, *, algorithm="fast"):
    """``(x - mean) / sqrt(variance + epsilon)`` over ``axis``.

    Args:
      x: array (integers promote to float).
      axis: int, tuple of ints, or None (all axes).
      mean, variance: optional precomputed statistics broadcasting with ``x``
        (reduced axes kept with length 1); computed over ``axis`` otherwise.
      epsilon: added to the variance.
      where: optional bool mask: the elements the statistics use.
      algorithm: ``"fast"`` computes the variance as ``mean(x^2) - mean^2``
        (JAX's default); ``"stable"`` as ``mean((x - mean)^2)``.

    Returns:
      Float array of ``x``'s shape.
    """
    if algorithm not in ("fast", "stable"):
        raise ValueError(f"standardize: algorithm must be 'fast' or 'stable', got {algorithm!r}.")
    x = _float("standardize", x)
    axes = normalize_axes(axis, x.ndim, "standardize")
    mask = None if where is None else _as_mask(where)

    def average(values):
        if mask is None:
            count = float(math.prod(x.shape[a] for a in axes))
            return lax.div(_reduce(lax_reduce.reduce_sum, values, axes, keepdims=True), count)
        kept = _select(mask, values, 0.0)
        weights = lax.convert_element_type(ufuncs._broadcast_to(mask, tuple(kept.shape)), kept.dtype)
        count = _reduce(lax_reduce.reduce_sum, weights, axes, keepdims=True)
        return lax.div(_reduce(lax_reduce.reduce_sum, kept, axes, keepdims=True), count)

    if mean is None:
        mean = average(x)
    else:
        x, mean = promote_args_inexact("standardize", x, mean)
    if variance is None:
        if algorithm == "fast":
            variance = lax.sub(average(lax.mul(x, x)), lax.mul(mean, mean))
        else:
            centered = lax.sub(x, mean)
            variance = average(lax.mul(centered, centered))
    else:
        x, variance = promote_args_inexact("standardize", x, variance)
    return lax.mul(lax.sub(x, mean), lax.rsqrt(lax.add(variance, epsilon)))


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    """One-hot encode integer indices; indices outside ``[0, num_classes)``
    give all-zero vectors.

    Args:
      x: array of indices (any shape).
      num_classes: static int, the length of each one-hot vector.
      dtype: result dtype; default float32 (float64 with x64).
      axis: where the new axis of length ``num_classes`` goes in the result.

    Returns:
      Array of ``x``'s shape with ``num_classes`` inserted at ``axis``.
    """
    try:
        num_classes = operator.index(num_classes)
    except TypeError:
        raise TypeError(f"one_hot: num_classes must be a static Python int, got "
                        f"{type(num_classes).__name__}; the output shape depends on it, so it "
                        "cannot be traced.") from None
    dtype = dtypes.default_float_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)
    (x,) = promote_args("one_hot", x)
    out_ndim = x.ndim + 1
    axis = canonicalize_axis(axis, out_ndim, "one_hot")
    out_shape = tuple(x.shape[:axis]) + (num_classes,) + tuple(x.shape[axis:])
    expanded = lax_shape.expand_dims(x, (axis,))
    # Compare in a type that holds every class number (uint8 cannot hold 300).
    compare_dtype = x.dtype if x.dtype.kind == "f" else \
        dtypes.promote_types(x.dtype, dtypes.default_int_dtype())
    classes = lax.broadcasted_iota(compare_dtype, out_shape, axis)
    expanded = lax.convert_element_type(expanded, compare_dtype)
    hits = lax.eq(ufuncs._broadcast_to(expanded, out_shape), classes)
    return lax.convert_element_type(hits, dtype)
