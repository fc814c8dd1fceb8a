"""Per-example gradients of linear regression (params (256,), batch 512):
eager ``vmap(grad(loss))`` against a Python loop of ``grad`` and against the
gradient written by hand in NumPy (and JAX's eager vmap(grad), when importable)."""

import numpy as np

import numbax
import numbax.numpy as jnp
from _timing import compiled_before_first_result, jax_or_none, print_table

jax = jax_or_none()
FEATURES, BATCH = 256, 512


def loss(m, w, x, y):
    return (m.dot(x, w) - y) ** 2


def cases():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(FEATURES).astype(np.float32)
    xs = rng.standard_normal((BATCH, FEATURES)).astype(np.float32)
    ys = rng.standard_normal(BATCH).astype(np.float32)
    nw, nx, ny = jnp.asarray(w), jnp.asarray(xs), jnp.asarray(ys)
    grad = numbax.grad(lambda w, x, y: loss(jnp, w, x, y))
    per_example = numbax.vmap(grad, in_axes=(None, 0, 0))

    expected = 2 * (xs @ w - ys)[:, None] * xs
    np.testing.assert_allclose(np.asarray(per_example(nw, nx, ny)), expected, rtol=1e-4, atol=1e-4)

    fns = {
        "numpy": lambda: 2 * (xs @ w - ys)[:, None] * xs,
        "numbax": lambda: per_example(nw, nx, ny).block_until_ready(),
        "python loop": lambda: [grad(nw, nx[i], ny[i]) for i in range(BATCH)],
    }
    if jax is not None:
        import jax.numpy as jax_numpy
        jgrad = jax.vmap(jax.grad(lambda w, x, y: loss(jax_numpy, w, x, y)), in_axes=(None, 0, 0))
        jw, jx, jy = (jax.device_put(v) for v in (w, xs, ys))
        fns["jax"] = lambda: jgrad(jw, jx, jy).block_until_ready()
    return [(f"per-example grads, linear regression ({FEATURES},) x batch {BATCH}", "ms", fns)]


def main():
    print_table("vmap(grad)", cases(), have_jax=jax is not None)


if __name__ == "__main__":
    with compiled_before_first_result():
        main()
