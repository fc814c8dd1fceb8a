"""numbax_random: ``jax.random`` for numbax.

Explicit, splittable PRNG keys (threefry-2x32), bit-exact with jax.random for
the same seed and shape. The API (``key``, ``split``, ``uniform``, ``normal``,
...) is being built in issue 7; this release only installs and imports.
"""

import numbax as numbax

__version__ = "0.1.0"
