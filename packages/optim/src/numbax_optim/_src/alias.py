"""Optimizer aliases: each is a ``chain`` of transformations (reference/optim.md §3).

Every learning rate accepts a float or a schedule ``count -> value``.
"""

import numbax.numpy as jnp

from numbax_optim._src import transform
from numbax_optim._src.base import chain, identity
from numbax_optim._src.clipping import clip_by_block_rms
from numbax_optim._src.wrappers import masked

_lr = transform.scale_by_learning_rate


def sgd(learning_rate, momentum=None, nesterov=False, accumulator_dtype=None):
    """Stochastic gradient descent, optionally with heavy-ball or Nesterov momentum.

    ``t = g + momentum * t``; ``p = p - lr * t`` (Nesterov: ``p = p - lr * (g + momentum * t)``)
    (Sutskever et al., 2013, http://proceedings.mlr.press/v28/sutskever13.html).
    State ``(TraceState(trace) or EmptyState(), EmptyState())``.
    """
    if momentum is None:
        if nesterov:
            raise ValueError("sgd: nesterov=True needs a momentum, got momentum=None; pass e.g. momentum=0.9.")
        first = identity()
    else:
        first = transform.trace(decay=momentum, nesterov=nesterov, accumulator_dtype=accumulator_dtype)
    return chain(first, _lr(learning_rate))


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None, *, nesterov=False):
    """Adam (Kingma & Ba, 2015, https://arxiv.org/abs/1412.6980).

    ``mu = (1 - b1) g + b1 mu``, ``nu = (1 - b2) g**2 + b2 nu``,
    ``p = p - lr * (mu / (1 - b1**t)) / (sqrt(nu / (1 - b2**t) + eps_root) + eps)``.
    State ``(ScaleByAdamState(count, mu, nu), EmptyState())``.
    """
    return chain(transform.scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov), _lr(learning_rate))


def nadam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None):
    """NAdam (Dozat, 2016): :func:`adam` with Nesterov momentum."""
    return adam(learning_rate, b1, b2, eps, eps_root, mu_dtype, nesterov=True)


def adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None, weight_decay=1e-4, mask=None,
          *, nesterov=False):
    """AdamW (Loshchilov & Hutter, 2019, https://arxiv.org/abs/1711.05101): Adam's direction plus decoupled
    weight decay, ``p = p - lr * (adam_direction + weight_decay * p)``; ``mask`` limits the decay.
    State ``(ScaleByAdamState, EmptyState() or MaskedState(EmptyState()), EmptyState())``.
    """
    return chain(transform.scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
                 transform.add_decayed_weights(weight_decay, mask), _lr(learning_rate))


def nadamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None, weight_decay=1e-4, mask=None):
    """:func:`adamw` with Nesterov momentum."""
    return adamw(learning_rate, b1, b2, eps, eps_root, mu_dtype, weight_decay, mask, nesterov=True)


def amsgrad(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None):
    """AMSGrad (Reddi et al., 2018, https://openreview.net/forum?id=ryQu7f-RZ): Adam with the running maximum
    of the bias-corrected second moment in the denominator."""
    return chain(transform.scale_by_amsgrad(b1, b2, eps, eps_root, mu_dtype), _lr(learning_rate))


def adamax(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """AdaMax (Kingma & Ba, 2015, §7): ``nu = max(|g| + eps, b2 nu)``, ``p = p - lr * (mu / (1 - b1**t)) / nu``."""
    return chain(transform.scale_by_adamax(b1, b2, eps), _lr(learning_rate))


def adamaxw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4, mask=None):
    """AdaMax with decoupled weight decay."""
    return chain(transform.scale_by_adamax(b1, b2, eps), transform.add_decayed_weights(weight_decay, mask),
                 _lr(learning_rate))


def rmsprop(learning_rate, decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True, centered=False,
            momentum=None, nesterov=False, bias_correction=False):
    """RMSProp (Hinton, 2012; centered: Graves, 2013, https://arxiv.org/abs/1308.0850).

    ``nu = (1 - decay) g**2 + decay nu``; ``p = p - lr * g / sqrt(nu + eps)`` (centered: ``nu - mu**2``
    under the root); with ``momentum`` the scaled step goes through :func:`trace` after the learning rate.
    State ``(ScaleByRmsState(nu), EmptyState(), EmptyState() or TraceState)``.
    """
    scaling = transform.scale_by_stddev if centered else transform.scale_by_rms
    return chain(scaling(decay, eps, initial_scale, eps_in_sqrt, bias_correction), _lr(learning_rate),
                 identity() if momentum is None else transform.trace(momentum, nesterov))


def adagrad(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """AdaGrad (Duchi et al., 2011, https://jmlr.org/papers/v12/duchi11a.html): ``s = s + g**2``,
    ``p = p - lr * g / sqrt(s + eps)``. State ``(ScaleByRssState(sum_of_squares), EmptyState())``."""
    return chain(transform.scale_by_rss(initial_accumulator_value, eps), _lr(learning_rate))


def adabelief(learning_rate, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16, *, nesterov=False):
    """AdaBelief (Zhuang et al., 2020, https://arxiv.org/abs/2010.07468): Adam whose second moment tracks
    ``(g - mu)**2``, the belief in the gradient. State ``(ScaleByBeliefState(count, mu, nu), EmptyState())``."""
    return chain(transform.scale_by_belief(b1, b2, eps, eps_root, nesterov=nesterov), _lr(learning_rate))


def lion(learning_rate, b1=0.9, b2=0.99, mu_dtype=None, weight_decay=1e-3, mask=None):
    """Lion (Chen et al., 2023, https://arxiv.org/abs/2302.06675): ``p = p - lr * (sign((1 - b1) g + b1 mu)
    + wd p)``, then ``mu = (1 - b2) g + b2 mu``. State ``(ScaleByLionState(count, mu), EmptyState(), EmptyState())``."""
    return chain(transform.scale_by_lion(b1, b2, mu_dtype), transform.add_decayed_weights(weight_decay, mask),
                 _lr(learning_rate))


def lamb(learning_rate, b1=0.9, b2=0.999, eps=1e-6, eps_root=0.0, weight_decay=0.0, mask=None):
    """LAMB (You et al., 2020, https://arxiv.org/abs/1904.00962): Adam's direction plus weight decay, rescaled
    per leaf by the trust ratio ``‖p‖ / ‖direction‖``."""
    return chain(transform.scale_by_adam(b1, b2, eps, eps_root), transform.add_decayed_weights(weight_decay, mask),
                 transform.scale_by_trust_ratio(), _lr(learning_rate))


def lars(learning_rate, weight_decay=0.0, weight_decay_mask=True, trust_coefficient=0.001, eps=0.0,
         trust_ratio_mask=True, momentum=0.9, nesterov=False):
    """LARS (You et al., 2017, https://arxiv.org/abs/1708.03888): ``u = g + wd p`` rescaled per leaf by
    ``trust_coefficient * ‖p‖ / (‖u‖ + eps)``, times ``-lr``, then momentum (the learning rate comes
    before the momentum trace)."""
    return chain(transform.add_decayed_weights(weight_decay, mask=weight_decay_mask),
                 masked(transform.scale_by_trust_ratio(trust_coefficient=trust_coefficient, eps=eps),
                        trust_ratio_mask),
                 _lr(learning_rate), transform.trace(decay=momentum, nesterov=nesterov))


def novograd(learning_rate, b1=0.9, b2=0.25, eps=1e-6, eps_root=0.0, weight_decay=0.0):
    """NovoGrad (Ginsburg et al., 2019, https://arxiv.org/abs/1905.11286): layer-wise second moments of
    ``‖g‖²``; see :func:`scale_by_novograd`."""
    return chain(transform.scale_by_novograd(b1, b2, eps, eps_root, weight_decay), _lr(learning_rate))


def radam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, threshold=5.0, *, nesterov=False):
    """RAdam (Liu et al., 2020, https://arxiv.org/abs/1908.03265): Adam with a variance rectification term that
    falls back to momentum SGD for the first steps; see :func:`scale_by_radam`."""
    return chain(transform.scale_by_radam(b1, b2, eps, eps_root, threshold, nesterov=nesterov), _lr(learning_rate))


def yogi(learning_rate, b1=0.9, b2=0.999, eps=1e-3):
    """Yogi (Zaheer et al., 2018): Adam with an additive second-moment update; see :func:`scale_by_yogi`."""
    return chain(transform.scale_by_yogi(b1=b1, b2=b2, eps=eps), _lr(learning_rate))


def sign_sgd(learning_rate):
    """signSGD (Bernstein et al., 2018, https://arxiv.org/abs/1802.04434): ``p = p - lr * sign(g)``."""
    return chain(transform.scale_by_sign(), _lr(learning_rate))


def noisy_sgd(learning_rate, eta=0.01, gamma=0.55, key=None, seed=None):
    """SGD with annealed Gaussian gradient noise (Neelakantan et al., 2015); needs numbax-random."""
    if key is None:
        key = 0 if seed is None else seed
    return chain(transform.add_noise(eta, gamma, key), _lr(learning_rate))


def adafactor(learning_rate=None, min_dim_size_to_factor=128, decay_rate=0.8, decay_offset=0,
              multiply_by_parameter_scale=True, clipping_threshold=1.0, momentum=None, dtype_momentum=jnp.float32,
              weight_decay_rate=None, eps=1e-30, factored=True, weight_decay_mask=None):
    """Adafactor (Shazeer & Stern, 2018, https://arxiv.org/abs/1804.04235): factored second moments, update
    clipping by block RMS, step size relative to the parameter scale.

    Chain: scale_by_factored_rms → clip_by_block_rms(clipping_threshold) → [lr, sign kept] →
    [scale_by_param_block_rms] → [ema(momentum)] → [add_decayed_weights] → scale(-1).
    ``learning_rate=None`` applies no learning-rate factor.
    """
    steps = [transform.scale_by_factored_rms(factored, decay_rate, decay_offset, min_dim_size_to_factor, eps)]
    if clipping_threshold is not None:
        steps.append(clip_by_block_rms(clipping_threshold))
    if learning_rate is not None:
        steps.append(_lr(learning_rate, flip_sign=False))
    if multiply_by_parameter_scale:
        steps.append(transform.scale_by_param_block_rms())
    if momentum is not None:
        steps.append(transform.ema(momentum, debias=False, accumulator_dtype=dtype_momentum))
    if weight_decay_rate is not None:
        steps.append(transform.add_decayed_weights(weight_decay_rate, mask=weight_decay_mask))
    steps.append(transform.scale(-1))
    return chain(*steps)


def sm3(learning_rate, momentum=0.9):
    """Not implemented: SM3 (Anil et al., 2019)."""
    raise NotImplementedError("numbax_optim.sm3 is not implemented yet; adafactor is the memory-saving optimizer "
                              "available (factored second moments).")
