"""Dtypes: canonicalization (x64 flag), weak types and JAX's promotion lattice.

Python scalars are *weakly typed*: ``f32_array + 1.0`` stays float32 because
the weak float defers to any concrete float. The lattice below is JAX's
(https://jax.readthedocs.io/en/latest/type_promotion.html); the result type of
two dtypes is their least upper bound in it.
"""

import functools

import numpy as np

from .config import config

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))

SIGNED = (int8, int16, int32, int64)
UNSIGNED = (uint8, uint16, uint32, uint64)
INTEGERS = SIGNED + UNSIGNED
FLOATS = (float16, float32, float64)
NUMBERS = INTEGERS + FLOATS
ALL = (bool_,) + NUMBERS
_SUPPORTED = frozenset(ALL)

_SHORT_NAMES = {
    bool_: "bool", int8: "i8", int16: "i16", int32: "i32", int64: "i64",
    uint8: "u8", uint16: "u16", uint32: "u32", uint64: "u64",
    float16: "f16", float32: "f32", float64: "f64",
}

_NARROW = {int64: int32, uint64: uint32, float64: float32}


def short_name(dtype):
    """``f32``, ``i32``, ``bool``: the names jaxprs print."""
    return _SHORT_NAMES[np.dtype(dtype)]


def is_float(dtype):
    return np.dtype(dtype).kind == "f"


def is_int(dtype):
    return np.dtype(dtype).kind in "iu"


def is_unsigned(dtype):
    return np.dtype(dtype).kind == "u"


def is_bool(dtype):
    return np.dtype(dtype) == bool_


def canonicalize_dtype(dtype):
    """The dtype numbax really uses for ``dtype``: 64-bit types become 32-bit
    unless x64 is enabled. Raises ``TypeError`` for unsupported dtypes."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{dtype!r} is not a valid dtype; use e.g. numbax.numpy.float32.") from None
    if dt not in _SUPPORTED:
        raise TypeError(
            f"dtype {dt} is not supported by numbax; supported dtypes are bool, "
            "int8-int64, uint8-uint64, float16, float32 and float64 (complex is not supported yet).")
    if not config.x64_enabled:
        return _NARROW.get(dt, dt)
    return dt


def default_float_dtype():
    return float64 if config.x64_enabled else float32


def default_int_dtype():
    return int64 if config.x64_enabled else int32


def default_uint_dtype():
    return uint64 if config.x64_enabled else uint32


# --- promotion lattice --------------------------------------------------------
# Nodes are dtypes plus the weak kinds "i*" and "f*" (Python int and float).
_WEAK_INT, _WEAK_FLOAT = "i*", "f*"
_LATTICE_UP = {
    bool_: [_WEAK_INT],
    _WEAK_INT: [uint8, int8],
    uint8: [uint16, int16], uint16: [uint32, int32], uint32: [uint64, int64], uint64: [_WEAK_FLOAT],
    int8: [int16], int16: [int32], int32: [int64], int64: [_WEAK_FLOAT],
    _WEAK_FLOAT: [float16], float16: [float32], float32: [float64], float64: [],
}


def _upper_bounds(node):
    seen, stack = {node}, [node]
    while stack:
        for up in _LATTICE_UP[stack.pop()]:
            if up not in seen:
                seen.add(up)
                stack.append(up)
    return seen


_UPPER = {node: frozenset(_upper_bounds(node)) for node in _LATTICE_UP}


@functools.lru_cache(maxsize=None)
def _join(a, b):
    common = _UPPER[a] & _UPPER[b]
    # The least upper bound is the common bound that every other one lies above.
    for node in common:
        if common <= _UPPER[node]:
            return node
    raise AssertionError(f"promotion lattice has no join for {a} and {b}")


def _to_node(dtype, weak):
    dt = np.dtype(dtype)
    if weak:
        if dt.kind in "iu":
            return _WEAK_INT
        if dt.kind == "f":
            return _WEAK_FLOAT
    return dt


def _from_node(node):
    if node == _WEAK_INT:
        return default_int_dtype(), True
    if node == _WEAK_FLOAT:
        return default_float_dtype(), True
    return canonicalize_dtype(node), False


@functools.lru_cache(maxsize=4096)
def _result_type_cached(pairs, x64):
    node = _to_node(*pairs[0])
    for pair in pairs[1:]:
        node = _join(node, _to_node(*pair))
    return _from_node(node)


def result_type_with_weak(*dtypes_and_weak):
    """Promote ``(dtype, weak_type)`` pairs with JAX's rules.

    Returns ``(dtype, weak_type)``: the result is weak only if every input was
    weak of the same kind (e.g. two Python floats)."""
    try:
        return _result_type_cached(dtypes_and_weak, config.x64_enabled)
    except TypeError:  # unhashable: dtypes given as names or types
        return _result_type_cached(tuple((np.dtype(d), bool(w)) for d, w in dtypes_and_weak),
                                   config.x64_enabled)


def dtype_and_weak_of(x):
    """``(dtype, weak_type)`` of an array, tracer, NumPy value or Python scalar."""
    kind = type(x)
    if kind is float:
        return default_float_dtype(), True
    if kind is int:
        return default_int_dtype(), True
    if kind is bool:
        return bool_, False
    aval = getattr(x, "aval", None)
    if aval is not None:
        return aval.dtype, aval.weak_type
    if isinstance(x, bool):
        return bool_, False
    if isinstance(x, int):
        return default_int_dtype(), True
    if isinstance(x, float):
        return default_float_dtype(), True
    if isinstance(x, complex):
        raise TypeError("complex numbers are not supported by numbax yet.")
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return canonicalize_dtype(dtype), False
    return canonicalize_dtype(np.asarray(x).dtype), False


def result_type(*args):
    """The dtype JAX would give to an operation combining ``args``
    (arrays, dtypes or Python scalars)."""
    pairs = []
    for x in args:
        if isinstance(x, (np.dtype, type, str)):
            pairs.append((canonicalize_dtype(x), False))
        else:
            pairs.append(dtype_and_weak_of(x))
    return result_type_with_weak(*pairs)[0]


def promote_types(a, b):
    """Promote two dtypes (neither weak), as ``jnp.promote_types``."""
    return result_type_with_weak((canonicalize_dtype(a), False), (canonicalize_dtype(b), False))[0]


def _dtype_of(x):
    """The dtype of an array, or ``x`` itself for dtypes and scalar types
    (``np.float32`` is a class whose ``dtype`` attribute is a descriptor)."""
    if isinstance(x, type) or isinstance(x, np.dtype):
        return x
    return getattr(x, "dtype", x)


class finfo(np.finfo):
    """``np.finfo`` for numbax float dtypes (canonicalized by the x64 flag)."""

    def __new__(cls, dtype):
        return np.finfo(canonicalize_dtype(_dtype_of(dtype)))


class iinfo(np.iinfo):
    """``np.iinfo`` for numbax integer dtypes (canonicalized by the x64 flag)."""

    def __new__(cls, dtype):
        return np.iinfo(canonicalize_dtype(_dtype_of(dtype)))
