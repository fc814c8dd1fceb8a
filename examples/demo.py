"""Fit a cubic polynomial by least squares with numbax.numpy, then look at its jaxpr.

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

    if not float(error) < TOLERANCE:
        sys.exit(f"FAILED: coefficient error {float(error):.4f} is not below {TOLERANCE}")
    print("\nOK: the fit recovers the true coefficients.")


if __name__ == "__main__":
    main()
