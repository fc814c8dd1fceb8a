"""Gradient transformations: the building blocks the aliases chain together.

Each constructor returns a :class:`GradientTransformationExtraArgs` of pure
functions over pytrees; states are NamedTuples with Optax's field names so
they checkpoint the same way. Formulas and operation order follow
reference/optim.md §4; ``t`` is the step count after the increment (1 on the
first step) and ``mom(x, m, b) = (1 - b) * x + b * m``.
"""

from typing import Any, NamedTuple

import numpy as np

import numbax
import numbax.numpy as jnp

from numbax_optim._src import tree_utils as otu
from numbax_optim._src.base import (
    NO_PARAMS_MSG,
    EmptyState,
    GradientTransformationExtraArgs,
    ScaleByScheduleState,
    check_number,
    check_optional_number,
    check_same_structure,
    check_scalar_or_schedule,
    check_schedule,
    safe_increment,
    zero_count,
)


class TraceState(NamedTuple):
    trace: Any


class EmaState(NamedTuple):
    count: Any
    ema: Any


class ScaleByAdamState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class ScaleByAmsgradState(NamedTuple):
    count: Any
    mu: Any
    nu: Any
    nu_max: Any


class ScaleByRmsState(NamedTuple):
    nu: Any


class ScaleByRmsWithCountState(NamedTuple):
    count: Any
    nu: Any


class ScaleByRStdDevState(NamedTuple):
    mu: Any
    nu: Any


class ScaleByRStdDevWithCountState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class ScaleByRssState(NamedTuple):
    sum_of_squares: Any


class ScaleByLionState(NamedTuple):
    count: Any
    mu: Any


class ScaleByBeliefState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class ScaleByNovogradState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class ScaleByRAdamState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class WeightDecaySchedule(NamedTuple):
    count: Any


class AddNoiseState(NamedTuple):
    count: Any
    rng_key: Any


def _tx(init, update):
    return GradientTransformationExtraArgs(init, update)


def _require_params(params, where):
    if params is None:
        raise ValueError(NO_PARAMS_MSG.format(where=where))


def _map_with_params(fn, updates, params, where):
    _require_params(params, where)
    check_same_structure(params, updates, "params", "updates", where)
    return numbax.tree.map(fn, updates, params)


# --- scaling -----------------------------------------------------------------------------------------------

def scale(step_size):
    """Multiply updates by a constant: ``out = step_size * g``.

    For a step size that changes with the step count use :func:`scale_by_schedule`.
    """
    check_number(step_size, "step_size", "scale", "For a schedule use scale_by_schedule(fn).")

    def update(updates, state, params=None, **extra_args):
        return numbax.tree.map(lambda g: step_size * g, updates), state

    return _tx(lambda params: EmptyState(), update)


def scale_by_schedule(step_size_fn):
    """Multiply updates by a schedule: ``out = step_size_fn(count) * g`` with the count before
    the increment (the first step uses ``step_size_fn(0)``). State ``ScaleByScheduleState(count)``."""
    check_schedule(step_size_fn, "step_size_fn", "scale_by_schedule", "For a constant use scale(step_size).")

    def update(updates, state, params=None, **extra_args):
        step_size = step_size_fn(state.count)
        updates = numbax.tree.map(lambda g: jnp.asarray(step_size, g.dtype) * g, updates)
        return updates, ScaleByScheduleState(safe_increment(state.count))

    return _tx(lambda params: ScaleByScheduleState(zero_count()), update)


def scale_by_learning_rate(learning_rate, *, flip_sign=True):
    """``out = -learning_rate * g`` (``+`` with ``flip_sign=False``); a schedule is evaluated at the
    pre-increment count. The minus sign makes ``apply_updates`` a descent step."""
    check_scalar_or_schedule(learning_rate, "learning_rate", "scale_by_learning_rate")
    sign = -1 if flip_sign else 1
    if callable(learning_rate):
        return scale_by_schedule(lambda count: sign * learning_rate(count))
    return scale(sign * learning_rate)


# --- momentum and averages -----------------------------------------------------------------------------------

def trace(decay, nesterov=False, accumulator_dtype=None):
    """Heavy-ball momentum without dampening: ``t = g + decay * t``; ``out = t``, or
    ``g + decay * t`` with ``nesterov=True`` (Sutskever et al., 2013). State ``TraceState(trace)``."""
    check_number(decay, "decay", "trace")

    def init(params):
        return TraceState(otu.zeros_like(params, accumulator_dtype))

    def update(updates, state, params=None, **extra_args):
        new_trace = numbax.tree.map(lambda g, t: g + decay * t, updates, state.trace)
        if nesterov:
            updates = numbax.tree.map(lambda g, t: g + decay * t, updates, new_trace)
        else:
            updates = new_trace
        return updates, TraceState(otu.cast(new_trace, accumulator_dtype))

    return _tx(init, update)


def ema(decay, debias=True, accumulator_dtype=None):
    """Exponential moving average ``e = mom(g, e, decay)``; ``out = e / (1 - decay**t)`` when
    ``debias``. State ``EmaState(count, ema)``."""
    check_number(decay, "decay", "ema")

    def init(params):
        return EmaState(zero_count(), otu.zeros_like(params, accumulator_dtype))

    def update(updates, state, params=None, **extra_args):
        new_ema = otu.update_moment(updates, state.ema, decay, 1)
        count = safe_increment(state.count)
        updates = otu.bias_correction(new_ema, decay, count) if debias else new_ema
        return updates, EmaState(count, otu.cast(new_ema, accumulator_dtype))

    return _tx(init, update)


# --- adaptive scalings -----------------------------------------------------------------------------------------

def _check_betas(where, **values):
    for name, value in values.items():
        check_optional_number(value, name, where)


def _nesterov_or_plain_mu_hat(mu, updates, b1, count, nesterov):
    if nesterov:
        return numbax.tree.map(lambda m, g: b1 * m + (1 - b1) * g,
                               otu.bias_correction(mu, b1, safe_increment(count)),
                               otu.bias_correction(updates, b1, count))
    return otu.bias_correction(mu, b1, count)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None, *, nesterov=False):
    """Adam's scaling (Kingma & Ba, 2015, https://arxiv.org/abs/1412.6980).

    ``mu = mom(g, mu, b1)``, ``nu = mom(g**2, nu, b2)``, ``m̂ = mu / (1 - b1**t)``,
    ``v̂ = nu / (1 - b2**t)``, ``out = m̂ / (sqrt(v̂ + eps_root) + eps)``. With
    ``nesterov=True`` (NAdam, Dozat 2016) ``m̂ = b1 * mu / (1 - b1**(t+1)) + (1 - b1) * g / (1 - b1**t)``.
    The powers ``b**t`` are float32, as in Optax. State ``ScaleByAdamState(count, mu, nu)``.
    """
    _check_betas("scale_by_adam", b1=b1, b2=b2, eps=eps, eps_root=eps_root)

    def init(params):
        return ScaleByAdamState(zero_count(), otu.zeros_like(params, mu_dtype), otu.zeros_like(params))

    def update(updates, state, params=None, **extra_args):
        mu = otu.update_moment(updates, state.mu, b1, 1)
        nu = otu.update_moment_per_elem_norm(updates, state.nu, b2, 2)
        count = safe_increment(state.count)
        mu_hat = _nesterov_or_plain_mu_hat(mu, updates, b1, count, nesterov)
        nu_hat = otu.bias_correction(nu, b2, count)
        updates = numbax.tree.map(lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat)
        return updates, ScaleByAdamState(count, otu.cast(mu, mu_dtype), nu)

    return _tx(init, update)


def scale_by_amsgrad(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None):
    """AMSGrad (Reddi et al., 2018): Adam with ``nu_max = max(nu_max, v̂)`` in the denominator,
    ``out = m̂ / (sqrt(nu_max + eps_root) + eps)``. State ``ScaleByAmsgradState(count, mu, nu, nu_max)``."""
    _check_betas("scale_by_amsgrad", b1=b1, b2=b2, eps=eps, eps_root=eps_root)

    def init(params):
        return ScaleByAmsgradState(zero_count(), otu.zeros_like(params, mu_dtype), otu.zeros_like(params),
                                   otu.zeros_like(params))

    def update(updates, state, params=None, **extra_args):
        mu = otu.update_moment(updates, state.mu, b1, 1)
        nu = otu.update_moment_per_elem_norm(updates, state.nu, b2, 2)
        count = safe_increment(state.count)
        mu_hat = otu.bias_correction(mu, b1, count)
        nu_max = numbax.tree.map(jnp.maximum, state.nu_max, otu.bias_correction(nu, b2, count))
        updates = numbax.tree.map(lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_max)
        return updates, ScaleByAmsgradState(count, otu.cast(mu, mu_dtype), nu, nu_max)

    return _tx(init, update)


def scale_by_adamax(b1=0.9, b2=0.999, eps=1e-8):
    """AdaMax (Kingma & Ba, 2015, §7): ``nu = max(|g| + eps, b2 * nu)``, ``out = (mu / (1 - b1**t)) / nu``.
    State ``ScaleByAdamState(count, mu, nu)``."""
    _check_betas("scale_by_adamax", b1=b1, b2=b2, eps=eps)

    def init(params):
        return ScaleByAdamState(zero_count(), otu.zeros_like(params), otu.zeros_like(params))

    def update(updates, state, params=None, **extra_args):
        count = safe_increment(state.count)
        mu = otu.update_moment(updates, state.mu, b1, 1)
        nu = numbax.tree.map(lambda g, v: jnp.maximum(jnp.abs(g) + eps, b2 * v), updates, state.nu)
        updates = numbax.tree.map(lambda m, v: m / v, otu.bias_correction(mu, b1, count), nu)
        return updates, ScaleByAdamState(count, mu, nu)

    return _tx(init, update)


def scale_by_yogi(b1=0.9, b2=0.999, eps=1e-3, eps_root=0.0, initial_accumulator_value=1e-6):
    """Yogi (Zaheer et al., 2018): ``nu = nu - (1 - b2) * sign(nu - g**2) * g**2``; otherwise Adam.
    Both moments start at ``initial_accumulator_value``. State ``ScaleByAdamState(count, mu, nu)``."""
    _check_betas("scale_by_yogi", b1=b1, b2=b2, eps=eps, eps_root=eps_root,
                 initial_accumulator_value=initial_accumulator_value)

    def init(params):
        start = otu.full_like(params, initial_accumulator_value)
        return ScaleByAdamState(zero_count(), start, start)

    def update(updates, state, params=None, **extra_args):
        mu = otu.update_moment(updates, state.mu, b1, 1)
        nu = numbax.tree.map(lambda g, v: v - (1 - b2) * jnp.sign(v - jnp.square(g)) * jnp.square(g),
                             updates, state.nu)
        count = safe_increment(state.count)
        mu_hat = otu.bias_correction(mu, b1, count)
        nu_hat = otu.bias_correction(nu, b2, count)
        updates = numbax.tree.map(lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat)
        return updates, ScaleByAdamState(count, mu, nu)

    return _tx(init, update)


def scale_by_radam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, threshold=5.0, *, nesterov=False):
    """Rectified Adam (Liu et al., 2020, https://arxiv.org/abs/1908.03265).

    ``ro_inf = 2 / (1 - b2) - 1``, ``ro = ro_inf - 2 t b2**t / (1 - b2**t)``; when ``ro >= threshold``
    ``out = r * m̂ / (sqrt(v̂ + eps_root) + eps)`` with
    ``r = sqrt((ro - 4)(ro - 2) ro_inf / ((ro_inf - 4)(ro_inf - 2) ro))``, else ``out = m̂``.
    State ``ScaleByAdamState(count, mu, nu)``.
    """
    _check_betas("scale_by_radam", b1=b1, b2=b2, eps=eps, eps_root=eps_root, threshold=threshold)
    ro_inf = 2.0 / (1.0 - b2) - 1.0

    def init(params):
        return ScaleByAdamState(zero_count(), otu.zeros_like(params), otu.zeros_like(params))

    def update(updates, state, params=None, **extra_args):
        mu = otu.update_moment(updates, state.mu, b1, 1)
        nu = otu.update_moment_per_elem_norm(updates, state.nu, b2, 2)
        count = safe_increment(state.count)
        b2t = b2 ** count
        ro = ro_inf - 2 * count * b2t / (1 - b2t)
        mu_hat = _nesterov_or_plain_mu_hat(mu, updates, b1, count, nesterov)
        nu_hat = otu.bias_correction(nu, b2, count)
        rectified = ro >= threshold
        # The early-step branch is selected with where (no cond needed); its r may be NaN and is discarded.
        r = jnp.sqrt(jnp.where(rectified, (ro - 4.0) * (ro - 2.0) * ro_inf / ((ro_inf - 4.0) * (ro_inf - 2.0) * ro),
                               1.0))
        updates = numbax.tree.map(
            lambda m, v: jnp.where(rectified, r.astype(m.dtype) * m / (jnp.sqrt(v + eps_root) + eps), m),
            mu_hat, nu_hat)
        return updates, ScaleByAdamState(count, mu, nu)

    return _tx(init, update)


def scale_by_rms(decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True, bias_correction=False):
    """RMSProp's scaling (Hinton, 2012): ``nu = mom(g**2, nu, decay)``; ``out = g / sqrt(nu + eps)``,
    or ``g / (sqrt(nu) + eps)`` with ``eps_in_sqrt=False``; ``nu`` is bias-corrected first when
    ``bias_correction``. State ``ScaleByRmsState(nu)`` (``ScaleByRmsWithCountState(count, nu)``)."""
    _check_betas("scale_by_rms", decay=decay, eps=eps, initial_scale=initial_scale)

    def init(params):
        nu = otu.full_like(params, initial_scale)
        return ScaleByRmsWithCountState(zero_count(), nu) if bias_correction else ScaleByRmsState(nu)

    def update(updates, state, params=None, **extra_args):
        nu = otu.update_moment_per_elem_norm(updates, state.nu, decay, 2)
        if bias_correction:
            count = safe_increment(state.count)
            nu_hat = otu.bias_correction(nu, decay, count)
            new_state = ScaleByRmsWithCountState(count, nu)
        else:
            nu_hat, new_state = nu, ScaleByRmsState(nu)
        updates = numbax.tree.map(lambda g, v: g * _inverse_root(v, eps, eps_in_sqrt), updates, nu_hat)
        return updates, new_state

    return _tx(init, update)


def _inverse_root(v, eps, eps_in_sqrt):
    return numbax.lax.rsqrt(v + eps) if eps_in_sqrt else 1 / (jnp.sqrt(v) + eps)


def scale_by_stddev(decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True, bias_correction=False):
    """Centered RMSProp (Graves, 2013): ``mu = mom(g, mu, decay)``, ``nu = mom(g**2, nu, decay)``,
    ``out = g / sqrt(nu - mu**2 + eps)``. State ``ScaleByRStdDevState(mu, nu)``."""
    _check_betas("scale_by_stddev", decay=decay, eps=eps, initial_scale=initial_scale)

    def init(params):
        mu, nu = otu.zeros_like(params), otu.full_like(params, initial_scale)
        if bias_correction:
            return ScaleByRStdDevWithCountState(zero_count(), mu, nu)
        return ScaleByRStdDevState(mu, nu)

    def update(updates, state, params=None, **extra_args):
        mu = otu.update_moment(updates, state.mu, decay, 1)
        nu = otu.update_moment_per_elem_norm(updates, state.nu, decay, 2)
        if bias_correction:
            count = safe_increment(state.count)
            mu_hat, nu_hat = otu.bias_correction(mu, decay, count), otu.bias_correction(nu, decay, count)
            new_state = ScaleByRStdDevWithCountState(count, mu, nu)
        else:
            mu_hat, nu_hat, new_state = mu, nu, ScaleByRStdDevState(mu, nu)
        updates = numbax.tree.map(lambda g, m, v: g * _inverse_root(v - jnp.square(m), eps, eps_in_sqrt),
                                  updates, mu_hat, nu_hat)
        return updates, new_state

    return _tx(init, update)


def scale_by_rss(initial_accumulator_value=0.1, eps=1e-7):
    """AdaGrad's scaling (Duchi et al., 2011): ``s = s + g**2``; ``out = g / sqrt(s + eps)`` where
    ``s > 0``, else 0. State ``ScaleByRssState(sum_of_squares)``."""
    _check_betas("scale_by_rss", initial_accumulator_value=initial_accumulator_value, eps=eps)

    def init(params):
        return ScaleByRssState(otu.full_like(params, initial_accumulator_value))

    def update(updates, state, params=None, **extra_args):
        sum_of_squares = numbax.tree.map(lambda g, s: jnp.square(g) + s, updates, state.sum_of_squares)
        updates = numbax.tree.map(
            lambda g, s: jnp.where(s > 0, numbax.lax.rsqrt(s + eps), 0.0).astype(g.dtype) * g,
            updates, sum_of_squares)
        return updates, ScaleByRssState(sum_of_squares)

    return _tx(init, update)


def scale_by_lion(b1=0.9, b2=0.99, mu_dtype=None):
    """Lion (Chen et al., 2023, https://arxiv.org/abs/2302.06675): ``out = sign((1 - b1) g + b1 mu)``,
    then ``mu = mom(g, mu, b2)``. State ``ScaleByLionState(count, mu)``."""
    _check_betas("scale_by_lion", b1=b1, b2=b2)

    def init(params):
        return ScaleByLionState(zero_count(), otu.zeros_like(params, mu_dtype))

    def update(updates, state, params=None, **extra_args):
        directions = numbax.tree.map(lambda g, m: jnp.sign((1.0 - b1) * g + b1 * m), updates, state.mu)
        mu = otu.update_moment(updates, state.mu, b2, 1)
        return directions, ScaleByLionState(safe_increment(state.count), otu.cast(mu, mu_dtype))

    return _tx(init, update)


def scale_by_belief(b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16, *, nesterov=False):
    """AdaBelief (Zhuang et al., 2020, https://arxiv.org/abs/2010.07468): ``mu = mom(g, mu, b1)``,
    ``nu = mom((g - mu)**2, nu, b2) + eps_root`` with the new ``mu``, ``out = m̂ / (sqrt(v̂) + eps)``.
    State ``ScaleByBeliefState(count, mu, nu)``."""
    _check_betas("scale_by_belief", b1=b1, b2=b2, eps=eps, eps_root=eps_root)

    def init(params):
        return ScaleByBeliefState(zero_count(), otu.zeros_like(params), otu.zeros_like(params))

    def update(updates, state, params=None, **extra_args):
        mu = otu.update_moment(updates, state.mu, b1, 1)
        nu = otu.update_moment_per_elem_norm(otu.sub(updates, mu), state.nu, b2, 2)
        nu = numbax.tree.map(lambda v: v + eps_root, nu)
        count = safe_increment(state.count)
        mu_hat = _nesterov_or_plain_mu_hat(mu, updates, b1, count, nesterov)
        nu_hat = otu.bias_correction(nu, b2, count)
        updates = numbax.tree.map(lambda m, v: m / (jnp.sqrt(v) + eps), mu_hat, nu_hat)
        return updates, ScaleByBeliefState(count, mu, nu)

    return _tx(init, update)


def scale_by_novograd(b1=0.9, b2=0.25, eps=1e-8, eps_root=0.0, weight_decay=0.0, mu_dtype=None):
    """NovoGrad (Ginsburg et al., 2019, https://arxiv.org/abs/1905.11286), per-leaf second moment.

    Step 1: ``nu = ‖g‖²``, ``mu = g / (sqrt(nu + eps_root) + eps) + wd * p``; later
    ``nu = mom(‖g‖², nu, b2)``, ``mu = b1 * mu + g / (sqrt(nu + eps_root) + eps) + wd * p``; ``out = mu``.
    State ``ScaleByNovogradState(count, mu, nu)`` with one scalar ``nu`` per leaf.
    """
    _check_betas("scale_by_novograd", b1=b1, b2=b2, eps=eps, eps_root=eps_root, weight_decay=weight_decay)

    def init(params):
        nu = numbax.tree.map(lambda p: jnp.zeros([], jnp.asarray(p).dtype), params)
        return ScaleByNovogradState(zero_count(), otu.zeros_like(params, mu_dtype), nu)

    def update(updates, state, params=None, **extra_args):
        _require_params(params, "scale_by_novograd")
        check_same_structure(params, updates, "params", "updates", "scale_by_novograd")
        count = safe_increment(state.count)
        first = count == 1
        squared_norms = numbax.tree.map(lambda g: jnp.sum(jnp.square(g)), updates)
        nu = numbax.tree.map(lambda n, v: jnp.where(first, n, (1 - b2) * n + b2 * v), squared_norms, state.nu)
        mu = numbax.tree.map(
            lambda g, p, v, m: jnp.where(first, 0.0, b1 * m) + g / (jnp.sqrt(v + eps_root) + eps) + weight_decay * p,
            updates, params, nu, state.mu)
        mu = otu.cast(mu, mu_dtype)
        return mu, ScaleByNovogradState(count, mu, nu)

    return _tx(init, update)


def _safe_norm(x, min_norm):
    """``max(‖x‖, min_norm)`` whose gradient is finite at ``x = 0`` (the norm's is not)."""
    norm = jnp.sqrt(jnp.sum(jnp.square(x)))
    safe_x = jnp.where(norm <= min_norm, jnp.ones_like(x), x)
    return jnp.where(norm <= min_norm, jnp.asarray(min_norm, norm.dtype), jnp.sqrt(jnp.sum(jnp.square(safe_x))))


def _safe_rms(x, min_rms):
    rms = jnp.sqrt(jnp.mean(jnp.square(x)))
    safe_x = jnp.where(rms <= min_rms, jnp.ones_like(x), x)
    return jnp.where(rms <= min_rms, jnp.asarray(min_rms, rms.dtype), jnp.sqrt(jnp.mean(jnp.square(safe_x))))


def scale_by_trust_ratio(min_norm=0.0, trust_coefficient=1.0, eps=0.0):
    """LARS/LAMB trust ratio (You et al., 2017/2019): ``out = g * tc * ‖p‖ / (‖g‖ + eps)`` per leaf,
    the ratio being 1 when either norm is 0 (norms floored at ``min_norm``). Needs params."""
    _check_betas("scale_by_trust_ratio", min_norm=min_norm, trust_coefficient=trust_coefficient, eps=eps)

    def scale_leaf(g, p):
        param_norm, update_norm = _safe_norm(p, min_norm), _safe_norm(g, min_norm)
        ratio = trust_coefficient * param_norm / (update_norm + eps)
        ratio = jnp.where((param_norm == 0.0) | (update_norm == 0.0), jnp.asarray(1.0, ratio.dtype), ratio)
        return g * ratio.astype(g.dtype)

    def update(updates, state, params=None, **extra_args):
        return _map_with_params(scale_leaf, updates, params, "scale_by_trust_ratio"), state

    return _tx(lambda params: EmptyState(), update)


def scale_by_param_block_rms(min_scale=1e-3):
    """``out = g * max(rms(p), min_scale)`` per leaf (Adafactor's relative step size). Needs params."""
    check_number(min_scale, "min_scale", "scale_by_param_block_rms")

    def update(updates, state, params=None, **extra_args):
        updates = _map_with_params(lambda g, p: g * _safe_rms(p, min_scale).astype(g.dtype), updates, params,
                                   "scale_by_param_block_rms")
        return updates, state

    return _tx(lambda params: EmptyState(), update)


def scale_by_sign():
    """``out = sign(g)`` (signSGD, Bernstein et al., 2018)."""
    def update(updates, state, params=None, **extra_args):
        return numbax.tree.map(jnp.sign, updates), state

    return _tx(lambda params: EmptyState(), update)


# --- factored second moments (Adafactor) ---------------------------------------------------------------------

class FactoredState(NamedTuple):
    count: Any
    v_row: Any
    v_col: Any
    v: Any


def _factored_dims(shape, factored, min_dim_size_to_factor):
    """The (second-largest, largest) axes to factor over, or None to keep a full second moment."""
    if not factored or len(shape) < 2:
        return None
    order = np.argsort(shape, kind="stable")
    if shape[order[-2]] < min_dim_size_to_factor:
        return None
    return int(order[-2]), int(order[-1])


def scale_by_factored_rms(factored=True, decay_rate=0.8, step_offset=0, min_dim_size_to_factor=128,
                          epsilon=1e-30):
    """Adafactor's second moments (Shazeer & Stern, 2018, https://arxiv.org/abs/1804.04235).

    ``beta_t = 1 - (count - step_offset + 1) ** -decay_rate`` (pre-increment count); ``g2 = g**2 + epsilon``.
    A leaf whose second-largest axis is ``>= min_dim_size_to_factor`` keeps row/column means
    ``v_row = beta_t v_row + (1 - beta_t) mean(g2, d_largest)`` (and ``v_col`` over the other axis) and
    ``out = g * (v_row / mean(v_row))**-0.5 * v_col**-0.5``; other leaves keep a full ``v`` and
    ``out = g * v**-0.5``. Unused slots hold ``zeros((1,))``. State ``FactoredState(count, v_row, v_col, v)``.
    """
    _check_betas("scale_by_factored_rms", decay_rate=decay_rate, epsilon=epsilon)
    placeholder = lambda: jnp.zeros((1,), jnp.float32)  # noqa: E731

    def init_leaf(p):
        shape, dtype = jnp.shape(p), jnp.asarray(p).dtype
        dims = _factored_dims(shape, factored, min_dim_size_to_factor)
        if dims is None:
            return placeholder(), placeholder(), jnp.zeros(shape, dtype)
        d1, d0 = dims
        return (jnp.zeros(np.delete(shape, d0).tolist(), dtype), jnp.zeros(np.delete(shape, d1).tolist(), dtype),
                placeholder())

    def split(tree_of_triples, params):
        outer = numbax.tree.structure(params)
        return [outer.unflatten(list(column)) for column in zip(*outer.flatten_up_to(tree_of_triples))]

    def init(params):
        v_row, v_col, v = split(numbax.tree.map(init_leaf, params), params)
        return FactoredState(zero_count(), v_row, v_col, v)

    def update(updates, state, params=None, **extra_args):
        _require_params(params, "scale_by_factored_rms")
        check_same_structure(params, updates, "params", "updates", "scale_by_factored_rms")
        t = jnp.asarray(state.count - step_offset + 1, jnp.float32)
        beta = 1.0 - t ** (-decay_rate)

        def update_leaf(g, v_row, v_col, v, p):
            dtype = jnp.asarray(p).dtype
            g2 = jnp.square(g) + epsilon
            dims = _factored_dims(jnp.shape(p), factored, min_dim_size_to_factor)
            if dims is None:
                new_v = (beta * v + (1.0 - beta) * g2).astype(dtype)
                return g * new_v ** -0.5, v_row, v_col, new_v
            d1, d0 = dims
            new_row = (beta * v_row + (1.0 - beta) * jnp.mean(g2, axis=d0)).astype(dtype)
            new_col = (beta * v_col + (1.0 - beta) * jnp.mean(g2, axis=d1)).astype(dtype)
            reduced_d1 = d1 - 1 if d1 > d0 else d1
            row_factor = (new_row / jnp.mean(new_row, axis=reduced_d1, keepdims=True)) ** -0.5
            col_factor = new_col ** -0.5
            out = g * jnp.expand_dims(row_factor, d0) * jnp.expand_dims(col_factor, d1)
            return out, new_row, new_col, v

        outer = numbax.tree.structure(params)
        columns = [outer.flatten_up_to(x) for x in (updates, state.v_row, state.v_col, state.v, params)]
        results = [update_leaf(*leaves) for leaves in zip(*columns)]
        out, v_row, v_col, v = (outer.unflatten(list(column)) for column in zip(*results))
        return out, FactoredState(safe_increment(state.count), v_row, v_col, v)

    return _tx(init, update)


# --- weight decay, noise, misc -----------------------------------------------------------------------------------

def add_decayed_weights(weight_decay=0.0, mask=None):
    """Decoupled weight decay (Loshchilov & Hutter, 2019): ``out = g + weight_decay * p``.

    ``weight_decay`` may be a schedule (state ``WeightDecaySchedule(count)``); a literal 0.0 skips the
    update. ``mask`` (a pytree of bools or a callable ``params -> mask``) wraps it in :func:`masked`.
    """
    check_scalar_or_schedule(weight_decay, "weight_decay", "add_decayed_weights")

    def init(params):
        return WeightDecaySchedule(zero_count()) if callable(weight_decay) else EmptyState()

    def update(updates, state, params=None, **extra_args):
        _require_params(params, "add_decayed_weights")
        if callable(weight_decay):
            decay, state = weight_decay(state.count), WeightDecaySchedule(safe_increment(state.count))
        else:
            decay = weight_decay
        if isinstance(decay, (int, float)) and decay == 0.0:
            return updates, state
        return _map_with_params(lambda g, p: g + decay * p, updates, params, "add_decayed_weights"), state

    tx = _tx(init, update)
    if mask is not None:
        from numbax_optim._src.wrappers import masked
        return masked(tx, mask)
    return tx


def add_noise(eta, gamma, key):
    """Annealed gradient noise (Neelakantan et al., 2015): ``out = g + N(0, eta / t**gamma)``.

    ``key`` is a ``numbax_random`` key (or an int seed); it is split once per step. Needs the optional
    package ``numbax-random``. State ``AddNoiseState(count, rng_key)``.
    """
    check_number(eta, "eta", "add_noise")
    check_number(gamma, "gamma", "add_noise")
    random = _numbax_random("add_noise")

    def init(params):
        rng_key = random.PRNGKey(key) if isinstance(key, (int, np.integer)) else key
        return AddNoiseState(zero_count(), rng_key)

    def update(updates, state, params=None, **extra_args):
        count = safe_increment(state.count)
        std = jnp.sqrt(eta / count.astype(jnp.float32) ** gamma)
        leaves, treedef = numbax.tree.flatten(updates)
        keys = random.split(state.rng_key, len(leaves) + 1)
        noisy = [g + std.astype(g.dtype) * random.normal(keys[i + 1], jnp.shape(g), g.dtype)
                 for i, g in enumerate(leaves)]
        return treedef.unflatten(noisy), AddNoiseState(count, keys[0])

    return _tx(init, update)


def _numbax_random(where):
    try:
        import numbax_random
    except ImportError as error:
        raise ImportError(f"{where} draws normal samples with numbax_random, which is not installed; "
                          "run `pip install numbax-random` (packages/random in the numbax repository).") from error
    missing = [name for name in ("PRNGKey", "split", "normal") if not hasattr(numbax_random, name)]
    if missing:
        raise NotImplementedError(f"{where} needs numbax_random.{', numbax_random.'.join(missing)}, which this "
                                  "numbax_random release does not provide yet (issue 7); upgrade numbax-random.")
    return numbax_random


def zero_nans():
    """Replace NaN entries of the updates by 0. State ``ZeroNansState(found_nan)``: per leaf, whether a NaN
    was seen at this step."""
    def init(params):
        return ZeroNansState(numbax.tree.map(lambda p: jnp.asarray(False), params))

    def update(updates, state, params=None, **extra_args):
        found = numbax.tree.map(lambda g: jnp.any(jnp.isnan(g)), updates)
        updates = numbax.tree.map(lambda g: jnp.where(jnp.isnan(g), jnp.zeros_like(g), g), updates)
        return updates, ZeroNansState(found)

    return _tx(init, update)


class ZeroNansState(NamedTuple):
    found_nan: Any


def centralize():
    """Gradient centralization (Yong et al., 2020, https://arxiv.org/abs/2004.01461): a leaf with
    ndim > 1 loses its mean over every axis but the first."""
    def centered(g):
        if jnp.ndim(g) <= 1:
            return g
        return g - jnp.mean(g, axis=tuple(range(1, jnp.ndim(g))), keepdims=True)

    def update(updates, state, params=None, **extra_args):
        return numbax.tree.map(centered, updates), state

    return _tx(lambda params: EmptyState(), update)


def keep_params_nonnegative():
    """Clamp updates so that ``p + u >= 0`` (``u = max(u, -p)``) for parameters that must stay nonnegative."""
    def update(updates, state, params=None, **extra_args):
        return _map_with_params(lambda g, p: jnp.where(p + g < 0.0, -p, g), updates, params,
                                "keep_params_nonnegative"), state

    return _tx(lambda params: EmptyState(), update)

