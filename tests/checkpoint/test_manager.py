"""CheckpointManager: Orbax's save decisions and retention (reference/checkpoint.md
B4, observed figures), atomic commits, async saving, damaged steps."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import numbax.numpy as jnp
import numbax_checkpoint as nc
from numbax_checkpoint import manager as manager_module

Options = nc.CheckpointManagerOptions


def tree(step):
    return {"params": {"w": np.full((2, 3), float(step), np.float32)}, "step": step}


def run(directory, steps, losses=None, **options):
    with nc.CheckpointManager(directory, Options(**options)) as manager:
        for i, step in enumerate(steps):
            manager.save(step, tree(step), metrics=None if losses is None else {"loss": losses[i]})
        manager.wait_until_finished()
        return manager.all_steps(), manager.best_step()


def test_reference_retention_examples(tmp_path):
    assert run(tmp_path / "a", range(10), max_to_keep=3, keep_period=4)[0] == [0, 4, 7, 8, 9]
    kept, best = run(tmp_path / "b", range(6), losses=[5, 3, 4, 1, 2, 6], max_to_keep=2,
                     best_fn=lambda m: m["loss"], best_mode="min")
    assert (kept, best) == ([3, 4], 3)
    assert run(tmp_path / "c", range(8), save_interval_steps=3)[0] == [0, 3, 6]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_recent_retention_is_exact_over_50_steps(tmp_path, asynchronous):
    with nc.CheckpointManager(tmp_path, Options(max_to_keep=5, keep_period=7,
                                                enable_async_checkpointing=asynchronous)) as manager:
        for step in range(50):
            assert manager.save(step, tree(step))
            manager.wait_until_finished()
            expected = {s for s in range(step + 1) if s % 7 == 0} | set(range(max(0, step - 4), step + 1))
            assert manager.all_steps() == sorted(expected), step
    assert sorted(int(p.name) for p in tmp_path.iterdir()) == sorted(expected)  # nothing else on disk


def test_best_retention_is_exact_over_50_steps(tmp_path):
    losses = [(step * 37) % 50 for step in range(50)]  # a permutation of 0..49
    with nc.CheckpointManager(tmp_path, Options(max_to_keep=4, keep_period=10, best_fn=lambda m: -m["loss"],
                                                enable_async_checkpointing=False)) as manager:
        for step in range(50):
            manager.save(step, tree(step), metrics={"loss": losses[step]})
            best4 = sorted(range(step + 1), key=lambda s: losses[s])[:4]
            assert manager.all_steps() == sorted(set(best4) | set(range(0, step + 1, 10))), step
        assert manager.best_step() == losses.index(0)
        restored = manager.restore(manager.best_step())
        np.testing.assert_array_equal(restored["params"]["w"], np.full((2, 3), losses.index(0), np.float32))


def test_steps_without_metrics_are_kept_when_ranking(tmp_path):
    with nc.CheckpointManager(tmp_path, Options(max_to_keep=1, best_fn=lambda m: m["acc"])) as manager:
        manager.save(0, tree(0))
        for step, acc in [(1, 0.5), (2, 0.9), (3, 0.1)]:
            manager.save(step, tree(step), metrics={"acc": jnp.asarray(acc)})
        manager.wait_until_finished()
        assert manager.all_steps() == [0, 2] and manager.best_step() == 2
        assert manager.metadata(2)["metrics"] == {"acc": pytest.approx(0.9)}


def test_should_save_and_existing_steps(tmp_path):
    with nc.CheckpointManager(tmp_path, Options(save_interval_steps=5, save_on_steps=[7])) as manager:
        assert [s for s in range(12) if manager.should_save(s)] == [0, 5, 7, 10]
        assert manager.save(5, tree(5)) and not manager.save(5, tree(5)) and not manager.save(3, tree(3))
        assert not manager.should_save(7) or manager.save(7, tree(7))
        with pytest.raises(nc.StepAlreadyExistsError, match=r"step 5 already exists at .*5"):
            manager.save(5, tree(5), force=True)
        assert manager.save(6, tree(6), force=True)
        manager.wait_until_finished()
        assert manager.all_steps() == [5, 6, 7]


def test_restore_latest_and_target(tmp_path):
    with nc.CheckpointManager(tmp_path) as manager:
        with pytest.raises(nc.CheckpointError, match=r"holds no intact checkpoint \(committed steps: \[\]\)"):
            manager.restore()
        for step in (1, 2):
            manager.save(step, tree(step))
        restored = manager.restore(target={"params": {"w": jnp.zeros((2, 3))}, "step": 0})
        np.testing.assert_array_equal(np.asarray(restored["params"]["w"]), np.full((2, 3), 2.0))
        assert restored["step"] == 2 and manager.latest_step() == 2
        with pytest.raises(nc.CheckpointError, match=r"step 9 is not in .*; the committed steps are \[1, 2\]"):
            manager.restore(9)
        with pytest.raises(nc.CheckpointError, match=r"float32\[2, 3\] where the target expects float32\[3\] "
                                                      r"at path \./params/w in .*1/state\.msgpack"):
            manager.restore(1, target={"params": {"w": jnp.zeros(3)}, "step": 0})


def test_metadata_records_checksum_structure_and_versions(tmp_path):
    with nc.CheckpointManager(tmp_path, Options(enable_async_checkpointing=False)) as manager:
        manager.save(3, {"opt": (np.zeros(2, np.int32), None)}, metrics={"loss": 1.5})
    step_dir = tmp_path / "3"
    assert sorted(p.name for p in step_dir.iterdir()) == ["_CHECKPOINT_METADATA", "commit_success.txt",
                                                          "state.msgpack"]
    metadata = json.loads((step_dir / "_CHECKPOINT_METADATA").read_text())
    data = (step_dir / "state.msgpack").read_bytes()
    assert metadata["size"] == len(data) and data.endswith(metadata["sha256"].encode())
    assert metadata["tree"] == {"opt/0": "int32[2]", "opt/1": "NoneType"}
    assert "tuple" in metadata["structure"].lower() or "(" in metadata["structure"]
    assert metadata["versions"]["numbax_checkpoint"] == nc.__version__ and metadata["metrics"] == {"loss": 1.5}


def test_damaged_step_is_reported_and_skipped(tmp_path):
    with nc.CheckpointManager(tmp_path) as manager:
        manager.save(1, tree(1))
        manager.save(2, tree(2))
        manager.wait_until_finished()
        state_file = tmp_path / "2" / "state.msgpack"
        damaged = bytearray(state_file.read_bytes())
        damaged[len(damaged) // 2] ^= 0x10
        state_file.write_bytes(bytes(damaged))
        with pytest.warns(nc.CheckpointWarning, match=r"skipping step 2: .*2/state\.msgpack is damaged"):
            assert manager.latest_step() == 1
        with pytest.raises(nc.CheckpointError, match=r"2/state\.msgpack is damaged: its sha256"):
            manager.restore(2)
        with pytest.warns(nc.CheckpointWarning):
            np.testing.assert_array_equal(manager.restore()["params"]["w"], np.full((2, 3), 1.0))
        (tmp_path / "1" / "_CHECKPOINT_METADATA").unlink()
        with pytest.warns(nc.CheckpointWarning) as record:
            assert manager.latest_step() is None
        assert [str(w.message).split(":")[1] for w in record] == [" skipping step 2", " skipping step 1"]
        assert "1/_CHECKPOINT_METADATA is missing or damaged" in str(record[1].message)


def test_uncommitted_directories_are_not_steps(tmp_path):
    (tmp_path / "12").mkdir()  # Orbax lists this as step 12; without a commit marker it is not one here
    (tmp_path / "13.numbax-checkpoint-tmp").mkdir()
    with nc.CheckpointManager(tmp_path, Options(cleanup_tmp_directories=False)) as manager:
        assert manager.all_steps() == [] and manager.latest_step() is None
    nc.CheckpointManager(tmp_path).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12"]  # leftovers of interrupted saves removed


def _gate_writes(monkeypatch, fail=None):
    """Hold the background write until the returned event is set (or fail it)."""
    release = threading.Event()
    original = manager_module.write_state_file

    def gated(path, state):
        release.wait(10)
        if fail is not None:
            raise fail
        return original(path, state)

    monkeypatch.setattr(manager_module, "write_state_file", gated)
    return release


def test_async_save_returns_before_the_write_and_snapshots(tmp_path, monkeypatch):
    release = _gate_writes(monkeypatch)
    data = np.ones(4, np.float32)
    with nc.CheckpointManager(tmp_path) as manager:
        assert manager.save(1, {"x": data, "y": jnp.arange(3)})
        data[:] = -1  # the caller reuses its buffer right after save returns
        assert manager.is_saving_in_progress() and manager.all_steps() == []
        release.set()
        manager.wait_until_finished()
        assert manager.all_steps() == [1] and not manager.is_saving_in_progress()
        restored = manager.restore(1)
    np.testing.assert_array_equal(restored["x"], np.ones(4))
    np.testing.assert_array_equal(restored["y"], [0, 1, 2])


def test_background_errors_surface(tmp_path, monkeypatch):
    release = _gate_writes(monkeypatch, fail=OSError("No space left on device"))
    release.set()
    manager = nc.CheckpointManager(tmp_path)
    assert manager.save(3, tree(3))
    with pytest.raises(nc.CheckpointError, match=r"background save of step 3 to .* failed: OSError: No space left "
                                                  r"on device\. That step was not committed"):
        manager.wait_until_finished()
    assert manager.save(3, tree(3))  # the failed step may be saved again
    deadline = time.monotonic() + 10
    while manager.is_saving_in_progress() and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(nc.CheckpointError, match=r"background save of step 3"):
        manager.latest_step()  # ... and a failure also surfaces on the next call
    monkeypatch.undo()
    assert manager.save(4, tree(4))
    manager.close()
    assert manager.all_steps() == [4]
    with pytest.raises(nc.CheckpointError, match=r"the manager is closed"):
        manager.save(5, tree(5))


def test_options_validation():
    with pytest.raises(NotImplementedError, match=r"keep_time_interval=\.\.\.\) is not implemented"):
        Options(keep_time_interval=60)
    with pytest.raises(nc.CheckpointError, match=r"best_mode must be 'max' or 'min', got 'best'"):
        Options(best_mode="best")
    with pytest.raises(nc.CheckpointError, match=r"max_to_keep must be a positive int or None, got 0"):
        Options(max_to_keep=0)


def test_read_only_and_missing_directory(tmp_path):
    with pytest.raises(nc.CheckpointError, match=r"nope does not exist"):
        nc.CheckpointManager(tmp_path / "nope", Options(create=False))
    manager = nc.CheckpointManager(tmp_path, Options(read_only=True))
    with pytest.raises(nc.CheckpointError, match=r"opened read_only"):
        manager.save(0, tree(0))


CHILD = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import numbax_checkpoint as nc
    from numbax_checkpoint import files

    directory, kill_point = sys.argv[1], sys.argv[2]
    manager = nc.CheckpointManager(directory, nc.CheckpointManagerOptions(max_to_keep=1))
    manager.save(1, {"w": np.full(1000, 1.0)})
    manager.wait_until_finished()

    def stop_here():
        print("READY", flush=True)
        time.sleep(60)

    if kill_point == "mid-file":
        write = files._HashingWriter.__call__
        def half_then_stop(self, piece):
            if len(piece) > 4096:
                write(self, memoryview(piece)[:len(piece) // 2])
                self.file.flush()
                stop_here()
            write(self, piece)
        files._HashingWriter.__call__ = half_then_stop
    else:
        rename = os.rename
        def stop_before_rename(src, dst):
            if str(src).endswith(".numbax-checkpoint-tmp"):
                stop_here()
            rename(src, dst)
        os.rename = stop_before_rename
    manager.save(2, {"w": np.full(100_000, 2.0)})
    manager.wait_until_finished()
""")


@pytest.mark.parametrize("kill_point", ["mid-file", "before-rename"])
def test_sigkill_during_save_keeps_the_previous_step(tmp_path, kill_point):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), kill_point],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "READY"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert (tmp_path / "2.numbax-checkpoint-tmp" / "state.msgpack").exists()  # really killed mid-save
    with nc.CheckpointManager(tmp_path, Options(max_to_keep=1)) as manager:
        assert manager.all_steps() == [1] and manager.latest_step() == 1
        np.testing.assert_array_equal(manager.restore()["w"], np.full(1000, 1.0))
        assert not (tmp_path / "2.numbax-checkpoint-tmp").exists()
        assert manager.save(2, {"w": np.full(10, 2.0)})
        manager.wait_until_finished()
        assert manager.all_steps() == [2]
