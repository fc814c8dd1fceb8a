"""numbax_checkpoint: ``flax.serialization`` and ``orbax.checkpoint`` for numbax.

Flax-compatible msgpack serialization (``to_bytes``/``from_bytes``,
``to_state_dict``/``from_state_dict``, ``msgpack_serialize``/``msgpack_restore``),
checksummed atomic files (``save``/``restore``) and a crash-safe
``CheckpointManager``. See the package README for what differs from Flax and Orbax.
"""

from ._version import __version__ as __version__
from .errors import (
    CheckpointError as CheckpointError,
    StepAlreadyExistsError as StepAlreadyExistsError,
    UnsupportedTypeError as UnsupportedTypeError,
)
from .state_dict import (
    current_path as current_path,
    from_state_dict as from_state_dict,
    is_typed_key as is_typed_key,
    register_serialization_state as register_serialization_state,
    to_state_dict as to_state_dict,
)
from .msgpack_format import (
    MAX_CHUNK_SIZE as MAX_CHUNK_SIZE,
    from_bytes as from_bytes,
    msgpack_restore as msgpack_restore,
    msgpack_serialize as msgpack_serialize,
    to_bytes as to_bytes,
)
from .files import restore as restore, save as save
from .manager import (
    CheckpointManager as CheckpointManager,
    CheckpointManagerOptions as CheckpointManagerOptions,
    CheckpointWarning as CheckpointWarning,
)
