"""Large programs compiled in pieces.

numba's compile time grows faster than the size of the function it compiles.
Measured on five numbax_random samplers jitted together (5826 equations):
62 s as one program, 28 s in pieces of 200 equations, 22 s in pieces of 400.
So a jaxpr above ``CHUNK_EQNS`` equations is cut into consecutive pieces, each
compiled (and disk-cached) as its own program, and run one after another,
passing values between them. A piece costs one more dispatch (about 10-20 us
of Python around it: 0.31 ms per call for those 15 pieces against 0.14 ms
whole) and fused loops do not cross a cut; programs that large compute far
longer than that, and the compile saved is tens of seconds.
"""

from ..core import ClosedJaxpr, DropVar, Jaxpr, Literal, subjaxprs

CHUNK_EQNS = 400


def count_eqns(jaxpr):
    """Equations of ``jaxpr``, those of its sub-jaxprs (loop bodies, branches) included."""
    return sum(1 + sum(map(count_eqns, subjaxprs(eqn))) for eqn in jaxpr.eqns)


def split_jaxpr(jaxpr, max_eqns=None):
    """Consecutive pieces of ``jaxpr`` (inputs: its constvars then invars), each
    a Jaxpr of about ``max_eqns`` equations whose invars are the values it reads
    from earlier pieces or the inputs and whose outvars are the values later
    pieces or the outputs read. ``max_eqns`` defaults to ``CHUNK_EQNS``."""
    max_eqns = CHUNK_EQNS if max_eqns is None else max_eqns
    groups, current, size = [], [], 0
    for eqn in jaxpr.eqns:
        weight = count_eqns(Jaxpr([], [], [], [eqn]))
        if current and size + weight > max_eqns:
            groups.append(current)
            current, size = [], 0
        current.append(eqn)
        size += weight
    if current:
        groups.append(current)
    needed_after = [set() for _ in groups]  # vars read by later pieces or the outputs
    later = {v for v in jaxpr.outvars if not isinstance(v, Literal)}
    for k in range(len(groups) - 1, -1, -1):
        needed_after[k] = set(later)
        for eqn in groups[k]:
            later.update(v for v in eqn.invars if not isinstance(v, Literal))
    pieces = []
    for eqns, needed in zip(groups, needed_after):
        defined = {v for eqn in eqns for v in eqn.outvars}
        inputs = []
        for eqn in eqns:
            for v in eqn.invars:
                if not isinstance(v, Literal) and v not in defined and v not in inputs:
                    inputs.append(v)
        outputs = [v for eqn in eqns for v in eqn.outvars if not isinstance(v, DropVar) and v in needed]
        pieces.append(Jaxpr([], inputs, outputs, eqns))
    return pieces


class ChunkedExecutable:
    """Runs the pieces of a large program in order; the same interface as
    ``cpu.Executable`` (``program(*args)``, ``extra_consts``, ``source``)."""

    # ``program`` may be called from the start: each piece decides for itself
    # whether it runs compiled or op by op (background.py).
    compiled = True

    def __init__(self, closed, name, compile_piece):
        self.jaxpr = closed.jaxpr
        self.inputs = self.jaxpr.constvars + self.jaxpr.invars
        self.pieces = [(piece, compile_piece(ClosedJaxpr(piece, []), f"{name}_part{k}"))
                       for k, piece in enumerate(split_jaxpr(self.jaxpr))]
        self.extra_consts = []
        self.source = "\n\n".join(executable.source for _, executable in self.pieces)
        self.path = ", ".join(executable.path for _, executable in self.pieces)

    def program(self, *args):
        env = dict(zip(self.inputs, args))
        for piece, executable in self.pieces:
            outs = executable(*[env[v] for v in piece.invars])
            env.update(zip(piece.outvars, outs))
        return tuple(v.val._value if isinstance(v, Literal) else env[v] for v in self.jaxpr.outvars)

    __call__ = program

    def finish_compiling(self):
        for _, executable in self.pieces:
            executable.finish_compiling()
