"""Scans whose rows are independent, split into blocks of rows.

A recurrence over a batch, like an RNN's ``h = tanh(h @ w + x @ u)`` with ``h``
of shape (batch, hidden), computes each row of its carry from the same row of
the carry and of the step's inputs, and from values every row shares (the
weights). Its steps must run one after another, but its rows need not: a
block of rows can run the whole loop on its own. The CPU backend runs such a
scan as one loop per block of rows, the blocks in parallel on numba's threads
(one parallel region for the whole loop, instead of a small product per step
that no thread pool speeds up).

``split_rows(body, ...)`` decides whether a scan body is row-independent and
restates it for a block of rows: every carry, per-step input and per-step
output must have the batch as its leading axis, and every value that depends
on them must keep the batch leading, row by row (elementwise math, products
with a shared right-hand side, reductions over other axes, ...). Any other
equation on a row value keeps the scan whole.
"""

import math
import os

from ..core import Jaxpr, JaxprEqn, Literal, Var, subjaxprs
from .plan import ORDERED_EFFECTS, Elementwise, lowering_rule

# Blocks have at least this many rows: smaller products lose more to their
# fixed cost than a second thread gains.
MIN_ROWS = 8

# A scan is split only when its steps add up to this many element-operations
# (``work``; ~0.5 ms of serial arithmetic): waking numba's threads for the
# parallel loop costs up to ~0.1-0.5 ms on the 2-core VM with sleeping
# threads (OMP_WAIT_POLICY=PASSIVE, see cpu.py).
PARALLEL_WORK = 1 << 22

_REDUCTIONS = {"reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_and", "reduce_or",
               "reduce_xor", "argmax", "argmin"}


def _broadcast_params(eqn, is_row, batch, rows):
    """A ``broadcast_in_dim``'s params for a block: of a row value that stays
    leading, or of a shared value along every row (a bias broadcast over the
    batch: each block makes its own rows); None otherwise."""
    params = eqn.params
    dims, shape = params["broadcast_dimensions"], params["shape"]
    if not shape or shape[0] != batch:
        return None
    if (dims and dims[0] == 0) if is_row(eqn.invars[0]) else 0 not in dims:
        return dict(params, shape=(rows, *shape[1:]))
    return None


def _params_for_rows(eqn, is_row, batch, rows):
    """``eqn``'s params restated for a block of ``rows`` rows when its row
    operands (``is_row``) give results with the batch leading, row by row;
    None when they do not."""
    name, params = eqn.primitive.name, eqn.params
    operands = [v for v in eqn.invars if not isinstance(v, Literal)]
    rule = lowering_rule(eqn.primitive, "cpu")
    if isinstance(rule, Elementwise) and rule.index_map is None and name != "iota":
        # every array operand a row value, or shared with one row (broadcast to
        # all: a bias), or a scalar
        return params if all(is_row(v) or v.aval.shape[0] == 1 for v in operands if v.aval.shape) else None
    if name == "dot_general":
        (lc, _), (lb, _) = params["dimension_numbers"]
        lhs, rhs = eqn.invars
        return params if is_row(lhs) and not is_row(rhs) and not lb and 0 not in lc else None
    if name in _REDUCTIONS:
        return params if 0 not in params["axes"] else None
    if name == "transpose":
        return params if params["permutation"][0] == 0 else None
    if name == "squeeze":
        return params if 0 not in params["dimensions"] else None
    if name == "concatenate":
        return params if params["dimension"] != 0 and all(is_row(v) for v in operands) else None
    if name == "slice":
        start, limit, strides = params["start_indices"], params["limit_indices"], params["strides"]
        if start[0] != 0 or limit[0] != batch or (strides and strides[0] != 1):
            return None
        return dict(params, limit_indices=(rows, *limit[1:]))
    if name == "reshape":
        sizes, shape = params["new_sizes"], eqn.invars[0].aval.shape
        if params["dimensions"] is not None or not sizes or sizes[0] != batch \
                or math.prod(sizes[1:]) != math.prod(shape[1:]):
            return None
        return dict(params, new_sizes=(rows, *sizes[1:]))
    return None


def unchanged_carries(jaxpr, n_consts, n_carry):
    """For each carry of a scan body, whether the body returns it as is (a
    weight-gradient sum moved out of the loop leaves one): blocks share it."""
    return [jaxpr.outvars[k] is jaxpr.invars[n_consts + k] for k in range(n_carry)]


def batch_size(jaxpr, n_consts, n_carry):
    """The leading size of the first carry that changes, or None."""
    for k, same in enumerate(unchanged_carries(jaxpr, n_consts, n_carry)):
        shape = jaxpr.invars[n_consts + k].aval.shape
        if not same:
            return shape[0] if shape else None
    return None


def split_rows(jaxpr, n_consts, n_carry, rows):
    """``jaxpr`` (a scan body without consts: consts, carries, per-step inputs
    -> carries, per-step outputs) restated for a block of ``rows`` rows of
    the batch (``batch_size``), or None when it is not row independent. The
    consts and unchanged carries stay whole; every other input and every
    output has ``rows`` rows."""
    batch = batch_size(jaxpr, n_consts, n_carry)
    if jaxpr.constvars or batch is None or batch % rows or rows == batch:
        return None
    block = {}  # var of a row value -> its var in the block

    def restate(v):
        block[v] = Var(v.aval.update(shape=(rows, *v.aval.shape[1:])))
        return block[v]

    def is_row(v):
        return not isinstance(v, Literal) and v in block

    unchanged = unchanged_carries(jaxpr, n_consts, n_carry)
    for k, v in enumerate(jaxpr.invars[n_consts:]):
        if k < n_carry and unchanged[k]:
            continue
        if not v.aval.shape or v.aval.shape[0] != batch:
            return None
        restate(v)
    eqns = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in ORDERED_EFFECTS or any(True for _ in subjaxprs(eqn)):
            return None  # effects would run once per block; inner programs are not analysed
        if eqn.primitive.name == "broadcast_in_dim":
            params = _broadcast_params(eqn, is_row, batch, rows)
        elif any(is_row(v) for v in eqn.invars):
            params = _params_for_rows(eqn, is_row, batch, rows)
            if params is None:
                return None
        else:
            params = None
        if params is None:
            if any(is_row(v) for v in eqn.invars):
                return None
            eqns.append(eqn)  # a shared value: every block computes it
            continue
        if any(not v.aval.shape or v.aval.shape[0] != batch for v in eqn.outvars):
            return None
        invars = [block.get(v, v) if not isinstance(v, Literal) else v for v in eqn.invars]
        eqns.append(JaxprEqn(invars, [restate(v) for v in eqn.outvars], eqn.primitive, params,
                             eqn.source_info))
    outvars = [v if k < n_carry and unchanged[k] else block.get(v) for k, v in enumerate(jaxpr.outvars)]
    if any(v is None for v in outvars):
        return None
    return Jaxpr([], [block.get(v, v) for v in jaxpr.invars], outvars, eqns)


def work(jaxpr, length):
    """Rough element-operations of ``length`` steps of ``jaxpr``: a product
    counts its multiply-adds, any other equation its result's size."""
    total = 0
    for eqn in jaxpr.eqns:
        size = sum(math.prod(v.aval.shape) for v in eqn.outvars)
        if eqn.primitive.name == "dot_general":
            (lc, _), _ = eqn.params["dimension_numbers"]
            size *= math.prod(eqn.invars[0].aval.shape[d] for d in lc)
        total += size
    return total * length


def threads():
    """The threads numba will run parallel loops on, as it counts them
    (``NUMBA_NUM_THREADS``, else the CPUs), without importing numba."""
    try:
        return max(1, int(os.environ.get("NUMBA_NUM_THREADS", "") or os.cpu_count() or 1))
    except ValueError:
        return os.cpu_count() or 1


def blocks(batch, threads):
    """How many blocks of rows to split ``batch`` rows into for ``threads``
    threads: the most, up to ``threads``, that divide it into blocks of at
    least MIN_ROWS rows (1: do not split)."""
    for count in range(min(threads, batch // MIN_ROWS), 1, -1):
        if batch % count == 0:
            return count
    return 1
