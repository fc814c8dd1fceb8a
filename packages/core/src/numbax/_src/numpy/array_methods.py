"""Operators and methods of ``numbax.Array`` (concrete arrays and tracers
alike), each forwarding to the ``numbax.numpy`` function of the same meaning.
Attached once, when ``numbax.numpy`` is imported."""

import numpy as np

from .. import core


_ARRAY_LIKE = (core.Array, np.ndarray, np.generic, bool, int, float)


def _operator(fun):
    # Unknown operand types get NotImplemented, so Python asks the other
    # operand (e.g. pytest.approx) or raises its own TypeError, as with JAX.
    def method(self, other):
        if not isinstance(other, _ARRAY_LIKE):
            return NotImplemented
        return fun(self, other)
    method.__name__ = fun.__name__
    return method


def _reflected(fun):
    def method(self, other):
        if not isinstance(other, _ARRAY_LIKE):
            return NotImplemented
        return fun(other, self)
    method.__name__ = f"r{fun.__name__}"
    return method


_BINARY_OPERATORS = {
    "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
    "floordiv": "floor_divide", "mod": "remainder", "pow": "power", "matmul": "matmul",
    "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
    "lshift": "left_shift", "rshift": "right_shift", "divmod": "divmod",
}
_COMPARISONS = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
                "gt": "greater", "ge": "greater_equal"}
_UNARY = {"neg": "negative", "pos": "positive", "abs": "abs", "invert": "invert"}

# Methods that take the array first and pass everything else through.
_METHODS = ["sum", "mean", "prod", "max", "min", "var", "std", "argmax", "argmin", "any", "all",
            "cumsum", "cumprod", "ravel", "squeeze", "swapaxes", "clip", "round", "dot", "take",
            "sort", "argsort", "nonzero", "trace", "diagonal", "repeat", "conj", "conjugate",
            "ptp", "searchsorted"]


def _method(name):
    def method(self, *args, **kwargs):
        from ... import numpy as jnp
        return getattr(jnp, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


def _reshape(self, *shape, order="C"):
    """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``; -1 infers one size."""
    from ... import numpy as jnp
    if len(shape) == 1 and not isinstance(shape[0], int) and hasattr(shape[0], "__len__"):
        shape = tuple(shape[0])
    return jnp.reshape(self, shape, order=order)


def _transpose(self, *axes):
    from ... import numpy as jnp
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
        axes = axes[0]
    return jnp.transpose(self, axes or None)


def _astype(self, dtype, copy=False):
    from ... import numpy as jnp
    return jnp.astype(self, dtype)


def _getitem(self, index):
    from .indexing import getitem
    return getitem(self, index)


def _at(self):
    from .indexing import IndexUpdateHelper
    return IndexUpdateHelper(self)


def attach_array_methods(namespace):
    """Install operators and methods on ``numbax.Array`` (so on tracers too)."""
    cls = core.Array
    for op, fun in _BINARY_OPERATORS.items():
        if hasattr(namespace, fun):
            fun = getattr(namespace, fun)
            setattr(cls, f"__{op}__", _operator(fun))
            setattr(cls, f"__r{op}__", _reflected(fun))
    for op, fun in _COMPARISONS.items():
        if hasattr(namespace, fun):
            setattr(cls, f"__{op}__", _operator(getattr(namespace, fun)))
    for op, fun in _UNARY.items():
        if hasattr(namespace, fun):
            setattr(cls, f"__{op}__", _method(fun))
    for name in _METHODS:
        if hasattr(namespace, name):
            setattr(cls, name, _method(name))
    cls.flatten = lambda self, order="C": namespace.ravel(self, order)
    cls.reshape = _reshape
    cls.transpose = _transpose
    cls.astype = _astype
    cls.__getitem__ = _getitem
    cls.at = property(_at)
    cls.T = property(lambda self: _transpose(self))
    cls.mT = property(lambda self: namespace.swapaxes(self, -1, -2))
    cls.real = property(lambda self: self)
    cls.imag = property(lambda self: namespace.zeros_like(self))
    cls.nbytes = property(lambda self: self.size * self.dtype.itemsize)
    cls.itemsize = property(lambda self: self.dtype.itemsize)
    # == compares elementwise, so arrays stay unhashable (as in JAX).
    cls.__hash__ = None
