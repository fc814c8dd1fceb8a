"""``numbax.scipy.special`` (≈ ``jax.scipy.special``)."""

from numbax._src.scipy.special import *  # noqa: F401,F403
