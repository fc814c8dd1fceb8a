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

from ..core import DropVar, Literal

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


def _live_eqns(jaxpr):
    """The equations whose outputs are needed (dead code removed)."""
    live = {v for v in jaxpr.outvars if not isinstance(v, Literal)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if eqn.primitive.name in ORDERED_EFFECTS or any(
                not isinstance(v, DropVar) and v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(v for v in eqn.invars if not isinstance(v, Literal))
    return kept[::-1]


def plan_jaxpr(jaxpr, backend):
    """The steps computing ``jaxpr``, in an order that respects dependencies.

    Greedy and single pass: an elementwise equation joins the open loop when it
    has the loop's shape. Scalar statements and kernels that do not read the
    open loop's values are placed before it, so it stays open across them.
    """
    eqns = _live_eqns(jaxpr)
    uses = {}
    for index, eqn in enumerate(eqns):
        for v in eqn.invars:
            if not isinstance(v, Literal):
                uses.setdefault(v, set()).add(index)
    final = {v for v in jaxpr.outvars if not isinstance(v, Literal)}
    steps, loop, in_loop, loop_eqn_ids = [], None, set(), set()

    def close():
        nonlocal loop
        if loop is not None:
            for eqn in loop.eqns:
                for v in eqn.outvars:
                    if v in final or any(i not in loop_eqn_ids for i in uses.get(v, ())):
                        loop.outputs.append(v)
            steps.append(loop)
        loop = None
        in_loop.clear()
        loop_eqn_ids.clear()

    for index, eqn in enumerate(eqns):
        rule = lowering_rule(eqn.primitive, backend)
        reads_loop = any(not isinstance(v, Literal) and v in in_loop for v in eqn.invars)
        if isinstance(rule, Elementwise) and not eqn.primitive.multiple_results:
            shape = eqn.outvars[0].aval.shape
            if not shape:
                if reads_loop:
                    close()
                steps.append(Scalar(eqn))
                continue
            if loop is None or loop.shape != shape:
                close()
                loop = FusedLoop(shape)
            loop.eqns.append(eqn)
            loop_eqn_ids.add(index)
            in_loop.update(eqn.outvars)
            continue
        if reads_loop or eqn.primitive.name in ORDERED_EFFECTS:
            close()
        steps.append(Kernel(eqn))
    close()
    return steps


def describe_plan(steps):
    """One line per step, for ``lower().as_text()`` and ``NUMBAX_DEBUG=2``."""
    return "\n".join(step.describe() for step in steps)
