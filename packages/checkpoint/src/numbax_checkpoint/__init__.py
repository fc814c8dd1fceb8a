"""numbax_checkpoint: ``flax.serialization`` and ``orbax.checkpoint`` for numbax.

Flax-compatible msgpack serialization (``to_bytes``/``from_bytes``,
``to_state_dict``/``from_state_dict``) and an atomic, crash-safe
``CheckpointManager``. The API is being built in issue 10; this release only
installs and imports.
"""

import msgpack as msgpack

import numbax as numbax

__version__ = "0.1.0"
