"""``numbax.scipy.special`` (≈ ``jax.scipy.special``): special functions as
compositions of ``lax`` primitives (erf, erf_inv, lgamma, digamma, logistic)."""

import numpy as np

from .. import dtypes
from ..lax import elementwise as lax
from ..lax import reduce as lax_reduce
from ..lax import shape as lax_shape
from ..numpy.ufuncs import _FLOATS, _select, _unary
from ..numpy.util import normalize_axes, promote_args_inexact

__all__ = ["logsumexp", "erf", "erfc", "erfinv", "gammaln", "digamma", "expit", "logit", "xlogy",
           "xlog1py", "ndtr", "ndtri", "log_ndtr", "entr", "softmax", "log_softmax", "betaln"]

erf = _unary(lax.erf_p, "erf", _FLOATS, inexact=True,
             doc="The error function, ``2/sqrt(pi) * integral_0^x exp(-t**2) dt``.\n\n"
                 "Args:\n  x: array or scalar (integers promote to float).\n\n"
                 "Returns:\n  Float array of ``x``'s shape.")
erfc = _unary(lax.erfc_p, "erfc", _FLOATS, inexact=True,
              doc="The complementary error function ``1 - erf(x)``, accurate where it is tiny.\n\n"
                  "Args:\n  x: array or scalar (integers promote to float).\n\n"
                  "Returns:\n  Float array of ``x``'s shape.")
erfinv = _unary(lax.erf_inv_p, "erfinv", _FLOATS, inexact=True,
                doc="The inverse of ``erf`` on [-1, 1] (+-inf at +-1, nan outside).\n\n"
                    "Args:\n  x: array or scalar (integers promote to float).\n\n"
                    "Returns:\n  Float array of ``x``'s shape.")
gammaln = _unary(lax.lgamma_p, "gammaln", _FLOATS, inexact=True,
                 doc="``log|Gamma(x)|``.\n\nArgs:\n  x: array or scalar (integers promote to "
                     "float).\n\nReturns:\n  Float array of ``x``'s shape.")
digamma = _unary(lax.digamma_p, "digamma", _FLOATS, inexact=True,
                 doc="The digamma function ``d/dx log Gamma(x)``.\n\nArgs:\n  x: array or scalar "
                     "(integers promote to float).\n\nReturns:\n  Float array of ``x``'s shape.")
expit = _unary(lax.logistic_p, "expit", _FLOATS, inexact=True,
               doc="The logistic sigmoid ``1 / (1 + exp(-x))``.\n\nArgs:\n  x: array or scalar "
                   "(integers promote to float).\n\nReturns:\n  Float array of ``x``'s shape.")


def _reduce(reducer, x, axes, keepdims):
    if not axes:
        return x
    out = reducer(x, axes)
    if keepdims:
        out = lax_shape.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return out


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """``log(sum(b * exp(a)))`` over ``axis``, computed without overflow.

    Args:
      a: array (integers promote to float).
      axis: int or tuple of ints to reduce over; None reduces all axes.
      b: optional weights broadcasting with ``a``; may be negative with
        ``return_sign=True``.
      keepdims: keep reduced axes with length 1.
      return_sign: also return the sign of the sum, and take the log of its
        absolute value.
      where: optional bool mask broadcasting with ``a``: elements to include.

    Returns:
      Float array of the reduced (broadcast) shape; with ``return_sign``, a
      tuple ``(log_abs_sum, sign)``. An empty or all ``-inf`` slice gives
      ``-inf``; a negative sum without ``return_sign`` gives nan.

    Example:
      >>> logsumexp(numbax.numpy.zeros(2))
      Array(0.6931472, dtype=float32)
    """
    if b is None:
        (a,) = promote_args_inexact("logsumexp", a)
    else:
        a, b = promote_args_inexact("logsumexp", a, b)
    mask = None if where is None else _as_mask(where)
    if b is not None:
        # Zero weights drop their terms, even where a is inf.
        nonzero = lax.ne(b, 0)
        mask = nonzero if mask is None else lax.bitwise_and(mask, nonzero)
    if mask is not None:
        a = _select(mask, a, -np.inf)
    axes = normalize_axes(axis, a.ndim, "logsumexp")
    amax = _reduce(lax_reduce.reduce_max, a, axes, keepdims=True)
    # A slice with no finite maximum (all -inf, or containing +inf) shifts by 0.
    amax = _select(lax.is_finite(amax), amax, 0.0)
    terms = lax.exp(lax.sub(a, amax))
    if b is not None:
        terms = lax.mul(terms, b)
    total = _reduce(lax_reduce.reduce_sum, terms, axes, keepdims=True)
    sign = lax.sign(total)
    if return_sign:
        total = lax.abs(total)
    out = lax.add(lax.log(total), amax)
    if not keepdims and axes:
        out = lax_shape.squeeze(out, axes)
        sign = lax_shape.squeeze(sign, axes)
    return (out, sign) if return_sign else out


def _as_mask(where):
    from ..numpy.util import ensure_array
    mask = ensure_array(where)
    return mask if mask.dtype == dtypes.bool_ else lax.ne(mask, 0)


def _softmax_parts(name, x, axis, where):
    """``(x - max, mask, axes)`` for the softmax family: the shift keeps
    ``exp`` from overflowing; masked-out elements are -inf."""
    (x,) = promote_args_inexact(name, x)
    mask = None if where is None else _as_mask(where)
    if mask is not None:
        x = _select(mask, x, -np.inf)
    axes = normalize_axes(axis, x.ndim, name)
    # A slice with no finite maximum (all masked, or holding inf) shifts by 0
    # rather than computing inf - inf.
    shift = _reduce(lax_reduce.reduce_max, x, axes, keepdims=True)
    shift = _select(lax.is_finite(shift), shift, 0.0)
    return lax.sub(x, shift), mask, axes


def _softmax(x, axis, where, name="softmax"):
    shifted, mask, axes = _softmax_parts(name, x, axis, where)
    unnormalized = lax.exp(shifted)
    if mask is not None:
        unnormalized = _select(mask, unnormalized, 0.0)
    out = lax.div(unnormalized, _reduce(lax_reduce.reduce_sum, unnormalized, axes, keepdims=True))
    return out if mask is None else _select(mask, out, 0.0)


def _log_softmax(x, axis, where, name="log_softmax"):
    shifted, mask, axes = _softmax_parts(name, x, axis, where)
    unnormalized = lax.exp(shifted)
    if mask is not None:
        unnormalized = _select(mask, unnormalized, 0.0)
    log_total = lax.log(_reduce(lax_reduce.reduce_sum, unnormalized, axes, keepdims=True))
    # A slice that is all -inf gives nan (as JAX), without computing -inf - -inf.
    empty = lax.eq(log_total, -np.inf)
    out = _select(empty, np.nan, lax.sub(shifted, _select(empty, 0.0, log_total)))
    return out if mask is None else _select(mask, out, -np.inf)


def softmax(x, /, *, axis=None):
    """``exp(x) / sum(exp(x))`` over ``axis`` (all axes by default), computed
    without overflow by subtracting the maximum first.

    Args:
      x: array (integers promote to float).
      axis: int or tuple of ints; None normalizes over all axes.

    Returns:
      Float array of ``x``'s shape whose slices sum to 1.
    """
    return _softmax(x, axis, None)


def log_softmax(x, /, *, axis=None):
    """``x - logsumexp(x)`` over ``axis`` (all axes by default).

    Args:
      x: array (integers promote to float).
      axis: int or tuple of ints; None normalizes over all axes.

    Returns:
      Float array of ``x``'s shape.
    """
    return _log_softmax(x, axis, None)


def logit(x):
    """The inverse of ``expit``: ``log(x / (1 - x))`` (+-inf at 1 and 0, nan
    outside [0, 1]); integers promote to float. Same shape as ``x``."""
    (x,) = promote_args_inexact("logit", x)
    return lax.sub(lax.log(x), lax.log1p(lax.neg(x)))


def _x_log(name, log_fn, x, y, neutral):
    x, y = promote_args_inexact(name, x, y)
    # Where x is 0 the product is 0 even if log(y) is not finite; the safe y
    # keeps nan out of the unused branch (and so out of gradients).
    x_nonzero = lax.ne(x, 0)
    safe_y = _select(x_nonzero, y, neutral)
    return _select(x_nonzero, lax.mul(x, log_fn(safe_y)), 0.0)


def xlogy(x, y):
    """``x * log(y)``, defined as 0 where ``x == 0``.

    Args:
      x, y: arrays or scalars whose shapes broadcast together.

    Returns:
      Float array of the broadcast shape.
    """
    return _x_log("xlogy", lax.log, x, y, 1.0)


def xlog1py(x, y):
    """``x * log1p(y)``, defined as 0 where ``x == 0``.

    Args:
      x, y: arrays or scalars whose shapes broadcast together.

    Returns:
      Float array of the broadcast shape.
    """
    return _x_log("xlog1py", lax.log1p, x, y, 0.0)


def entr(x):
    """Elementwise entropy ``-x log x``: 0 at 0, -inf for negative ``x``.
    Integers promote to float; same shape as ``x``."""
    (x,) = promote_args_inexact("entr", x)
    positive = lax.gt(x, 0)
    out = lax.neg(lax.mul(x, lax.log(_select(positive, x, 1.0))))
    # x * 0 keeps nan for nan.
    return _select(positive, out, _select(lax.lt(x, 0), -np.inf, lax.mul(x, 0.0)))


def ndtr(x):
    """The standard normal CDF, ``0.5 * erfc(-x / sqrt(2))`` (accurate in both
    tails). Integers promote to float; same shape as ``x``."""
    (x,) = promote_args_inexact("ndtr", x)
    return _ndtr(x)


def _ndtr(x):
    return lax.mul(lax.erfc(lax.mul(x, -float(np.sqrt(0.5)))), 0.5)


# Acklam's rational approximation of the normal quantile in the tails
# (relative error below 1.2e-9), in q = sqrt(-2 log p).
_ACKLAM_NUM = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
               -2.549671010929058e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_ACKLAM_DEN = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
               3.754408661907416e+00, 1.0)
_ACKLAM_TAIL = 0.02425


def _horner(coefficients, x):
    out = coefficients[0]
    for c in coefficients[1:]:
        out = lax.add(lax.mul(out, x), c)
    return out


def ndtri(p):
    """The standard normal quantile, the inverse of ``ndtr``: -inf at 0, inf at
    1, nan outside [0, 1]. Integers promote to float; same shape as ``p``."""
    (p,) = promote_args_inexact("ndtri", p)
    central = lax.mul(lax.erf_inv(lax.sub(lax.mul(p, 2.0), 1.0)), float(np.sqrt(2.0)))
    # The smaller tail probability; 1 - p is exact for p >= 0.5.
    tail_p = lax.min(p, lax.sub(1.0, p))
    in_tail = lax.lt(tail_p, _ACKLAM_TAIL)
    q = lax.sqrt(lax.mul(lax.log(_select(lax.gt(tail_p, 0), tail_p, 1.0)), -2.0))
    lower = lax.div(_horner(_ACKLAM_NUM, q), _horner(_ACKLAM_DEN, q))
    # One Halley step on the lower-tail quantile brings it to full precision
    # (skipped where exp(lower**2 / 2) overflows, deep in the subnormals).
    error = lax.sub(_ndtr(lower), tail_p)
    u = lax.mul(lax.mul(error, float(np.sqrt(2 * np.pi))), lax.exp(lax.mul(lax.mul(lower, lower), 0.5)))
    refined = lax.sub(lower, lax.div(u, lax.add(lax.mul(lax.mul(lower, u), 0.5), 1.0)))
    lower = _select(lax.is_finite(refined), refined, lower)
    x = _select(in_tail, _select(lax.gt(p, 0.5), lax.neg(lower), lower), central)
    x = _select(lax.eq(p, 0), -np.inf, _select(lax.eq(p, 1), np.inf, x))
    return _select(lax.bitwise_or(lax.lt(p, 0), lax.gt(p, 1)), np.nan, x)


_LOG_NDTR_ASYMPTOTIC_BELOW = {dtypes.float16: -5.0, dtypes.float32: -10.0, dtypes.float64: -20.0}


def log_ndtr(x):
    """``log(ndtr(x))``, accurate far into both tails. Integers promote to
    float; same shape as ``x``."""
    (x,) = promote_args_inexact("log_ndtr", x)
    lower = _LOG_NDTR_ASYMPTOTIC_BELOW[x.dtype]
    upper = lax.log1p(lax.neg(_ndtr(lax.neg(lax.max(x, 0.0)))))
    middle = lax.log(_ndtr(lax.clamp(lower, x, 0.0)))
    # Below `lower`, ndtr(x) = pdf(x)/|x| * (1 - 1/x^2 + 3/x^4 - 15/x^6 + ...).
    far = lax.min(x, lower)
    t = lax.div(1.0, lax.mul(far, far))
    series = _horner((105.0, -15.0, 3.0, -1.0, 1.0), t)
    asymptotic = lax.sub(lax.sub(lax.mul(lax.mul(far, far), -0.5), lax.log(lax.neg(far))),
                         float(0.5 * np.log(2 * np.pi)))
    asymptotic = lax.add(asymptotic, lax.log(series))
    return _select(lax.gt(x, 0), upper, _select(lax.lt(x, lower), asymptotic, middle))


def betaln(a, b):
    """``log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)``, using
    Stirling's series for the difference when the larger argument is big (the
    direct formula cancels badly there).

    Args:
      a, b: arrays or scalars whose shapes broadcast together.

    Returns:
      Float array of the broadcast shape.
    """
    a, b = promote_args_inexact("betaln", a, b)
    small, big = lax.min(a, b), lax.max(a, b)
    direct = lax.sub(lax.add(lax.lgamma(small), lax.lgamma(big)), lax.lgamma(lax.add(small, big)))
    use_series = lax.ge(big, 10.0)
    big_safe = _select(use_series, big, 10.0)
    total = lax.add(small, big_safe)
    # lgamma(big) - lgamma(small + big) by Stirling, with log1p avoiding the
    # cancellation between the two logarithms.
    difference = lax.sub(lax.mul(lax.sub(big_safe, 0.5), lax.log1p(lax.div(small, big_safe))),
                         small)
    difference = lax.neg(lax.add(difference, lax.mul(small, lax.log(total))))
    difference = lax.add(difference, lax.sub(_stirling_tail(big_safe), _stirling_tail(total)))
    return _select(use_series, lax.add(lax.lgamma(small), difference), direct)


def _stirling_tail(z):
    # lgamma(z) - ((z - 1/2) log z - z + log(2 pi)/2) for z >= 10.
    t = lax.div(1.0, lax.mul(z, z))
    return lax.div(_horner((-1 / 1680, 1 / 1260, -1 / 360, 1 / 12), t), z)
