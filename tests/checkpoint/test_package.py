"""numbax-checkpoint installs on its own and reaches numbax and msgpack through its dependencies."""

import numpy as np

import numbax_checkpoint


def test_version():
    assert numbax_checkpoint.__version__ == "0.1.0"


def test_numbax_array_round_trips_through_msgpack():
    jnp = numbax_checkpoint.numbax.numpy
    msgpack = numbax_checkpoint.msgpack
    x = jnp.add(np.arange(6, dtype=np.float32).reshape(2, 3), 0.5)
    host = np.asarray(x)
    blob = msgpack.packb({"shape": list(host.shape), "dtype": host.dtype.name, "data": host.tobytes()})
    record = msgpack.unpackb(blob)
    restored = np.frombuffer(record["data"], dtype=record["dtype"]).reshape(record["shape"])
    np.testing.assert_array_equal(restored, np.arange(6, dtype=np.float32).reshape(2, 3) + 0.5)
    assert restored.dtype == x.dtype
