"""One checkpoint file: Flax's msgpack map plus a checksum, written atomically.

Layout (a msgpack map, so Flax's ``from_bytes`` reads it and, as it drops keys
the target lacks, ignores our two)::

    {"__numbax_checkpoint__": {"format": 1, "numbax": ..., "numbax_checkpoint": ...},
     <the state dict's entries, in order>,
     "__numbax_sha256__": <hex sha256 of every byte before this key>}

The first key marks the file as ours; the last entry has a fixed size, so the
digest is checked on raw bytes before any decoding. Either mark alone is
enough to demand the checksum, so one flipped bit in a mark is not mistaken
for a plain Flax file. Plain Flax files (no marks) are read unchecked.
"""

import contextlib
import hashlib
import mmap
import os
import pathlib
import secrets

import msgpack
import numbax

from ._version import __version__
from .errors import CheckpointError
from .msgpack_format import msgpack_restore, write_msgpack
from .state_dict import _restoring, from_state_dict, to_state_dict

HEADER_KEY = "__numbax_checkpoint__"
CHECKSUM_KEY = "__numbax_sha256__"
_DIGEST_CHARS = 64
_TRAILER_PREFIX = msgpack.packb(CHECKSUM_KEY) + bytes([0xD9, _DIGEST_CHARS])  # key, then str8 header
_TRAILER_SIZE = len(_TRAILER_PREFIX) + _DIGEST_CHARS
_HEADER_MARK = msgpack.packb(HEADER_KEY)
TMP_MARK = ".numbax-tmp-"


def fsync_directory(directory):
    """Make a rename or a new entry in ``directory`` durable (POSIX; a no-op
    where directories cannot be opened, as on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _HashingWriter:
    def __init__(self, file):
        self.file, self.hash, self.size = file, hashlib.sha256(), 0

    def __call__(self, piece):
        self.file.write(piece)
        self.hash.update(piece)
        self.size += len(piece)


def write_state_file(path, state):
    """Write state dict ``state`` to ``path`` (not atomically; see ``save``).
    Returns ``(sha256 hex digest, size in bytes)``; the digest is the one the
    file's trailer holds."""
    if not isinstance(state, dict):
        raise CheckpointError(
            f"save: the tree's state dict is {type(state).__name__}, not a dict; a checkpoint holds a "
            f"container at the top. Wrap the value: save(path, {{'value': x}}).")
    for key in (HEADER_KEY, CHECKSUM_KEY):
        if key in state:
            raise CheckpointError(f"save: the top-level key {key!r} is reserved by numbax_checkpoint; rename it.")
    header = {"format": 1, "numbax": numbax.__version__, "numbax_checkpoint": __version__}
    packer = msgpack.Packer(use_bin_type=True)
    with open(path, "wb") as file:
        writer = _HashingWriter(file)
        writer(packer.pack_map_header(len(state) + 2) + packer.pack(HEADER_KEY) + packer.pack(header))
        for key, value in state.items():
            writer(packer.pack(key))
            write_msgpack(value, writer, f"./{key}")
        digest = writer.hash.hexdigest()
        writer(_TRAILER_PREFIX + digest.encode("ascii"))
        file.flush()
        os.fsync(file.fileno())
    return digest, writer.size


def atomic_write(path, write, force=False):
    """Run ``write(tmp_path)`` on a hidden sibling of ``path``, then rename it
    over ``path`` and fsync the directory, so ``path`` is either the old file
    or the complete new one, never a mix. Returns what ``write`` returns."""
    path = pathlib.Path(path)
    if path.exists() and not force:
        raise CheckpointError(f"save: {path} already exists. Pass force=True to overwrite it, "
                              "or choose another path.")
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        result = write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
    return result


def save(path, tree, force=False):
    """Save pytree ``tree`` to the file ``path`` atomically, with a checksum.

    The file is Flax's msgpack format (``flax.serialization.from_bytes``
    reads it), written to a temporary sibling, fsynced and renamed into place.

    Args:
      path: the file to write.
      tree: a pytree whose state dict is a dict (a dict, list, tuple,
        namedtuple, dataclass ... at the top).
      force: overwrite an existing file instead of raising.

    Returns:
      The path written, as a string.
    """
    state = to_state_dict(tree)
    atomic_write(path, lambda tmp: write_state_file(tmp, state), force=force)
    return str(path)


def _verify(view, source):
    """Check the trailer of one of our files; returns its digest, or None for
    a file without our marks (a plain Flax file)."""
    ours_head = _HEADER_MARK in bytes(view[:48])
    ours_tail = len(view) >= _TRAILER_SIZE and bytes(view[-_TRAILER_SIZE:-_DIGEST_CHARS]) == _TRAILER_PREFIX
    if not (ours_head or ours_tail):
        return None
    if not ours_tail:
        raise CheckpointError(
            f"{source} is truncated or damaged: its checksum trailer is missing ({len(view)} bytes). "
            "The write was cut off or the file was altered; restore an earlier checkpoint.")
    stored = bytes(view[-_DIGEST_CHARS:]).decode("ascii", "replace")
    # the digest covers the bytes before the trailer's key
    actual = hashlib.sha256(view[:len(view) - _TRAILER_SIZE]).hexdigest()
    if actual != stored:
        raise CheckpointError(
            f"{source} is damaged: its sha256 is {actual[:16]}... but the file records {stored[:16]}... "
            "(a flipped bit or a partial overwrite). Restore an earlier checkpoint.")
    return stored


@contextlib.contextmanager
def _mapped(path):
    """A read-only memoryview of the file at ``path`` (mmap: its bytes are
    read once, into the restored arrays, with no intermediate copy)."""
    path = pathlib.Path(path)
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise CheckpointError(f"restore: {path} does not exist.") from None
    with file:
        if os.fstat(file.fileno()).st_size == 0:
            raise CheckpointError(f"{path} is empty (0 bytes): nothing was written there. "
                                  "Restore an earlier checkpoint.")
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as view:
            yield view


def _check(view, path, expected_digest):
    digest = _verify(view, path)
    if expected_digest is not None and digest != expected_digest:
        raise CheckpointError(
            f"{path} does not match its step metadata (sha256 {str(digest)[:16]}..., the metadata "
            f"says {expected_digest[:16]}...): one of them was replaced. Restore another step.")


def verify_state_file(path, expected_digest=None):
    """Raise CheckpointError unless ``path`` is intact (and, when given, holds
    the digest ``expected_digest``)."""
    with _mapped(path) as view:
        _check(view, path, expected_digest)


def read_state_file(path, expected_digest=None):
    """The verified state dict stored in ``path``, our two marks removed."""
    with _mapped(path) as view:
        _check(view, path, expected_digest)
        state = msgpack_restore(view, source=str(path))
    if isinstance(state, dict):
        state.pop(HEADER_KEY, None)
        state.pop(CHECKSUM_KEY, None)
    return state


def restore(path, target=None, partial=False):
    """Restore the pytree saved at ``path`` (by ``save``, or a Flax msgpack file).

    Without a target, returns the state dict: nested dicts (lists and tuples
    as ``{"0": ...}``) with read-only NumPy leaves in their saved dtypes. With
    a target, returns an object of the target's structure and leaf kinds
    (numbax arrays where the target has numbax arrays or
    ``ShapeDtypeStruct``s), after checking that every key, shape and dtype
    agrees.

    Args:
      path: the file.
      target: a pytree like the saved one, or None.
      partial: allow the file to hold keys the target lacks (they are skipped),
        e.g. to restore only the parameters of a training state.

    Raises:
      CheckpointError naming the file for a damaged file (empty, truncated,
      checksum mismatch), and the first mismatching path for a target that
      differs from the file.
    """
    state = read_state_file(path)
    if target is None:
        return state
    with _restoring(strict=True, partial=partial, source=str(path)):
        return from_state_dict(target, state)
