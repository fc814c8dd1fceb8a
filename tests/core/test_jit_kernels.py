"""Convolution, pooling and linear-algebra kernels under jit, composed with
grad and vmap: each jitted program equals eager evaluation (whose gradients
the op tables check against finite differences).

numba compiles are slow (seconds per program on 2 cores), so each test
batches many checks into ONE jitted program."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax.test_util import _jit_cache_dir, enable_x64

_jit_cache_dir()  # programs go to a per-session temporary cache, not the user's

NHWC = ("NHWC", "HWIO", "NHWC")


def _rand(rng, *shape, dtype=np.float32):
    return rng.uniform(-1, 1, shape).astype(dtype)


def _conv_primitives(jaxpr):
    """The params of every conv_general_dilated in ``jaxpr`` (sub-jaxprs included)."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "conv_general_dilated":
            found.append(eqn.params)
        for value in eqn.params.values():
            inner = getattr(value, "jaxpr", None)
            if inner is not None and hasattr(inner, "eqns"):
                found += _conv_primitives(inner)
    return found


def _assert_trees_close(got, want, rtol, atol, what):
    got_leaves, want_leaves = numbax.tree_util.tree_leaves(got), numbax.tree_util.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for k, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}[{k}]: {g.dtype}{g.shape} vs {w.dtype}{w.shape}"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{what}[{k}] under jit vs eager")


# (name, conv function of (x, w), x shape, w shape, what to check). The
# gradient of NHWC stride-2 SAME convs is checked by the CNN step below.
CONVS = [
    ("NHWC SAME stride 2", lambda x, w: lax.conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=NHWC),
     (2, 7, 6, 3), (3, 3, 3, 4), ("both",)),
    ("feature groups", lambda x, w: lax.conv_general_dilated(x, w, (1, 2), ((1, 0), (0, 1)), rhs_dilation=(2, 1),
                                                             feature_group_count=2), (2, 4, 6, 5), (6, 2, 2, 2),
     ("grad", "kernels", "per-example grad")),
    ("batch groups", lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "VALID", batch_group_count=2),
     (4, 2, 4, 4), (6, 2, 2, 2), ("grad", "both")),
    ("conv_transpose", lambda x, w: lax.conv_transpose(x, w, (2, 2), "SAME"), (2, 3, 3, 2), (3, 3, 2, 3),
     ("grad",)),
]


def test_conv_grad_and_vmap_under_jit():
    """jit(value_and_grad) of conv losses for every grouping (their
    transposes are lhs-dilated, feature-group and batch-group convs),
    jit(vmap) with the examples folded into the batch, feature or group
    axes, and an int32 conv (the loop-nest kernel, wrapping as the eager
    integer matmul), in one program."""
    rng = np.random.default_rng(0)
    int_args = (rng.integers(-9, 9, (2, 3, 7)).astype(np.int32), rng.integers(-9, 9, (4, 3, 3)).astype(np.int32))
    args = [int_args]
    for _, conv, x_shape, w_shape, _ in CONVS:
        x, w = _rand(rng, *x_shape), _rand(rng, *w_shape)
        ct = _rand(rng, *np.shape(conv(x, w)))
        args.append((x, w, ct, np.stack([x, 2 * x]), np.stack([w, -w])))

    def program(all_args):
        outs = [lax.conv_general_dilated(*all_args[0], (2,), ((1, 2),), rhs_dilation=(2,))]
        for (_, conv, _, _, checks), (x, w, ct, xs, ws) in zip(CONVS, all_args[1:]):
            def loss(x, w, conv=conv, ct=ct):
                return jnp.sum(conv(x, w) * ct)
            if "grad" in checks:
                outs.append(numbax.value_and_grad(loss, argnums=(0, 1))(x, w))
            if "both" in checks:
                outs.append(numbax.vmap(conv)(xs, ws))
            if "kernels" in checks:
                outs.append(numbax.vmap(conv, in_axes=(None, 0))(x, ws))
            if "per-example grad" in checks:
                outs.append(numbax.vmap(numbax.grad(loss, argnums=1), in_axes=(0, None))(xs, w))
        return outs
    jitted = numbax.jit(program)
    got = jitted(args)
    _assert_trees_close(got, program(args), 1e-5, 1e-5, "conv grad/vmap")
    convs = _conv_primitives(jitted.trace(args).jaxpr.jaxpr)
    assert any(max(p["lhs_dilation"]) > 1 for p in convs)
    assert any(p["feature_group_count"] > 1 for p in convs)
    assert any(p["batch_group_count"] > 1 for p in convs)


# Pools of (N, H, W) images. Their gradients print a pad and a strided slice
# per window tap, which numba compiles slowly: small windows keep the test short.

def _max_pool(x):
    return lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2), (1, 2, 2), "VALID")


def _avg_pool(x):
    return lax.reduce_window(x, 0.0, lax.add, (1, 3, 3), (1, 2, 1), ((0, 0), (1, 1), (1, 1))) / 9.0


def _min_pool_dilated(x):
    return lax.reduce_window(x, np.inf, lax.min, (1, 2, 1), (1, 1, 2), ((0, 0), (1, 0), (0, 1)), (1, 2, 1),
                             (1, 1, 1))


POOLS = [_max_pool, _avg_pool, _min_pool_dilated]


def _pool_loss(x, ct):
    return sum(jnp.sum(pool(x) * c) for pool, c in zip(POOLS, ct))


def _pool_inputs():
    rng = np.random.default_rng(1)
    x = rng.permutation(2 * 6 * 5).reshape(2, 6, 5).astype(np.float32) / 7.0  # distinct: one argmax
    x[0, :2, :2] = 1.5  # ... except one window of ties: its first position takes the gradient
    ct = [_rand(rng, *pool(x).shape) for pool in POOLS]
    return x, ct


# The BLAS conv kernels against the loop nest (conv_direct, the reference the
# lowering falls back to), called directly on odd shapes. Arguments in the
# kernels' canonical layout (backends/cpu_kernels.py): x (N, D1, D2, D3, C),
# w (K1, K2, K3, I, O), an output shape, strides, low padding (negative
# crops), lhs dilation, rhs dilation, feature groups, batch groups. Output
# shapes run windows past the input's end (high padding).
GEMM_CONVS = [
    ((2, 7, 6, 1, 3), (3, 2, 1, 3, 4), (2, 4, 3, 1, 4), (2, 2, 1), (1, 0, 0), (1, 1, 1), (1, 2, 1), 1, 1),
    ((2, 5, 5, 1, 6), (2, 2, 1, 3, 4), (2, 4, 5, 1, 4), (1, 1, 1), (0, 1, 0), (1, 1, 1), (1, 1, 1), 2, 1),
    ((4, 5, 4, 1, 2), (2, 2, 1, 2, 6), (2, 4, 3, 1, 6), (1, 1, 1), (0, 0, 0), (1, 1, 1), (1, 1, 1), 1, 2),
    ((1, 4, 5, 3, 9), (2, 3, 2, 9, 3), (1, 3, 4, 3, 3), (1, 2, 1), (-1, 1, 1), (1, 1, 1), (1, 1, 2), 1, 1),
]
SCATTER_CONVS = [  # input dilation: the input gradients of strided convs
    ((2, 3, 4, 1, 3), (3, 3, 1, 3, 2), (2, 6, 9, 1, 2), (1, 1, 1), (2, 1, 0), (2, 3, 1), (1, 1, 1), 1, 1),
    ((1, 4, 3, 1, 6), (2, 3, 1, 2, 3), (1, 5, 4, 1, 3), (2, 1, 1), (1, 2, 0), (2, 2, 1), (2, 1, 1), 3, 1),
    ((2, 3, 2, 2, 10), (3, 2, 2, 10, 2), (2, 7, 3, 4, 2), (1, 2, 1), (-1, 1, 1), (3, 2, 2), (1, 1, 2), 1, 1),
]
WGRAD_CONVS = [  # (x, dy, kernel-gradient shape, strides, low, rhs dilation)
    ((3, 7, 6, 1, 2), (3, 3, 2, 1, 4), (3, 2, 1, 2, 4), (2, 2, 1), (1, 0, 0), (1, 2, 1)),
    ((5, 20, 20, 1, 1), (5, 20, 20, 1, 3), (3, 3, 1, 1, 3), (1, 1, 1), (1, 1, 0), (1, 1, 1)),  # 3 image blocks
    ((2, 6, 5, 4, 9), (2, 2, 4, 3, 2), (2, 2, 2, 9, 2), (2, 1, 1), (0, 1, 0), (2, 1, 1)),
]


def _loop_nest(x, w, out_shape, strides, low, ld, rd, fg, bg):
    from numbax._src.backends import cpu_kernels
    out = np.empty(out_shape, x.dtype)
    cpu_kernels.conv_direct(x, w, out, strides, low, ld, rd, fg, bg)
    return out


def test_blas_conv_kernels_equal_the_loop_nest():
    from numbax._src.backends import cpu_kernels
    rng = np.random.default_rng(7)
    for x_shape, w_shape, out_shape, strides, low, ld, rd, fg, bg in GEMM_CONVS + SCATTER_CONVS:
        x, w = _rand(rng, *x_shape), _rand(rng, *w_shape)
        got = np.full(out_shape, np.nan, np.float32)
        if max(ld) > 1:
            cpu_kernels.conv_scatter(x, w, got, strides, low, ld, rd, fg)
        else:
            cpu_kernels.conv_gemm(x, w, got, strides, low, rd, fg, bg)
        want = _loop_nest(x, w, out_shape, strides, low, ld, rd, fg, bg)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=f"{x_shape} * {w_shape}")
    for x_shape, dy_shape, out_shape, strides, low, rd in WGRAD_CONVS:
        x, dy = _rand(rng, *x_shape), _rand(rng, *dy_shape)
        got = np.full(out_shape, np.nan, np.float32)
        cpu_kernels.conv_wgrad(x, dy, got, strides, low, rd)
        # the same sum as a conv of x's channels (batch) with dy's positions
        # (taps), images contracted: strides and rhs dilation trade places
        swapped = _loop_nest(np.ascontiguousarray(x.transpose(4, 1, 2, 3, 0)),
                             np.ascontiguousarray(dy.transpose(1, 2, 3, 0, 4)),
                             (x_shape[4],) + out_shape[:3] + (dy_shape[4],), rd, low, (1, 1, 1), strides, 1, 1)
        np.testing.assert_allclose(got, swapped.transpose(1, 2, 3, 0, 4), rtol=1e-5, atol=1e-5,
                                   err_msg=f"wgrad {x_shape} * {dy_shape}")


def test_pooling_derivatives_under_jit():
    """jit(grad) and jit(vmap) of max/avg/min pooling in one program (the
    max/min gradients come from the windowed jvp rule, transposed); then
    grad(jit(f)) and vmap(jit(f)), the other orders."""
    x, ct = _pool_inputs()

    def program(x, ct):
        grad = numbax.grad(_pool_loss)(x, ct)
        batched = numbax.vmap(_avg_pool)(jnp.stack([x, -x]))
        int_pool = lax.reduce_window(x.astype(jnp.int32), -np.inf, lax.max, (1, 2, 2), (1, 1, 1), "SAME")
        return grad, batched, int_pool
    got = numbax.jit(program)(x, ct)
    _assert_trees_close(got, program(x, ct), 1e-5, 1e-5, "pooling")

    def max_pool_loss(x):
        return jnp.sum(_max_pool(x) * ct[0])
    _assert_trees_close(numbax.grad(numbax.jit(max_pool_loss))(x), numbax.grad(max_pool_loss)(x), 1e-6, 1e-6,
                        "grad(jit(max_pool))")
    _assert_trees_close(numbax.vmap(numbax.jit(_max_pool))(x[:, None]), numbax.vmap(_max_pool)(x[:, None]),
                        0, 0, "vmap(jit(max_pool))")


def _cnn_params(rng):
    return {"w1": rng.normal(0, 0.5, (3, 3, 1, 4)).astype(np.float32), "b1": np.zeros(4, np.float32),
            "w2": rng.normal(0, 0.3, (3, 3, 4, 8)).astype(np.float32), "b2": np.zeros(8, np.float32),
            "w3": rng.normal(0, 0.1, (4 * 4 * 8, 10)).astype(np.float32), "b3": np.zeros(10, np.float32)}


def _cnn_loss(params, x, labels):
    """W7's CNN, small: conv3x3 SAME + relu, conv3x3 stride 2 + relu, dense,
    softmax cross-entropy."""
    h = lax.conv_general_dilated(x, params["w1"], (1, 1), "SAME", dimension_numbers=NHWC) + params["b1"]
    h = lax.conv_general_dilated(jnp.maximum(h, 0), params["w2"], (2, 2), "SAME", dimension_numbers=NHWC)
    h = jnp.maximum(h + params["b2"], 0).reshape(x.shape[0], -1)
    logits = h @ params["w3"] + params["b3"]
    logp = logits - numbax.nn.logsumexp(logits, axis=-1, keepdims=True)
    return -jnp.mean(jnp.sum(logp * labels, axis=-1))


def _cnn_step(params, x, labels):
    loss, grads = numbax.value_and_grad(_cnn_loss)(params, x, labels)
    return loss, numbax.tree_util.tree_map(lambda p, g: p - 0.2 * g, params, grads)


def test_cnn_train_step_under_jit():
    rng = np.random.default_rng(2)
    params = _cnn_params(rng)
    x = rng.uniform(0, 1, (6, 8, 8, 1)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 6)]
    step = numbax.jit(_cnn_step)
    eager_params, jit_params, losses = params, params, []
    for _ in range(3):
        loss, jit_params = step(jit_params, x, labels)
        eager_loss, eager_params = _cnn_step(eager_params, x, labels)
        np.testing.assert_allclose(float(loss), float(eager_loss), rtol=1e-5)
        losses.append(float(loss))
    _assert_trees_close(jit_params, eager_params, 1e-4, 1e-6, "CNN params after 3 SGD steps")
    assert losses[-1] < losses[0], losses
    assert step.trace_count == 1


def _sign_fixed(vectors, axis):
    """Flip each vector (along ``axis``) so its largest-magnitude entry is
    positive: LAPACK may choose either sign, so compare sign-invariantly."""
    vectors = np.asarray(vectors)
    index = np.expand_dims(np.argmax(np.abs(vectors), axis=axis), axis)
    return vectors * np.sign(np.take_along_axis(vectors, index, axis))


def test_linalg_float64_under_jit_equals_eager():
    """Every linalg primitive in float64 (the op tables' jit column runs
    float32) and a float64 conv, in one program; the raw factors compared
    with eager, eigen/singular vectors and q's columns up to their signs.
    Failures give eager's NaNs (lower-triangle NaNs of a non-positive-definite
    cholesky, all-NaN eigh/svd of a NaN matrix, inf/NaN of a singular solve)."""
    rng = np.random.default_rng(3)
    with enable_x64(True):
        a = rng.uniform(-1, 1, (2, 4, 4))
        spd = a @ np.swapaxes(a, -1, -2) + 4 * np.eye(4)
        tall = rng.uniform(-1, 1, (2, 5, 3))
        b = rng.uniform(-1, 1, (2, 4, 3))
        x, w = rng.uniform(-1, 1, (2, 5, 5, 3)), rng.uniform(-1, 1, (3, 3, 3, 2))
        nan_matrix = np.stack([np.eye(3), np.full((3, 3), np.nan)])

        def program(a, spd, tall, b, x, w, nan_matrix):
            sym = a + jnp.swapaxes(a, -1, -2)
            tri = a + 4 * jnp.eye(4)
            return {
                "cholesky": lax.linalg.cholesky(spd),
                "solve_left_upper_t": lax.linalg.triangular_solve(tri, b, left_side=True, lower=False,
                                                                  transpose_a=True),
                "solve_right_lower_unit": lax.linalg.triangular_solve(tri, jnp.swapaxes(b, -1, -2), lower=True,
                                                                      unit_diagonal=True),
                "lu": lax.linalg.lu(tall),
                "qr_complete": lax.linalg.qr(tall, full_matrices=True),
                "qr_wide": lax.linalg.qr(jnp.swapaxes(tall, -1, -2), full_matrices=True),
                # Not symmetric: only the upper triangle may be read.
                "eigh_upper": lax.linalg.eigh(a, lower=False, symmetrize_input=False),
                "eigh_subset": lax.linalg.eigh(sym, subset_by_index=(1, 3)),
                "svd": lax.linalg.svd(tall, full_matrices=True),
                "svd_values": lax.linalg.svd(tall, compute_uv=False),
                "conv": lax.conv_general_dilated(x, w, (1, 2), "SAME", dimension_numbers=NHWC),
                "conv_preferred_f64": lax.conv_general_dilated(x.astype(jnp.float32), w.astype(jnp.float32), (1, 1),
                                                               "VALID", dimension_numbers=NHWC,
                                                               preferred_element_type=jnp.float64),
                "failures": (lax.linalg.cholesky(-spd), lax.linalg.eigh(nan_matrix), lax.linalg.svd(nan_matrix),
                             lax.linalg.triangular_solve(jnp.zeros((2, 4, 4)), b, left_side=True)),
            }
        got = numbax.jit(program)(a, spd, tall, b, x, w, nan_matrix)
        want = program(a, spd, tall, b, x, w, nan_matrix)
    assert np.asarray(got["cholesky"]).dtype == np.float64
    cholesky_failed, _, (s_failed, _, _), _ = got["failures"]
    assert np.isnan(np.asarray(cholesky_failed)[:, 3, :]).all() and np.isnan(np.asarray(s_failed)[1]).all()
    for key in ("cholesky", "solve_left_upper_t", "solve_right_lower_unit", "lu", "svd_values", "conv",
                "conv_preferred_f64", "failures"):
        _assert_trees_close(got[key], want[key], 1e-12, 1e-12, key)
    for key, axis in (("qr_complete", -2), ("qr_wide", -2)):
        # Flipping q's column j flips r's row j: compare q r's columns and r's rows sign-fixed.
        (q, r), (q_eager, r_eager) = got[key], want[key]
        np.testing.assert_allclose(_sign_fixed(q, axis), _sign_fixed(q_eager, axis), atol=1e-12)
        np.testing.assert_allclose(_sign_fixed(r, -1), _sign_fixed(r_eager, -1), atol=1e-12)
    for key in ("eigh_upper", "eigh_subset"):
        (v, eigenvalues), (v_eager, eigenvalues_eager) = got[key], want[key]
        np.testing.assert_allclose(eigenvalues, eigenvalues_eager, atol=1e-12)
        np.testing.assert_allclose(_sign_fixed(v, -2), _sign_fixed(v_eager, -2), atol=1e-12)
    (u, s, vh), (u_eager, s_eager, vh_eager) = got["svd"], want["svd"]
    np.testing.assert_allclose(s, s_eager, atol=1e-12)
    np.testing.assert_allclose(_sign_fixed(u[..., :3], -2), _sign_fixed(u_eager[..., :3], -2), atol=1e-12)
    np.testing.assert_allclose(_sign_fixed(vh, -1), _sign_fixed(vh_eager, -1), atol=1e-12)


def test_unsupported_conv_under_jit_names_the_primitive():
    x, w = np.ones((1, 1, 2, 2, 2, 2), np.float32), np.ones((1, 1, 1, 1, 1, 1), np.float32)
    fun = numbax.jit(lambda x, w: lax.conv_general_dilated(x, w, (1,) * 4, "VALID"))
    with pytest.raises(NotImplementedError, match=r"conv_general_dilated with at most 3 spatial dimensions, got 4"):
        fun(x, w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dot_general_through_blas_equals_numpy(dtype):
    """Float products call NumPy's gemm (backends/blas.py) with transposed
    operands read in place: 2-D products with either operand transposed, a
    matrix-vector product, and batched products (above SMALL_PRODUCT) with the
    operands' rows and contraction swapped or their batch axis in the middle."""
    rng = np.random.default_rng(5)
    a, b = _rand(rng, 30, 20, dtype=dtype), _rand(rng, 20, 25, dtype=dtype)
    p, q = _rand(rng, 3, 24, 20, dtype=dtype), _rand(rng, 3, 24, 22, dtype=dtype)
    mid = _rand(rng, 20, 3, 24, dtype=dtype)

    def program(a, b, p, q, mid):
        return (lax.dot_general(a.T, b, (((0,), (0,)), ((), ()))),  # a.T.T @ b: a read transposed
                a @ b.T.T, b.T @ a.T, a[0] @ b,
                lax.dot_general(p, q, (((1,), (1,)), ((0,), (0,)))),  # p[i].T @ q[i]
                lax.dot_general(mid, q, (((2,), (1,)), ((1,), (0,)))))
    want = (a @ b, a @ b, (a @ b).T, a[0] @ b, np.swapaxes(p, 1, 2) @ q,
            np.einsum("mbk,bkn->bmn", mid, q))
    with enable_x64(dtype == np.float64):
        body = numbax.jit(program).lower(a, b, p, q, mid).compile().source
        got = numbax.jit(program)(a, b, p, q, mid)
    assert "rt.matmul_serial(" in body and "np.dot(" not in body
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-5, atol=1e-5)
