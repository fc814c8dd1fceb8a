"""Dropout."""

from typing import Any

import numbax.lax as lax
import numbax.numpy as jnp
import numbax_random

from .module import Module, compact, merge_param

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each element with probability ``rate`` and scale the kept ones by
    ``1 / (1 - rate)``; identity when ``deterministic``. No parameters.

    The mask is ``bernoulli(make_rng(rng_collection), 1 - rate, shape)`` with
    ``broadcast_dims`` set to 1 (one mask shared along them); pass the key with
    ``apply(..., rngs={'dropout': key})``.
    """

    rate: float
    broadcast_dims: Any = ()
    deterministic: Any = None
    rng_collection: str = "dropout"

    @compact
    def __call__(self, inputs, deterministic=None, rng=None):
        deterministic = merge_param("deterministic", self.deterministic, deterministic)
        if self.rate == 0.0 or deterministic:
            return inputs
        if self.rate == 1.0:
            return jnp.zeros_like(inputs)
        keep_prob = 1.0 - self.rate
        if rng is None:
            rng = self.make_rng(self.rng_collection)
        shape = list(inputs.shape)
        for dim in self.broadcast_dims:
            shape[dim] = 1
        keep = jnp.broadcast_to(numbax_random.bernoulli(rng, p=keep_prob, shape=tuple(shape)),
                                inputs.shape)
        return lax.select(keep, inputs / keep_prob, jnp.zeros_like(inputs))
