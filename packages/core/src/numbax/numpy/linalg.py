"""``numbax.numpy.linalg`` (≈ ``jax.numpy.linalg``)."""

from numbax._src.numpy.linalg import *  # noqa: F401,F403
