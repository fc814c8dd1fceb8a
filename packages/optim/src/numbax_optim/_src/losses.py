"""Losses (``optax.losses``): per-example values, no reduction; callers usually take ``.mean()``."""

import numbax
import numbax.numpy as jnp


def _check_shapes(where, first_name, first, second_name, second):
    if jnp.shape(first) != jnp.shape(second):
        raise ValueError(f"{where}: {first_name} and {second_name} must have the same shape, got "
                         f"{jnp.shape(first)} and {jnp.shape(second)}.")


def _difference(where, predictions, targets):
    predictions = jnp.asarray(predictions)
    if targets is None:
        return predictions
    _check_shapes(where, "predictions", predictions, "targets", targets)
    return predictions - targets


def squared_error(predictions, targets=None):
    """``(predictions - targets)**2`` elementwise (``targets=None`` means zeros)."""
    return jnp.square(_difference("squared_error", predictions, targets))


def l2_loss(predictions, targets=None):
    """``0.5 * (predictions - targets)**2`` elementwise (note the 0.5, as in Optax)."""
    return 0.5 * squared_error(predictions, targets)


def huber_loss(predictions, targets=None, delta=1.0):
    """Huber (1964): with ``e = |p - t|`` and ``q = min(e, delta)``, ``0.5 * q**2 + delta * (e - q)``."""
    error = jnp.abs(_difference("huber_loss", predictions, targets))
    quadratic = jnp.minimum(error, delta)
    return 0.5 * jnp.square(quadratic) + delta * (error - quadratic)


def log_cosh(predictions, targets=None):
    """``log(cosh(p - t))`` computed as ``logaddexp(e, -e) - log 2`` so large errors do not overflow."""
    error = _difference("log_cosh", predictions, targets)
    return jnp.logaddexp(error, -error) - jnp.log(2.0).astype(error.dtype)


def _masked_sum(values, axis, where):
    if where is not None:
        values = jnp.where(where, values, 0.0)
    return jnp.sum(values, axis=axis)


def softmax_cross_entropy(logits, labels, axis=-1, where=None):
    """``-sum(labels * log_softmax(logits))`` over ``axis``; ``labels`` are probabilities."""
    _check_shapes("softmax_cross_entropy", "logits", logits, "labels", labels)
    log_probs = numbax.nn.log_softmax(logits, axis=axis, where=where)
    return -_masked_sum(labels * log_probs, axis, where)


def softmax_cross_entropy_with_integer_labels(logits, labels, axis=-1, where=None):
    """``logsumexp(logits) - logits[label]`` over ``axis``; ``labels`` are integer class indices."""
    logits, labels = jnp.asarray(logits), jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"softmax_cross_entropy_with_integer_labels: labels must be integers (class indices), got "
                        f"{labels.dtype}; for one-hot or soft labels use softmax_cross_entropy.")
    axis = axis % logits.ndim
    expected = logits.shape[:axis] + logits.shape[axis + 1:]
    if labels.shape != expected:
        raise ValueError(f"softmax_cross_entropy_with_integer_labels: labels must have shape {expected} (logits "
                         f"{logits.shape} without axis {axis}), got {labels.shape}.")
    if where is not None:
        logits = jnp.where(where, logits, -jnp.inf)
    label_logits = jnp.take_along_axis(logits, jnp.expand_dims(labels, axis), axis=axis).squeeze(axis)
    return numbax.nn.logsumexp(logits, axis=axis) - label_logits


def sigmoid_binary_cross_entropy(logits, labels):
    """``-y * log_sigmoid(x) - (1 - y) * log_sigmoid(-x)`` elementwise."""
    logits = jnp.asarray(logits)
    log_p = numbax.nn.log_sigmoid(logits)
    log_not_p = numbax.nn.log_sigmoid(-logits)
    return -labels * log_p - (1.0 - labels) * log_not_p


def sigmoid_focal_loss(logits, labels, alpha=None, gamma=2.0):
    """Focal loss (Lin et al., 2017): ``(1 - p_t)**gamma * bce``, weighted by ``alpha``/``1 - alpha``."""
    p = numbax.nn.sigmoid(logits)
    ce = sigmoid_binary_cross_entropy(logits, labels)
    p_t = p * labels + (1 - p) * (1 - labels)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * labels + (1 - alpha) * (1 - labels)) * loss
    return loss


def hinge_loss(predictor_outputs, targets):
    """``max(0, 1 - predictor_outputs * targets)`` with targets in {-1, 1}."""
    return jnp.maximum(0.0, 1.0 - predictor_outputs * targets)


def cosine_similarity(predictions, targets, epsilon=0.0, axis=-1, where=None):
    """``sum((a / ‖a‖) * (b / ‖b‖))`` over ``axis``, with norms ``sqrt(max(sum(x**2), epsilon))`` (Optax
    floors the squared norm by ``epsilon``)."""
    _check_shapes("cosine_similarity", "predictions", predictions, "targets", targets)

    def normalized(x):
        squared = _masked_sum(jnp.square(x), axis, where)
        return x / jnp.expand_dims(jnp.sqrt(jnp.maximum(squared, epsilon)), axis)

    return _masked_sum(normalized(predictions) * normalized(targets), axis, where)


def cosine_distance(predictions, targets, epsilon=0.0, axis=-1, where=None):
    """``1 - cosine_similarity``."""
    return 1.0 - cosine_similarity(predictions, targets, epsilon, axis, where)


def kl_divergence(log_predictions, targets, axis=-1, where=None):
    """``sum(targets * (log(targets) - log_predictions))`` over ``axis``, with ``0 * log 0 = 0``."""
    _check_shapes("kl_divergence", "log_predictions", log_predictions, "targets", targets)
    targets = jnp.asarray(targets)
    safe_log = jnp.log(jnp.where(targets > 0, targets, 1.0))
    terms = jnp.where(targets > 0, targets * (safe_log - log_predictions), 0.0)
    return _masked_sum(terms, axis, where)


def smooth_labels(labels, alpha):
    """Label smoothing (Szegedy et al., 2016): ``(1 - alpha) * labels + alpha / num_classes``."""
    labels = jnp.asarray(labels)
    return (1.0 - alpha) * labels + alpha / labels.shape[-1]
