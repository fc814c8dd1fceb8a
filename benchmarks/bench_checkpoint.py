"""Checkpoint throughput: a 200 MB pytree (10 float32 layers of 20 MB, as numbax
arrays) saved and restored by numbax_checkpoint, against numpy.save/np.load of
the same bytes (with and without fsync; numbax_checkpoint always fsyncs and
hashes with sha256), and flax.serialization when importable. Async figures are
the time until CheckpointManager.save returns. Best of 3 runs each, in MB/s."""

import os
import pathlib
import shutil
import tempfile
import time

import numpy as np

import numbax.numpy as jnp
import numbax_checkpoint as nc

from _timing import compiled_before_first_result

LAYERS, SHAPE = 10, (1000, 5000)
RUNS = 3


def best_seconds(fn, setup=None):
    times = []
    for _ in range(RUNS):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    rng = np.random.default_rng(0)
    host = [rng.standard_normal(SHAPE, dtype=np.float32) for _ in range(LAYERS)]
    tree = {f"layer_{i}": {"w": jnp.asarray(w)} for i, w in enumerate(host)}
    flat = np.concatenate([w.reshape(-1) for w in host])
    megabytes = flat.nbytes / 1e6
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench_checkpoint_"))
    npy, ours = root / "raw.npy", root / "tree.msgpack"

    def numpy_save(sync):
        with open(npy, "wb") as file:
            np.save(file, flat)
            if sync:
                file.flush()
                os.fsync(file.fileno())

    def fresh_manager(asynchronous):
        shutil.rmtree(root / "manager", ignore_errors=True)
        return nc.CheckpointManager(root / "manager", nc.CheckpointManagerOptions(
            enable_async_checkpointing=asynchronous))

    managers = {}

    def manager_save(asynchronous):
        managers["m"].save(0, tree)

    figures = {
        "numpy.save": best_seconds(lambda: numpy_save(False)),
        "numpy.save+fsync": best_seconds(lambda: numpy_save(True)),
        "nc.save (file)": best_seconds(lambda: nc.save(ours, tree, force=True)),
        "manager.save sync": best_seconds(lambda: manager_save(False),
                                          setup=lambda: managers.update(m=fresh_manager(False))),
        "manager.save async (returns)": best_seconds(
            lambda: manager_save(True),
            setup=lambda: (managers.get("m") and managers["m"].close(), managers.update(m=fresh_manager(True)))),
    }
    managers["m"].close()
    restore_figures = {
        "np.load": best_seconds(lambda: np.load(npy)),
        "nc.restore (file, numpy)": best_seconds(lambda: nc.restore(ours)),
        "nc.restore (numbax target)": best_seconds(lambda: nc.restore(ours, tree)),
        "manager.restore": best_seconds(lambda: fresh_restore(root)),
    }
    try:
        from flax import serialization
    except ImportError:
        serialization = None
    if serialization is not None:
        figures["flax to_bytes+write"] = best_seconds(
            lambda: (root / "flax.msgpack").write_bytes(serialization.to_bytes(host)))
        restore_figures["flax from_bytes"] = best_seconds(
            lambda: serialization.from_bytes(host, (root / "flax.msgpack").read_bytes()))

    print(f"checkpoint throughput, {megabytes:.0f} MB pytree ({LAYERS} x float32{list(SHAPE)}), best of {RUNS}"
          + ("" if serialization else " (no flax column: flax not importable)"))
    for title, table, reference in [("save", figures, "numpy.save"), ("restore", restore_figures, "np.load")]:
        print(f"  {title}")
        for name, seconds in table.items():
            print(f"    {name:30s} {megabytes / seconds:9.0f} MB/s  {seconds * 1e3:8.1f} ms  "
                  f"{table[reference] / seconds:6.2f}x of {reference}")
    shutil.rmtree(root)


def fresh_restore(root):
    with nc.CheckpointManager(root / "manager", nc.CheckpointManagerOptions(read_only=True)) as manager:
        return manager.restore()


if __name__ == "__main__":
    with compiled_before_first_result():
        main()
