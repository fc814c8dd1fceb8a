"""Schedules against their formulas written here in NumPy and Optax's observed values (optim.md §5, §9)."""

import math

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
import numbax_optim as optim

COUNTS = [0, 1, 3, 7, 10, 15, 40, 100, 130]


def values(schedule, counts=COUNTS):
    return np.asarray([float(schedule(jnp.asarray(c, jnp.int32))) for c in counts])


def test_constant_and_polynomial_and_linear():
    np.testing.assert_allclose(values(optim.constant_schedule(0.3)), 0.3, rtol=1e-6)
    init, end, power, steps, begin = 2.0, 0.5, 2.0, 20, 5
    want = [(init - end) * (1 - min(max(c - begin, 0), steps) / steps) ** power + end for c in COUNTS]
    np.testing.assert_allclose(values(optim.polynomial_schedule(init, end, power, steps, begin)), want, rtol=1e-6)
    want = [1.0 + (0.0 - 1.0) * min(c, 10) / 10 for c in COUNTS]
    np.testing.assert_allclose(values(optim.linear_schedule(1.0, 0.0, 10)), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(values(optim.polynomial_schedule(1.0, 0.0, 1, 0)), 1.0)  # steps <= 0: constant


def test_cosine_decay():
    init, steps, alpha, exponent = 0.8, 50, 0.1, 2.0
    want = [init * ((1 - alpha) * (0.5 * (1 + math.cos(math.pi * min(c, steps) / steps))) ** exponent + alpha)
            for c in COUNTS]
    np.testing.assert_allclose(values(optim.cosine_decay_schedule(init, steps, alpha, exponent)), want,
                               rtol=1e-5, atol=1e-7)


def test_warmup_cosine_decay_observed():
    # optim.md §5: (0, 1, 10, 110, 0.1) gives 0, 0.5@5, 1@10, 0.55@60, 0.1@110 and after.
    schedule = optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110, 0.1)
    np.testing.assert_allclose(values(schedule, [0, 5, 10, 60, 110, 500]), [0, 0.5, 1, 0.55, 0.1, 0.1],
                               rtol=1e-5, atol=1e-7)


def test_exponential_decay_observed_and_formula():
    schedule = optim.exponential_decay(1.0, 10, 0.5, transition_begin=5, staircase=True)
    np.testing.assert_allclose(values(schedule, [0, 5, 14, 15, 25]), [1, 1, 1, 0.5, 0.25])
    smooth = optim.exponential_decay(2.0, 4, 0.9, end_value=1.5)
    want = [max(2.0 * 0.9 ** (c / 4), 1.5) if c > 0 else 2.0 for c in COUNTS]
    np.testing.assert_allclose(values(smooth), want, rtol=1e-6)
    growing = optim.exponential_decay(1.0, 1, 2.0, end_value=5.0)
    np.testing.assert_allclose(values(growing, [0, 2, 10]), [1.0, 4.0, 5.0])


def test_piecewise_constant_observed():
    schedule = optim.piecewise_constant_schedule(1.0, {10: 0.1, 20: 0.5})
    np.testing.assert_allclose(values(schedule, [9, 10, 19, 20]), [1.0, 0.1, 0.1, 0.05], rtol=1e-6)


def test_join_schedules_shifts_the_count():
    schedule = optim.join_schedules([optim.constant_schedule(1.0), optim.linear_schedule(1.0, 0.0, 10)], [5])
    want = [1.0 if c < 5 else 1.0 - min(c - 5, 10) / 10 for c in COUNTS]
    np.testing.assert_allclose(values(schedule), want, rtol=1e-6, atol=1e-7)


def test_warmup_constant_and_linear_decay():
    np.testing.assert_allclose(values(optim.warmup_constant_schedule(0.0, 2.0, 4), [0, 2, 4, 50]), [0, 1, 2, 2])
    np.testing.assert_allclose(values(optim.warmup_linear_decay_schedule(0.0, 1.0, 10, 30, 0.2), [5, 10, 20, 30, 99]),
                               [0.5, 1.0, 0.6, 0.2, 0.2], rtol=1e-6)


def test_cosine_onecycle_observed():
    # optim.md §5: (100, 1.0) gives 0.04@0, 1.0@30, 0.5@65, ~0@100.
    np.testing.assert_allclose(values(optim.cosine_onecycle_schedule(100, 1.0), [0, 30, 65, 100]),
                               [0.04, 1.0, 0.5, 0.0], rtol=1e-4, atol=1e-5)


def test_linear_onecycle_knots():
    schedule = optim.linear_onecycle_schedule(100, 1.0)
    np.testing.assert_allclose(values(schedule, [0, 15, 30, 85, 100]),
                               [0.04, 0.52, 1.0, 0.04, 0.04 / 1e4], rtol=1e-4, atol=1e-7)


def test_schedules_accept_python_ints_and_vmap():
    schedule = optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110, 0.1)
    assert abs(float(schedule(5)) - 0.5) < 1e-6
    batch = numbax.vmap(schedule)(jnp.asarray([0, 5, 10], jnp.int32))
    np.testing.assert_allclose(np.asarray(batch), [0.0, 0.5, 1.0], rtol=1e-6)


def test_schedule_errors():
    with pytest.raises(ValueError, match=r"cosine_decay_schedule: decay_steps must be > 0, got 0"):
        optim.cosine_decay_schedule(1.0, 0)
    with pytest.raises(ValueError, match=r"join_schedules: need one more schedule than boundaries"):
        optim.join_schedules([optim.constant_schedule(1.0)], [3])
    with pytest.raises(TypeError, match=r"join_schedules: schedules\[1\] must be a schedule.*constant_schedule"):
        optim.join_schedules([optim.constant_schedule(1.0), 0.5], [3])
    with pytest.raises(ValueError, match=r"piecewise_constant_schedule: scales must be >= 0, got -1"):
        optim.piecewise_constant_schedule(1.0, {3: -1})
    with pytest.raises(TypeError, match=r"exponential_decay: decay_rate must be a number, got the callable"):
        optim.exponential_decay(1.0, 10, optim.constant_schedule(0.5))
