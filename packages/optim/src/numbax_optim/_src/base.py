"""The contract every optimizer follows: ``GradientTransformation(init, update)``
pairs of pure functions over pytrees, the states they share, ``chain`` and
``apply_updates``, and the argument checks every constructor uses."""

import inspect
from typing import Any, Callable, NamedTuple

import numpy as np

import numbax
import numbax.numpy as jnp

NO_PARAMS_MSG = ("{where}: this transformation needs the current parameters; call "
                 "update(updates, state, params) with params=... (got params=None).")


class GradientTransformation(NamedTuple):
    """A pair of pure functions ``init(params) -> state`` and
    ``update(updates, state, params=None) -> (updates, state)``."""

    init: Callable
    update: Callable


class GradientTransformationExtraArgs(NamedTuple):
    """Like :class:`GradientTransformation`, but ``update`` also accepts keyword
    extras (``value=``, ``grad=``, ``value_fn=``) for line-search-style optimizers;
    transformations that do not use them ignore them."""

    init: Callable
    update: Callable


class EmptyState(NamedTuple):
    """The state of a stateless transformation."""


class ScaleByScheduleState(NamedTuple):
    count: Any


def _accepts_extra_args(update):
    try:
        parameters = inspect.signature(update).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def with_extra_args_support(tx):
    """Return ``tx`` as a :class:`GradientTransformationExtraArgs`; extras are
    dropped before calling an ``update`` that does not take ``**extra_args``."""
    if isinstance(tx, GradientTransformationExtraArgs):
        return tx
    if not isinstance(tx, GradientTransformation):
        raise TypeError(f"expected a GradientTransformation (an (init, update) pair such as numbax_optim.adam(1e-3)), "
                        f"got {type(tx).__name__}: {tx!r}.")
    if _accepts_extra_args(tx.update):
        return GradientTransformationExtraArgs(tx.init, tx.update)

    def update(updates, state, params=None, **extra_args):
        del extra_args
        return tx.update(updates, state, params)

    return GradientTransformationExtraArgs(tx.init, update)


def identity():
    """The transformation that returns updates unchanged (state ``EmptyState()``)."""
    return stateless(lambda updates, params: updates)


def set_to_zero():
    """Replace every update by zeros, e.g. to freeze a subtree inside ``multi_transform``."""
    return stateless_with_tree_map(lambda g, p: jnp.zeros_like(g))


def stateless(fn):
    """A transformation from ``fn(updates, params) -> updates`` with state ``EmptyState()``."""
    def update(updates, state, params=None, **extra_args):
        del extra_args
        return fn(updates, params), state

    return GradientTransformationExtraArgs(lambda params: EmptyState(), update)


def stateless_with_tree_map(fn):
    """Like :func:`stateless`, but ``fn(g, p)`` is applied leaf by leaf (``p`` is None without params)."""
    def per_tree(updates, params):
        if params is None:
            return numbax.tree.map(lambda g: fn(g, None), updates)
        check_same_structure(updates, params, "updates", "params", "stateless_with_tree_map")
        return numbax.tree.map(fn, updates, params)

    return stateless(per_tree)


def safe_increment(count):
    """``count + 1`` that saturates at the dtype's maximum (int32: 2147483647) instead of wrapping."""
    count = jnp.asarray(count)
    limit = np.iinfo(count.dtype).max
    return jnp.where(count < limit, count + jnp.asarray(1, count.dtype), jnp.asarray(limit, count.dtype))


def zero_count():
    return jnp.zeros([], jnp.int32)


def chain(*transforms):
    """Apply ``transforms`` in order; the state is the tuple of their states.

    Example:
      >>> tx = chain(clip_by_global_norm(1.0), scale_by_adam(), scale_by_learning_rate(1e-3))  # doctest: +SKIP
    """
    transforms = tuple(with_extra_args_support(tx) for tx in transforms)

    def init(params):
        return tuple(tx.init(params) for tx in transforms)

    def update(updates, state, params=None, **extra_args):
        if not isinstance(state, tuple) or len(state) != len(transforms):
            raise ValueError(f"chain: the state has {_describe_len(state)} but the chain has {len(transforms)} "
                             "transformations; pass the state returned by this chain's init.")
        new_states = []
        for tx, inner in zip(transforms, state):
            updates, inner = tx.update(updates, inner, params, **extra_args)
            new_states.append(inner)
        return updates, tuple(new_states)

    return GradientTransformationExtraArgs(init, update)


def _describe_len(state):
    return f"{len(state)} entries" if isinstance(state, tuple) else f"type {type(state).__name__}"


def named_chain(*named_transforms):
    """Like :func:`chain` with ``(name, transform)`` pairs; the state is a dict by name."""
    names = [name for name, _ in named_transforms]
    transforms = {name: with_extra_args_support(tx) for name, tx in named_transforms}
    if len(transforms) != len(names):
        raise ValueError(f"named_chain: names must be unique, got {names}.")

    def init(params):
        return {name: tx.init(params) for name, tx in transforms.items()}

    def update(updates, state, params=None, **extra_args):
        new_state = {}
        for name, tx in transforms.items():
            updates, new_state[name] = tx.update(updates, state[name], params, **extra_args)
        return updates, new_state

    return GradientTransformationExtraArgs(init, update)


def apply_updates(params, updates):
    """``params + updates`` leaf by leaf, each result cast back to its parameter's dtype.

    Transformations already carry the minus sign (``scale_by_learning_rate``
    multiplies by ``-lr``), so this is a plain sum. ``None`` leaves stay ``None``.
    """
    check_same_structure(params, updates, "params", "updates", "apply_updates")

    def add(p, u):
        p = jnp.asarray(p)
        return jnp.asarray(p + u).astype(p.dtype)

    return numbax.tree.map(add, params, updates)


# --- argument and structure checks shared by every constructor ------------------------------------------

def _is_number(value):
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return True
    return isinstance(value, (np.ndarray, numbax.Array)) and np.ndim(value) == 0


def check_number(value, name, where, fix=""):
    """Raise a TypeError unless ``value`` is a real scalar (Python number, NumPy scalar, 0-d array or tracer)."""
    if _is_number(value):
        return value
    if callable(value):
        raise TypeError(f"{where}: {name} must be a number, got the callable {value!r} (a schedule?). "
                        f"{fix or 'Pass a float here; schedules are accepted by learning_rate arguments.'}")
    raise TypeError(f"{where}: {name} must be a number (float or scalar array), got {type(value).__name__} "
                    f"{value!r}.{' ' + fix if fix else ''}")


def check_optional_number(value, name, where, fix=""):
    return None if value is None else check_number(value, name, where, fix)


def check_scalar_or_schedule(value, name, where):
    """A learning-rate style argument: a number or a schedule ``count -> value``."""
    if callable(value) or _is_number(value):
        return value
    raise TypeError(f"{where}: {name} must be a float or a schedule (a callable count -> value), got "
                    f"{type(value).__name__} {value!r}.")


def check_schedule(value, name, where, fix):
    if callable(value):
        return value
    raise TypeError(f"{where}: {name} must be a schedule (a callable count -> value), got "
                    f"{type(value).__name__} {value!r}. {fix}")


def check_same_structure(reference, other, reference_name, other_name, where):
    """Raise a ValueError naming the first path where ``other``'s tree structure differs from ``reference``'s."""
    ref_def = numbax.tree.structure(reference)
    other_def = numbax.tree.structure(other)
    if ref_def == other_def:
        return
    ref_paths = [numbax.tree_util.keystr(p) for p, _ in numbax.tree.flatten_with_path(reference)[0]]
    other_paths = [numbax.tree_util.keystr(p) for p, _ in numbax.tree.flatten_with_path(other)[0]]
    for ref_path, other_path in zip(ref_paths, other_paths):
        if ref_path != other_path:
            detail = f"at path {ref_path or '(root)'} {reference_name} has a leaf where {other_name} has {other_path}"
            break
    else:
        if len(ref_paths) != len(other_paths):
            longer, name = ((ref_paths, reference_name) if len(ref_paths) > len(other_paths)
                            else (other_paths, other_name))
            detail = f"at path {longer[min(len(ref_paths), len(other_paths))]} only {name} has a leaf"
        else:
            detail = f"the leaves line up but the containers differ ({ref_def} vs {other_def})"
    raise ValueError(f"{where}: {other_name} and {reference_name} have different tree structures: {detail}. "
                     f"They must match leaf for leaf; pass {other_name} computed for these {reference_name} "
                     "(e.g. grads of the same params).")
