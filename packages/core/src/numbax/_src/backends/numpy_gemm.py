"""Finding the gemm of NumPy's bundled OpenBLAS (blas.py binds it for the
generated programs). Kept free of numba: a program's cache key names whether
it was found (cpu.py) before numba is imported, which a call evaluated op by
op while a worker compiles (background.py) never needs."""

import ctypes
import functools
import glob
import os

import numpy as np

# What programs call, by the names NumPy's OpenBLAS exports them under.
SYMBOLS = {"float32": "scipy_cblas_sgemm64_", "float64": "scipy_cblas_dgemm64_",
           "threads": "openblas_set_num_threads_local"}


@functools.cache
def addresses():
    """``{key of SYMBOLS: address}`` in NumPy's OpenBLAS, or None where that
    library or one of the symbols is missing (NumPy built against another BLAS)."""
    site = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    paths = (glob.glob(os.path.join(site, "numpy.libs", "libscipy_openblas64_*"))  # Linux, Windows wheels
             + glob.glob(os.path.join(site, "numpy", ".dylibs", "libscipy_openblas64_*")))  # macOS wheels
    for path in paths:
        try:
            lib = ctypes.CDLL(path)  # already loaded by NumPy: the same handle, the same thread pool
            return {key: ctypes.cast(getattr(lib, symbol), ctypes.c_void_p).value for key, symbol in SYMBOLS.items()}
        except (OSError, AttributeError):
            continue
    return None


def available():
    """Whether programs multiply through NumPy's gemm (blas.AVAILABLE, without
    importing numba); ``NUMBAX_NUMPY_BLAS=0`` asks for numba's np.dot instead
    (it tests that fallback)."""
    return addresses() is not None and os.environ.get("NUMBAX_NUMPY_BLAS", "1") != "0"
