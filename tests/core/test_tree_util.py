"""Pytrees with JAX's conventions."""

import collections
import dataclasses

import numpy as np
import pytest

import numbax
from numbax import tree_util


def test_none_is_an_empty_subtree_and_dicts_are_sorted():
    leaves, treedef = numbax.tree.flatten({"b": 2, "a": (1, None), "c": [3]})
    assert leaves == [1, 2, 3]
    assert numbax.tree.unflatten(treedef, [10, 20, 30]) == {"a": (10, None), "b": 20, "c": [30]}


def test_namedtuple_and_ordereddict_keep_types():
    Point = collections.namedtuple("Point", "x y")
    tree = {"p": Point(1, 2), "o": collections.OrderedDict([("z", 1), ("a", 2)])}
    mapped = numbax.tree.map(lambda v: v * 10, tree)
    assert isinstance(mapped["p"], Point) and mapped["p"] == Point(10, 20)
    assert isinstance(mapped["o"], collections.OrderedDict)
    assert list(mapped["o"].keys()) == ["z", "a"]


def test_map_multiple_trees_reduce_all_structure():
    a, b = {"x": 1, "y": [2, 3]}, {"x": 10, "y": [20, 30]}
    assert numbax.tree.map(lambda u, v: u + v, a, b) == {"x": 11, "y": [22, 33]}
    assert numbax.tree.reduce(lambda u, v: u + v, a) == 6
    assert numbax.tree.all({"x": True, "y": [1, 2]}) and not numbax.tree.all([True, 0])
    assert numbax.tree.structure(a) == numbax.tree.structure(b)
    assert numbax.tree.leaves([np.ones(2), (3,)])[1] == 3


def test_register_pytree_node():
    class Box:
        def __init__(self, value, label):
            self.value, self.label = value, label

    tree_util.register_pytree_node(Box, lambda b: ((b.value,), b.label), lambda label, ch: Box(ch[0], label))
    out = numbax.tree.map(lambda v: v + 1, [Box(1, "a")])
    assert out[0].value == 2 and out[0].label == "a"


def test_register_pytree_node_class_and_dataclass():
    @tree_util.register_pytree_node_class
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

        def tree_flatten(self):
            return (self.a, self.b), None

        @classmethod
        def tree_unflatten(cls, aux, children):
            return cls(*children)

    @tree_util.register_dataclass
    @dataclasses.dataclass
    class Params:
        w: object
        name: str = dataclasses.field(default="p", metadata={"static": True})

    assert numbax.tree.leaves(Pair(1, 2)) == [1, 2]
    p = numbax.tree.map(lambda v: v * 2, Params(w=3, name="layer"))
    assert p.w == 6 and p.name == "layer"
    assert numbax.tree.leaves(Params(w=[1, 2])) == [1, 2]


def test_paths():
    pairs, _ = tree_util.tree_flatten_with_path({"params": {"w": 1}, "seq": [5, 6]})
    assert [tree_util.keystr(p) for p, _ in pairs] == ["['params']['w']", "['seq'][0]", "['seq'][1]"]


def test_unflatten_with_wrong_leaf_count():
    _, treedef = numbax.tree.flatten([1, 2])
    with pytest.raises(ValueError):
        numbax.tree.unflatten(treedef, [1])
