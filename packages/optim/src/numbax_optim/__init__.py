"""numbax_optim: ``optax`` for numbax.

Composable ``GradientTransformation(init, update)`` pairs, optimizer aliases,
schedules and losses with Optax's formulas and defaults. The API is being built
in issue 8; this release only installs and imports.
"""

import numbax as numbax

__version__ = "0.1.0"
