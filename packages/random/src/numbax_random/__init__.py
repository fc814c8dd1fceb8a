"""numbax_random: ``jax.random`` for numbax.

Explicit, splittable PRNG keys (threefry-2x32, partitionable mode) and samplers that
give the same bits as jax.random for the same seed and shape (reference/random.md).
Everything is written with numbax.lax ops, so it runs eagerly, under vmap, and in
traced bodies.
"""

import numbax as numbax

from numbax_random._keys import (
    KeyArray as KeyArray,
    PRNGKey as PRNGKey,
    clone as clone,
    fold_in as fold_in,
    key as key,
    key_data as key_data,
    split as split,
    wrap_key_data as wrap_key_data,
)
from numbax_random._samplers import (
    ball as ball,
    bernoulli as bernoulli,
    beta as beta,
    bits as bits,
    categorical as categorical,
    cauchy as cauchy,
    choice as choice,
    dirichlet as dirichlet,
    exponential as exponential,
    gamma as gamma,
    gumbel as gumbel,
    laplace as laplace,
    loggamma as loggamma,
    logistic as logistic,
    multivariate_normal as multivariate_normal,
    normal as normal,
    orthogonal as orthogonal,
    permutation as permutation,
    rademacher as rademacher,
    randint as randint,
    shuffle as shuffle,
    t as t,
    truncated_normal as truncated_normal,
    uniform as uniform,
)
from numbax_random._threefry import threefry2x32 as threefry2x32

__version__ = "0.1.0"
