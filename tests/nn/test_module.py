"""The Module machinery: naming, init/apply conventions, collections, rngs,
bind/unbind, and the errors users hit (messages asserted)."""

import hashlib

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
import numbax_nn as nn
import numbax_random

ONES = nn.initializers.ones


def shapes(tree):
    return numbax.tree.map(lambda a: tuple(a.shape), tree)


class MLP(nn.Module):
    features: tuple = (3, 2)

    @nn.compact
    def __call__(self, x):
        for f in self.features:
            x = nn.Dense(f)(x)
        return nn.Dense(1, name="head")(x)


class SetupModel(nn.Module):
    def setup(self):
        self.encoder = nn.Dense(2)
        self.layers = [nn.Dense(3), nn.Dense(4)]
        self.heads = {"a": nn.Dense(1), "b": nn.Dense(2)}

    def __call__(self, x):
        h = self.layers[1](self.layers[0](self.encoder(x)))
        return self.heads["a"](h), self.heads["b"](h)

    def encode(self, x):
        return self.encoder(x)


class Inner(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(2)(x)


class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
        h = Inner()(x)
        return Inner()(h)


def test_compact_auto_names_and_explicit_names():
    v = MLP().init(numbax_random.key(0), jnp.ones((4, 5)))
    assert shapes(v) == {"params": {"Dense_0": {"kernel": (5, 3), "bias": (3,)},
                                    "Dense_1": {"kernel": (3, 2), "bias": (2,)},
                                    "head": {"kernel": (2, 1), "bias": (1,)}}}


def test_setup_attribute_list_and_dict_names():
    v = SetupModel().init(numbax_random.key(0), jnp.ones((2, 5)))
    assert sorted(v["params"]) == ["encoder", "heads_a", "heads_b", "layers_0", "layers_1"]
    assert v["params"]["layers_1"]["kernel"].shape == (3, 4)


def test_nested_params_mirror_the_module_path():
    v = Outer().init(numbax_random.key(0), jnp.ones((1, 3)))
    assert shapes(v) == {"params": {"Inner_0": {"Dense_0": {"kernel": (3, 2), "bias": (2,)}},
                                    "Inner_1": {"Dense_0": {"kernel": (2, 2), "bias": (2,)}}}}


def test_sequential_names_count_activations():
    model = nn.Sequential([nn.Dense(4), nn.relu, nn.Dense(2)])
    v = model.init(numbax_random.key(0), jnp.ones((1, 3)))
    assert sorted(v["params"]) == ["layers_0", "layers_2"]
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    p = v["params"]
    h = np.maximum(x @ np.asarray(p["layers_0"]["kernel"]) + np.asarray(p["layers_0"]["bias"]), 0)
    want = h @ np.asarray(p["layers_2"]["kernel"]) + np.asarray(p["layers_2"]["bias"])
    np.testing.assert_allclose(np.asarray(model.apply(v, x)), want, rtol=1e-5, atol=1e-6)


def test_apply_matches_a_numpy_forward_and_method_argument():
    x = np.arange(10, dtype=np.float32).reshape(2, 5) / 10
    v = SetupModel().init(numbax_random.key(1), x)
    enc = v["params"]["encoder"]
    want = x @ np.asarray(enc["kernel"]) + np.asarray(enc["bias"])
    got_by_name = SetupModel().apply(v, x, method="encode")
    got_by_fn = SetupModel().apply(v, x, method=lambda m, x: m.encode(x))
    np.testing.assert_allclose(np.asarray(got_by_name), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(got_by_fn), want, rtol=1e-6)


def test_init_with_output_and_empty_variables():
    out, v = nn.Dense(2, kernel_init=ONES).init_with_output(numbax_random.key(0), jnp.ones((1, 3)))
    np.testing.assert_array_equal(np.asarray(out), [[3.0, 3.0]])
    assert nn.Dropout(0.5).init(numbax_random.key(0), jnp.ones(3), deterministic=True) == {}


def test_calling_a_module_twice_shares_its_parameters():
    class Twice(nn.Module):
        def setup(self):
            self.dense = nn.Dense(3)

        def __call__(self, x):
            return self.dense(self.dense(x))

    v = Twice().init(numbax_random.key(0), jnp.ones((1, 3)))
    assert shapes(v) == {"params": {"dense": {"kernel": (3, 3), "bias": (3,)}}}


def test_variables_collections_and_mutable_return():
    class Counter(nn.Module):
        @nn.compact
        def __call__(self, x):
            count = self.variable("counter", "n", lambda: jnp.zeros((), jnp.int32))
            if not self.is_initializing():
                count.value = count.value + 1
            return x * 2

    v = Counter().init(numbax_random.key(0), 1.0)
    assert int(v["counter"]["n"]) == 0
    out, updated = Counter().apply(v, 3.0, mutable=["counter"])
    assert float(out) == 6.0 and int(updated["counter"]["n"]) == 1
    assert int(v["counter"]["n"]) == 0, "apply must not change the caller's dict"
    with pytest.raises(nn.ModifyScopeVariableError,
                       match=r'Cannot update variable "n" in "/" because collection "counter" is immutable'):
        Counter().apply(v, 3.0)


def test_sow_and_capture_intermediates():
    class Sower(nn.Module):
        @nn.compact
        def __call__(self, x):
            h = nn.Dense(2, kernel_init=ONES)(x)
            self.sow("intermediates", "h", h)
            return h.sum()

    x = jnp.ones((1, 3))
    v = Sower().init(numbax_random.key(0), x)
    assert "intermediates" not in v
    out, state = Sower().apply(v, x, mutable=["intermediates"])
    np.testing.assert_array_equal(np.asarray(state["intermediates"]["h"][0]), [[3.0, 3.0]])
    _, captured = Sower().apply(v, x, capture_intermediates=True)
    np.testing.assert_array_equal(np.asarray(captured["intermediates"]["Dense_0"]["__call__"][0]),
                                  [[3.0, 3.0]])
    assert float(captured["intermediates"]["__call__"][0]) == 6.0


def test_bind_and_unbind():
    v = SetupModel().init(numbax_random.key(0), jnp.ones((1, 5)))
    bound = SetupModel().bind(v)
    x = jnp.ones((1, 5))
    np.testing.assert_allclose(np.asarray(bound.encoder(x)),
                               np.asarray(SetupModel().apply(v, x, method="encode")))
    module, variables = bound.unbind()
    assert module.scope is None and sorted(variables["params"]) == sorted(v["params"])


# -- rng derivation (reference/nn.md section 4), recomputed here with hashlib

def flax_hash(*items):
    """SHA-1 over the items (str as UTF-8, int as minimal big-endian bytes);
    the first four digest bytes, big-endian."""
    data = b"".join(x.encode() if isinstance(x, str) else x.to_bytes((x.bit_length() + 7) // 8, "big")
                    for x in items)
    return int.from_bytes(hashlib.sha1(data).digest()[:4], "big")


def key_bits(key):
    return np.asarray(numbax_random.key_data(key))


def test_make_rng_keys_follow_the_path_and_per_scope_counters():
    seen = {}

    class Leaf(nn.Module):
        @nn.compact
        def __call__(self):
            seen[self.path] = [key_bits(self.make_rng("noise")), key_bits(self.make_rng("noise"))]

    class Root(nn.Module):
        @nn.compact
        def __call__(self):
            seen[()] = [key_bits(self.make_rng("noise"))]
            Leaf()()
            Leaf(name="b")()

    root = numbax_random.key(7)
    Root().apply({}, rngs={"noise": root})
    assert hashlib.sha1(b"Leaf_0\x01").digest()[:4] == flax_hash("Leaf_0", 1).to_bytes(4, "big")
    expected = {(): [((), 1)], ("Leaf_0",): [(("Leaf_0",), 1), (("Leaf_0",), 2)],
                ("b",): [(("b",), 1), (("b",), 2)]}
    for path, calls in expected.items():
        for got, (prefix, count) in zip(seen[path], calls):
            want = key_bits(numbax_random.fold_in(root, np.uint32(flax_hash(*prefix, count))))
            np.testing.assert_array_equal(got, want, err_msg=f"path {path} count {count}")


def test_make_rng_falls_back_to_params_and_names_a_missing_stream():
    class UsesNoise(nn.Module):
        @nn.compact
        def __call__(self):
            return key_bits(self.make_rng("noise"))

    root = numbax_random.key(3)
    got = UsesNoise().apply({}, rngs={"params": root})
    np.testing.assert_array_equal(got, key_bits(numbax_random.fold_in(root, np.uint32(flax_hash(1)))))
    with pytest.raises(nn.InvalidRngError, match=r"stream \"noise\".*rngs=\{'noise': numbax_random.key\(0\)\}"):
        UsesNoise().apply({})


def test_param_counter_counts_every_param_call():
    # Dense's bias consumes counter 2 even though zeros ignores its key: a kernel
    # initializer returning its key's bits shows kernel used counter 1.
    def key_as_kernel(key, shape, dtype=None):
        return jnp.broadcast_to(jnp.asarray(numbax_random.key_data(key), jnp.float32)[0], shape)

    def key_as_bias(key, shape, dtype=None):
        return jnp.broadcast_to(jnp.asarray(numbax_random.key_data(key), jnp.float32)[0], shape)

    root = numbax_random.key(0)
    p = nn.Dense(2, kernel_init=key_as_kernel, bias_init=key_as_bias).init(root, jnp.ones((1, 3)))["params"]
    for name, count in (("kernel", 1), ("bias", 2)):
        want = np.float32(key_bits(numbax_random.fold_in(root, np.uint32(flax_hash(count))))[0])
        assert np.asarray(p[name]).flat[0] == want, name


# -- errors

def test_wrong_input_feature_size_names_the_path_and_both_shapes():
    v = MLP().init(numbax_random.key(0), jnp.ones((4, 5)))
    with pytest.raises(nn.ScopeParamShapeError,
                       match=r'"kernel" of /Dense_0 has shape \(5, 3\) .* needs \(6, 3\)'):
        MLP().apply(v, jnp.ones((4, 6)))


def test_missing_parameter_names_the_scope():
    with pytest.raises(nn.ScopeParamNotFoundError, match=r'parameter named "kernel" in scope "/Dense_0"'):
        MLP().apply({"params": {}}, jnp.ones((1, 5)))


def test_modules_are_frozen_outside_setup():
    d = nn.Dense(3)
    with pytest.raises(nn.SetAttributeFrozenModuleError, match=r"features=4 on Dense.*clone\(features=...\)"):
        d.features = 4
    assert d.clone(features=4).features == 4


def test_submodule_outside_setup_or_compact_is_an_error():
    class NotCompact(nn.Module):
        def __call__(self, x):
            return nn.Dense(2)(x)

    with pytest.raises(nn.AssignSubModuleError, match=r"Submodule Dense must be defined in setup\(\)"):
        NotCompact().init(numbax_random.key(0), jnp.ones((1, 2)))


def test_duplicate_names_and_unbound_compact_calls():
    class Dup(nn.Module):
        @nn.compact
        def __call__(self, x):
            h = nn.Dense(2, name="a")(x)
            return nn.Dense(2, name="a")(h)

    with pytest.raises(nn.NameInUseError, match=r'named "a" already exists in "/"'):
        Dup().init(numbax_random.key(0), jnp.ones((1, 2)))
    with pytest.raises(nn.CallCompactUnboundModuleError, match=r"Dense.__call__ of an unbound module"):
        nn.Dense(2)(jnp.ones((1, 2)))


def test_merge_param_errors():
    with pytest.raises(ValueError, match=r'No value for "deterministic"'):
        nn.Dropout(0.5).apply({}, jnp.ones(3))
    with pytest.raises(ValueError, match=r'"deterministic" was passed both'):
        nn.Dropout(0.5, deterministic=True).apply({}, jnp.ones(3), deterministic=True)


def test_only_one_compact_method_per_class():
    with pytest.raises(TypeError, match=r"more than one @compact method"):
        class Two(nn.Module):
            @nn.compact
            def a(self):
                pass

            @nn.compact
            def b(self):
                pass


def test_mutable_filters_and_named_init_rngs():
    class Model(nn.Module):
        @nn.compact
        def __call__(self, x, train):
            x = nn.BatchNorm(use_running_average=not train)(nn.Dense(3)(x))
            self.sow("intermediates", "x", x)
            return nn.Dropout(0.5)(x, deterministic=not train)

    x = jnp.ones((4, 2))
    v = Model().init({"params": numbax_random.key(0), "dropout": numbax_random.key(1)}, x, True)
    assert sorted(v) == ["batch_stats", "params"], "init leaves out 'intermediates' by default"
    _, everything = Model().apply(v, x, True, rngs={"dropout": numbax_random.key(2)}, mutable=True)
    assert sorted(everything) == ["batch_stats", "intermediates", "params"]
    _, denied = Model().apply(v, x, True, rngs={"dropout": numbax_random.key(2)},
                              mutable=nn.DenyList(["params", "intermediates"]))
    assert sorted(denied) == ["batch_stats"]
    with pytest.raises(TypeError, match=r"mutable= must be a bool, a collection name"):
        Model().apply(v, x, False, mutable=3)


def test_modules_passed_to_modules_are_adopted_where_they_are_assigned():
    class InSetup(nn.Module):
        def setup(self):
            self.rnn = nn.RNN(nn.GRUCell(2))

        def __call__(self, x):
            return self.rnn(x)

    class InCompact(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.RNN(nn.GRUCell(2), name="rnn")(x)

    x = jnp.ones((1, 3, 4))
    from_setup = InSetup().init(numbax_random.key(0), x)["params"]
    assert list(from_setup) == ["rnn"] and sorted(from_setup["rnn"]["cell"]) == ["hn", "hr", "hz", "in", "ir", "iz"]
    # Made inside a compact method, the cell belongs to that method's module.
    from_compact = InCompact().init(numbax_random.key(0), x)["params"]
    assert sorted(from_compact) == ["GRUCell_0"]
    top = nn.RNN(nn.GRUCell(2))
    assert list(top.init(numbax_random.key(0), x)["params"]) == ["cell"]
    assert top.cell.scope is None, "init binds a copy; the user's module stays unbound"


def test_init_under_eval_shape_jit_and_vmap():
    model, x = nn.Dense(3), jnp.ones((2, 4))
    keys = numbax_random.split(numbax_random.key(0), 3)
    shapes_only = numbax.eval_shape(model.init, keys[0], x)
    assert numbax.tree.map(lambda a: tuple(a.shape), shapes_only) == {"params": {"kernel": (4, 3), "bias": (3,)}}
    ensemble = numbax.vmap(lambda k: model.init(k, x))(keys)
    for i in range(3):
        np.testing.assert_array_equal(np.asarray(ensemble["params"]["kernel"][i]),
                                      np.asarray(model.init(keys[i], x)["params"]["kernel"]))


@pytest.mark.skipif(not hasattr(numbax, "jit"), reason="numbax.jit has not landed in core yet")
def test_jit_of_init_matches_eager():
    model, x, key = nn.Dense(3), jnp.ones((2, 4)), numbax_random.key(1)
    np.testing.assert_allclose(np.asarray(numbax.jit(model.init)(key, x)["params"]["kernel"]),
                               np.asarray(model.init(key, x)["params"]["kernel"]), rtol=1e-6)
