"""numbax: JAX's programming model, compiled by numba.

See the package README for what works and the differences from JAX."""

__version__ = "0.1.0"

from numbax._src.config import config as config  # noqa: E402
from numbax._src.interpreters import eval as _eval  # noqa: E402,F401  (installs eager evaluation)
from numbax._src.core import Array as Array  # noqa: E402
from numbax._src.api import (  # noqa: E402
    ShapeDtypeStruct as ShapeDtypeStruct,
    block_until_ready as block_until_ready,
    device_get as device_get,
    device_put as device_put,
    eval_shape as eval_shape,
    make_jaxpr as make_jaxpr,
)
from numbax._src.autodiff import (  # noqa: E402
    grad as grad,
    hessian as hessian,
    jacfwd as jacfwd,
    jacrev as jacrev,
    jvp as jvp,
    linearize as linearize,
    value_and_grad as value_and_grad,
    vjp as vjp,
)
from numbax._src.custom_derivatives import (  # noqa: E402
    checkpoint as checkpoint,
    custom_jvp as custom_jvp,
    custom_vjp as custom_vjp,
    remat as remat,
)
from numbax._src.vmap import vmap as vmap  # noqa: E402
from numbax._src.jit import clear_caches as clear_caches, jit as jit  # noqa: E402
from numbax._src.callback import (  # noqa: E402
    numba_call as numba_call,
    pure_callback as pure_callback,
)
from numbax._src.devices import (  # noqa: E402
    default_backend as default_backend,
    devices as devices,
    local_devices as local_devices,
)
from numbax import debug as debug  # noqa: E402
from numbax import errors as errors  # noqa: E402
from numbax import lax as lax  # noqa: E402
from numbax import numpy as numpy  # noqa: E402
from numbax import tree as tree  # noqa: E402
from numbax import tree_util as tree_util  # noqa: E402
from numbax import nn as nn  # noqa: E402
from numbax import scipy as scipy  # noqa: E402
from numbax._src.dtypes import canonicalize_dtype as _canonicalize_dtype  # noqa: E402,F401
from numbax._src.tree_util import (  # noqa: E402
    tree_flatten as tree_flatten,
    tree_leaves as tree_leaves,
    tree_map as tree_map,
    tree_structure as tree_structure,
    tree_unflatten as tree_unflatten,
)
