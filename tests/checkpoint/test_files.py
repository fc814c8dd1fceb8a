"""save/restore of one file: atomic replacement and damaged-file detection."""

import hashlib

import msgpack
import numpy as np
import pytest

import numbax_checkpoint as nc

TREE = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "step": 7, "name": "run"}


def saved(tmp_path):
    path = tmp_path / "ckpt.msgpack"
    nc.save(path, TREE)
    return path, path.read_bytes()


def test_file_is_flax_msgpack_with_a_checksum(tmp_path):
    path, data = saved(tmp_path)
    # a plain msgpack reader sees the state plus our two marks
    raw = msgpack.unpackb(data, strict_map_key=False)
    assert list(raw) == ["__numbax_checkpoint__", "w", "step", "name", "__numbax_sha256__"]
    assert raw["__numbax_checkpoint__"]["format"] == 1
    trailer = msgpack.packb("__numbax_sha256__") + msgpack.packb(raw["__numbax_sha256__"])
    assert data.endswith(trailer)
    assert raw["__numbax_sha256__"] == hashlib.sha256(data[:-len(trailer)]).hexdigest()
    # its state entries are Flax's bytes for the same dict
    body = nc.to_bytes(TREE)[1:]
    header_end = data.index(msgpack.packb("w"))
    assert data[header_end:-len(trailer)] == body
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.msgpack"]  # no temporary left behind


def test_restore_without_target_gives_numpy_state(tmp_path):
    path, _ = saved(tmp_path)
    restored = nc.restore(path)
    assert restored.keys() == TREE.keys() and restored["step"] == 7 and restored["name"] == "run"
    np.testing.assert_array_equal(restored["w"], TREE["w"])


def test_existing_file_needs_force(tmp_path):
    path, before = saved(tmp_path)
    with pytest.raises(nc.CheckpointError, match=r"ckpt\.msgpack already exists\. Pass force=True"):
        nc.save(path, {"x": 1})
    assert path.read_bytes() == before
    nc.save(path, {"x": 1}, force=True)
    assert nc.restore(path) == {"x": 1}


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path, before = saved(tmp_path)
    with pytest.raises(TypeError, match=r"cannot serialize a set at path \./bad"):
        nc.save(path, {"ok": np.ones(3), "bad": {1}}, force=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.msgpack"]


def test_empty_file(tmp_path):
    path = tmp_path / "empty.msgpack"
    path.write_bytes(b"")
    with pytest.raises(nc.CheckpointError, match=r"empty\.msgpack is empty \(0 bytes\).*Restore an earlier"):
        nc.restore(path)


def test_missing_file(tmp_path):
    with pytest.raises(nc.CheckpointError, match=r"nothing\.msgpack does not exist"):
        nc.restore(tmp_path / "nothing.msgpack")


def test_every_truncation_is_detected(tmp_path):
    path, data = saved(tmp_path)
    for size in range(1, len(data)):
        path.write_bytes(data[:size])
        with pytest.raises(nc.CheckpointError, match=r"ckpt\.msgpack (is truncated|is damaged|is not valid)"):
            nc.restore(path)


def test_a_bit_flip_in_any_byte_is_detected(tmp_path):
    path, data = saved(tmp_path)
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 1 << (position % 8)  # one bit per byte, every bit position in turn
        path.write_bytes(bytes(damaged))
        with pytest.raises(nc.CheckpointError, match=r"ckpt\.msgpack (is damaged|is truncated)"):
            nc.restore(path)


def test_truncated_plain_flax_file(tmp_path):
    path = tmp_path / "flax.msgpack"
    data = nc.to_bytes(TREE)
    path.write_bytes(data[:-5])
    with pytest.raises(nc.CheckpointError, match=r"flax\.msgpack is not valid msgpack .*truncated or damaged"):
        nc.restore(path)
    path.write_bytes(data + b"\x00")
    with pytest.raises(nc.CheckpointError, match=r"flax\.msgpack is not valid msgpack \(ExtraData"):
        nc.restore(path)


def test_damaged_array_record_in_a_plain_flax_file(tmp_path):
    path = tmp_path / "flax.msgpack"
    payload = msgpack.packb([[3], "float32", b"\x00" * 8], use_bin_type=True)  # 8 bytes for 3 floats
    path.write_bytes(msgpack.packb({"a": msgpack.ExtType(1, payload)}, use_bin_type=True))
    with pytest.raises(nc.CheckpointError, match=r"flax\.msgpack: an array record float32\[3\] holds 8 data "
                                                  r"bytes .* expected 12 \(damaged file\)"):
        nc.restore(path)


def test_top_level_must_be_a_container(tmp_path):
    with pytest.raises(nc.CheckpointError, match=r"state dict is ndarray, not a dict.*save\(path, \{'value': x\}\)"):
        nc.save(tmp_path / "x", np.ones(2))
