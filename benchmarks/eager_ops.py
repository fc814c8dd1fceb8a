"""Eager dispatch cost: numbax.numpy ops against the same NumPy calls (and JAX's, when importable).

Each figure is the best of several timeit repeats, per call. Run with `nox -s bench`
or `python benchmarks/eager_ops.py` once packages/core is installed.
"""

import os
import timeit

import numpy as np

import numbax.numpy as jnp

jax = None
if os.environ.get("NUMBAX_BENCH_JAX") != "0":  # nox -s bench sets 0 unless JAX was asked for
    try:
        import jax
        import jax.numpy as jax_numpy
    except ImportError:
        pass

REPEATS = 7


def best_seconds(fn):
    """Best per-call time of `fn` over REPEATS runs of timeit's auto-ranged loop."""
    fn()  # warm up: first-call caches (dtype tables, JAX's op compilation) are not what we measure
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=REPEATS, number=number)) / number


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
    scale = {"us": 1e6, "ms": 1e3}
    note = "" if jax else " (no JAX column: JAX not importable, or NUMBAX_BENCH_JAX=0)"
    print(f"eager ops, best of {REPEATS} repeats per call{note}")
    header = f"{'benchmark':<40} {'numpy':>10} {'numbax':>10} {'numbax/numpy':>13}"
    if jax is not None:
        header += f" {'jax':>10} {'numbax/jax':>11}"
    print(header)
    print("-" * len(header))
    for name, unit, fns in cases():
        t = {impl: best_seconds(fn) for impl, fn in fns.items()}
        row = f"{name:<40} {t['numpy'] * scale[unit]:>7.2f} {unit} {t['numbax'] * scale[unit]:>7.2f} {unit}"
        row += f" {t['numbax'] / t['numpy']:>12.2f}x"
        if "jax" in t:
            row += f" {t['jax'] * scale[unit]:>7.2f} {unit} {t['numbax'] / t['jax']:>10.2f}x"
        print(row)


if __name__ == "__main__":
    main()
