"""numbax_nn train steps: an MLP 784-512-512-10 (ReLU, softmax cross-entropy,
SGD, batch 128) jitted, against the same step written by hand in NumPy (and
Flax + optax under jax.jit when importable); and a small CNN (Conv 32 + BatchNorm
+ max_pool, Dense 10, batch 64 of 28x28x1), jitted when numbax's jit can lower
the convolution, else eager."""

import numpy as np

import numbax
import numbax_nn as nn
import numbax_optim
import numbax_random
from _timing import best_seconds, compiled_before_first_result, jax_or_none, print_table

jax = jax_or_none()
BATCH, SIZES, LR = 128, (784, 512, 512, 10), 0.01


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        for f in SIZES[1:-1]:
            x = nn.relu(nn.Dense(f)(x))
        return nn.Dense(SIZES[-1])(x)


class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.BatchNorm(use_running_average=False)(nn.Conv(32, (3, 3))(x))
        x = nn.max_pool(nn.relu(x), (2, 2), strides=(2, 2))
        return nn.Dense(10)(x.reshape(x.shape[0], -1))


def numbax_step(model, batch_stats=False):
    def loss_fn(params, stats, x, labels):
        variables = {"params": params, **({"batch_stats": stats} if batch_stats else {})}
        if batch_stats:
            logits, updated = model.apply(variables, x, mutable=["batch_stats"])
            stats = updated["batch_stats"]
        else:
            logits = model.apply(variables, x)
        return numbax_optim.softmax_cross_entropy(logits, labels).mean(), stats

    def step(state, stats, x, labels):
        (loss, stats), grads = numbax.value_and_grad(loss_fn, has_aux=True)(state.params, stats, x, labels)
        return state.apply_gradients(grads=grads), stats, loss

    return step


def compiled_or_eager(step, args):
    try:
        compiled = numbax.jit(step)
        compiled(*args)
        return compiled, "jit"
    except NotImplementedError as e:
        return step, f"eager ({str(e).split(':')[0]})"


def numpy_mlp_step(params, x, labels):
    """Forward keeping activations, softmax cross-entropy, backward, SGD."""
    acts, h = [x], x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
        acts.append(h)
    z = h - h.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    delta = (probs - labels) / len(x)
    new = []
    for i in reversed(range(len(params))):
        w, b = params[i]
        new.append((w - LR * acts[i].T @ delta, b - LR * delta.sum(axis=0)))
        if i > 0:
            delta = (delta @ w.T) * (acts[i] > 0)
    return new[::-1]


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, BATCH)]
    model = MLP()
    params = model.init(numbax_random.key(0), x[:1])["params"]
    state = nn.TrainState.create(apply_fn=model.apply, params=params, tx=numbax_optim.sgd(LR))
    step, mode = compiled_or_eager(numbax_step(model), (state, None, x, labels))
    np_params = [(np.asarray(params[f"Dense_{i}"]["kernel"]), np.asarray(params[f"Dense_{i}"]["bias"]))
                 for i in range(len(SIZES) - 1)]
    fns = {"numpy": lambda: numpy_mlp_step(np_params, x, labels),
           "numbax": lambda: numbax.block_until_ready(step(state, None, x, labels))}
    if jax is not None:
        fns.update(flax_mlp_step(x, labels))
    cases = [(f"MLP 784-512-512-10 train step, batch {BATCH} (numbax {mode})", "ms", fns)]

    images = rng.standard_normal((64, 28, 28, 1)).astype(np.float32)
    cnn = CNN()
    variables = cnn.init(numbax_random.key(0), images[:2])
    cnn_state = nn.TrainState.create(apply_fn=cnn.apply, params=variables["params"], tx=numbax_optim.sgd(LR))
    cnn_step, cnn_mode = compiled_or_eager(numbax_step(cnn, batch_stats=True),
                                           (cnn_state, variables["batch_stats"], images, labels[:64]))
    cases.append((f"CNN conv32+BatchNorm+pool+dense, batch 64 of 28x28 (numbax {cnn_mode})", "ms",
                  {"numbax": lambda: numbax.block_until_ready(
                      cnn_step(cnn_state, variables["batch_stats"], images, labels[:64]))}))
    print_table("numbax_nn train steps", cases[:1], jax is not None)
    print(f"  {cases[1][0]}: {1e3 * best_seconds(cases[1][2]['numbax']):.2f} ms per step")


def flax_mlp_step(x, labels):
    """The same step in Flax + optax under jax.jit, if both are importable."""
    try:
        import flax.linen as fnn
        import optax
    except ImportError:
        return {}

    class FlaxMLP(fnn.Module):
        @fnn.compact
        def __call__(self, h):
            for f in SIZES[1:-1]:
                h = fnn.relu(fnn.Dense(f)(h))
            return fnn.Dense(SIZES[-1])(h)

    model, tx = FlaxMLP(), optax.sgd(LR)
    params = model.init(jax.random.key(0), x[:1])
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, x, labels):
        def loss(p):
            return optax.softmax_cross_entropy(model.apply(p, x), labels).mean()
        grads = jax.grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    return {"jax": lambda: jax.block_until_ready(step(params, opt_state, x, labels))}


if __name__ == "__main__":
    with compiled_before_first_result():
        main()
