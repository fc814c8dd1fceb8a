"""Shared timing and table printing for the benchmark modules."""

import os
import timeit

REPEATS = 7


def jax_or_none():
    """The jax module when importable and asked for (nox -s bench sets
    NUMBAX_BENCH_JAX=0 unless JAX was requested), else None."""
    if os.environ.get("NUMBAX_BENCH_JAX") == "0":
        return None
    try:
        import jax
    except ImportError:
        return None
    return jax


def best_seconds(fn):
    """Best per-call time of `fn` over REPEATS runs of timeit's auto-ranged loop."""
    fn()  # warm up: first-call caches (dtype tables, JAX's op compilation) are not what we measure
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=REPEATS, number=number)) / number


def print_table(title, cases, have_jax):
    """``cases``: (name, unit, {impl: fn}) with impls 'numpy', 'numbax', and
    optionally 'jax' or others; ratios are to NumPy (and to JAX)."""
    scale = {"us": 1e6, "ms": 1e3}
    note = "" if have_jax else " (no JAX column: JAX not importable, or NUMBAX_BENCH_JAX=0)"
    print(f"{title}, best of {REPEATS} repeats per call{note}")
    for name, unit, fns in cases:
        times = {impl: best_seconds(fn) for impl, fn in fns.items()}
        cells = [f"{impl} {t * scale[unit]:.2f} {unit}" for impl, t in times.items()]
        ratios = [f"numbax/{ref} {times['numbax'] / times[ref]:.3g}x" for ref in times if ref != "numbax"]
        print(f"  {name}\n    " + "  ".join(cells) + "\n    " + "  ".join(ratios))
