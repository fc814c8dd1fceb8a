"""The fusion planner, shared by every backend.

``plan_jaxpr`` turns a jaxpr's equations into a list of steps:

- ``FusedLoop``: a chain of elementwise equations (math, comparisons,
  ``broadcast_in_dim``, ``convert_element_type``, ``select_n``, ``iota``, ...)
  of one output shape, computed in one loop nest. Values used only inside the
  chain stay scalars in the loop body; the rest are materialized.
- ``Scalar``: an elementwise equation of rank 0 (a scalar statement).
- ``Kernel``: any other equation, lowered by its primitive's own rule.

A primitive declares how it lowers with ``prim.def_lowering(rule, backend)``:
a string template (``"math.sin({0})"``) or an ``Elementwise`` makes it
fusible; a function ``rule(ctx, eqn)`` is a kernel that emits its own code.
"""

from ..core import DropVar, Jaxpr, JaxprEqn, Literal
from ..interpreters.partial_eval import has_debug_effects

# Primitives whose calls have effects visible outside the program: they keep
# their place in program order (nothing is hoisted across them).
ORDERED_EFFECTS = {"debug_callback", "pure_callback", "numba_call"}


class Elementwise:
    """How one output element of an elementwise primitive is computed.

    ``template``: a format string over the operand element expressions
    (``"{0} + {1}"``) or a function ``template(operands, eqn, index)`` returning
    the expression (``index`` names the loop indices, for ``iota``).
    ``index_map``: for primitives whose operand is indexed differently from
    the output (``broadcast_in_dim``), ``index_map(eqn)`` gives, for each
    operand dimension, the output dimension it follows.
    """

    __slots__ = ("template", "index_map")

    def __init__(self, template, index_map=None):
        self.template = template
        self.index_map = index_map

    def render(self, operands, eqn, index):
        if callable(self.template):
            return self.template(operands, eqn, index)
        return self.template.format(*operands)


def lowering_rule(primitive, backend):
    """The primitive's rule for ``backend`` (a backend-specific rule wins over
    a shared one). Raises ``NotImplementedError`` naming the primitive."""
    rule = primitive.lowerings.get(backend)
    if rule is None:
        rule = primitive.lowerings.get("all")
    if rule is None:
        raise NotImplementedError(
            f"jit cannot lower the primitive '{primitive.name}' for backend '{backend}': it has no "
            f"lowering rule. Call the function without numbax.jit, or add a rule next to "
            f"{primitive.name}_p's definition with {primitive.name}_p.def_lowering(rule, '{backend}').")
    if isinstance(rule, str):
        rule = primitive.lowerings[backend if backend in primitive.lowerings else "all"] = Elementwise(rule)
    return rule


class FusedLoop:
    def __init__(self, shape):
        self.shape = shape
        self.eqns = []
        self.outputs = []  # vars materialized as arrays (used after the loop)

    def describe(self):
        names = ", ".join(e.primitive.name for e in self.eqns)
        return f"fused loop {list(self.shape)}: {names}"


class Scalar:
    def __init__(self, eqn):
        self.eqn = eqn

    def describe(self):
        return f"scalar: {self.eqn.primitive.name}"


class Kernel:
    def __init__(self, eqn):
        self.eqn = eqn

    def describe(self):
        return f"kernel: {self.eqn.primitive.name}"


def use_counts(eqns, outvars):
    """``{var: how many times it is read}`` by ``eqns`` and as one of ``outvars``."""
    uses = {}
    for v in [v for eqn in eqns for v in eqn.invars] + list(outvars):
        if not isinstance(v, Literal):
            uses[v] = uses.get(v, 0) + 1
    return uses


def with_invars(eqn, names):
    """``eqn`` reading ``names.get(v, v)`` for each input var (itself when none is renamed)."""
    if not any(not isinstance(v, Literal) and v in names for v in eqn.invars):
        return eqn
    invars = [v if isinstance(v, Literal) else names.get(v, v) for v in eqn.invars]
    return JaxprEqn(invars, eqn.outvars, eqn.primitive, eqn.params, eqn.source_info)


def _live_eqns(eqns, outvars):
    """The equations whose outputs are needed (dead code removed)."""
    live = {v for v in outvars if not isinstance(v, Literal)}
    kept = []
    for eqn in reversed(eqns):
        if eqn.primitive.name in ORDERED_EFFECTS or has_debug_effects(eqn) or any(
                not isinstance(v, DropVar) and v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(v for v in eqn.invars if not isinstance(v, Literal))
    return kept[::-1]


# Shape changes that keep every element of a splat (an array of one repeated value) equal.
_SPLAT_PRESERVING = {"broadcast_in_dim", "reshape", "squeeze", "expand_dims"}


def _fold_splats(eqns, backend):
    """Read arrays that are a scalar broadcast (``broadcast_in_dim`` of a
    literal or rank-0 value, possibly reshaped) as that scalar in the
    elementwise equations using them. Reverse mode seeds every ``sum`` with
    such a ``ones`` array; reading it through a broadcast index would stop
    the fused loop from running flat over contiguous memory (so it would not
    vectorize when its last axis is short), and the array itself, once no
    longer read, is dead code."""
    splat = {}  # var -> the Literal or rank-0 var all its elements equal
    out = []
    for eqn in eqns:
        name = eqn.primitive.name
        if name in _SPLAT_PRESERVING and len(eqn.invars) == 1 and len(eqn.outvars) == 1:
            (x,), (y,) = eqn.invars, eqn.outvars
            if x.aval.dtype == y.aval.dtype:
                if not x.aval.shape and name == "broadcast_in_dim":
                    splat[y] = x
                elif not isinstance(x, Literal) and x in splat:
                    splat[y] = splat[x]
        rule = lowering_rule(eqn.primitive, backend)
        if (isinstance(rule, Elementwise) and rule.index_map is None and name != "iota"
                and not eqn.primitive.multiple_results and eqn.outvars[0].aval.shape):
            eqn = with_invars(eqn, splat)
        out.append(eqn)
    return out


def _fold_transposed_dots(eqns, outvars):
    """Replace ``transpose(dot_general(a, b))`` that swaps the free axes of
    the product (keeping batch axes first) by ``dot_general(b, a)``, which
    computes the transposed result directly: no product buffer and no strided
    copy. Reverse-mode matmuls produce this pattern for every weight
    gradient (``(x.T @ g).T``). Only when the product has no other use."""
    uses = use_counts(eqns, outvars)
    producer = {eqn.outvars[0]: k for k, eqn in enumerate(eqns) if eqn.primitive.name == "dot_general"}
    replaced, dropped = {}, set()
    for k, eqn in enumerate(eqns):
        if eqn.primitive.name != "transpose" or isinstance(eqn.invars[0], Literal):
            continue
        product = eqn.invars[0]
        d = producer.get(product)
        if d is None or uses.get(product) != 1 or d in replaced:
            continue
        dot = eqns[d]
        (lc, rc), (lb, rb) = dot.params["dimension_numbers"]
        lhs, rhs = dot.invars
        nb = len(lb)
        nl = lhs.aval.ndim - len(lc) - nb
        nr = rhs.aval.ndim - len(rc) - nb
        swap = tuple(range(nb)) + tuple(range(nb + nl, nb + nl + nr)) + tuple(range(nb, nb + nl))
        if tuple(eqn.params["permutation"]) != swap:
            continue
        params = dict(dot.params, dimension_numbers=((rc, lc), (rb, lb)))
        replaced[d] = JaxprEqn([rhs, lhs], eqn.outvars, dot.primitive, params, dot.source_info)
        dropped.add(k)
    if not replaced:
        return eqns
    return [replaced.get(k, eqn) for k, eqn in enumerate(eqns) if k not in dropped]


def _value_numbers(jaxpr):
    """``{var: number}`` for the values of ``jaxpr`` such that two vars with the
    same number hold the same value whatever the inputs: inputs are numbered by
    position, equations by (primitive, params, operand numbers) (hash-consing,
    so the keys stay small however deep the expressions nest)."""
    table, numbers = {}, {}
    for position, var in enumerate(jaxpr.invars):
        numbers[var] = table.setdefault(("in", position), len(table))
    for var in jaxpr.constvars:
        numbers[var] = table.setdefault(("const", id(var)), len(table))
    for eqn in jaxpr.eqns:
        operands = tuple(("lit", repr(v.val), str(v.aval.dtype)) if isinstance(v, Literal) else numbers[v]
                         for v in eqn.invars)
        base = (eqn.primitive.name, repr(sorted(eqn.params.items())), operands)
        for k, var in enumerate(eqn.outvars):
            numbers[var] = table.setdefault((base, k), len(table))
    return numbers


def _merge_recomputed_scans(eqns, outvars):
    """Drop a ``scan`` whose outputs a later scan over the same operands also
    computes, moving that later scan up to its place. Reverse mode makes this
    pattern: the primal scan runs once for the primal outputs and again,
    stacking per-step values, for the backward pass (W8's RNN gradient ran its
    forward GEMMs twice). Each output of the earlier scan must match one of the
    later's by value number: carries by the update of the carry in the same
    position (same initial value, same update, so equal at every step), ys by
    their expression in the body."""
    final = {v for v in outvars if not isinstance(v, Literal)}
    scans = [k for k, eqn in enumerate(eqns) if eqn.primitive.name == "scan" and not has_debug_effects(eqn)]
    replaced, dropped, renamed = {}, set(), {}
    for a in scans:
        # the program's outputs keep their vars: an earlier scan computing one stays
        if a in dropped or a in replaced or any(v in final for v in eqns[a].outvars):
            continue
        first = eqns[a]
        for b in scans:
            later = eqns[b]
            if b <= a or b in dropped or b in replaced or later.invars != first.invars:
                continue
            if any(later.params[p] != first.params[p] for p in ("length", "reverse", "num_consts", "num_carry")):
                continue
            mapping = _scan_output_match(first, later)
            if mapping is None:
                continue
            replaced[a], dropped = later, dropped | {b}
            renamed.update(mapping)
            break
    if not replaced:
        return eqns
    return [with_invars(replaced.get(k, eqn), renamed) for k, eqn in enumerate(eqns) if k not in dropped]


def _scan_output_match(first, later):
    """``{output var of first: output var of later}`` covering every output of
    ``first``, or None when one has no equal in ``later``."""
    nk = first.params["num_carry"]
    a_body, b_body = first.params["jaxpr"], later.params["jaxpr"]
    if a_body.consts or b_body.consts:
        return None
    # Number both bodies in one table, later's body reading first's inputs.
    b_names = dict(zip(b_body.jaxpr.invars, a_body.jaxpr.invars))
    combined = _value_numbers(Jaxpr([], a_body.jaxpr.invars, [],
                                    a_body.jaxpr.eqns + [with_invars(e, b_names) for e in b_body.jaxpr.eqns]))
    a_out = [combined.get(v) if not isinstance(v, Literal) else None for v in a_body.jaxpr.outvars]
    b_out = [combined.get(b_names.get(v, v)) if not isinstance(v, Literal) else None for v in b_body.jaxpr.outvars]
    mapping = {}
    for k, (var, number) in enumerate(zip(first.outvars, a_out)):
        if number is None:
            return None
        if k < nk:
            if b_out[k] != number:
                return None
            target = later.outvars[k]
        else:
            ys = [j for j in range(nk, len(b_out)) if b_out[j] == number]
            if not ys:
                return None
            target = later.outvars[ys[0]]
        if isinstance(target, DropVar):
            return None
        if not isinstance(var, DropVar):
            mapping[var] = target
    return mapping



def plan_jaxpr(jaxpr, backend):
    """The steps computing ``jaxpr``, in an order that respects dependencies.

    Greedy and single pass, with one open loop per output shape: an
    elementwise equation joins the open loop of its shape (so the per-leaf
    chains of a ``tree.map`` over leaves of different sizes each fuse into one
    loop, however their equations interleave). A loop is closed (placed in the
    step list) only when something outside it reads one of its values: a
    kernel, an effect, or an equation of another shape. Scalar statements and
    kernels that read no open loop are placed before the open loops, which is
    valid because an open loop's inputs are all defined before it is placed.
    """
    eqns = _live_eqns(_fold_splats(_live_eqns(jaxpr.eqns, jaxpr.outvars), backend), jaxpr.outvars)
    eqns = _fold_transposed_dots(_merge_recomputed_scans(eqns, jaxpr.outvars), jaxpr.outvars)
    uses = {}
    for index, eqn in enumerate(eqns):
        for v in eqn.invars:
            if not isinstance(v, Literal):
                uses.setdefault(v, set()).add(index)
    final = {v for v in jaxpr.outvars if not isinstance(v, Literal)}
    steps = []
    open_loops = {}  # shape -> (FusedLoop, ids of its equations)
    producer = {}  # var -> shape of the open loop computing it

    def close(shape):
        loop, ids = open_loops.pop(shape)
        for eqn in loop.eqns:
            for v in eqn.outvars:
                producer.pop(v, None)
                if v in final or any(i not in ids for i in uses.get(v, ())):
                    loop.outputs.append(v)
        steps.append(loop)

    def close_readers_of(eqn, keep=None):
        """Close the open loops (other than ``keep``'s) that compute an input of ``eqn``."""
        for v in eqn.invars:
            if not isinstance(v, Literal) and v in producer and producer[v] != keep:
                close(producer[v])

    for index, eqn in enumerate(eqns):
        rule = lowering_rule(eqn.primitive, backend)
        if isinstance(rule, Elementwise) and not eqn.primitive.multiple_results:
            shape = eqn.outvars[0].aval.shape
            if not shape:
                close_readers_of(eqn)
                steps.append(Scalar(eqn))
                continue
            close_readers_of(eqn, keep=shape)
            if shape not in open_loops:
                open_loops[shape] = (FusedLoop(shape), set())
            loop, ids = open_loops[shape]
            loop.eqns.append(eqn)
            ids.add(index)
            for v in eqn.outvars:
                producer[v] = shape
            continue
        if eqn.primitive.name in ORDERED_EFFECTS:
            for shape in list(open_loops):
                close(shape)
        else:
            close_readers_of(eqn)
        steps.append(Kernel(eqn))
    for shape in list(open_loops):
        close(shape)
    return steps


def describe_plan(steps):
    """One line per step, for ``lower().as_text()`` and ``NUMBAX_DEBUG=2``."""
    return "\n".join(step.describe() for step in steps)
