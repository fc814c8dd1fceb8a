"""TrainState with numbax_optim, as a pytree through grad, jit and vmap."""

import dataclasses
from typing import Any

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
import numbax_nn as nn
import numbax_random

# TrainState drives a numbax_optim optimizer; numbax-nn itself does not depend on it.
numbax_optim = pytest.importorskip("numbax_optim", reason="numbax_optim is not installed (nox -s tests-nn "
                                   "installs only numbax-nn's own dependencies)")
from numbax_nn.training import train_state  # noqa: E402


def make_state(tx):
    model = nn.Dense(2)
    params = model.init(numbax_random.key(0), jnp.ones((1, 3)))["params"]
    return model, train_state.TrainState.create(apply_fn=model.apply, params=params, tx=tx)


def loss_fn(params, state, x, y):
    return jnp.mean((state.apply_fn({"params": params}, x) - y) ** 2)


def test_create_and_apply_gradients_is_one_sgd_step():
    _, state = make_state(numbax_optim.sgd(0.1))
    assert state is not None and int(state.step) == 0 and state.tx is not None
    assert nn.TrainState is train_state.TrainState
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    grads = numbax.grad(loss_fn)(state.params, state, x, y)
    new = state.apply_gradients(grads=grads)
    assert int(new.step) == 1
    want = np.asarray(state.params["kernel"]) - 0.1 * np.asarray(grads["kernel"])
    np.testing.assert_allclose(np.asarray(new.params["kernel"]), want, rtol=1e-6)
    # Reference gradient of the mean squared error, by hand.
    k, b = np.asarray(state.params["kernel"]), np.asarray(state.params["bias"])
    g_out = 2 * (x @ k + b - y) / y.size
    np.testing.assert_allclose(np.asarray(grads["kernel"]), x.T @ g_out, rtol=1e-5)


def test_train_state_is_a_pytree_with_static_apply_fn_and_tx():
    _, state = make_state(numbax_optim.adam(1e-3))
    leaves, tree = numbax.tree.flatten(state)
    assert len(leaves) == 1 + 2 + len(numbax.tree.leaves(state.opt_state))
    rebuilt = numbax.tree.unflatten(tree, leaves)
    assert rebuilt.apply_fn == state.apply_fn and rebuilt.tx is state.tx


def test_subclass_with_batch_stats_and_replace():
    @dataclasses.dataclass(frozen=True)
    class BNState(nn.TrainState):
        batch_stats: Any = None

    _, base = make_state(numbax_optim.sgd(0.1))
    state = BNState.create(apply_fn=base.apply_fn, params=base.params, tx=base.tx,
                           batch_stats={"mean": jnp.zeros(2)})
    assert len(numbax.tree.leaves(state)) == len(numbax.tree.leaves(base)) + 1
    grads = numbax.tree.map(jnp.zeros_like, state.params)
    new = state.apply_gradients(grads=grads, batch_stats={"mean": jnp.ones(2)})
    np.testing.assert_array_equal(np.asarray(new.batch_stats["mean"]), 1.0)


@pytest.mark.skipif(not hasattr(numbax, "jit"), reason="numbax.jit has not landed in core yet")
def test_jitted_train_step_matches_eager_and_loss_falls():
    _, state = make_state(numbax_optim.adam(0.05))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = x @ np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]], np.float32)

    def step(state, x, y):
        loss, grads = numbax.value_and_grad(loss_fn)(state.params, state, x, y)
        return state.apply_gradients(grads=grads), loss

    jstep = numbax.jit(step)
    eager_state, jit_state = state, state
    losses = []
    for _ in range(20):
        eager_state, _ = step(eager_state, x, y)
        jit_state, loss = jstep(jit_state, x, y)
        losses.append(float(loss))
    np.testing.assert_allclose(np.asarray(jit_state.params["kernel"]), np.asarray(eager_state.params["kernel"]),
                               rtol=1e-4, atol=1e-5)
    assert int(jit_state.step) == 20
    assert losses[-1] < 0.5 * losses[0]
