"""The exceptions numbax_checkpoint raises."""


class CheckpointError(ValueError):
    """A checkpoint could not be written or read back faithfully.

    Raised for damaged files (empty, truncated, bit-flipped), a target whose
    structure, shapes or dtypes differ from what was saved, and misuse of the
    manager. The message names the file and the pytree path, what was seen,
    and what to do. A subclass of ``ValueError`` because Flax raises
    ``ValueError`` for the same state-dict mismatches::

        >>> from numbax_checkpoint import from_state_dict
        >>> from_state_dict({"a": 1, "b": 2}, {"a": 1})
        Traceback (most recent call last):
        ...
        numbax_checkpoint.errors.CheckpointError: from_state_dict: the state has no key 'b' ... at path ./b ...
    """


class UnsupportedTypeError(CheckpointError, TypeError):
    """A leaf of a type the msgpack format cannot hold (a set, an arbitrary
    object, an object-dtype array). Also a ``TypeError``, as in Flax."""


class StepAlreadyExistsError(CheckpointError):
    """``CheckpointManager.save`` was asked to write a step that is already on disk."""
