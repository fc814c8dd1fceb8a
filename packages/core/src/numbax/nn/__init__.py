"""``numbax.nn`` (≈ ``jax.nn``): activation functions and initializers."""

from numbax._src.nn.functions import *  # noqa: F401,F403
from numbax.nn import initializers as initializers  # noqa: F401
