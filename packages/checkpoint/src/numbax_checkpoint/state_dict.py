"""State dicts: containers as nested string-keyed dicts, with Flax's conventions.

``to_state_dict`` turns registered containers into dicts (lists and tuples
become ``{"0": ..., "1": ...}``, namedtuples and dataclasses ``{field: ...}``);
anything unregistered is a leaf. ``from_state_dict`` rebuilds the target's
containers from such a dict. A registry maps a type to its pair of functions.
"""

import collections
import contextlib
import contextvars
import dataclasses
import importlib

import numpy as np

import numbax
import numbax.numpy as jnp

from .errors import CheckpointError

_REGISTRY = {}


@dataclasses.dataclass
class _RestoreContext:
    """What ``from_state_dict`` needs besides (target, state): where it is in
    the tree (for messages), and whether leaves are checked (``restore``)."""

    path: list
    strict: bool = False
    partial: bool = False
    source: str = "the state dict"


_CONTEXT = contextvars.ContextVar("numbax_checkpoint_restore", default=None)


def register_serialization_state(ty, ty_to_state_dict, ty_from_state_dict, override=False):
    """Register how a container type becomes a state dict and comes back.

    Args:
      ty: the type (matched exactly, not by subclass).
      ty_to_state_dict: ``fn(x) -> dict`` of string keys to sub-values; it
        should call ``to_state_dict`` on the children.
      ty_from_state_dict: ``fn(target, state) -> instance``; it should call
        ``from_state_dict(child_target, state[key], name=key)`` so errors name
        the path.
      override: replace an existing registration instead of raising.
    """
    if ty in _REGISTRY and not override:
        raise CheckpointError(
            f"register_serialization_state: {ty.__name__} is already registered. "
            "Pass override=True to replace its state-dict functions.")
    _REGISTRY[ty] = (ty_to_state_dict, ty_from_state_dict)


def current_path():
    """The path being restored, as Flax spells it: ``./params/Dense_0``."""
    context = _CONTEXT.get()
    return "/".join(["."] + (context.path if context else []))


def _handlers(x):
    """(to_fn, from_fn) for ``x``, or None when ``x`` is a leaf."""
    found = _REGISTRY.get(type(x))
    if found is not None:
        return found
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return _namedtuple_to_state, _namedtuple_from_state
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return _dataclass_to_state, _dataclass_from_state
    if is_typed_key(x):
        return _key_to_state, _key_from_state
    return None


def to_state_dict(target):
    """``target`` with every registered container turned into a dict with
    string keys (recursively); unregistered values are returned unchanged and
    become leaves. Lists and tuples become ``{"0": ..., "1": ...}`` (their type
    is not recorded), namedtuples and dataclasses ``{field: ...}``, typed PRNG
    keys their key data."""
    found = _handlers(target)
    return target if found is None else found[0](target)


def from_state_dict(target, state, name="."):
    """An object shaped like ``target`` holding the values of ``state``.

    As in Flax, the target supplies the structure: every key of a target dict
    must be in the state (extra state keys are dropped), list and tuple
    lengths must agree, and leaves are taken from the state as they are.
    ``numbax_checkpoint.restore`` additionally checks shapes and dtypes.

    Args:
      target: a pytree of registered containers (its leaves may be anything).
      state: a state dict, e.g. from ``msgpack_restore``.
      name: the key of ``state`` inside its parent, for error paths; leave it
        as ``"."`` at the root.

    Raises:
      CheckpointError (a ``ValueError``) naming the path where they disagree.
    """
    context = _CONTEXT.get()
    if context is None:
        with _restoring():
            return from_state_dict(target, state, name)
    if name != ".":
        context.path.append(str(name))
    try:
        found = _handlers(target)
        if found is not None:
            return found[1](target, state)
        return _check_leaf(target, state) if context.strict else state
    finally:
        if name != ".":
            context.path.pop()


@contextlib.contextmanager
def _restoring(strict=False, partial=False, source="the state dict"):
    token = _CONTEXT.set(_RestoreContext([], strict, partial, source))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def _mismatch(message, fix):
    context = _CONTEXT.get()
    return CheckpointError(f"{message} at path {current_path()} in {context.source}. {fix}")


_FIX_TARGET = ("The target must have the structure that was saved: call restore without a target "
               "to see it, or adapt the target.")


def _require_dict(state, what):
    if not isinstance(state, dict):
        raise _mismatch(f"from_state_dict: the target has {what} but the state holds {_describe(state)}",
                        _FIX_TARGET)


def _restore_items(keys, state):
    """``{key: from_state_dict(...)}`` over the target's (key, child) pairs,
    requiring each key in ``state`` and, in strict mode, nothing more."""
    keys = list(keys)
    for key, _ in keys:
        if str(key) not in state:
            context = _CONTEXT.get()
            context.path.append(str(key))
            try:
                raise _mismatch(f"from_state_dict: the state has no key {str(key)!r} that the target has",
                                _FIX_TARGET)
            finally:
                context.path.pop()
    context = _CONTEXT.get()
    if context.strict and not context.partial:
        wanted = {str(key) for key, _ in keys}
        extra = [key for key in state if key not in wanted]
        if extra:
            raise _mismatch(
                f"restore: the checkpoint has key(s) {extra} that the target lacks",
                "Add them to the target, or pass partial=True to restore only the target's keys.")
    return {key: from_state_dict(child, state[str(key)], name=str(key)) for key, child in keys}


def _dict_to_state(x):
    out = {}
    for key, value in x.items():
        if str(key) in out:
            raise CheckpointError(
                f"to_state_dict: two keys of a dict become the same string {str(key)!r} "
                f"(one is {key!r}); state dicts key by str(key). Rename one of them.")
        out[str(key)] = to_state_dict(value)
    return out


def _dict_from_state(target, state):
    _require_dict(state, "a dict")
    restored = _restore_items(target.items(), state)
    return restored if type(target) is dict else type(target)(restored)


def _sequence_to_state(xs):
    return {str(i): to_state_dict(x) for i, x in enumerate(xs)}


def _sequence_from_state(target, state):
    if isinstance(state, list):  # msgpack_serialize of a raw list writes a msgpack array
        state = {str(i): x for i, x in enumerate(state)}
    _require_dict(state, f"a {type(target).__name__} of length {len(target)}")
    if len(state) != len(target):
        raise _mismatch(
            f"from_state_dict: the target {type(target).__name__} has length {len(target)} but "
            f"the state has {len(state)} entries", _FIX_TARGET)
    restored = _restore_items(enumerate(target), state)
    return type(target)(restored[i] for i in range(len(target)))


def _namedtuple_to_state(x):
    return {field: to_state_dict(getattr(x, field)) for field in x._fields}


def _namedtuple_from_state(target, state):
    _require_dict(state, f"a {type(target).__name__} namedtuple")
    if set(state) == {"name", "fields", "values"} and "name" not in target._fields:
        # Flax's legacy layout: {"name": ..., "fields": {"0": f0, ...}, "values": {"0": v0, ...}}
        state = {state["fields"][i]: state["values"][i] for i in state["fields"]}
    if set(state) != set(target._fields):
        raise _mismatch(
            f"from_state_dict: the {type(target).__name__} fields {list(target._fields)} differ from "
            f"the state's keys {list(state)}", _FIX_TARGET)
    return type(target)(**_restore_items(((f, getattr(target, f)) for f in target._fields), state))


def _data_fields(x):
    """Dataclass fields that hold data: Flax's ``pytree_node=False`` and
    Equinox-style ``static=True`` fields are configuration, not state."""
    return [f.name for f in dataclasses.fields(x)
            if f.init and f.metadata.get("pytree_node", True) and not f.metadata.get("static", False)]


def _dataclass_to_state(x):
    return {name: to_state_dict(getattr(x, name)) for name in _data_fields(x)}


def _dataclass_from_state(target, state):
    _require_dict(state, f"a {type(target).__name__} dataclass")
    names = _data_fields(target)
    unknown = [key for key in state if key not in names]
    if unknown and not (_CONTEXT.get().strict and _CONTEXT.get().partial):
        raise _mismatch(f"from_state_dict: the state has field(s) {unknown} that "
                        f"{type(target).__name__} does not have", _FIX_TARGET)
    restored = _restore_items(((name, getattr(target, name)) for name in names), state)
    return dataclasses.replace(target, **restored)


register_serialization_state(dict, _dict_to_state, _dict_from_state)
register_serialization_state(collections.OrderedDict, _dict_to_state, _dict_from_state)
register_serialization_state(list, _sequence_to_state, _sequence_from_state)
register_serialization_state(tuple, _sequence_to_state, _sequence_from_state)


# Typed PRNG keys. numbax_random is optional: a key is recognised by its dtype
# ("key<fry>", JAX's naming), and numbax_random, which must then be loaded
# because it made the key, converts to and from the uint32 key data.

def is_typed_key(x):
    """Whether ``x`` is a typed PRNG key (dtype ``key<...>``), not raw key data."""
    dtype = getattr(x, "dtype", None)
    return dtype is not None and not isinstance(dtype, np.dtype) and str(dtype).startswith("key<")


def _random():
    try:
        return importlib.import_module("numbax_random")
    except ImportError:  # pragma: no cover - a key cannot exist without it
        raise CheckpointError("a typed PRNG key needs numbax_random to convert it; install numbax-random.") from None


def _key_to_state(key):
    return np.asarray(_random().key_data(key))


def _key_from_state(target, state):
    random = _random()
    want = np.shape(random.key_data(target))
    if np.shape(state) != want or np.asarray(state).dtype != np.uint32:
        raise _mismatch(f"from_state_dict: the target is a typed PRNG key {target.dtype}{list(np.shape(target))} "
                        f"(key data uint32{list(want)}) but the state holds {_describe(state)}", _FIX_TARGET)
    impl = random.key_impl(target) if hasattr(random, "key_impl") else None
    data = jnp.asarray(np.asarray(state))
    return random.wrap_key_data(data, impl=impl) if impl is not None else random.wrap_key_data(data)


# Strict leaves (``restore`` with a target): shapes, dtypes and kinds must agree.

_SCALAR_TYPES = (bool, int, float, complex, str, bytes, type(None))


def _describe(value):
    if isinstance(value, (np.ndarray, np.generic, numbax.Array)):
        return f"array {value.dtype.name}{list(value.shape)}"
    if isinstance(value, dict):
        return f"dict with keys {list(value)[:8]}"
    return f"{type(value).__name__} {value!r}"[:120]


def _check_leaf(target, value):
    if isinstance(target, _SCALAR_TYPES):
        if type(value) is not type(target):
            raise _mismatch(f"restore: the target leaf is {_describe(target)} but the checkpoint holds "
                            f"{_describe(value)}", _FIX_TARGET)
        return value
    if not (hasattr(target, "shape") and hasattr(target, "dtype")):
        return value  # a leaf type we know nothing about: as in Flax, take the stored value
    if not isinstance(value, (np.ndarray, np.generic)):
        raise _mismatch(f"restore: the target leaf is array {np.dtype(target.dtype).name}"
                        f"{list(target.shape)} but the checkpoint holds {_describe(value)}", _FIX_TARGET)
    if tuple(value.shape) != tuple(target.shape) or value.dtype != np.dtype(target.dtype):
        raise _mismatch(
            f"restore: the checkpoint holds {_describe(value)} where the target expects "
            f"{np.dtype(target.dtype).name}{list(target.shape)}",
            "Pass a target with the saved shape and dtype (restore without a target shows them), "
            "then reshape or cast the restored value yourself.")
    if isinstance(target, np.ndarray):
        return np.asarray(value)
    if isinstance(target, np.generic):
        return value[()] if isinstance(value, np.ndarray) else value
    result = jnp.asarray(value)
    if result.dtype != value.dtype:
        raise _mismatch(f"restore: the checkpoint holds {value.dtype.name} data, which a numbax array "
                        f"holds only with 64-bit types enabled",
                        "Call numbax.config.update('jax_enable_x64', True) first, or pass a NumPy array as target.")
    return result
