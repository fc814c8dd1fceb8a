"""Sequential."""

from typing import Any

from .module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """Apply ``layers`` in order: each gets the previous output (a tuple is
    unpacked into positional arguments, a dict into keywords). Modules in the
    list are named by their index, ``layers_0``, ``layers_2`` (activations and
    other plain functions count in the index)."""

    layers: Any

    def __call__(self, *args, **kwargs):
        if not self.layers:
            raise ValueError(f"Sequential at /{'/'.join(self.path)} has no layers.")
        outputs = self.layers[0](*args, **kwargs)
        for layer in self.layers[1:]:
            if isinstance(outputs, tuple):
                outputs = layer(*outputs)
            elif isinstance(outputs, dict):
                outputs = layer(**outputs)
            else:
                outputs = layer(outputs)
        return outputs
