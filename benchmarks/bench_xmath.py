"""numbax's vectorizable math kernels (backends/xmath.py) against numba's libm calls and NumPy.

One fused parallel loop over ``sin(cos(x)) * tanh(x) + x * x`` on a float32 (2048, 2048)
array, written three ways: with xmath's inlined kernels (what jit generates), with
``math.sin``/``math.cos``/``math.tanh`` (scalar libm calls that stop vectorization), and as
four NumPy ufunc calls. Run with `python benchmarks/bench_xmath.py` or `nox -s bench`.
"""

import math

import numba
import numpy as np

from numbax._src.backends import xmath

from _timing import print_table

_sin, _cos, _tanh = xmath.sin_f32, xmath.cos_f32, xmath.tanh_f32


@numba.njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def chain_xmath(x, out):
    for i in numba.prange(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            out[i, j] = _sin(_cos(v)) * _tanh(v) + v * v


@numba.njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def chain_libm(x, out):
    for i in numba.prange(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            out[i, j] = math.sin(math.cos(v)) * math.tanh(v) + v * v


def chain_numpy(x):
    return np.sin(np.cos(x)) * np.tanh(x) + x * x


def cases():
    x = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    out = np.empty_like(x)
    chain_xmath(x, out)
    with np.errstate(all="ignore"):
        wide = x.astype(np.float64)
        ref = np.sin(np.cos(wide)) * np.tanh(wide) + wide * wide
    # The chain crosses zero, so its error is reported in absolute terms, next to NumPy's own
    # float32 error on the same inputs.
    print(f"  max |error| vs float64 NumPy: xmath loop {np.max(np.abs(out - ref)):.2e}, "
          f"NumPy float32 {np.max(np.abs(chain_numpy(x) - ref)):.2e}")
    return [("sin(cos(x))*tanh(x)+x*x f32[2048,2048], parallel loop", "ms", {
        "numpy": lambda: chain_numpy(x),
        "numbax": lambda: chain_xmath(x, out),
        "numba math.*": lambda: chain_libm(x, out),
    })]


if __name__ == "__main__":
    print(f"numba threads: {numba.get_num_threads()}")
    print_table("xmath kernels vs libm vs NumPy", cases(), have_jax=False)
