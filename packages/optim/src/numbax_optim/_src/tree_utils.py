"""Tree arithmetic the transformations are written in (``optax.tree``)."""

import functools

import numbax
import numbax.numpy as jnp


def _map(fn, tree, *rest):
    return numbax.tree.map(fn, tree, *rest)


def add(tree, *others):
    """Leafwise sum of trees with the same structure."""
    return _map(lambda x, *ys: functools.reduce(lambda a, b: a + b, ys, x), tree, *others)


def sub(tree, other):
    """Leafwise ``tree - other``."""
    return _map(lambda x, y: x - y, tree, other)


def mul(tree, other):
    """Leafwise ``tree * other``."""
    return _map(lambda x, y: x * y, tree, other)


def div(tree, other):
    """Leafwise ``tree / other``."""
    return _map(lambda x, y: x / y, tree, other)


def scale(scalar, tree):
    """Multiply every leaf by ``scalar``."""
    return _map(lambda x: scalar * x, tree)


def add_scale(tree, scalar, other):
    """``tree + scalar * other`` leaf by leaf."""
    return _map(lambda x, y: x + scalar * y, tree, other)


def zeros_like(tree, dtype=None):
    """Zeros shaped like each leaf (of ``dtype`` if given)."""
    return _map(lambda x: jnp.zeros(jnp.shape(x), dtype or jnp.asarray(x).dtype), tree)


def ones_like(tree, dtype=None):
    """Ones shaped like each leaf (of ``dtype`` if given)."""
    return full_like(tree, 1, dtype)


def full_like(tree, fill_value, dtype=None):
    """``fill_value`` shaped like each leaf (of ``dtype`` if given)."""
    return _map(lambda x: jnp.full(jnp.shape(x), fill_value, dtype or jnp.asarray(x).dtype), tree)


def cast(tree, dtype):
    """Cast every leaf to ``dtype``; ``dtype=None`` returns the tree unchanged."""
    if dtype is None:
        return tree
    return _map(lambda x: jnp.asarray(x).astype(dtype), tree)


def sum(tree):  # noqa: A001  (optax.tree.sum)
    """Sum of all elements of all leaves (0.0 for an empty tree)."""
    return functools.reduce(lambda a, b: a + b, [jnp.sum(x) for x in numbax.tree.leaves(tree)], jnp.asarray(0.0))


def vdot(tree, other):
    """Inner product of two trees: the sum over leaves of ``sum(x * y)``."""
    return sum(mul(tree, other))


def norm(tree, ord=2, squared=False):  # noqa: A002  (optax's argument name)
    """Global norm of a tree: ``sqrt(sum over leaves of sum(x**2))`` (ord=2), or ord 1 / ``inf``."""
    leaves = numbax.tree.leaves(tree)
    if ord == 2:
        total = functools.reduce(lambda a, b: a + b, [jnp.sum(jnp.square(x)) for x in leaves], jnp.asarray(0.0))
        return total if squared else jnp.sqrt(total)
    if squared:
        raise ValueError(f"tree.norm: squared=True is only defined for ord=2, got ord={ord!r}.")
    if ord == 1:
        return functools.reduce(lambda a, b: a + b, [jnp.sum(jnp.abs(x)) for x in leaves], jnp.asarray(0.0))
    if ord in ("inf", float("inf")):
        return functools.reduce(jnp.maximum, [jnp.max(jnp.abs(x)) for x in leaves], jnp.asarray(0.0))
    raise ValueError(f"tree.norm: ord must be 1, 2 or inf, got {ord!r}.")


def where(condition, tree_if_true, tree_if_false):
    """Select leaf by leaf with one scalar (or broadcastable) ``condition``; jit-friendly in place of ``if``."""
    return _map(lambda a, b: jnp.where(condition, a, b), tree_if_true, tree_if_false)


def update_moment(updates, moments, decay, order):
    """``(1 - decay) * g**order + decay * m`` per leaf (order 1 for first moments)."""
    return _map(lambda g, m: (1 - decay) * (g ** order) + decay * m, updates, moments)


def update_moment_per_elem_norm(updates, moments, decay, order):
    """``(1 - decay) * |g|**order + decay * m`` per leaf (order 2: ``g * g``)."""
    def moment(g, m):
        magnitude = jnp.square(g) if order == 2 else jnp.abs(g) ** order
        return (1 - decay) * magnitude + decay * m

    return _map(moment, updates, moments)


def bias_correction(moments, decay, count):
    """``m / (1 - decay**count)``.

    ``decay**count`` is evaluated in float32 (a weakly typed Python float to the
    power of an int32 count), as Optax does; that is why ``adam``'s first step is
    not exactly ``-lr`` (see optim.md §9).
    """
    correction = 1 - decay ** count
    # Multiply by the reciprocal: XLA rewrites ``x / broadcast(c)`` into ``x * (1 / c)``, and that
    # rounding is what Optax's observed numbers carry (adam(0.1) on g=0.5 gives -0.09999934, not ...33).
    return _map(lambda m: m * (1 / correction.astype(m.dtype)), moments)
