"""A jitted update step equals the eager one and does not retrace between steps; inject_hyperparams
changes a hyperparameter between jitted steps without retracing."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
import numbax_optim as optim
from tests.optim.test_alias import CASES as ALIAS_CASES
from tests.optim.test_alias import leaves, make_tree
from tests.optim.test_transforms import TRANSFORMS

pytestmark = pytest.mark.skipif(not hasattr(numbax, "jit"), reason="numbax.jit has not landed yet (issue 6)")

PARAMS = {"a": jnp.asarray([1.0, -2.0, 3.0]), "b": jnp.asarray([[0.5, -0.5], [2.0, 0.0]])}
GRADS = [{"a": jnp.asarray([0.3, -4.0, 0.0]), "b": jnp.asarray([[1.0, -1.0], [0.25, 8.0]])},
         {"a": jnp.asarray([-1.0, 0.5, 2.0]), "b": jnp.asarray([[0.0, 3.0], [-0.25, 1.0]])},
         {"a": jnp.asarray([0.1, 0.1, -0.1]), "b": jnp.asarray([[2.0, 1.0], [1.0, -2.0]])}]


def make_step(tx):
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optim.apply_updates(params, updates), state
    return step


def assert_trees_close(got, want):
    assert numbax.tree.structure(got) == numbax.tree.structure(want)
    for g, w in zip(numbax.tree.leaves(got), numbax.tree.leaves(want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6, atol=1e-7)


def test_jitted_step_equals_eager_and_traces_once():
    tx = optim.chain(optim.clip_by_global_norm(1.0),
                     optim.adamw(optim.warmup_cosine_decay_schedule(0.0, 0.1, 2, 10), weight_decay=0.1,
                                 mask={"a": True, "b": False}))
    eager, jitted = make_step(tx), numbax.jit(make_step(tx))
    p_eager = p_jit = PARAMS
    s_eager = s_jit = tx.init(PARAMS)
    for grads in GRADS:
        p_eager, s_eager = eager(p_eager, s_eager, grads)
        p_jit, s_jit = jitted(p_jit, s_jit, grads)
        assert_trees_close(p_jit, p_eager)
    assert_trees_close(s_jit, s_eager)
    assert jitted.trace_count == 1


def test_inject_hyperparams_changes_learning_rate_without_retracing():
    tx = optim.inject_hyperparams(optim.sgd)(learning_rate=0.1, momentum=0.9)
    step = numbax.jit(make_step(tx))
    state = tx.init(PARAMS)
    params, state = step(PARAMS, state, GRADS[0])
    # A strongly typed float32 scalar, like the stored one: same abstract value, so no retrace.
    state.hyperparams["learning_rate"] = jnp.asarray(0.5, jnp.float32)
    new_params, state = step(params, state, GRADS[1])
    assert step.trace_count == 1
    trace = 0.9 * np.asarray(GRADS[0]["a"]) + np.asarray(GRADS[1]["a"])
    np.testing.assert_allclose(np.asarray(new_params["a"]), np.asarray(params["a"]) - 0.5 * trace, rtol=1e-6)


def test_multisteps_under_jit_matches_the_observed_numbers():
    ms = optim.MultiSteps(optim.sgd(1.0), 3)
    step = numbax.jit(ms.update)
    state = ms.init(jnp.zeros(()))
    updates = []
    for g in [1.0, 2.0, 6.0, 1.0]:
        u, state = step(jnp.asarray(g, jnp.float32), state)
        updates.append(float(u))
    assert updates == [0.0, 0.0, -3.0, 0.0]
    assert step.trace_count == 1



@pytest.mark.parametrize("case", ALIAS_CASES, ids=str)
def test_every_alias_under_jit_matches_its_numpy_formula_without_retracing(case):
    # Each alias of the table, stepped by its own small jitted program, against its
    # independent NumPy formula at every step; one trace for all the steps.
    rng = np.random.default_rng(0)
    params = make_tree(rng)
    grads_per_step = [make_tree(rng, 0.5) for _ in range(case.steps)]
    expected = case.reference()([leaves(g) for g in grads_per_step], leaves(params))[0]
    tx = case.make()

    @numbax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return updates, optim.apply_updates(params, updates), state

    state = tx.init(params)
    for t, grads in enumerate(grads_per_step):
        updates, params, state = step(params, state, grads)
        for got, want in zip(leaves(updates), expected[t]):
            np.testing.assert_allclose(got, want, rtol=case.rtol, atol=case.atol, err_msg=f"step {t + 1}")
    assert step.trace_count == 1



@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_every_transform_under_jit_equals_eager_without_retracing(name):
    # The transforms' formulas are checked eagerly in test_transforms.py; here
    # each is stepped by its own small jitted program against its eager steps.
    if name == "add_noise":
        pytest.importorskip("numbax_random", reason="add_noise draws its noise with numbax_random")
    rng = np.random.default_rng(1)
    params = make_tree(rng)
    grads_per_step = [make_tree(rng, 0.5) for _ in range(3)]
    grads_per_step[1]["w"] = grads_per_step[1]["w"].at[0, 0].set(np.nan)  # zero_nans / apply_if_finite paths
    tx = TRANSFORMS[name]()

    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return updates, state
    jitted = numbax.jit(step)
    eager_state = jit_state = tx.init(params)
    for grads in grads_per_step:
        eager_updates, eager_state = step(params, eager_state, grads)
        jit_updates, jit_state = jitted(params, jit_state, grads)
        for got, want in zip(leaves(jit_updates), leaves(eager_updates)):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    for got, want in zip(leaves(jit_state), leaves(eager_state)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert jitted.trace_count == 1
