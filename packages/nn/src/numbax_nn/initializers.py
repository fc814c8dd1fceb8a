"""``numbax_nn.initializers`` (≈ ``flax.linen.initializers``): the initializers
of ``numbax.nn.initializers``, re-exported, plus Flax's ``zeros_init``/``ones_init``.

The random initializers (``lecun_normal``, ``variance_scaling``, ...) are
provided by ``numbax.nn.initializers`` once numbax_random is installed; until
then the names here resolve lazily, so a layer's default ``kernel_init`` can be
built at import time and raises a clear ``NotImplementedError`` only if used.
"""

import numbax.nn.initializers as _core

__all__ = ["zeros", "ones", "constant", "zeros_init", "ones_init", "normal", "uniform",
           "truncated_normal", "variance_scaling", "lecun_normal", "lecun_uniform", "glorot_normal",
           "glorot_uniform", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform",
           "kaiming_normal", "kaiming_uniform", "orthogonal", "delta_orthogonal"]

zeros = _core.zeros
ones = _core.ones
constant = _core.constant


def zeros_init():
    """Flax's spelling of the ``zeros`` initializer (a factory)."""
    return _core.zeros


def ones_init():
    """Flax's spelling of the ``ones`` initializer (a factory)."""
    return _core.ones


class _Deferred:
    """``numbax.nn.initializers.<name>(*args, **kwargs)``, looked up on first use."""

    def __init__(self, name, args, kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs

    def resolve(self):
        factory = getattr(_core, self.name, None)
        if factory is None:
            raise NotImplementedError(
                f"numbax.nn.initializers.{self.name} is not available in this numbax: the random "
                "initializers arrive with numbax_random. Pass an explicit initializer (e.g. "
                "kernel_init=numbax_nn.initializers.zeros) meanwhile.")
        return factory(*self.args, **self.kwargs)

    def __call__(self, key, shape, dtype=None):
        return self.resolve()(key, shape, dtype)

    def __repr__(self):
        return f"{self.name}({', '.join(map(repr, self.args))})"


def _factory(name):
    def make(*args, **kwargs):
        if hasattr(_core, name):
            return getattr(_core, name)(*args, **kwargs)
        return _Deferred(name, args, kwargs)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"``numbax.nn.initializers.{name}`` (resolved when first called)."
    return make


normal = _factory("normal")
uniform = _factory("uniform")
truncated_normal = _factory("truncated_normal")
variance_scaling = _factory("variance_scaling")
lecun_normal = _factory("lecun_normal")
lecun_uniform = _factory("lecun_uniform")
glorot_normal = _factory("glorot_normal")
glorot_uniform = _factory("glorot_uniform")
xavier_normal = _factory("xavier_normal")
xavier_uniform = _factory("xavier_uniform")
he_normal = _factory("he_normal")
he_uniform = _factory("he_uniform")
kaiming_normal = _factory("kaiming_normal")
kaiming_uniform = _factory("kaiming_uniform")
orthogonal = _factory("orthogonal")
delta_orthogonal = _factory("delta_orthogonal")
