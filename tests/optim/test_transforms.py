"""Transforms and wrappers against formulas written here in NumPy, Optax's observed numbers
(optim.md §9), and the errors users meet."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
import numbax_optim as optim

PARAMS = {"a": jnp.asarray([1.0, -2.0, 3.0]), "b": jnp.asarray([[0.5, -0.5], [2.0, 0.0]])}
GRADS = {"a": jnp.asarray([0.3, -4.0, 0.0]), "b": jnp.asarray([[1.0, -1.0], [0.25, 8.0]])}


def np_tree(tree):
    return {k: np.asarray(v, np.float64) for k, v in tree.items()}


def assert_tree_close(got, want, rtol=1e-6, atol=1e-7):
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(np.asarray(got[key]), want[key], rtol=rtol, atol=atol, err_msg=key)


def run(tx, grads=GRADS, params=PARAMS):
    return tx.update(grads, tx.init(params), params)


def test_scale_and_clip_elementwise():
    g = np_tree(GRADS)
    assert_tree_close(run(optim.scale(-0.5))[0], {k: -0.5 * v for k, v in g.items()})
    assert_tree_close(run(optim.clip(1.0))[0], {k: np.clip(v, -1.0, 1.0) for k, v in g.items()})


def test_clip_by_global_norm_rescales_only_above_the_threshold():
    g = np_tree(GRADS)
    norm = np.sqrt(sum(np.sum(v ** 2) for v in g.values()))
    assert_tree_close(run(optim.clip_by_global_norm(2.0))[0], {k: v / norm * 2.0 for k, v in g.items()})
    assert_tree_close(run(optim.clip_by_global_norm(norm * 1.01))[0], g)
    np.testing.assert_allclose(np.asarray(optim.tree.norm(GRADS)), norm, rtol=1e-6)


def test_clip_by_block_rms_per_leaf():
    out, _ = run(optim.clip_by_block_rms(1.0))
    for key, v in np_tree(GRADS).items():
        np.testing.assert_allclose(np.asarray(out[key]), v / max(1.0, np.sqrt(np.mean(v ** 2))), rtol=1e-6)


def test_add_decayed_weights_and_schedule_weight_decay():
    g, p = np_tree(GRADS), np_tree(PARAMS)
    assert_tree_close(run(optim.add_decayed_weights(0.1))[0], {k: g[k] + 0.1 * p[k] for k in g})
    tx = optim.add_decayed_weights(optim.linear_schedule(1.0, 0.0, 4))
    state = tx.init(PARAMS)
    for step in range(3):
        out, state = tx.update(GRADS, state, PARAMS)
        assert_tree_close(out, {k: g[k] + (1.0 - step / 4) * p[k] for k in g})
    assert int(state.count) == 3


def test_trace_and_ema_several_steps():
    decay = 0.8
    grads = [{"a": jnp.asarray([1.0, 2.0])}, {"a": jnp.asarray([-3.0, 0.5])}, {"a": jnp.asarray([2.0, 2.0])}]
    params = {"a": jnp.zeros(2)}
    trace_tx, ema_tx = optim.trace(decay), optim.ema(decay)
    trace_state, ema_state = trace_tx.init(params), ema_tx.init(params)
    t = e = np.zeros(2)
    for step, g in enumerate(grads, start=1):
        gn = np.asarray(g["a"], np.float64)
        t = gn + decay * t
        e = (1 - decay) * gn + decay * e
        out, trace_state = trace_tx.update(g, trace_state)
        np.testing.assert_allclose(np.asarray(out["a"]), t, rtol=1e-6)
        out, ema_state = ema_tx.update(g, ema_state)
        np.testing.assert_allclose(np.asarray(out["a"]), e / (1 - decay ** step), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ema_state.ema["a"]), e, rtol=1e-6)
    assert int(ema_state.count) == 3


def test_scale_by_learning_rate_uses_pre_increment_count():
    tx = optim.scale_by_learning_rate(lambda count: 1.0 / (count + 1.0))
    state = tx.init(PARAMS)
    for step in range(3):
        out, state = tx.update({"a": jnp.ones(3), "b": jnp.ones((2, 2))}, state)
        np.testing.assert_allclose(np.asarray(out["a"]), -1.0 / (step + 1), rtol=1e-6)
    flipped, _ = optim.scale_by_learning_rate(0.5, flip_sign=False).update(GRADS, optim.EmptyState())
    assert_tree_close(flipped, {k: 0.5 * v for k, v in np_tree(GRADS).items()})


def test_scale_by_trust_ratio_and_param_block_rms():
    g, p = np_tree(GRADS), np_tree(PARAMS)
    out, _ = run(optim.scale_by_trust_ratio())
    assert_tree_close(out, {k: g[k] * np.linalg.norm(p[k]) / np.linalg.norm(g[k]) for k in g}, rtol=1e-5)
    zero_params = {"a": jnp.zeros(3), "b": PARAMS["b"]}
    out, _ = run(optim.scale_by_trust_ratio(), params=zero_params)
    np.testing.assert_allclose(np.asarray(out["a"]), g["a"], rtol=1e-6)  # ratio 1 when ‖p‖ = 0
    out, _ = run(optim.scale_by_param_block_rms())
    assert_tree_close(out, {k: g[k] * max(np.sqrt(np.mean(p[k] ** 2)), 1e-3) for k in g}, rtol=1e-6)


def test_zero_nans_and_keep_params_nonnegative_and_centralize():
    out, state = run(optim.zero_nans(), grads={"a": jnp.asarray([np.nan, 1.0, 2.0]), "b": jnp.ones((2, 2))})
    np.testing.assert_array_equal(np.asarray(out["a"]), [0.0, 1.0, 2.0])
    assert bool(state.found_nan["a"]) and not bool(state.found_nan["b"])
    params = {"a": jnp.asarray([1.0, 2.0, 0.5]), "b": jnp.ones((2, 2))}
    out, _ = run(optim.keep_params_nonnegative(), grads={"a": jnp.asarray([-3.0, 1.0, -0.1]), "b": jnp.ones((2, 2))},
                 params=params)
    np.testing.assert_allclose(np.asarray(out["a"]), [-1.0, 1.0, -0.1])
    out, _ = run(optim.centralize())
    b = np.asarray(GRADS["b"], np.float64)
    np.testing.assert_allclose(np.asarray(out["b"]), b - b.mean(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(out["a"]), np.asarray(GRADS["a"]))


def test_chain_threads_updates_and_nests_states():
    tx = optim.chain(optim.clip(1.0), optim.chain(optim.scale(2.0), optim.trace(0.5)))
    state = tx.init(PARAMS)
    assert isinstance(state[1], tuple) and isinstance(state[1][1], optim.TraceState)
    out, state = tx.update(GRADS, state)
    assert_tree_close(out, {k: 2.0 * np.clip(v, -1, 1) for k, v in np_tree(GRADS).items()})
    named = optim.named_chain(("clip", optim.clip(1.0)), ("sgd", optim.sgd(1.0)))
    assert sorted(named.init(PARAMS)) == ["clip", "sgd"]


def test_identity_set_to_zero_and_none_leaves():
    assert_tree_close(run(optim.identity())[0], np_tree(GRADS))
    assert_tree_close(run(optim.set_to_zero())[0], {k: np.zeros_like(v) for k, v in np_tree(GRADS).items()})
    params = {"a": jnp.ones(2), "frozen": None}
    new = optim.apply_updates(params, {"a": jnp.ones(2), "frozen": None})
    assert new["frozen"] is None
    np.testing.assert_array_equal(np.asarray(new["a"]), [2.0, 2.0])


def test_apply_updates_keeps_the_param_dtype():
    # optim.md §9 shows bf16 params staying bf16; numbax has no bfloat16, float16 makes the same point.
    new = optim.apply_updates(jnp.asarray([1.0, 2.0], jnp.float16), jnp.asarray([0.5, 0.25], jnp.float32))
    assert new.dtype == np.float16
    np.testing.assert_array_equal(np.asarray(new), np.asarray([1.5, 2.25], np.float16))


# --- wrappers -------------------------------------------------------------------------------------------------

def test_masked_applies_inner_only_where_true():
    tx = optim.masked(optim.sgd(0.1, momentum=0.9), {"a": True, "b": False})
    state = tx.init(PARAMS)
    assert isinstance(state.inner_state[0].trace["b"], optim.MaskedNode)
    out, state = tx.update(GRADS, state, PARAMS)
    g = np_tree(GRADS)
    np.testing.assert_allclose(np.asarray(out["a"]), -0.1 * g["a"], rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(out["b"]), g["b"])
    callable_mask = optim.masked(optim.scale(0.0), lambda tree: {k: k == "b" for k in tree})
    out, _ = run(callable_mask)
    np.testing.assert_array_equal(np.asarray(out["a"]), g["a"])
    np.testing.assert_array_equal(np.asarray(out["b"]), 0.0)


def test_multi_transform_gives_each_label_its_optimizer():
    tx = optim.multi_transform({"fast": optim.sgd(1.0), "slow": optim.adam(0.01), "frozen": optim.set_to_zero()},
                               {"a": "fast", "b": "slow"})
    state = tx.init(PARAMS)
    assert isinstance(state, optim.PartitionState) and sorted(state.inner_states) == ["fast", "frozen", "slow"]
    assert isinstance(state.inner_states["slow"], optim.MaskedState)
    out, state = tx.update(GRADS, state, PARAMS)
    g = np_tree(GRADS)
    np.testing.assert_allclose(np.asarray(out["a"]), -g["a"], rtol=1e-6)
    # Adam's first step is -lr * sign(g) up to eps (0 where g is 0).
    np.testing.assert_allclose(np.asarray(out["b"]), -0.01 * np.sign(g["b"]), rtol=1e-5)
    assert int(state.inner_states["slow"].inner_state[0].count) == 1


def test_multi_transform_unknown_label_is_named():
    with pytest.raises(ValueError, match=r"param_labels use \[\"'oops'\"\].*add a transformation"):
        optim.multi_transform({"a": optim.sgd(1.0)}, {"a": "a", "b": "oops"}).init(PARAMS)


def test_inject_hyperparams_schedule_observed_numbers():
    # optim.md §9: the schedule is evaluated at the pre-increment count: -1.0 then -0.9.
    tx = optim.inject_hyperparams(optim.sgd)(learning_rate=optim.linear_schedule(1.0, 0.0, 10))
    state = tx.init(jnp.zeros(()))
    updates = []
    for _ in range(2):
        u, state = tx.update(jnp.ones(()), state)
        updates.append(float(u))
    np.testing.assert_allclose(updates, [-1.0, -0.9], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(state.hyperparams["learning_rate"]), 0.9, rtol=1e-6)
    assert int(state.count) == 2


def test_inject_hyperparams_value_can_be_overwritten_between_steps():
    tx = optim.inject_hyperparams(optim.adam)(learning_rate=0.1, b1=0.5)
    state = tx.init(PARAMS)
    assert sorted(state.hyperparams) == ["b1", "b2", "eps", "eps_root", "learning_rate"]
    assert state.hyperparams["learning_rate"].dtype == np.float32
    _, state = tx.update(GRADS, state, PARAMS)
    state.hyperparams["learning_rate"] = jnp.asarray(0.0)
    out, state = tx.update(GRADS, state, PARAMS)
    for leaf in numbax.tree.leaves(out):
        np.testing.assert_array_equal(np.abs(np.asarray(leaf)), 0.0)
    assert int(state.inner_state[0].count) == 2  # the inner state kept counting


def test_multisteps_observed_numbers():
    # optim.md §9: MultiSteps(sgd(1.0), 3) with grads 1, 2, 6, 1 -> 0, 0, -3, 0; gradient_step 0, 0, 1, 1.
    ms = optim.MultiSteps(optim.sgd(1.0), 3)
    state = ms.init(jnp.zeros(()))
    updates, steps, updated = [], [], []
    for g in [1.0, 2.0, 6.0, 1.0]:
        u, state = ms.update(jnp.asarray(g), state)
        updates.append(float(u))
        steps.append(int(state.gradient_step))
        updated.append(bool(ms.has_updated(state)))
    assert updates == [0.0, 0.0, -3.0, 0.0]
    assert steps == [0, 0, 1, 1]
    assert updated == [False, False, True, False]


def test_multisteps_equals_a_k_times_larger_batch(rng):
    k = 4
    xs = rng.standard_normal((k * 3, 2)).astype(np.float32)
    ys = (xs @ np.asarray([1.5, -0.5], np.float32)).astype(np.float32)

    def loss(w, x, y):
        return jnp.mean((x @ w - y) ** 2)

    big_tx = optim.adam(0.1)
    small_tx = optim.MultiSteps(optim.adam(0.1), k)
    w_big = w_small = jnp.zeros(2)
    big_state, small_state = big_tx.init(w_big), small_tx.init(w_small)
    for _ in range(2):  # two full steps
        g = numbax.grad(loss)(w_big, jnp.asarray(xs), jnp.asarray(ys))
        u, big_state = big_tx.update(g, big_state)
        w_big = optim.apply_updates(w_big, u)
        for chunk in range(k):
            rows = slice(chunk * 3, chunk * 3 + 3)
            g = numbax.grad(loss)(w_small, jnp.asarray(xs[rows]), jnp.asarray(ys[rows]))
            u, small_state = small_tx.update(g, small_state)
            w_small = optim.apply_updates(w_small, u)
        np.testing.assert_allclose(np.asarray(w_small), np.asarray(w_big), rtol=1e-5, atol=1e-6)


def test_multisteps_skip_not_finite_drops_the_mini_step():
    ms = optim.MultiSteps(optim.sgd(1.0), 2, should_skip_update_fn=optim.skip_not_finite)
    state = ms.init(jnp.zeros(()))
    for g in [2.0, np.nan, 4.0]:
        u, state = ms.update(jnp.asarray(g), state)
    assert float(u) == -3.0 and int(state.skip_state["num_not_finite"]) == 0


def test_apply_if_finite_skips_bad_steps_and_counts_them():
    tx = optim.apply_if_finite(optim.sgd(1.0, momentum=0.5), max_consecutive_errors=2)
    state = tx.init(jnp.zeros(2))
    u, state = tx.update(jnp.asarray([1.0, 1.0]), state)
    np.testing.assert_allclose(np.asarray(u), [-1.0, -1.0])
    u, state = tx.update(jnp.asarray([np.inf, 1.0]), state)
    np.testing.assert_array_equal(np.asarray(u), [0.0, 0.0])
    assert not bool(state.last_finite) and int(state.notfinite_count) == 1 and int(state.total_notfinite) == 1
    np.testing.assert_array_equal(np.asarray(state.inner_state[0].trace), [1.0, 1.0])  # inner state kept
    u, state = tx.update(jnp.asarray([1.0, 1.0]), state)
    np.testing.assert_allclose(np.asarray(u), [-1.5, -1.5])  # 1 + 0.5 * 1
    assert int(state.notfinite_count) == 0 and int(state.total_notfinite) == 1
    for _ in range(3):
        u, state = tx.update(jnp.asarray([np.nan, 0.0]), state)
    assert np.isnan(np.asarray(u)[0])  # the third bad step in a row goes through (> max_consecutive_errors)


def test_add_noise_needs_numbax_random():
    try:
        import numbax_random
    except ImportError:  # optim installed alone (nox -s tests-optim): numbax-random is optional
        with pytest.raises(ImportError, match=r"add_noise draws normal samples with numbax_random.*"
                                              r"pip install numbax-random"):
            optim.add_noise(0.01, 0.55, 0)
        return
    if all(hasattr(numbax_random, name) for name in ("PRNGKey", "split", "normal")):
        tx = optim.add_noise(0.01, 0.55, 0)
        state = tx.init({"a": jnp.zeros(4000)})
        u, state = tx.update({"a": jnp.zeros(4000)}, state)
        np.testing.assert_allclose(np.std(np.asarray(u["a"])), np.sqrt(0.01), rtol=0.1)
        assert int(state.count) == 1
    else:
        with pytest.raises(NotImplementedError, match=r"add_noise needs numbax_random\.PRNGKey"):
            optim.add_noise(0.01, 0.55, 0)


# --- errors ---------------------------------------------------------------------------------------------------

def test_mismatched_trees_name_the_first_differing_path():
    with pytest.raises(ValueError, match=r"apply_updates: updates and params .*at path \['b'\] only params"):
        optim.apply_updates(PARAMS, {"a": GRADS["a"]})
    with pytest.raises(ValueError, match=r"add_decayed_weights: updates and params .*at path \['b'\]"):
        optim.add_decayed_weights(0.1).update({"a": GRADS["a"], "c": GRADS["b"]}, optim.EmptyState(), PARAMS)


def test_schedule_where_a_number_is_required_and_vice_versa():
    schedule = optim.constant_schedule(0.1)
    with pytest.raises(TypeError, match=r"scale: step_size must be a number, got the callable .*scale_by_schedule"):
        optim.scale(schedule)
    with pytest.raises(TypeError, match=r"scale_by_adam: b1 must be a number, got the callable"):
        optim.adam(0.1, b1=schedule)
    with pytest.raises(TypeError, match=r"scale_by_schedule: step_size_fn must be a schedule .* got float 0\.1\. "
                                        r"For a constant use scale"):
        optim.scale_by_schedule(0.1)
    with pytest.raises(TypeError, match=r"scale_by_learning_rate: learning_rate must be a float or a schedule .*"
                                        r"got str '0\.1'"):
        optim.sgd("0.1")
    with pytest.raises(TypeError, match=r"linear_schedule|polynomial_schedule: init_value must be a number"):
        optim.linear_schedule(schedule, 0.0, 10)


def test_missing_params_and_bad_masks_raise_clearly():
    with pytest.raises(ValueError, match=r"add_decayed_weights: this transformation needs the current parameters"):
        optim.adamw(0.1).update(GRADS, optim.adamw(0.1).init(PARAMS))
    with pytest.raises(TypeError, match=r"masked: mask leaves must be Python bools"):
        optim.masked(optim.sgd(1.0), {"a": jnp.asarray(True), "b": False}).init(PARAMS)
    with pytest.raises(ValueError, match=r"sgd: nesterov=True needs a momentum"):
        optim.sgd(0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"MultiSteps: every_k_schedule must be >= 1, got 0"):
        optim.MultiSteps(optim.sgd(1.0), 0)
    with pytest.raises(ValueError, match=r"chain: the state has 1 entries but the chain has 2"):
        optim.adam(0.1).update(GRADS, (optim.EmptyState(),))


def test_global_norm_is_deprecated_like_optax():
    with pytest.deprecated_call(match="use numbax_optim.tree.norm"):
        value = optim.global_norm(GRADS)
    np.testing.assert_allclose(np.asarray(value), np.sqrt(sum(np.sum(v ** 2) for v in np_tree(GRADS).values())),
                               rtol=1e-6)


def test_tree_utilities():
    g, p = np_tree(GRADS), np_tree(PARAMS)
    assert_tree_close(optim.tree.add(GRADS, PARAMS, GRADS), {k: 2 * g[k] + p[k] for k in g})
    assert_tree_close(optim.tree.sub(GRADS, PARAMS), {k: g[k] - p[k] for k in g})
    assert_tree_close(optim.tree.scale(3.0, GRADS), {k: 3 * g[k] for k in g})
    zeros = optim.tree.zeros_like(PARAMS, jnp.int32)
    assert all(z.dtype == np.int32 and not np.any(np.asarray(z)) for z in numbax.tree.leaves(zeros))
    np.testing.assert_allclose(np.asarray(optim.tree.vdot(GRADS, PARAMS)), sum(np.sum(g[k] * p[k]) for k in g),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(optim.tree.norm(GRADS, ord=1)), sum(np.abs(v).sum() for v in g.values()),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(optim.tree.norm(GRADS, ord="inf")), 8.0)


def test_safe_increment_saturates():
    top = jnp.asarray(np.iinfo(np.int32).max, jnp.int32)
    assert int(optim.safe_increment(top)) == np.iinfo(np.int32).max
    assert int(optim.safe_increment(jnp.asarray(4, jnp.int32))) == 5


def test_optimizer_step_under_grad():
    # A meta-gradient: d(loss after one adam step)/d(learning rate), checked by central differences.
    w0, g = jnp.asarray([1.0, -2.0]), jnp.asarray([0.5, -0.25])

    def loss_after_step(lr):
        tx = optim.inject_hyperparams(optim.sgd)(learning_rate=lr)
        u, _ = tx.update(g, tx.init(w0))
        return jnp.sum(optim.apply_updates(w0, u) ** 2)

    slope = float(numbax.grad(loss_after_step)(jnp.asarray(0.3)))
    h = 1e-2
    numeric = (float(loss_after_step(jnp.asarray(0.3 + h))) - float(loss_after_step(jnp.asarray(0.3 - h)))) / (2 * h)
    np.testing.assert_allclose(slope, numeric, rtol=1e-3)


# Every transform and wrapper, for the jit and vmap columns (test_jit.py, test_alias.py).
TRANSFORMS = {
    "scale": lambda: optim.scale(-0.5),
    "clip": lambda: optim.clip(0.3),
    "clip_by_global_norm": lambda: optim.clip_by_global_norm(0.5),
    "clip_by_block_rms": lambda: optim.clip_by_block_rms(0.2),
    "add_decayed_weights_schedule": lambda: optim.add_decayed_weights(optim.linear_schedule(0.1, 0.0, 3)),
    "trace_nesterov": lambda: optim.trace(0.9, nesterov=True),
    "ema_debias": lambda: optim.ema(0.8, debias=True),
    "zero_nans": lambda: optim.zero_nans(),
    "scale_by_schedule": lambda: optim.scale_by_schedule(optim.exponential_decay(1.0, 1, 0.5)),
    "masked": lambda: optim.masked(optim.scale(3.0), {"b": True, "s": False, "w": True}),
    "multi_transform": lambda: optim.multi_transform({"x": optim.sgd(0.1), "y": optim.adam(0.01)},
                                                     {"b": "x", "s": "y", "w": "y"}),
    "apply_if_finite": lambda: optim.apply_if_finite(optim.sgd(0.1), 2),
    "multi_steps": lambda: optim.MultiSteps(optim.adam(0.01), every_k_schedule=2),
    "inject_hyperparams": lambda: optim.inject_hyperparams(optim.adamw)(
        learning_rate=optim.cosine_decay_schedule(0.1, 3), weight_decay=0.01),
    "add_noise": lambda: optim.add_noise(0.01, 0.55, 0),
}
