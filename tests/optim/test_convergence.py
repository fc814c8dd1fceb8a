"""Convergence table: every alias drives a quadratic and the Rosenbrock function below a stated
threshold within a stated number of steps. Gradients are written out in NumPy, so the time goes
to the optimizers, not to tracing the loss; sign- and trust-ratio-based methods take fixed-size
steps and get a decaying schedule to settle."""

import numpy as np
import pytest

import numbax.numpy as jnp
import numbax_optim as optim

CENTER = np.asarray([1.0, -2.0, 0.5], np.float32)
CURVATURE = np.asarray([1.0, 3.0, 0.5], np.float32)


def quadratic(x):
    return 0.5 * np.sum(CURVATURE * (x - CENTER) ** 2)


def quadratic_grad(x):
    return CURVATURE * (x - CENTER)


def rosenbrock(x):
    return (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return np.asarray([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)], np.float32)


def decay(lr, steps):
    return optim.cosine_decay_schedule(lr, steps, alpha=0.01)


# alias -> (optimizer for the quadratic, optimizer for Rosenbrock, Rosenbrock steps). The quadratic
# gets 300 steps from 0 (f = 2.6875) and must end below 1e-3; Rosenbrock starts at (0, 0) (f = 1) and
# must end below 5e-2 within the stated steps.
TABLE = {
    "sgd": (lambda: optim.sgd(0.3), lambda: optim.sgd(1.5e-3), 3000),
    "sgd_momentum": (lambda: optim.sgd(0.1, momentum=0.9), lambda: optim.sgd(1e-3, momentum=0.9), 400),
    "sgd_nesterov": (lambda: optim.sgd(0.1, momentum=0.9, nesterov=True),
                     lambda: optim.sgd(1e-3, momentum=0.9, nesterov=True), 400),
    "adam": (lambda: optim.adam(0.1), lambda: optim.adam(0.05), 600),
    "adamw": (lambda: optim.adamw(0.1, weight_decay=1e-4), lambda: optim.adamw(0.05, weight_decay=1e-4), 600),
    "nadam": (lambda: optim.nadam(0.1), lambda: optim.nadam(0.05), 600),
    "rmsprop": (lambda: optim.rmsprop(0.01), lambda: optim.rmsprop(3e-3), 800),
    "rmsprop_centered": (lambda: optim.rmsprop(0.01, centered=True), lambda: optim.rmsprop(3e-3, centered=True), 800),
    "adagrad": (lambda: optim.adagrad(0.5), lambda: optim.adagrad(0.3), 1000),
    "lion": (lambda: optim.lion(decay(0.05, 300), weight_decay=0.0),
             lambda: optim.lion(decay(0.01, 800), weight_decay=0.0), 800),
    "lamb": (lambda: optim.lamb(decay(0.1, 300)), lambda: optim.lamb(decay(0.02, 600)), 600),
    "lars": (lambda: optim.lars(decay(100.0, 300)), lambda: optim.lars(decay(10.0, 800)), 800),
    "adabelief": (lambda: optim.adabelief(0.1), lambda: optim.adabelief(0.05), 600),
    "adamax": (lambda: optim.adamax(0.1), lambda: optim.adamax(0.05), 800),
    "amsgrad": (lambda: optim.amsgrad(0.1), lambda: optim.amsgrad(0.05), 800),
    "novograd": (lambda: optim.novograd(decay(0.1, 300)), lambda: optim.novograd(decay(0.02, 800)), 800),
    "radam": (lambda: optim.radam(0.1), lambda: optim.radam(0.05), 800),
    "yogi": (lambda: optim.yogi(0.1), lambda: optim.yogi(0.05), 800),
    "adafactor": (lambda: optim.adafactor(0.05, multiply_by_parameter_scale=False),
                  lambda: optim.adafactor(0.01, multiply_by_parameter_scale=False), 1000),
    "sign_sgd": (lambda: optim.sign_sgd(decay(0.05, 300)), lambda: optim.sign_sgd(decay(0.003, 1500)), 1500),
}


def minimize(f, grad, tx, x0, steps):
    x = jnp.asarray(x0)
    state = tx.init(x)
    for _ in range(steps):
        updates, state = tx.update(jnp.asarray(grad(np.asarray(x))), state, x)
        x = optim.apply_updates(x, updates)
    return float(f(np.asarray(x, np.float64)))


@pytest.mark.parametrize("name", sorted(TABLE))
def test_quadratic(name):
    assert minimize(quadratic, quadratic_grad, TABLE[name][0](), np.zeros(3, np.float32), 300) < 1e-3


@pytest.mark.parametrize("name", sorted(TABLE))
def test_rosenbrock(name):
    _, make, steps = TABLE[name]
    assert minimize(rosenbrock, rosenbrock_grad, make(), np.zeros(2, np.float32), steps) < 5e-2
