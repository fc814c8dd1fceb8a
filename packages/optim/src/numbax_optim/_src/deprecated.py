"""Names Optax keeps for compatibility, with the same DeprecationWarning."""

import warnings

from numbax_optim._src import tree_utils


def global_norm(updates):
    """Global L2 norm of a tree. Deprecated (as in Optax 0.2.8): use ``numbax_optim.tree.norm``."""
    warnings.warn("numbax_optim.global_norm is deprecated, as optax.global_norm is; use numbax_optim.tree.norm.",
                  DeprecationWarning, stacklevel=2)
    return tree_utils.norm(updates)
