"""Branch-free float32/float64 transcendental functions that numba inlines and vectorizes.

numba lowers ``math.sin``/``math.exp``/... to scalar libm calls, which stop LLVM's loop
vectorizer: a parallel loop over ``sin(cos(x)) * tanh(x) + x * x`` ran several times slower
than NumPy. The functions here are pure arithmetic (range reduction, a polynomial, bit
tricks through scalar ``.view``), with ``a if c else b`` selects that LLVM turns into
vector selects, so a generated loop that calls them compiles to SIMD code (``<8 x float>``
on AVX2). Each public function is a cached ``@numba.njit`` function (private helpers are
``inline="always"`` into them): a caller links its LLVM bitcode and LLVM inlines it into
the loop, so it costs nothing to call and is optimized together with the loop around it.

Naming: ``<op>_f32(x)`` / ``<op>_f64(x)``; the argument must already have that dtype
(the float32 versions compute in float32 unless their docstring says otherwise).

Polynomials are truncated Taylor series (coefficients are exact ``1/k!`` or ``1/(2k+1)``
style rationals rounded to the working precision), with the degree chosen so that the
truncation error stays below ~0.1 ulp on the reduced range; where a series converges
too slowly a published minimax fit is used and cited. Accuracy figures in the docstrings
are the maxima measured by ``tests/core/test_xmath.py`` (float32 against float64 NumPy,
float64 against long double NumPy or SciPy), over dense samples of the whole domain.

No function here raises or sets floating-point flags on purpose; like XLA, overflow gives
inf and invalid input gives nan.

Caveat for callers that cache: numba's on-disk cache of a function that inlines these
checks only the caller's own source file, so a change to this module needs the callers'
caches cleared (numbax's program key includes this module's hash).
"""

import math

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

__all__ = [
    "exp_f32", "exp_f64", "expm1_f32", "expm1_f64", "log_f32", "log_f64", "log1p_f32", "log1p_f64",
    "tanh_f32", "tanh_f64", "logistic_f32", "logistic_f64", "sin_f32", "sin_f64", "cos_f32", "cos_f64",
    "tan_f32", "tan_f64", "erf_f32", "erf_f64", "erf_inv_f32", "pow_f32", "pow_f64", "atan_f32", "atan_f64",
    "atan2_f32", "atan2_f64", "asin_f32", "asin_f64", "acos_f32", "acos_f64", "sinh_f32", "sinh_f64",
    "cosh_f32", "cosh_f64", "asinh_f32", "asinh_f64", "acosh_f32", "acosh_f64", "atanh_f32", "atanh_f64",
]

_inline_always = numba.njit(inline="always", cache=True, error_model="numpy")
_callee = numba.njit(cache=True, error_model="numpy")


def _inline(fn):
    """Private helpers are spliced into the public function that uses them
    (numba IR inlining, paid once per public function and cached). Public
    functions are plain cached njit functions: a program that calls one links
    its LLVM bitcode, and LLVM inlines it into the loop before vectorizing, so
    the loop still gets SIMD code, while numba no longer copies and retypes
    the function's IR at every call site of every program (W4's first call
    spent ~1.3 s in numba's IR inlining of tanh/exp/log)."""
    return (_inline_always if fn.__name__.startswith("_") else _callee)(fn)

f32 = np.float32
f64 = np.float64
i32 = np.int32
i64 = np.int64

# ---------------------------------------------------------------------------------------
# Shared constants. Written as NumPy scalars so numba types them as float32/float64
# constants (a bare Python float literal would promote float32 arithmetic to float64).

_INF32 = f32(np.inf)
_NAN32 = f32(np.nan)
_INF64 = f64(np.inf)
_NAN64 = f64(np.nan)

# Adding 1.5 * 2**23 (resp. 2**52) to a float of magnitude < 2**22 rounds it to an integer
# in the current rounding mode (nearest-even) and leaves that integer in the low mantissa
# bits, so one add gives both rint(x) as a float and, through the bits, as an int.
# numba compiles without fast-math, so LLVM does not fold (t + M) - M away.
_ROUND32 = f32(12582912.0)
_ROUND32_BITS = i32(0x4B400000)
_ROUND64 = f64(6755399441055744.0)
_ROUND64_BITS = i64(0x4338000000000000)

# ln 2 split for Cody-Waite reduction: _HI has few significant bits so that n * _HI is
# exact for every |n| the callers produce; _LO = ln 2 - _HI rounded. The float64 split
# keeps 32 significant bits in _HI (exact for |n| < 2**21); values computed from
# decimal.Decimal(2).ln() at 40 digits.
_LN2_HI32 = f32(0.693359375)              # 355/512
_LN2_LO32 = f32(-2.12194440054690583e-4)
_LN2_HI64 = f64(0.693147180369123816490)  # ln 2 with the low 21 mantissa bits cleared
_LN2_LO64 = f64(1.90821492927058770002e-10)
_LOG2E32 = f32(1.4426950408889634)
_LOG2E64 = f64(1.4426950408889634)


def _taylor(first, count, step, dtype):
    """Coefficients of a power series as dtype scalars, lowest order first.

    ``step(k)`` gives the k-th coefficient as a Python Fraction-free float computed in
    double from exact integers (1/k! etc.), so float64 coefficients are correctly rounded
    for the small factorials used here."""
    return tuple(dtype(step(k)) for k in range(first, first + count))


def _inv_factorial(k):
    from math import factorial
    return 1.0 / factorial(k)


# expm1(r) = r + r^2 * (1/2! + r/3! + ...). On |r| <= ln2/2 the first omitted term r^(k)/k!
# relative to r is 5.7e-10 for float32 at degree 8 and 1.2e-17 for float64 at degree 13.
_EXPM1_32 = _taylor(2, 7, _inv_factorial, f32)   # 1/2! .. 1/8!
_EXPM1_64 = _taylor(2, 12, _inv_factorial, f64)  # 1/2! .. 1/13!


# ---------------------------------------------------------------------------------------
# Bit helpers. Scalar .view compiles to a bitcast, which vectorizes.

@_inline
def _pow2i_f32(n):
    """2**n for an int n in [-126, 127]: the biased exponent placed in the exponent field."""
    return np.int32((n + 127) << 23).view(np.float32)


@_inline
def _pow2i_f64(n):
    """2**n for an int n in [-1022, 1023]."""
    return np.int64((n + 1023) << 52).view(np.float64)


@_inline
def _poly_f32(r, c):
    # Horner from the highest coefficient; c is a homogeneous tuple, which numba unrolls
    # (the tuple has a fixed length known at compile time, so `literal_unroll` is not needed).
    p = c[len(c) - 1]
    for k in range(len(c) - 2, -1, -1):
        p = p * r + c[k]
    return p


_poly_f64 = _poly_f32  # the same Horner loop; numba compiles it per argument type


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma): one vfmadd on FMA3 hardware (every AVX2 CPU),
    a libm fmaf/fma call elsewhere. The kernels compile without fast-math, so LLVM never
    fuses a multiply and an add by itself; the float32 sin/cos/tanh below rely on the
    single rounding for their error bounds (exact Cody-Waite steps, rounding errors
    recovered exactly) and on the fused instruction for their speed."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None
    return a(a, b, c), lambda context, builder, sig, args: builder.fma(*args)


@_inline
def _fma_poly(r, c):
    # Horner as _poly_f32, each step one fused multiply-add
    p = c[len(c) - 1]
    for k in range(len(c) - 2, -1, -1):
        p = _fma(p, r, c[k])
    return p


# ---------------------------------------------------------------------------------------
# exp / expm1

@_inline
def _expm1_reduced_f32(x):
    """(p, n) with x = n*ln2 + r, |r| <= ln2/2 (plus rounding), p = expm1(r)."""
    t = x * _LOG2E32 + _ROUND32
    n = np.float32(t).view(np.int32) - _ROUND32_BITS
    nf = t - _ROUND32
    r = (x - nf * _LN2_HI32) - nf * _LN2_LO32
    return r + (r * r) * _poly_f32(r, _EXPM1_32), n


@_inline
def _expm1_reduced_f64(x):
    t = x * _LOG2E64 + _ROUND64
    n = np.float64(t).view(np.int64) - _ROUND64_BITS
    nf = t - _ROUND64
    r = (x - nf * _LN2_HI64) - nf * _LN2_LO64
    return r + (r * r) * _poly_f64(r, _EXPM1_64), n


@_inline
def exp_f32(x):
    """e**x for float32.

    Method: x = n*ln2 + r with n = rint(x/ln2) (Cody-Waite two-part ln2), exp(r) as
    1 + r + r^2 * P(r) with P the degree-6 Taylor tail (1/2! .. 1/8!), then scaled by 2**n
    as two exact power-of-two factors so that results in the subnormal range are rounded
    once. Inputs are clamped to [-104, 89] first: beyond, the result is 0 or inf anyway.

    Accuracy: max 1 ulp measured (including subnormal results). Special values:
    exp(-inf) = 0, exp(+inf) = inf, exp(nan) = nan, overflow gives inf without flags.
    """
    x = f32(89.0) if x > f32(89.0) else x   # comparisons are false for nan, which passes
    x = f32(-104.0) if x < f32(-104.0) else x
    p, n = _expm1_reduced_f32(x)
    half = n >> 1
    return ((p + f32(1.0)) * _pow2i_f32(half)) * _pow2i_f32(n - half)


@_inline
def exp_f64(x):
    """e**x for float64.

    Method: as exp_f32 with the degree-13 Taylor polynomial for expm1(r) and clamping to
    [-746, 710]. Accuracy: max 1 ulp measured against long double. Special values as
    exp_f32.
    """
    x = f64(710.0) if x > f64(710.0) else x
    x = f64(-746.0) if x < f64(-746.0) else x
    p, n = _expm1_reduced_f64(x)
    half = n >> 1
    return ((p + f64(1.0)) * _pow2i_f64(half)) * _pow2i_f64(n - half)


@_inline
def expm1_f32(x):
    """e**x - 1 for float32, accurate near 0.

    Method: expm1(r) as in exp_f32, then expm1(x) = 2**n * (expm1(r) + (1 - 2**-n)), which
    is exact for n = 0 and loses at most one rounding otherwise. 2**n is applied as
    2**(n-1) * 2 so that n = 128 overflows to inf cleanly; 2**-n uses min(n, 30) since
    1 - 2**-n rounds to 1 beyond. Inputs are clamped to [-20, 89] (expm1(-20) rounds to -1).

    Accuracy: max 1.4 ulp measured (the rounding of expm1(r) + 1/2 for n = 1).
    Special values: expm1(±0) = ±0, tiny x gives x,
    expm1(-inf) = -1, expm1(inf) = inf, nan gives nan.
    """
    xc = f32(89.0) if x > f32(89.0) else x
    xc = f32(-20.0) if xc < f32(-20.0) else xc
    p, n = _expm1_reduced_f32(xc)
    nmin = n if n < 30 else i32(30)
    y = (p + (f32(1.0) - _pow2i_f32(-nmin))) * _pow2i_f32(n - 1) * f32(2.0)
    # For |x| < 2**-25, expm1(x) rounds to x; returning x also keeps the sign of -0.
    return x if abs(x) < f32(2.0**-25) else y


@_inline
def expm1_f64(x):
    """e**x - 1 for float64; method as expm1_f32 with the degree-13 polynomial, clamping to
    [-40, 710] and min(n, 60). Accuracy: max 1.7 ulp measured. Special values as expm1_f32."""
    xc = f64(710.0) if x > f64(710.0) else x
    xc = f64(-40.0) if xc < f64(-40.0) else xc
    p, n = _expm1_reduced_f64(xc)
    nmin = n if n < 60 else i64(60)
    y = (p + (f64(1.0) - _pow2i_f64(-nmin))) * _pow2i_f64(n - 1) * f64(2.0)
    return x if abs(x) < f64(2.0**-54) else y


# ---------------------------------------------------------------------------------------
# log / log1p
#
# Both reduce u = 2**k * m with m in [sqrt(1/2), sqrt(2)), f = m - 1, and use
# log(1 + f) = f - (f^2/2 - s*(f^2/2 + R(s^2))) with s = f / (2 + f): since
# log(1+f) = 2 atanh(s) = 2s + s*R with R(z) = 2z/3 + 2z^2/5 + ..., and 2s = f - s*f,
# f - s*f = f - f^2/2 + s*f^2/2 (because s*f = (f^2/2)(1 - s)). The leading f is exact,
# so the rounding errors sit in terms that are O(f^2). |s| <= 0.1716, z = s^2 <= 0.0295;
# R is truncated after z^5 (float32, error 2e-9 relative) or z^10 (float64, 1e-18).

_LOG_R32 = tuple(f32(2.0 / (2 * k + 1)) for k in range(1, 6))
_LOG_R64 = tuple(f64(2.0 / (2 * k + 1)) for k in range(1, 11))
_SQRT2_32 = f32(1.4142135623730951)
_SQRT2_64 = f64(1.4142135623730951)


@_inline
def _log_split_f32(u):
    """(k, f) with u = 2**k * (1 + f), 1 + f in [sqrt(1/2), sqrt(2)), for normal u > 0."""
    bits = np.float32(u).view(np.int32)
    k = (bits >> 23) - 127
    m = np.int32((bits & 0x007FFFFF) | 0x3F800000).view(np.float32)
    big = m > _SQRT2_32
    m = m * f32(0.5) if big else m
    k = k + 1 if big else k
    return f32(k), m - f32(1.0)


@_inline
def _log_split_f64(u):
    bits = np.float64(u).view(np.int64)
    k = (bits >> 52) - 1023
    m = np.int64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000).view(np.float64)
    big = m > _SQRT2_64
    m = m * f64(0.5) if big else m
    k = k + 1 if big else k
    return f64(k), m - f64(1.0)


@_inline
def _log1p_reduced_f32(f, kf, tail):
    """k*ln2 + log(1 + f) + tail, with tail a small correction added before the big terms."""
    s = f / (f32(2.0) + f)
    z = s * s
    hfsq = f32(0.5) * f * f
    big_r = z * _poly_f32(z, _LOG_R32)
    return kf * _LN2_HI32 + (f - (hfsq - (s * (hfsq + big_r) + (kf * _LN2_LO32 + tail))))


@_inline
def _log1p_reduced_f64(f, kf, tail):
    s = f / (f64(2.0) + f)
    z = s * s
    hfsq = f64(0.5) * f * f
    big_r = z * _poly_f64(z, _LOG_R64)
    return kf * _LN2_HI64 + (f - (hfsq - (s * (hfsq + big_r) + (kf * _LN2_LO64 + tail))))


@_inline
def log_f32(x):
    """Natural logarithm for float32.

    Method: subnormal inputs are first scaled by 2**23 (exact) so the exponent field is
    meaningful; then x = 2**k * (1 + f) and the atanh-series form above with k*ln2 split in
    two parts. Accuracy: max 1 ulp measured, subnormals included. Special values:
    log(0) = -inf, log(x < 0) = nan, log(inf) = inf, log(nan) = nan.
    """
    sub = x < f32(1.1754943508222875e-38)
    u = x * f32(8388608.0) if sub else x
    kf, f = _log_split_f32(u)
    kf = kf - f32(23.0) if sub else kf
    y = _log1p_reduced_f32(f, kf, f32(0.0))
    y = y if x < _INF32 else x        # +inf and nan pass through
    y = -_INF32 if x == f32(0.0) else y
    return _NAN32 if x < f32(0.0) else y


@_inline
def log_f64(x):
    """Natural logarithm for float64; method as log_f32 (subnormals scaled by 2**52, R to
    z^10). Accuracy: max 1 ulp measured against long double. Special values as log_f32."""
    sub = x < f64(2.2250738585072014e-308)
    u = x * f64(4503599627370496.0) if sub else x
    kf, f = _log_split_f64(u)
    kf = kf - f64(52.0) if sub else kf
    y = _log1p_reduced_f64(f, kf, f64(0.0))
    y = y if x < _INF64 else x
    y = -_INF64 if x == f64(0.0) else y
    return _NAN64 if x < f64(0.0) else y


@_inline
def log1p_f32(x):
    """log(1 + x) for float32, accurate near 0.

    Method: u = fl(1 + x) and the rounding error of that sum, c = (x - (u - 1)) / u, is
    added back as log(u + e) ~ log(u) + e/u (the fdlibm correction); log(u) as in log_f32.
    Accuracy: max 1 ulp measured. Special values: log1p(±0) = ±0, tiny x gives x,
    log1p(-1) = -inf, log1p(x < -1) = nan, log1p(inf) = inf, nan gives nan.
    """
    u = f32(1.0) + x
    kf, f = _log_split_f32(u)
    c = (x - (u - f32(1.0))) / u
    y = _log1p_reduced_f32(f, kf, c)
    y = y if u < _INF32 else u        # x = +inf or x so large that 1 + x overflows? (never)
    y = x if x != x else y
    y = -_INF32 if u == f32(0.0) else y
    y = _NAN32 if x < f32(-1.0) else y
    return x if abs(x) < f32(2.0**-25) else y


@_inline
def log1p_f64(x):
    """log(1 + x) for float64; method as log1p_f32. Accuracy: max 1 ulp measured against
    long double. Special values as log1p_f32."""
    u = f64(1.0) + x
    kf, f = _log_split_f64(u)
    c = (x - (u - f64(1.0))) / u
    y = _log1p_reduced_f64(f, kf, c)
    y = y if u < _INF64 else u
    y = x if x != x else y
    y = -_INF64 if u == f64(0.0) else y
    y = _NAN64 if x < f64(-1.0) else y
    return x if abs(x) < f64(2.0**-54) else y


# ---------------------------------------------------------------------------------------
# tanh / logistic, from exp-type kernels of arguments that cannot overflow

# tanh_f32 in float32 throughout (float32 lanes are twice as many as float64 ones):
# tanh(a) = a + a^3 * T(a^2) below atanh(1/2), above it 1 - 2/(e**2a + 1) with e**2a from
# an exp kernel (2**n * (1 + p), p = r + r^2 * E(r), |r| <= ln2/2). T and E are minimax
# fits made for these kernels (Lawson's iteration on 20000 Chebyshev nodes, relative
# error, float64, then rounded to float32): |tanh(a)/(a + a^3 T) - 1| < 2**-29.8 on
# [0, 0.5494] and |e**r/(1 + r + r^2 E) - 1| < 2**-28.1 on |r| <= 0.35.
_TANH32 = tuple(f32(float.fromhex(h)) for h in (
    "-0x1.55554ap-2", "0x1.110d3p-3", "-0x1.b92a24p-5", "0x1.594bbap-6", "-0x1.9b88d2p-8"))
_EXP32 = tuple(f32(float.fromhex(h)) for h in (
    "0x1.fffffcp-2", "0x1.55548ap-3", "0x1.555916p-5", "0x1.123fb4p-7", "0x1.6a1a8ep-10"))
_ATANH_HALF32 = f32(0.5493061443340549)  # tanh = 1/2 there: the large form's d <= 1/2
_TANH_CLAMP32 = f32(9.1)                 # tanh(9.1) rounds to 1 in float32


@_inline
def tanh_f32(x):
    """Hyperbolic tangent for float32, computed in float32.

    Method: with a = |x|, the odd polynomial above for a < atanh(1/2); else
    1 - d with d = 2/S, S = e**2a + 1 = 2**n * p + (2**n + 1) formed by one fma. The
    rounding errors of S, of the division and of 1 - d are all added back to first
    order, so the result is rounded about once; a is clamped at 9.1, beyond
    which tanh rounds to 1, so nothing overflows. The sign is copied from x.
    Accuracy: max 0.8 ulp measured. Special values: tanh(±0) = ±0, tanh(±inf) = ±1, nan
    gives nan.
    """
    a = abs(x)
    z = a * a
    small = _fma(a * z, _fma_poly(z, _TANH32), a)
    w = _TANH_CLAMP32 if a > _TANH_CLAMP32 else a   # nan passes
    w = w + w
    t = _fma(w, _LOG2E32, _ROUND32)
    n = np.float32(t).view(np.int32) - _ROUND32_BITS
    nf = t - _ROUND32
    r = _fma(nf, -_LN2_LO32, _fma(nf, -_LN2_HI32, w))
    p = _fma(r * r, _fma_poly(r, _EXP32), r)      # e**r - 1
    s = _pow2i_f32(n)
    s1 = s + f32(1.0)                             # exact for n < 24; beyond, d < 2**-23
    big_s = _fma(s, p, s1)
    big_s_err = _fma(s, p, s1 - big_s)            # s1 - big_s is exact (Sterbenz)
    d = f32(2.0) / big_s
    # 2/(big_s + err) = d + d/2 * (2 - d*big_s - d*err) to first order, the bracket
    # computed exactly but for d*err; (1 - u) - d is the rounding error of u (d <= 1/2)
    d_err = (_fma(-d, big_s, f32(2.0)) - d * big_s_err) * (f32(0.5) * d)
    u = f32(1.0) - d
    large = u + (((f32(1.0) - u) - d) - d_err)
    return math.copysign(small if a < _ATANH_HALF32 else large, x)


@_inline
def tanh_f64(x):
    """Hyperbolic tangent for float64; method as tanh_f32 (tiny |x| < 2**-27 returns x).
    Accuracy: max 2.5 ulp measured against long double. Special values as tanh_f32."""
    e = expm1_f64(f64(-2.0) * abs(x))
    y = -e / (e + f64(2.0))
    return x if abs(x) < f64(2.0**-27) else (-y if x < f64(0.0) else y)


@_inline
def logistic_f32(x):
    """Logistic sigmoid 1 / (1 + e**-x) for float32.

    Method: e = exp(-|x|) never overflows; the result is 1/(1+e) for x >= 0 and e/(1+e)
    for x < 0, so subnormal results for x in [-104, -87] are kept (1/(1+e**-x) would
    overflow to inf there and return 0). Accuracy: max 2.1 ulp measured. Special values:
    logistic(-inf) = 0, logistic(inf) = 1, nan gives nan.
    """
    e = exp_f32(-abs(x))
    d = f32(1.0) + e
    return e / d if x < f32(0.0) else f32(1.0) / d


@_inline
def logistic_f64(x):
    """Logistic sigmoid for float64; method as logistic_f32. Accuracy: max 2 ulp measured
    against long double. Special values as logistic_f32."""
    e = exp_f64(-abs(x))
    d = f64(1.0) + e
    return e / d if x < f64(0.0) else f64(1.0) / d


# ---------------------------------------------------------------------------------------
# sin / cos / tan
#
# x = n*pi/2 + r with |r| <= pi/4, computed in float64 for both dtypes: pi/2 is split in
# three parts of 33, 33 and 53 bits (from decimal pi at 60 digits), so n * part is exact
# for |n| < 2**20 and r keeps ~50 correct bits for |x| < ~1.6e6. For larger |x| the
# reduction loses accuracy gradually (documented deviation; a branch-free Payne-Hanek
# reduction is future work). Then sin/cos(r) by Taylor polynomials and a quadrant select.
# tan_f32 does all of it in float64 (low degrees) and rounds once; sin_f32/cos_f32 have
# their own float32 kernels below.

_PIO2_1 = f64(1.5707963267341256)           # first 33 bits of pi/2
_PIO2_2 = f64(6.077100506303966e-11)        # next 33 bits
_PIO2_3 = f64(2.0222662487959506e-21)       # rest, rounded
_TWO_OVER_PI = f64(0.6366197723675814)


def _sin_coeffs(count, dtype):
    # sin(r) = r + r^3 * S(r^2), S = -1/3! + r^2/5! - ...
    from math import factorial
    return tuple(dtype((-1.0) ** k / factorial(2 * k + 1)) for k in range(1, count + 1))


def _cos_coeffs(count, dtype):
    # cos(r) = 1 - r^2/2 + r^4 * C(r^2), C = 1/4! - r^2/6! + ...
    from math import factorial
    return tuple(dtype((-1.0) ** k / factorial(2 * k)) for k in range(2, count + 2))


# Truncation on |r| <= pi/4 relative to the leading term: float32 uses sin to r^11
# (error 1.1e-10) and cos to r^12 (1.4e-11 absolute); float64 sin to r^19, cos to r^20.
_SIN_LOW = _sin_coeffs(5, f64)
_COS_LOW = _cos_coeffs(5, f64)
_SIN_HIGH = _sin_coeffs(9, f64)
_COS_HIGH = _cos_coeffs(9, f64)


@_inline
def _reduce_pio2(x):
    """(r, q): x = q*pi/2 + r in float64, q the quadrant as an int (only q & 3 matters)."""
    t = x * _TWO_OVER_PI + _ROUND64
    q = np.float64(t).view(np.int64) - _ROUND64_BITS
    nf = t - _ROUND64
    r = ((x - nf * _PIO2_1) - nf * _PIO2_2) - nf * _PIO2_3
    return r, q


@_inline
def _sincos_reduced(r, s_coeffs, c_coeffs):
    z = r * r
    s = r + (r * z) * _poly_f64(z, s_coeffs)
    c = (f64(1.0) - f64(0.5) * z) + (z * z) * _poly_f64(z, c_coeffs)
    return s, c


@_inline
def _sin_any(x, s_coeffs, c_coeffs):
    r, q = _reduce_pio2(x)
    s, c = _sincos_reduced(r, s_coeffs, c_coeffs)
    y = c if (q & 1) != 0 else s
    return -y if (q & 2) != 0 else y


@_inline
def _cos_any(x, s_coeffs, c_coeffs):
    r, q = _reduce_pio2(x)
    s, c = _sincos_reduced(r, s_coeffs, c_coeffs)
    y = -s if (q & 1) != 0 else c
    return -y if (q & 2) != 0 else y


@_inline
def _tan_any(x, s_coeffs, c_coeffs):
    r, q = _reduce_pio2(x)
    s, c = _sincos_reduced(r, s_coeffs, c_coeffs)
    return -c / s if (q & 1) != 0 else s / c


# sin/cos for float32: x = q*pi/2 + r in float64, then float32 polynomials. The
# reduction subtracts q * pi/2 with pi/2 in two float64 parts by two fused
# multiply-adds: the first product is exact inside the fma and w - q*part is small, so
# r keeps ~50 correct bits for every float32 |x| < 2**48 (measured: sin/cos within
# 1.7 ulp of float64 there, even next to their zeros). Then r rounds to float32 and
# the polynomials run in float32 (8 lanes per AVX2 vector instead of 4): minimax fits
# for these kernels (Lawson's iteration on 20000 Chebyshev nodes, relative error,
# rounded to float32) on |r| <= 0.9, relative errors below 2**-35 (sin) and 2**-30
# (cos). Measured on W3 of benchmarks/jit_workloads.py: 8.3 ms against 9.9 ms with the
# polynomials in float64, and 5.8 ms with the reduction in float32 too, which however
# returns unbounded garbage past |x| ~ 6.5e6 (2**22 * pi/2, where its quotient no
# longer fits the rounding trick). From 2**48 on the quotient nears the float64
# rounding trick's limit too, so the result there is nan (a correct one would need
# Payne-Hanek's reduction), never a wrong number.
_PIO2_1T = f64(_PIO2_2 + _PIO2_3)
_TRIG_LIMIT32 = f32(2.0**48)
_SIN32 = tuple(f32(float.fromhex(h)) for h in ("-0x1.555556p-3", "0x1.1110fep-7", "-0x1.a007dep-13", "0x1.6b3e04p-19"))
_COS32 = tuple(f32(float.fromhex(h)) for h in ("0x1.55553cp-5", "-0x1.6c0464p-10", "0x1.97f5a4p-16"))


@_inline
def _sincos_f32(x):
    """(sin r, cos r, q) in float32 for x = q*pi/2 + r (only q & 3 matters)."""
    w = f64(x)
    t = w * _TWO_OVER_PI + _ROUND64
    q = np.float64(t).view(np.int64) - _ROUND64_BITS
    nf = t - _ROUND64
    r = f32(_fma(-nf, _PIO2_1T, _fma(-nf, _PIO2_1, w)))
    z = r * r
    s = _fma(r * z, _fma_poly(z, _SIN32), r)
    c = _fma(z, _fma(z, _fma_poly(z, _COS32), f32(-0.5)), f32(1.0))
    return s, c, q


@_inline
def sin_f32(x):
    """Sine for float32.

    Method: the reduction by pi/2 in float64 and the float32 polynomials above, then a
    quadrant select. Accuracy: max 1.5 ulp measured for |x| < 2**47, 1.7 ulp below 2**48
    (0.7 ulp below pi/4). Special values: sin(±0) = ±0; sin(±inf) = nan, nan gives nan,
    and so does |x| >= 2**48 (documented limit: NumPy gives finite values there).
    """
    s, c, q = _sincos_f32(x)
    y = c if (q & 1) != 0 else s
    y = -y if (q & 2) != 0 else y
    y = y if abs(x) < _TRIG_LIMIT32 else _NAN32
    return x if abs(x) < f32(2.0**-12) else y


@_inline
def cos_f32(x):
    """Cosine for float32; method, accuracy and range as sin_f32 (0.9 ulp below pi/4).
    cos(±inf) = nan."""
    s, c, q = _sincos_f32(x)
    y = -s if (q & 1) != 0 else c
    y = -y if (q & 2) != 0 else y
    return y if abs(x) < _TRIG_LIMIT32 else _NAN32


@_inline
def tan_f32(x):
    """Tangent for float32 as sin(r)/cos(r) (or -cos/sin in odd quadrants) in float64 after
    the pi/2 reduction. Accuracy: max 1 ulp measured for |x| < 1.6e6. tan(±0) = ±0,
    tan(±inf) = nan."""
    y = f32(_tan_any(f64(x), _SIN_LOW, _COS_LOW))
    return x if abs(x) < f32(2.0**-12) else y


@_inline
def sin_f64(x):
    """Sine for float64: pi/2 reduction in three parts and Taylor polynomials to r^19 /
    r^20. Accuracy: max 1.8 ulp measured against long double for |x| < 1.6e6; larger |x|
    loses accuracy as described above. sin(±0) = ±0, sin(±inf) = nan."""
    y = _sin_any(x, _SIN_HIGH, _COS_HIGH)
    return x if abs(x) < f64(2.0**-27) else y


@_inline
def cos_f64(x):
    """Cosine for float64; method and range as sin_f64. Accuracy: max 1.8 ulp measured."""
    return _cos_any(x, _SIN_HIGH, _COS_HIGH)


@_inline
def tan_f64(x):
    """Tangent for float64 as a ratio of the sin/cos polynomials after reduction. Accuracy:
    max 3.1 ulp measured for |x| < 1.6e6. tan(±0) = ±0, tan(±inf) = nan."""
    y = _tan_any(x, _SIN_HIGH, _COS_HIGH)
    return x if abs(x) < f64(2.0**-27) else y


# ---------------------------------------------------------------------------------------
# erf / erf_inv

# Rational minimax approximation of erf on [-3.8325, 3.8325] as used by Eigen's
# generic_fast_erf_float and XLA:CPU (coefficients as listed in ../shared/reference/
# random.md §6; beyond the cut erf rounds to ±1 in float32).
_ERF_NUM32 = tuple(f64(f32(c)) for c in (1.128379143519084, 0.18520832239976145, 0.050955695062380861,
                                    0.0034082910107109506, 0.00022905065861350646))
_ERF_DEN32 = tuple(f64(f32(c)) for c in (1.0, 0.49746925110067538, 0.11098505178285362, 0.014070470171167667,
                                    0.0010179625278914885, 0.000023547966471313185, -1.1791602954361697e-7))
_ERF_CUT32 = f32(3.832506856900711)


@_inline
def erf_f32(x):
    """Error function for float32.

    Method: the Eigen/XLA float32 rational approximation x * N(x^2) / D(x^2) (degrees 4 and
    6 in x^2) on |x| < 3.8325, ±1 beyond, evaluated in float64 (in float32 the same
    rational reaches 5.3 ulp). Accuracy: max 1.4 ulp measured against SciPy's float64 erf.
    Special values: erf(±0) = ±0, erf(±inf) = ±1, nan gives nan.
    """
    xc = _ERF_CUT32 if x > _ERF_CUT32 else x
    xc = f64(-_ERF_CUT32 if xc < -_ERF_CUT32 else xc)
    z = xc * xc
    return f32(xc * _poly_f64(z, _ERF_NUM32) / _poly_f64(z, _ERF_DEN32))


@_inline
def erf_f64(x):
    """Error function for float64: math.erf (libm, not vectorized; 3 ulp from SciPy's). A branch-free float64
    erf needs several polynomial pieces computed together; not done yet."""
    return math.erf(x)


# Giles, "Approximating the erfinv function", GPU Computing Gems Jade (2011), single
# precision version (central branch w < 5 and tail branch), highest degree first.
_ERFINV_CENTRAL = tuple(f64(f32(c)) for c in (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)[::-1])
_ERFINV_TAIL = tuple(f64(f32(c)) for c in (
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)[::-1])


@_inline
def _erf_inv_guess(x):
    # float32 Giles approximation; both branches are evaluated and one is selected.
    xd = f64(x)
    w = -log1p_f64(-(xd * xd))
    central = _poly_f64(w - f64(2.5), _ERFINV_CENTRAL)
    tail = _poly_f64(math.sqrt(w) - f64(3.0), _ERFINV_TAIL)
    return f32((central if w < f64(5.0) else tail) * xd)


@_inline
def erf_inv_f32(x):
    """Inverse error function for float32.

    Method: Giles' single-precision approximation (w = -log(1 - x^2), a degree-8 polynomial
    in w - 2.5 for w < 5, else in sqrt(w) - 3), evaluated in float64 with w from the
    float64 log1p of the exact -x^2: in float32, rounding x^2 near |x| = 1 alone costs
    ~60 ulp. Accuracy: max 2.2 ulp measured against SciPy's float64 erfinv. Special values:
    erf_inv(±1) = ±inf, |x| > 1 gives nan, erf_inv(±0) = ±0, nan gives nan.
    """
    y = _erf_inv_guess(x) if abs(x) < f32(1.0) else x * _INF32
    return _NAN32 if abs(x) > f32(1.0) else y


# ---------------------------------------------------------------------------------------
# pow

@_inline
def pow_f32(x, y):
    """x**y for float32 x and y.

    Method: |x|**y = exp(y * log|x|) evaluated with the float64 kernels (the float64 log
    keeps the exponent's error near 2**-46 relative, far below a float32 ulp), rounded
    once; then the C99 special cases as selects: negative x with an odd integer y flips
    the sign, with a non-integer y gives nan; y = 0 or x = 1 gives 1 (even for nan);
    x = -1 with y = ±inf gives 1; signed zeros and infinities follow C99 pow.
    Accuracy: max 1 ulp measured.
    """
    xd = f64(x)
    yd = f64(y)
    r = f32(exp_f64(yd * log_f64(abs(xd))))
    is_int = np.floor(y) == y   # np.floor keeps float32; math.floor would return an int
    # `&`/`|` on the comparisons rather than and/or, which numba lowers to branches
    is_odd = is_int & (np.floor(y * f32(0.5)) != y * f32(0.5))
    neg = math.copysign(f32(1.0), x) < f32(0.0)
    r = -r if (neg & is_odd) else r
    r = _NAN32 if (neg & (not is_int) & (abs(x) < _INF32) & (x != f32(0.0))) else r
    r = f32(1.0) if ((abs(x) == f32(1.0)) & (abs(y) == _INF32)) else r
    return f32(1.0) if ((y == f32(0.0)) | (x == f32(1.0))) else r


@_inline
def pow_f64(x, y):
    """x**y for float64: numba's ``x ** y`` (libm pow, not vectorized). A correctly rounded
    float64 pow needs log in double-double precision (exp(y log x) in plain float64 is off
    by up to ~700 ulp for large results); not done yet."""
    return x ** y


# ---------------------------------------------------------------------------------------
# atan / atan2 / asin / acos, computed in float64 for both dtypes
#
# t = |x| reduced to [0, 1] by atan(t) = pi/2 - atan(1/t), then to |u| <= tan(pi/8) by
# atan(t) = pi/4 + atan((t - 1)/(t + 1)) for t > tan(pi/8); atan(u) = u + u^3 * A(u^2)
# with the Taylor series A = -1/3 + u^2/5 - ..., truncated where u^(2k)/(2k+1) at
# u^2 = 0.1716 drops below 2**-30 (float32, 10 terms) or 2**-57 (float64, 21 terms).

# Each series is kept as two tuples (low and high halves, see _atan_unit): numba
# does not unroll Horner over a 21-element tuple, which then blocks vectorization.
_ATAN_LOW = (tuple(f64((-1.0) ** k / (2 * k + 1)) for k in range(1, 6)),
             tuple(f64((-1.0) ** k / (2 * k + 1)) for k in range(6, 11)))
_ATAN_HIGH = (tuple(f64((-1.0) ** k / (2 * k + 1)) for k in range(1, 12)),
              tuple(f64((-1.0) ** k / (2 * k + 1)) for k in range(12, 22)))
_TAN_PI8 = f64(0.41421356237309503)
_PI = f64(3.141592653589793)
_PIO2 = f64(1.5707963267948966)
_PIO4 = f64(0.7853981633974483)
_PIO2_LO = f64(6.123233995736766e-17)  # pi/2 - _PIO2, keeps pi/2 - atan(u) accurate


@_inline
def _atan_unit(t, coeffs):
    """atan(t) for t in [0, 1] (float64)."""
    big = t > _TAN_PI8
    u = (t - f64(1.0)) / (t + f64(1.0)) if big else t
    z = u * u
    low, high = coeffs
    zn = z
    for _ in range(len(low) - 1):
        zn = zn * z
    a = u + (u * z) * (_poly_f64(z, low) + zn * _poly_f64(z, high))
    return a + _PIO4 if big else a


@_inline
def _atan2_any(y, x, coeffs):
    ax = abs(x)
    ay = abs(y)
    swap = ay > ax
    num = ax if swap else ay
    den = ay if swap else ax
    t = num / den
    t = f64(0.0) if num == f64(0.0) else t       # atan2(±0, ±0): angle from the signs only
    t = f64(1.0) if num == _INF64 else t         # both infinite: odd multiples of pi/4
    a = _atan_unit(t, coeffs)
    a = (_PIO2 - a) + _PIO2_LO if swap else a
    a = (_PI - a) + f64(2.0) * _PIO2_LO if math.copysign(f64(1.0), x) < f64(0.0) else a
    a = x + y if (x != x or y != y) else a
    return math.copysign(a, y)


@_inline
def _atan_any(x, coeffs):
    ax = abs(x)
    big = ax > f64(1.0)
    a = _atan_unit(f64(1.0) / ax if big else ax, coeffs)
    a = (_PIO2 - a) + _PIO2_LO if big else a
    return math.copysign(a, x)


@_inline
def atan_f32(x):
    """Arc tangent for float32, computed in float64 (reduction above, 10-term series) and
    rounded once. Accuracy: max 1 ulp measured. atan(±0) = ±0, atan(±inf) = ±pi/2."""
    return f32(_atan_any(f64(x), _ATAN_LOW))


@_inline
def atan_f64(x):
    """Arc tangent for float64 (21-term series). Accuracy: max 2 ulp measured against long
    double. Special values as atan_f32."""
    return _atan_any(x, _ATAN_HIGH)


@_inline
def atan2_f32(y, x):
    """atan2(y, x) for float32 in float64: atan of min(|x|,|y|)/max(|x|,|y|), then the
    octant from the comparisons and signs (signed zeros and infinities as C99).
    Accuracy: max 1 ulp measured."""
    return f32(_atan2_any(f64(y), f64(x), _ATAN_LOW))


@_inline
def atan2_f64(y, x):
    """atan2(y, x) for float64; method and special values as atan2_f32. Accuracy: max
    2.6 ulp measured against long double."""
    return _atan2_any(y, x, _ATAN_HIGH)


@_inline
def asin_f32(x):
    """Arc sine for float32 as atan2(x, sqrt((1 - x)(1 + x))) in float64, where the product
    is exact. Accuracy: max 1 ulp measured. |x| > 1 gives nan; asin(±0) = ±0."""
    xd = f64(x)
    return f32(_atan2_any(xd, math.sqrt((f64(1.0) - xd) * (f64(1.0) + xd)), _ATAN_LOW))


@_inline
def acos_f32(x):
    """Arc cosine for float32 as atan2(sqrt((1 - x)(1 + x)), x) in float64. Accuracy: max
    1 ulp measured. |x| > 1 gives nan."""
    xd = f64(x)
    return f32(_atan2_any(math.sqrt((f64(1.0) - xd) * (f64(1.0) + xd)), xd, _ATAN_LOW))


@_inline
def asin_f64(x):
    """Arc sine for float64; method as asin_f32 ((1 - x) is exact for x >= 1/2, so the
    product has one rounding). Accuracy: max 3.0 ulp measured against long double."""
    return _atan2_any(x, math.sqrt((f64(1.0) - x) * (f64(1.0) + x)), _ATAN_HIGH)


@_inline
def acos_f64(x):
    """Arc cosine for float64; method as acos_f32. Accuracy: max 2.8 ulp measured."""
    return _atan2_any(math.sqrt((f64(1.0) - x) * (f64(1.0) + x)), x, _ATAN_HIGH)


# ---------------------------------------------------------------------------------------
# Hyperbolic functions from the exp/expm1/log1p kernels. The float32 versions evaluate
# in float64, where no intermediate of a float32 input can overflow.

_LN2_64 = f64(0.6931471805599453)


@_inline
def _sinh_f64_core(x):
    ax = abs(x)
    e = expm1_f64(ax if ax < f64(709.0) else f64(0.0))
    small = f64(0.5) * (e + e / (e + f64(1.0)))   # fdlibm's form, accurate near 0
    h = exp_f64(f64(0.5) * ax)                    # e**|x| / 2 as h * (h / 2) for large |x|
    large = h * (f64(0.5) * h)
    return math.copysign(small if ax < f64(709.0) else large, x)


@_inline
def sinh_f32(x):
    """Hyperbolic sine for float32: (E + E/(E + 1))/2 with E = expm1|x| in float64, sign
    copied. Accuracy: max 1 ulp measured. sinh(±inf) = ±inf, overflow gives ±inf."""
    return f32(_sinh_f64_core(f64(x)))


@_inline
def sinh_f64(x):
    """Hyperbolic sine for float64; as sinh_f32, with e**|x|/2 as exp(|x|/2)**2/2 beyond
    |x| = 709 so results up to the overflow threshold stay finite. Accuracy: max 2 ulp."""
    return _sinh_f64_core(x)


@_inline
def _cosh_f64_core(x):
    ax = abs(x)
    e = exp_f64(ax if ax < f64(709.0) else f64(0.0))
    small = f64(0.5) * e + f64(0.5) / e
    h = exp_f64(f64(0.5) * ax)
    return small if ax < f64(709.0) else h * (f64(0.5) * h)


@_inline
def cosh_f32(x):
    """Hyperbolic cosine for float32: (e**|x| + e**-|x|)/2 in float64. Accuracy: max 1 ulp
    measured. cosh(±inf) = inf."""
    return f32(_cosh_f64_core(f64(x)))


@_inline
def cosh_f64(x):
    """Hyperbolic cosine for float64; large |x| as in sinh_f64. Accuracy: max 2 ulp."""
    return _cosh_f64_core(x)


@_inline
def _asinh_f64_core(x):
    ax = abs(x)
    z = ax * ax
    small = log1p_f64(ax + z / (f64(1.0) + math.sqrt(f64(1.0) + z)))
    large = log_f64(ax) + _LN2_64                # sqrt(1 + x^2) = |x| to double precision
    return math.copysign(small if ax < f64(2.0**28) else large, x)


@_inline
def asinh_f32(x):
    """Inverse hyperbolic sine for float32: log1p(|x| + x^2/(1 + sqrt(1 + x^2))) in
    float64, sign copied. Accuracy: max 1 ulp measured."""
    return f32(_asinh_f64_core(f64(x)))


@_inline
def asinh_f64(x):
    """Inverse hyperbolic sine for float64; log|x| + ln 2 beyond 2**28. Accuracy: max
    2 ulp measured."""
    return _asinh_f64_core(x)


@_inline
def _acosh_f64_core(x):
    t = x - f64(1.0)
    small = log1p_f64(t + math.sqrt(f64(2.0) * t + t * t))
    large = log_f64(x) + _LN2_64
    y = small if x < f64(2.0**28) else large
    return _NAN64 if x < f64(1.0) else y


@_inline
def acosh_f32(x):
    """Inverse hyperbolic cosine for float32: log1p(t + sqrt(2t + t^2)), t = x - 1, in
    float64. Accuracy: max 1 ulp measured. x < 1 gives nan, acosh(inf) = inf."""
    return f32(_acosh_f64_core(f64(x)))


@_inline
def acosh_f64(x):
    """Inverse hyperbolic cosine for float64; log x + ln 2 beyond 2**28. Accuracy: max
    2 ulp measured."""
    return _acosh_f64_core(x)


@_inline
def _atanh_f64_core(x):
    ax = abs(x)
    return math.copysign(f64(0.5) * log1p_f64(f64(2.0) * ax / (f64(1.0) - ax)), x)


@_inline
def atanh_f32(x):
    """Inverse hyperbolic tangent for float32: log1p(2|x|/(1 - |x|))/2 in float64, sign
    copied. Accuracy: max 1 ulp measured. atanh(±1) = ±inf, |x| > 1 gives nan."""
    return f32(_atanh_f64_core(f64(x)))


@_inline
def atanh_f64(x):
    """Inverse hyperbolic tangent for float64; method as atanh_f32. Accuracy: max 2 ulp."""
    return _atanh_f64_core(x)
