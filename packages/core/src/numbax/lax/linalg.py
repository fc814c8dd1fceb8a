"""``numbax.lax.linalg`` (≈ ``jax.lax.linalg``)."""

from numbax._src.lax.linalg import *  # noqa: F401,F403
