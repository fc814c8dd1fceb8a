"""Eager dispatch cost: numbax.numpy ops against the same NumPy calls (and JAX's, when importable).

Each figure is the best of several timeit repeats, per call. Run with `nox -s bench`
or `python benchmarks/eager_ops.py` once packages/core is installed.
"""

import numpy as np

import numbax.numpy as jnp

from _timing import compiled_before_first_result, jax_or_none, print_table

jax = jax_or_none()
if jax is not None:
    import jax.numpy as jax_numpy


def chain(m, x, y):
    return m.tanh(m.sin(x) * 2.0 + y) - x * y


def cases():
    rng = np.random.default_rng(0)
    tiny_a, tiny_b = (rng.standard_normal(3, dtype=np.float32) for _ in range(2))
    big_x, big_y = (rng.standard_normal((1000, 1000), dtype=np.float32) for _ in range(2))

    tiny = {
        "numpy": lambda: np.add(tiny_a, tiny_b),
        "numbax": (lambda a, b: lambda: jnp.add(a, b))(jnp.asarray(tiny_a), jnp.asarray(tiny_b)),
    }
    big = {
        "numpy": lambda: chain(np, big_x, big_y),
        "numbax": (lambda x, y: lambda: chain(jnp, x, y))(jnp.asarray(big_x), jnp.asarray(big_y)),
    }
    if jax is not None:
        cpu = jax.devices("cpu")[0]
        ja, jb = (jax.device_put(v, cpu) for v in (tiny_a, tiny_b))
        jx, jy = (jax.device_put(v, cpu) for v in (big_x, big_y))
        tiny["jax"] = lambda: jax_numpy.add(ja, jb).block_until_ready()
        big["jax"] = lambda: chain(jax_numpy, jx, jy).block_until_ready()
    return [
        ("add f32[3] (one op)", "us", tiny),
        ("tanh(sin(x)*2+y) - x*y f32[1000,1000]", "ms", big),
    ]


def main():
    print_table("eager ops", cases(), have_jax=jax is not None)


if __name__ == "__main__":
    with compiled_before_first_result():
        main()
