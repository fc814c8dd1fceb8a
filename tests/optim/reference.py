"""NumPy re-implementations of the update formulas in reference/optim.md, written
from the formulas (not from numbax_optim's code), used as independent references.

Each ``ref_*`` returns ``run(grads_per_step, params) -> (updates_per_step, state)``
over lists of float64 leaves; params move by the updates between steps, as in a
training loop, and ``state`` holds the final moments under Optax's field names.
"""

import numpy as np


def _norm(x):
    return np.sqrt(np.sum(np.square(x)))


def _loop(step, state):
    def run(grads_per_step, params):
        params = [np.asarray(p, np.float64) for p in params]
        all_updates = []
        for t, grads in enumerate(grads_per_step, start=1):
            grads = [np.asarray(g, np.float64) for g in grads]
            updates = step(t, grads, params, state)
            params = [p + u for p, u in zip(params, updates)]
            all_updates.append(updates)
        return all_updates, state
    return run


def _zeros(shapes_from):
    return None if shapes_from is None else [np.zeros_like(x) for x in shapes_from]


def _lazy_zeros(state, key, like, fill=0.0):
    if key not in state:
        state[key] = [np.full(np.shape(x), fill, np.float64) for x in like]
    return state[key]


def ref_sgd(lr, momentum=None, nesterov=False):
    state = {}

    def step(t, grads, params, state):
        if momentum is None:
            return [-lr * g for g in grads]
        trace = _lazy_zeros(state, "trace", grads)
        trace[:] = [g + momentum * tr for g, tr in zip(grads, trace)]
        directions = [g + momentum * tr for g, tr in zip(grads, trace)] if nesterov else trace
        return [-lr * d for d in directions]
    return _loop(step, state)


def adam_direction(t, grads, state, b1, b2, eps, eps_root, nesterov=False):
    mu = _lazy_zeros(state, "mu", grads)
    nu = _lazy_zeros(state, "nu", grads)
    mu[:] = [(1 - b1) * g + b1 * m for g, m in zip(grads, mu)]
    nu[:] = [(1 - b2) * g * g + b2 * v for g, v in zip(grads, nu)]
    if nesterov:
        mu_hat = [b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1 ** t) for m, g in zip(mu, grads)]
    else:
        mu_hat = [m / (1 - b1 ** t) for m in mu]
    return [m / (np.sqrt(v / (1 - b2 ** t) + eps_root) + eps) for m, v in zip(mu_hat, nu)]


def ref_adam(lr, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, nesterov=False, weight_decay=0.0, mask=None):
    state = {}

    def step(t, grads, params, state):
        directions = adam_direction(t, grads, state, b1, b2, eps, eps_root, nesterov)
        keep = mask or [True] * len(grads)
        return [-lr * (d + (weight_decay * p if k else 0.0)) for d, p, k in zip(directions, params, keep)]
    return _loop(step, state)


def ref_rmsprop(lr, decay=0.9, eps=1e-8, centered=False, momentum=None):
    state = {}

    def step(t, grads, params, state):
        nu = _lazy_zeros(state, "nu", grads)
        nu[:] = [(1 - decay) * g * g + decay * v for g, v in zip(grads, nu)]
        if centered:
            mu = _lazy_zeros(state, "mu", grads)
            mu[:] = [(1 - decay) * g + decay * m for g, m in zip(grads, mu)]
            updates = [-lr * g / np.sqrt(v - m * m + eps) for g, v, m in zip(grads, nu, mu)]
        else:
            updates = [-lr * g / np.sqrt(v + eps) for g, v in zip(grads, nu)]
        if momentum is None:
            return updates
        trace = _lazy_zeros(state, "trace", grads)
        trace[:] = [u + momentum * tr for u, tr in zip(updates, trace)]
        return list(trace)
    return _loop(step, state)


def ref_adagrad(lr, initial_accumulator_value=0.1, eps=1e-7):
    state = {}

    def step(t, grads, params, state):
        s = _lazy_zeros(state, "sum_of_squares", grads, initial_accumulator_value)
        s[:] = [x + g * g for x, g in zip(s, grads)]
        return [-lr * g / np.sqrt(x + eps) for g, x in zip(grads, s)]
    return _loop(step, state)


def ref_lion(lr, b1=0.9, b2=0.99, weight_decay=1e-3):
    state = {}

    def step(t, grads, params, state):
        mu = _lazy_zeros(state, "mu", grads)
        directions = [np.sign((1 - b1) * g + b1 * m) for g, m in zip(grads, mu)]
        mu[:] = [(1 - b2) * g + b2 * m for g, m in zip(grads, mu)]
        return [-lr * (d + weight_decay * p) for d, p in zip(directions, params)]
    return _loop(step, state)


def _trust_ratio(p, u, coefficient=1.0, eps=0.0):
    pn, un = _norm(p), _norm(u)
    return 1.0 if pn == 0 or un == 0 else coefficient * pn / (un + eps)


def ref_lamb(lr, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    state = {}

    def step(t, grads, params, state):
        directions = adam_direction(t, grads, state, b1, b2, eps, 0.0)
        directions = [d + weight_decay * p for d, p in zip(directions, params)]
        return [-lr * d * _trust_ratio(p, d) for d, p in zip(directions, params)]
    return _loop(step, state)


def ref_lars(lr, weight_decay=0.0, trust_coefficient=0.001, momentum=0.9):
    state = {}

    def step(t, grads, params, state):
        decayed = [g + weight_decay * p for g, p in zip(grads, params)]
        scaled = [-lr * u * _trust_ratio(p, u, trust_coefficient) for u, p in zip(decayed, params)]
        trace = _lazy_zeros(state, "trace", grads)
        trace[:] = [s + momentum * tr for s, tr in zip(scaled, trace)]
        return list(trace)
    return _loop(step, state)


def ref_adabelief(lr, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    state = {}

    def step(t, grads, params, state):
        mu = _lazy_zeros(state, "mu", grads)
        nu = _lazy_zeros(state, "nu", grads)
        mu[:] = [(1 - b1) * g + b1 * m for g, m in zip(grads, mu)]
        nu[:] = [(1 - b2) * (g - m) ** 2 + b2 * s + eps_root for g, m, s in zip(grads, mu, nu)]
        return [-lr * (m / (1 - b1 ** t)) / (np.sqrt(s / (1 - b2 ** t)) + eps) for m, s in zip(mu, nu)]
    return _loop(step, state)


def ref_adamax(lr, b1=0.9, b2=0.999, eps=1e-8):
    state = {}

    def step(t, grads, params, state):
        mu = _lazy_zeros(state, "mu", grads)
        nu = _lazy_zeros(state, "nu", grads)
        mu[:] = [(1 - b1) * g + b1 * m for g, m in zip(grads, mu)]
        nu[:] = [np.maximum(np.abs(g) + eps, b2 * v) for g, v in zip(grads, nu)]
        return [-lr * (m / (1 - b1 ** t)) / v for m, v in zip(mu, nu)]
    return _loop(step, state)


def ref_amsgrad(lr, b1=0.9, b2=0.999, eps=1e-8):
    state = {}

    def step(t, grads, params, state):
        mu = _lazy_zeros(state, "mu", grads)
        nu = _lazy_zeros(state, "nu", grads)
        nu_max = _lazy_zeros(state, "nu_max", grads)
        mu[:] = [(1 - b1) * g + b1 * m for g, m in zip(grads, mu)]
        nu[:] = [(1 - b2) * g * g + b2 * v for g, v in zip(grads, nu)]
        nu_max[:] = [np.maximum(vm, v / (1 - b2 ** t)) for vm, v in zip(nu_max, nu)]
        return [-lr * (m / (1 - b1 ** t)) / (np.sqrt(vm) + eps) for m, vm in zip(mu, nu_max)]
    return _loop(step, state)


def ref_yogi(lr, b1=0.9, b2=0.999, eps=1e-3, initial=1e-6):
    state = {}

    def step(t, grads, params, state):
        mu = _lazy_zeros(state, "mu", grads, initial)
        nu = _lazy_zeros(state, "nu", grads, initial)
        mu[:] = [(1 - b1) * g + b1 * m for g, m in zip(grads, mu)]
        nu[:] = [v - (1 - b2) * np.sign(v - g * g) * g * g for g, v in zip(grads, nu)]
        return [-lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps) for m, v in zip(mu, nu)]
    return _loop(step, state)


def ref_novograd(lr, b1=0.9, b2=0.25, eps=1e-6, weight_decay=0.0):
    state = {}

    def step(t, grads, params, state):
        squared = [np.sum(g * g) for g in grads]
        if t == 1:
            state["nu"] = squared
            state["mu"] = [g / (np.sqrt(n) + eps) + weight_decay * p for g, n, p in zip(grads, squared, params)]
        else:
            state["nu"] = [(1 - b2) * s + b2 * n for s, n in zip(squared, state["nu"])]
            state["mu"] = [b1 * m + g / (np.sqrt(n) + eps) + weight_decay * p
                           for m, g, n, p in zip(state["mu"], grads, state["nu"], params)]
        return [-lr * m for m in state["mu"]]
    return _loop(step, state)


def ref_radam(lr, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    state = {}
    rho_inf = 2 / (1 - b2) - 1

    def step(t, grads, params, state):
        mu = _lazy_zeros(state, "mu", grads)
        nu = _lazy_zeros(state, "nu", grads)
        mu[:] = [(1 - b1) * g + b1 * m for g, m in zip(grads, mu)]
        nu[:] = [(1 - b2) * g * g + b2 * v for g, v in zip(grads, nu)]
        rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        mu_hat = [m / (1 - b1 ** t) for m in mu]
        if rho < threshold:
            return [-lr * m for m in mu_hat]
        r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return [-lr * r * m / (np.sqrt(v / (1 - b2 ** t)) + eps) for m, v in zip(mu_hat, nu)]
    return _loop(step, state)


def ref_adafactor(lr=None, min_dim_size_to_factor=128, eps=1e-30):
    """Adafactor for leaves factored along their two largest axes when the smaller is >= the threshold."""
    state = {}

    def step(t, grads, params, state):
        beta = 1 - t ** -0.8
        if "v" not in state:
            state["v"] = [None] * len(grads)
        out = []
        for i, (g, p) in enumerate(zip(grads, params)):
            g2 = g * g + eps
            if g.ndim == 2 and min(g.shape) >= min_dim_size_to_factor:
                # rows are the smaller axis, columns the larger (written for shapes (rows, cols) with rows <= cols).
                row_mean, col_mean = g2.mean(axis=1), g2.mean(axis=0)
                old_row, old_col = state["v"][i] or (np.zeros_like(row_mean), np.zeros_like(col_mean))
                v_row = beta * old_row + (1 - beta) * row_mean
                v_col = beta * old_col + (1 - beta) * col_mean
                state["v"][i] = (v_row, v_col)
                u = g / np.sqrt(np.outer(v_row / v_row.mean(), v_col))
            else:
                old = state["v"][i] if state["v"][i] is not None else np.zeros_like(g)
                v = beta * old + (1 - beta) * g2
                state["v"][i] = v
                u = g / np.sqrt(v)
            u = u / max(1.0, np.sqrt(np.mean(u * u)))
            if lr is not None:
                u = lr * u
            u = u * max(np.sqrt(np.mean(p * p)), 1e-3)
            out.append(-u)
        return out
    return _loop(step, state)


def ref_sign_sgd(lr):
    return _loop(lambda t, grads, params, state: [-lr * np.sign(g) for g in grads], {})
