"""numbax alone (no sibling packages): linear regression trained by a plain
gradient-descent loop written exactly as for JAX.

* ``numbax.grad`` of a mean-squared-error loss;
* per-example gradients with ``numbax.vmap(numbax.grad(...))``, checked
  against the batch gradient (their mean);
* ``numbax.jit`` of the update step (eager when numbax has no jit).

    python examples/core_only.py             # 500 steps
    python examples/core_only.py --steps 50  # short run (what CI does)
"""

import argparse
import time

import numpy as np

import numbax
import numbax.numpy as jnp

TRUE_W = np.array([2.0, -3.0, 0.5], np.float32)
TRUE_B = 1.0


def make_data(n=256, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ TRUE_W + TRUE_B + noise * rng.standard_normal(n)).astype(np.float32)
    return x, y


def init_params():
    return {"w": jnp.zeros(3), "b": jnp.zeros(())}


def predict(params, x):
    return x @ params["w"] + params["b"]


def loss(params, x, y):
    return jnp.mean((predict(params, x) - y) ** 2)


def update(params, x, y, learning_rate):
    grads = numbax.grad(loss)(params, x, y)
    return numbax.tree.map(lambda p, g: p - learning_rate * g, params, grads)


def per_example_grads(params, x, y):
    """One gradient per example: vmap of grad over a batch of size-1 problems."""
    def single(params, xi, yi):
        return loss(params, xi[None], yi[None])

    return numbax.vmap(numbax.grad(single), in_axes=(None, 0, 0))(params, x, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    args = parser.parse_args(argv)
    x, y = make_data()
    params = init_params()

    grads = per_example_grads(params, x, y)
    batch = numbax.grad(loss)(params, x, y)
    gap = max(float(jnp.max(jnp.abs(jnp.mean(grads[k], axis=0) - batch[k]))) for k in batch)
    print(f"per-example gradients: w {tuple(grads['w'].shape)}, b {tuple(grads['b'].shape)}; "
          f"their mean differs from the batch gradient by {gap:.2e}")

    step = numbax.jit(update) if hasattr(numbax, "jit") else update
    started = time.perf_counter()
    initial = float(loss(params, x, y))
    for i in range(args.steps):
        params = step(params, x, y, args.learning_rate)
        if (i + 1) % max(1, args.steps // 5) == 0:
            print(f"step {i + 1:4d}/{args.steps}  loss {float(loss(params, x, y)):.5f}", flush=True)
    final = float(loss(params, x, y))
    seconds = time.perf_counter() - started
    w, b = np.asarray(params["w"]), float(params["b"])
    print(f"\nloss {initial:.4f} -> {final:.5f} in {args.steps} steps ({seconds:.1f}s, jit: "
          f"{hasattr(numbax, 'jit')}); w = {np.round(w, 3)} (true {TRUE_W}), b = {b:.3f} (true {TRUE_B})")
    return {"initial_loss": initial, "final_loss": final, "w": w, "b": b, "grad_gap": gap}


if __name__ == "__main__":
    main()
