"""The Module machinery: dataclass modules, ``setup``/``@compact``, naming, and
the scope through which a module reads and writes the plain variables dict.

A module is a description of a computation. ``init``/``apply``/``bind`` clone
the top-level module onto a root :class:`Scope`; every submodule it creates
gets a child scope named after it (``Dense_0``, ``encoder``, ``layers_1``),
and ``self.param``/``self.variable`` read and write the variables dict at that
scope's path. PRNG keys are derived as in Flax (reference/nn.md section 4):
``fold_in(stream_root, sha1(path names + call count)[:4])``.
"""

import dataclasses
import functools
import hashlib
import inspect
import threading
from typing import Any

import numpy as np

__all__ = ["Module", "compact", "nowrap", "Scope", "Variable", "DenyList", "merge_param",
           "ModifyScopeVariableError", "InvalidRngError", "ScopeParamNotFoundError",
           "ScopeParamShapeError", "ScopeCollectionNotFound", "NameInUseError",
           "AssignSubModuleError", "SetAttributeFrozenModuleError", "CallCompactUnboundModuleError"]


# ----------------------------------------------------------------------------- errors

class ModifyScopeVariableError(ValueError):
    """A variable of a collection that is not mutable was written, e.g. BatchNorm
    in training mode under ``apply(variables, x)`` without ``mutable=['batch_stats']``."""

    def __init__(self, col, name, path):
        super().__init__(
            f'Cannot update variable "{name}" in "{_path_text(path)}" because collection "{col}" '
            f"is immutable. Pass mutable=['{col}'] to apply (it then returns (output, "
            f"updated_variables)), or run the module in a mode that does not write it.")


class InvalidRngError(ValueError):
    """``make_rng(stream)`` for a stream that the caller did not provide."""


class ScopeParamNotFoundError(KeyError):
    """``apply`` was given variables without a parameter the module reads."""

    def __init__(self, name, path):
        self.message = (f'Could not find parameter named "{name}" in scope "{_path_text(path)}". '
                        "The variables passed to apply must come from init of the same model "
                        "(check the params tree's names).")
        super().__init__(self.message)

    def __str__(self):
        return self.message


class ScopeParamShapeError(ValueError):
    """A stored parameter's shape differs from the one the layer's call needs,
    typically because the input's feature size changed since ``init``."""


class ScopeCollectionNotFound(KeyError):
    """A variable is read from a collection the caller did not pass."""

    def __init__(self, col, name, path):
        self.message = (f'Tried to access "{name}" from collection "{col}" in "{_path_text(path)}" '
                        f'but the collection is empty or missing. Pass it: apply({{"params": ..., '
                        f'"{col}": ...}}, ...), or make it mutable (mutable=["{col}"]) to create it.')
        super().__init__(self.message)

    def __str__(self):
        return self.message


class NameInUseError(ValueError):
    """Two submodules (or a submodule and a variable) got the same name in one scope."""


class AssignSubModuleError(ValueError):
    """A submodule was created outside ``setup`` or a ``@compact`` method."""


class SetAttributeFrozenModuleError(AttributeError):
    """A module attribute was assigned outside ``setup``."""


class CallCompactUnboundModuleError(RuntimeError):
    """A ``@compact`` method was called on a module that is not bound to variables."""


def _path_text(path):
    return "/" + "/".join(path)


# ----------------------------------------------------------------------------- collections filters

class DenyList:
    """A ``mutable=`` filter meaning every collection except those named."""

    def __init__(self, deny):
        self.deny = (deny,) if isinstance(deny, str) else tuple(deny)

    def __repr__(self):
        return f"DenyList({self.deny!r})"


def _in_filter(filter_, col):
    if isinstance(filter_, bool):
        return filter_
    if isinstance(filter_, str):
        return col == filter_
    if isinstance(filter_, DenyList):
        return col not in filter_.deny
    if isinstance(filter_, (list, tuple, set, frozenset)):
        return any(_in_filter(f, col) for f in filter_)
    raise TypeError(f"mutable= must be a bool, a collection name, a list of names or a DenyList; "
                    f"got {filter_!r}.")


def merge_param(name, a, b):
    """The one of a constructor field ``a`` and a call argument ``b`` that is set
    (Flax's rule for ``deterministic``/``use_running_average``)."""
    if a is None and b is None:
        raise ValueError(f'No value for "{name}" was given, neither as a module field nor as a call '
                         f"argument; pass it to one of them, e.g. {name}=True.")
    if a is not None and b is not None:
        raise ValueError(f'"{name}" was passed both as a module field and as a call argument; '
                         "pass it just once.")
    return a if b is None else b


# ----------------------------------------------------------------------------- scopes and rngs

def _rng_hash(data):
    """Flax's ``_fold_in_static`` hash: SHA-1 over strings (UTF-8) and ints
    (minimal big-endian bytes), no separators; the first 4 digest bytes as uint32."""
    digest = hashlib.sha1()
    for item in data:
        if isinstance(item, str):
            digest.update(item.encode("utf-8"))
        else:
            digest.update(item.to_bytes((item.bit_length() + 7) // 8, byteorder="big"))
    return int.from_bytes(digest.digest()[:4], byteorder="big")


def _fold_in(key, data):
    import numbax_random
    fold_in = getattr(numbax_random, "fold_in", None)
    if fold_in is None:
        raise NotImplementedError("numbax_nn derives parameter and dropout keys with "
                                  "numbax_random.fold_in, which this numbax_random lacks.")
    return fold_in(key, np.uint32(data))


class _Frame:
    """What one init/apply/bind shares across its scopes: the variables, the
    rng streams, which collections may change, and the tabulate call log."""

    def __init__(self, variables, rngs, mutable, initializing):
        self.variables = variables
        self.rngs = rngs
        self.mutable = mutable
        self.initializing = initializing
        self.call_log = None
        self.capture_intermediates = False


class Scope:
    """A path in the variables tree with per-stream rng counters. Scopes are
    created by init/apply/bind; modules only reach them through ``self.scope``."""

    def __init__(self, frame, path=()):
        self.frame = frame
        self.path = tuple(path)
        self.rng_counters = {}
        self.children = {}

    def push(self, name):
        if name not in self.children:
            self.children[name] = Scope(self.frame, self.path + (name,))
        return self.children[name]

    def is_mutable_collection(self, col):
        return _in_filter(self.frame.mutable, col)

    def _node(self, col, create=False):
        node = self.frame.variables.get(col)
        if node is None:
            if not create:
                return None
            node = self.frame.variables[col] = {}
        for name in self.path:
            child = node.get(name)
            if child is None:
                if not create:
                    return None
                child = node[name] = {}
            node = child
        return node

    def has_variable(self, col, name):
        node = self._node(col)
        return node is not None and name in node

    def get_variable(self, col, name, default=None):
        node = self._node(col)
        return default if node is None or name not in node else node[name]

    def put_variable(self, col, name, value):
        if not self.is_mutable_collection(col):
            raise ModifyScopeVariableError(col, name, self.path)
        self._node(col, create=True)[name] = value

    def make_rng(self, stream):
        rngs = self.frame.rngs
        if stream not in rngs:
            if "params" not in rngs:
                given = ", ".join(repr(s) for s in rngs) or "none"
                raise InvalidRngError(
                    f'{_path_text(self.path)} needs an rng for the stream "{stream}", but the call '
                    f"was given {given}. Pass it, e.g. module.apply(variables, ..., rngs={{'{stream}': "
                    f"numbax_random.key(0)}}), or run deterministically.")
            stream = "params"  # Flax falls back to the params stream when one exists.
        count = self.rng_counters[stream] = self.rng_counters.get(stream, 0) + 1
        return _fold_in(rngs[stream], _rng_hash(self.path + (count,)))

    def variables_view(self):
        return {col: node for col in self.frame.variables
                if (node := self._node(col)) is not None}


class Variable:
    """A handle on one variable; ``.value`` reads it, assigning ``.value`` writes
    it (which needs its collection to be mutable)."""

    def __init__(self, scope, collection, name):
        self.scope, self.collection, self.name = scope, collection, name

    @property
    def value(self):
        return self.scope.get_variable(self.collection, self.name)

    @value.setter
    def value(self, value):
        self.scope.put_variable(self.collection, self.name, value)

    def is_mutable(self):
        return self.scope.is_mutable_collection(self.collection)

    def __repr__(self):
        return f"Variable({self.collection}/{_path_text(self.scope.path)[1:]}/{self.name})"


# ----------------------------------------------------------------------------- module context

class _Context(threading.local):
    def __init__(self):
        self.stack = []


_context = _Context()
_unset = object()  # parent not given: the module whose method is running (or None)


def compact(fun):
    """Mark the one method of a Module class that defines submodules and
    parameters inline (usually ``__call__``)."""
    fun.numbax_compact = True
    return fun


def nowrap(fun):
    """Mark a Module method as a plain helper: it is not wrapped (no setup, no
    naming context), e.g. a method that only computes a shape."""
    fun.numbax_nowrap = True
    return fun


class _State:
    """Mutable bookkeeping of a (frozen) module instance."""

    def __init__(self):
        self.in_setup = False
        self.setup_called = False
        self.in_compact = False
        self.call_depth = 0
        self.autoname_cursor = {}
        self.used_names = set()
        self.children = {}


_RESERVED = {"setup", "param", "variable", "make_rng", "sow", "init", "init_with_output", "apply",
             "bind", "unbind", "clone", "is_initializing", "is_mutable_collection", "has_variable",
             "get_variable", "put_variable", "has_rng", "tabulate", "variables", "path"}


def _wrap_method(fun, is_compact):
    @functools.wraps(fun)
    def wrapped(self, *args, **kwargs):
        state = self._state
        if self.scope is None:
            if is_compact:
                raise CallCompactUnboundModuleError(
                    f"Can't call the @compact method {type(self).__name__}.{fun.__name__} of an unbound "
                    "module: it has no variables. Use module.init(rngs, *args) to create them, "
                    "module.apply(variables, *args) to run it, or module.bind(variables).")
            return fun(self, *args, **kwargs)
        self._try_setup()
        _context.stack.append(self)
        outer_compact = state.in_compact
        state.in_compact = is_compact or outer_compact
        state.call_depth += 1
        frame = self.scope.frame
        log_entry = None
        if frame.call_log is not None and fun.__name__ == "__call__":
            log_entry = [self.scope.path, type(self).__name__, args, kwargs, None]
            frame.call_log.append(log_entry)
        try:
            out = fun(self, *args, **kwargs)
        finally:
            state.call_depth -= 1
            state.in_compact = outer_compact
            _context.stack.pop()
            if state.call_depth == 0:
                # Names restart per call, so calling a module again reuses its submodules.
                state.autoname_cursor = {}
                state.used_names = set()
        if log_entry is not None:
            log_entry[4] = out
        if frame.capture_intermediates and fun.__name__ == "__call__":
            self.sow("intermediates", "__call__", out)
        return out

    wrapped.numbax_wrapped = True
    return wrapped


def _adopt(parent, name, value, adopted):
    """Give ``parent`` the unbound modules inside a field or setup attribute
    ``value`` (a module, or a list/tuple/dict of them), named ``name``,
    ``name_0``, ``name_key``; returns the value with bound clones."""
    if isinstance(value, Module):
        if value.scope is not None:
            return value  # already bound where it was created
        if value.parent is None:
            # Made outside any module: bind a copy, so the caller's object stays unbound.
            clone = adopted.get(id(value))
            if clone is None:
                clone = adopted[id(value)] = value.clone(parent=None, name=None)
                parent._register_child(clone, name)
            return clone
        if value.name is None:
            # Made unnamed in some setup(): it belongs to whoever takes it, as in Flax.
            parent._register_child(value, name)
        return value
    if isinstance(value, (list, tuple)):
        items = [_adopt(parent, f"{name}_{i}", v, adopted) for i, v in enumerate(value)]
        if all(a is b for a, b in zip(items, value)):
            return value
        return list(items) if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        items = {k: _adopt(parent, f"{name}_{k}", v, adopted) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    return value


# ----------------------------------------------------------------------------- Module

@dataclasses.dataclass(eq=False, repr=False)
class Module:
    """Base class of all layers and models (≈ ``flax.linen.Module``).

    Subclasses are dataclasses: annotated class attributes become constructor
    fields; ``parent`` and ``name`` are keyword-only extras. Define submodules
    and parameters either inline in one ``@compact`` method or in ``setup``.

    Example:
      >>> class MLP(Module):
      ...     features: tuple
      ...     @compact
      ...     def __call__(self, x):
      ...         for f in self.features[:-1]:
      ...             x = numbax.nn.relu(Dense(f)(x))
      ...         return Dense(self.features[-1])(x)
    """

    parent: Any = dataclasses.field(default=_unset, kw_only=True, repr=False)
    name: Any = dataclasses.field(default=None, kw_only=True)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        compact_methods = [k for k, v in cls.__dict__.items() if getattr(v, "numbax_compact", False)]
        if len(compact_methods) > 1:
            raise TypeError(f"{cls.__name__} has more than one @compact method ({compact_methods}); "
                            "only one method per Module class may be compact.")
        field_names = set(cls.__dict__.get("__annotations__", {}))
        for base in cls.__mro__[1:]:
            field_names.update(getattr(base, "__dataclass_fields__", {}))
        for key, value in list(cls.__dict__.items()):
            # Field defaults (kernel_init=...) are functions too; only methods get wrapped.
            if (inspect.isfunction(value) and key not in field_names
                    and (key == "__call__" or not key.startswith("_")) and key not in _RESERVED
                    and not getattr(value, "numbax_nowrap", False)
                    and not getattr(value, "numbax_wrapped", False)):
                setattr(cls, key, _wrap_method(value, getattr(value, "numbax_compact", False)))
        dataclasses.dataclass(cls, eq=False, repr=False)

    # -- construction and binding

    def __post_init__(self):
        object.__setattr__(self, "scope", None)
        parent = self.parent
        if parent is _unset:
            parent = _context.stack[-1] if _context.stack else None
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "_state", _State())
        if isinstance(parent, Scope):
            object.__setattr__(self, "scope", parent)
            self._adopt_fields()
        elif isinstance(parent, Module):
            pstate = parent._state
            if pstate.in_setup and self.name is None:
                return  # named when setup assigns it to an attribute
            if not (pstate.in_setup or pstate.in_compact):
                where = _path_text(parent.scope.path) if parent.scope else "unbound"
                raise AssignSubModuleError(
                    f"Submodule {type(self).__name__} must be defined in setup() or in a method "
                    f'wrapped in @compact of {type(parent).__name__} (at "{where}").')
            parent._register_child(self, self.name)

    def _auto_name(self, cls_name):
        cursor = self._state.autoname_cursor
        while True:
            index = cursor.get(cls_name, 0)
            cursor[cls_name] = index + 1
            name = f"{cls_name}_{index}"
            if name not in self._state.used_names:
                return name

    def _register_child(self, child, name):
        if name is None:
            name = self._auto_name(type(child).__name__)
        if not isinstance(name, str) or not name:
            raise TypeError(f"Module name must be a non-empty string, got {name!r}.")
        if name in self._state.used_names:
            raise NameInUseError(f'A submodule named "{name}" already exists in "{_path_text(self.scope.path)}" '
                                 f"({type(self).__name__}); give one of them another name=.")
        self._state.used_names.add(name)
        object.__setattr__(child, "name", name)
        object.__setattr__(child, "parent", self)
        object.__setattr__(child, "scope", self.scope.push(name))
        self._state.children[name] = child
        child._adopt_fields()

    def _adopt_fields(self):
        adopted = {}
        for field in dataclasses.fields(self):
            if field.name in ("parent", "name"):
                continue
            value = getattr(self, field.name)
            new = _adopt(self, field.name, value, adopted)
            if new is not value:
                object.__setattr__(self, field.name, new)

    def _try_setup(self):
        state = self._state
        if self.scope is None or state.setup_called:
            return
        state.setup_called = True
        state.in_setup = True
        _context.stack.append(self)
        try:
            self.setup()
        finally:
            _context.stack.pop()
            state.in_setup = False

    def setup(self):
        """Override to define submodules and parameters as attributes; runs
        lazily, once per binding, before the first method call."""

    def __setattr__(self, key, value):
        state = self.__dict__.get("_state")
        if state is None:  # the dataclass __init__ filling in fields
            object.__setattr__(self, key, value)
            return
        if not state.in_setup:
            raise SetAttributeFrozenModuleError(
                f"Can't set {key}={value!r} on {type(self).__name__}: modules are frozen outside "
                f"setup(). Assign in setup(), or make a modified copy with module.clone({key}=...).")
        object.__setattr__(self, key, _adopt(self, key, value, {}))

    def __getattr__(self, key):
        # Only reached for missing attributes: a bound module runs setup lazily.
        state = self.__dict__.get("_state")
        if state is not None and self.__dict__.get("scope") is not None and not state.setup_called:
            self._try_setup()
            return getattr(self, key)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def __repr__(self):
        fields = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                  if f.repr and f.name != "name"]
        if self.name is not None:
            fields.append(f"name={self.name!r}")
        return f"{type(self).__name__}({', '.join(fields)})"

    def clone(self, *, parent=None, **updates):
        """A copy with some fields replaced, unbound unless ``parent`` is given."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.init and f.name != "parent"}
        values.update(updates)
        return type(self)(**values, parent=parent)

    # -- variables

    def _scope_or_raise(self, what):
        if self.scope is None:
            raise CallCompactUnboundModuleError(
                f"{type(self).__name__}.{what} needs a bound module; call it from a method run by "
                "module.init/apply, or on module.bind(variables).")
        return self.scope

    @property
    def path(self):
        return self._scope_or_raise("path").path

    @property
    def variables(self):
        """The variables at this module's path, by collection."""
        return self._scope_or_raise("variables").variables_view()

    def param(self, name, init_fn, *init_args, unbox=True):
        """The parameter ``name`` in collection ``'params'``; on init creates it
        with ``init_fn(self.make_rng('params'), *init_args)``.

        When the first init argument is a shape (as for every built-in layer),
        a stored parameter of another shape raises ``ScopeParamShapeError``
        naming the path and both shapes. ``unbox`` is accepted for Flax
        compatibility; numbax_nn has no metadata boxes to unwrap."""
        del unbox
        scope = self._scope_or_raise("param")
        self._reserve_name(name)
        if scope.has_variable("params", name):
            value = scope.get_variable("params", name)
            if init_args and _is_shape(init_args[0]):
                expected = tuple(int(d) for d in init_args[0])
                if tuple(value.shape) != expected:
                    raise ScopeParamShapeError(
                        f'Parameter "{name}" of {_path_text(scope.path)} has shape {tuple(value.shape)} '
                        f"(as initialized) but this call needs {expected}: the input's shape differs "
                        "from the one the layer was initialized with. Re-run init with inputs of the "
                        "new shape, or fix the input.")
            return value
        if not scope.is_mutable_collection("params"):
            if scope.frame.initializing:
                raise ModifyScopeVariableError("params", name, scope.path)
            raise ScopeParamNotFoundError(name, scope.path)
        value = init_fn(scope.make_rng("params"), *init_args)
        scope.put_variable("params", name, value)
        return value

    def variable(self, col, name, init_fn=None, *init_args):
        """A :class:`Variable` in collection ``col``; created with
        ``init_fn(*init_args)`` (no rng) when missing and ``col`` is mutable."""
        scope = self._scope_or_raise("variable")
        self._reserve_name(name, col)
        if not scope.has_variable(col, name):
            if not scope.is_mutable_collection(col) or init_fn is None:
                raise ScopeCollectionNotFound(col, name, scope.path)
            scope.put_variable(col, name, init_fn(*init_args))
        return Variable(scope, col, name)

    def _reserve_name(self, name, col="params"):
        if name in self._state.children:
            raise NameInUseError(f'"{name}" in "{_path_text(self.scope.path)}" is already a submodule '
                                 f"name; a variable ({col}) can't reuse it.")

    def make_rng(self, name="params"):
        """A fresh key from stream ``name`` (falls back to ``'params'``)."""
        return self._scope_or_raise("make_rng").make_rng(name)

    def has_rng(self, name):
        return name in self._scope_or_raise("has_rng").frame.rngs

    def is_initializing(self):
        return self._scope_or_raise("is_initializing").frame.initializing

    def is_mutable_collection(self, col):
        return self._scope_or_raise("is_mutable_collection").is_mutable_collection(col)

    def has_variable(self, col, name):
        return self._scope_or_raise("has_variable").has_variable(col, name)

    def get_variable(self, col, name, default=None):
        return self._scope_or_raise("get_variable").get_variable(col, name, default)

    def put_variable(self, col, name, value):
        self._scope_or_raise("put_variable").put_variable(col, name, value)

    def sow(self, col, name, value):
        """Append ``value`` to the tuple ``col/name`` if ``col`` is mutable;
        returns whether it was stored."""
        scope = self._scope_or_raise("sow")
        if not scope.is_mutable_collection(col):
            return False
        scope.put_variable(col, name, scope.get_variable(col, name, ()) + (value,))
        return True

    # -- running

    def _bound_clone(self, variables, rngs, mutable, initializing):
        if not isinstance(variables, dict):
            raise TypeError(f"variables must be a dict of collections like {{'params': ...}}, got "
                            f"{type(variables).__name__}.")
        variables = {col: _copy_dicts(tree) if _in_filter(mutable, col) else tree
                     for col, tree in variables.items()}
        frame = _Frame(variables, _as_rngs(rngs), mutable, initializing)
        return self.clone(parent=Scope(frame)), frame

    def _run(self, variables, args, kwargs, rngs, method, mutable, initializing,
             capture_intermediates=False, call_log=None):
        if capture_intermediates and mutable is False:
            mutable = ["intermediates"]
        elif capture_intermediates:
            mutable = [mutable, "intermediates"] if not isinstance(mutable, bool) else mutable
        root, frame = self._bound_clone(variables, rngs, mutable, initializing)
        frame.capture_intermediates = capture_intermediates
        frame.call_log = call_log
        fun = _resolve_method(root, method)
        out = fun(root, *args, **kwargs)
        updated = {col: tree for col, tree in frame.variables.items()
                   if _in_filter(mutable, col) and tree != {}}
        return out, updated

    def init_with_output(self, rngs, *args, method=None, mutable=DenyList("intermediates"),
                         capture_intermediates=False, **kwargs):
        """``(output, variables)`` of running ``method`` while creating variables."""
        if rngs is None or (isinstance(rngs, dict) and not rngs):
            raise InvalidRngError("init needs an rng: module.init(numbax_random.key(0), *args) or "
                                  "module.init({'params': key, 'dropout': key2}, *args).")
        return self._run({}, args, kwargs, rngs, method, mutable, True, capture_intermediates)

    def init(self, rngs, *args, method=None, mutable=DenyList("intermediates"),
             capture_intermediates=False, **kwargs):
        """Create the variables: ``{'params': ..., other collections}``.

        Args:
          rngs: one key (the ``'params'`` stream) or a dict of named keys.
          *args, **kwargs: example inputs passed to ``method``.
          method: None (``__call__``), a method name, or a function ``f(module, ...)``.
          mutable: collections to create; default all but ``'intermediates'``.
        """
        return self.init_with_output(rngs, *args, method=method, mutable=mutable,
                                     capture_intermediates=capture_intermediates, **kwargs)[1]

    def apply(self, variables, *args, rngs=None, method=None, mutable=False,
              capture_intermediates=False, **kwargs):
        """Run ``method`` (default ``__call__``) with ``variables``.

        Returns the output, or ``(output, updated)`` when ``mutable`` (or
        ``capture_intermediates``) is given, ``updated`` holding just the
        mutable collections."""
        out, updated = self._run(variables, args, kwargs, rngs, method, mutable, False,
                                 capture_intermediates)
        return (out, updated) if mutable is not False or capture_intermediates else out

    def bind(self, variables, *args, rngs=None, mutable=False):
        """A bound copy for interactive use: its methods run with ``variables``."""
        del args
        root, _ = self._bound_clone(variables, rngs, mutable, False)
        return root

    def unbind(self):
        """``(unbound module, variables)`` of a bound module."""
        scope = self._scope_or_raise("unbind")
        return self.clone(), _copy_dicts(scope.variables_view())

    def tabulate(self, rngs, *args, depth=None, **kwargs):
        """``numbax_nn.tabulate(self, rngs, depth=depth)(*args, **kwargs)``."""
        from .summary import tabulate
        return tabulate(self, rngs, depth=depth)(*args, **kwargs)


def _is_shape(value):
    return isinstance(value, tuple) and all(isinstance(d, (int, np.integer)) for d in value)


def _copy_dicts(tree):
    if isinstance(tree, dict):
        return {k: _copy_dicts(v) for k, v in tree.items()}
    return tree


def _as_rngs(rngs):
    if rngs is None:
        return {}
    if isinstance(rngs, dict):
        return dict(rngs)
    return {"params": rngs}


def _resolve_method(root, method):
    if method is None:
        return type(root).__call__
    if isinstance(method, str):
        fun = getattr(type(root), method, None)
        if fun is None:
            raise AttributeError(f"{type(root).__name__} has no method {method!r} to apply.")
        return fun
    return method
