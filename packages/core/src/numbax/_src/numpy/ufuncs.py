"""Elementwise ``numbax.numpy`` functions, written in terms of ``lax``.

Binary functions promote dtypes (JAX's lattice, weak Python scalars) and
broadcast NumPy-style. When both operands are concrete arrays of one dtype
and shape, they go straight to the primitive: this keeps eager dispatch cheap.
"""

from ..array import ArrayImpl
from ..lax import elementwise as lax
from .util import check_arraylike, promote_args, promote_args_inexact

__all__ = ["add", "subtract", "multiply", "true_divide", "divide", "negative", "sin", "cos"]


def _binary(prim, name, inexact=False, doc=None):
    promote = promote_args_inexact if inexact else promote_args

    def fn(x1, x2, /):
        if type(x1) is ArrayImpl and type(x2) is ArrayImpl:
            v1, v2 = x1._value, x2._value
            if v1.dtype is v2.dtype and v1.shape == v2.shape and x1.weak_type == x2.weak_type \
                    and not (inexact and v1.dtype.kind != "f"):
                return prim.bind(x1, x2)
        return prim.bind(*promote(name, x1, x2))

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = doc or (f"Elementwise ``{name}`` with NumPy broadcasting and JAX type promotion.\n\n"
                         "Args:\n  x1, x2: arrays or scalars whose shapes broadcast together.\n\n"
                         "Returns:\n  Array of the broadcast shape and the promoted dtype.")
    return fn


def _unary(prim, name, inexact=False, doc=None):
    promote = promote_args_inexact if inexact else promote_args

    def fn(x, /):
        if type(x) is ArrayImpl and not (inexact and x._value.dtype.kind != "f"):
            return prim.bind(x)
        return prim.bind(*promote(name, x))

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = doc or (f"Elementwise ``{name}``.\n\nArgs:\n  x: array or scalar.\n\n"
                         "Returns:\n  Array of ``x``'s shape" + (" (integers promote to float)." if inexact else "."))
    return fn


add = _binary(lax.add_p, "add")
subtract = _binary(lax.sub_p, "subtract")
multiply = _binary(lax.mul_p, "multiply")
true_divide = _binary(lax.div_p, "true_divide", inexact=True)
divide = true_divide
negative = _unary(lax.neg_p, "negative")
sin = _unary(lax.sin_p, "sin", inexact=True)
cos = _unary(lax.cos_p, "cos", inexact=True)

_ = check_arraylike
