"""threefry-2x32 and the counter-based key operations, written with numbax.lax
integer ops so they run eagerly, under vmap and inside traced bodies (random.md §2, §4).

Key data is a uint32 array of shape ``(*batch, 2)``; every function here applies
per key and puts the batch axes first, which is how gamma draws one value per key
without a Python loop. Public functions take a single key (batch ``()``).
"""

import math
from typing import NamedTuple

import numpy as np

import numbax
import numbax.lax as lax

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _rotl(x, r):
    return lax.bitwise_or(lax.shift_left(x, np.uint32(r)), lax.shift_right_logical(x, np.uint32(32 - r)))


def threefry2x32(k0, k1, x0, x1):
    """The 20-round Threefry-2x32 block function on uint32 arrays.

    Args:
      k0, k1: key words; x0, x1: counter words. All uint32 arrays of the same rank whose
        shapes broadcast (size-1 axes stretch).

    Returns:
      ``(y0, y1)``, uint32 arrays of the broadcast shape.
    """
    ks = (k0, k1, lax.bitwise_xor(lax.bitwise_xor(k0, k1), _PARITY))
    x0, x1 = lax.add(x0, ks[0]), lax.add(x1, ks[1])
    for g in range(1, 6):
        for r in _ROTATIONS[(g - 1) % 2]:
            x0 = lax.add(x0, x1)
            x1 = lax.bitwise_xor(_rotl(x1, r), x0)
        x0 = lax.add(x0, ks[g % 3])
        # ks + g is key-sized, so add it there rather than over the whole counter array.
        x1 = lax.add(x1, lax.add(ks[(g + 1) % 3], np.uint32(g)))
    return x0, x1


def _key_words(keydata, ndim):
    """The two key words of ``keydata`` (``(*batch, 2)``), shaped ``(*batch, 1 x ndim)``."""
    batch = tuple(keydata.shape[:-1])
    words = [lax.reshape(lax.slice_in_dim(keydata, i, i + 1, axis=keydata.ndim - 1), batch + (1,) * ndim)
             for i in (0, 1)]
    return words


def _counter_block(keydata, shape):
    """``T(i >> 32, i & 0xFFFFFFFF)`` for the row-major index ``i`` of each element of ``shape``."""
    size = math.prod(shape)
    if size >= 2**32:
        raise NotImplementedError(f"numbax_random draws at most 2**32 - 1 values per call; shape {shape} "
                                  f"has {size}. Split the key and draw in pieces.")
    nbatch = keydata.ndim - 1
    counts = lax.reshape(lax.iota(np.uint32, size), (1,) * nbatch + tuple(shape))
    k0, k1 = _key_words(keydata, len(shape))
    return threefry2x32(k0, k1, lax.mul(counts, np.uint32(0)), counts)


def _stack_words(y0, y1):
    return lax.concatenate([lax.expand_dims(y0, (y0.ndim,)), lax.expand_dims(y1, (y1.ndim,))], y0.ndim)


def split_data(keydata, shape):
    """New keys ``(*batch, *shape, 2)``: key ``i`` is the block of counter ``i`` (partitionable mode)."""
    return _stack_words(*_counter_block(keydata, shape))


def fold_in_data(keydata, data):
    """``T(0, data)`` for a uint32 scalar ``data``: keys ``(*batch, 2)``."""
    k0, k1 = _key_words(keydata, 0)
    data = lax.convert_element_type(data, np.uint32)
    y0, y1 = threefry2x32(k0, k1, lax.mul(data, np.uint32(0)), lax.broadcast_in_dim(data, k0.shape, ()))
    return _stack_words(y0, y1)


def random_bits_data(keydata, width, shape):
    """Unsigned ``width``-bit random integers of shape ``(*batch, *shape)`` (random.md §4)."""
    y0, y1 = _counter_block(keydata, shape)
    if width == 64:
        if not numbax.config.jax_enable_x64:
            raise TypeError("64-bit random bits need 64-bit types; enable them with "
                            "numbax.config.update('jax_enable_x64', True).")
        hi, lo = (lax.convert_element_type(y, np.uint64) for y in (y0, y1))
        return lax.bitwise_or(lax.shift_left(hi, np.uint64(32)), lo)
    bits = lax.bitwise_xor(y0, y1)
    return bits if width == 32 else lax.convert_element_type(bits, np.dtype(f"uint{width}"))


def seed_data(seed):
    """Key data ``uint32[2]`` for an integer scalar seed (random.md §3)."""
    if isinstance(seed, (bool, int)):
        seed = int(np.int64(seed))  # OverflowError outside int64, as in JAX
        # x32 canonicalizes a Python seed to int32, whose logical shift by 32 is 0.
        hi = (seed >> 32) & 0xFFFFFFFF if numbax.config.jax_enable_x64 else 0
        return numbax.numpy.asarray(np.array([hi, seed & 0xFFFFFFFF], np.uint32))
    seed = numbax.numpy.asarray(seed)
    if seed.ndim != 0 or not np.issubdtype(seed.dtype, np.integer):
        raise TypeError(f"key: seed must be an integer scalar, got {seed.dtype}{list(seed.shape)}. "
                        "Pass e.g. key(0) or key(np.uint32(7)).")
    lo = lax.convert_element_type(seed, np.uint32)
    if seed.dtype.itemsize == 8:
        hi = lax.convert_element_type(lax.shift_right_logical(
            lax.convert_element_type(seed, np.uint64), np.uint64(32)), np.uint32)
    else:
        hi = lax.mul(lo, np.uint32(0))
    return _stack_words(hi, lo)


class PRNGImpl(NamedTuple):
    """A key implementation as a record (STYLE.md §9): shape of the key data and its operations."""
    name: str
    key_shape: tuple
    seed: object
    split: object
    fold_in: object
    random_bits: object


threefry_prng_impl = PRNGImpl("fry", (2,), seed_data, split_data, fold_in_data, random_bits_data)
