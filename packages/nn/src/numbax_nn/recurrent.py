"""Recurrent cells (LSTMCell, GRUCell) and RNN, which scans a cell over time."""

import functools
from typing import Any, Callable

import numbax
import numbax.numpy as jnp
import numbax_random
from numbax.nn import sigmoid, tanh

from . import initializers
from .linear import Dense, default_kernel_init
from .module import Module, compact

__all__ = ["LSTMCell", "OptimizedLSTMCell", "GRUCell", "RNN"]


class _Cell(Module):
    features: int
    gate_fn: Callable = sigmoid
    activation_fn: Callable = tanh
    kernel_init: Callable = default_kernel_init
    recurrent_kernel_init: Callable = initializers.orthogonal()
    bias_init: Callable = initializers.zeros
    dtype: Any = None
    param_dtype: Any = jnp.float32
    carry_init: Callable = initializers.zeros

    def _dense(self, name, use_bias, recurrent):
        return Dense(self.features, use_bias=use_bias, name=name, dtype=self.dtype,
                     param_dtype=self.param_dtype, bias_init=self.bias_init,
                     kernel_init=self.recurrent_kernel_init if recurrent else self.kernel_init)

    @property
    def num_feature_axes(self):
        return 1


class LSTMCell(_Cell):
    """Long short-term memory cell: ``(carry, x) -> (new_carry, h)`` with carry
    ``(c, h)``.

    Parameters: input kernels ``ii, if, ig, io``: Dense ``kernel (in, F)`` (no
    bias); hidden ``hi, hf, hg, ho``: Dense ``kernel (F, F)``, ``bias (F,)``
    (``recurrent_kernel_init`` default orthogonal).
    """

    @compact
    def __call__(self, carry, inputs):
        c, h = carry

        def gate(name, fn):
            return fn(self._dense(f"i{name}", False, False)(inputs)
                      + self._dense(f"h{name}", True, True)(h))

        i = gate("i", self.gate_fn)
        f = gate("f", self.gate_fn)
        g = gate("g", self.activation_fn)
        o = gate("o", self.gate_fn)
        new_c = f * c + i * g
        new_h = o * self.activation_fn(new_c)
        return (new_c, new_h), new_h

    def initialize_carry(self, rng, input_shape):
        """``(c, h)`` of shape ``input_shape[:-1] + (features,)`` from ``carry_init``."""
        key_c, key_h = numbax_random.split(rng)
        shape = tuple(input_shape[:-1]) + (self.features,)
        return (self.carry_init(key_c, shape, self.param_dtype),
                self.carry_init(key_h, shape, self.param_dtype))


OptimizedLSTMCell = LSTMCell


class GRUCell(_Cell):
    """Gated recurrent unit: ``(h, x) -> (new_h, new_h)``.

    Parameters: ``ir, iz, in``: Dense ``kernel (in, F)``, ``bias (F,)``;
    ``hr, hz``: Dense ``kernel (F, F)`` (no bias); ``hn``: ``kernel (F, F)``,
    ``bias (F,)``. ``n = act(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h' = (1 - z) * n + z * h``.
    """

    @compact
    def __call__(self, carry, inputs):
        h = carry
        r = self.gate_fn(self._dense("ir", True, False)(inputs) + self._dense("hr", False, True)(h))
        z = self.gate_fn(self._dense("iz", True, False)(inputs) + self._dense("hz", False, True)(h))
        n = self.activation_fn(self._dense("in", True, False)(inputs)
                               + r * self._dense("hn", True, True)(h))
        new_h = (1.0 - z) * n + z * h
        return new_h, new_h

    def initialize_carry(self, rng, input_shape):
        """``h`` of shape ``input_shape[:-1] + (features,)`` from ``carry_init``."""
        return self.carry_init(rng, tuple(input_shape[:-1]) + (self.features,), self.param_dtype)


class RNN(Module):
    """Run ``cell`` over the time axis of ``inputs`` (``(batch, time, features)``,
    or ``(time, batch, features)`` with ``time_major``); returns the outputs
    stacked over time, and the final carry first when ``return_carry``.

    The cell's parameters live under ``cell`` (shared by all time steps). The
    loop is ``numbax.lax.scan`` when numbax has it, else a Python loop (same
    numbers). ``seq_lengths (batch,)`` freezes each sequence's carry after its
    length; outputs beyond it are not meaningful.
    """

    cell: Any
    time_major: bool = False
    return_carry: bool = False
    reverse: bool = False
    keep_order: bool = False
    unroll: int = 1

    @compact
    def __call__(self, inputs, *, initial_carry=None, init_key=None, seq_lengths=None,
                 return_carry=None, time_major=None, reverse=None, keep_order=None):
        return_carry = self.return_carry if return_carry is None else return_carry
        time_major = self.time_major if time_major is None else time_major
        reverse = self.reverse if reverse is None else reverse
        keep_order = self.keep_order if keep_order is None else keep_order
        time_axis = 0 if time_major else inputs.ndim - 2
        if initial_carry is None:
            key = numbax_random.key(0) if init_key is None else init_key
            step_shape = inputs.shape[:time_axis] + inputs.shape[time_axis + 1:]
            initial_carry = self.cell.initialize_carry(key, step_shape)
        xs = jnp.moveaxis(inputs, time_axis, 0)
        if reverse:
            if seq_lengths is not None:
                raise NotImplementedError("RNN(reverse=True) with seq_lengths is not implemented in "
                                          "numbax_nn.")
            xs = jnp.flip(xs, 0)
        steps = jnp.arange(xs.shape[0])

        def step(carry, scanned):
            t, x = scanned
            new_carry, y = self.cell(carry, x)
            if seq_lengths is not None:
                live = t < jnp.asarray(seq_lengths)
                new_carry = numbax.tree.map(
                    lambda new, old: jnp.where(jnp.reshape(live, live.shape + (1,) * (new.ndim - live.ndim)),
                                               new, old), new_carry, carry)
            return new_carry, y

        if self.is_initializing():
            # Create the cell's parameters outside the loop body, so the stored
            # values are concrete arrays rather than values traced by scan.
            self.cell(initial_carry, xs[0])
        carry, ys = _scan(step, initial_carry, (steps, xs))
        if reverse and keep_order:
            ys = jnp.flip(ys, 0)
        ys = jnp.moveaxis(ys, 0, time_axis)
        return (carry, ys) if return_carry else ys


def _scan(f, init, xs):
    scan = getattr(numbax.lax, "scan", None)
    if scan is not None:
        return scan(f, init, xs)
    carry, ys = init, []
    length = numbax.tree.leaves(xs)[0].shape[0]
    for t in range(length):
        carry, y = f(carry, numbax.tree.map(functools.partial(_index, t=t), xs))
        ys.append(y)
    return carry, numbax.tree.map(lambda *y: jnp.stack(y), *ys)


def _index(x, t):
    return x[t]
