"""Flax interop, checked against the file Flax wrote (reference/flax_sample.msgpack)
and the contents listed for it (reference/flax_sample.json)."""

import collections
import hashlib
import json
import pathlib

import msgpack
import numpy as np
import pytest

import numbax_checkpoint as nc

REFERENCE = pathlib.Path("/work/shared/reference")
if not (REFERENCE / "flax_sample.msgpack").exists():
    REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "shared" / "reference"
SAMPLE = (REFERENCE / "flax_sample.msgpack").read_bytes() if (REFERENCE / "flax_sample.msgpack").exists() else None
EXPECTED = json.loads((REFERENCE / "flax_sample.json").read_text()) if SAMPLE else None
pytestmark = pytest.mark.skipif(SAMPLE is None, reason="the Flax sample lives in the shared reference folder")


def expected_leaves(node, path=()):
    """(path, description) for every leaf listed in flax_sample.json."""
    if isinstance(node, dict) and "__kind__" not in node:
        for key, value in node.items():
            yield from expected_leaves(value, path + (key,))
    else:
        yield path, node


def lookup(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def test_sample_is_the_documented_file():
    assert len(SAMPLE) == EXPECTED["size_bytes"]
    assert hashlib.sha256(SAMPLE).hexdigest() == EXPECTED["sha256"]


def test_msgpack_restore_reproduces_every_leaf_exactly():
    restored = nc.msgpack_restore(SAMPLE)
    leaves = list(expected_leaves(EXPECTED["state_dict"]))
    assert len(leaves) == 29 and restored["opt_state"]["1"] == {}  # EmptyState is an empty map
    for path, want in leaves:
        got = lookup(restored, path)
        kind = want.get("__kind__", "") if isinstance(want, dict) else ""
        if kind.startswith("ndarray"):
            dtype = "float32" if want["dtype"] == "bfloat16" else want["dtype"]  # no ml_dtypes: widened exactly
            assert isinstance(got, np.ndarray) and got.dtype == np.dtype(dtype), path
            assert got.shape == tuple(want["shape"]), path
            np.testing.assert_array_equal(got, np.array(want["values"], dtype=dtype))
            if want["dtype"] != "bfloat16":
                assert got.tobytes().hex() == want["raw_hex"], path
            else:  # bf16 bits are the top half of the float32 bits
                top = (got.view(np.uint32) >> 16).astype("<u2")
                assert top.tobytes().hex() == want["raw_hex"], path
        elif kind.startswith("numpy scalar"):
            assert type(got) is np.int64 and got == want["value"]
            assert got.tobytes().hex() == want["raw_hex"]
        elif kind.startswith("python complex"):
            assert type(got) is complex and got == complex(want["real"], want["imag"])
        else:
            assert type(got) is type(want) and got == want, path


def test_negative_zero_keeps_its_sign_bit():
    kernel = nc.msgpack_restore(SAMPLE)["params"]["Dense_1"]["kernel"]
    assert kernel[0, 0] == 0.0 and np.signbit(kernel[0, 0])


def test_restored_arrays_are_read_only_numpy_as_in_flax():
    kernel = nc.msgpack_restore(SAMPLE)["params"]["Dense_0"]["kernel"]
    assert not kernel.flags.writeable


def _widen_bf16(raw_tree):
    """The sample's msgpack tree (ExtTypes undecoded) with each bf16 record
    replaced by the float32 record holding the same values, built with the
    msgpack library alone."""
    if isinstance(raw_tree, dict):
        return {key: _widen_bf16(value) for key, value in raw_tree.items()}
    if isinstance(raw_tree, msgpack.ExtType) and raw_tree.code == 1:
        shape, dtype, data = msgpack.unpackb(raw_tree.data, raw=True)
        if dtype == b"bfloat16":
            widened = (np.frombuffer(data, "<u2").astype("<u4") << 16).tobytes()
            return msgpack.ExtType(1, msgpack.packb([shape, "float32", widened], use_bin_type=True))
    return raw_tree


def test_to_bytes_of_the_restored_tree_matches_flax_bytes():
    raw = msgpack.unpackb(SAMPLE, strict_map_key=False)
    assert msgpack.packb(raw, use_bin_type=True) == SAMPLE  # the format is deterministic
    ours = nc.to_bytes(nc.msgpack_restore(SAMPLE))
    assert ours == msgpack.packb(_widen_bf16(raw), use_bin_type=True)
    # everything before the first bf16 record is byte-identical to Flax's file
    first_bf16 = SAMPLE.index(b"bfloat16")
    assert ours[:first_bf16 - 12] == SAMPLE[:first_bf16 - 12]


def test_worked_byte_examples_from_the_reference():
    step = nc.to_bytes({"step": np.asarray(1000, np.int32)})
    assert step == bytes.fromhex("81 a4 73746570 c7 0e 01 93 90 a5") + b"int32" + bytes.fromhex("c4 04 e8030000")
    scalar = nc.msgpack_serialize(np.float32(1.5))
    assert scalar == bytes.fromhex("d8 03 93 90 a7") + b"float32" + bytes.fromhex("c4 04 0000c03f")
    assert nc.msgpack_serialize(1 + 2j) == bytes.fromhex("c7 13 02 92 cb") + np.float64(1).tobytes()[::-1] \
        + b"\xcb" + np.float64(2).tobytes()[::-1]
    assert nc.msgpack_serialize({"x": 2**40}) == bytes.fromhex("81 a1 78 cf") + (2**40).to_bytes(8, "big")


class ScaleByAdamState(collections.namedtuple("ScaleByAdamState", "count mu nu")):
    pass


class EmptyState(collections.namedtuple("EmptyState", "")):
    pass


def sample_target():
    zeros = {"Dense_0": {"kernel": np.zeros((3, 4), np.float32), "bias": np.zeros(4, np.float32)},
             "Dense_1": {"kernel": np.zeros((4, 2), np.float32), "bias": np.zeros(2, np.float32)},
             "LayerNorm_0": {"scale": np.zeros(2, np.float32), "bias": np.zeros(2, np.float32)}}
    extras = {"epoch": np.int64(0), "lr": 0.0, "name": "", "flags": [False, None], "shape": (0, 0),
              "phase": 0j, "rng": np.zeros(2, np.uint32)}
    return {"step": np.asarray(0, np.int32), "params": zeros,
            "opt_state": (ScaleByAdamState(np.asarray(0, np.int32), zeros, zeros), EmptyState()), "extras": extras}


def test_from_bytes_rebuilds_the_targets_containers():
    restored = nc.from_bytes(sample_target(), SAMPLE)
    adam, empty = restored["opt_state"]
    assert type(adam) is ScaleByAdamState and type(empty) is EmptyState
    assert restored["extras"]["flags"] == [True, None] and restored["extras"]["shape"] == (7, 11)
    np.testing.assert_array_equal(restored["params"]["Dense_0"]["bias"], [0.5, -0.5, 0.0, 1.0])
    assert list(restored["opt_state"][0].mu["Dense_0"]) == ["kernel", "bias"]  # the target's order, as in Flax


def test_strict_restore_of_the_flax_file(tmp_path):
    path = tmp_path / "flax.msgpack"
    path.write_bytes(SAMPLE)  # a plain Flax file: no checksum marks, read as it is
    restored = nc.restore(path, sample_target())
    assert restored["extras"]["epoch"] == 3
    target = sample_target()
    target["params"]["Dense_0"]["kernel"] = np.zeros((4, 3), np.float32)
    with pytest.raises(nc.CheckpointError, match=r"float32\[3, 4\] where the target expects float32\[4, 3\] "
                                                 r"at path \./params/Dense_0/kernel in .*flax\.msgpack"):
        nc.restore(path, target)


def test_from_bytes_names_the_missing_key_path():
    target = sample_target()
    target["params"]["Dense_2"] = {"kernel": np.zeros(1)}
    with pytest.raises(ValueError, match=r"no key 'Dense_2' .* at path \./params/Dense_2"):
        nc.from_bytes(target, SAMPLE)
