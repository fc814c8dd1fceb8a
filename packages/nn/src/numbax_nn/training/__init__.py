"""``numbax_nn.training`` (≈ ``flax.training``)."""

from numbax_nn.training import train_state as train_state
