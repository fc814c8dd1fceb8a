"""Global configuration, read with ``numbax.config.<name>`` and changed with
``numbax.config.update(name, value)`` as in JAX."""

import contextlib
import os


def _env_flag(name, default=""):
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


class Config:
    """Holds the engine's switches.

    ``jax_enable_x64``: when False (the default, as in JAX) 64-bit dtypes are
    narrowed to 32 bits everywhere (``float64`` arrays become ``float32``).
    Also set by the environment variable ``NUMBAX_ENABLE_X64=1``.
    ``numbax_check_jaxprs``: run the jaxpr typechecker after every trace.
    ``numbax_background_compile``: while a jitted program is not in the disk
    cache, run its calls op by op and compile it in a worker process
    (``backends/background.py``; default on, ``NUMBAX_BACKGROUND_COMPILE=0``
    turns it off).
    """

    _defaults = {
        "jax_enable_x64": _env_flag("NUMBAX_ENABLE_X64") or _env_flag("JAX_ENABLE_X64"),
        "numbax_check_jaxprs": _env_flag("NUMBAX_CHECK_JAXPRS"),
        "numbax_background_compile": _env_flag("NUMBAX_BACKGROUND_COMPILE", "1"),
    }

    def __init__(self):
        self._values = dict(self._defaults)

    def update(self, name, value):
        if name not in self._values:
            known = ", ".join(sorted(self._values))
            raise AttributeError(f"Unknown numbax config option {name!r}; known options: {known}.")
        self._values[name] = bool(value)

    def __getattr__(self, name):
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"Unknown numbax config option {name!r}.") from None

    @property
    def x64_enabled(self):
        return self._values["jax_enable_x64"]


config = Config()


@contextlib.contextmanager
def enable_x64(new_value=True):
    """Context manager that switches ``jax_enable_x64`` inside a ``with`` block."""
    old = config.jax_enable_x64
    config.update("jax_enable_x64", new_value)
    try:
        yield
    finally:
        config.update("jax_enable_x64", old)
