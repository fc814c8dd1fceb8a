"""numbax-checkpoint installs on its own and exposes its public surface."""

import numbax_checkpoint

PUBLIC = {
    "CheckpointError", "StepAlreadyExistsError", "UnsupportedTypeError", "CheckpointWarning",
    "to_state_dict", "from_state_dict", "register_serialization_state", "current_path", "is_typed_key",
    "msgpack_serialize", "msgpack_restore", "to_bytes", "from_bytes", "MAX_CHUNK_SIZE",
    "save", "restore", "CheckpointManager", "CheckpointManagerOptions",
}


def test_version():
    assert numbax_checkpoint.__version__ == "0.1.0"


def test_public_surface():
    names = {name for name in dir(numbax_checkpoint) if not name.startswith("_")}
    assert PUBLIC <= names
    for name in PUBLIC - {"MAX_CHUNK_SIZE"}:
        assert getattr(numbax_checkpoint, name).__doc__, f"{name} has no docstring"
