"""Devices and the single-device sharding every array has until the sharding
issue lands (``numbax.sharding`` will add Mesh/NamedSharding on top)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Device:
    """A place that runs a shard; CPU devices are virtual (threads)."""

    id: int
    platform: str = "cpu"
    device_kind: str = "cpu"

    def __repr__(self):
        return f"CpuDevice(id={self.id})" if self.platform == "cpu" else f"CudaDevice(id={self.id})"


_CPU_DEVICES = (Device(0),)


def devices(backend=None):
    """All devices of ``backend`` (only ``'cpu'`` so far)."""
    if backend not in (None, "cpu"):
        raise RuntimeError(f"Unknown or unavailable backend {backend!r}; numbax has 'cpu'.")
    return list(_CPU_DEVICES)


local_devices = devices


def default_backend():
    return "cpu"


@dataclasses.dataclass(frozen=True)
class SingleDeviceSharding:
    """All of an array on one device."""

    device: Device

    @property
    def device_set(self):
        return {self.device}
