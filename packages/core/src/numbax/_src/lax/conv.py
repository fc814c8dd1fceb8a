"""Convolutions and windowed reductions: ``conv_general_dilated`` and
``reduce_window_{sum,max,min}``, with the wrappers built on them (``conv``,
``conv_transpose``, ``reduce_window``, ...).

Both families share one picture: dilate and pad the input (``pad``'s
semantics, negative padding crops), take sliding windows over the spatial
axes with strides and window dilation, then contract (convolution, as one
im2col matmul per group) or reduce (windowed reductions) each window.
"""

import collections
import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import core, dtypes
from ..array import ArrayImpl
from ..core import ShapedArray
from ..dtypes import ALL, NUMBERS
from ..interpreters import jvp as _ad
from . import elementwise as lax_elementwise
from .dot import canonicalize_precision, check_preferred_element_type
from .shape import _pad_impl
from .utils import as_operand, check_dtype, coerce_scalars, shape_error, standard_primitive

__all__ = ["ConvDimensionNumbers", "conv_dimension_numbers", "padtype_to_pads", "conv_general_dilated",
           "conv", "conv_with_general_padding", "conv_transpose", "reduce_window"]


class ConvDimensionNumbers(collections.namedtuple("ConvDimensionNumbers", "lhs_spec rhs_spec out_spec")):
    """Where each logical axis of a convolution lives, as tuples of axis indices:
    ``lhs_spec = (batch, feature, *spatial)``, ``rhs_spec = (out_feature,
    in_feature, *spatial)``, ``out_spec = (batch, feature, *spatial)``."""

    __slots__ = ()


def _dilate_dim(size, dilation):
    return 0 if size == 0 else (size - 1) * dilation + 1


def _windowed_size(size, window, stride):
    """Number of windows of ``window`` elements at ``stride`` in ``size``."""
    return 0 if size < window else (size - window) // stride + 1


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """Explicit ``(low, high)`` pads for a padding name.

    ``'VALID'``: no padding. ``'SAME'``: pad so the output has
    ``ceil(in / stride)`` elements, the extra element going high;
    ``'SAME_LOWER'``: the same, extra element low. Pairs pass through.
    """
    if not isinstance(padding, str):
        return tuple((int(lo), int(hi)) for lo, hi in padding)
    kind = padding.upper()
    if kind == "VALID":
        return ((0, 0),) * len(in_shape)
    if kind not in ("SAME", "SAME_LOWER"):
        raise ValueError(f"padding must be 'SAME', 'SAME_LOWER', 'VALID' or a sequence of (low, high) "
                         f"pairs, got {padding!r}.")
    pads = []
    for size, window, stride in zip(in_shape, window_shape, window_strides):
        out = -(-size // stride)
        total = max(0, (out - 1) * stride + window - size)
        small, large = total // 2, total - total // 2
        pads.append((small, large) if kind == "SAME" else (large, small))
    return tuple(pads)


# --- dimension numbers ----------------------------------------------------------------------

def _spec_from_strings(specs):
    lhs, rhs, out = specs
    if not (len(lhs) == len(rhs) == len(out)) or set(lhs) - set("NC") != set(rhs) - set("OI") \
            or set(out) - set("NC") != set(lhs) - set("NC") or len(set(lhs)) != len(lhs) \
            or len(set(rhs)) != len(rhs) or len(set(out)) != len(out) or not set("NC") <= set(lhs) \
            or not set("NC") <= set(out) or not set("OI") <= set(rhs):
        raise ValueError(f"conv dimension_numbers strings must name the same spatial letters in each "
                         f"spec, with 'N' and 'C' in lhs and out and 'O' and 'I' in rhs, e.g. "
                         f"('NHWC', 'HWIO', 'NHWC'); got {specs!r}.")
    spatial = [c for c in rhs if c not in "OI"]  # the kernel's order pairs spatial axes
    return ConvDimensionNumbers(
        (lhs.index("N"), lhs.index("C")) + tuple(lhs.index(c) for c in spatial),
        (rhs.index("O"), rhs.index("I")) + tuple(rhs.index(c) for c in spatial),
        (out.index("N"), out.index("C")) + tuple(out.index(c) for c in spatial))


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers):
    """A ``ConvDimensionNumbers`` from None (``NC...``/``OI...``/``NC...``, the
    default), a ``ConvDimensionNumbers``, or three layout strings such as
    ``('NHWC', 'HWIO', 'NHWC')``."""
    ndim = len(lhs_shape)
    if len(rhs_shape) != ndim:
        raise TypeError(f"convolution needs lhs and rhs of equal rank, got shapes {tuple(lhs_shape)} "
                        f"and {tuple(rhs_shape)}.")
    if dimension_numbers is None:
        default = tuple(range(ndim))
        return ConvDimensionNumbers(default, default, default)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        dnums = ConvDimensionNumbers(*(tuple(int(d) for d in spec) for spec in dimension_numbers))
    elif len(dimension_numbers) == 3 and all(isinstance(s, str) for s in dimension_numbers):
        dnums = _spec_from_strings(dimension_numbers)
    else:
        raise TypeError(f"dimension_numbers must be None, a ConvDimensionNumbers or three layout "
                        f"strings like ('NHWC', 'HWIO', 'NHWC'), got {dimension_numbers!r}.")
    for spec in dnums:
        if sorted(spec) != list(range(ndim)):
            raise ValueError(f"conv dimension_numbers {tuple(dnums)} do not describe rank-{ndim} "
                             f"operands (shapes {tuple(lhs_shape)} and {tuple(rhs_shape)}).")
    return dnums


# --- conv_general_dilated -------------------------------------------------------------------

def _conv_general_dilated_abstract_eval(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                                        dimension_numbers, feature_group_count, batch_group_count,
                                        precision, preferred_element_type):
    name = "conv_general_dilated"
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise shape_error(name, "needs lhs and rhs of equal rank >= 2 (batch, feature, spatial...)", lhs, rhs)
    if lhs.dtype != rhs.dtype:
        raise shape_error(name, "requires lhs and rhs of the same dtype; convert one with "
                          "lax.convert_element_type", lhs, rhs)
    check_dtype(name, lhs, NUMBERS)
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    nspatial = lhs.ndim - 2
    for param, value in (("window_strides", window_strides), ("lhs_dilation", lhs_dilation),
                         ("rhs_dilation", rhs_dilation), ("padding", padding)):
        if len(value) != nspatial:
            raise shape_error(name, f"needs {param} for each of the {nspatial} spatial dimensions, "
                              f"got {param}={value}", lhs, rhs)
    if min(window_strides + lhs_dilation + rhs_dilation, default=1) < 1:
        raise shape_error(name, f"needs strides and dilations >= 1, got window_strides={window_strides} "
                          f"lhs_dilation={lhs_dilation} rhs_dilation={rhs_dilation}", lhs, rhs)
    batch, features = lhs.shape[lhs_spec[0]], lhs.shape[lhs_spec[1]]
    out_features, in_features = rhs.shape[rhs_spec[0]], rhs.shape[rhs_spec[1]]
    groups, batch_groups = feature_group_count, batch_group_count
    if groups < 1 or batch_groups < 1 or (groups > 1 and batch_groups > 1):
        raise shape_error(name, f"needs feature_group_count and batch_group_count >= 1, at most one of "
                          f"them > 1; got {groups} and {batch_groups}", lhs, rhs)
    if features != in_features * groups:
        raise shape_error(name, f"needs the lhs feature size ({features}, axis {lhs_spec[1]}) to equal the "
                          f"rhs input-feature size ({in_features}, axis {rhs_spec[1]}) times "
                          f"feature_group_count ({groups}); check dimension_numbers (e.g. "
                          f"('NHWC', 'HWIO', 'NHWC') for channels-last)", lhs, rhs)
    if out_features % groups or out_features % batch_groups or batch % batch_groups:
        raise shape_error(name, f"needs the rhs output-feature size ({out_features}) divisible by "
                          f"feature_group_count ({groups}) and batch_group_count ({batch_groups}), and "
                          f"the lhs batch size ({batch}) divisible by batch_group_count", lhs, rhs)
    spatial = []
    for i in range(nspatial):
        size, window = lhs.shape[lhs_spec[2 + i]], rhs.shape[rhs_spec[2 + i]]
        if window < 1:
            raise shape_error(name, f"needs kernel spatial sizes >= 1, axis {rhs_spec[2 + i]} has size "
                              f"{window}", lhs, rhs)
        lo, hi = padding[i]
        padded = _dilate_dim(size, lhs_dilation[i]) + lo + hi
        spatial.append(_windowed_size(padded, _dilate_dim(window, rhs_dilation[i]), window_strides[i]))
    out_shape = [0] * lhs.ndim
    out_shape[out_spec[0]], out_shape[out_spec[1]] = batch // batch_groups, out_features
    for i, size in enumerate(spatial):
        out_shape[out_spec[2 + i]] = size
    dtype = check_preferred_element_type(name, lhs.dtype, preferred_element_type, lhs, rhs)
    return ShapedArray(tuple(out_shape), dtype, lhs.weak_type and rhs.weak_type)


def _windows(x, first_axis, window_dims, strides, window_dilation, out_sizes):
    """Sliding windows over ``x``'s axes ``first_axis:``, strided and dilated:
    shape ``x.shape[:first_axis] + out_sizes + window_dims`` (a view)."""
    axes = tuple(range(first_axis, x.ndim))
    dilated = tuple(_dilate_dim(w, d) for w, d in zip(window_dims, window_dilation))
    view = sliding_window_view(x, dilated, axis=axes)
    pick = (slice(None),) * first_axis
    pick += tuple(slice(0, (n - 1) * s + 1, s) for n, s in zip(out_sizes, strides))
    pick += tuple(slice(None, None, d) for d in window_dilation)
    return view[pick]


def _conv_general_dilated_impl(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                               dimension_numbers, feature_group_count, batch_group_count, precision,
                               preferred_element_type):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    out_aval = _conv_general_dilated_abstract_eval(
        ShapedArray(lhs.shape, lhs.dtype), ShapedArray(rhs.shape, rhs.dtype), window_strides=window_strides,
        padding=padding, lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
        dimension_numbers=dimension_numbers, feature_group_count=feature_group_count,
        batch_group_count=batch_group_count, precision=precision,
        preferred_element_type=preferred_element_type)
    out_dtype = out_aval.dtype
    canonical_out = tuple(out_aval.shape[d] for d in out_spec)  # (N, O, *spatial)
    if 0 in canonical_out:
        return np.zeros(out_aval.shape, out_dtype)
    compute = np.dtype(np.float32) if out_dtype == dtypes.float16 else out_dtype
    x = np.transpose(lhs, lhs_spec).astype(compute, copy=False)  # (N, C, *spatial)
    w = np.transpose(rhs, rhs_spec).astype(compute, copy=False)  # (O, I, *window)
    config = [(0, 0, 0), (0, 0, 0)] + [(lo, hi, d - 1) for (lo, hi), d in zip(padding, lhs_dilation)]
    x = _pad_impl(x, np.zeros((), compute), padding_config=config)
    batch, features = x.shape[:2]
    out_features, in_features = w.shape[:2]
    # Batch groups split the batch group-major, feature groups split the
    # features; either way each group meets its own slice of the kernel.
    if batch_group_count > 1:
        groups = batch_group_count
        x = x.reshape((groups, batch // groups) + x.shape[1:]).swapaxes(0, 1)
    else:
        groups = feature_group_count
        x = x.reshape((batch, groups, features // groups) + x.shape[2:])
    out_spatial = canonical_out[2:]
    cols = _windows(x, 3, w.shape[2:], window_strides, rhs_dilation, out_spatial)
    # cols: (N', G, Cg, *out_spatial, *window) -> (G, N' * out, Cg * window)
    nsp = len(out_spatial)
    order = (1, 0) + tuple(range(3, 3 + nsp)) + (2,) + tuple(range(3 + nsp, 3 + 2 * nsp))
    n_out = cols.shape[0] * int(np.prod(out_spatial))
    cols = np.transpose(cols, order).reshape(groups, n_out, -1)
    kernel = w.reshape(groups, out_features // groups, -1).transpose(0, 2, 1)
    out = np.matmul(cols, kernel)  # (G, N' * out, O / G)
    out = out.reshape((groups, cols.shape[1] // int(np.prod(out_spatial))) + out_spatial + (-1,))
    out = np.moveaxis(out, (0, out.ndim - 1), (1, 2)).reshape(canonical_out)
    with np.errstate(over="ignore"):
        return np.transpose(out, np.argsort(out_spec)).astype(out_dtype, copy=False)


conv_general_dilated_p = standard_primitive("conv_general_dilated", _conv_general_dilated_abstract_eval,
                                            _conv_general_dilated_impl)


# Bilinear: the tangent is conv(t_lhs, rhs) + conv(lhs, t_rhs). Both transposes
# are convolutions again (as in XLA and JAX). For one spatial axis with input
# x, kernel w (K taps), stride s, input dilation ld, kernel dilation rd and
# padding (lo, hi):  out[o] = sum_k x_padded[o*s + k*rd] * w[k].
# - lhs: ct_x[i] = sum_k ct_dilated[i*ld + lo - k*rd] * w[k], a convolution of
#   the ct dilated by s with the reversed kernel, stride ld, padded low by
#   dilated_K - 1 - lo; the input and output features swap roles in the kernel.
# - rhs: ct_w[k] = sum_o x_padded[k*rd + o*s] * ct[o], a convolution of x with
#   the ct as kernel (kernel dilation s, stride rd), with batch and features
#   swapped: the batch is contracted, the input features index the result.
# Feature groups and batch groups trade places between the two.

def _conv_sizes(lhs_shape, rhs_shape, out_shape, dimension_numbers, window_strides, lhs_dilation,
                rhs_dilation):
    """Per spatial axis: (dilated input, dilated kernel, stride-dilated output) sizes."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    return [(_dilate_dim(lhs_shape[i], ld), _dilate_dim(rhs_shape[k], rd), _dilate_dim(out_shape[o], s))
            for i, k, o, s, ld, rd in zip(lhs_spec[2:], rhs_spec[2:], out_spec[2:], window_strides,
                                          lhs_dilation, rhs_dilation)]


def _swap_first_two(spec):
    return (spec[1], spec[0]) + tuple(spec[2:])


def _move_group_factor(x, src, dst, groups):
    """Split axis ``src`` of ``x`` into ``(groups, rest)`` and fold the groups
    into axis ``dst`` as its major part (sizes ``n / groups`` and ``m * groups``)."""
    from .shape import reshape, transpose
    shape = list(x.shape)
    split = shape[:src] + [groups, shape[src] // groups] + shape[src + 1:]
    x = reshape(x, tuple(split))
    axes = [i for i in range(x.ndim) if i != src]
    at = axes.index(dst + (dst > src))
    x = transpose(x, tuple(axes[:at] + [src] + axes[at:]))
    merged = list(x.shape[:at]) + [x.shape[at] * x.shape[at + 1]] + list(x.shape[at + 2:])
    return reshape(x, tuple(merged))


def _as_dtype(x, dtype):
    if x.dtype == dtype:
        return x
    return lax_elementwise.convert_element_type_p.bind(x, new_dtype=np.dtype(dtype), weak_type=False)


def _conv_transpose_lhs(ct, rhs, lhs_aval, *, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers, feature_group_count, batch_group_count, precision):
    from .shape import rev
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    groups = max(feature_group_count, batch_group_count)
    if groups > 1:
        # Kernel output features are group-major; the transposed kernel's output
        # features (the original input features) must be too.
        rhs = _move_group_factor(rhs, rhs_spec[0], rhs_spec[1], groups)
    sizes = _conv_sizes(lhs_aval.shape, rhs.shape, ct.shape, dimension_numbers, window_strides, lhs_dilation,
                        rhs_dilation)
    pads = []
    for (lhs_size, window, out_size), (lo, _) in zip(sizes, padding):
        low = window - 1 - lo
        pads.append((low, lhs_size + window - 1 - out_size - low))
    out = conv_general_dilated_p.bind(
        ct, _as_dtype(rev(rhs, tuple(rhs_spec[2:])), ct.dtype), window_strides=lhs_dilation, padding=tuple(pads),
        lhs_dilation=window_strides, rhs_dilation=rhs_dilation,
        dimension_numbers=ConvDimensionNumbers(out_spec, _swap_first_two(rhs_spec), lhs_spec),
        feature_group_count=groups, batch_group_count=1, precision=precision, preferred_element_type=None)
    if batch_group_count > 1:
        # Each batch group produced its own block of features; they belong to
        # the batch (group-major), as the forward pass split it.
        out = _move_group_factor(out, lhs_spec[1], lhs_spec[0], batch_group_count)
    return _as_dtype(out, lhs_aval.dtype)


def _conv_transpose_rhs(ct, lhs, rhs_aval, *, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers, feature_group_count, batch_group_count, precision):
    from ..interpreters.jvp import zeros_like_aval
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    if any(ct.shape[d] == 0 for d in out_spec[2:]):
        return zeros_like_aval(rhs_aval)  # no window was computed: nothing flows back
    sizes = _conv_sizes(lhs.shape, rhs_aval.shape, ct.shape, dimension_numbers, window_strides, lhs_dilation,
                        rhs_dilation)
    pads = tuple((lo, out_size - lhs_size + window - 1 - lo)
                 for (lhs_size, window, out_size), (lo, _) in zip(sizes, padding))
    out = conv_general_dilated_p.bind(
        _as_dtype(lhs, ct.dtype), ct, window_strides=rhs_dilation, padding=pads, lhs_dilation=lhs_dilation,
        rhs_dilation=window_strides,
        dimension_numbers=ConvDimensionNumbers(_swap_first_two(lhs_spec), _swap_first_two(out_spec),
                                               _swap_first_two(rhs_spec)),
        feature_group_count=batch_group_count, batch_group_count=feature_group_count, precision=precision,
        preferred_element_type=None)
    return _as_dtype(out, rhs_aval.dtype)


def _conv_general_dilated_transpose(ct, lhs, rhs, *, preferred_element_type, **params):
    from ..interpreters.transpose import is_undefined_primal
    ct_lhs = _conv_transpose_lhs(ct, rhs, lhs.aval, **params) if is_undefined_primal(lhs) else None
    ct_rhs = _conv_transpose_rhs(ct, lhs, rhs.aval, **params) if is_undefined_primal(rhs) else None
    return [ct_lhs, ct_rhs]


_ad.defjvp(conv_general_dilated_p, lambda g, lhs, rhs, **params: conv_general_dilated_p.bind(g, rhs, **params),
           lambda g, lhs, rhs, **params: conv_general_dilated_p.bind(lhs, g, **params))
conv_general_dilated_p.def_transpose(_conv_general_dilated_transpose)


def _static_ints(values, n, what, default=1):
    if values is None:
        return (default,) * n
    values = tuple(int(v) for v in values)
    if len(values) != n:
        raise ValueError(f"{what} needs {n} entries (one per spatial dimension), got {values}.")
    return values


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1,
                         precision=None, preferred_element_type=None):
    """N-dimensional convolution (cross-correlation, as in JAX and XLA).

    Args:
      lhs: input, e.g. ``(N, C, *spatial)`` by default or ``(N, H, W, C)`` with
        ``dimension_numbers=('NHWC', 'HWIO', 'NHWC')``.
      rhs: kernel, ``(O, I, *window)`` by default; ``I = C / feature_group_count``.
      window_strides: one stride per spatial dimension.
      padding: ``'SAME'``, ``'SAME_LOWER'``, ``'VALID'`` or ``(low, high)`` pairs
        (negative values crop).
      lhs_dilation: input dilation (a transposed convolution's stride); default 1s.
      rhs_dilation: kernel dilation (atrous convolution); default 1s.
      dimension_numbers: None, a ``ConvDimensionNumbers`` or three layout strings.
      feature_group_count: split the features into groups (depthwise: ``= C``).
      batch_group_count: split the batch into groups matched with output features.
      precision, preferred_element_type: as in ``dot_general``.

    Returns:
      Array laid out by the output spec with batch ``N / batch_group_count``,
      ``O`` features and spatial sizes ``floor((padded - dilated_window) /
      stride) + 1`` (0 when the window does not fit).
    """
    lhs, rhs = coerce_scalars(lhs, rhs)
    dnums = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nspatial = lhs.ndim - 2
    window_strides = _static_ints(window_strides, nspatial, "window_strides")
    lhs_dilation = _static_ints(lhs_dilation, nspatial, "lhs_dilation")
    rhs_dilation = _static_ints(rhs_dilation, nspatial, "rhs_dilation")
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dilation):
            raise ValueError(f"conv_general_dilated: padding={padding!r} is not defined together with "
                             f"lhs_dilation={lhs_dilation}; give explicit (low, high) pairs, or use "
                             "lax.conv_transpose.")
        in_sizes = [lhs.shape[d] for d in dnums.lhs_spec[2:]]
        windows = [_dilate_dim(rhs.shape[d], r) for d, r in zip(dnums.rhs_spec[2:], rhs_dilation)]
        padding = padtype_to_pads(in_sizes, windows, window_strides, padding)
    else:
        padding = padtype_to_pads(None, None, None, padding)
    if len(padding) != nspatial:
        raise ValueError(f"padding needs {nspatial} (low, high) pairs (one per spatial dimension), "
                         f"got {padding}.")
    preferred = None if preferred_element_type is None else dtypes.canonicalize_dtype(preferred_element_type)
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dnums, feature_group_count=int(feature_group_count),
        batch_group_count=int(batch_group_count), precision=canonicalize_precision(precision),
        preferred_element_type=preferred)


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """``conv_general_dilated`` with ``NC...``/``OI...`` layouts and no dilation."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                              precision=None, preferred_element_type=None):
    """``conv_general_dilated`` with ``NC...``/``OI...`` layouts."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                precision=precision, preferred_element_type=preferred_element_type)


def _conv_transpose_pads(window, stride, padding):
    # The input is dilated by the stride. 'SAME' pads the kernel minus one
    # overall plus the stride minus one, so the output has in * stride
    # elements; 'VALID' also keeps the kernel's overhang past the last input.
    if padding == "SAME":
        total = window + stride - 2
        low = window - 1 if stride >= window else -(-total // 2)
    else:
        total = window + stride - 2 + max(window - stride, 0)
        low = window - 1
    return low, total - low


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, precision=None, preferred_element_type=None):
    """Transposed ("fractionally strided") convolution, as Flax's ConvTranspose uses it.

    Args:
      lhs: input; default layout ``NC``, ``NHC``, ``NHWC`` or ``NHWDC`` by rank.
      rhs: kernel; default layout ``IO``, ``HIO``, ``HWIO`` or ``HWDIO``.
      strides: the upsampling factor per spatial dimension (the input dilation).
      padding: ``'SAME'`` (output ``in * stride``), ``'VALID'`` (output
        ``in * stride + max(window - stride, 0)``) or ``(low, high)`` pairs.
      rhs_dilation: kernel dilation.
      dimension_numbers: as in ``conv_general_dilated``.
      transpose_kernel: flip the kernel spatially and swap its I/O axes, giving
        the gradient of a strided ``conv`` with that kernel.

    Returns:
      The convolution of the stride-dilated input, laid out as the output spec.
    """
    lhs, rhs = coerce_scalars(lhs, rhs)
    ndim = lhs.ndim
    if dimension_numbers is None:
        defaults = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"),
                    5: ("NHWDC", "HWDIO", "NHWDC")}
        if ndim not in defaults:
            raise ValueError(f"conv_transpose has no default layout for rank-{ndim} inputs; pass "
                             "dimension_numbers.")
        dimension_numbers = defaults[ndim]
    dnums = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nspatial = ndim - 2
    strides = _static_ints(strides, nspatial, "strides")
    rhs_dilation = _static_ints(rhs_dilation, nspatial, "rhs_dilation")
    windows = [_dilate_dim(rhs.shape[d], r) for d, r in zip(dnums.rhs_spec[2:], rhs_dilation)]
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ValueError(f"conv_transpose padding must be 'SAME', 'VALID' or (low, high) pairs, "
                             f"got {padding!r}.")
        padding = tuple(_conv_transpose_pads(k, s, padding.upper()) for k, s in zip(windows, strides))
    if transpose_kernel:
        from .shape import rev
        rhs = rev(rhs, dnums.rhs_spec[2:])
        dnums = dnums._replace(rhs_spec=(dnums.rhs_spec[1], dnums.rhs_spec[0]) + dnums.rhs_spec[2:])
    return conv_general_dilated(lhs, rhs, (1,) * nspatial, padding, lhs_dilation=strides,
                                rhs_dilation=rhs_dilation, dimension_numbers=dnums, precision=precision,
                                preferred_element_type=preferred_element_type)


# --- windowed reductions ----------------------------------------------------------------------

def _identity(kind, dtype):
    """The value that padding contributes: nothing to the sum, never the max/min."""
    dtype = np.dtype(dtype)
    if kind == "sum":
        return np.zeros((), dtype)
    if dtype == dtypes.bool_:
        return np.array(kind == "min")
    if dtypes.is_int(dtype):
        info = np.iinfo(dtype)
        return np.array(info.min if kind == "max" else info.max, dtype)
    return np.array(-np.inf if kind == "max" else np.inf, dtype)


def _reduce_window_primitive(kind, reducer, allowed):
    name = f"reduce_window_{kind}"

    def abstract_eval(operand, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        check_dtype(name, operand, allowed)
        for param, value in (("window_dimensions", window_dimensions), ("window_strides", window_strides),
                             ("padding", padding), ("base_dilation", base_dilation),
                             ("window_dilation", window_dilation)):
            if len(value) != operand.ndim:
                raise shape_error(name, f"needs {param} for each of the {operand.ndim} axes, got "
                                  f"{param}={value}", operand)
        if min(window_dimensions + window_strides + base_dilation + window_dilation, default=1) < 1:
            raise shape_error(name, f"needs window dimensions, strides and dilations >= 1, got "
                              f"window_dimensions={window_dimensions} window_strides={window_strides} "
                              f"base_dilation={base_dilation} window_dilation={window_dilation}", operand)
        shape = []
        for size, window, stride, (lo, hi), base, dil in zip(operand.shape, window_dimensions, window_strides,
                                                             padding, base_dilation, window_dilation):
            padded = _dilate_dim(size, base) + lo + hi
            shape.append(_windowed_size(padded, _dilate_dim(window, dil), stride))
        return ShapedArray(tuple(shape), operand.dtype, operand.weak_type)

    def impl(operand, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        out_shape = abstract_eval(ShapedArray(operand.shape, operand.dtype),
                                  window_dimensions=window_dimensions, window_strides=window_strides,
                                  padding=padding, base_dilation=base_dilation,
                                  window_dilation=window_dilation).shape
        identity = _identity(kind, operand.dtype)
        if 0 in out_shape:
            return np.zeros(out_shape, operand.dtype)
        config = [(lo, hi, base - 1) for (lo, hi), base in zip(padding, base_dilation)]
        x = _pad_impl(operand, identity, padding_config=config) if any(map(any, config)) else operand
        windows = _windows(x, 0, window_dimensions, window_strides, window_dilation, out_shape)
        return reducer(windows, axis=tuple(range(operand.ndim, 2 * operand.ndim)))

    impl.__name__ = f"_{name}_impl"
    return standard_primitive(name, abstract_eval, impl)


reduce_window_sum_p = _reduce_window_primitive("sum", np.sum, NUMBERS)
reduce_window_max_p = _reduce_window_primitive("max", np.max, ALL)
reduce_window_min_p = _reduce_window_primitive("min", np.min, ALL)


# reduce_window_sum is linear. Its transpose spreads each output cotangent over
# its window: the same picture as conv's lhs transpose with a kernel of ones
# (symmetric, so not reversed), i.e. a window sum of the stride-dilated
# cotangent with strides and base dilation swapped and the padding mirrored.

def _reduce_window_sum_transpose(ct, operand, *, window_dimensions, window_strides, padding, base_dilation,
                                 window_dilation):
    pads = []
    for size, window, out_size, (lo, _), stride, base, dil in zip(
            operand.aval.shape, window_dimensions, ct.shape, padding, window_strides, base_dilation,
            window_dilation):
        size, window, out_size = _dilate_dim(size, base), _dilate_dim(window, dil), _dilate_dim(out_size, stride)
        low = window - 1 - lo
        pads.append((low, size + window - 1 - out_size - low))
    return [reduce_window_sum_p.bind(ct, window_dimensions=window_dimensions, window_strides=base_dilation,
                                     padding=tuple(pads), base_dilation=window_strides,
                                     window_dilation=window_dilation)]


_ad.deflinear(reduce_window_sum_p, _reduce_window_sum_transpose)


# reduce_window_max/min: the tangent of each output is the tangent at the
# (first) position of its window holding the chosen value. Every window tap is
# a strided slice of the padded operand, so the tangent is a sum over taps of
# select_n(first-hit mask, 0, tap of the tangent): linear in the tangent.

def _window_taps(x, fill, *, window_dimensions, window_strides, padding, base_dilation, window_dilation,
                 out_shape):
    """For every window offset, the strided slice of the padded ``x`` holding
    that tap of every window (each shaped ``out_shape``)."""
    from .shape import pad, slice as lax_slice
    config = [(lo, hi, base - 1) for (lo, hi), base in zip(padding, base_dilation)]
    padded = pad(x, ArrayImpl(np.asarray(fill, x.dtype)), config) if any(map(any, config)) else x
    for tap in itertools.product(*map(range, window_dimensions)):
        start = tuple(t * d for t, d in zip(tap, window_dilation))
        limit = tuple(st + (n - 1) * s + 1 for st, n, s in zip(start, out_shape, window_strides))
        yield lax_slice(padded, start, limit, window_strides)


def _reduce_window_chooser_jvp(prim, kind):
    def rule(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, **params)
        if 0 in out.shape or 0 in x.shape:
            return out, _ad.instantiate(_ad.Zero(_ad.tangent_aval(out.aval)))
        t = _ad.instantiate(t)
        zeros = _ad.zeros_like_aval(_ad.tangent_aval(out.aval))
        taken, total = None, None
        taps = zip(_window_taps(x, _identity(kind, x.dtype), out_shape=out.shape, **params),
                   _window_taps(t, 0, out_shape=out.shape, **params))
        for x_tap, t_tap in taps:
            hit = lax_elementwise.eq(x_tap, out)
            if taken is None:
                taken = hit
            else:
                hit = lax_elementwise.bitwise_and(hit, lax_elementwise.bitwise_not(taken))
                taken = lax_elementwise.bitwise_or(taken, hit)
            term = lax_elementwise.select_n(hit, zeros, t_tap)
            total = term if total is None else lax_elementwise.add(total, term)
        return out, total
    return rule


reduce_window_max_p.def_jvp(_reduce_window_chooser_jvp(reduce_window_max_p, "max"))
reduce_window_min_p.def_jvp(_reduce_window_chooser_jvp(reduce_window_min_p, "min"))


def _monoid_of(computation):
    """Which windowed primitive a reduction function stands for, or None."""
    from ..numpy import ufuncs
    table = {lax_elementwise.add: "sum", lax_elementwise.max: "max", lax_elementwise.min: "min"}
    for name, kind in (("add", "sum"), ("maximum", "max"), ("minimum", "min")):
        fun = getattr(ufuncs, name, None)
        if fun is not None:
            table[fun] = kind
    return table.get(computation)


def _init_operand(init_value, operand):
    """``init_value`` as a scalar of the operand's dtype. An infinite float
    init with an integer operand means the dtype's extreme (Flax's max_pool
    passes -inf whatever the dtype)."""
    if isinstance(init_value, core.Tracer):
        if init_value.shape != () or init_value.dtype != operand.dtype:
            raise TypeError(f"reduce_window: init_value must be a scalar of the operand's dtype "
                            f"{operand.dtype.name}, got {init_value.aval.str_short()}.")
        return init_value
    value = np.asarray(init_value)
    if value.shape != () or value.dtype.kind not in "biuf":
        raise TypeError(f"reduce_window: init_value must be a scalar, got "
                        f"{value.dtype.name}{list(value.shape)}.")
    if value.dtype.kind == "f" and not dtypes.is_float(operand.dtype):
        if not np.isinf(value):
            raise TypeError(f"reduce_window: init_value {value} is a float but the operand is "
                            f"{operand.dtype.name}; pass an integer init (e.g. 0, or "
                            f"numbax.numpy.iinfo(dtype).min for max pooling).")
        value = _identity("max" if value < 0 else "min", operand.dtype)
    return as_operand(value.astype(operand.dtype), operand.dtype, weak_type=False)


def reduce_window(operand, init_value, computation, window_dimensions, window_strides, padding,
                  base_dilation=None, window_dilation=None):
    """Reduce each window of ``operand`` with ``computation`` (pooling).

    Args:
      operand: array of any rank.
      init_value: scalar of ``operand``'s dtype folded into every window; the
        identity (0 for ``add``, -inf or the dtype's minimum for ``max``, +inf
        or the maximum for ``min``) gives plain window sums/maxima/minima.
      computation: ``lax.add``, ``lax.max`` or ``lax.min`` (or numbax.numpy's
        ``add``/``maximum``/``minimum``).
      window_dimensions, window_strides: one int per axis.
      padding: ``'SAME'``, ``'VALID'`` or ``(low, high)`` pairs; padded
        elements never change a window's result.
      base_dilation, window_dilation: one int per axis; default 1s.

    Returns:
      Array of ``operand``'s dtype with ``floor((padded - dilated_window) /
      stride) + 1`` elements per axis.

    Differences from JAX: other computations and pytrees of operands are not
    supported.
    """
    kind = _monoid_of(computation)
    if kind is None:
        raise NotImplementedError(
            f"reduce_window supports computation=lax.add, lax.max or lax.min (sum, max and min "
            f"pooling), got {getattr(computation, '__name__', computation)!r}. For average pooling "
            "divide a lax.add window sum by the window size.")
    (operand,) = coerce_scalars(operand)
    init_value = _init_operand(init_value, operand)
    ndim = operand.ndim
    window_dimensions = _static_ints(window_dimensions, ndim, "window_dimensions")
    window_strides = _static_ints(window_strides, ndim, "window_strides")
    base_dilation = _static_ints(base_dilation, ndim, "base_dilation")
    window_dilation = _static_ints(window_dilation, ndim, "window_dilation")
    if isinstance(padding, str):
        # As JAX: the pads are sized for the undilated operand, then applied
        # around the base-dilated one.
        windows = [_dilate_dim(w, d) for w, d in zip(window_dimensions, window_dilation)]
        padding = padtype_to_pads(operand.shape, windows, window_strides, padding)
    else:
        padding = padtype_to_pads(None, None, None, padding)
    if len(padding) != ndim:
        raise ValueError(f"reduce_window: padding needs {ndim} (low, high) pairs, got {padding}.")
    prim = {"sum": reduce_window_sum_p, "max": reduce_window_max_p, "min": reduce_window_min_p}[kind]
    out = prim.bind(operand, window_dimensions=window_dimensions, window_strides=window_strides,
                    padding=padding, base_dilation=base_dilation, window_dilation=window_dilation)
    if isinstance(init_value, core.Tracer) or np.asarray(init_value) != _identity(kind, operand.dtype):
        out = {"sum": lax_elementwise.add, "max": lax_elementwise.max, "min": lax_elementwise.min}[kind](
            out, init_value)
    return out


# --- batching rules ------------------------------------------------------------
# conv_general_dilated folds the vmapped axis into one of its own, so one
# convolution runs (JAX's _conv_general_dilated_batch_rule does the same):
# - lhs only: into the lhs batch axis (inside each batch group when there are
#   several, so the groups stay outermost); the examples come out along the
#   output batch axis.
# - rhs only: into the kernel's output features (inside each feature or batch
#   group); the examples come out along the output feature axis.
# - both: each example becomes a group of its own: feature_group_count (or
#   batch_group_count) grows by the batch size, the kernels stack along the
#   output features, and the examples come out along the output feature axis.
# Windowed reductions take a window of 1 along the batch axis.

def _reshape_axis_into(src, dst, x):
    """Merge axis ``src`` of ``x`` into axis ``dst`` (counted once ``src`` is
    removed) as its major part."""
    from .shape import reshape
    perm = [i for i in range(x.ndim) if i != src]
    perm.insert(dst, src)
    shape = [x.shape[i] for i in range(x.ndim) if i != src]
    shape[dst] *= x.shape[src]
    return reshape(x, tuple(shape), tuple(perm))


def _reshape_axis_out_of(src, size, x):
    """Split axis ``src`` of ``x`` into ``(size, rest)``."""
    from .shape import reshape
    shape = list(x.shape)
    shape[src:src + 1] = [size, shape[src] // size]
    return reshape(x, tuple(shape))


def _conv_general_dilated_batch(args, dims, **params):
    from .shape import broadcast_in_dim
    (lhs, rhs), (lbd, rbd) = args, dims
    lhs_spec, rhs_spec, out_spec = params["dimension_numbers"]
    groups, batch_groups = params["feature_group_count"], params["batch_group_count"]
    size = lhs.shape[lbd] if lbd is not None else rhs.shape[rbd]
    conv = conv_general_dilated_p.bind
    if size == 0:
        # Nothing to convolve; groups of size 0 would not be valid.
        def unbatched(x, d):
            aval = core.get_aval(x)
            return aval if d is None else ShapedArray(aval.shape[:d] + aval.shape[d + 1:], aval.dtype)
        out = _conv_general_dilated_abstract_eval(unbatched(lhs, lbd), unbatched(rhs, rbd), **params)
        zero = ArrayImpl(np.zeros((), out.dtype))
        return broadcast_in_dim(zero, (0,) + tuple(out.shape), ()), 0
    if lbd is not None and rbd is not None:
        if batch_groups > 1:
            lhs = _reshape_axis_into(lbd, lhs_spec[0], lhs)
            params["batch_group_count"] = batch_groups * size
        else:
            lhs = _reshape_axis_into(lbd, lhs_spec[1], lhs)
            params["feature_group_count"] = groups * size
        rhs = _reshape_axis_into(rbd, rhs_spec[0], rhs)
        return _reshape_axis_out_of(out_spec[1], size, conv(lhs, rhs, **params)), out_spec[1]
    if lbd is not None:
        if batch_groups == 1:
            lhs = _reshape_axis_into(lbd, lhs_spec[0], lhs)
        else:
            # (batch_groups, n) -> (batch_groups, size * n): examples inside each group.
            lhs = _reshape_axis_out_of(lhs_spec[0] + (lbd <= lhs_spec[0]), batch_groups, lhs)
            lhs = _reshape_axis_into(lbd + (lhs_spec[0] < lbd), lhs_spec[0] + 1, lhs)
            lhs = _reshape_axis_into(lhs_spec[0], lhs_spec[0], lhs)
        return _reshape_axis_out_of(out_spec[0], size, conv(lhs, rhs, **params)), out_spec[0]
    if groups == 1 and batch_groups == 1:
        rhs = _reshape_axis_into(rbd, rhs_spec[0], rhs)
        return _reshape_axis_out_of(out_spec[1], size, conv(lhs, rhs, **params)), out_spec[1]
    # Output features are (groups, per group): put the examples inside each
    # group, (groups, size * per group), and take them out again after.
    count = groups if groups > 1 else batch_groups
    rhs = _reshape_axis_out_of(rhs_spec[0] + (rbd <= rhs_spec[0]), count, rhs)
    rhs = _reshape_axis_into(rbd + (rhs_spec[0] < rbd), rhs_spec[0] + 1, rhs)
    rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[0], rhs)
    out = _reshape_axis_out_of(out_spec[1], count, conv(lhs, rhs, **params))
    out = _reshape_axis_out_of(out_spec[1] + 1, size, out)
    return _reshape_axis_into(out_spec[1], out_spec[1] + 1, out), out_spec[1]


conv_general_dilated_p.def_batch(_conv_general_dilated_batch)


def _reduce_window_batch(prim):
    def rule(args, dims, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        (x,), (d,) = args, dims  # one operand, so it is the batched one

        def with_batch(values, value):
            return tuple(values[:d]) + (value,) + tuple(values[d:])
        out = prim.bind(x, window_dimensions=with_batch(window_dimensions, 1),
                        window_strides=with_batch(window_strides, 1), padding=with_batch(padding, (0, 0)),
                        base_dilation=with_batch(base_dilation, 1), window_dilation=with_batch(window_dilation, 1))
        return out, d
    rule.__name__ = f"_{prim.name}_batch"
    return rule


for _prim in (reduce_window_sum_p, reduce_window_max_p, reduce_window_min_p):
    _prim.def_batch(_reduce_window_batch(_prim))

# --- end of batching rules ---


# --- lowering (jit) ----------------------------------------------------------------------------
# conv_general_dilated: the operands are brought to the kernels' canonical
# layout (backends/cpu_kernels.py: channels last, three spatial axes, fewer
# axes padded with size-1 ones; NHWC/HWIO need no copy), converted to the
# result dtype as the eager impl does, and one of four kernels runs, each in
# parallel over images:
#
# - conv_wgrad when the window is larger than the output (a kernel gradient,
#   batch and feature axes swapped by the transpose rule): im2col of the
#   forward input, transposed, times the output gradient; no transposed copies.
# - conv_scatter with input dilation (an input gradient of a strided conv):
#   one GEMM per image over the real input elements, added into the outputs
#   they reach, instead of windows of mostly dilation zeros.
# - conv_gemm: im2col + GEMM, once a window's contraction (taps x channels per
#   group) fills a GEMM's inner dimension;
# - conv_direct, the loop nest: integers, few taps x channels (the 9-wide GEMM
#   of a 1-channel 3x3 conv is memory bound, the gather costs more than the
#   loop nest), input dilation with batch groups.
#
# W7 of benchmarks/jit_workloads.py (64x28x28x1 -> conv3x3 32 SAME -> conv3x3
# 64 stride 2), one thread, ms: conv2 forward 8.2, input gradient 11.3
# (loop nest 17), kernel gradient 8.3 (with the transposes it replaced: ~19),
# conv1 kernel gradient 2.8.

_GEMM_MIN_CONTRACTION = 32


def _canonical_operand(ctx, v, order, dtype, nspatial, kernel):
    """``v`` transposed to ``order`` (``(N, *spatial, C)``, or ``(*window, I,
    O)`` for the ``kernel``), converted to ``dtype`` and reshaped to the
    kernels' 3 spatial axes."""
    shape = [v.aval.shape[d] for d in order]
    spatial = shape[:nspatial] if kernel else shape[1:1 + nspatial]
    expr = ctx.read(v)
    if tuple(order) != tuple(range(len(order))):
        expr = f"{expr}.transpose({tuple(order)})"
    if v.aval.dtype != dtype:
        expr = f"{expr}.astype({ctx.np_dtype(dtype)})"
    filled = tuple(spatial) + (1,) * (3 - nspatial)
    target = filled + tuple(shape[nspatial:]) if kernel else (shape[0],) + filled + (shape[-1],)
    return f"np.ascontiguousarray({expr}).reshape({target})"


def _conv_general_dilated_lower(ctx, eqn):
    (lhs, rhs), (out,) = eqn.invars, eqn.outvars
    p = eqn.params
    lhs_spec, rhs_spec, out_spec = p["dimension_numbers"]
    nspatial = lhs.aval.ndim - 2
    dtype = np.dtype(out.aval.dtype)
    if nspatial > 3:
        raise NotImplementedError(
            f"jit lowers conv_general_dilated with at most 3 spatial dimensions, got {nspatial} (lhs "
            f"{lhs.aval.str_short()}, rhs {rhs.aval.str_short()}); call it without numbax.jit.")
    if dtype == dtypes.float16:
        raise NotImplementedError(
            f"jit cannot lower conv_general_dilated in float16 (numba has no float16 arithmetic on CPU; "
            f"lhs {lhs.aval.str_short()}); use float32 (preferred_element_type=numbax.numpy.float32) or "
            "call it without numbax.jit.")
    if 0 in out.aval.shape:
        ctx.define(out, f"rt.full({tuple(out.aval.shape)}, 0, {ctx.np_dtype(dtype)})")
        return

    def filled(values, fill):
        return tuple(int(v) for v in values) + (fill,) * (3 - nspatial)
    strides, rd = filled(p["window_strides"], 1), filled(p["rhs_dilation"], 1)
    low, ld = filled((lo for lo, _ in p["padding"]), 0), filled(p["lhs_dilation"], 1)
    fg, bg = p["feature_group_count"], p["batch_group_count"]
    window = int(np.prod([rhs.aval.shape[d] for d in rhs_spec[2:]]))
    positions = int(np.prod([out.aval.shape[d] for d in out_spec[2:]]))
    contraction = window * rhs.aval.shape[rhs_spec[1]]
    floats, undilated = dtype.kind == "f", max(ld) == 1
    if floats and undilated and fg == bg == 1 and window > positions:
        # A window larger than the output: the kernel gradient of a conv,
        # which the transpose rule writes with batch and feature axes
        # swapped. conv_wgrad reads lhs as (feature, spatial, batch) and rhs
        # as (in, spatial, out) and writes (spatial, batch, out): for an
        # NHWC/HWIO conv's gradient the arrays as they are.
        kernel, args = "conv_wgrad", [rd, low, strides]
        x_order = (lhs_spec[1],) + tuple(lhs_spec[2:]) + (lhs_spec[0],)
        w_order = (rhs_spec[1],) + tuple(rhs_spec[2:]) + (rhs_spec[0],)
        out_axes = tuple(out_spec[2:]) + (out_spec[0], out_spec[1])
        w_as_kernel = False
    else:
        x_order = (lhs_spec[0],) + tuple(lhs_spec[2:]) + (lhs_spec[1],)
        w_order = tuple(rhs_spec[2:]) + (rhs_spec[1], rhs_spec[0])
        out_axes = (out_spec[0],) + tuple(out_spec[2:]) + (out_spec[1],)
        w_as_kernel = True
        if floats and not undilated and bg == 1:
            kernel, args = "conv_scatter", [strides, low, ld, rd, fg]
        elif floats and undilated and contraction >= _GEMM_MIN_CONTRACTION:
            kernel, args = "conv_gemm", [strides, low, rd, fg, bg]
        else:
            kernel, args = "conv_direct", [strides, low, ld, rd, fg, bg]
    x = _canonical_operand(ctx, lhs, x_order, dtype, nspatial, False)
    w = _canonical_operand(ctx, rhs, w_order, dtype, nspatial, w_as_kernel)
    out_shape = [out.aval.shape[d] for d in out_axes]
    if kernel == "conv_wgrad":
        canonical = filled(out_shape[:-2], 1) + tuple(out_shape[-2:])
    else:
        canonical = (out_shape[0],) + filled(out_shape[1:-1], 1) + (out_shape[-1],)
    names = [ctx.fresh(prefix) for prefix in ("cx", "cw", "cout")]
    ctx.emit(f"{names[0]} = {x}")
    ctx.emit(f"{names[1]} = {w}")
    ctx.emit(f"{names[2]} = rt.empty({canonical}, {ctx.np_dtype(dtype)})")
    ctx.parallel_kernels = True  # every conv kernel runs on numba's threads
    ctx.emit(f"rt.{kernel}({', '.join(names)}, {', '.join(map(str, args))})")
    result = f"{names[2]}.reshape({tuple(out_shape)})"
    inverse = tuple(int(i) for i in np.argsort(out_axes))
    if inverse != tuple(range(len(inverse))):
        result = f"np.ascontiguousarray({result}.transpose({inverse}))"
    ctx.define(out, result)


conv_general_dilated_p.def_lowering(_conv_general_dilated_lower, "cpu")


# reduce_window_*: a loop nest over the output, and inside it over the window
# taps; a tap reads the operand at q = out * stride + tap * window_dilation -
# low when q lands on an operand element of the base-dilated operand (checks
# are printed only where an index can leave the operand).

def _reduce_window_lowering(kind):
    def rule(ctx, eqn):
        from ..backends.cpu import literal_text
        (x,), (out,) = eqn.invars, eqn.outvars
        p = eqn.params
        dtype = np.dtype(x.aval.dtype)
        if not x.aval.shape:
            ctx.bind_name(out, ctx.read(x))  # one window of one element
            return
        identity = literal_text(_identity(kind, dtype), dtype)
        if 0 in out.aval.shape or 0 in x.aval.shape:
            ctx.define(out, f"rt.full({tuple(out.aval.shape)}, {identity}, {ctx.np_dtype(dtype)})")
            return
        if kind == "sum":
            combine = "{acc} + {v}"
        elif dtype == dtypes.bool_:
            combine = "{acc} | {v}" if kind == "max" else "{acc} & {v}"
        elif dtype.kind == "f":
            combine = "rt.fmax({acc}, {v})" if kind == "max" else "rt.fmin({acc}, {v})"
        else:
            combine = "max({acc}, {v})" if kind == "max" else "min({acc}, {v})"
        result = ctx.define(out, ctx.empty(out.aval))
        source = ctx.read(x)
        with ctx.loops(out.aval.shape) as index:
            acc = ctx.fresh("acc")
            ctx.emit(f"{acc} = {identity}")
            depth = ctx.depth
            positions = []
            for axis, (o, size, window, stride, (lo, _), base, dil, out_size) in enumerate(zip(
                    index, x.aval.shape, p["window_dimensions"], p["window_strides"], p["padding"],
                    p["base_dilation"], p["window_dilation"], out.aval.shape)):
                q = ctx.fresh("q")
                highest = (out_size - 1) * stride + (window - 1) * dil - lo
                terms = [f"{o} * {stride}" if stride != 1 else o]
                # A window of 1 needs no loop, unless a tap may be skipped (``continue``).
                if window > 1 or lo > 0 or base > 1 or highest >= size:
                    tap = ctx.fresh("k")
                    ctx.emit(f"for {tap} in range({window}):")
                    ctx.depth += 1
                    terms.append(f"{tap} * {dil}" if dil != 1 else tap)
                if lo:
                    terms.append(str(-lo))
                ctx.emit(f"{q} = {' + '.join(terms).replace('+ -', '- ')}")
                checks = [f"{q} < 0"] if lo > 0 else []
                if base > 1:
                    ctx.emit(f"if {' or '.join(checks + [f'{q} % {base} != 0'])}:")
                    ctx.emit("    continue")
                    ctx.emit(f"{q} = {q} // {base}")
                    checks = [f"{q} >= {size}"] if highest // base >= size else []
                elif highest >= size:
                    checks.append(f"{q} >= {size}")
                if checks:
                    ctx.emit(f"if {' or '.join(checks)}:")
                    ctx.emit("    continue")
                positions.append(q)
            value = f"{source}[{', '.join(positions)}]"
            ctx.emit(f"{acc} = {ctx.np_dtype(dtype)}({combine.format(acc=acc, v=value)})")
            ctx.depth = depth
            ctx.emit(f"{result}[{', '.join(index)}] = {acc}")
    rule.__name__ = f"_reduce_window_{kind}_lower"
    return rule


for _kind, _prim in (("sum", reduce_window_sum_p), ("max", reduce_window_max_p), ("min", reduce_window_min_p)):
    _prim.def_lowering(_reduce_window_lowering(_kind), "cpu")
