"""numbax_nn: ``flax.linen`` for numbax.

Modules with ``setup``/``@compact``, ``init``/``apply`` over a variables dict,
layers whose parameter names and layouts match Flax, and ``TrainState``. The API
is being built in issue 9; this release only installs and imports.
"""

import numbax as numbax
import numbax_random as numbax_random

__version__ = "0.1.0"
