"""Gradient of a 3-layer MLP loss, eager (not jitted): numbax.grad against a
backward pass written by hand in NumPy on the same data (and jax.grad, eager,
when importable). Layers 64 -> 128 -> 128 -> 10, tanh, mean squared error,
batch 256, float32."""

import numpy as np

import numbax
import numbax.numpy as jnp
from _timing import compiled_before_first_result, jax_or_none, print_table

jax = jax_or_none()
SIZES, BATCH = (64, 128, 128, 10), 256


def loss(m, params, x, y):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = m.tanh(h)
    return m.mean((h - y) ** 2)


def numpy_grad(params, x, y):
    """The same gradient by hand: forward keeping activations, then backward."""
    activations, h = [x], x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.tanh(h)
        activations.append(h)
    delta = 2 * (h - y) / h.size
    grads = []
    for i in reversed(range(len(params))):
        w, _ = params[i]
        grads.append((activations[i].T @ delta, delta.sum(axis=0)))
        if i > 0:
            delta = (delta @ w.T) * (1 - activations[i] ** 2)
    return grads[::-1]


def cases():
    rng = np.random.default_rng(0)
    params = [(rng.standard_normal((a, b)).astype(np.float32) / np.sqrt(a), np.zeros(b, np.float32))
              for a, b in zip(SIZES[:-1], SIZES[1:])]
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.standard_normal((BATCH, SIZES[-1])).astype(np.float32)
    nparams = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
    nx, ny = jnp.asarray(x), jnp.asarray(y)
    grad = numbax.grad(lambda p, x, y: loss(jnp, p, x, y))

    for (gw, gb), (ew, eb) in zip(grad(nparams, nx, ny), numpy_grad(params, x, y)):
        np.testing.assert_allclose(np.asarray(gw), ew, rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(np.asarray(gb), eb, rtol=1e-3, atol=1e-5)

    fns = {"numpy": lambda: numpy_grad(params, x, y),
           "numbax": lambda: numbax.block_until_ready(grad(nparams, nx, ny))}
    if jax is not None:
        import jax.numpy as jax_numpy
        jgrad = jax.grad(lambda p, x, y: loss(jax_numpy, p, x, y))
        jparams = [(jax.device_put(w), jax.device_put(b)) for w, b in params]
        jx, jy = jax.device_put(x), jax.device_put(y)
        fns["jax"] = lambda: jax.block_until_ready(jgrad(jparams, jx, jy))
    return [(f"grad of a 3-layer MLP loss {SIZES}, batch {BATCH}", "ms", fns)]


def main():
    print_table("MLP gradient (eager)", cases(), have_jax=jax is not None)


if __name__ == "__main__":
    with compiled_before_first_result():
        main()
