"""XLA:CPU's float kernels that jax.random's samplers go through (random.md §6).

jax.random.normal is ``sqrt(2) * erf_inv(u)``; its bits depend on XLA's erf_inv,
log1p and log polynomials and on XLA fusing every ``a * b + c`` into one fused
multiply-add. These functions reproduce that operation order with numbax ops, so
they also trace under vmap/jit. float32 follows the kernels exactly; float64 uses
Giles' double erf_inv, the same Cephes log1p, and numbax's log/erf (XLA's f64 log
differs from glibc in the last bit for ~0.2% of inputs, which reaches a normal only
when ``u**2 > sqrt(2) - 1``).
"""

import numpy as np

import numbax.lax as lax
import numbax.numpy as jnp


def _veltkamp(a, dtype):
    # Splits a into hi + lo with half the significand each, so hi * hi' is exact.
    c = a * dtype.type(2.0 ** ((np.finfo(dtype).nmant + 2) // 2) + 1.0)
    hi = c - (c - a)
    return hi, a - hi


def fma(a, b, c):
    """``a * b + c`` with one rounding, from error-free transforms (Dekker product, Knuth sum).

    ``(p, e)`` is ``a * b`` exactly and ``(s, t)`` is ``p + c`` exactly, so the result
    ``s + (t + e)`` is the correctly rounded fma except when ``t + e`` itself rounds next to a
    tie, which is rare enough (~2^-20 per call) not to show in jax's test vectors. Where the
    split overflows (|a|, |b| near the float max) it falls back to ``a * b + c``.
    """
    dtype = jnp.result_type(a, b, c)
    p = a * b
    ah, al = _veltkamp(a, dtype)
    bh, bl = _veltkamp(b, dtype)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    cc = s - p
    t = (p - (s - cc)) + (c - cc)
    r = s + (t + e)
    return jnp.where(jnp.isfinite(r), r, s)


def _horner(x, coefficients):
    """Polynomial with ``coefficients`` highest degree first, one fma per step as XLA fuses it."""
    dtype = np.dtype(x.dtype)
    p = jnp.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        p = fma(p, x, dtype.type(c))
    return p


_LOG_P = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
          -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)


def log(x):
    """Natural log as XLA:CPU computes it (Cephes polynomial; denormals count as 0)."""
    if x.dtype != np.float32:
        return lax.log(x)
    f32 = np.float32
    bits = lax.bitcast_convert_type(x, np.int32)
    exponent = lax.bitwise_and(lax.shift_right_logical(bits, np.int32(23)), np.int32(0xFF))
    e = lax.convert_element_type(lax.sub(exponent, np.int32(126)), np.float32)
    m = lax.bitcast_convert_type(lax.bitwise_or(lax.bitwise_and(bits, np.int32(0x007FFFFF)),
                                                np.int32(0x3F000000)), np.float32)
    small = m < f32(0.707106781186547524)
    e = e - jnp.where(small, f32(1), f32(0))
    m = (m - f32(1)) + jnp.where(small, m, f32(0))
    x2 = m * m
    x3 = x2 * m
    p = [f32(c) for c in _LOG_P]
    y, y1, y2 = fma(m, p[0], p[1]), fma(m, p[3], p[4]), fma(m, p[6], p[7])
    y, y1, y2 = fma(y, m, p[2]), fma(y1, m, p[5]), fma(y2, m, p[8])
    y = fma(fma(y, x3, y1), x3, y2)
    y = fma(y, x3, f32(-2.12194440e-4) * e)
    m = fma(f32(-0.5), x2, m) + y
    result = fma(f32(0.693359375), e, m)
    tiny = np.finfo(np.float32).tiny
    result = jnp.where(x == np.inf, f32(np.inf), result)
    return jnp.where(x >= tiny, result, jnp.where(x >= 0, f32(-np.inf), f32(np.nan)))


_LOG1P_N = (4.5270000862445199635215e-5, 4.9854102823193375972212e-1, 6.5787325942061044846969e0,
            2.9911919328553073277375e1, 6.0949667980987787057556e1, 5.7112963590585538103336e1,
            2.0039553499201281259648e1)
_LOG1P_D = (1.0, 1.5062909083469192043167e1, 8.3047565967967209469434e1, 2.2176239823732856465394e2,
            3.0909872225312059774938e2, 2.1642788614495947685003e2, 6.0118660497603843919306e1)


def log1p(x):
    """``log(1 + x)`` as XLA:CPU computes it (any float width): a rational Cephes polynomial
    for ``|x| < sqrt(2) - 1``, else ``log(1 + x)``."""
    dt = np.dtype(x.dtype).type
    x2 = x * x
    ratio = _horner(x, _LOG1P_N) / _horner(x, _LOG1P_D)
    near_zero = x + fma(dt(-0.5), x2, (x * x2) * ratio)
    return jnp.where(jnp.abs(x) < dt(0.41421356237309504880), near_zero, log(x + dt(1)))


_ERF_ALPHA = (0.00022905065861350646, 0.0034082910107109506, 0.050955695062380861, 0.18520832239976145,
              1.128379143519084)
_ERF_BETA = (-1.1791602954361697e-7, 0.000023547966471313185, 0.0010179625278914885, 0.014070470171167667,
             0.11098505178285362, 0.49746925110067538, 1.0)


def erf(x):
    """Error function as XLA computes it in float32 (rational approximation, ±1 beyond 3.8325)."""
    if x.dtype != np.float32:
        return lax.erf(x)
    t = x * x
    value = (x * _horner(t, _ERF_ALPHA)) / _horner(t, _ERF_BETA)
    return jnp.where(jnp.abs(x) >= np.float32(3.832506856900711), jnp.sign(x), value)


# Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): single precision,
# branch w < 5 then w >= 5; double precision, branches w < 6.25, w < 16, else.
_ERF_INV_F32 = (
    (5.0, 2.5, False, (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                       -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)),
    (np.inf, 3.0, True, (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)),
)
_ERF_INV_F64 = (
    (6.25, 3.125, False, (
        -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
        1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
        6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
        2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
        1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
        4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
        0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
        0.24015818242558961693, 1.6536545626831027356)),
    (16.0, 3.25, True, (
        2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
        1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
        2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
        6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
        0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
        -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
        3.0838856104922207635)),
    (np.inf, 5.0, True, (
        -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
        -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
        2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
        -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
        7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
        1.0103004648645343977, 4.8499064014085844221)),
)


def erf_inv(x):
    """Inverse error function on (-1, 1) as XLA computes it; ±1 map to ±inf."""
    dtype = np.dtype(x.dtype)
    branches = _ERF_INV_F32 if dtype == np.float32 else _ERF_INV_F64
    w = -log1p(x * -x)
    result = None
    # Evaluated from the last branch back so the first branch that applies wins in the select.
    for bound, shift, use_sqrt, coefficients in reversed(branches):
        t = (jnp.sqrt(w) if use_sqrt else w) - dtype.type(shift)
        value = _horner(t, coefficients) * x
        result = value if result is None else jnp.where(w < dtype.type(bound), value, result)
    return jnp.where(jnp.abs(x) == dtype.type(1), x * dtype.type(np.inf), result)
