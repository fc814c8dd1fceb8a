"""numbax_random: normal(key, (1_000_000,)) and split(key, 1000) against NumPy's Generator
(and jax.random when importable). Eager numbax runs one NumPy call per lax op (threefry is
~120 uint32 ops, erf_inv ~50 emulated fmas); under numbax.jit (when present) it is one program.
"""

import numpy as np

import numbax
import numbax_random as random

from _timing import compiled_before_first_result, jax_or_none, print_table

jax = jax_or_none()


def cases():
    key = random.key(0)
    generator = np.random.default_rng(0)
    normal = {
        "numpy": lambda: generator.standard_normal(1_000_000, dtype=np.float32),
        "numbax": lambda: random.normal(key, (1_000_000,)).block_until_ready(),
    }
    split = {
        "numpy": lambda: generator.spawn(1000),
        "numbax": lambda: random.key_data(random.split(key, 1000)),
    }
    if hasattr(numbax, "jit"):
        jitted = numbax.jit(lambda k: random.normal(k, (1_000_000,)))
        normal["numbax jit"] = lambda: jitted(key).block_until_ready()
    if jax is not None:
        jkey = jax.random.key(0)
        jnormal = jax.jit(lambda k: jax.random.normal(k, (1_000_000,)))
        normal["jax"] = lambda: jnormal(jkey).block_until_ready()
        split["jax"] = lambda: jax.random.split(jkey, 1000).block_until_ready()
    return [("normal f32[1_000_000] (eager)", "ms", normal), ("split(key, 1000)", "us", split)]


def main():
    print_table("numbax_random", cases(), have_jax=jax is not None)


if __name__ == "__main__":
    with compiled_before_first_result():
        main()
