"""Shared timing and table printing for the benchmark modules."""

import contextlib
import os
import statistics
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


@contextlib.contextmanager
def compiled_before_first_result():
    """numbax programs compile before their first call returns inside this
    block: by default a program's first calls run op by op while a worker
    process compiles it, and steady-state figures must time neither those
    calls nor a worker busy on the other core (jit_workloads.py times first
    calls as a user meets them)."""
    import numbax
    before = numbax.config.numbax_background_compile
    numbax.config.update("numbax_background_compile", False)
    try:
        yield
    finally:
        numbax.config.update("numbax_background_compile", before)


def repeat_seconds(fn):
    """Per-call seconds of `fn` in each of REPEATS runs of timeit's auto-ranged loop."""
    fn()  # warm up: first-call caches (dtype tables, JAX's op compilation) are not what we measure
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return [t / number for t in timer.repeat(repeat=REPEATS, number=number)]


def best_seconds(fn):
    """Best per-call time of `fn` over REPEATS runs of timeit's auto-ranged loop."""
    return min(repeat_seconds(fn))


def print_table(title, cases, have_jax):
    """``cases``: (name, unit, {impl: fn}) with impls 'numpy', 'numbax', and
    optionally 'jax' or others. Each cell is the median per-call time over the
    repeats (the best in brackets); ratios are of medians, to NumPy (and to JAX)."""
    scale = {"us": 1e6, "ms": 1e3}
    note = "" if have_jax else " (no JAX column: JAX not importable, or NUMBAX_BENCH_JAX=0)"
    print(f"{title}, median (best) of {REPEATS} repeats per call{note}")
    for name, unit, fns in cases:
        runs = {impl: repeat_seconds(fn) for impl, fn in fns.items()}
        medians = {impl: statistics.median(t) for impl, t in runs.items()}
        cells = [f"{impl} {medians[impl] * scale[unit]:.2f} ({min(t) * scale[unit]:.2f}) {unit}"
                 for impl, t in runs.items()]
        ratios = [f"numbax/{ref} {medians['numbax'] / medians[ref]:.3g}x" for ref in medians if ref != "numbax"]
        print(f"  {name}\n    " + "  ".join(cells) + "\n    " + "  ".join(ratios))
