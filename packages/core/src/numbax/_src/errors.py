"""The exceptions users meet, each with the fix in its message.

Example:
  >>> @numbax.jit
  ... def f(x):
  ...     if x > 0:          # raises TracerBoolConversionError
  ...         return x
  ...     return -x
  Use ``numbax.lax.cond(x > 0, lambda x: x, lambda x: -x, x)`` instead, or mark
  ``x`` static with ``jit(f, static_argnums=0)``.
"""

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_frame():
    """The innermost stack frame outside numbax (and outside functools/contextlib),
    as ``(filename, lineno, function)``, or None."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) and not filename.startswith("<frozen") \
                and os.path.basename(filename) not in ("functools.py", "contextlib.py"):
            return filename, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return None


def user_source_line():
    """`` (raised at examples/mlp.py:41 in loss)`` for messages, or ''."""
    where = user_frame()
    if where is None:
        return ""
    filename, lineno, function = where
    return f"\n  (at {filename}:{lineno}, in {function})"


class NumbaxTypeError(TypeError):
    """A shape or dtype mismatch in a primitive; the message names the
    primitive, the shapes/dtypes it saw and the user's source line."""


class ConcretizationTypeError(TypeError):
    """A traced value was used where a concrete Python value is needed.

    Inside ``jit`` (or ``make_jaxpr``) arrays are abstract: their shape and
    dtype are known but not their values. Use ``numbax.lax.cond``/``while_loop``
    for data-dependent control flow, or make the argument static with
    ``jit(f, static_argnums=...)``.
    """


class TracerBoolConversionError(ConcretizationTypeError):
    """``bool()`` (a Python ``if``/``while``/``and``/``or``) on a traced value."""


class TracerIntegerConversionError(ConcretizationTypeError):
    """``int()``, ``float()`` or ``operator.index`` on a traced value."""


class TracerArrayConversionError(TypeError):
    """``np.asarray`` on a traced value: NumPy cannot see inside a trace; use
    ``numbax.numpy`` functions, or ``numbax.pure_callback`` for host code."""


class UnexpectedTracerError(Exception):
    """A tracer escaped the transformation that created it (stored in a global,
    a list outside the function, or a closure) and was used after it ended.
    Return values from the transformed function instead of saving them aside."""


class NonConcreteBooleanIndexError(IndexError):
    """A boolean mask used as an index was traced: the result's shape would
    depend on the mask's values, which are unknown while tracing.

    Example:
      >>> numbax.jit(lambda x: x[x > 0])(x)   # raises
      Use ``jnp.where(x > 0, x, 0)`` to keep the shape, or
      ``x[jnp.nonzero(x > 0, size=N)]`` with a static bound ``N``.
    """
