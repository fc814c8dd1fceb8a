"""numbax-random installs on its own and reaches numbax through its declared dependency."""

import numpy as np

import numbax_random


def test_version():
    assert numbax_random.__version__ == "0.1.0"


def test_uses_numbax_integer_ops():
    # threefry is written with numbax.lax's uint32 shifts and xors, so those must work from here.
    lax = numbax_random.numbax.lax
    x = np.array([0x80000001, 0xFFFFFFFF], np.uint32)
    shifted = lax.shift_right_logical(x, np.array([4, 28], np.uint32))
    mixed = lax.bitwise_xor(shifted, np.array([1, 1], np.uint32))
    assert mixed.dtype == np.uint32
    np.testing.assert_array_equal(np.asarray(mixed), np.array([0x08000001, 0xE], np.uint32))
