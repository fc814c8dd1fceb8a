"""``numbax.debug`` (≈ ``jax.debug``): printing and callbacks at run time,
eagerly and inside compiled programs."""

from numbax._src.callback import debug_callback as callback  # noqa: F401
from numbax._src.callback import debug_print as print  # noqa: A004,F401
