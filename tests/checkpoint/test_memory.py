"""Large trees stream: saving holds no serialized copy of the tree, and
restoring holds the restored arrays plus little more (tracemalloc sees NumPy's
buffers as well as Python's bytes)."""

import tracemalloc

import numpy as np

import numbax_checkpoint as nc

MB = 2**20


def peak_bytes(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        return tracemalloc.get_traced_memory()[1] - base, result
    finally:
        tracemalloc.stop()


def test_save_and_restore_peak_memory(tmp_path):
    tree = {f"layer_{i}": {"w": np.full((256, 1024), i, np.float32)} for i in range(8)}  # 8 MB
    size = sum(layer["w"].nbytes for layer in tree.values())
    path = tmp_path / "big.msgpack"
    save_peak, _ = peak_bytes(lambda: nc.save(path, tree))
    assert save_peak < MB, f"save held {save_peak / MB:.1f} MB extra for an {size / MB:.0f} MB tree"
    restore_peak, restored = peak_bytes(lambda: nc.restore(path))
    assert restore_peak < size + MB, f"restore peaked at {restore_peak / MB:.1f} MB for {size / MB:.0f} MB of data"
    for i in range(8):
        np.testing.assert_array_equal(restored[f"layer_{i}"]["w"], tree[f"layer_{i}"]["w"])
    # the in-memory encoder joins its pieces once: one copy of the data, no more
    bytes_peak, blob = peak_bytes(lambda: nc.to_bytes(tree))
    assert len(blob) > size and bytes_peak < len(blob) + MB
