"""Fixtures shared by every package's tests."""

import os

# Every first jit call compiles before it returns, as the tests compare
# compiled programs against eager results (and subprocesses inherit this).
# The op-by-op phase of background compilation is tested on its own, in
# tests/core/test_background_compile.py.
os.environ.setdefault("NUMBAX_BACKGROUND_COMPILE", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from numbax.test_util import enable_x64  # noqa: E402


@pytest.fixture
def x64():
    """Run the test with 64-bit types enabled (``jax_enable_x64``), restoring the setting after."""
    with enable_x64():
        yield


@pytest.fixture
def rng():
    """A freshly seeded NumPy generator, so sample data is the same on every run."""
    return np.random.default_rng(0)
