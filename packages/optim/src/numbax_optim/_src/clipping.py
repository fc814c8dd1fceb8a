"""Clipping transformations: elementwise, per block and by the global norm."""

import numbax
import numbax.numpy as jnp

from numbax_optim._src import tree_utils as otu
from numbax_optim._src.base import EmptyState, GradientTransformationExtraArgs, check_number


def _stateless_map(fn):
    def update(updates, state, params=None, **extra_args):
        return numbax.tree.map(fn, updates), state

    return GradientTransformationExtraArgs(lambda params: EmptyState(), update)


def clip(max_delta):
    """Clip every element to ``[-max_delta, max_delta]``."""
    check_number(max_delta, "max_delta", "clip")
    return _stateless_map(lambda g: jnp.clip(g, -max_delta, max_delta))


def clip_by_block_rms(threshold):
    """Per leaf ``out = g / max(1, rms(g) / threshold)`` (Adafactor's update clipping)."""
    check_number(threshold, "threshold", "clip_by_block_rms")
    return _stateless_map(lambda g: g / jnp.maximum(1.0, jnp.sqrt(jnp.mean(jnp.square(g))) / threshold))


def clip_by_global_norm(max_norm):
    """Rescale all updates together when their global norm exceeds ``max_norm`` (Pascanu et al., 2013):
    ``n = sqrt(sum over leaves of sum(g**2))``; ``out = g`` if ``n < max_norm`` else ``g / n * max_norm``."""
    check_number(max_norm, "max_norm", "clip_by_global_norm")

    def update(updates, state, params=None, **extra_args):
        norm = otu.norm(updates)
        keep = norm < max_norm
        # where, not an `if` on the norm, so the same code runs under jit and vmap.
        updates = numbax.tree.map(lambda g: jnp.where(keep, g, (g / norm.astype(g.dtype)) * max_norm), updates)
        return updates, state

    return GradientTransformationExtraArgs(lambda params: EmptyState(), update)

