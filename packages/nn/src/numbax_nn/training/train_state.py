"""TrainState (≈ ``flax.training.train_state.TrainState``)."""

import dataclasses
from typing import Any, Callable

import numbax

__all__ = ["TrainState"]


@dataclasses.dataclass(frozen=True)
class TrainState:
    """Step counter, parameters, optimizer and its state, as one pytree.

    ``step``, ``params`` and ``opt_state`` are pytree children (they go through
    jit/grad); ``apply_fn`` and ``tx`` are static. Subclass as a frozen
    dataclass to add fields such as ``batch_stats``: a subclass is registered
    as a pytree when its first instance is made.
    """

    step: Any
    apply_fn: Callable = dataclasses.field(metadata={"static": True})
    params: Any = None
    tx: Any = dataclasses.field(default=None, metadata={"static": True})
    opt_state: Any = None

    def __post_init__(self):
        cls = type(self)
        if not cls.__dict__.get("_numbax_registered", False):
            fields = dataclasses.fields(cls)
            numbax.tree_util.register_dataclass(
                cls, data_fields=[f.name for f in fields if not f.metadata.get("static")],
                meta_fields=[f.name for f in fields if f.metadata.get("static")])
            cls._numbax_registered = True

    @classmethod
    def create(cls, *, apply_fn, params, tx, **kwargs):
        """A state at step 0 with ``opt_state = tx.init(params)``."""
        return cls(step=0, apply_fn=apply_fn, params=params, tx=tx, opt_state=tx.init(params),
                   **kwargs)

    def apply_gradients(self, *, grads, **kwargs):
        """One optimizer step: ``updates, opt_state = tx.update(grads, opt_state,
        params)``; ``params = apply_updates(params, updates)``; ``step + 1``;
        other keywords replace fields (e.g. ``batch_stats=``)."""
        import numbax_optim
        updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
        params = numbax_optim.apply_updates(self.params, updates)
        return self.replace(step=self.step + 1, params=params, opt_state=opt_state, **kwargs)

    def replace(self, **updates):
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **updates)
