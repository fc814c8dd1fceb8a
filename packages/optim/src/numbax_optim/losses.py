"""``numbax_optim.losses`` (≈ ``optax.losses``); also re-exported at the top level."""

from numbax_optim._src.losses import (  # noqa: F401
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
