"""Compiling a program in a worker process while its first calls run op by op.

numba takes seconds to compile a large program (W4's MLP train step of
benchmarks/jit_workloads.py: about 5 s, nearly all of it numba's typing and
LLVM), while evaluating the same jaxpr op by op, as without ``jit``, takes
milliseconds. So when a program is not in the disk cache yet, its calls
evaluate the jaxpr eagerly and a worker process
(``python -m numbax._src.backends.compile_worker``) compiles the program's
module file into numba's disk cache; the first call after the worker has
finished loads the machine code from there (a cache hit) and runs it, and so
does every later call. The first result comes as fast as eager mode gives
it, and a long run gets the compiled speed seconds later.

This is chosen only where it cannot cost much (``wanted``):
- the disk cache is persistent (the worker's code reaches us through it);
- the jaxpr holds no ``while_loop`` (its trip count is unknown: op by op it
  may take far longer than compiling) and at most ``INTERPRET_MAX_OPS``
  equation evaluations, counting a scan body once per step;
- it calls no user numba kernel (``numba_call``), which a worker could not
  import (host callbacks are fine: they run in the caller's process).
Workers run one at a time per CPU core but one (the caller keeps a core);
later programs wait in a queue, running op by op meanwhile. A worker left
running when the process exits still finishes, so the next process starts
warm. Processes that need the same program at once start one worker between
them: it holds a claim file next to the program (``cache.claim_compile``)
and the others watch for its result.

Off with ``NUMBAX_BACKGROUND_COMPILE=0`` or
``numbax.config.update("numbax_background_compile", False)``: every first
call then compiles before it returns. ``jitted.lower(*args).compile()``
always waits for the compiled program.
"""

import collections
import contextlib
import os
import subprocess
import sys
import threading
import time

from ..config import config
from ..core import subjaxprs
from . import cache

# Equation evaluations one op-by-op call may take (each ~5-20 us of Python
# around its NumPy work): 10 000 keeps an interpreted call under ~0.2 s of
# overhead, a small fraction of the compile it stands in for.
INTERPRET_MAX_OPS = 10_000

# Programs handed to a worker in this process (read by tests).
stats = {"workers": 0}

_pending = collections.deque()  # jobs not started yet, oldest first
_running = []
_lock = threading.RLock()  # guards the two lists (jit may be called from several threads)
_interpreting = threading.local()  # .depth: op-by-op evaluations in progress on this thread


def max_workers():
    return max(1, (os.cpu_count() or 2) - 1)


def _eager_ops(jaxpr):
    """Equation evaluations of one op-by-op run of ``jaxpr`` (inf with a while loop)."""
    total = 0
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "while":
            return float("inf")
        inner = sum(_eager_ops(sub) for sub in subjaxprs(eqn))
        total += 1 + inner * (eqn.params["length"] if eqn.primitive.name == "scan" else 1)
    return total


def _calls_kernels(jaxpr):
    """Whether ``jaxpr`` calls a user's numba kernel (``numba_call``): a worker
    process cannot import it (it lives in this process's registry)."""
    return any(eqn.primitive.name == "numba_call" or any(map(_calls_kernels, subjaxprs(eqn)))
               for eqn in jaxpr.eqns)


def wanted(jaxpr, persistent):
    """Whether a program of ``jaxpr`` not yet in the disk cache should compile in
    a worker while its calls run op by op (see the module docstring)."""
    return (persistent and config.numbax_background_compile
            and _eager_ops(jaxpr) <= INTERPRET_MAX_OPS and not _calls_kernels(jaxpr))


def interpreting():
    """True inside an op-by-op evaluation: a nested program's call then evaluates
    op by op too and starts no worker (the enclosing program inlines it)."""
    return getattr(_interpreting, "depth", 0) > 0


@contextlib.contextmanager
def interpreting_scope():
    _interpreting.depth = getattr(_interpreting, "depth", 0) + 1
    try:
        yield
    finally:
        _interpreting.depth -= 1


def signature_spec(types):
    """The program's argument types, ``(dtype, ndim)`` pairs, as text the worker
    parses (``parse_signature``): ``dtype:ndim`` per argument, comma-separated."""
    return ",".join(f"{dtype.str}:{ndim}" for dtype, ndim in types)


def numba_signature(types):
    """numba argument types for ``(dtype, ndim)`` pairs: read-only C-contiguous
    arrays, the one specialization every program is compiled for (cpu.py)."""
    import numba
    return tuple(numba.types.Array(numba.from_dtype(dtype), ndim, "C", readonly=True) for dtype, ndim in types)


def parse_signature(spec):
    """``numba_signature`` of ``signature_spec`` text (in the worker)."""
    import numpy as np
    items = [item.rsplit(":", 1) for item in spec.split(",")] if spec else []
    return numba_signature((np.dtype(dtype), int(ndim)) for dtype, ndim in items)


def compile_program(program, signature):
    """``program.compile(signature)`` (a program's numba dispatcher), without
    numba's warning that a program compiled ``parallel=True`` for its
    kernels' sake (cpu.render_program) has no parallel loop of its own."""
    import warnings

    from numba.core.errors import NumbaPerformanceWarning
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"\s*The keyword argument 'parallel=True' was specified",
                                NumbaPerformanceWarning)
        program.compile(signature)


class Job:
    """A worker compiling the program file ``path`` for ``spec`` (or, when
    another process's worker already compiles that program, a watch on it)."""

    def __init__(self, path, spec):
        self.path = path
        self.spec = spec
        self.process = None
        self.finished = False
        self.succeeded = False

    def command(self):
        return [sys.executable, "-m", "numbax._src.backends.compile_worker", self.path, self.spec]

    def _start(self):
        _running.append(self)
        if not cache.claim_compile(self.path):
            return  # another process's worker compiles it: watch its claim (_poll)
        # The worker must import this numbax even when the caller found it
        # through a sys.path entry the environment does not name.
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        path = os.environ.get("PYTHONPATH")
        env = dict(os.environ, PYTHONPATH=package_root + (os.pathsep + path if path else ""))
        try:
            self.process = subprocess.Popen(
                self.command(), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=None if os.environ.get("NUMBAX_DEBUG") else subprocess.DEVNULL)
        except OSError:
            cache.release_compile(self.path)
            self._finish(1)

    def _poll(self):
        """The worker's exit status, or None while it runs."""
        if self.process is not None:
            return self.process.poll()
        if cache.is_compiled(self.path):
            return 0
        return None if cache.compile_claimed(self.path) else 1  # 1: that worker failed or died

    def _finish(self, returncode):
        if self.process is not None:
            cache.release_compile(self.path)  # the worker does too, unless it died first
        self.finished = True
        self.succeeded = returncode == 0
        if self in _running:
            _running.remove(self)

    def done(self):
        """Whether the worker has finished (successfully or not); starts queued workers."""
        if not self.finished:
            with _lock:
                _pump()
        return self.finished

    def wait(self):
        """Block until the worker has finished, starting it now if it still waits in the queue."""
        with _lock:
            if self in _pending:
                _pending.remove(self)
                self._start()
        while not self.finished:
            if self.process is not None:
                self.process.wait()
            with _lock:
                returncode = None if self.finished else self._poll()
                if returncode is not None:
                    self._finish(returncode)
            if not self.finished:
                time.sleep(0.05)  # another process's worker: nothing to block on but its files
        with _lock:
            _pump()


def _pump():
    for job in list(_running):
        returncode = job._poll()
        if returncode is not None:
            job._finish(returncode)
    while _pending and len(_running) < max_workers():
        _pending.popleft()._start()


def submit(path, spec):
    """A ``Job`` compiling program file ``path`` for ``spec`` (started now or queued)."""
    job = Job(path, spec)
    with _lock:
        stats["workers"] += 1
        _pending.append(job)
        _pump()
    return job


def wait_all():
    """Block until every worker started or queued in this process has finished."""
    while _running or _pending:
        (_running or list(_pending))[0].wait()
