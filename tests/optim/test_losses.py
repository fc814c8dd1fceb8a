"""Losses against their formulas written here in NumPy (optim.md §7)."""

import numpy as np
import pytest
import scipy.special

import numbax
import numbax.numpy as jnp
import numbax_optim as optim


@pytest.fixture
def data(rng):
    logits = rng.standard_normal((4, 5)).astype(np.float32)
    probs = scipy.special.softmax(rng.standard_normal((4, 5)), axis=-1).astype(np.float32)
    return logits, probs


def close(got, want, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=atol)


def test_softmax_cross_entropy(data):
    logits, labels = data
    log_softmax = logits - scipy.special.logsumexp(logits.astype(np.float64), axis=-1, keepdims=True)
    close(optim.softmax_cross_entropy(jnp.asarray(logits), jnp.asarray(labels)), -(labels * log_softmax).sum(-1))


def test_softmax_cross_entropy_with_integer_labels(data):
    logits, _ = data
    labels = np.asarray([0, 4, 2, 2], np.int32)
    want = scipy.special.logsumexp(logits.astype(np.float64), axis=-1) - logits[np.arange(4), labels]
    close(optim.softmax_cross_entropy_with_integer_labels(jnp.asarray(logits), jnp.asarray(labels)), want)
    with pytest.raises(TypeError, match=r"labels must be integers .*got float32; for one-hot"):
        optim.softmax_cross_entropy_with_integer_labels(jnp.asarray(logits), jnp.asarray(labels.astype(np.float32)))
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\) .*got \(3,\)"):
        optim.softmax_cross_entropy_with_integer_labels(jnp.asarray(logits), jnp.asarray(labels[:3]))


def test_sigmoid_binary_cross_entropy(data):
    logits, _ = data
    labels = (logits > 0.3).astype(np.float32)
    x = logits.astype(np.float64)
    want = -labels * np.log(scipy.special.expit(x)) - (1 - labels) * np.log(scipy.special.expit(-x))
    close(optim.sigmoid_binary_cross_entropy(jnp.asarray(logits), jnp.asarray(labels)), want)


def test_regression_losses(rng):
    p = rng.standard_normal(6).astype(np.float32) * 3
    t = rng.standard_normal(6).astype(np.float32)
    e = p.astype(np.float64) - t
    close(optim.squared_error(jnp.asarray(p), jnp.asarray(t)), e ** 2)
    close(optim.l2_loss(jnp.asarray(p), jnp.asarray(t)), 0.5 * e ** 2)
    close(optim.l2_loss(jnp.asarray(p)), 0.5 * p.astype(np.float64) ** 2)
    delta = 1.5
    close(optim.huber_loss(jnp.asarray(p), jnp.asarray(t), delta),
          np.where(np.abs(e) <= delta, 0.5 * e ** 2, delta * (np.abs(e) - 0.5 * delta)))
    close(optim.log_cosh(jnp.asarray(p), jnp.asarray(t)), np.log(np.cosh(e)))
    close(optim.log_cosh(jnp.asarray([1000.0])), [1000.0 - np.log(2.0)])  # no overflow
    with pytest.raises(ValueError, match=r"squared_error: predictions and targets must have the same shape"):
        optim.squared_error(jnp.asarray(p), jnp.asarray(t[:3]))


def test_cosine_similarity_and_distance(data):
    a, b = data
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = (a64 * b64).sum(-1) / (np.linalg.norm(a64, axis=-1) * np.linalg.norm(b64, axis=-1))
    close(optim.cosine_similarity(jnp.asarray(a), jnp.asarray(b)), want)
    close(optim.cosine_distance(jnp.asarray(a), jnp.asarray(b)), 1 - want)
    close(optim.cosine_similarity(jnp.zeros((1, 3)), jnp.ones((1, 3)), epsilon=1e-12), [0.0])


def test_hinge_kl_focal_and_smoothing(data):
    logits, probs = data
    targets = np.sign(logits[:, 0])
    close(optim.hinge_loss(jnp.asarray(logits[:, 1]), jnp.asarray(targets)),
          np.maximum(0, 1 - logits[:, 1] * targets))
    log_q = np.log(scipy.special.softmax(logits.astype(np.float64), axis=-1))
    close(optim.kl_divergence(jnp.asarray(log_q.astype(np.float32)), jnp.asarray(probs)),
          (probs * (np.log(probs) - log_q)).sum(-1))
    labels = (logits > 0).astype(np.float32)
    p = scipy.special.expit(logits.astype(np.float64))
    p_t = p * labels + (1 - p) * (1 - labels)
    want = 0.25 * labels + 0.75 * (1 - labels)
    want = want * -np.log(p_t) * (1 - p_t) ** 2
    close(optim.sigmoid_focal_loss(jnp.asarray(logits), jnp.asarray(labels), alpha=0.25), want, rtol=1e-4)
    close(optim.smooth_labels(jnp.asarray([[0.0, 1.0, 0.0, 0.0]]), 0.2), [[0.05, 0.85, 0.05, 0.05]])


def test_losses_differentiate(data):
    logits, labels = data
    g = numbax.grad(lambda x: optim.softmax_cross_entropy(x, jnp.asarray(labels)).sum())(jnp.asarray(logits))
    close(g, scipy.special.softmax(logits.astype(np.float64), axis=-1) - labels)
