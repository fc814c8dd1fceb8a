"""``ArrayImpl``: the concrete numbax array, an immutable NumPy buffer plus a
weak-type flag. Operators and methods come from ``numpy/array_methods.py``."""

import numpy as np

from . import dtypes
from .core import Array, ShapedArray


class ArrayImpl(Array):
    """A concrete array. Its buffer is never written after creation: every
    operation returns a new array, and ``np.asarray(x)`` gives a read-only view.
    """

    __slots__ = ("_value", "weak_type")

    def __init__(self, value, weak_type=False):
        self._value = value
        self.weak_type = weak_type

    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)

    @property
    def aval(self):
        return ShapedArray(self._value.shape, self._value.dtype, self.weak_type)

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._value, dtype=dtype, copy=True)
        view = self._value.view() if dtype is None or np.dtype(dtype) == self._value.dtype \
            else self._value.astype(dtype)
        view.flags.writeable = False
        return view

    def __repr__(self):
        prefix = "Array("
        dtype_name = self.dtype.name
        if self.size == 0:
            body = f"[], shape={self.shape}"
        elif self.ndim == 0:
            body = str(self._value[()])  # NumPy's shortest round-trip digits, as JAX prints
        else:
            body = np.array2string(self._value, separator=", ", prefix=prefix)
        weak = ", weak_type=True" if self.weak_type else ""
        return f"{prefix}{body}, dtype={dtype_name}{weak})"

    def __str__(self):
        return str(self._value)

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self._value.item(), spec)
        return format(str(self), spec)

    def __bool__(self):
        return bool(self._value)

    def __int__(self):
        return int(self._value)

    def __float__(self):
        return float(self._value)

    def __complex__(self):
        return complex(self._value)

    def __index__(self):
        if not dtypes.is_int(self.dtype) and not dtypes.is_bool(self.dtype):
            raise TypeError(f"only integer arrays can be used as an index, got {self.dtype}")
        return int(self._value)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object (a 0-d array)")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (ArrayImpl(row, self.weak_type) for row in self._value)

    def __reduce__(self):
        return (_rebuild, (np.asarray(self._value), self.weak_type))

    def item(self, *args):
        """The value as a Python scalar (``x.item()`` for size-1 arrays)."""
        return self._value.item(*args)

    def tolist(self):
        """Nested Python lists of Python scalars."""
        return self._value.tolist()

    def block_until_ready(self):
        """Wait until the value is computed (CPU arrays are always ready)."""
        return self

    def copy(self):
        return ArrayImpl(self._value.copy(), self.weak_type)

    def devices(self):
        from .devices import local_devices
        return {local_devices()[0]}

    @property
    def sharding(self):
        from .devices import SingleDeviceSharding, local_devices
        return SingleDeviceSharding(local_devices()[0])

    def is_fully_addressable(self):
        return True


def _rebuild(value, weak_type):
    return ArrayImpl(value, weak_type)


def to_canonical_numpy(x):
    """``(ndarray, weak_type)`` for a concrete value, with the dtype numbax uses.
    Python scalars become weakly typed 0-d arrays; buffers are copied when their
    dtype must change and otherwise shared (callers that keep them copy)."""
    if type(x) is ArrayImpl:
        return x._value, x.weak_type
    dtype, weak = dtypes.dtype_and_weak_of(x)
    return np.asarray(x, dtype=dtype), weak


def array_from_numpy(value, weak_type=False, copy=True):
    """A numbax array from a NumPy value, canonicalizing its dtype."""
    dtype = dtypes.canonicalize_dtype(np.asarray(value).dtype) if not isinstance(value, (bool, int, float)) \
        else dtypes.dtype_and_weak_of(value)[0]
    return ArrayImpl(np.array(value, dtype=dtype, copy=copy), weak_type)
