"""The samplers of jax.random, built on random bits (random.md §5)."""

import math

import numpy as np

import numbax
import numbax.lax as lax
import numbax.numpy as jnp

from . import _xla_math as xm
from ._keys import check_key, check_shape, split
from ._threefry import random_bits_data, split_data


def _default_float():
    return np.dtype(np.float64 if numbax.config.jax_enable_x64 else np.float32)


def _default_int():
    return np.dtype(np.int64 if numbax.config.jax_enable_x64 else np.int32)


def _canonical(dtype):
    dtype = np.dtype(dtype)
    if not numbax.config.jax_enable_x64 and dtype.itemsize == 8:
        dtype = np.dtype(dtype.kind + "4" if dtype.kind != "f" else "float32")
    return dtype


def _float_dtype(name, dtype):
    dtype = _default_float() if dtype is None or dtype is float else _canonical(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype argument to `{name}` must be a float dtype, got {dtype}.")
    return dtype


def _int_dtype(name, dtype):
    dtype = _default_int() if dtype is None or dtype is int else _canonical(dtype)
    if not np.issubdtype(dtype, np.integer):
        raise TypeError(f"{name} only accepts integer dtypes, got {dtype}.")
    return dtype


def _as(x, dtype):
    return lax.convert_element_type(jnp.asarray(x), dtype)


def _uniform_data(keydata, shape, dtype, minval, maxval):
    finfo = np.finfo(dtype)
    nbits, nmant = finfo.bits, finfo.nmant
    bits = random_bits_data(keydata, nbits, shape)
    uint = bits.dtype
    one_bits = np.array(1.0, dtype).view(uint)
    mantissa = lax.shift_right_logical(bits, uint.type(nbits - nmant))
    floats = lax.sub(lax.bitcast_convert_type(lax.bitwise_or(mantissa, one_bits), dtype), dtype.type(1))
    if isinstance(minval, (int, float)) and isinstance(maxval, (int, float)):
        lo, span = dtype.type(minval), dtype.type(maxval) - dtype.type(minval)
        if (lo, span) == (0, 1):
            return floats
        if span > 0 and math.frexp(span)[0] == 0.5:
            # A power-of-two span makes the product exact, so the fused and unfused forms agree.
            return jnp.maximum(lo, floats * span + lo)
    minval, maxval = _as(minval, dtype), _as(maxval, dtype)
    return jnp.maximum(minval, xm.fma(floats, maxval - minval, minval))


def _param_shape(x):
    return tuple(np.shape(x)) if not hasattr(x, "shape") else tuple(x.shape)


def bits(key, shape=(), dtype=None):
    """Uniform random unsigned integers (all bit patterns equally likely).

    Args:
      key: a PRNG key. shape: tuple of ints. dtype: uint8/16/32/64; default uint32 (uint64 with x64).

    Returns:
      Array of ``shape`` and ``dtype``.
    """
    keydata, _ = check_key("bits", key)
    dtype = np.dtype(np.uint64 if numbax.config.jax_enable_x64 else np.uint32) if dtype is None else np.dtype(dtype)
    if dtype.kind != "u":
        raise TypeError(f"bits: dtype must be an unsigned integer dtype, got {dtype}.")
    return random_bits_data(keydata, dtype.itemsize * 8, check_shape("bits", shape))


def uniform(key, shape=(), dtype=float, minval=0.0, maxval=1.0):
    """Uniform floats in ``[minval, maxval)``.

    Args:
      key: a PRNG key. shape: tuple of ints (minval/maxval must broadcast to it).
      dtype: float dtype; default float32 (float64 with x64). minval, maxval: scalars or arrays.

    Returns:
      Array of ``shape`` and ``dtype``.
    """
    keydata, _ = check_key("uniform", key)
    dtype = _float_dtype("uniform", dtype)
    shape = check_shape("uniform", shape, _param_shape(minval), _param_shape(maxval))
    return _uniform_data(keydata, shape, dtype, minval, maxval)


def _normal_data(keydata, shape, dtype):
    lo = np.nextafter(dtype.type(-1), dtype.type(0))
    u = _uniform_data(keydata, shape, dtype, float(lo), 1.0)
    return dtype.type(np.sqrt(2)) * xm.erf_inv(u)


def normal(key, shape=(), dtype=float):
    """Standard normal floats, by the inverse CDF ``sqrt(2) * erf_inv(u)`` as in JAX.

    Returns:
      Array of ``shape`` and ``dtype`` (default float32; float64 with x64).
    """
    keydata, _ = check_key("normal", key)
    return _normal_data(keydata, check_shape("normal", shape), _float_dtype("normal", dtype))


def truncated_normal(key, lower, upper, shape=None, dtype=float):
    """Standard normal floats conditioned on ``lower < x < upper``.

    Args:
      lower, upper: scalars or arrays of bounds; shape: default their broadcast shape.

    Returns:
      Array of ``shape`` and ``dtype``, strictly inside the bounds.
    """
    keydata, _ = check_key("truncated_normal", key)
    dtype = _float_dtype("truncated_normal", dtype)
    shapes = (_param_shape(lower), _param_shape(upper))
    shape = np.broadcast_shapes(*shapes) if shape is None else check_shape("truncated_normal", shape, *shapes)
    sqrt2 = dtype.type(np.sqrt(2))
    lower, upper = _as(lower, dtype), _as(upper, dtype)
    a, b = xm.erf(lower / sqrt2), xm.erf(upper / sqrt2)
    out = sqrt2 * xm.erf_inv(_uniform_data(keydata, tuple(shape), dtype, a, b))
    inf = dtype.type(np.inf)
    return jnp.clip(out, lax.nextafter(lower, jnp.full_like(lower, inf)),
                    lax.nextafter(upper, jnp.full_like(upper, -inf)))


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Random booleans, True with probability ``p``.

    Args:
      p: float scalar or array (its dtype sets the uniform's dtype; a Python float is the default
        float dtype). shape: default ``p``'s shape. mode: ``'low'`` or ``'high'`` (more random bits
        for tiny ``p``).

    Returns:
      bool Array of ``shape``.
    """
    keydata, _ = check_key("bernoulli", key)
    p_shape = _param_shape(p)
    if isinstance(p, (bool, int)) or (hasattr(p, "dtype") and not np.issubdtype(p.dtype, np.floating)):
        raise TypeError(f"bernoulli probability `p` must have a floating dtype, got "
                        f"{getattr(p, 'dtype', type(p).__name__)}.")
    dtype = _default_float() if isinstance(p, float) else _canonical(jnp.asarray(p).dtype)
    shape = p_shape if shape is None else check_shape("bernoulli", shape, p_shape)
    p = _as(p, dtype)
    if mode == "low":
        return _uniform_data(keydata, tuple(shape), dtype, 0.0, 1.0) < p
    if mode != "high":
        raise ValueError(f"bernoulli: mode must be 'low' or 'high', got {mode!r}.")
    u = _uniform_data(keydata, (2, *shape), dtype, 0.0, 1.0)
    return u[1] * dtype.type(2.0 ** -np.finfo(dtype).nmant) < p - u[0]


def _clip_to(x, dtype):
    """Integer array ``x`` clipped into ``dtype``'s range, then cast (JAX's convert-and-clip)."""
    info = np.iinfo(dtype)
    x_info = np.iinfo(x.dtype)
    lo, hi = max(info.min, x_info.min), min(info.max, x_info.max)
    return lax.convert_element_type(jnp.clip(x, x.dtype.type(lo), x.dtype.type(hi)), dtype)


def _wide_int(x):
    """``x`` as an integer Array; Python ints outside int32 (x32) are kept as int64-clipped NumPy values."""
    if isinstance(x, (bool, int)):
        return None, int(x)
    x = jnp.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        x = lax.convert_element_type(x, _default_int())
    return x, None


def _bounds(value, dtype):
    arr, py = _wide_int(value)
    if arr is None:
        info = np.iinfo(dtype)
        return jnp.asarray(np.array(min(max(py, info.min), info.max), dtype)), py > info.max
    out_of_range = arr > arr.dtype.type(min(np.iinfo(dtype).max, np.iinfo(arr.dtype).max))
    return _clip_to(arr, dtype), out_of_range


def _urem(x, span):
    # XLA's remainder by zero returns the dividend; NumPy's returns 0.
    zero = span == span.dtype.type(0)
    return jnp.where(zero, x, lax.rem(x, jnp.where(zero, span.dtype.type(1), span)))


def randint(key, shape, minval, maxval, dtype=int):
    """Uniform integers in ``[minval, maxval)`` (JAX's double-width algorithm, incl. its wide-span bias).

    Args:
      shape: tuple of ints; minval, maxval: integer scalars or arrays broadcasting to ``shape``,
        clipped into ``dtype``'s range. dtype: integer dtype; default int32 (int64 with x64).

    Returns:
      Array of ``shape`` and ``dtype``; where ``maxval <= minval`` the result is ``minval``.
    """
    keydata, _ = check_key("randint", key)
    dtype = _int_dtype("randint", dtype)
    shape = check_shape("randint", shape, _param_shape(minval), _param_shape(maxval))
    # Narrow types are drawn as int32 and cast (random.md §5).
    draw = np.dtype(np.int32) if dtype.itemsize < 4 else dtype
    minval_v, _ = _bounds(minval, dtype)
    maxval_v, out_of_range = _bounds(maxval, dtype)
    minval_v, maxval_v = (lax.convert_element_type(v, draw) for v in (minval_v, maxval_v))
    nbits = draw.itemsize * 8
    unsigned = np.dtype(f"uint{nbits}")
    k1, k2 = _split_each(keydata, 2)
    higher, lower = random_bits_data(k1, nbits, shape), random_bits_data(k2, nbits, shape)
    span = lax.convert_element_type(maxval_v - minval_v, unsigned)
    span = jnp.where(maxval_v <= minval_v, unsigned.type(1), span)
    span = jnp.where(jnp.logical_and(out_of_range, maxval_v > minval_v), span + unsigned.type(1), span)
    span = jnp.broadcast_to(span, shape)
    multiplier = _urem(jnp.full_like(span, unsigned.type(2 ** (nbits // 2))), span)
    multiplier = _urem(multiplier * multiplier, span)
    offset = _urem(_urem(higher, span) * multiplier + _urem(lower, span), span)
    result = minval_v + lax.convert_element_type(offset, draw)
    return lax.convert_element_type(result, dtype)


def gumbel(key, shape=(), dtype=float, mode=None):
    """Standard Gumbel samples ``-log(-log(u))``.

    Args:
      mode: ``None``/``'low'`` (JAX's default) or ``'high'`` (more random bits near u = 1).

    Returns:
      Array of ``shape`` and ``dtype``.
    """
    keydata, _ = check_key("gumbel", key)
    return _gumbel_data(keydata, check_shape("gumbel", shape), _float_dtype("gumbel", dtype), mode)


def _gumbel_data(keydata, shape, dtype, mode):
    tiny = np.finfo(dtype).tiny
    if mode in (None, "low"):
        return -xm.log(-xm.log(_uniform_data(keydata, shape, dtype, float(tiny), 1.0)))
    if mode != "high":
        raise ValueError(f"gumbel: mode must be None, 'low' or 'high', got {mode!r}.")
    u = _uniform_data(keydata, (2, *shape), dtype, 0.0, 1.0)
    h, lo = u[0], u[1]
    x = jnp.where(h >= dtype.type(0.5), h, h + dtype.type(2.0 ** -np.finfo(dtype).nmant) * lo + tiny)
    return -xm.log(-xm.log1p(-x))


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Sample category indices from unnormalized log-probabilities (Gumbel-max trick).

    Args:
      logits: float array; categories along ``axis``. shape: default the batch shape
        (``logits.shape`` without ``axis``); leading extra dims draw more samples.
      replace: False draws distinct categories (Gumbel top-k) over the leading extra dims.

    Returns:
      int Array of ``shape``.
    """
    keydata, _ = check_key("categorical", key)
    logits = jnp.asarray(logits)
    if not np.issubdtype(logits.dtype, np.floating):
        logits = logits.astype(_default_float())
    if not -logits.ndim <= axis < logits.ndim:
        raise ValueError(f"categorical: axis {axis} is out of bounds for logits of shape {tuple(logits.shape)}.")
    axis = axis - logits.ndim if axis >= 0 else axis
    batch_shape = tuple(np.delete(np.array(logits.shape, dtype=int), axis).tolist())
    shape = batch_shape if shape is None else check_shape("categorical", shape, batch_shape)
    prefix = shape[:len(shape) - len(batch_shape)]
    dtype = np.dtype(logits.dtype)
    if replace:
        logits_shape = list(shape[len(shape) - len(batch_shape):])
        logits_shape.insert(axis % logits.ndim, logits.shape[axis])
        g = _gumbel_data(keydata, (*prefix, *logits_shape), dtype, mode)
        return jnp.argmax(g + lax.expand_dims(logits, tuple(range(len(prefix)))), axis=axis)
    k = math.prod(prefix)
    if k > logits.shape[axis]:
        raise ValueError(f"categorical: number of samples without replacement ({k}) cannot exceed the "
                         f"number of categories ({logits.shape[axis]}).")
    perturbed = logits + _gumbel_data(keydata, tuple(logits.shape), dtype, mode)
    _, indices = lax.top_k(jnp.moveaxis(perturbed, axis, -1), k)
    return jnp.reshape(jnp.moveaxis(indices, -1, 0), shape)


def _shuffle(keydata, x, axis):
    rounds = int(np.ceil(3 * np.log(max(1, x.size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        keydata, sub = _split_each(keydata, 2)
        sort_keys = random_bits_data(sub, 32, tuple(x.shape))
        _, x = lax.sort((sort_keys, x), dimension=axis, is_stable=True, num_keys=1)
    return x


def _integer_count(name, x):
    if not np.issubdtype(np.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype, np.integer):
        raise TypeError(f"{name}: x must be an integer or at least 1-dimensional, got {x!r}.")
    try:
        return int(x)
    except numbax.errors.ConcretizationTypeError:
        raise numbax.errors.ConcretizationTypeError(
            f"{name}: the size argument must be concrete; pass a Python int or mark it static.") from None


def permutation(key, x, axis=0, independent=False):
    """A random permutation of ``arange(x)`` (int ``x``) or of array ``x`` along ``axis``.

    Args:
      independent: permute every slice along ``axis`` independently instead of one permutation.

    Returns:
      int32 Array of shape ``(x,)``, or an array like ``x``.
    """
    keydata, _ = check_key("permutation", key)
    if np.ndim(x) == 0 and not hasattr(x, "ndim") or getattr(x, "ndim", 1) == 0:
        return _shuffle(keydata, jnp.arange(_integer_count("permutation", x)), 0)
    x = jnp.asarray(x)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"permutation: axis {axis} is out of bounds for an array of shape {tuple(x.shape)}.")
    axis = axis % x.ndim
    if independent or x.ndim == 1:
        return _shuffle(keydata, x, axis)
    return jnp.take(x, _shuffle(keydata, jnp.arange(x.shape[axis]), 0), axis=axis)


def shuffle(key, x, axis=0):
    """Shuffle ``x`` along ``axis``, each slice independently (deprecated in JAX; use permutation)."""
    keydata, _ = check_key("shuffle", key)
    x = jnp.asarray(x)
    return _shuffle(keydata, x, axis % x.ndim)


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Random elements of ``a`` (an array, or ``arange(a)`` for an int).

    Args:
      shape: output sample shape. replace: with replacement. p: probabilities of each entry
        (1-D, length ``a.shape[axis]``), need not be normalized.

    Returns:
      Array of shape ``shape`` (int ``a``) or ``a.shape[:axis] + shape + a.shape[axis+1:]``.
    """
    keydata, _ = check_key("choice", key)
    shape = check_shape("choice", shape)
    arr = jnp.asarray(a)
    n_inputs = _integer_count("choice", a) if arr.ndim == 0 else arr.shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return jnp.zeros(shape, dtype=arr.dtype)
    if n_inputs <= 0:
        raise ValueError("choice: a must be greater than 0 unless no samples are taken.")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"choice: cannot take a larger sample (size {n_draws}) than the population "
                         f"(size {n_inputs}) when replace=False.")
    if p is None:
        if replace:
            ind = randint(key, shape, 0, n_inputs)
        else:
            ind = permutation(key, n_inputs)[:n_draws]
    else:
        p = jnp.asarray(p)
        if not np.issubdtype(p.dtype, np.floating):
            p = p.astype(_default_float())
        if tuple(p.shape) != (n_inputs,):
            raise ValueError(f"choice: p must be None or match the shape of a; got p of shape "
                             f"{tuple(p.shape)}, expected ({n_inputs},).")
        if replace:
            cumulative = jnp.cumsum(p)
            r = cumulative[-1] * (1 - _uniform_data(keydata, shape, np.dtype(p.dtype), 0.0, 1.0))
            ind = jnp.searchsorted(cumulative, r).astype(_default_int())
        else:
            g = _gumbel_data(keydata, (n_inputs,), np.dtype(p.dtype), None) + jnp.log(p)
            ind = lax.top_k(g, n_draws)[1].astype(_default_int())
    ind = jnp.reshape(ind, shape)
    if arr.ndim == 0:
        return ind
    taken = jnp.take(arr, jnp.ravel(ind), axis=axis)
    return jnp.reshape(taken, tuple(arr.shape[:axis]) + shape + tuple(arr.shape[axis + 1:]))


def _transform(name, key, shape, dtype, minval, maxval, fn):
    keydata, _ = check_key(name, key)
    dtype = _float_dtype(name, dtype)
    return fn(_uniform_data(keydata, check_shape(name, shape), dtype, minval, maxval), dtype)


def exponential(key, shape=(), dtype=float):
    """Standard exponential samples ``-log1p(-u)``: Array of ``shape`` and ``dtype``."""
    return _transform("exponential", key, shape, dtype, 0.0, 1.0, lambda u, dt: -xm.log1p(-u))


def laplace(key, shape=(), dtype=float):
    """Standard Laplace samples ``sign(u) * log1p(-|u|)``, u in (-1, 1): Array of ``shape``."""
    def fn(u, dt):
        return jnp.sign(u) * xm.log1p(-jnp.abs(u))
    lo = float(np.finfo(_float_dtype("laplace", dtype)).epsneg) - 1.0
    return _transform("laplace", key, shape, dtype, lo, 1.0, fn)


def logistic(key, shape=(), dtype=float):
    """Standard logistic samples ``log(u / (1 - u))``: Array of ``shape`` and ``dtype``."""
    tiny = float(np.finfo(_float_dtype("logistic", dtype)).tiny)
    return _transform("logistic", key, shape, dtype, tiny, 1.0, lambda u, dt: xm.log(u / (dt.type(1) - u)))


def cauchy(key, shape=(), dtype=float):
    """Standard Cauchy samples ``tan(pi * (u - 1/2))``: Array of ``shape`` and ``dtype``."""
    eps = float(np.finfo(_float_dtype("cauchy", dtype)).eps)
    return _transform("cauchy", key, shape, dtype, eps, 1.0,
                      lambda u, dt: jnp.tan(dt.type(np.pi) * (u - dt.type(0.5))))


def rademacher(key, shape=(), dtype=int):
    """Random ±1 with equal probability: Array of ``shape`` and ``dtype`` (default int)."""
    dtype = _default_int() if dtype is int else _canonical(dtype)
    b = bernoulli(key, 0.5, check_shape("rademacher", shape))
    return (2 * b.astype(dtype) - 1).astype(dtype)


# Gamma: Marsaglia & Tsang's rejection method with JAX's key usage (one key per element).
def _masked_while(cond, body, state):
    """Per lane ``while cond(state): state = body(state)`` over the leading (element) axis:
    runs until no lane is active, updating only the active ones (lanes never see each other)."""
    def step(state):
        active = cond(state)
        new = body(state)
        return tuple(jnp.where(_expand(active, s), n, s) for n, s in zip(new, state))
    return lax.while_loop(lambda state: jnp.any(cond(state)), step, state)


def _expand(mask, like):
    return jnp.reshape(mask, tuple(mask.shape) + (1,) * (like.ndim - mask.ndim))


def _split_each(keys, n):
    """Per-key split of keys ``(*batch, 2)`` into ``n`` keys each: a list of ``(*batch, 2)`` arrays."""
    parts = split_data(keys, (n,))
    axis = parts.ndim - 2
    return [lax.squeeze(lax.slice_in_dim(parts, i, i + 1, axis=axis), (axis,)) for i in range(n)]


def _gamma_data(keys, alpha, dtype, log_space):
    """One gamma sample per key: keys ``(N, 2)``, alpha ``(N,)``."""
    one, zero = dtype.type(1), dtype.type(0)
    boost = alpha >= one
    alpha_orig = alpha
    alpha = jnp.where(boost, alpha, alpha + one)
    d = alpha - dtype.type(1 / 3)
    c = dtype.type(1 / 3) / jnp.sqrt(d)

    def not_accepted(state):
        _, x, v, u = state
        squeeze = u >= one - dtype.type(0.0331) * (x * x)
        return jnp.logical_and(squeeze, xm.log(u) >= x * dtype.type(0.5) + d * (one - v + xm.log(v)))

    def propose(state):
        k, x_key, u_key = _split_each(state[0], 3)

        def draw(inner):
            kk, sub = _split_each(inner[0], 2)
            x = _normal_data_per_key(sub, dtype)
            return kk, x, one + x * c
        init = (x_key, jnp.zeros_like(alpha), jnp.full_like(alpha, -one))
        _, x, v = _masked_while(lambda s: s[2] <= zero, draw, init)
        u = _uniform_data(u_key, (), dtype, 0.0, 1.0)
        return k, x * x, v * v * v, u

    keys, subkeys = _split_each(keys, 2)
    state = (keys, jnp.zeros_like(alpha), jnp.ones_like(alpha), jnp.full_like(alpha, dtype.type(2)))
    _, _, v, _ = _masked_while(not_accepted, propose, state)
    if log_space:
        log_samples = xm.log1p(-_uniform_data(subkeys, (), dtype, 0.0, 1.0))
        log_boost = jnp.where(jnp.logical_or(boost, log_samples == zero), zero, log_samples / alpha_orig)
        return xm.log(d) + xm.log(v) + log_boost
    samples = one - _uniform_data(subkeys, (), dtype, 0.0, 1.0)
    return d * v * jnp.where(boost, one, samples ** (one / alpha_orig))


def _normal_data_per_key(keys, dtype):
    return _normal_data(keys, (), dtype)


def _gamma(name, key, a, shape, dtype, log_space):
    keydata, _ = check_key(name, key)
    dtype = _float_dtype(name, dtype)
    shape = _param_shape(a) if shape is None else check_shape(name, shape, _param_shape(a))
    a = jnp.broadcast_to(_as(a, dtype), shape)
    size = math.prod(shape)
    keys = split_data(keydata, (size,))
    return jnp.reshape(_gamma_data(keys, jnp.ravel(a), dtype, log_space), shape)


def gamma(key, a, shape=None, dtype=float):
    """Gamma(a, 1) samples (Marsaglia-Tsang rejection, one key per element as in JAX).

    Args:
      a: positive float scalar or array (shape); shape: default ``a``'s shape.

    Returns:
      Array of ``shape`` and ``dtype``.
    """
    return _gamma("gamma", key, a, shape, dtype, log_space=False)


def loggamma(key, a, shape=None, dtype=float):
    """``log`` of Gamma(a, 1) samples, computed in log space (accurate for tiny ``a``)."""
    return _gamma("loggamma", key, a, shape, dtype, log_space=True)


def beta(key, a, b, shape=None, dtype=float):
    """Beta(a, b) samples as ``Ga / (Ga + Gb)`` from log-space gammas: Array of ``shape``."""
    dtype = _float_dtype("beta", dtype)
    shapes = (_param_shape(a), _param_shape(b))
    shape = np.broadcast_shapes(*shapes) if shape is None else check_shape("beta", shape, *shapes)
    key_a, key_b = split(key)
    log_a = loggamma(key_a, jnp.broadcast_to(_as(a, dtype), shape), shape, dtype)
    log_b = loggamma(key_b, jnp.broadcast_to(_as(b, dtype), shape), shape, dtype)
    log_max = jnp.maximum(log_a, log_b)
    ga, gb = jnp.exp(log_a - log_max), jnp.exp(log_b - log_max)
    return ga / (ga + gb)


def dirichlet(key, alpha, shape=None, dtype=float):
    """Dirichlet(alpha) samples: ``alpha`` ``(..., K)``; result ``(*shape, K)`` summing to 1 on the last axis."""
    dtype = _float_dtype("dirichlet", dtype)
    alpha_shape = _param_shape(alpha)
    if len(alpha_shape) < 1:
        raise ValueError(f"dirichlet: alpha must have at least one axis, got shape {alpha_shape}.")
    shape = alpha_shape[:-1] if shape is None else check_shape("dirichlet", shape, alpha_shape[:-1])
    log_g = loggamma(key, _as(alpha, dtype), tuple(shape) + alpha_shape[-1:], dtype)
    unnormalized = jnp.exp(log_g - lax.stop_gradient(jnp.max(log_g, axis=-1, keepdims=True)))
    return unnormalized / jnp.sum(unnormalized, axis=-1, keepdims=True)


def t(key, df, shape=(), dtype=float):
    """Student's t samples with ``df`` degrees of freedom: ``n * sqrt(df / 2 / g)``."""
    dtype = _float_dtype("t", dtype)
    shape = check_shape("t", shape, _param_shape(df))
    key_n, key_g = split(key)
    n = normal(key_n, shape, dtype)
    half_df = _as(df, dtype) / dtype.type(2)
    g = gamma(key_g, jnp.broadcast_to(half_df, shape), shape, dtype)
    return n * jnp.sqrt(half_df / g)


def ball(key, d, p=2, shape=(), dtype=float):
    """Uniform samples from the unit ``p``-norm ball in ``d`` dimensions: Array ``(*shape, d)``."""
    dtype = _float_dtype("ball", dtype)
    shape = check_shape("ball", shape)
    d = _integer_count("ball", d)
    k1, k2, k3 = split(key, 3)
    g = gamma(k1, 1 / p, (*shape, d), dtype)
    g = rademacher(k2, (*shape, d), dtype) * g ** dtype.type(1 / p)
    e = exponential(k3, shape, dtype)
    return g / (((jnp.abs(g) ** p).sum(-1) + e) ** dtype.type(1 / p))[..., None]


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Multivariate normal samples ``mean + factor @ z`` with ``cov = factor @ factor.T``.

    Args:
      mean: ``(..., n)``; cov: ``(..., n, n)``. shape: batch shape, default the broadcast of
        ``mean.shape[:-1]`` and ``cov.shape[:-2]``. method: ``'cholesky'``, ``'eigh'`` or ``'svd'``.

    Returns:
      Array of shape ``(*shape, n)``.
    """
    if method not in ("svd", "eigh", "cholesky"):
        raise ValueError(f"multivariate_normal: method must be one of 'svd', 'eigh', 'cholesky', got {method!r}.")
    dtype = _float_dtype("multivariate_normal", dtype)
    mean, cov = _as(mean, dtype), _as(cov, dtype)
    if mean.ndim < 1:
        raise ValueError(f"multivariate_normal requires mean.ndim >= 1, got mean.ndim == {mean.ndim}.")
    if cov.ndim < 2:
        raise ValueError(f"multivariate_normal requires cov.ndim >= 2, got cov.ndim == {cov.ndim}.")
    n = mean.shape[-1]
    if tuple(cov.shape[-2:]) != (n, n):
        raise ValueError(f"multivariate_normal requires cov.shape == (..., n, n) for n={n} (mean.shape[-1]), "
                         f"but got cov.shape == {tuple(cov.shape)}.")
    batch = (tuple(mean.shape[:-1]), tuple(cov.shape[:-2]))
    shape = np.broadcast_shapes(*batch) if shape is None else check_shape("multivariate_normal", shape, *batch)
    if method == "svd":
        u, s, _ = jnp.linalg.svd(cov)
        factor = u * jnp.sqrt(s[..., None, :])
    elif method == "eigh":
        w, v = jnp.linalg.eigh(cov)
        factor = v * jnp.sqrt(w[..., None, :])
    else:
        factor = jnp.linalg.cholesky(cov)
    z = normal(key, tuple(shape) + (n,), dtype)
    return mean + jnp.einsum("...ij,...j->...i", factor, z)


def orthogonal(key, n, shape=(), dtype=float, m=None):
    """Haar-random matrices with orthonormal columns (or rows): Array ``(*shape, n, m)``, ``m`` default ``n``.

    Like JAX: the Q of the QR factorization of a ``(max(n, m), min(n, m))`` normal matrix, its
    columns signed so R has a positive diagonal, transposed when ``n < m``.
    """
    dtype = _float_dtype("orthogonal", dtype)
    shape = check_shape("orthogonal", shape)
    n = _integer_count("orthogonal", n)
    m = n if m is None else _integer_count("orthogonal", m)
    z = normal(key, (*shape, max(n, m), min(n, m)), dtype)
    q, r = jnp.linalg.qr(z)
    d = jnp.diagonal(r, axis1=-2, axis2=-1)
    x = q * jnp.expand_dims(d / jnp.abs(d), -2)
    return jnp.swapaxes(x, -1, -2) if n < m else x
