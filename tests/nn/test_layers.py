"""Every layer: parameter names/shapes (Flax's conventions, reference/nn.md
section 6), forward values against NumPy references written here, gradients
against finite differences, and vmap/jit of apply."""

import dataclasses
from typing import Any, Callable

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
import numbax_nn as nn
import numbax_random
from numbax.test_util import check_grads

RNG = np.random.default_rng(0)


# -- NumPy references

def np_conv(x, k, strides, padding, lhs_dilation=None, rhs_dilation=None, groups=1):
    """Cross-correlation of NHWC-style ``x`` with a ``(*window, I, O)`` kernel."""
    n_sp = k.ndim - 2
    lhs_dilation = lhs_dilation or (1,) * n_sp
    rhs_dilation = rhs_dilation or (1,) * n_sp
    if any(d > 1 for d in lhs_dilation):
        shape = [x.shape[0]] + [(s - 1) * d + 1 for s, d in zip(x.shape[1:-1], lhs_dilation)] + [x.shape[-1]]
        dilated = np.zeros(shape, x.dtype)
        dilated[(slice(None),) + tuple(slice(None, None, d) for d in lhs_dilation)] = x
        x = dilated
    eff = [(w - 1) * d + 1 for w, d in zip(k.shape[:n_sp], rhs_dilation)]
    if padding == "SAME":
        pads = []
        for size, e, s in zip(x.shape[1:-1], eff, strides):
            out = -(-size // s)
            total = max((out - 1) * s + e - size, 0)
            pads.append((total // 2, total - total // 2))
    elif padding == "VALID":
        pads = [(0, 0)] * n_sp
    else:
        pads = padding
    x = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])
    out_sp = [(size - e) // s + 1 for size, e, s in zip(x.shape[1:-1], eff, strides)]
    cin, cout = k.shape[-2], k.shape[-1]
    out = np.zeros([x.shape[0]] + out_sp + [cout], np.float64)
    for o in range(cout):
        g = o // (cout // groups)
        for idx in np.ndindex(*k.shape[:n_sp]):
            sl = tuple(slice(i * d, i * d + (n - 1) * s + 1, s)
                       for i, d, n, s in zip(idx, rhs_dilation, out_sp, strides))
            patch = x[(slice(None),) + sl + (slice(g * cin, (g + 1) * cin),)]
            out[..., o] += patch @ k[idx + (slice(None), o)]
    return out


def np_conv_transpose(x, k, strides, padding):
    """JAX's conv_transpose: the input dilated by ``strides``, padded, correlated."""
    pads = []
    for w, s in zip(k.shape[:-2], strides):
        if padding == "SAME":
            total = w + s - 2
            low = w - 1 if s > w - 1 else -(-total // 2)
        else:
            total = w + s - 2 + max(w - s, 0)
            low = w - 1
        pads.append((low, total - low))
    return np_conv(x, k, (1,) * len(strides), pads, lhs_dilation=strides)


def np_layer_norm(x, axes, eps, scale=None, bias=None, use_mean=True):
    x = x.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True) if use_mean else 0.0
    var = (x * x).mean(axis=axes, keepdims=True) - mean * mean
    y = (x - mean) / np.sqrt(var + eps)
    return y * (1 if scale is None else scale) + (0 if bias is None else bias)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def np_lstm(p, carry, x):
    c, h = carry

    def gate(name):
        return x @ p[f"i{name}"]["kernel"] + h @ p[f"h{name}"]["kernel"] + p[f"h{name}"]["bias"]

    i, f, g, o = sigmoid(gate("i")), sigmoid(gate("f")), np.tanh(gate("g")), sigmoid(gate("o"))
    c = f * c + i * g
    return (c, o * np.tanh(c)), o * np.tanh(c)


def np_gru(p, h, x):
    def lin(name, v):
        out = v @ p[name]["kernel"]
        return out + p[name]["bias"] if "bias" in p[name] else out

    r = sigmoid(lin("ir", x) + lin("hr", h))
    z = sigmoid(lin("iz", x) + lin("hz", h))
    n = np.tanh(lin("in", x) + r * lin("hn", h))
    new = (1 - z) * n + z * h
    return new, new


def np_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(-1, keepdims=True)


def np_mha(p, q_in, kv_in, mask=None):
    def proj(name, v):
        return np.einsum("...d,dhk->...hk", v, p[name]["kernel"]) + p[name]["bias"]

    q, k, v = proj("query", q_in), proj("key", kv_in), proj("value", kv_in)
    w = np.einsum("...qhd,...khd->...hqk", q / np.sqrt(q.shape[-1]), k)
    if mask is not None:
        w = np.where(mask != 0, w, np.finfo(np.float32).min)
    x = np.einsum("...hqk,...khd->...qhd", np_softmax(w), v)
    return np.einsum("...hd,hdo->...o", x, p["out"]["kernel"]) + p["out"]["bias"]


# -- the table

def tree_np(tree):
    return numbax.tree.map(lambda a: np.asarray(a, np.float64), tree)


@dataclasses.dataclass
class LayerCase:
    name: str
    module: Any
    inputs: Callable  # () -> tuple of numpy inputs
    params: dict  # expected {name: shape} tree of 'params'
    reference: Callable  # (params as float64 numpy, *inputs) -> expected output
    call_kwargs: dict = dataclasses.field(default_factory=dict)
    tol: float = 1e-5
    grads: bool = True

    def __str__(self):
        return self.name


def normal(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


LSTM_PARAMS = {**{f"i{g}": {"kernel": (4, 3)} for g in "ifgo"},
               **{f"h{g}": {"kernel": (3, 3), "bias": (3,)} for g in "ifgo"}}
GRU_PARAMS = {"ir": {"kernel": (4, 3), "bias": (3,)}, "iz": {"kernel": (4, 3), "bias": (3,)},
              "in": {"kernel": (4, 3), "bias": (3,)}, "hr": {"kernel": (3, 3)}, "hz": {"kernel": (3, 3)},
              "hn": {"kernel": (3, 3), "bias": (3,)}}
MHA_PARAMS = {"query": {"kernel": (8, 2, 3), "bias": (2, 3)}, "key": {"kernel": (8, 2, 3), "bias": (2, 3)},
              "value": {"kernel": (8, 2, 3), "bias": (2, 3)}, "out": {"kernel": (2, 3, 8), "bias": (8,)}}
CAUSAL = np.tril(np.ones((4, 4), np.float32))[None, None]


def rnn_reference(p, x):
    carry = (np.zeros((x.shape[0], 3)), np.zeros((x.shape[0], 3)))
    ys = []
    for t in range(x.shape[1]):
        carry, y = np_lstm(p["cell"], carry, x[:, t])
        ys.append(y)
    return np.stack(ys, 1)


CASES = [
    LayerCase("Dense", nn.Dense(3), lambda: (normal(2, 4),), {"kernel": (4, 3), "bias": (3,)},
              lambda p, x: x @ p["kernel"] + p["bias"]),
    LayerCase("Dense-nobias-3d", nn.Dense(2, use_bias=False), lambda: (normal(2, 3, 4),), {"kernel": (4, 2)},
              lambda p, x: x @ p["kernel"]),
    LayerCase("DenseGeneral", nn.DenseGeneral((2, 3), axis=(-2, -1)), lambda: (normal(2, 4, 5),),
              {"kernel": (4, 5, 2, 3), "bias": (2, 3)},
              lambda p, x: np.tensordot(x, p["kernel"], axes=([1, 2], [0, 1])) + p["bias"]),
    LayerCase("Conv-same", nn.Conv(3, (3, 3)), lambda: (normal(2, 5, 5, 2),),
              {"kernel": (3, 3, 2, 3), "bias": (3,)},
              lambda p, x: np_conv(x, p["kernel"], (1, 1), "SAME") + p["bias"]),
    LayerCase("Conv-valid-strided-dilated", nn.Conv(2, (2, 3), strides=(2, 1), padding="VALID",
                                                    kernel_dilation=(1, 2)),
              lambda: (normal(1, 6, 7, 2),), {"kernel": (2, 3, 2, 2), "bias": (2,)},
              lambda p, x: np_conv(x, p["kernel"], (2, 1), "VALID", rhs_dilation=(1, 2)) + p["bias"]),
    LayerCase("Conv-groups-explicit-pad", nn.Conv(4, (3,), padding=[(2, 1)], feature_group_count=2),
              lambda: (normal(2, 5, 4),), {"kernel": (3, 2, 4), "bias": (4,)},
              lambda p, x: np_conv(x, p["kernel"], (1,), [(2, 1)], groups=2) + p["bias"]),
    LayerCase("Conv-unbatched-causal", nn.Conv(2, 3, padding="CAUSAL"), lambda: (normal(6, 2),),
              {"kernel": (3, 2, 2), "bias": (2,)},
              lambda p, x: np_conv(x[None], p["kernel"], (1,), [(2, 0)])[0] + p["bias"]),
    LayerCase("Conv-circular", nn.Conv(2, (3, 2), padding="CIRCULAR"), lambda: (normal(1, 4, 5, 2),),
              {"kernel": (3, 2, 2, 2), "bias": (2,)},
              lambda p, x: np_conv(np.pad(x, [(0, 0), (1, 1), (0, 1), (0, 0)], mode="wrap"), p["kernel"],
                                   (1, 1), "VALID") + p["bias"]),
    LayerCase("ConvTranspose", nn.ConvTranspose(3, (3, 3), strides=(2, 2)), lambda: (normal(1, 3, 3, 2),),
              {"kernel": (3, 3, 2, 3), "bias": (3,)},
              lambda p, x: np_conv_transpose(x, p["kernel"], (2, 2), "SAME") + p["bias"]),
    LayerCase("ConvTranspose-valid", nn.ConvTranspose(2, (2,), strides=(3,), padding="VALID"),
              lambda: (normal(2, 3, 2),), {"kernel": (2, 2, 2), "bias": (2,)},
              lambda p, x: np_conv_transpose(x, p["kernel"], (3,), "VALID") + p["bias"]),
    LayerCase("LayerNorm", nn.LayerNorm(), lambda: (normal(3, 5) * 3 + 1,), {"scale": (5,), "bias": (5,)},
              lambda p, x: np_layer_norm(x, -1, 1e-6, p["scale"], p["bias"]), tol=1e-4),
    LayerCase("RMSNorm", nn.RMSNorm(), lambda: (normal(3, 5),), {"scale": (5,)},
              lambda p, x: np_layer_norm(x, -1, 1e-6, p["scale"], use_mean=False), tol=1e-4),
    LayerCase("GroupNorm", nn.GroupNorm(num_groups=2), lambda: (normal(2, 3, 3, 4),),
              {"scale": (4,), "bias": (4,)},
              lambda p, x: (np_layer_norm(x.reshape(2, 3, 3, 2, 2), (1, 2, 4), 1e-6).reshape(x.shape)
                            * p["scale"] + p["bias"]), tol=1e-4),
    LayerCase("BatchNorm-eval", nn.BatchNorm(use_running_average=True), lambda: (normal(6, 3),),
              {"scale": (3,), "bias": (3,)},
              lambda p, x: x / np.sqrt(1 + 1e-5) * p["scale"] + p["bias"], tol=1e-4),
    LayerCase("MultiHeadDotProductAttention", nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=6),
              lambda: (normal(2, 4, 8), normal(2, 5, 8)), MHA_PARAMS,
              lambda p, q, kv: np_mha(p, q, kv), tol=1e-4),
    LayerCase("SelfAttention-causal", nn.SelfAttention(num_heads=2, qkv_features=6), lambda: (normal(2, 4, 8),),
              MHA_PARAMS, lambda p, x: np_mha(p, x, x, CAUSAL), call_kwargs={"mask": CAUSAL}, tol=1e-4),
    LayerCase("LSTMCell", nn.LSTMCell(3), lambda: ((normal(2, 3), normal(2, 3)), normal(2, 4)), LSTM_PARAMS,
              np_lstm, tol=1e-5),
    LayerCase("GRUCell", nn.GRUCell(3), lambda: (normal(2, 3), normal(2, 4)), GRU_PARAMS, np_gru, tol=1e-5),
    LayerCase("RNN-LSTM", nn.RNN(nn.LSTMCell(3)), lambda: (normal(2, 5, 4),), {"cell": LSTM_PARAMS},
              rnn_reference, tol=1e-5),
]


def perturbed_variables(case, inputs):
    """init, then nonzero biases/scales so that each parameter shows in the output."""
    v = case.module.init(numbax_random.key(0), *inputs, **case.call_kwargs)
    rng = np.random.default_rng(1)
    params = numbax.tree.map(lambda a: jnp.asarray(np.asarray(a) + 0.3 * rng.standard_normal(a.shape)
                                                   .astype(np.float32)), v["params"])
    return {**v, "params": params}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parameter_names_and_shapes(case):
    v = case.module.init(numbax_random.key(0), *case.inputs(), **case.call_kwargs)
    assert numbax.tree.map(lambda a: tuple(a.shape), v["params"]) == case.params
    for leaf in numbax.tree.leaves(v["params"]):
        assert leaf.dtype == np.float32


@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_matches_numpy(case):
    inputs = case.inputs()
    v = perturbed_variables(case, inputs)
    got = case.module.apply(v, *inputs, **case.call_kwargs)
    want = case.reference(tree_np(v["params"]), *tree_np(inputs))
    for g, w in zip(numbax.tree.leaves(got), numbax.tree.leaves(want)):
        assert g.shape == np.shape(w)
        np.testing.assert_allclose(np.asarray(g, np.float64), w, rtol=case.tol, atol=case.tol)


@pytest.mark.parametrize("case", [c for c in CASES if c.grads], ids=str)
def test_gradients_match_finite_differences(case):
    inputs = case.inputs()
    v = perturbed_variables(case, inputs)
    leaves, tree = numbax.tree.flatten((v["params"], inputs))

    def f(*leaves):
        params, args = numbax.tree.unflatten(tree, leaves)
        return case.module.apply({**v, "params": params}, *args, **case.call_kwargs)

    check_grads(f, [np.asarray(x) for x in leaves], order=1)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in ("Dense", "Conv-same", "LayerNorm",
                                                                    "SelfAttention-causal")], ids=str)
def test_vmap_of_apply_matches_a_loop(case):
    (x,) = case.inputs()
    v = perturbed_variables(case, (x[:1],))
    batched = numbax.vmap(lambda xi: case.module.apply(v, xi[None], **case.call_kwargs)[0])(x)
    for i in range(x.shape[0]):
        np.testing.assert_allclose(np.asarray(batched[i]),
                                   np.asarray(case.module.apply(v, x[i:i + 1], **case.call_kwargs)[0]),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not hasattr(numbax, "jit"), reason="numbax.jit has not landed in core yet")
@pytest.mark.parametrize("case", [c for c in CASES if c.name in ("Dense", "Conv-same", "BatchNorm-eval",
                                                                    "SelfAttention-causal", "RNN-LSTM")],
                         ids=str)
def test_jit_of_apply_matches_eager(case):
    inputs = case.inputs()
    v = perturbed_variables(case, inputs)
    eager = case.module.apply(v, *inputs, **case.call_kwargs)
    try:
        compiled = numbax.jit(lambda v, *a: case.module.apply(v, *a, **case.call_kwargs))(v, *inputs)
    except NotImplementedError as e:
        if "jit cannot lower" not in str(e):
            raise
        pytest.skip(f"core's jit lacks a lowering this layer needs: {str(e).split(':')[0]}")
    for g, w in zip(numbax.tree.leaves(compiled), numbax.tree.leaves(eager)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6)


# -- layers with state, randomness or extra methods

def test_embed_lookup_attend_and_integer_check():
    module = nn.Embed(6, 3)
    ids = np.array([[0, 5], [2, 2]], np.int32)
    v = module.init(numbax_random.key(0), ids)
    table = np.asarray(v["params"]["embedding"])
    np.testing.assert_array_equal(np.asarray(module.apply(v, ids)), table[ids])
    q = normal(2, 3)
    np.testing.assert_allclose(np.asarray(module.apply(v, q, method="attend")), q @ table.T, rtol=1e-5)
    with pytest.raises(ValueError, match=r"Embed .*needs integer ids, got float32"):
        module.apply(v, q)


def test_batch_norm_updates_running_statistics_then_uses_them():
    x = normal(8, 3) * 2 + 5
    bn = nn.BatchNorm(momentum=0.9)
    v = bn.init(numbax_random.key(0), x, use_running_average=False)
    np.testing.assert_array_equal(np.asarray(v["batch_stats"]["mean"]), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(v["batch_stats"]["var"]), np.ones(3))
    y, updated = bn.apply(v, x, use_running_average=False, mutable=["batch_stats"])
    np.testing.assert_allclose(np.asarray(y), np_layer_norm(x, 0, 1e-5), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(updated["batch_stats"]["mean"]), 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(updated["batch_stats"]["var"]), 0.9 + 0.1 * x.var(0), rtol=1e-5)
    stats = updated["batch_stats"]
    y_eval = bn.apply({**v, "batch_stats": stats}, x, use_running_average=True)
    want = (x - np.asarray(stats["mean"])) / np.sqrt(np.asarray(stats["var"]) + 1e-5)
    np.testing.assert_allclose(np.asarray(y_eval), want, rtol=1e-4, atol=1e-4)
    with pytest.raises(nn.ModifyScopeVariableError, match=r'"mean" in "/" because collection "batch_stats"'):
        bn.apply(v, x, use_running_average=False)


def test_batch_norm_axis_name_averages_across_vmap():
    x = normal(4, 6, 3)
    bn = nn.BatchNorm(use_running_average=False, axis_name="devices")
    # Outside the vmap the axis name is unbound, so init the same layer without it.
    v = nn.BatchNorm(use_running_average=False).init(numbax_random.key(0), x[0])

    def per_device(xi):
        return bn.apply(v, xi, mutable=["batch_stats"])

    y, updated = numbax.vmap(per_device, axis_name="devices")(x)
    flat = x.reshape(-1, 3)
    np.testing.assert_allclose(np.asarray(y).reshape(-1, 3), np_layer_norm(flat, 0, 1e-5), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(updated["batch_stats"]["mean"][0]), 0.01 * flat.mean(0), rtol=1e-4)


def test_dropout_rate_determinism_and_broadcast_dims():
    x = jnp.ones((50, 40))
    drop = nn.Dropout(0.3)
    key = numbax_random.key(3)
    a = np.asarray(drop.apply({}, x, deterministic=False, rngs={"dropout": key}))
    b = np.asarray(drop.apply({}, x, deterministic=False, rngs={"dropout": key}))
    c = np.asarray(drop.apply({}, x, deterministic=False, rngs={"dropout": numbax_random.key(4)}))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((a == 0).mean() - 0.3) < 0.03  # 2000 draws: 3 standard deviations is 0.031
    np.testing.assert_array_equal(np.asarray(drop.apply({}, x, deterministic=True)), np.asarray(x))
    np.testing.assert_array_equal(np.asarray(nn.Dropout(1.0).apply({}, x, deterministic=False)), 0.0)
    rows = np.asarray(nn.Dropout(0.5, broadcast_dims=(1,)).apply({}, x, deterministic=False,
                                                                   rngs={"dropout": key}))
    assert all(len(set(row)) == 1 for row in rows), "one mask value per row when axis 1 is broadcast"


def test_attention_dropout_needs_a_key_and_is_deterministic_with_one():
    module = nn.SelfAttention(num_heads=2, dropout_rate=0.5)
    x = normal(1, 4, 4)
    v = module.init(numbax_random.key(0), x, deterministic=True)
    k = {"dropout": numbax_random.key(1)}
    a = module.apply(v, x, deterministic=False, rngs=k)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(module.apply(v, x, deterministic=False, rngs=k)))
    assert not np.allclose(np.asarray(a), np.asarray(module.apply(v, x, deterministic=True)))
    with pytest.raises(nn.InvalidRngError, match=r'stream "dropout"'):
        module.apply(v, x, deterministic=False)


def test_masks():
    causal = np.asarray(nn.make_causal_mask(jnp.ones((2, 3))))
    assert causal.shape == (2, 1, 3, 3)
    np.testing.assert_array_equal(causal[0, 0], np.tril(np.ones((3, 3))))
    pad = np.array([[1, 1, 0]], np.float32)
    mask = np.asarray(nn.make_attention_mask(pad, pad))
    np.testing.assert_array_equal(mask[0, 0], np.outer(pad[0], pad[0]))
    both = np.asarray(nn.combine_masks(nn.make_causal_mask(jnp.ones((1, 3))), mask))
    np.testing.assert_array_equal(both[0, 0], np.tril(np.outer(pad[0], pad[0])))


def test_dot_product_attention_matches_numpy():
    q, k, v = normal(2, 3, 2, 4), normal(2, 5, 2, 4), normal(2, 5, 2, 4)
    w = np_softmax(np.einsum("bqhd,bkhd->bhqk", q / 2.0, k))
    np.testing.assert_allclose(np.asarray(nn.dot_product_attention(q, k, v)),
                               np.einsum("bhqk,bkhd->bqhd", w, v), rtol=1e-5, atol=1e-6)


def test_rnn_options_return_carry_reverse_time_major_and_seq_lengths():
    x = normal(2, 5, 4)
    rnn = nn.RNN(nn.GRUCell(3), return_carry=True)
    v = rnn.init(numbax_random.key(0), x)
    p = tree_np(v["params"]["cell"])
    carry, ys = rnn.apply(v, x)
    h, want = np.zeros((2, 3)), []
    for t in range(5):
        h, y = np_gru(p, h, x[:, t])
        want.append(y)
    np.testing.assert_allclose(np.asarray(ys), np.stack(want, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(carry), h, rtol=1e-5, atol=1e-6)
    tm = nn.RNN(nn.GRUCell(3), time_major=True).apply(v, np.swapaxes(x, 0, 1))
    np.testing.assert_allclose(np.asarray(tm), np.stack(want, 0), rtol=1e-5, atol=1e-6)
    rev = nn.RNN(nn.GRUCell(3), reverse=True, keep_order=True).apply(v, x)
    h, back = np.zeros((2, 3)), []
    for t in reversed(range(5)):
        h, y = np_gru(p, h, x[:, t])
        back.append(y)
    np.testing.assert_allclose(np.asarray(rev), np.stack(back[::-1], 1), rtol=1e-5, atol=1e-6)
    carry_len, _ = rnn.apply(v, x, seq_lengths=np.array([2, 5]))
    h = np.zeros(3)
    for t in range(2):
        h, _ = np_gru(p, h, x[0, t])
    np.testing.assert_allclose(np.asarray(carry_len[0]), h, rtol=1e-5, atol=1e-6)


def test_lstm_initialize_carry_shapes():
    c, h = nn.LSTMCell(5).initialize_carry(numbax_random.key(0), (3, 2))
    assert c.shape == h.shape == (3, 5)
    np.testing.assert_array_equal(np.asarray(c), 0.0)


def np_pool(x, window, strides, reduce, init, pads):
    x = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=init)
    out_sp = [(s - w) // st + 1 for s, w, st in zip(x.shape[1:-1], window, strides)]
    out = np.empty([x.shape[0]] + out_sp + [x.shape[-1]])
    for idx in np.ndindex(*out_sp):
        sl = tuple(slice(i * st, i * st + w) for i, st, w in zip(idx, strides, window))
        out[(slice(None),) + idx] = reduce(x[(slice(None),) + sl], axis=tuple(range(1, 1 + len(window))))
    return out


def test_pooling_matches_numpy():
    x = normal(2, 5, 6, 3)
    np.testing.assert_allclose(np.asarray(nn.max_pool(x, (2, 2), strides=(2, 2))),
                               np_pool(x, (2, 2), (2, 2), np.max, -np.inf, [(0, 0), (0, 0)]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(nn.avg_pool(x, (3, 2), padding=((1, 1), (0, 1)))),
                               np_pool(x, (3, 2), (1, 1), np.sum, 0.0, [(1, 1), (0, 1)]) / 6, rtol=1e-5)
    counts = np_pool(np.ones_like(x), (3, 3), (1, 1), np.sum, 0.0, [(1, 1), (1, 1)])
    np.testing.assert_allclose(
        np.asarray(nn.avg_pool(x, (3, 3), padding="SAME", count_include_pad=False)),
        np_pool(x, (3, 3), (1, 1), np.sum, 0.0, [(1, 1), (1, 1)]) / counts, rtol=1e-5)
    assert nn.max_pool(x[0], (2, 2)).shape == (4, 5, 3)  # unbatched input


def test_pooling_gradients():
    x = normal(1, 4, 4, 2)
    check_grads(lambda x: nn.avg_pool(x, (2, 2), strides=(2, 2)), [x], order=1)
    check_grads(lambda x: nn.max_pool(x, (2, 2), strides=(2, 2)), [x], order=1)


def test_group_norm_rejects_a_non_divisor():
    with pytest.raises(ValueError, match=r"GroupNorm at /: 6 channels can't be split into num_groups=4"):
        nn.GroupNorm(num_groups=4).init(numbax_random.key(0), jnp.ones((1, 6)))


def test_tabulate_lists_modules_shapes_and_counts():
    model = nn.Sequential([nn.Dense(4), nn.relu, nn.Dense(2)])
    table = nn.tabulate(model, numbax_random.key(0))(jnp.ones((1, 3)))
    lines = table.splitlines()
    assert any("layers_0" in line and "f32[1,3]" in line and "f32[1,4]" in line and "(16)" in line
               for line in lines)
    assert any("layers_2" in line and "kernel: f32[4,2] bias: f32[2] (10)" in line for line in lines)
    assert "Total parameters and variables: 26" in table
    assert model.tabulate(numbax_random.key(0), jnp.ones((1, 3))) == table

    class Nested(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Sequential([nn.Dense(2)])(x)

    shallow = nn.tabulate(Nested(), numbax_random.key(0), depth=1)(jnp.ones((1, 3)))
    assert "Sequential_0 " in shallow and "Sequential_0/layers_0" not in shallow
    assert "Total parameters and variables: 8" in shallow


def test_rnn_python_loop_fallback_matches_scan(monkeypatch):
    # Without numbax.lax.scan, RNN loops in Python; both paths give the same numbers.
    x = normal(2, 4, 3)
    rnn = nn.RNN(nn.LSTMCell(2), return_carry=True)
    v = rnn.init(numbax_random.key(0), x)
    with_scan = rnn.apply(v, x)
    monkeypatch.delattr(numbax.lax, "scan", raising=False)
    looped = rnn.apply(v, x)
    for a, b in zip(numbax.tree.leaves(with_scan), numbax.tree.leaves(looped)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


def test_gradients_through_embed_dropout_and_batch_norm_training():
    ids = np.array([[1, 3], [3, 0]], np.int32)
    table = normal(4, 3)
    embed = nn.Embed(4, 3)
    check_grads(lambda t: embed.apply({"params": {"embedding": t}}, ids), [table], order=1)
    x = normal(3, 5)
    drop = nn.Dropout(0.4)
    check_grads(lambda x: drop.apply({}, x, deterministic=False, rngs={"dropout": numbax_random.key(2)}),
                [x], order=1)
    bn = nn.BatchNorm(use_running_average=False)
    v = bn.init(numbax_random.key(0), x)

    def train_mode(x, scale):
        out, _ = bn.apply({**v, "params": {"scale": scale, "bias": v["params"]["bias"]}}, x,
                          mutable=["batch_stats"])
        return out

    check_grads(train_mode, [x, normal(5)], order=1)


def test_attention_decode_cache_matches_full_causal_attention():
    x = normal(2, 5, 8)
    full = nn.SelfAttention(num_heads=2)
    v = full.init(numbax_random.key(0), x)
    want = np.asarray(full.apply(v, x, mask=nn.make_causal_mask(jnp.ones((2, 5)))))
    step = nn.SelfAttention(num_heads=2, decode=True)
    cache = step.init(numbax_random.key(0), x)["cache"]
    assert cache["cached_key"].shape == (2, 5, 2, 4) and int(cache["cache_index"]) == 0
    outs = []
    for t in range(5):
        out, updated = step.apply({"params": v["params"], "cache": cache}, x[:, t:t + 1], mutable=["cache"])
        cache = updated["cache"]
        outs.append(np.asarray(out))
    assert int(cache["cache_index"]) == 5
    np.testing.assert_allclose(np.concatenate(outs, 1), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"decoding takes one position at a time, queries of shape \(2, 1, 2, 4\)"):
        step.apply({"params": v["params"], "cache": cache}, x, mutable=["cache"])
