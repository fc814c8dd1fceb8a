"""``numbax.tree_util`` (≈ ``jax.tree_util``)."""

from numbax._src.tree_util import *  # noqa: F401,F403
