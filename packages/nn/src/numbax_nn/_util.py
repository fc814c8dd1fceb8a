"""Small helpers shared by the layers."""

import numbax.numpy as jnp


def promote_dtype(*arrays, dtype=None):
    """Cast the non-None ``arrays`` to ``dtype`` (default: their common type),
    as Flax's layers do before computing."""
    present = [a for a in arrays if a is not None]
    if dtype is None:
        dtype = jnp.result_type(*present)
    return [None if a is None else jnp.asarray(a, dtype) for a in arrays]


def canonicalize_tuple(value, length, what):
    """An int or a sequence of ``length`` ints as a tuple."""
    if isinstance(value, int):
        return (value,) * length
    value = tuple(value)
    if len(value) != length:
        raise ValueError(f"{what} must be an int or {length} ints, got {value!r}.")
    return value
