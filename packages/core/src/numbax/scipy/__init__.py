"""``numbax.scipy`` (≈ ``jax.scipy``)."""

from numbax.scipy import special as special  # noqa: F401
