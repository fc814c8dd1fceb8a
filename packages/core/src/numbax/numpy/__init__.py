"""``numbax.numpy``: NumPy's API on numbax arrays (≈ ``jax.numpy``).

Written only in terms of ``numbax.lax``; see the package README for the
differences from NumPy and JAX."""

from numbax._src.numpy.ufuncs import *  # noqa: F401,F403
from numbax._src.numpy.creation import *  # noqa: F401,F403
from numbax._src.numpy.reductions import *  # noqa: F401,F403
from numbax._src.numpy.shape_ops import *  # noqa: F401,F403
from numbax._src.numpy.indexing import *  # noqa: F401,F403
from numbax._src.numpy.sorting import *  # noqa: F401,F403
from numbax._src.numpy.tensor import *  # noqa: F401,F403
from numbax._src.numpy.dtypes import *  # noqa: F401,F403
from numbax.numpy import linalg as linalg  # noqa: F401
from numbax._src.numpy.array_methods import attach_array_methods as _attach
from numbax._src.array import ArrayImpl as _ArrayImpl  # noqa: F401
from numbax._src.core import Array as ndarray  # noqa: F401

_attach(__import__(__name__, fromlist=["_"]))
del _attach
