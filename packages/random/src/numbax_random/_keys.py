"""Keys: typed key arrays, raw ``uint32[2]`` keys, and the checks every sampler runs."""

import math
import operator

import numpy as np

import numbax
import numbax.numpy as jnp

from ._threefry import threefry_prng_impl


def _refuse(op):
    def method(self, *args):
        raise TypeError(f"unsupported operation {op} on a typed PRNG key array {self!r}: keys are not "
                        "numbers. Derive new keys with split/fold_in, or use key_data(key) for the raw "
                        "uint32 words.")
    return method


class KeyArray:
    """An array of typed PRNG keys (``jax.random.key``): shape ``data.shape[:-1]``, dtype ``key<fry>``.

    The key words live in ``data`` (uint32, shape ``(*shape, 2)``), which is the pytree leaf, so key
    arrays pass through vmap and tree.map. Arithmetic and NumPy conversion raise ``TypeError``.
    """

    __slots__ = ("_data", "impl")
    __array_priority__ = 1000

    def __init__(self, data, impl=threefry_prng_impl):
        self._data = data
        self.impl = impl

    @property
    def shape(self):
        return tuple(np.shape(self._data)[:-len(self.impl.key_shape)])

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def dtype(self):
        return f"key<{self.impl.name}>"

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of an unsized (scalar) key array")
        return self.shape[0]

    def __getitem__(self, index):
        index = index if isinstance(index, tuple) else (index,)
        if any(i is Ellipsis for i in index):
            raise TypeError("key arrays do not support Ellipsis indexing; index the batch axes explicitly.")
        return KeyArray(self._data[index], self.impl)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return KeyArray(jnp.reshape(self._data, tuple(shape) + self.impl.key_shape), self.impl)

    def __repr__(self):
        try:
            words = np.asarray(self._data)
        except Exception:  # a traced key has no value to show
            return f"Key(shape={self.shape}, dtype={self.dtype}, traced)"
        return f"Array({self.shape}, dtype={self.dtype}) overlaying:\n{words}"

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a typed PRNG key array cannot be converted to a NumPy array; use "
                        "numbax_random.key_data(key) for its uint32 words.")

    for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
                "lshift", "rshift", "lt", "le", "gt", "ge"):
        locals()[f"__{_op}__"] = _refuse(_op)
        locals()[f"__r{_op}__"] = _refuse(_op)
    for _op in ("neg", "pos", "abs", "invert", "float", "int", "index"):
        locals()[f"__{_op}__"] = _refuse(_op)
    del _op

    def __eq__(self, other):
        if not isinstance(other, KeyArray):
            return _refuse("eq")(self)
        return jnp.all(self._data == other._data, axis=-1)

    def __ne__(self, other):
        return ~self.__eq__(other)

    __hash__ = None


numbax.tree_util.register_pytree_node(KeyArray, lambda k: ((k._data,), k.impl),
                                      lambda impl, children: KeyArray(children[0], impl))


def key(seed, *, impl=None):
    """A typed PRNG key from an integer seed (``jax.random.key``).

    Args:
      seed: Python int (wrapped to int32 unless x64 is on) or integer scalar array.
      impl: only ``None`` / ``"threefry2x32"`` is supported.

    Returns:
      Scalar ``KeyArray`` (shape ``()``, dtype ``key<fry>``).
    """
    return KeyArray(_impl(impl).seed(seed))


def PRNGKey(seed, *, impl=None):  # noqa: N802 (JAX's name)
    """A raw PRNG key: the uint32 array ``[k0, k1]`` of shape ``(2,)`` (``jax.random.PRNGKey``)."""
    return _impl(impl).seed(seed)


def _impl(impl):
    if impl not in (None, "threefry2x32", threefry_prng_impl):
        raise NotImplementedError(f"PRNG implementation {impl!r} is not available; numbax_random has "
                                  "only 'threefry2x32'.")
    return threefry_prng_impl


def key_data(keys):
    """The uint32 words of typed keys: shape ``(*keys.shape, 2)``. Raw keys are returned unchanged."""
    if isinstance(keys, KeyArray):
        return keys._data
    return _raw_key_data("key_data", keys, allow_batch=True)


def wrap_key_data(key_bits_array, *, impl=None):
    """Typed keys from uint32 words of shape ``(*batch, 2)``."""
    return KeyArray(_raw_key_data("wrap_key_data", key_bits_array, allow_batch=True), _impl(impl))


def _raw_key_data(name, k, allow_batch):
    data = jnp.asarray(k) if not hasattr(k, "dtype") or not hasattr(k, "shape") else k
    if data.dtype != np.uint32 or not data.shape or data.shape[-1] != 2:
        raise TypeError(f"{name}: key must be a key from numbax_random.key(seed) or a raw uint32[2] key "
                        f"from PRNGKey(seed); got {np.dtype(data.dtype).name}{list(data.shape)}.")
    if not allow_batch and data.ndim != 1:
        raise TypeError(f"{name} accepts a single key, but was given raw keys of shape {tuple(data.shape)} "
                        "(key batch shape "
                        f"{tuple(data.shape[:-1])}). Use numbax.vmap over the keys for batching.")
    return jnp.asarray(data)


def check_key(name, k):
    """Key data ``uint32[2]`` of a single key and a function re-wrapping new key data like ``k``."""
    if isinstance(k, KeyArray):
        if k.shape:
            raise TypeError(f"{name} accepts a single key, but was given a key array of shape {k.shape} != (). "
                            "Use numbax.vmap over the keys for batching.")
        return k._data, lambda data: KeyArray(data, k.impl)
    if isinstance(k, (int, float, bool)):
        raise TypeError(f"{name}: key must be a PRNG key from numbax_random.key(seed) or PRNGKey(seed), "
                        f"got the Python {type(k).__name__} {k!r}.")
    return _raw_key_data(name, k, allow_batch=False), lambda data: data


def check_shape(name, shape, *param_shapes):
    """``shape`` as a tuple of ints, and check that the parameter shapes broadcast to it."""
    try:
        shape = (operator.index(shape),) if not isinstance(shape, (tuple, list)) else \
            tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be a tuple of ints, got {shape!r}.") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"{name}: shape must not have negative sizes, got {shape}.")
    if param_shapes:
        try:
            broadcast = np.broadcast_shapes(shape, *param_shapes)
        except ValueError:
            broadcast = None
        if broadcast != shape:
            raise ValueError(f"{name}: parameter shapes {', '.join(map(str, param_shapes))} must be "
                             f"broadcast-compatible with shape argument {shape}, and the result of "
                             "broadcasting must equal the shape argument.")
    return shape


def split(key, num=2):
    """Split a key into ``num`` new keys (``num`` an int or a shape tuple).

    Returns:
      Keys of the same kind as ``key``: typed ``(*num,)`` or raw ``(*num, 2)``.
    """
    data, wrap = check_key("split", key)
    return wrap(threefry_prng_impl.split(data, check_shape("split", num)))


def fold_in(key, data):
    """A new key from ``key`` and an integer ``data`` (Python ints must lie in [0, 2**32)).

    Returns:
      A key of the same kind as ``key``.
    """
    keydata, wrap = check_key("fold_in", key)
    if isinstance(data, (bool, int)):
        data = np.uint32(data)  # OverflowError outside [0, 2**32), as in JAX
    else:
        data = jnp.asarray(data)
        if data.ndim != 0 or not np.issubdtype(data.dtype, np.integer):
            raise TypeError(f"fold_in: data must be an integer scalar, got {np.dtype(data.dtype).name}"
                            f"{list(data.shape)}.")
    return wrap(threefry_prng_impl.fold_in(keydata, data))


def clone(key):
    """The key itself (JAX's ``clone`` matters only for key reuse checking, which numbax lacks)."""
    return key
