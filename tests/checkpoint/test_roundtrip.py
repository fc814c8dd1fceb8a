"""Round trips over every supported leaf type; the encoding of each is checked
against the msgpack library packing Flax's record layout by hand."""

import collections

import msgpack
import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
import numbax_checkpoint as nc
from numbax_checkpoint import msgpack_format

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"]
SHAPES = [(), (0,), (3,), (2, 0, 3), (2, 3)]


def flax_record(array, code=1):
    """Flax's ext record for ``array``: ExtType(code, packb([shape, dtype name, C-order bytes]))."""
    array = np.asarray(array)
    payload = msgpack.packb([list(array.shape), array.dtype.name, array.tobytes("C")], use_bin_type=True)
    return msgpack.packb(msgpack.ExtType(code, payload), use_bin_type=True)


def sample(dtype, shape):
    rng = np.random.default_rng(len(shape) * 31 + len(dtype))
    values = rng.standard_normal(shape) * 100
    if dtype.startswith("complex"):
        values = values + 1j * rng.standard_normal(shape)
    return np.asarray(values > 0 if dtype == "bool" else values).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_array_record_and_round_trip(dtype, shape):
    array = sample(dtype, shape)
    blob = nc.msgpack_serialize(array)
    assert blob == flax_record(array)
    back = nc.msgpack_restore(blob)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("dtype", ["bool", "int64", "uint16", "float32", "complex128"])
def test_numpy_scalars_are_ext_3(dtype):
    scalar = sample(dtype, ())[()]
    blob = nc.msgpack_serialize(scalar)
    assert blob == flax_record(scalar, code=3)
    back = nc.msgpack_restore(blob)
    assert type(back) is type(scalar) and back == scalar


@pytest.mark.parametrize("view", [
    lambda a: a.T, lambda a: a[:, ::2], lambda a: a[::-1], lambda a: a.astype(">i4"), lambda a: a[1, 2, ...]],
    ids=["transposed", "strided", "reversed", "big-endian", "0-d view"])
def test_non_contiguous_and_foreign_byte_order(view):
    source = view(np.arange(24, dtype=np.int32).reshape(4, 6))
    expected = np.array(source, dtype=np.int32)  # C order, native byte order
    blob = nc.to_bytes({"a": source})
    assert blob == b"\x81\xa1a" + flax_record(expected)
    np.testing.assert_array_equal(nc.msgpack_restore(blob)["a"], expected)


def test_python_leaves_are_native_msgpack():
    tree = {"n": None, "b": True, "i": -7, "big": 2**63, "f": 0.1, "s": "é", "y": b"\x00\xff", "c": 3 - 4j}
    expected_without_complex = msgpack.packb({k: v for k, v in tree.items() if k != "c"}, use_bin_type=True)
    blob = nc.to_bytes(tree)
    assert blob.startswith(b"\x88" + expected_without_complex[1:])
    assert nc.msgpack_restore(blob) == tree


def test_chunked_arrays(monkeypatch):
    monkeypatch.setattr(msgpack_format, "MAX_CHUNK_SIZE", 16)  # 4 float32 per chunk
    array = np.arange(10, dtype=np.float32).reshape(2, 5)
    flat = array.reshape(-1)
    expected = b"\x81\xa1w\x83" + msgpack.packb("__msgpack_chunked_array__") + b"\xc3" \
        + msgpack.packb("shape") + msgpack.packb({"0": 2, "1": 5}) + msgpack.packb("chunks") + b"\x83" \
        + b"".join(msgpack.packb(str(i)) + flax_record(flat[4 * i:4 * i + 4]) for i in range(3))
    blob = nc.to_bytes({"w": array})
    assert blob == expected
    np.testing.assert_array_equal(nc.msgpack_restore(blob)["w"], array)


ScaleByAdamState = collections.namedtuple("ScaleByAdamState", "count mu nu")


def training_state():
    params = {"Dense_0": {"kernel": jnp.ones((3, 4)), "bias": jnp.zeros(4)}}
    zeros = numbax.tree.map(jnp.zeros_like, params)
    return {"variables": {"params": params, "batch_stats": {"mean": jnp.arange(4.0)}},
            "opt_state": (ScaleByAdamState(jnp.asarray(5), zeros, zeros), ()),
            "step": 12, "rng": np.array([0, 42], np.uint32)}


def assert_trees_equal(got, want):
    assert numbax.tree.structure(got) == numbax.tree.structure(want)
    for g, w in zip(numbax.tree.leaves(got), numbax.tree.leaves(want)):
        assert type(g) is type(w)
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
        assert np.asarray(g).dtype == np.asarray(w).dtype


def test_training_state_round_trip(tmp_path):
    state = training_state()
    nc.save(tmp_path / "ckpt", state)
    assert_trees_equal(nc.restore(tmp_path / "ckpt", training_state()), state)
    raw = nc.restore(tmp_path / "ckpt")
    assert set(raw["opt_state"]) == {"0", "1"} and set(raw["opt_state"]["0"]) == {"count", "mu", "nu"}
    assert raw["opt_state"]["1"] == {} and raw["step"] == 12


def test_shape_dtype_struct_target_gives_numbax_arrays(tmp_path):
    nc.save(tmp_path / "ckpt", {"w": np.arange(6, dtype=np.float32).reshape(2, 3)})
    restored = nc.restore(tmp_path / "ckpt", {"w": numbax.ShapeDtypeStruct((2, 3), np.float32)})["w"]
    assert isinstance(restored, numbax.Array)
    np.testing.assert_array_equal(np.asarray(restored), np.arange(6).reshape(2, 3))


@pytest.mark.parametrize("change, message", [
    (lambda t: t["variables"]["params"]["Dense_0"].update(bias=jnp.zeros(4, jnp.int32)),
     r"array float32\[4\] where the target expects int32\[4\] at path \./variables/params/Dense_0/bias"),
    (lambda t: t["variables"].pop("batch_stats"),
     r"key\(s\) \['batch_stats'\] that the target lacks at path \./variables in .*partial=True"),
    (lambda t: t.update(step=12.0), r"target leaf is float 12\.0 but the checkpoint holds int 12 at path \./step"),
    (lambda t: t.update(extra=1), r"no key 'extra' that the target has at path \./extra"),
    (lambda t: t.update(opt_state=(t["opt_state"][0],)), r"tuple has length 1 but the state has 2 .* \./opt_state"),
])
def test_strict_restore_names_the_first_mismatch(tmp_path, change, message):
    nc.save(tmp_path / "ckpt", training_state())
    target = training_state()
    change(target)
    with pytest.raises(nc.CheckpointError, match=message) as error:
        nc.restore(tmp_path / "ckpt", target)
    assert f"in {tmp_path / 'ckpt'}" in str(error.value)


def test_partial_restore_takes_only_the_targets_keys(tmp_path):
    nc.save(tmp_path / "ckpt", training_state())
    params = nc.restore(tmp_path / "ckpt", {"variables": {"params": training_state()["variables"]["params"]}},
                        partial=True)
    assert list(params["variables"]) == ["params"]
    np.testing.assert_array_equal(np.asarray(params["variables"]["params"]["Dense_0"]["kernel"]), np.ones((3, 4)))


def test_real_optimizer_state(tmp_path):
    optim = pytest.importorskip("numbax_optim")
    if not hasattr(optim, "adam"):
        pytest.skip("numbax_optim has no adam yet")
    params = {"w": jnp.ones((2, 2)), "b": jnp.zeros(2)}
    opt_state = optim.adam(1e-3).init(params)
    nc.save(tmp_path / "opt", {"opt_state": opt_state})
    restored = nc.restore(tmp_path / "opt", {"opt_state": optim.adam(1e-3).init(params)})["opt_state"]
    assert_trees_equal(restored, opt_state)
