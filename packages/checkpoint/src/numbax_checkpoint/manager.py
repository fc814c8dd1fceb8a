"""CheckpointManager: numbered steps in a directory, committed atomically,
kept or deleted by Orbax's retention rules, optionally saved in the background.

Layout::

    <directory>/
      <step>/                     committed: renamed into place as a whole
        state.msgpack             the state (numbax_checkpoint.save's format: Flax msgpack + sha256)
        _CHECKPOINT_METADATA      JSON: step, metrics, sha256 and size of state.msgpack,
                                  leaf shapes/dtypes, tree structure, versions, timestamps
        commit_success.txt        written last inside the temporary directory
      <step>.numbax-checkpoint-tmp/   a save in progress (or one a crash interrupted)
"""

import dataclasses
import json
import os
import pathlib
import shutil
import threading
import time
import warnings

import numpy as np

import numbax

from ._version import __version__
from .errors import CheckpointError, StepAlreadyExistsError
from .files import fsync_directory, read_state_file, verify_state_file, write_state_file
from .state_dict import _restoring, from_state_dict, to_state_dict

STATE_FILE = "state.msgpack"
METADATA_FILE = "_CHECKPOINT_METADATA"
COMMIT_FILE = "commit_success.txt"
TMP_SUFFIX = ".numbax-checkpoint-tmp"
DELETING_SUFFIX = ".numbax-checkpoint-deleting"


class CheckpointWarning(UserWarning):
    """A step directory was found damaged and skipped."""


@dataclasses.dataclass(frozen=True)
class CheckpointManagerOptions:
    """Options of ``CheckpointManager``, named and defaulted as Orbax's.

    Attributes:
      max_to_keep: keep this many steps (the most recent, or the best ones
        when ``best_fn`` is set); None keeps all.
      keep_period: never delete a step divisible by this.
      best_fn: ``fn(metrics) -> float`` ranking the steps saved with metrics.
      best_mode: ``"max"`` or ``"min"``: which end of ``best_fn`` is best.
      keep_checkpoints_without_metrics: with ``best_fn``, never delete steps
        saved without metrics.
      save_interval_steps: ``should_save(step)`` is true when step is a
        multiple of this (and newer than the latest saved step).
      save_on_steps: steps to save in addition to the interval.
      should_save_fn: ``fn(step, latest_step) -> bool`` replacing the two above.
      enable_async_checkpointing: write in a background thread; ``save``
        returns once the data has been snapshotted.
      create: create ``directory`` when missing.
      read_only: refuse to save or delete.
      cleanup_tmp_directories: delete leftovers of interrupted saves when the
        manager starts (the default here, unlike Orbax: they are never valid).
      keep_time_interval, preservation_policy, save_decision_policy: Orbax
        options not implemented here; setting them raises NotImplementedError.
    """

    max_to_keep: int | None = None
    keep_period: int | None = None
    best_fn: object = None
    best_mode: str = "max"
    keep_checkpoints_without_metrics: bool = True
    save_interval_steps: int = 1
    save_on_steps: object = None
    should_save_fn: object = None
    enable_async_checkpointing: bool = True
    create: bool = True
    read_only: bool = False
    cleanup_tmp_directories: bool = True
    keep_time_interval: object = None
    preservation_policy: object = None
    save_decision_policy: object = None

    def __post_init__(self):
        for name in ("keep_time_interval", "preservation_policy", "save_decision_policy"):
            if getattr(self, name) is not None:
                raise NotImplementedError(
                    f"CheckpointManagerOptions({name}=...) is not implemented in numbax_checkpoint. "
                    "Use max_to_keep, keep_period, best_fn, save_interval_steps, save_on_steps or "
                    "should_save_fn.")
        if self.best_mode not in ("max", "min"):
            raise CheckpointError(
                f"CheckpointManagerOptions: best_mode must be 'max' or 'min', got {self.best_mode!r}.")
        for name in ("max_to_keep", "keep_period", "save_interval_steps"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise CheckpointError(f"CheckpointManagerOptions: {name} must be a positive int or None, "
                                      f"got {value!r}.")


def _snapshot(state, copy):
    """The host copy ``save`` returns after: numbax arrays are immutable, so a
    read-only view of their buffer is a snapshot; NumPy arrays can be written
    by the caller later and are copied (when the write happens later, async)."""
    if isinstance(state, dict):
        return {key: _snapshot(value, copy) for key, value in state.items()}
    if isinstance(state, list):
        return [_snapshot(value, copy) for value in state]
    if isinstance(state, numbax.Array):
        return np.asarray(state)
    if isinstance(state, np.ndarray) and copy:
        return np.array(state, copy=True)
    return state


def _leaf_table(state, prefix=""):
    """``{"params/Dense_0/kernel": "float32[3,4]", "step": "int"}`` for the metadata."""
    table = {}
    for key, value in state.items():
        path = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            table.update(_leaf_table(value, path))
        elif isinstance(value, (np.ndarray, np.generic)):
            table[path] = f"{value.dtype.name}{list(value.shape)}"
        else:
            table[path] = type(value).__name__
    return table


def _json_metrics(metrics):
    """``metrics`` as JSON holds it (arrays and NumPy scalars become numbers or lists)."""
    if metrics is None:
        return None

    def plain(value):
        if isinstance(value, (np.ndarray, np.generic, numbax.Array)):
            return np.asarray(value).tolist()
        raise TypeError(f"metrics value of type {type(value).__name__} is not JSON-serializable")

    try:
        return json.loads(json.dumps(dict(metrics), default=plain))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"CheckpointManager.save: metrics must be a dict of numbers, arrays and strings "
                              f"({err}).") from None


def _file_signature(path):
    """(mtime, size) of ``path``, or None when it is missing: a changed file is verified again."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _write_synced(path, text):
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


class CheckpointManager:
    """Saves and restores numbered steps of a training run in ``directory``.

    Each save writes ``<step>.numbax-checkpoint-tmp/``, fsyncs its files and
    the directory, then renames it to ``<step>/``; a crash at any point leaves
    the earlier steps intact and the interrupted one invisible. Every restore
    verifies the sha256 recorded in the step's metadata.

    Example::

        with CheckpointManager(path, CheckpointManagerOptions(max_to_keep=3)) as manager:
            for step in range(100):
                state = train_step(state)
                manager.save(step, state, metrics={"loss": loss})
            state = manager.restore(manager.latest_step(), target=state)

    Args:
      directory: the root directory of this run's checkpoints.
      options: a ``CheckpointManagerOptions`` (defaults: keep everything,
        save every step, asynchronously).
    """

    def __init__(self, directory, options=None):
        self.directory = pathlib.Path(directory)
        self.options = options if options is not None else CheckpointManagerOptions()
        if not self.directory.is_dir():
            if not self.options.create or self.options.read_only:
                raise CheckpointError(f"CheckpointManager: {self.directory} does not exist. Create it, or pass "
                                      "CheckpointManagerOptions(create=True).")
            self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._thread = None
        self._error = None
        self._closed = False
        self._verified = {}  # step -> (file signature, None or the CheckpointError)
        if self.options.cleanup_tmp_directories and not self.options.read_only:
            self._remove_leftovers()
        self._metrics = {step: self._read_metadata(step, quiet=True).get("metrics") for step in self.all_steps()}
        steps = self.all_steps()
        self._last_step = steps[-1] if steps else None

    # Steps on disk

    def _step_dir(self, step):
        return self.directory / str(step)

    def _remove_leftovers(self):
        for entry in self.directory.iterdir():
            if entry.name.endswith((TMP_SUFFIX, DELETING_SUFFIX)) and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)

    def all_steps(self):
        """Every committed step, ascending (damaged ones included; see ``latest_step``).
        Temporary directories of unfinished saves are never steps."""
        steps = []
        for entry in self.directory.iterdir():
            if entry.name.isdigit() and str(int(entry.name)) == entry.name and (entry / COMMIT_FILE).is_file():
                steps.append(int(entry.name))
        return sorted(steps)

    def _read_metadata(self, step, quiet=False):
        path = self._step_dir(step) / METADATA_FILE
        try:
            metadata = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(metadata, dict) or not isinstance(metadata.get("sha256"), str):
                raise ValueError("no sha256 entry")
            return metadata
        except (OSError, ValueError) as err:
            if quiet:
                return {}
            raise CheckpointError(f"{path} is missing or damaged ({err}); the step cannot be verified. "
                                  "Restore another step.") from None

    def _check_step(self, step):
        """None when ``step`` verifies, else the CheckpointError saying why (cached per file version)."""
        state_path = self._step_dir(step) / STATE_FILE
        signature = tuple(_file_signature(path) for path in (state_path, self._step_dir(step) / METADATA_FILE))
        cached = self._verified.get(step)
        if cached is not None and cached[0] == signature:
            return cached[1]
        try:
            metadata = self._read_metadata(step)
            verify_state_file(state_path, metadata["sha256"])
            problem = None
        except CheckpointError as err:
            problem = err
        self._verified[step] = (signature, problem)
        return problem

    def latest_step(self):
        """The newest step that verifies, or None. A damaged step (checksum
        mismatch, missing files) is skipped with a ``CheckpointWarning`` naming it."""
        self._raise_background_error()
        for step in reversed(self.all_steps()):
            problem = self._check_step(step)
            if problem is None:
                return step
            warnings.warn(f"CheckpointManager: skipping step {step}: {problem}", CheckpointWarning, stacklevel=2)
        return None

    def best_step(self):
        """The step with the best ``best_fn(metrics)``; None without ``best_fn``
        or when no kept step has metrics."""
        if self.options.best_fn is None:
            return None
        ranked = self._ranked()
        return ranked[-1] if ranked else None

    def _ranked(self):
        """Steps with metrics, worst first; among equal scores the newer one ranks better."""
        with self._lock:
            scored = [(self.options.best_fn(metrics), step) for step, metrics in self._metrics.items()
                      if metrics is not None]
        sign = 1 if self.options.best_mode == "max" else -1
        return [step for _, step in sorted(scored, key=lambda pair: (sign * pair[0], pair[1]))]

    def metadata(self, step):
        """The step's metadata: metrics, sha256, leaf shapes and dtypes (``"tree"``),
        tree structure, versions and timestamps; nothing is read but the JSON file."""
        return self._read_metadata(step)

    # Saving

    def should_save(self, step):
        """Whether ``save(step, ...)`` would write: ``step`` must be newer than the
        last saved step, and on the interval (or in ``save_on_steps``, or
        approved by ``should_save_fn``)."""
        last = self._last_step
        if last is not None and step <= last:
            return False
        options = self.options
        if options.should_save_fn is not None:
            return bool(options.should_save_fn(step, last))
        return step % options.save_interval_steps == 0 or step in (options.save_on_steps or ())

    def save(self, step, tree, metrics=None, force=False):
        """Save ``tree`` as ``step`` if ``should_save(step)`` (or ``force``).

        Waits for a previous background save to finish (raising its error if it
        failed), snapshots the data, then writes: in the background when
        ``enable_async_checkpointing``, else before returning. Retention runs
        once the step is committed.

        Args:
          step: a non-negative int.
          tree: the pytree to save (see ``numbax_checkpoint.save``).
          metrics: a dict of JSON-able values for ``best_fn``, stored in the metadata.
          force: save even when ``should_save`` says no.

        Returns:
          True if a save was started, False if the step was skipped.
        """
        self._raise_background_error()
        if self._closed:
            raise CheckpointError("CheckpointManager.save: the manager is closed; create a new one.")
        if self.options.read_only:
            raise CheckpointError(f"CheckpointManager.save: {self.directory} was opened read_only.")
        if not isinstance(step, (int, np.integer)) or step < 0:
            raise CheckpointError(f"CheckpointManager.save: step must be a non-negative int, got {step!r}.")
        step = int(step)
        if not force and not self.should_save(step):
            return False
        self.wait_until_finished()
        if self._step_dir(step).exists():
            raise StepAlreadyExistsError(f"CheckpointManager.save: step {step} already exists at "
                                         f"{self._step_dir(step)}. Save a newer step, or delete that directory.")
        metrics = _json_metrics(metrics)
        state = to_state_dict(tree)
        structure = str(numbax.tree.structure(tree))
        background = self.options.enable_async_checkpointing
        state = _snapshot(state, copy=background)
        self._last_step = step if self._last_step is None else max(step, self._last_step)
        if background:
            self._thread = threading.Thread(target=self._save_in_background, args=(step, state, metrics, structure),
                                            name=f"numbax-checkpoint-save-{step}")
            self._thread.start()
        else:
            self._commit(step, state, metrics, structure)
        return True

    def _save_in_background(self, step, state, metrics, structure):
        try:
            self._commit(step, state, metrics, structure)
        except BaseException as err:  # kept for the caller: a thread's exception would otherwise be lost
            self._error = (step, err)

    def _commit(self, step, state, metrics, structure):
        tmp = self.directory / f"{step}{TMP_SUFFIX}"
        if tmp.exists():  # left by an interrupted save of this step
            shutil.rmtree(tmp)
        tmp.mkdir()
        started = time.time_ns()
        digest, size = write_state_file(tmp / STATE_FILE, state)
        metadata = {
            "step": step, "metrics": metrics, "sha256": digest, "size": size,
            "tree": _leaf_table(state), "structure": structure,
            "versions": {"numbax": numbax.__version__, "numbax_checkpoint": __version__},
            "init_timestamp_nsecs": started, "commit_timestamp_nsecs": time.time_ns(),
        }
        _write_synced(tmp / METADATA_FILE, json.dumps(metadata, indent=1))
        _write_synced(tmp / COMMIT_FILE, f"Checkpoint commit was successful to {self._step_dir(step)}\n")
        fsync_directory(tmp)
        os.rename(tmp, self._step_dir(step))
        fsync_directory(self.directory)
        with self._lock:
            self._metrics[step] = metrics
        self._apply_retention()

    def _apply_retention(self):
        options = self.options
        if options.max_to_keep is None:
            return
        steps = self.all_steps()
        if options.best_fn is None:
            candidates = steps[:-options.max_to_keep]
        else:
            ranked = self._ranked()
            candidates = ranked[:-options.max_to_keep]
            if not options.keep_checkpoints_without_metrics:
                candidates += [step for step in steps if self._metrics.get(step) is None]
        for step in candidates:
            if options.keep_period is None or step % options.keep_period != 0:
                self._delete(step)

    def _delete(self, step):
        # Rename first: a crash mid-delete leaves a "deleting" directory, never a half-deleted step.
        doomed = self.directory / f"{step}{DELETING_SUFFIX}"
        os.rename(self._step_dir(step), doomed)
        fsync_directory(self.directory)
        shutil.rmtree(doomed)
        with self._lock:
            self._metrics.pop(step, None)
        self._verified.pop(step, None)

    def _raise_background_error(self):
        if self._error is not None:
            (step, err), self._error = self._error, None
            steps = self.all_steps()  # the failed step was never committed: it may be saved again
            self._last_step = steps[-1] if steps else None
            raise CheckpointError(f"CheckpointManager: the background save of step {step} to {self.directory} "
                                  f"failed: {type(err).__name__}: {err}. That step was not committed.") from err

    def is_saving_in_progress(self):
        """Whether a background save is still writing."""
        return self._thread is not None and self._thread.is_alive()

    def wait_until_finished(self):
        """Block until the background save (if any) is committed; raise its error if it failed."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._raise_background_error()

    # Restoring

    def restore(self, step=None, target=None, partial=False):
        """Restore ``step`` (default: ``latest_step()``), verified against its metadata.

        Args:
          step: the step to restore, or None for the newest intact one.
          target: None for nested dicts of NumPy arrays; or a pytree like the
            saved one, whose structure, shapes and dtypes are checked and whose
            containers and leaf kinds the result takes.
          partial: allow the checkpoint to hold keys the target lacks.

        Raises:
          CheckpointError naming the step directory when there is no such step,
          it is damaged, or the target does not match.
        """
        self.wait_until_finished()
        if step is None:
            step = self.latest_step()
            if step is None:
                raise CheckpointError(f"CheckpointManager.restore: {self.directory} holds no intact checkpoint "
                                      f"(committed steps: {self.all_steps()}).")
        if step not in self.all_steps():
            raise CheckpointError(f"CheckpointManager.restore: step {step} is not in {self.directory}; "
                                  f"the committed steps are {self.all_steps()}.")
        metadata = self._read_metadata(step)
        path = self._step_dir(step) / STATE_FILE
        state = read_state_file(path, expected_digest=metadata["sha256"])
        if target is None:
            return state
        with _restoring(strict=True, partial=partial, source=str(path)):
            return from_state_dict(target, state)

    def close(self):
        """Wait for the background save and stop accepting saves."""
        if not self._closed:
            self._closed = True
            self.wait_until_finished()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
