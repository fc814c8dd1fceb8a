"""Fixtures shared by every package's tests."""

import numpy as np
import pytest

import numbax


@pytest.fixture
def x64():
    """Run the test with 64-bit types enabled (``jax_enable_x64``), restoring the setting after."""
    before = numbax.config.jax_enable_x64
    numbax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        numbax.config.update("jax_enable_x64", before)


@pytest.fixture
def rng():
    """A freshly seeded NumPy generator, so sample data is the same on every run."""
    return np.random.default_rng(0)
