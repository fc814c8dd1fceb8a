"""Contractions: the ``dot_general`` primitive and its wrappers ``dot``,
``batch_matmul``, plus ``Precision``.

``dimension_numbers = ((lhs_contracting, rhs_contracting), (lhs_batch,
rhs_batch))``; the result's axes are the batch axes, then lhs's free axes,
then rhs's free axes (JAX's order). The eager impl transposes both operands
to ``(batch, free, contracting)`` and calls one batched ``np.matmul``, so
floats go through BLAS.
"""

import enum
import math

import numpy as np

from .. import dtypes
from ..core import NumbaxTypeError, ShapedArray
from ..interpreters import jvp as _ad
from ..interpreters.transpose import is_undefined_primal
from .shape import transpose
from .utils import coerce_scalars, shape_error, standard_primitive

__all__ = ["Precision", "dot_general", "dot", "batch_matmul"]


class Precision(enum.Enum):
    """Requested accuracy of a contraction on accelerators: ``DEFAULT``,
    ``HIGH`` or ``HIGHEST``. Also spelled as strings (``"highest"``,
    ``"float32"``, ``"tensorfloat32"``, ``"bfloat16"``, ...). NumPy computes at
    full precision whatever is asked; the value is kept as a param so jaxprs
    match JAX's."""

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2

    @classmethod
    def _missing_(cls, value):
        aliases = {"default": cls.DEFAULT, "fastest": cls.DEFAULT, "bfloat16": cls.DEFAULT,
                   "high": cls.HIGH, "bfloat16_3x": cls.HIGH, "tensorfloat32": cls.HIGH,
                   "highest": cls.HIGHEST, "float32": cls.HIGHEST}
        if isinstance(value, str) and value.lower() in aliases:
            return aliases[value.lower()]
        return None


def canonicalize_precision(precision):
    """None, one Precision (or string) for both operands, or a pair of them ->
    None or a ``(Precision, Precision)`` tuple (a hashable param)."""
    if precision is None:
        return None
    try:
        if isinstance(precision, (str, Precision)):
            return (Precision(precision),) * 2
        if isinstance(precision, (tuple, list)) and len(precision) == 2:
            return tuple(Precision(p) for p in precision)
    except ValueError:
        pass
    raise ValueError(f"precision must be None, a lax.Precision, one of the strings 'default', 'high', "
                     f"'highest' (or 'bfloat16', 'tensorfloat32', 'float32'), or a pair of those; got "
                     f"{precision!r}.")


def check_preferred_element_type(prim_name, operand_dtype, preferred, *avals):
    """The result dtype of a contraction: ``preferred`` when given. It may widen
    the operands' type, or turn integers into floats, but not narrow it."""
    if preferred is None:
        return operand_dtype
    preferred = np.dtype(preferred)
    if dtypes.is_float(operand_dtype) and not dtypes.is_float(preferred):
        raise shape_error(prim_name, f"cannot accumulate {operand_dtype.name} operands into "
                          f"preferred_element_type={preferred.name}; use a float type", *avals)
    same_kind = operand_dtype.kind == preferred.kind
    if same_kind and preferred.itemsize < operand_dtype.itemsize:
        raise shape_error(prim_name, f"preferred_element_type={preferred.name} is narrower than the "
                          f"operands' {operand_dtype.name}; cast the result afterwards instead", *avals)
    return preferred


# --- dot_general ------------------------------------------------------------------------

def _check_dims(prim_name, dims, ndim, what, *avals):
    if any(not 0 <= d < ndim for d in dims):
        raise shape_error(prim_name, f"got {what} dimensions {dims} out of range for a rank-{ndim} "
                          "operand (axes must be non-negative and less than the rank)", *avals)
    if len(set(dims)) != len(dims):
        raise shape_error(prim_name, f"got repeated {what} dimensions {dims}", *avals)


def _dot_general_abstract_eval(lhs, rhs, *, dimension_numbers, precision, preferred_element_type):
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = dimension_numbers
    if lhs.dtype != rhs.dtype:
        raise shape_error("dot_general", "requires operands of the same dtype; convert one with "
                          "lax.convert_element_type (numbax.numpy.matmul/dot promote for you)", lhs, rhs)
    for dims, aval, what in ((lhs_contract + lhs_batch, lhs, "lhs"), (rhs_contract + rhs_batch, rhs, "rhs")):
        _check_dims("dot_general", dims, aval.ndim, f"{what} contracting+batch", lhs, rhs)
    if len(lhs_batch) != len(rhs_batch) or len(lhs_contract) != len(rhs_contract):
        raise shape_error("dot_general", f"needs as many lhs as rhs batch dimensions and contracting "
                          f"dimensions, got dimension_numbers={dimension_numbers}", lhs, rhs)
    for name, ldims, rdims in (("batch", lhs_batch, rhs_batch), ("contracting", lhs_contract, rhs_contract)):
        lsizes = tuple(lhs.shape[d] for d in ldims)
        rsizes = tuple(rhs.shape[d] for d in rdims)
        if lsizes != rsizes:
            raise shape_error("dot_general", f"requires {name} dimensions of equal sizes, got {lsizes} "
                              f"(lhs axes {ldims}) and {rsizes} (rhs axes {rdims})", lhs, rhs)
    dtype = check_preferred_element_type("dot_general", lhs.dtype, preferred_element_type, lhs, rhs)
    batch = tuple(lhs.shape[d] for d in lhs_batch)
    lhs_free = tuple(s for i, s in enumerate(lhs.shape) if i not in lhs_contract + lhs_batch)
    rhs_free = tuple(s for i, s in enumerate(rhs.shape) if i not in rhs_contract + rhs_batch)
    return ShapedArray(batch + lhs_free + rhs_free, dtype, lhs.weak_type and rhs.weak_type)


def _dot_general_impl(lhs, rhs, *, dimension_numbers, precision, preferred_element_type):
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = dimension_numbers
    lhs_free = [i for i in range(lhs.ndim) if i not in lhs_contract + lhs_batch]
    rhs_free = [i for i in range(rhs.ndim) if i not in rhs_contract + rhs_batch]

    def sizes(x, dims):
        return [x.shape[d] for d in dims]

    batch, m = sizes(lhs, lhs_batch), sizes(lhs, lhs_free)
    k, n = math.prod(sizes(lhs, lhs_contract)), sizes(rhs, rhs_free)
    out_dtype = np.dtype(preferred_element_type or lhs.dtype)
    # float16 has no BLAS kernel and loses accuracy when accumulated in half.
    compute = np.dtype(np.float32) if out_dtype == dtypes.float16 else out_dtype
    a = np.transpose(lhs, lhs_batch + tuple(lhs_free) + lhs_contract).astype(compute, copy=False)
    b = np.transpose(rhs, rhs_batch + rhs_contract + tuple(rhs_free)).astype(compute, copy=False)
    out = np.matmul(a.reshape(math.prod(batch), math.prod(m), k), b.reshape(math.prod(batch), k, math.prod(n)))
    out = out.reshape(batch + m + n)
    if out.dtype == out_dtype:
        return out
    with np.errstate(over="ignore"):
        return out.astype(out_dtype)


dot_general_p = standard_primitive("dot_general", _dot_general_abstract_eval, _dot_general_impl)


# Bilinear: the tangent is dot_general(t_lhs, rhs) + dot_general(lhs, t_rhs).
# The cotangent of one operand contracts the output cotangent with the other
# operand over that operand's free axes (batch axes stay batch axes); the
# result lists batch, own free, then own contracting axes (in the order of the
# other operand's contracting axes), and a transpose puts them back in place.

def _dot_general_transpose_operand(ct, other, this_aval, this_dims, other_dims, ct_free, *,
                                   dimension_numbers, precision):
    """Cotangent of the operand with axes ``this_dims = (contract, batch)``,
    whose free axes sit at ``ct_free`` in ``ct``; ``other`` is the other operand."""
    this_contract, this_batch = this_dims
    other_contract, other_batch = other_dims
    this_free = [i for i in range(this_aval.ndim) if i not in this_contract + this_batch]
    other_free = tuple(i for i in range(other.ndim) if i not in other_contract + other_batch)
    ct_batch = tuple(range(len(this_batch)))
    ct_other_free = tuple(i for i in range(len(this_batch), ct.ndim) if i not in ct_free)
    if other.dtype != ct.dtype:
        other = _convert(other, ct.dtype)
    out = dot_general_p.bind(ct, other, dimension_numbers=((ct_other_free, other_free), (ct_batch, other_batch)),
                             precision=precision, preferred_element_type=None)
    # out's axes: batch, this operand's free axes, then other's contracting axes in increasing order.
    paired = [this_contract[other_contract.index(d)] for d in sorted(other_contract)]
    source = list(this_batch) + this_free + paired
    out = transpose(out, tuple(int(i) for i in np.argsort(source)))
    if out.dtype != this_aval.dtype:
        out = _convert(out, this_aval.dtype)
    return out


def _convert(x, dtype):
    from .elementwise import convert_element_type_p
    return convert_element_type_p.bind(x, new_dtype=np.dtype(dtype), weak_type=False)


def _dot_general_transpose(ct, lhs, rhs, *, dimension_numbers, precision, preferred_element_type):
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = dimension_numbers
    n_batch = len(lhs_batch)
    lhs_nfree = lhs.aval.ndim - len(lhs_contract) - n_batch
    lhs_free_at = tuple(range(n_batch, n_batch + lhs_nfree))
    rhs_free_at = tuple(range(n_batch + lhs_nfree, ct.ndim))
    kw = dict(dimension_numbers=dimension_numbers, precision=precision)
    ct_lhs = ct_rhs = None
    if is_undefined_primal(lhs):
        ct_lhs = _dot_general_transpose_operand(ct, rhs, lhs.aval, (lhs_contract, lhs_batch),
                                                (rhs_contract, rhs_batch), lhs_free_at, **kw)
    if is_undefined_primal(rhs):
        ct_rhs = _dot_general_transpose_operand(ct, lhs, rhs.aval, (rhs_contract, rhs_batch),
                                                (lhs_contract, lhs_batch), rhs_free_at, **kw)
    return [ct_lhs, ct_rhs]


_ad.defjvp(dot_general_p, lambda g, lhs, rhs, **params: dot_general_p.bind(g, rhs, **params),
           lambda g, lhs, rhs, **params: dot_general_p.bind(lhs, g, **params))
dot_general_p.def_transpose(_dot_general_transpose)


def _canonical_dimension_numbers(dimension_numbers):
    try:
        (lc, rc), (lb, rb) = dimension_numbers
        return tuple(tuple(tuple(int(d) for d in dims) for dims in pair) for pair in ((lc, rc), (lb, rb)))
    except (TypeError, ValueError):
        raise TypeError(f"dot_general: dimension_numbers must be ((lhs_contracting, rhs_contracting), "
                        f"(lhs_batch, rhs_batch)) with tuples of ints, e.g. (((1,), (0,)), ((), ())) for "
                        f"a matrix product; got {dimension_numbers!r}.") from None


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """General tensor contraction.

    Args:
      lhs, rhs: arrays of one dtype (Python scalars take the other's dtype).
      dimension_numbers: ``((lhs_contracting, rhs_contracting), (lhs_batch,
        rhs_batch))``, tuples of non-negative axes; paired axes must have equal sizes.
      precision: None, a ``Precision`` or string, or a pair of them.
      preferred_element_type: dtype of the result (e.g. int32 for int8 operands).

    Returns:
      Array of shape ``batch + lhs_free + rhs_free`` (the free axes in order),
      of dtype ``preferred_element_type`` or the operands' dtype.
    """
    lhs, rhs = coerce_scalars(lhs, rhs)
    preferred = None if preferred_element_type is None else dtypes.canonicalize_dtype(preferred_element_type)
    return dot_general_p.bind(lhs, rhs, dimension_numbers=_canonical_dimension_numbers(dimension_numbers),
                              precision=canonicalize_precision(precision),
                              preferred_element_type=preferred)


def dot(lhs, rhs, precision=None, preferred_element_type=None):
    """Vector/matrix product: ``(n,)·(n,) -> ()``, ``(m, n)·(n,) -> (m,)``,
    ``(n,)·(n, k) -> (k,)``, ``(m, n)·(n, k) -> (m, k)``. Other ranks need
    ``dot_general`` (or ``numbax.numpy.matmul``/``dot``)."""
    lhs, rhs = coerce_scalars(lhs, rhs)
    if not (1 <= lhs.ndim <= 2 and 1 <= rhs.ndim <= 2):
        raise TypeError(f"lax.dot takes vectors and matrices, got shapes {tuple(lhs.shape)} and "
                        f"{tuple(rhs.shape)}; use lax.dot_general with explicit dimension_numbers, or "
                        "numbax.numpy.matmul / numbax.numpy.dot for batched and scalar cases.")
    if lhs.shape[-1] != rhs.shape[0]:
        raise NumbaxTypeError(f"lax.dot got incompatible shapes {tuple(lhs.shape)} and {tuple(rhs.shape)}: "
                              f"the last axis of lhs ({lhs.shape[-1]}) must match the first axis of rhs "
                              f"({rhs.shape[0]}).")
    return dot_general(lhs, rhs, (((lhs.ndim - 1,), (0,)), ((), ())), precision, preferred_element_type)


def batch_matmul(lhs, rhs, precision=None):
    """Batched matrix product of ``(..., m, k)`` and ``(..., k, n)`` with equal
    leading (batch) shapes -> ``(..., m, n)``."""
    lhs, rhs = coerce_scalars(lhs, rhs)
    if lhs.ndim < 2 or lhs.ndim != rhs.ndim or lhs.shape[:-2] != rhs.shape[:-2]:
        raise TypeError(f"batch_matmul needs operands of equal rank >= 2 with equal batch shapes, got "
                        f"{tuple(lhs.shape)} and {tuple(rhs.shape)}; broadcast them first "
                        "(numbax.numpy.matmul broadcasts for you).")
    batch = tuple(range(lhs.ndim - 2))
    return dot_general(lhs, rhs, (((lhs.ndim - 1,), (rhs.ndim - 2,)), (batch, batch)), precision)


# --- batching rules ------------------------------------------------------------
# One dot_general on the batched operands, never a loop. Axes of an unbatched
# operand shift past the batch axis where it was inserted. Both batched: the
# two batch axes pair up as a new leading batch dimension of the contraction,
# so the result's batch axis is 0. One batched: its batch axis is just another
# free axis of that operand, landing among the result's free axes in order.

def _shift_past(dims, bdim):
    """Axes ``dims`` of the unbatched operand as axes of the one with batch axis ``bdim``."""
    return tuple(d + (d >= bdim) for d in dims)


def _dot_general_batch(args, dims, *, dimension_numbers, precision, preferred_element_type):
    (lhs, rhs), (lbd, rbd) = args, dims
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = dimension_numbers
    if lbd is not None:
        lhs_contract, lhs_batch = _shift_past(lhs_contract, lbd), _shift_past(lhs_batch, lbd)
    if rbd is not None:
        rhs_contract, rhs_batch = _shift_past(rhs_contract, rbd), _shift_past(rhs_batch, rbd)
    n_batch = len(lhs_batch)
    if lbd is not None and rbd is not None:
        lhs_batch, rhs_batch, out_dim = (lbd,) + lhs_batch, (rbd,) + rhs_batch, 0
    elif lbd is not None:
        # lbd's rank among lhs's free axes (axes neither contracted nor batch).
        out_dim = n_batch + sum(1 for i in range(lbd) if i not in lhs_contract + lhs_batch)
    else:
        lhs_free = lhs.ndim - len(lhs_contract) - n_batch
        out_dim = n_batch + lhs_free + sum(1 for i in range(rbd) if i not in rhs_contract + rhs_batch)
    out = dot_general_p.bind(lhs, rhs, dimension_numbers=((lhs_contract, rhs_contract), (lhs_batch, rhs_batch)),
                             precision=precision, preferred_element_type=preferred_element_type)
    return out, out_dim


dot_general_p.def_batch(_dot_general_batch)

# --- end of batching rules ---


# --- lowering (jit) --------------------------------------------------------------------------
# Operands are arranged as (batch, rows, contraction) and (batch, contraction,
# columns), like the impl; float operands go to BLAS through ``rt.matmul_serial`` / ``rt.matmul_split``
# (NumPy's OpenBLAS gemm, backends/blas.py: one call per batch element, written
# into the output), integers through loops. An operand whose rows and
# contraction only need swapping is passed as a transposed view, which BLAS
# reads in place.

def _as_matrices(ctx, x, batch, rows, contract, compute):
    """Expression of ``x`` as a (batch, rows, contract) array, or (rows,
    contract) without batch axes: a view when ``x``'s axes are in that order
    or in (batch, contract, rows) order, else a transposed copy."""
    shape = x.aval.shape
    size = lambda dims: math.prod(shape[d] for d in dims)  # noqa: E731
    lead = (size(batch),) if batch else ()
    expr = ctx.array(x)
    if x.aval.dtype != compute:
        expr = f"{expr}.astype({ctx.np_dtype(compute)})"

    def reshaped(target):
        return expr if target == tuple(shape) else f"{expr}.reshape({target})"
    in_order = tuple(range(len(shape)))
    if batch + rows + contract == in_order:
        return reshaped(lead + (size(rows), size(contract)))
    if batch + contract + rows == in_order:
        swapped = reshaped(lead + (size(contract), size(rows)))
        return f"{swapped}.transpose((0, 2, 1))" if batch else f"{swapped}.T"
    expr = f"np.ascontiguousarray({expr}.transpose({batch + rows + contract}))"
    return f"{expr}.reshape({lead + (size(rows), size(contract))})"


# Below this many multiply-adds per matrix product, a batched dot is a loop
# nest rather than one BLAS call per batch element: a call costs ~1 us, while
# numba runs a vectorized 16x16x16 product loop in about as long (the
# per-example outer products of benchmarks/jit_workloads.py W6 are 16x1x16).
SMALL_PRODUCT = 16 ** 3


def _dot_loops(ctx, eqn, lfree, rfree, compute):
    """Print dot_general as a loop nest over the operands as they are (no
    transposed copies): output axes outermost (batch, lhs free), then the
    contraction, then the rhs free axes innermost, accumulating into the
    output so the inner loop runs along its last (contiguous) axis. Each
    output element sums its products in contraction order."""
    (lhs, rhs), (out,) = eqn.invars, eqn.outvars
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    lshape, rshape = lhs.aval.shape, rhs.aval.shape
    dtype = ctx.np_dtype(compute)
    result = ctx.fresh("a")
    # A contraction over one element (the size-1 axes of per-example outer
    # products, x[:, :, None] * g[:, None, :] under vmap(grad)) is a single
    # product: its axes index 0, with no zero fill and no read-modify-write.
    accumulate = math.prod(lshape[d] for d in lc) != 1
    out_shape = tuple(out.aval.shape) or (1,)
    ctx.emit(f"{result} = rt.full({out_shape}, 0, {dtype})" if accumulate
             else f"{result} = rt.empty({out_shape}, {dtype})")
    lead = [lshape[d] for d in lb] + [lshape[d] for d in lfree]
    contract = [lshape[d] for d in lc] if accumulate else []
    shape = lead + contract + [rshape[d] for d in rfree]
    work = math.prod(shape) if shape else 1
    # the first loop may run in parallel only when it is an output axis (no two threads share a slot)
    with ctx.loops(shape, parallel=None if lead else False, work=work) as names:
        nb, nl, nc = len(lb), len(lfree), len(contract)
        batch_i, lfree_i, rfree_i = names[:nb], names[nb:nb + nl], names[nb + nl + nc:]
        contract_i = names[nb + nl:nb + nl + nc] if accumulate else ["0"] * len(lc)
        lidx, ridx = [None] * len(lshape), [None] * len(rshape)
        for dims, index in ((lb, batch_i), (lfree, lfree_i), (lc, contract_i)):
            for d, name in zip(dims, index):
                lidx[d] = name
        for dims, index in ((rb, batch_i), (rfree, rfree_i), (rc, contract_i)):
            for d, name in zip(dims, index):
                ridx[d] = name
        slot = f"{result}[{', '.join(batch_i + lfree_i + rfree_i) or '0'}]"
        a, b = ctx.element(lhs, lidx), ctx.element(rhs, ridx)
        if accumulate:
            ctx.emit(f"{slot} = {dtype}({slot} + {dtype}({a}) * {dtype}({b}))")
        else:
            ctx.emit(f"{slot} = {dtype}({dtype}({a}) * {dtype}({b}))")
    ctx.define(out, f"{result}.reshape({tuple(out.aval.shape) or (1,)})")


def _dot_general_lower(ctx, eqn):
    (lhs, rhs), (out,) = eqn.invars, eqn.outvars
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    lfree = tuple(i for i in range(lhs.aval.ndim) if i not in lc + lb)
    rfree = tuple(i for i in range(rhs.aval.ndim) if i not in rc + rb)
    compute = np.dtype(out.aval.dtype)
    batch = math.prod(lhs.aval.shape[d] for d in lb)
    m = math.prod(lhs.aval.shape[d] for d in lfree)
    k = math.prod(lhs.aval.shape[d] for d in lc)
    n = math.prod(rhs.aval.shape[d] for d in rfree)
    blas = compute.kind == "f" and compute.itemsize >= 4 and k > 0
    if not blas or (batch > 1 and m * n * k <= SMALL_PRODUCT):
        _dot_loops(ctx, eqn, lfree, rfree, compute)
        return
    a = _as_matrices(ctx, lhs, tuple(lb), lfree, tuple(lc), compute)
    b = _as_matrices(ctx, rhs, tuple(rb), tuple(rc), rfree, compute)
    result = ctx.fresh("a")
    if not lb:
        ctx.emit(f"{result} = rt.empty(({m}, {n}), {ctx.np_dtype(compute)})")
        ctx.emit(f"{ctx.matmul(m * n * k)}({a}, {b}, {result})")
    else:
        la, rb_ = ctx.fresh("lhs"), ctx.fresh("rhs")
        ctx.emit(f"{la} = {a}")
        ctx.emit(f"{rb_} = {b}")
        ctx.emit(f"{result} = rt.empty(({batch}, {m}, {n}), {ctx.np_dtype(compute)})")
        with ctx.loops((batch,), parallel=False) as (i,):
            ctx.emit(f"{ctx.matmul(m * n * k)}({la}[{i}], {rb_}[{i}], {result}[{i}])")
    ctx.define(out, f"{result}.reshape({tuple(out.aval.shape) or (1,)})")


dot_general_p.def_lowering(_dot_general_lower, "cpu")
