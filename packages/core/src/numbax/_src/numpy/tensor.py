"""Products and contractions of ``numbax.numpy``: ``dot``, ``matmul``,
``einsum``, ``tensordot``, ``outer``, ``inner``, ``vdot``, ``vecdot``,
``trace``, ``diagonal``, ``kron``, ``cross``, written in terms of ``lax``.

Contractions promote their operands to JAX's result dtype (integer products
stay integer) and lower to ``dot_general``; ``einsum`` takes diagonals and
sums single-operand axes first, then contracts pairs of operands.
"""

import itertools

import numpy as np

from .. import dtypes
from ..core import NumbaxTypeError
from ..lax import dot as lax_dot
from ..lax import elementwise as lax
from ..lax import shape as lax_shape
from .util import broadcast_shapes, canonicalize_axis, check_arraylike, ensure_array, promote_dtypes

__all__ = ["dot", "matmul", "einsum", "tensordot", "outer", "inner", "vdot", "vecdot", "trace",
           "diagonal", "kron", "cross"]


def _promoted(fun_name, *args):
    check_arraylike(fun_name, *args)
    return [ensure_array(x) for x in promote_dtypes(*args)]


def _preferred(preferred_element_type):
    return None if preferred_element_type is None else dtypes.canonicalize_dtype(preferred_element_type)


def _contract(a, b, contract, batch, precision, preferred):
    return lax_dot.dot_general(a, b, (contract, batch), precision=precision,
                               preferred_element_type=preferred)


def _scalar_product(a, b, preferred):
    out = lax.mul(a, b)
    return out if preferred is None else lax.convert_element_type(out, preferred)


def _reduce_sum(x, axes):
    """Sum over ``axes``; bools combine with "or", as JAX's einsum does."""
    from ..lax import reduce as lax_reduce
    if not axes:
        return x
    if x.dtype == dtypes.bool_:
        return lax_reduce.reduce_or(x, tuple(axes))
    return lax_reduce.reduce_sum(x, tuple(axes))


def _ravel(x):
    return lax_shape.reshape(x, (x.size,))


def _move_to_end(x, axes):
    """Transpose ``axes`` (in the given order) to the end of ``x``."""
    rest = [i for i in range(x.ndim) if i not in axes]
    return lax_shape.transpose(x, tuple(rest) + tuple(axes))


def dot(a, b, *, precision=None, preferred_element_type=None):
    """NumPy's ``dot``: the last axis of ``a`` with the second-to-last of ``b``
    (the only one if ``b`` is 1-D); a scalar operand multiplies.

    Args:
      a: array ``(..., n)`` or scalar.
      b: array ``(n,)`` or ``(..., n, k)``, or scalar.
      precision, preferred_element_type: as in ``lax.dot_general``.

    Returns:
      Array of shape ``a.shape[:-1] + b.shape[:-2] + b.shape[-1:]`` and the
      promoted dtype (or ``preferred_element_type``).
    """
    a, b = _promoted("dot", a, b)
    preferred = _preferred(preferred_element_type)
    if a.ndim == 0 or b.ndim == 0:
        return _scalar_product(a, b, preferred)
    b_axis = max(b.ndim - 2, 0)
    if a.shape[-1] != b.shape[b_axis]:
        raise NumbaxTypeError(f"dot got incompatible shapes {a.aval.str_short()} and {b.aval.str_short()}: "
                              f"the last axis of a ({a.shape[-1]}) must match axis {b_axis} of b "
                              f"({b.shape[b_axis]}).")
    return _contract(a, b, ((a.ndim - 1,), (b_axis,)), ((), ()), precision, preferred)


def matmul(a, b, *, precision=None, preferred_element_type=None):
    """Matrix product with NumPy's rules (the ``@`` operator).

    Args:
      a: array ``(..., m, k)``, or ``(k,)`` (treated as a row, axis dropped).
      b: array ``(..., k, n)``, or ``(k,)`` (treated as a column, axis dropped).
      precision, preferred_element_type: as in ``lax.dot_general``.

    Returns:
      ``(*batch, m, n)`` where the batch shapes broadcast NumPy-style, in the
      promoted dtype (integer products stay integer).
    """
    a, b = _promoted("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs operands of rank >= 1, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}; use numbax.numpy.multiply (or *) for scalars.")
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    if a.shape[-1] != b.shape[0 if b_vector else -2]:
        raise NumbaxTypeError(f"matmul got incompatible shapes {a.aval.str_short()} and "
                              f"{b.aval.str_short()}: a's last axis ({a.shape[-1]}) must match b's "
                              f"{'only' if b_vector else 'second-to-last'} axis "
                              f"({b.shape[0 if b_vector else -2]}).")
    if a_vector:
        a = lax_shape.reshape(a, (1,) + tuple(a.shape))
    if b_vector:
        b = lax_shape.reshape(b, tuple(b.shape) + (1,))
    preferred = _preferred(preferred_element_type)
    if b.ndim == 2:  # the common (..., m, k) @ (k, n): a's batch axes are plain free axes
        out = _contract(a, b, ((a.ndim - 1,), (0,)), ((), ()), precision, preferred)
        squeeze = ([a.ndim - 2] if a_vector else []) + ([a.ndim - 1] if b_vector else [])
        return lax_shape.squeeze(out, squeeze) if squeeze else out
    a_batch, b_batch = tuple(a.shape[:-2]), tuple(b.shape[:-2])
    batch_shape = broadcast_shapes(a_batch, b_batch, fun_name="matmul")
    nb = len(batch_shape)
    a_batch, b_batch = (1,) * (nb - len(a_batch)) + a_batch, (1,) * (nb - len(b_batch)) + b_batch
    # A batch axis of size 1 on one side is dropped there and becomes a free
    # axis of the other operand, so nothing is materialized by broadcasting.
    a_keep = [i for i in range(nb) if a_batch[i] == b_batch[i] or b_batch[i] == 1]
    b_keep = [i for i in range(nb) if a_batch[i] == b_batch[i] or a_batch[i] == 1]
    a = lax_shape.reshape(a, tuple(a_batch[i] for i in a_keep) + tuple(a.shape[-2:]))
    b = lax_shape.reshape(b, tuple(b_batch[i] for i in b_keep) + tuple(b.shape[-2:]))
    shared = [i for i in a_keep if i in b_keep]
    a_free = [i for i in a_keep if i not in shared]
    b_free = [i for i in b_keep if i not in shared]
    batch = (tuple(a_keep.index(i) for i in shared), tuple(b_keep.index(i) for i in shared))
    out = _contract(a, b, ((a.ndim - 1,), (b.ndim - 2,)), batch, precision, preferred)
    # out axes: shared batch, a's free batch, m, b's free batch, n.
    order = shared + a_free + ["m"] + b_free + ["n"]
    perm = [order.index(i) for i in range(nb)] + [order.index("m"), order.index("n")]
    out = lax_shape.transpose(out, tuple(perm))
    squeeze = ([nb] if a_vector else []) + ([nb + 1] if b_vector else [])
    return lax_shape.squeeze(out, squeeze) if squeeze else out


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """Sum products over pairs of axes.

    Args:
      a, b: arrays.
      axes: an int ``N`` (the last N axes of ``a`` with the first N of ``b``) or
        a pair ``(axes_a, axes_b)`` of ints or equal-length sequences.

    Returns:
      Array of shape ``a``'s free axes + ``b``'s free axes, promoted dtype.
    """
    a, b = _promoted("tensordot", a, b)
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={axes} must be between 0 and the smaller rank "
                             f"({min(a.ndim, b.ndim)}) for shapes {tuple(a.shape)} and {tuple(b.shape)}.")
        a_axes, b_axes = tuple(range(a.ndim - axes, a.ndim)), tuple(range(axes))
    else:
        try:
            a_axes, b_axes = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair of axis sequences, got "
                            f"{axes!r}.") from None
        a_axes = (a_axes,) if isinstance(a_axes, (int, np.integer)) else tuple(a_axes)
        b_axes = (b_axes,) if isinstance(b_axes, (int, np.integer)) else tuple(b_axes)
        if len(a_axes) != len(b_axes):
            raise ValueError(f"tensordot: axes {axes!r} pairs {len(a_axes)} axes of a with "
                             f"{len(b_axes)} of b; give as many of each.")
        a_axes = tuple(canonicalize_axis(i, a.ndim, "tensordot") for i in a_axes)
        b_axes = tuple(canonicalize_axis(i, b.ndim, "tensordot") for i in b_axes)
    for i, j in zip(a_axes, b_axes):
        if a.shape[i] != b.shape[j]:
            raise NumbaxTypeError(f"tensordot got shapes {a.aval.str_short()} and {b.aval.str_short()} "
                                  f"whose contracted axes differ: a axis {i} has {a.shape[i]}, b axis {j} "
                                  f"has {b.shape[j]}.")
    return _contract(a, b, (a_axes, b_axes), ((), ()), precision, _preferred(preferred_element_type))


def inner(a, b, *, precision=None, preferred_element_type=None):
    """Inner product over the last axes: ``(..., n)`` and ``(..., n)`` give
    ``a.shape[:-1] + b.shape[:-1]``; a scalar operand multiplies."""
    a, b = _promoted("inner", a, b)
    preferred = _preferred(preferred_element_type)
    if a.ndim == 0 or b.ndim == 0:
        return _scalar_product(a, b, preferred)
    return tensordot(a, b, ((-1,), (-1,)), precision=precision, preferred_element_type=preferred)


def outer(a, b, out=None):
    """Outer product of the flattened inputs: ``(a.size, b.size)``."""
    if out is not None:
        raise NotImplementedError("outer: the out= argument is not supported (numbax arrays are immutable).")
    a, b = _promoted("outer", a, b)
    return lax.mul(lax_shape.reshape(a, (a.size, 1)), lax_shape.reshape(b, (1, b.size)))


def vdot(a, b, *, precision=None, preferred_element_type=None):
    """Dot product of the flattened inputs (equal sizes): a 0-d array."""
    a, b = _promoted("vdot", a, b)
    if a.size != b.size:
        raise NumbaxTypeError(f"vdot needs inputs of equal size, got {a.aval.str_short()} and "
                              f"{b.aval.str_short()}.")
    preferred = _preferred(preferred_element_type)
    return _contract(_ravel(a), _ravel(b), ((0,), (0,)), ((), ()), precision, preferred)


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    """Vector dot product along ``axis`` after NumPy broadcasting.

    Args:
      x1, x2: arrays whose shapes broadcast and whose ``axis`` sizes match.
      axis: the axis to contract (of the broadcast shape).

    Returns:
      The broadcast shape without ``axis``, promoted dtype.
    """
    x1, x2 = _promoted("vecdot", x1, x2)
    ndim = max(x1.ndim, x2.ndim)
    if ndim == 0:
        raise ValueError("vecdot needs arrays of rank >= 1, got two scalars.")
    x1, x2 = lax_shape.broadcast_to_rank(x1, ndim), lax_shape.broadcast_to_rank(x2, ndim)
    axis = canonicalize_axis(axis, ndim, "vecdot")
    if x1.shape[axis] != x2.shape[axis]:
        raise NumbaxTypeError(f"vecdot got sizes {x1.shape[axis]} and {x2.shape[axis]} along axis {axis} "
                              f"(shapes {x1.aval.str_short()} and {x2.aval.str_short()}); they must match.")
    shape = broadcast_shapes(x1.shape, x2.shape, fun_name="vecdot", args=(x1, x2))
    x1 = _move_to_end(lax_shape.broadcast_in_dim(x1, shape, tuple(range(ndim))), (axis,))
    x2 = _move_to_end(lax_shape.broadcast_in_dim(x2, shape, tuple(range(ndim))), (axis,))
    batch = tuple(range(ndim - 1))
    return _contract(x1, x2, ((ndim - 1,), (ndim - 1,)), (batch, batch), precision,
                     _preferred(preferred_element_type))


# --- diagonals -----------------------------------------------------------------------------

def _diagonal_last_two(x, offset):
    """Diagonal ``offset`` of the last two axes ``(..., n, m)`` -> ``(..., L)``.
    In the row-major flattening of an ``n x m`` matrix the diagonal is every
    ``(m + 1)``-th element from ``offset`` (or ``-offset * m``), so a reshape
    and a strided slice take it without any gather."""
    *batch, n, m = x.shape
    batch = tuple(batch)
    start = offset if offset >= 0 else -offset * m
    length = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    flat = lax_shape.reshape(x, batch + (n * m,))
    if length == 0:
        start = 0
    limit = start + (length - 1) * (m + 1) + 1 if length else 0
    return lax_shape.slice(flat, (0,) * len(batch) + (start,), batch + (limit,),
                           (1,) * len(batch) + (m + 1,))


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal of ``a`` over ``axis1`` and ``axis2``.

    Args:
      a: array of rank >= 2.
      offset: above (> 0) or below (< 0) the main diagonal.
      axis1, axis2: the two axes forming the matrices.

    Returns:
      ``a``'s other axes followed by the diagonal's length; ``a``'s dtype.
    """
    check_arraylike("diagonal", a)
    a = ensure_array(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal needs an array of rank >= 2, got shape {tuple(a.shape)}.")
    axis1, axis2 = canonicalize_axis(axis1, a.ndim, "diagonal"), canonicalize_axis(axis2, a.ndim, "diagonal")
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got both {axis1}.")
    return _diagonal_last_two(_move_to_end(a, (axis1, axis2)), int(offset))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum of a diagonal (see ``diagonal``): ``a``'s other axes remain.

    The dtype is ``dtype`` if given, else that of ``sum``: bools and narrow
    integers accumulate in the default integer type."""
    if out is not None:
        raise NotImplementedError("trace: the out= argument is not supported (numbax arrays are immutable).")
    diag = diagonal(a, offset, axis1, axis2)
    if dtype is None:
        dtype = diag.dtype
        narrow = dtypes.is_int(dtype) and dtype.itemsize < dtypes.default_int_dtype().itemsize
        if dtype == dtypes.bool_ or narrow:
            dtype = dtypes.default_uint_dtype() if dtypes.is_unsigned(dtype) else dtypes.default_int_dtype()
    diag = lax.convert_element_type(diag, dtype)
    return _reduce_sum(diag, (diag.ndim - 1,))


# --- kron and cross ----------------------------------------------------------------------------

def kron(a, b):
    """Kronecker product: ranks are aligned with leading 1s, then each axis
    has size ``a_i * b_i`` with ``out[i * b_i + j] = a[i] * b[j]``."""
    a, b = _promoted("kron", a, b)
    ndim = max(a.ndim, b.ndim)
    a, b = lax_shape.broadcast_to_rank(a, ndim), lax_shape.broadcast_to_rank(b, ndim)
    a_spread = lax_shape.reshape(a, tuple(itertools.chain.from_iterable((s, 1) for s in a.shape)))
    b_spread = lax_shape.reshape(b, tuple(itertools.chain.from_iterable((1, s) for s in b.shape)))
    product = lax.mul(a_spread, b_spread)
    return lax_shape.reshape(product, tuple(i * j for i, j in zip(a.shape, b.shape)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-vectors along ``axisa`` of ``a`` and ``axisb``
    of ``b`` (``axis`` sets all three). The other axes broadcast. Two
    2-vectors give the z component (no vector axis); otherwise the result's
    3-vector axis is placed at ``axisc``."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _promoted("cross", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("cross needs arrays of rank >= 1 holding 2- or 3-vectors.")
    a = _move_to_end(a, (canonicalize_axis(axisa, a.ndim, "cross"),))
    b = _move_to_end(b, (canonicalize_axis(axisb, b.ndim, "cross"),))
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"cross needs vectors of length 2 or 3 along the chosen axes, got lengths "
                         f"{a.shape[-1]} and {b.shape[-1]} (shapes {tuple(a.shape)}, {tuple(b.shape)}).")
    shape = broadcast_shapes(a.shape[:-1], b.shape[:-1], fun_name="cross")

    def components(x):
        if x.shape[-1] == 2:  # a 2-vector is a 3-vector with z = 0
            zero = lax.convert_element_type(0, x.dtype)
            x = lax_shape.pad(x, zero, [(0, 0, 0)] * (x.ndim - 1) + [(0, 1, 0)])
        parts = [lax_shape.squeeze(lax_shape.slice_in_dim(x, i, i + 1, axis=x.ndim - 1), (x.ndim - 1,))
                 for i in range(3)]
        return [lax_shape.broadcast_in_dim(lax_shape.broadcast_to_rank(p, len(shape)), shape,
                                           tuple(range(len(shape)))) for p in parts]

    two_d = a.shape[-1] == b.shape[-1] == 2
    (a0, a1, a2), (b0, b1, b2) = components(a), components(b)
    z = lax.sub(lax.mul(a0, b1), lax.mul(a1, b0))
    if two_d:
        return z
    parts = [lax.sub(lax.mul(a1, b2), lax.mul(a2, b1)), lax.sub(lax.mul(a2, b0), lax.mul(a0, b2)), z]
    stacked = lax_shape.concatenate([lax_shape.reshape(p, shape + (1,)) for p in parts], len(shape))
    axisc = canonicalize_axis(axisc, stacked.ndim, "cross")
    perm = list(range(stacked.ndim - 1))
    perm.insert(axisc, stacked.ndim - 1)
    return lax_shape.transpose(stacked, tuple(perm))


# --- einsum ---------------------------------------------------------------------------------------

def _parse_subscripts(subscripts, operands):
    """Label lists per operand and for the output. Ellipsis axes get labels
    ``'.0', '.1', ...`` aligned from the right, as NumPy broadcasts them."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands but "
                         f"{len(operands)} were given.")
    ellipsis_ndim = 0
    labels = []
    for term, x in zip(terms, operands):
        named = term.replace("...", "")
        if not all(c.isalpha() for c in named) or term.count("...") > 1 or "." in named:
            raise ValueError(f"einsum: subscript {term!r} must use letters and at most one '...'.")
        if "..." in term:
            extra = x.ndim - len(named)
            if extra < 0:
                raise ValueError(f"einsum: operand of shape {tuple(x.shape)} has fewer axes than "
                                 f"subscript {term!r} names.")
            ellipsis_ndim = max(ellipsis_ndim, extra)
            head, tail = term.split("...")
            labels.append((list(head), extra, list(tail)))
        else:
            if len(named) != x.ndim:
                raise ValueError(f"einsum: subscript {term!r} names {len(named)} axes but its operand has "
                                 f"shape {tuple(x.shape)}; use '...' for the others.")
            labels.append((list(named), 0, []))
    dots = [f".{i}" for i in range(ellipsis_ndim)]
    in_labels = [head + dots[ellipsis_ndim - extra:] + tail for head, extra, tail in labels]
    if arrow:
        if not all(c.isalpha() for c in output.replace("...", "")) or output.count("...") > 1:
            raise ValueError(f"einsum: output subscript {output!r} must use letters and at most one '...'.")
        head, _, tail = output.partition("...")
        out_labels = list(head) + (dots if "..." in output else []) + list(tail)
        if len(set(out_labels)) != len(out_labels):
            raise ValueError(f"einsum: output subscript {output!r} repeats a label.")
        missing = set(out_labels) - set(itertools.chain.from_iterable(in_labels))
        if missing:
            raise ValueError(f"einsum: output labels {sorted(missing)} do not appear in any input of "
                             f"{subscripts!r}.")
    else:
        counts = {}
        for label in itertools.chain.from_iterable(in_labels):
            counts[label] = counts.get(label, 0) + 1
        out_labels = dots + sorted(c for c, n in counts.items() if n == 1 and not c.startswith("."))
    return in_labels, out_labels


def _interleaved_to_subscripts(args):
    """``einsum(x, [0, 1], y, [1, 2], [0, 2])`` -> ``('ab,bc->ac', [x, y])``."""
    output = args[-1] if len(args) % 2 else None
    pairs = args[:-1] if len(args) % 2 else args
    operands, terms = list(pairs[0::2]), list(pairs[1::2])

    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def letters(sublist):
        return "".join("..." if s is Ellipsis else alphabet[int(s)] for s in sublist)
    subscripts = ",".join(letters(t) for t in terms)
    if output is not None:
        subscripts += "->" + letters(output)
    return subscripts, operands


def _sum_labels(x, labels, keep):
    """Sum ``x``'s axes whose labels are not in ``keep``; returns (x, labels)."""
    axes = [i for i, label in enumerate(labels) if label not in keep]
    return _reduce_sum(x, axes), [label for label in labels if label in keep]


def _take_diagonals(x, labels):
    """Replace each label repeated within one operand by its diagonal."""
    while len(set(labels)) != len(labels):
        label = next(lb for lb in labels if labels.count(lb) > 1)
        i = labels.index(label)
        j = labels.index(label, i + 1)
        if x.shape[i] != x.shape[j]:
            raise NumbaxTypeError(f"einsum: label {label!r} repeats within one operand over axes of sizes "
                                  f"{x.shape[i]} and {x.shape[j]}; a diagonal needs equal sizes.")
        x = _diagonal_last_two(_move_to_end(x, (i, j)), 0)
        labels = [lb for k, lb in enumerate(labels) if k not in (i, j)] + [label]
    return x, labels


def _contract_pair(a, a_labels, b, b_labels, keep, precision, preferred):
    a, a_labels = _sum_labels(a, a_labels, set(b_labels) | keep)
    b, b_labels = _sum_labels(b, b_labels, set(a_labels) | keep)
    shared = [label for label in a_labels if label in b_labels]
    batch = [label for label in shared if label in keep]
    contract = [label for label in shared if label not in keep]
    if a.dtype != b.dtype:  # an earlier contraction accumulated into preferred
        a, b = lax.convert_element_type(a, preferred), lax.convert_element_type(b, preferred)
    out = lax_dot.dot_general(
        a, b, ((tuple(a_labels.index(c) for c in contract), tuple(b_labels.index(c) for c in contract)),
               (tuple(a_labels.index(c) for c in batch), tuple(b_labels.index(c) for c in batch))),
        precision=precision, preferred_element_type=preferred)
    labels = batch + [lb for lb in a_labels if lb not in shared] + [lb for lb in b_labels if lb not in shared]
    return out, labels


def einsum(subscripts, /, *operands, out=None, optimize="auto", precision=None, preferred_element_type=None):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', x, y)``.

    Args:
      subscripts: comma-separated labels per operand (letters, at most one
        ``...`` each), optionally ``->`` and the output labels; without ``->``
        the output is the ellipsis axes then the labels used once, sorted.
        The interleaved form ``einsum(x, [0, 1], y, [1, 2], [0, 2])`` works too.
      *operands: arrays; a label's size must agree across operands (or be 1,
        which broadcasts).
      optimize: False contracts operands left to right; anything else
        (``'auto'``, ``'greedy'``, True, ...) contracts the pair with the smallest
        result first.
      precision, preferred_element_type: as in ``lax.dot_general``.

    Returns:
      Array with the output labels' sizes, in the promoted dtype (or
      ``preferred_element_type``).
    """
    if out is not None:
        raise NotImplementedError("einsum: the out= argument is not supported (numbax arrays are immutable).")
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved_to_subscripts((subscripts,) + operands)
    if not operands:
        raise ValueError("einsum needs at least one operand.")
    operands = _promoted("einsum", *operands)
    result_dtype = operands[0].dtype
    preferred = _preferred(preferred_element_type)
    in_labels, out_labels = _parse_subscripts(subscripts, operands)
    sizes = {}
    for x, labels in zip(operands, in_labels):
        for label, size in zip(labels, x.shape):
            known = sizes.get(label)
            if known is None or known == 1:
                sizes[label] = size
            elif size not in (1, known):
                name = "an ellipsis axis" if label.startswith(".") else f"label {label!r}"
                raise NumbaxTypeError(f"einsum: {name} has sizes {known} and {size} in {subscripts!r} "
                                      f"(operand shapes {[tuple(o.shape) for o in operands]}); sizes must "
                                      "match or be 1.")
    terms = []
    for x, labels in zip(operands, in_labels):
        # An axis of size 1 where its label is larger elsewhere broadcasts:
        # drop it here, as if this operand did not have the label.
        ones = [i for i, label in enumerate(labels)
                if x.shape[i] == 1 and sizes[label] != 1 and labels.count(label) == 1]
        if ones:
            x = lax_shape.reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in ones))
            labels = [label for i, label in enumerate(labels) if i not in ones]
        terms.append(_take_diagonals(x, labels))

    def keep_for(others):  # labels still needed once ``others`` remain
        return set(out_labels).union(*(set(labels) for _, labels in others))

    terms = [_sum_labels(x, labels, keep_for(terms[:i] + terms[i + 1:]))
             for i, (x, labels) in enumerate(terms)]
    while len(terms) > 1:
        i, j = 0, 1
        if optimize is not False and len(terms) > 2:
            def result_size(pair):
                (_, la), (_, lb) = terms[pair[0]], terms[pair[1]]
                rest = [t for k, t in enumerate(terms) if k not in pair]
                keep = keep_for(rest)
                return int(np.prod([sizes[lb_] for lb_ in set(la) | set(lb) if lb_ in keep], dtype=np.int64))
            i, j = min(itertools.combinations(range(len(terms)), 2), key=result_size)
        rest = [t for k, t in enumerate(terms) if k not in (i, j)]
        (a, la), (b, lb) = terms[i], terms[j]
        terms = [_contract_pair(a, la, b, lb, keep_for(rest), precision, preferred)] + rest
    (x, labels), = terms
    x, labels = _sum_labels(x, labels, set(out_labels))
    x = lax_shape.transpose(x, tuple(labels.index(label) for label in out_labels))
    final = preferred or result_dtype
    return x if x.dtype == final else lax.convert_element_type(x, final)
