"""Every optimizer alias against its formula re-implemented in NumPy (tests/optim/reference.py),
for several steps on a random pytree, including the state it keeps; and the same optimizers
batched with vmap against a Python loop."""

import dataclasses
from typing import Callable

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
import numbax_optim as optim

from tests.optim import reference as ref

SHAPES = {"b": (3,), "s": (), "w": (2, 3)}  # leaves in this (sorted-key) order


def make_tree(rng, scale=1.0):
    return {name: jnp.asarray((scale * rng.standard_normal(shape)).astype(np.float32))
            for name, shape in SHAPES.items()}


def leaves(tree):
    return [np.asarray(x) for x in numbax.tree.leaves(tree)]


@dataclasses.dataclass
class Case:
    name: str
    make: Callable          # () -> GradientTransformation
    reference: Callable     # () -> run(grads_per_step, params)
    state: Callable = None  # opt_state -> {field: tree}, compared with the reference's final state
    steps: int = 3
    rtol: float = 2e-5
    atol: float = 1e-6

    def __str__(self):
        return self.name


def adam_moments(opt_state):
    return {"mu": opt_state[0].mu, "nu": opt_state[0].nu}


CASES = [
    Case("sgd", lambda: optim.sgd(0.1), lambda: ref.ref_sgd(0.1)),
    Case("sgd_momentum", lambda: optim.sgd(0.1, momentum=0.9), lambda: ref.ref_sgd(0.1, 0.9),
         lambda s: {"trace": s[0].trace}),
    Case("sgd_nesterov", lambda: optim.sgd(0.1, momentum=0.9, nesterov=True), lambda: ref.ref_sgd(0.1, 0.9, True),
         lambda s: {"trace": s[0].trace}),
    Case("adam", lambda: optim.adam(0.01), lambda: ref.ref_adam(0.01), adam_moments),
    Case("adam_eps_root", lambda: optim.adam(0.01, b1=0.8, eps=1e-3, eps_root=1e-4),
         lambda: ref.ref_adam(0.01, b1=0.8, eps=1e-3, eps_root=1e-4), adam_moments),
    Case("nadam", lambda: optim.nadam(0.01), lambda: ref.ref_adam(0.01, nesterov=True), adam_moments),
    Case("adamw", lambda: optim.adamw(0.01, weight_decay=0.1), lambda: ref.ref_adam(0.01, weight_decay=0.1),
         adam_moments),
    Case("adamw_mask", lambda: optim.adamw(0.01, weight_decay=0.1, mask={"b": False, "s": True, "w": True}),
         lambda: ref.ref_adam(0.01, weight_decay=0.1, mask=[False, True, True]), adam_moments),
    Case("nadamw", lambda: optim.nadamw(0.01, weight_decay=0.1),
         lambda: ref.ref_adam(0.01, weight_decay=0.1, nesterov=True), adam_moments),
    Case("rmsprop", lambda: optim.rmsprop(0.01), lambda: ref.ref_rmsprop(0.01), lambda s: {"nu": s[0].nu}),
    Case("rmsprop_centered_momentum", lambda: optim.rmsprop(0.01, centered=True, momentum=0.5, eps=1e-4),
         lambda: ref.ref_rmsprop(0.01, centered=True, momentum=0.5, eps=1e-4),
         lambda s: {"mu": s[0].mu, "nu": s[0].nu, "trace": s[2].trace}, rtol=1e-4),
    Case("adagrad", lambda: optim.adagrad(0.1), lambda: ref.ref_adagrad(0.1),
         lambda s: {"sum_of_squares": s[0].sum_of_squares}),
    Case("lion", lambda: optim.lion(0.01), lambda: ref.ref_lion(0.01), lambda s: {"mu": s[0].mu}),
    Case("lamb", lambda: optim.lamb(0.01, weight_decay=0.01), lambda: ref.ref_lamb(0.01, weight_decay=0.01),
         adam_moments),
    Case("lars", lambda: optim.lars(0.1, weight_decay=0.01), lambda: ref.ref_lars(0.1, weight_decay=0.01),
         lambda s: {"trace": s[3].trace}),
    Case("adabelief", lambda: optim.adabelief(0.01), lambda: ref.ref_adabelief(0.01),
         lambda s: {"mu": s[0].mu, "nu": s[0].nu}, rtol=1e-4),
    Case("adamax", lambda: optim.adamax(0.01), lambda: ref.ref_adamax(0.01), adam_moments),
    Case("amsgrad", lambda: optim.amsgrad(0.01), lambda: ref.ref_amsgrad(0.01),
         lambda s: {"mu": s[0].mu, "nu": s[0].nu, "nu_max": s[0].nu_max}),
    Case("yogi", lambda: optim.yogi(0.01), lambda: ref.ref_yogi(0.01), adam_moments),
    Case("novograd", lambda: optim.novograd(0.01, weight_decay=0.1), lambda: ref.ref_novograd(0.01, weight_decay=0.1),
         lambda s: {"mu": s[0].mu, "nu": s[0].nu}),
    # rho crosses the (raised) threshold between steps 5 and 6, so both branches run; rho is a
    # difference of two numbers near 2000, hence the float32 tolerance.
    Case("radam", lambda: optim.radam(0.01, threshold=5.5), lambda: ref.ref_radam(0.01, threshold=5.5),
         adam_moments, steps=7, rtol=2e-3),
    Case("adafactor", lambda: optim.adafactor(0.1), lambda: ref.ref_adafactor(0.1),
         lambda s: {"v": s[0].v}, rtol=1e-4),
    Case("adafactor_factored", lambda: optim.adafactor(min_dim_size_to_factor=2),
         lambda: ref.ref_adafactor(min_dim_size_to_factor=2), rtol=1e-4),
    Case("sign_sgd", lambda: optim.sign_sgd(0.1), lambda: ref.ref_sign_sgd(0.1)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_alias_matches_numpy_formula(case, rng):
    params = make_tree(rng)
    grads_per_step = [make_tree(rng, 0.5) for _ in range(case.steps)]
    expected_updates, expected_state = case.reference()([leaves(g) for g in grads_per_step], leaves(params))

    tx = case.make()
    state = tx.init(params)
    for step, (grads, expected) in enumerate(zip(grads_per_step, expected_updates), start=1):
        updates, state = tx.update(grads, state, params)
        assert numbax.tree.structure(updates) == numbax.tree.structure(params)
        for got, want in zip(leaves(updates), expected):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=case.rtol, atol=case.atol, err_msg=f"step {step}")
        params = optim.apply_updates(params, updates)
    if case.state is not None:
        for field, tree in case.state(state).items():
            for got, want in zip(leaves(tree), expected_state[field]):
                np.testing.assert_allclose(got, want, rtol=case.rtol, atol=case.atol, err_msg=field)


def test_adam_first_step_matches_optax_observed_float32():
    # optim.md §9: b**t in float32 makes the first step -0.09999934, not -0.1; a zero grad gives -0.0.
    tx = optim.adam(0.1)
    params = jnp.zeros(2)
    state = tx.init(params)
    updates, state = tx.update(jnp.asarray([0.5, 0.0]), state, params)
    np.testing.assert_array_equal(np.asarray(updates), np.asarray([-0.09999934, -0.0], np.float32))
    assert np.signbit(np.asarray(updates)[1])
    assert int(state[0].count) == 1 and state[0].count.dtype == np.int32


def test_sgd_nesterov_first_step_observed():
    tx = optim.sgd(1.0, momentum=0.9, nesterov=True)
    updates, _ = tx.update(jnp.ones(()), tx.init(jnp.zeros(())))
    np.testing.assert_allclose(np.asarray(updates), -1.9, rtol=1e-6)


STATE_LAYOUTS = [
    (lambda: optim.sgd(0.1), [optim.EmptyState, optim.EmptyState]),
    (lambda: optim.sgd(0.1, momentum=0.9), [optim.TraceState, optim.EmptyState]),
    (lambda: optim.adam(0.1), [optim.ScaleByAdamState, optim.EmptyState]),
    (lambda: optim.adamw(0.1), [optim.ScaleByAdamState, optim.EmptyState, optim.EmptyState]),
    (lambda: optim.adamw(0.1, mask={"w": True}), [optim.ScaleByAdamState, optim.MaskedState, optim.EmptyState]),
    (lambda: optim.rmsprop(0.1), [optim.ScaleByRmsState, optim.EmptyState, optim.EmptyState]),
    (lambda: optim.adagrad(0.1), [optim.ScaleByRssState, optim.EmptyState]),
    (lambda: optim.lion(0.1), [optim.ScaleByLionState, optim.EmptyState, optim.EmptyState]),
    (lambda: optim.lamb(0.1), [optim.ScaleByAdamState] + [optim.EmptyState] * 3),
    (lambda: optim.adabelief(0.1), [optim.ScaleByBeliefState, optim.EmptyState]),
    (lambda: optim.novograd(0.1), [optim.ScaleByNovogradState, optim.EmptyState]),
]


@pytest.mark.parametrize("make, types", STATE_LAYOUTS)
def test_state_layout_matches_optax(make, types):
    state = make().init({"w": jnp.zeros(2)})
    assert [type(s) for s in state] == types


def test_state_field_names_match_optax():
    # Field names are what checkpoints store (flax msgpack writes {"count", "mu", "nu"}), so they must match.
    assert optim.ScaleByAdamState._fields == ("count", "mu", "nu")
    assert optim.TraceState._fields == ("trace",)
    assert optim.ScaleByRmsState._fields == ("nu",)
    assert optim.ScaleByRssState._fields == ("sum_of_squares",)
    assert optim.ScaleByLionState._fields == ("count", "mu")
    assert optim.FactoredState._fields == ("count", "v_row", "v_col", "v")
    assert optim.MaskedState._fields == ("inner_state",)
    assert optim.ScaleByScheduleState._fields == ("count",)
    assert optim.MultiStepsState._fields == ("mini_step", "gradient_step", "inner_opt_state", "acc_grads",
                                             "skip_state")
    assert optim.InjectStatefulHyperparamsState._fields == ("count", "hyperparams", "hyperparams_states",
                                                            "inner_state")
    assert optim.ApplyIfFiniteState._fields == ("notfinite_count", "last_finite", "total_notfinite", "inner_state")


def test_adafactor_factored_state_shapes():
    state = optim.adafactor().init({"big": jnp.zeros((128, 200)), "small": jnp.zeros((4, 3))})[0]
    assert state.v_row["big"].shape == (128,) and state.v_col["big"].shape == (200,)
    assert state.v["big"].shape == (1,)
    assert state.v["small"].shape == (4, 3) and state.v_row["small"].shape == (1,)


def _vmapped():
    # Every alias of the table and every transform and wrapper (test_transforms.TRANSFORMS).
    from tests.optim.test_transforms import TRANSFORMS
    table = {case.name: case.make for case in CASES}
    table.update({f"transform:{name}": make for name, make in TRANSFORMS.items()})
    table["clip_then_adam_schedule"] = lambda: optim.chain(optim.clip_by_global_norm(0.5),
                                                           optim.adam(optim.linear_schedule(0.1, 0.0, 4)))
    return table


VMAPPED = _vmapped()


@pytest.mark.parametrize("name", sorted(VMAPPED))
def test_vmap_runs_a_batch_of_independent_optimizers(name, rng):
    if name == "transform:add_noise":
        pytest.importorskip("numbax_random", reason="add_noise draws its noise with numbax_random")
    tx = VMAPPED[name]()
    batch = 3
    params = [make_tree(rng) for _ in range(batch)]
    grads = [[make_tree(rng) for _ in range(batch)] for _ in range(2)]
    stack = lambda trees: numbax.tree.map(lambda *xs: jnp.stack(xs), *trees)  # noqa: E731

    batched_params, batched_state = stack(params), numbax.vmap(tx.init)(stack(params))
    states = [tx.init(p) for p in params]
    for step_grads in grads:
        batched_updates, batched_state = numbax.vmap(tx.update)(stack(step_grads), batched_state, batched_params)
        looped = []
        for i in range(batch):
            updates, states[i] = tx.update(step_grads[i], states[i], params[i])
            looped.append(updates)
        for got, want in zip(leaves(batched_updates), leaves(stack(looped))):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    for got, want in zip(leaves(batched_state), leaves(stack(states))):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_sm3_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="sm3 is not implemented"):
        optim.sm3(0.1)
