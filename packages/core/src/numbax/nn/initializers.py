"""``numbax.nn.initializers`` (≈ ``jax.nn.initializers``)."""

from numbax._src.nn.initializers import *  # noqa: F401,F403
