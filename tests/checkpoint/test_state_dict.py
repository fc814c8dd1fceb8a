"""State-dict conventions (reference/checkpoint.md A2, A5) and the type registry."""

import collections
import dataclasses
import sys
import types

import numpy as np
import pytest

import numbax.numpy as jnp
import numbax_checkpoint as nc

Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass(frozen=True)
class TrainState:
    step: int
    params: dict
    apply_fn: object = dataclasses.field(default=None, metadata={"pytree_node": False})


def test_containers_become_string_keyed_dicts():
    tree = {"l": [1, 2], "t": (3,), "p": Point(4, 5), 7: None, "e": ()}
    assert nc.to_state_dict(tree) == {"l": {"0": 1, "1": 2}, "t": {"0": 3}, "p": {"x": 4, "y": 5},
                                      "7": None, "e": {}}


def test_dataclass_fields_without_static_ones():
    state = TrainState(3, {"w": 1.0}, apply_fn=print)
    assert nc.to_state_dict(state) == {"step": 3, "params": {"w": 1.0}}
    restored = nc.from_state_dict(state, {"step": 9, "params": {"w": 2.0}})
    assert restored == TrainState(9, {"w": 2.0}, apply_fn=print)
    with pytest.raises(nc.CheckpointError, match=r"field\(s\) \['extra'\] that TrainState does not have"):
        nc.from_state_dict(state, {"step": 9, "params": {"w": 2.0}, "extra": 1})


def test_from_state_dict_follows_the_target_and_keeps_key_objects():
    target = {1: [0, 0], "p": Point(0, 0), "t": (0,)}
    state = {"1": {"0": 5, "1": 6}, "p": {"x": 1, "y": 2}, "t": {"0": 3}, "dropped": 4}
    assert nc.from_state_dict(target, state) == {1: [5, 6], "p": Point(1, 2), "t": (3,)}


def test_flax_leaves_are_taken_verbatim():
    # Flax semantics: the target gives structure only, so a float64 value restores into an int32 leaf
    restored = nc.from_state_dict({"a": np.zeros(2, np.int32)}, {"a": np.ones(3)})
    assert restored["a"].dtype == np.float64 and restored["a"].shape == (3,)


def test_legacy_namedtuple_layout():
    legacy = {"name": "Point", "fields": {"0": "x", "1": "y"}, "values": {"0": 1, "1": 2}}
    assert nc.from_state_dict(Point(0, 0), legacy) == Point(1, 2)


@pytest.mark.parametrize("target, state, message", [
    ([0, 0], {"0": 1}, r"target list has length 2 but the state has 1 entries at path \. in the state dict"),
    ({"a": {"b": 0}}, {"a": {"c": 1}}, r"no key 'b' that the target has at path \./a/b"),
    (Point(0, 0), {"x": 1}, r"fields \['x', 'y'\] differ from the state's keys \['x'\] at path \. in"),
    ({"a": [0]}, {"a": 3}, r"the target has a list of length 1 but the state holds int 3 at path \./a"),
])
def test_mismatches_name_the_path(target, state, message):
    with pytest.raises(nc.CheckpointError, match=message):
        nc.from_state_dict(target, state)


def test_colliding_keys_and_double_registration():
    with pytest.raises(nc.CheckpointError, match=r"two keys of a dict become the same string '1'"):
        nc.to_state_dict({1: 0, "1": 0})
    with pytest.raises(nc.CheckpointError, match=r"dict is already registered. Pass override=True"):
        nc.register_serialization_state(dict, dict, dict)


def test_registered_custom_type(tmp_path):
    class Box:
        def __init__(self, value):
            self.value = value

    nc.register_serialization_state(
        Box, lambda box: {"value": nc.to_state_dict(box.value)},
        lambda box, state: Box(nc.from_state_dict(box.value, state["value"], name="value")))
    blob = nc.to_bytes({"box": Box(np.arange(3))})
    assert blob == nc.to_bytes({"box": {"value": np.arange(3)}})
    restored = nc.from_bytes({"box": Box(None)}, blob)
    np.testing.assert_array_equal(restored["box"].value, [0, 1, 2])
    nc.save(tmp_path / "box", {"box": Box(np.arange(3))})
    with pytest.raises(nc.CheckpointError, match=r"int64\[3\] where the target expects int64\[4\] at path \./box/v"):
        nc.restore(tmp_path / "box", {"box": Box(np.zeros(4, np.int64))})  # the path runs through a custom type


def test_unserializable_leaf_names_its_path():
    with pytest.raises(TypeError, match=r"cannot serialize a set at path \./a/0\. Register the type"):
        nc.to_bytes({"a": [{1, 2}]})
    with pytest.raises(nc.UnsupportedTypeError, match=r"tuple at path \.\. .*call to_bytes"):
        nc.msgpack_serialize((1, 2))
    with pytest.raises(nc.UnsupportedTypeError, match=r"path \./o has dtype object"):
        nc.to_bytes({"o": np.array([None])})


class FakeKey:
    """A typed key as numbax_random makes them: dtype 'key<fry>', data uint32[..., 2]."""

    dtype = "key<fry>"

    def __init__(self, data):
        self.data = np.asarray(data, np.uint32)
        self.shape = self.data.shape[:-1]


def test_typed_keys_by_duck_typing(monkeypatch):
    fake = types.SimpleNamespace(key_data=lambda key: key.data, wrap_key_data=FakeKey)
    monkeypatch.setitem(sys.modules, "numbax_random", fake)
    key = FakeKey([[1, 2], [3, 4]])
    assert nc.is_typed_key(key) and not nc.is_typed_key(np.zeros(2, np.uint32))
    blob = nc.to_bytes({"rng": key})
    assert blob == nc.to_bytes({"rng": np.array([[1, 2], [3, 4]], np.uint32)})
    restored = nc.from_bytes({"rng": FakeKey([[0, 0], [0, 0]])}, blob)["rng"]
    assert isinstance(restored, FakeKey)
    np.testing.assert_array_equal(restored.data, [[1, 2], [3, 4]])
    with pytest.raises(nc.CheckpointError, match=r"typed PRNG key key<fry>\[\] \(key data uint32\[2\]\) .* "
                                                  r"at path \./rng"):
        nc.from_bytes({"rng": FakeKey([0, 0])}, blob)


def test_real_numbax_random_keys(tmp_path):
    random = pytest.importorskip("numbax_random")
    if not hasattr(random, "key"):
        pytest.skip("numbax_random has no typed keys yet")
    keys = random.split(random.key(42), 3)
    nc.save(tmp_path / "k", {"keys": keys})
    raw = nc.restore(tmp_path / "k")["keys"]
    np.testing.assert_array_equal(raw, np.asarray(random.key_data(keys)))
    restored = nc.restore(tmp_path / "k", {"keys": random.split(random.key(0), 3)})["keys"]
    assert nc.is_typed_key(restored)
    np.testing.assert_array_equal(np.asarray(random.key_data(restored)), raw)
    np.testing.assert_array_equal(np.asarray(random.uniform(restored[1], (4,))),
                                  np.asarray(random.uniform(keys[1], (4,))))


def test_numbax_arrays_serialize_as_numpy():
    assert nc.to_bytes({"x": jnp.arange(3.0)}) == nc.to_bytes({"x": np.arange(3, dtype=np.float32)})
