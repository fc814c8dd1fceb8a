"""Flax's msgpack format: arrays as ext type 1 ``[shape, dtype_name, bytes]``,
complex numbers as ext 2, NumPy scalars as ext 3, arrays over 2**30 bytes
split into chunks (reference/checkpoint.md, part A).

The encoder writes piece by piece to a ``write`` callback, handing array
buffers over as memoryviews, so a file is written without building the whole
blob in memory; ``msgpack_serialize`` joins the pieces once.
"""

import importlib

import msgpack
import numpy as np

import numbax

from .errors import CheckpointError, UnsupportedTypeError
from .state_dict import from_state_dict, to_state_dict

MAX_CHUNK_SIZE = 2**30  # Flax's: msgpack caps one object at 2**32 - 1 bytes
_CHUNKED = "__msgpack_chunked_array__"
_EXT_NDARRAY, _EXT_COMPLEX, _EXT_NPSCALAR = 1, 2, 3


def _packer():
    # Flax's options: strict_types keeps float/int subclasses (np.float64) out of
    # the native encodings, so they reach the ext 3 path as Flax writes them.
    return msgpack.Packer(use_bin_type=True, strict_types=True)


def _ext_header(code, length):
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    if length in fixed:
        return bytes([fixed[length], code])
    if length < 2**8:
        return bytes([0xC7, length, code])
    if length < 2**16:
        return b"\xc8" + length.to_bytes(2, "big") + bytes([code])
    return b"\xc9" + length.to_bytes(4, "big") + bytes([code])


def _bin_header(length):
    if length < 2**8:
        return bytes([0xC4, length])
    if length < 2**16:
        return b"\xc5" + length.to_bytes(2, "big")
    return b"\xc6" + length.to_bytes(4, "big")


def _host_array(x, path):
    """A C-contiguous, native-byte-order NumPy array of ``x`` (a view when it already is one)."""
    array = np.asarray(x)
    if array.dtype.hasobject or array.dtype.fields is not None:
        raise UnsupportedTypeError(
            f"msgpack_serialize: the array at path {path} has dtype {array.dtype}; the format holds "
            "numeric and bool arrays only. Convert it (e.g. to a numeric dtype or a str leaf).")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))  # the format has no byte-order flag
    # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
    return array if array.flags.c_contiguous else array.copy(order="C")


class _Encoder:
    """Writes one msgpack value per ``encode`` call to ``write``."""

    def __init__(self, write):
        self.write = write
        self.packer = _packer()

    def encode(self, x, path="."):
        if type(x) is dict:
            self._map(x, path)
        elif type(x) is list:
            self.write(self.packer.pack_array_header(len(x)))
            for i, item in enumerate(x):
                self.encode(item, f"{path}/{i}")
        elif isinstance(x, (np.ndarray, numbax.Array)):
            self._array(_host_array(x, path), _EXT_NDARRAY, path)
        elif isinstance(x, np.generic):
            self._array(_host_array(x, path), _EXT_NPSCALAR, path)
        elif type(x) is complex:
            payload = msgpack.packb([x.real, x.imag])
            self.write(_ext_header(_EXT_COMPLEX, len(payload)) + payload)
        elif x is None or type(x) in (bool, int, float, str, bytes):
            self.write(self.packer.pack(x))
        else:
            hint = (" Tuples reach the packer only when msgpack_serialize is given one: call to_bytes, "
                    "which converts containers with to_state_dict first." if isinstance(x, tuple) else
                    " Register the type with register_serialization_state, or store its data as arrays.")
            raise UnsupportedTypeError(
                f"msgpack_serialize: cannot serialize a {type(x).__name__} at path {path}.{hint}")

    def _map(self, x, path):
        self.write(self.packer.pack_map_header(len(x)))
        for key, value in x.items():
            self.write(self.packer.pack(key))
            self.encode(value, f"{path}/{key}")

    def _array(self, array, code, path):
        if array.nbytes > MAX_CHUNK_SIZE:
            return self._chunked(array, path)
        head = b"\x93" + self.packer.pack(list(array.shape)) + self.packer.pack(array.dtype.name)
        head += _bin_header(array.nbytes)
        self.write(_ext_header(code, len(head) + array.nbytes) + head)
        self.write(memoryview(array.reshape(-1).view(np.uint8)))

    def _chunked(self, array, path):
        per_chunk = max(1, MAX_CHUNK_SIZE // array.itemsize)
        flat = array.reshape(-1)
        chunks = {str(i): flat[start:start + per_chunk]
                  for i, start in enumerate(range(0, flat.size, per_chunk))}
        shape = {str(i): d for i, d in enumerate(array.shape)}
        self._map({_CHUNKED: True, "shape": shape, "chunks": chunks}, path)


def write_msgpack(tree, write, path="."):
    """Stream the msgpack encoding of a state dict ``tree`` to ``write(bytes_like)``;
    ``path`` is where ``tree`` sits, for error messages."""
    _Encoder(write).encode(tree, path)


def msgpack_serialize(pytree, in_place=False):
    """Bytes of Flax's msgpack encoding of ``pytree``, a tree of dicts, lists
    and leaves (arrays, NumPy scalars, None, bool, int, float, complex, str,
    bytes). Containers other than dict/list must go through ``to_state_dict``
    first (``to_bytes`` does that). ``in_place`` is accepted for Flax
    compatibility; ``pytree`` is never modified."""
    del in_place
    pieces = []
    write_msgpack(pytree, pieces.append)
    return b"".join(pieces)


def to_bytes(target):
    """``msgpack_serialize(to_state_dict(target))``: Flax's ``to_bytes``."""
    return msgpack_serialize(to_state_dict(target))


# Decoding

def _dtype(name):
    """The NumPy dtype for a dtype name from a file, or None to mean
    'bfloat16 widened to float32'."""
    try:
        return np.dtype(name)
    except TypeError:
        pass
    try:
        ml_dtypes = importlib.import_module("ml_dtypes")
    except ImportError:
        if name == "bfloat16":
            return None
        raise CheckpointError(f"the file holds a {name} array; reading it needs ml_dtypes "
                              "(pip install ml_dtypes)") from None
    if not hasattr(ml_dtypes, name):
        raise CheckpointError(f"the file holds an array of unknown dtype {name!r}; the file is damaged "
                              "or was written by a newer tool")
    return np.dtype(getattr(ml_dtypes, name))


class _Reader:
    """A cursor over an ext payload, reading the few msgpack encodings that
    ``[shape, dtype_name, data]`` uses; errors say the payload is damaged."""

    def __init__(self, payload):
        self.payload, self.pos = payload, 0

    def take(self, n):
        if self.pos + n > len(self.payload):
            raise CheckpointError("an array record ends early (damaged file)")
        start, self.pos = self.pos, self.pos + n
        return self.payload[start:self.pos]

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")

    def length(self, small_base, small_mask, wide):
        """Length of an array/str/bin header: fix-format or one of ``wide`` {tag: width}."""
        tag = self.uint(1)
        if small_mask and tag & ~small_mask == small_base:
            return tag & small_mask
        if tag not in wide:
            raise CheckpointError(f"an array record has an unexpected msgpack tag 0x{tag:02x} (damaged file)")
        return self.uint(wide[tag])

    def integer(self):
        tag = self.uint(1)
        if tag < 0x80:
            return tag
        widths = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
        if tag not in widths:
            raise CheckpointError(f"an array record has a non-integer dimension (tag 0x{tag:02x}; damaged file)")
        return self.uint(widths[tag])


def _decode_array(payload):
    reader = _Reader(payload)
    if reader.length(0x90, 0x0F, {0xDC: 2}) != 3:
        raise CheckpointError("an array record is not [shape, dtype, data] (damaged file)")
    shape = tuple(reader.integer() for _ in range(reader.length(0x90, 0x0F, {0xDC: 2, 0xDD: 4})))
    name = bytes(reader.take(reader.length(0xA0, 0x1F, {0xD9: 1, 0xDA: 2}))).decode("ascii", "replace")
    nbytes = reader.length(0, 0, {0xC4: 1, 0xC5: 2, 0xC6: 4})
    dtype = _dtype(name)
    itemsize = 2 if dtype is None else dtype.itemsize
    count = int(np.prod(shape, dtype=np.int64))
    if nbytes != count * itemsize or reader.pos + nbytes != len(payload):
        raise CheckpointError(f"an array record {name}{list(shape)} holds {nbytes} data bytes in a "
                              f"{len(payload)}-byte record, expected {count * itemsize} (damaged file)")
    if dtype is None:  # bfloat16 is the top half of a float32: widen exactly
        bits = np.frombuffer(payload, np.uint16, count, reader.pos).astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    return np.frombuffer(payload, dtype, count, reader.pos).reshape(shape)


def _ext_hook(code, payload):
    if code == _EXT_NDARRAY:
        return _decode_array(payload)
    if code == _EXT_NPSCALAR:
        return _decode_array(payload)[()]
    if code == _EXT_COMPLEX:
        try:
            real, imag = msgpack.unpackb(payload)
            return complex(real, imag)
        except (ValueError, TypeError, msgpack.UnpackException) as err:
            raise CheckpointError(f"a complex record is damaged ({err})") from None
    raise CheckpointError(f"unknown msgpack extension type {code} (damaged file, or not a Flax/numbax file)")


def _unchunk(tree):
    if isinstance(tree, dict):
        if _CHUNKED in tree:
            try:
                chunks = [tree["chunks"][str(i)] for i in range(len(tree["chunks"]))]
                shape = tuple(tree["shape"][str(i)] for i in range(len(tree["shape"])))
                return np.concatenate(chunks).reshape(shape)
            except (KeyError, ValueError, TypeError) as err:
                raise CheckpointError(f"a chunked array record is damaged ({err!r})") from None
        return {key: _unchunk(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_unchunk(value) for value in tree]
    return tree


def msgpack_restore(encoded_pytree, source="the msgpack data"):
    """The nested dicts, lists and leaves encoded by ``msgpack_serialize``
    (read-only NumPy arrays, as in Flax). ``source`` names the data in errors.

    bfloat16 arrays come back as float32 (exact) unless ml_dtypes is
    installed, in which case they keep ml_dtypes' bfloat16.

    Raises:
      CheckpointError naming ``source`` for empty, truncated or malformed data.
    """
    if len(encoded_pytree) == 0:
        raise CheckpointError(f"{source} is empty (0 bytes): nothing was written there. "
                              "Restore an earlier checkpoint.")
    try:
        tree = msgpack.unpackb(encoded_pytree, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except CheckpointError as err:
        raise CheckpointError(f"{source}: {err}. Restore an earlier checkpoint.") from None
    except (ValueError, TypeError, msgpack.UnpackException) as err:
        # msgpack says "incomplete input" for a cut-off file, ExtraData for trailing bytes
        raise CheckpointError(f"{source} is not valid msgpack ({type(err).__name__}: {str(err)[:200]}): "
                              "the file is truncated or damaged. Restore an earlier checkpoint.") from None
    return _unchunk(tree)


def from_bytes(target, encoded_bytes):
    """``from_state_dict(target, msgpack_restore(encoded_bytes))``: Flax's
    ``from_bytes``; the target gives the structure, values come from the bytes
    as they are (no shape or dtype check: use ``restore`` for that)."""
    return from_state_dict(target, msgpack_restore(encoded_bytes))
