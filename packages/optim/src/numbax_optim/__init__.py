"""numbax_optim: ``optax`` for numbax.

Optimizers are ``GradientTransformation(init, update)`` pairs of pure functions
over pytrees, composed with ``chain``; schedules are functions ``count -> value``;
losses return per-example values. Formulas, defaults and state layouts follow
Optax 0.2.8 (see the package README for the differences).

Example:
  >>> import numbax.numpy as jnp
  >>> import numbax_optim as optim
  >>> params = {"w": jnp.array([1.0, -2.0])}
  >>> tx = optim.adam(0.1)
  >>> state = tx.init(params)
  >>> updates, state = tx.update({"w": jnp.array([0.5, 0.0])}, state, params)
  >>> updates["w"]
  Array([-0.09999934, -0.        ], dtype=float32)
"""

import numbax as numbax

__version__ = "0.1.0"

from numbax_optim import losses as losses  # noqa: E402
from numbax_optim import schedules as schedules  # noqa: E402
from numbax_optim import tree as tree  # noqa: E402
from numbax_optim._src.base import (  # noqa: E402
    EmptyState as EmptyState,
    GradientTransformation as GradientTransformation,
    GradientTransformationExtraArgs as GradientTransformationExtraArgs,
    ScaleByScheduleState as ScaleByScheduleState,
    apply_updates as apply_updates,
    chain as chain,
    identity as identity,
    named_chain as named_chain,
    safe_increment as safe_increment,
    set_to_zero as set_to_zero,
    stateless as stateless,
    stateless_with_tree_map as stateless_with_tree_map,
    with_extra_args_support as with_extra_args_support,
)
from numbax_optim._src.transform import (  # noqa: E402
    AddNoiseState as AddNoiseState,
    EmaState as EmaState,
    FactoredState as FactoredState,
    ScaleByAdamState as ScaleByAdamState,
    ScaleByAmsgradState as ScaleByAmsgradState,
    ScaleByBeliefState as ScaleByBeliefState,
    ScaleByLionState as ScaleByLionState,
    ScaleByNovogradState as ScaleByNovogradState,
    ScaleByRAdamState as ScaleByRAdamState,
    ScaleByRStdDevState as ScaleByRStdDevState,
    ScaleByRStdDevWithCountState as ScaleByRStdDevWithCountState,
    ScaleByRmsState as ScaleByRmsState,
    ScaleByRmsWithCountState as ScaleByRmsWithCountState,
    ScaleByRssState as ScaleByRssState,
    TraceState as TraceState,
    WeightDecaySchedule as WeightDecaySchedule,
    ZeroNansState as ZeroNansState,
    add_decayed_weights as add_decayed_weights,
    add_noise as add_noise,
    centralize as centralize,
    ema as ema,
    keep_params_nonnegative as keep_params_nonnegative,
    scale as scale,
    scale_by_adam as scale_by_adam,
    scale_by_adamax as scale_by_adamax,
    scale_by_amsgrad as scale_by_amsgrad,
    scale_by_belief as scale_by_belief,
    scale_by_factored_rms as scale_by_factored_rms,
    scale_by_learning_rate as scale_by_learning_rate,
    scale_by_lion as scale_by_lion,
    scale_by_novograd as scale_by_novograd,
    scale_by_param_block_rms as scale_by_param_block_rms,
    scale_by_radam as scale_by_radam,
    scale_by_rms as scale_by_rms,
    scale_by_rss as scale_by_rss,
    scale_by_schedule as scale_by_schedule,
    scale_by_sign as scale_by_sign,
    scale_by_stddev as scale_by_stddev,
    scale_by_trust_ratio as scale_by_trust_ratio,
    scale_by_yogi as scale_by_yogi,
    trace as trace,
    zero_nans as zero_nans,
)
from numbax_optim._src.clipping import (  # noqa: E402
    clip as clip,
    clip_by_block_rms as clip_by_block_rms,
    clip_by_global_norm as clip_by_global_norm,
)
from numbax_optim._src.wrappers import (  # noqa: E402
    ApplyIfFiniteState as ApplyIfFiniteState,
    InjectHyperparamsState as InjectHyperparamsState,
    InjectStatefulHyperparamsState as InjectStatefulHyperparamsState,
    MaskedNode as MaskedNode,
    MaskedState as MaskedState,
    MultiSteps as MultiSteps,
    MultiStepsState as MultiStepsState,
    PartitionState as PartitionState,
    apply_if_finite as apply_if_finite,
    inject_hyperparams as inject_hyperparams,
    masked as masked,
    multi_transform as multi_transform,
    partition as partition,
    skip_large_updates as skip_large_updates,
    skip_not_finite as skip_not_finite,
)
from numbax_optim._src.alias import (  # noqa: E402
    adabelief as adabelief,
    adafactor as adafactor,
    adagrad as adagrad,
    adam as adam,
    adamax as adamax,
    adamaxw as adamaxw,
    adamw as adamw,
    amsgrad as amsgrad,
    lamb as lamb,
    lars as lars,
    lion as lion,
    nadam as nadam,
    nadamw as nadamw,
    noisy_sgd as noisy_sgd,
    novograd as novograd,
    radam as radam,
    rmsprop as rmsprop,
    sgd as sgd,
    sign_sgd as sign_sgd,
    sm3 as sm3,
    yogi as yogi,
)
from numbax_optim._src.schedules import (  # noqa: E402
    constant_schedule as constant_schedule,
    cosine_decay_schedule as cosine_decay_schedule,
    cosine_onecycle_schedule as cosine_onecycle_schedule,
    exponential_decay as exponential_decay,
    join_schedules as join_schedules,
    linear_onecycle_schedule as linear_onecycle_schedule,
    linear_schedule as linear_schedule,
    piecewise_constant_schedule as piecewise_constant_schedule,
    piecewise_interpolate_schedule as piecewise_interpolate_schedule,
    polynomial_schedule as polynomial_schedule,
    sgdr_schedule as sgdr_schedule,
    warmup_constant_schedule as warmup_constant_schedule,
    warmup_cosine_decay_schedule as warmup_cosine_decay_schedule,
    warmup_exponential_decay_schedule as warmup_exponential_decay_schedule,
    warmup_linear_decay_schedule as warmup_linear_decay_schedule,
)
from numbax_optim._src.losses import (  # noqa: E402
    cosine_distance as cosine_distance,
    cosine_similarity as cosine_similarity,
    hinge_loss as hinge_loss,
    huber_loss as huber_loss,
    kl_divergence as kl_divergence,
    l2_loss as l2_loss,
    log_cosh as log_cosh,
    sigmoid_binary_cross_entropy as sigmoid_binary_cross_entropy,
    sigmoid_focal_loss as sigmoid_focal_loss,
    smooth_labels as smooth_labels,
    softmax_cross_entropy as softmax_cross_entropy,
    softmax_cross_entropy_with_integer_labels as softmax_cross_entropy_with_integer_labels,
    squared_error as squared_error,
)
from numbax_optim._src.deprecated import (  # noqa: E402
    global_norm as global_norm,
)
