"""Schedules: functions ``count -> value`` (reference/optim.md §5).

They are written with ``numbax.numpy`` so the same schedule works with a
Python int, an int32 array, under ``jit`` and under ``vmap``.
"""

import math

import numbax.numpy as jnp

from numbax_optim._src.base import check_number


def _count(count):
    return jnp.asarray(count)


def _numbers(where, **values):
    for name, value in values.items():
        check_number(value, name, where, "Schedules take numbers; compose schedules with join_schedules.")


def constant_schedule(value):
    """``value`` at every step."""
    _numbers("constant_schedule", value=value)
    # Shaped like the count, so a batch of counts under vmap gets a batch of values.
    return lambda count: jnp.full(jnp.shape(count), value)


def polynomial_schedule(init_value, end_value, power, transition_steps, transition_begin=0):
    """``(init - end) * (1 - k / steps)**power + end`` with ``k = clip(count - transition_begin, 0, steps)``;
    ``transition_steps <= 0`` gives the constant ``init_value``."""
    _numbers("polynomial_schedule", init_value=init_value, end_value=end_value, power=power,
             transition_steps=transition_steps, transition_begin=transition_begin)
    if transition_steps <= 0:
        return constant_schedule(init_value)
    if transition_begin < 0:
        raise ValueError(f"polynomial_schedule: transition_begin must be >= 0, got {transition_begin}.")

    def schedule(count):
        k = jnp.clip(_count(count) - transition_begin, 0, transition_steps)
        fraction = 1 - k / transition_steps
        return (init_value - end_value) * fraction ** power + end_value

    return schedule


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    """Linear interpolation from ``init_value`` to ``end_value`` over ``transition_steps`` steps."""
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0):
    """``init * ((1 - alpha) * (0.5 * (1 + cos(pi * k / decay_steps)))**exponent + alpha)`` with
    ``k = min(count, decay_steps)`` (Loshchilov & Hutter, 2017)."""
    _numbers("cosine_decay_schedule", init_value=init_value, decay_steps=decay_steps, alpha=alpha, exponent=exponent)
    if decay_steps <= 0:
        raise ValueError(f"cosine_decay_schedule: decay_steps must be > 0, got {decay_steps}; use "
                         "constant_schedule for a constant value.")

    def schedule(count):
        k = jnp.minimum(_count(count), decay_steps)
        cosine = 0.5 * (1 + jnp.cos(math.pi * k / decay_steps))
        return init_value * ((1 - alpha) * cosine ** exponent + alpha)

    return schedule


def exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0, staircase=False,
                      end_value=None):
    """``init * decay_rate**(d / transition_steps)`` for ``d = count - transition_begin > 0`` (the exponent
    floored when ``staircase``), ``init`` before; clipped at ``end_value`` (from below when the rate decays,
    from above when it grows)."""
    _numbers("exponential_decay", init_value=init_value, transition_steps=transition_steps, decay_rate=decay_rate,
             transition_begin=transition_begin)
    if end_value is not None:
        _numbers("exponential_decay", end_value=end_value)
    if transition_steps <= 0:
        raise ValueError(f"exponential_decay: transition_steps must be > 0, got {transition_steps}.")
    if decay_rate == 0:
        raise ValueError("exponential_decay: decay_rate must be nonzero; use constant_schedule(0.0) for zero.")

    def schedule(count):
        d = _count(count) - transition_begin
        exponent = d / transition_steps
        if staircase:
            exponent = jnp.floor(exponent)
        value = jnp.where(d <= 0, init_value, init_value * jnp.power(decay_rate, exponent))
        if end_value is not None:
            value = jnp.maximum(value, end_value) if decay_rate < 1 else jnp.minimum(value, end_value)
        return value

    return schedule


def piecewise_constant_schedule(init_value, boundaries_and_scales=None):
    """``init_value`` multiplied by each ``scale`` once ``count >= boundary`` (scales accumulate)."""
    _numbers("piecewise_constant_schedule", init_value=init_value)
    items = sorted((boundaries_and_scales or {}).items())
    for boundary, scale_value in items:
        _numbers("piecewise_constant_schedule", boundary=boundary, scale=scale_value)
        if scale_value < 0:
            raise ValueError(f"piecewise_constant_schedule: scales must be >= 0, got {scale_value} at boundary "
                             f"{boundary}.")

    def schedule(count):
        count = _count(count)
        value = jnp.asarray(init_value)
        for boundary, scale_value in items:
            value = jnp.where(count >= boundary, value * scale_value, value)
        return value

    return schedule


def join_schedules(schedules, boundaries):
    """Run ``schedules[0]`` until ``boundaries[0]``, then ``schedules[1]`` at ``count - boundaries[0]``, ..."""
    schedules, boundaries = list(schedules), list(boundaries)
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(f"join_schedules: need one more schedule than boundaries, got {len(schedules)} schedules "
                         f"and {len(boundaries)} boundaries.")
    for i, fn in enumerate(schedules):
        if not callable(fn):
            raise TypeError(f"join_schedules: schedules[{i}] must be a schedule (callable), got {fn!r}; wrap a "
                            "number in constant_schedule.")

    def schedule(count):
        count = _count(count)
        value = schedules[0](count)
        for boundary, fn in zip(boundaries, schedules[1:]):
            value = jnp.where(count < boundary, value, fn(count - boundary))
        return value

    return schedule


def warmup_constant_schedule(init_value, peak_value, warmup_steps):
    """Linear warmup from ``init_value`` to ``peak_value`` over ``warmup_steps``, then ``peak_value``."""
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps), constant_schedule(peak_value)],
                          [warmup_steps])


def warmup_linear_decay_schedule(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0):
    """Linear warmup to ``peak_value``, then linear decay to ``end_value`` at ``decay_steps`` (warmup included)."""
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps),
                           linear_schedule(peak_value, end_value, decay_steps - warmup_steps)], [warmup_steps])


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0, exponent=1.0):
    """Linear warmup from ``init_value`` to ``peak_value`` over ``warmup_steps``, then cosine decay to
    ``end_value`` at ``decay_steps`` (which includes the warmup)."""
    _numbers("warmup_cosine_decay_schedule", init_value=init_value, peak_value=peak_value,
             warmup_steps=warmup_steps, decay_steps=decay_steps, end_value=end_value, exponent=exponent)
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps),
                           cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent)],
                          [warmup_steps])


def warmup_exponential_decay_schedule(init_value, peak_value, warmup_steps, transition_steps, decay_rate,
                                      transition_begin=0, staircase=False, end_value=None):
    """Linear warmup to ``peak_value``, then :func:`exponential_decay` from it."""
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps),
                           exponential_decay(peak_value, transition_steps, decay_rate, transition_begin, staircase,
                                             end_value)], [warmup_steps])


def piecewise_interpolate_schedule(interpolate_type, init_value, boundaries_and_scales=None):
    """Interpolate (``'linear'`` or ``'cosine'``) between knots ``(boundary, init * cumulative scale)``."""
    if interpolate_type not in ("linear", "cosine"):
        raise ValueError(f"piecewise_interpolate_schedule: interpolate_type must be 'linear' or 'cosine', got "
                         f"{interpolate_type!r}.")
    _numbers("piecewise_interpolate_schedule", init_value=init_value)
    items = sorted((boundaries_and_scales or {}).items())
    if not items:
        return constant_schedule(init_value)
    bounds = [int(b) for b, _ in items]
    values = [float(init_value)]
    for _, scale_value in items:
        values.append(values[-1] * scale_value)
    starts = [0] + bounds

    def schedule(count):
        count = _count(count)
        value = jnp.asarray(values[-1])
        # Walk the intervals from the last to the first so the earliest matching one wins.
        for i in reversed(range(len(bounds))):
            length = max(bounds[i] - starts[i], 1)
            pct = jnp.clip((count - starts[i]) / length, 0.0, 1.0)
            if interpolate_type == "linear":
                segment = values[i] + pct * (values[i + 1] - values[i])
            else:
                segment = values[i + 1] + (values[i] - values[i + 1]) * 0.5 * (1 + jnp.cos(math.pi * pct))
            value = jnp.where(count < bounds[i], segment, value)
        return value

    return schedule


def cosine_onecycle_schedule(transition_steps, peak_value, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    """One-cycle (Smith & Topin, 2018): cosine from ``peak/div_factor`` up to ``peak_value`` at
    ``int(pct_start * transition_steps)``, then down to ``peak / (div_factor * final_div_factor)``."""
    _numbers("cosine_onecycle_schedule", transition_steps=transition_steps, peak_value=peak_value,
             pct_start=pct_start, div_factor=div_factor, final_div_factor=final_div_factor)
    if transition_steps <= 0:
        raise ValueError(f"cosine_onecycle_schedule: transition_steps must be > 0, got {transition_steps}.")
    init_value = peak_value / div_factor
    return piecewise_interpolate_schedule("cosine", init_value, {
        int(pct_start * transition_steps): div_factor,
        int(transition_steps): 1.0 / (div_factor * final_div_factor)})


def linear_onecycle_schedule(transition_steps, peak_value, pct_start=0.3, pct_final=0.85, div_factor=25.0,
                             final_div_factor=1e4):
    """One-cycle with linear pieces: up to ``peak_value`` at ``pct_start``, back to ``peak/div_factor`` at
    ``pct_final``, then down to ``peak / (div_factor * final_div_factor)`` at ``transition_steps``."""
    _numbers("linear_onecycle_schedule", transition_steps=transition_steps, peak_value=peak_value,
             pct_start=pct_start, pct_final=pct_final, div_factor=div_factor, final_div_factor=final_div_factor)
    if transition_steps <= 0:
        raise ValueError(f"linear_onecycle_schedule: transition_steps must be > 0, got {transition_steps}.")
    return piecewise_interpolate_schedule("linear", peak_value / div_factor, {
        int(pct_start * transition_steps): div_factor,
        int(pct_final * transition_steps): 1.0 / div_factor,
        int(transition_steps): 1.0 / final_div_factor})


def sgdr_schedule(cosine_kwargs):
    """SGD with warm restarts (Loshchilov & Hutter, 2017): a sequence of warmup-cosine schedules, one per
    dict in ``cosine_kwargs`` (keys of :func:`warmup_cosine_decay_schedule`)."""
    schedules, boundaries, total = [], [], 0
    for kwargs in cosine_kwargs:
        schedules.append(warmup_cosine_decay_schedule(**kwargs))
        total += kwargs["decay_steps"]
        boundaries.append(total)
    return join_schedules(schedules, boundaries[:-1])

