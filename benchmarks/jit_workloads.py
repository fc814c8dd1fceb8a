"""numbax.jit workloads of issue 6 (float32): W1 dispatch of a jitted x+1 on
(8,), W3 the fused chain sin(cos(x))*tanh(x)+x*x on (2048, 2048) with its ulp
error against float64 NumPy, W4/W5 MLP train steps (value_and_grad + tree.map
SGD) with W4's first-call compile time, W6 per-example gradients, W8 jit(grad)
of a tanh RNN through lax.scan. Ratios are to NumPy and (when importable) JAX."""

import time

import numpy as np

import numbax

from _timing import jax_or_none, print_table

jax = jax_or_none()


def _chain_np(x):
    return np.sin(np.cos(x)) * np.tanh(x) + x * x


def _ulp_error(got, x):
    exact = _chain_np(x.astype(np.float64))
    rounded = exact.astype(np.float32)
    spacing = np.spacing(np.abs(rounded)).astype(np.float64)
    return float(np.max(np.abs(got.astype(np.float64) - rounded.astype(np.float64)) / spacing))


def _mlp(np_mod, sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    params = [{"w": (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32),
               "b": np.zeros(b, np.float32)} for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)]
    return params, x, y


def _train_step(lib, tree_map):
    xnp = lib.numpy

    def loss(params, x, y):
        h = x
        for layer in params[:-1]:
            h = xnp.tanh(h @ layer["w"] + layer["b"])
        logits = h @ params[-1]["w"] + params[-1]["b"]
        logp = logits - xnp.log(xnp.sum(xnp.exp(logits), axis=1, keepdims=True))
        return -xnp.mean(xnp.sum(logp * y, axis=1))

    def step(params, x, y):
        value, grads = lib.value_and_grad(loss)(params, x, y)
        return value, tree_map(lambda p, g: p - 0.01 * g, params, grads)
    return lib.jit(step)


def _rnn(lib):
    xnp = lib.numpy

    def loss(w, u, xs):
        def cell(h, x):
            h = xnp.tanh(h @ w + x @ u)
            return h, None
        h, _ = lib.lax.scan(cell, xnp.zeros((32, 128), xnp.float32), xs)
        return xnp.sum(h * h)
    return lib.jit(lib.grad(loss))


def main():
    libs = {"numbax": (numbax, numbax.tree_map)}
    if jax is not None:
        libs["jax"] = (jax, jax.tree_util.tree_map)
    cases = []

    x8 = np.arange(8, dtype=np.float32)
    fns = {"numpy": lambda: x8 + 1.0}
    for name, (lib, _) in libs.items():
        f, a = lib.jit(lambda x: x + 1.0), lib.numpy.asarray(x8)
        fns[name] = lambda f=f, a=a: f(a)
    cases.append(("W1 jitted x+1.0 dispatch, f32[8]", "us", fns))

    big = np.random.default_rng(0).uniform(-3, 3, (2048, 2048)).astype(np.float32)
    fns = {"numpy": lambda: _chain_np(big)}
    for name, (lib, _) in libs.items():
        xnp = lib.numpy
        f, a = lib.jit(lambda x: xnp.sin(xnp.cos(x)) * xnp.tanh(x) + x * x), xnp.asarray(big)
        fns[name] = lambda f=f, a=a: f(a).block_until_ready()
        print(f"  W3 {name} max error vs float64 NumPy rounded: {_ulp_error(np.asarray(f(a)), big):.1f} ulp")
    cases.append(("W3 sin(cos(x))*tanh(x)+x*x, f32[2048,2048]", "ms", fns))

    for label, sizes, batch in (("W4 MLP 784-512-512-10 b128 step", (784, 512, 512, 10), 128),
                                ("W5 MLP 64-128-10 b32 step", (64, 128, 10), 32)):
        params, x, y = _mlp(np, sizes, batch)
        fns = {}
        for name, (lib, tree_map) in libs.items():
            step = _train_step(lib, tree_map)
            p = tree_map(lib.numpy.asarray, params)
            args = (p, lib.numpy.asarray(x), lib.numpy.asarray(y))
            started = time.perf_counter()
            lib.block_until_ready(step(*args))
            print(f"  {label.split()[0]} {name} first call (trace + compile): {time.perf_counter() - started:.2f} s")
            fns[name] = lambda step=step, args=args, lib=lib: lib.block_until_ready(step(*args))
        cases.append((label, "us", fns))

    rng = np.random.default_rng(3)
    w6, x6 = rng.standard_normal((16, 16)).astype(np.float32), rng.standard_normal((512, 16)).astype(np.float32)
    fns = {}
    for name, (lib, _) in libs.items():
        xnp = lib.numpy
        per_example = lib.jit(lib.vmap(lib.grad(lambda w, x: xnp.sum(xnp.tanh(x @ w) ** 2)), in_axes=(None, 0)))
        a, b = xnp.asarray(w6), xnp.asarray(x6)
        fns[name] = lambda f=per_example, a=a, b=b: f(a, b).block_until_ready()
    cases.append(("W6 vmap(grad) per-example grads, 256 params, batch 512", "us", fns))

    w8 = (rng.standard_normal((128, 128)) * 0.05).astype(np.float32)
    u8 = (rng.standard_normal((32, 128)) * 0.1).astype(np.float32)
    xs8 = rng.standard_normal((100, 32, 32)).astype(np.float32)
    fns = {}
    for name, (lib, _) in libs.items():
        g = _rnn(lib)
        args = [lib.numpy.asarray(a) for a in (w8, u8, xs8)]
        fns[name] = lambda g=g, args=args: g(*args).block_until_ready()
    cases.append(("W8 jit(grad) tanh RNN via scan, h128 in32 len100 b32", "ms", fns))

    for _, _, fns in cases:
        fns.setdefault("numpy", fns.get("numbax"))
    print_table("numbax.jit workloads", cases, jax is not None)


if __name__ == "__main__":
    main()
