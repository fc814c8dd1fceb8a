"""Pytrees on optree, with JAX's conventions: None is an empty subtree,
dict keys are sorted, namedtuples/OrderedDicts/defaultdicts keep their types.
User types join through ``register_pytree_node`` (or the class/dataclass
decorators) in numbax's own optree namespace."""

import dataclasses
import functools

import optree

NAMESPACE = "numbax"

PyTreeDef = optree.PyTreeSpec


def _kw(none_is_leaf=False, is_leaf=None):
    return {"is_leaf": is_leaf, "none_is_leaf": none_is_leaf, "namespace": NAMESPACE}


def tree_flatten(tree, is_leaf=None):
    """``(leaves, treedef)``; leaves in JAX's order (dict keys sorted)."""
    return optree.tree_flatten(tree, **_kw(is_leaf=is_leaf))


def tree_flatten_with_path(tree, is_leaf=None):
    """``([(path, leaf), ...], treedef)`` with JAX-style key entries."""
    paths, leaves, treedef = optree.tree_flatten_with_path(tree, **_kw(is_leaf=is_leaf))
    keyed = [tuple(_key_entry(treedef_path_key) for treedef_path_key in path) for path in paths]
    return list(zip(keyed, leaves)), treedef


def tree_leaves(tree, is_leaf=None):
    return optree.tree_leaves(tree, **_kw(is_leaf=is_leaf))


def tree_structure(tree, is_leaf=None):
    return optree.tree_structure(tree, **_kw(is_leaf=is_leaf))


def tree_unflatten(treedef, leaves):
    return optree.tree_unflatten(treedef, leaves)


def tree_map(f, tree, *rest, is_leaf=None):
    """Apply ``f`` to corresponding leaves of ``tree`` and ``rest`` (same structure)."""
    return optree.tree_map(f, tree, *rest, **_kw(is_leaf=is_leaf))


def tree_map_with_path(f, tree, *rest, is_leaf=None):
    """Like ``tree_map`` but ``f(path, *leaves)`` also gets the key path."""
    return optree.tree_map_with_path(lambda path, *xs: f(tuple(map(_key_entry, path)), *xs),
                                     tree, *rest, **_kw(is_leaf=is_leaf))


def tree_reduce(function, tree, initializer=None, is_leaf=None):
    leaves = tree_leaves(tree, is_leaf)
    if initializer is None:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree, is_leaf=None):
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    return optree.tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose)


def treedef_children(treedef):
    return treedef.children()


def treedef_is_leaf(treedef):
    return treedef.is_leaf()


def all_leaves(iterable):
    return all(tree_structure(x).is_leaf() for x in iterable)


def register_pytree_node(nodetype, flatten_func, unflatten_func):
    """Make ``nodetype`` a pytree: ``flatten_func(x) -> (children, aux_data)``,
    ``unflatten_func(aux_data, children) -> x`` (JAX's signatures)."""
    optree.register_pytree_node(nodetype, flatten_func, unflatten_func, namespace=NAMESPACE)
    return nodetype


def register_pytree_node_class(cls):
    """Class decorator: ``cls`` defines ``tree_flatten()`` and classmethod
    ``tree_unflatten(aux_data, children)``."""
    return register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)


def register_dataclass(nodetype=None, *, data_fields=None, meta_fields=None):
    """Register a dataclass: ``data_fields`` are children, ``meta_fields`` static.
    With no field lists, fields marked ``field(metadata={'static': True})`` are
    static and the rest are data."""
    if nodetype is None:
        return functools.partial(register_dataclass, data_fields=data_fields, meta_fields=meta_fields)
    if data_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(f"register_dataclass: {nodetype.__name__} is not a dataclass; pass "
                            "data_fields= and meta_fields= explicitly.")
        fields = [f for f in dataclasses.fields(nodetype) if f.init]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields or ())

    def flatten(x):
        return [getattr(x, n) for n in data_fields], tuple(getattr(x, n) for n in meta_fields)

    def unflatten(meta, children):
        return nodetype(**dict(zip(data_fields, children)), **dict(zip(meta_fields, meta)))

    return register_pytree_node(nodetype, flatten, unflatten)


# --- key paths ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DictKey:
    key: object

    def __str__(self):
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    idx: int

    def __str__(self):
        return f"[{self.idx}]"


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    name: str

    def __str__(self):
        return f".{self.name}"


def _key_entry(key):
    # optree paths hold sequence indices as ints and mapping keys as themselves.
    return SequenceKey(key) if isinstance(key, int) and not isinstance(key, bool) else DictKey(key)


def keystr(path):
    """``"['params']['kernel']"`` for a key path."""
    return "".join(str(k) for k in path)


__all__ = ["PyTreeDef", "tree_flatten", "tree_flatten_with_path", "tree_leaves", "tree_structure",
           "tree_unflatten", "tree_map", "tree_map_with_path", "tree_reduce", "tree_all",
           "tree_transpose", "treedef_children", "treedef_is_leaf", "all_leaves",
           "register_pytree_node", "register_pytree_node_class", "register_dataclass",
           "DictKey", "SequenceKey", "GetAttrKey", "keystr"]
