"""Fit a cubic polynomial two ways with numbax: least squares through the normal
equations, and gradient descent with numbax.grad; then per-example gradients
with numbax.vmap, and the jaxprs behind them.

Run it with `nox -s demo`, or after installing packages/core:
    python examples/demo.py

Written exactly as it would be for JAX: swap `numbax` for `jax` and it still runs.
"""

import sys

import numpy as np

import numbax
import numbax.numpy as jnp

TRUE_COEFFICIENTS = np.array([1.0, -2.0, 0.5, 0.3], np.float32)  # c0 + c1 x + c2 x^2 + c3 x^3
NOISE = 0.05
TOLERANCE = 0.05


def design_matrix(x):
    """Columns 1, x, x^2, x^3 for each sample: shape (n, 4)."""
    return jnp.stack([jnp.ones_like(x), x, x**2, x**3], axis=1)


def predict(coefficients, x):
    return design_matrix(x) @ coefficients


def fit(x, y):
    """Least squares through the normal equations (A^T A) c = A^T y."""
    a = design_matrix(x)
    return jnp.linalg.solve(a.T @ a, a.T @ y)


def loss(coefficients, x, y):
    return jnp.mean((predict(coefficients, x) - y) ** 2)


def gradient_descent(x, y, steps=300, learning_rate=0.05):
    """Plain gradient descent on the mean squared error, with numbax.grad."""
    grad_loss = numbax.grad(loss)
    coefficients = jnp.zeros(4)
    for _ in range(steps):
        coefficients = coefficients - learning_rate * grad_loss(coefficients, x, y)
    return coefficients


def main():
    rng = np.random.default_rng(0)
    x_np = rng.uniform(-2.0, 2.0, size=200).astype(np.float32)
    noise = rng.normal(0.0, NOISE, size=200).astype(np.float32)
    y_np = np.polynomial.polynomial.polyval(x_np, TRUE_COEFFICIENTS).astype(np.float32) + noise

    x, y = jnp.asarray(x_np), jnp.asarray(y_np)
    coefficients = fit(x, y)
    residuals = y - predict(coefficients, x)
    rms = jnp.sqrt(jnp.mean(residuals**2))
    error = jnp.max(jnp.abs(coefficients - TRUE_COEFFICIENTS))

    np.set_printoptions(precision=4, suppress=True)
    print(f"true coefficients:   {TRUE_COEFFICIENTS}")
    print(f"fitted coefficients: {np.asarray(coefficients)}")
    print(f"rms residual: {float(rms):.4f} (noise sigma {NOISE})")
    print(f"max coefficient error: {float(error):.4f}")
    print()
    print("jaxpr of predict(coefficients, x[:5]):")
    print(numbax.make_jaxpr(predict)(coefficients, x[:5]))

    descended = gradient_descent(x, y)
    descent_error = float(jnp.max(jnp.abs(descended - coefficients)))
    print(f"\ngradient descent (300 steps of numbax.grad): {np.asarray(descended)}")
    print(f"max distance to the least-squares fit: {descent_error:.4f}")

    # Per-example gradients: vmap over the examples, params shared (in_axes None).
    per_example = numbax.vmap(numbax.grad(loss), in_axes=(None, 0, 0))(descended, x[:, None], y[:, None])
    mean_of_per_example = jnp.mean(per_example, axis=0)
    full_batch = numbax.grad(loss)(descended, x, y)
    gap = float(jnp.max(jnp.abs(mean_of_per_example - full_batch)))
    print(f"per-example gradients: shape {per_example.shape}; their mean matches the batch gradient "
          f"to {gap:.1e}")
    print("\njaxpr of grad(loss):")
    print(numbax.make_jaxpr(numbax.grad(loss))(descended, x[:3], y[:3]))

    failures = []
    if not float(error) < TOLERANCE:
        failures.append(f"coefficient error {float(error):.4f} is not below {TOLERANCE}")
    if not descent_error < 0.1:
        failures.append(f"gradient descent ended {descent_error:.4f} from the least-squares fit")
    if not gap < 1e-4:
        failures.append(f"per-example gradients do not average to the batch gradient ({gap:.1e})")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("\nOK: both fits recover the true coefficients, and vmap(grad) agrees with grad.")


if __name__ == "__main__":
    main()
