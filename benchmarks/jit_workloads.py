"""numbax.jit workloads of issue 6 (float32), against NumPy written by hand and
(when importable) JAX:

- W1 dispatch of a jitted x+1 on (8,);
- W3 the fused chain sin(cos(x))*tanh(x)+x*x on (2048, 2048), with its error
  against float64 NumPy;
- W4/W5 MLP train steps (value_and_grad + tree.map SGD), W4's first call
  (trace + compile) timed too;
- W6 per-example gradients (jit(vmap(grad)));
- W7 a CNN train step (NHWC, conv3x3 32 SAME, conv3x3 64 stride 2, dense 10);
- W8 jit(grad) of a tanh RNN through lax.scan;
- W11 a fresh process's time to W4's first result, with an empty and with a
  warm compilation cache (each in a subprocess).

numbax's first call of a program not in its disk cache evaluates the jaxpr op
by op while a worker process compiles it (its default; see the core README).
So the first calls are timed as a user meets them, and every steady-state
figure is taken after ``f.lower(*args).compile()``, which waits for the
compiled program (for JAX it returns the program compiled by the first call).
The run uses a fresh numbax cache directory, so first calls are cold.

The NumPy columns compute the same function, forward and backward, by hand.
"""

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import numbax

from _timing import jax_or_none, print_table

jax = jax_or_none()


def _chain_np(x):
    return np.sin(np.cos(x)) * np.tanh(x) + x * x


def _ulp_error(got, x):
    """Max error of ``got`` against float64 NumPy rounded to float32, in ulps
    of float32. The unit is the float32 spacing at the larger of the result
    and the product term: where the final add cancels (x near -0.64 the two
    terms nearly meet) the result is near zero and its own ulp is far finer
    than the rounding of the terms any float32 evaluation must make (NumPy's
    own float32 chain is ~6e4 of those ulps off there), so a relative or
    result-ulp measure there judges the inputs' rounding, not the kernels."""
    wide = x.astype(np.float64)
    product = np.sin(np.cos(wide)) * np.tanh(wide)
    rounded = (product + wide * wide).astype(np.float32)
    scale = np.maximum(np.abs(rounded), np.abs(product).astype(np.float32))
    unit = np.spacing(scale).astype(np.float64)
    return float(np.max(np.abs(np.asarray(got).astype(np.float64) - rounded.astype(np.float64)) / unit))


# --- W4/W5: MLP ------------------------------------------------------------------------

def _mlp(np_mod, sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    params = [{"w": (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32),
               "b": np.zeros(b, np.float32)} for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)]
    return params, x, y


def _cross_entropy(xnp, logits, y):
    logp = logits - xnp.log(xnp.sum(xnp.exp(logits), axis=1, keepdims=True))
    return -xnp.mean(xnp.sum(logp * y, axis=1))


def _jitted_sgd_step(lib, tree_map, loss):
    """``jit(step)``: value_and_grad of ``loss`` and a plain SGD update (lr 0.01)."""
    def step(params, x, y):
        value, grads = lib.value_and_grad(loss)(params, x, y)
        return value, tree_map(lambda p, g: p - 0.01 * g, params, grads)
    return lib.jit(step)


def _train_step(lib, tree_map):
    xnp = lib.numpy

    def loss(params, x, y):
        h = x
        for layer in params[:-1]:
            h = xnp.tanh(h @ layer["w"] + layer["b"])
        logits = h @ params[-1]["w"] + params[-1]["b"]
        return _cross_entropy(xnp, logits, y)
    return _jitted_sgd_step(lib, tree_map, loss)


def _train_step_numpy(params, x, y):
    """The MLP step by hand: forward, softmax cross-entropy, backward, SGD."""
    hs = [x]
    for layer in params[:-1]:
        hs.append(np.tanh(hs[-1] @ layer["w"] + layer["b"]))
    logits = hs[-1] @ params[-1]["w"] + params[-1]["b"]
    total = np.sum(np.exp(logits), axis=1, keepdims=True)
    logp = logits - np.log(total)
    batch = x.shape[0]
    value = -np.mean(np.sum(logp * y, axis=1))
    delta = (np.exp(logits) / total * np.sum(y, axis=1, keepdims=True) - y) / np.float32(batch)
    new = [None] * len(params)
    for k in range(len(params) - 1, -1, -1):
        w = params[k]["w"]
        new[k] = {"w": w - np.float32(0.01) * (hs[k].T @ delta),
                  "b": params[k]["b"] - np.float32(0.01) * delta.sum(axis=0)}
        if k:
            delta = (delta @ w.T) * (1 - hs[k] * hs[k])
    return value, new


# --- W6: per-example gradients -----------------------------------------------------------

def _per_example_numpy(w, x):
    h = np.tanh(x @ w)
    g = 2 * h * (1 - h * h)
    return x[:, :, None] * g[:, None, :]


# --- W7: CNN ---------------------------------------------------------------------------

def _cnn(rng):
    params = {"c1": (rng.standard_normal((3, 3, 1, 32)) / 3).astype(np.float32), "b1": np.zeros(32, np.float32),
              "c2": (rng.standard_normal((3, 3, 32, 64)) / np.sqrt(9 * 32)).astype(np.float32),
              "b2": np.zeros(64, np.float32),
              "d": (rng.standard_normal((14 * 14 * 64, 10)) / np.sqrt(14 * 14 * 64)).astype(np.float32),
              "bd": np.zeros(10, np.float32)}
    x = rng.standard_normal((64, 28, 28, 1)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
    return params, x, y


def _cnn_step(lib, tree_map):
    xnp, lax = lib.numpy, lib.lax
    dims = ("NHWC", "HWIO", "NHWC")

    def loss(p, x, y):
        h = lax.conv_general_dilated(x, p["c1"], (1, 1), "SAME", dimension_numbers=dims) + p["b1"]
        h = xnp.maximum(h, 0.0)
        h = lax.conv_general_dilated(h, p["c2"], (2, 2), "SAME", dimension_numbers=dims) + p["b2"]
        h = xnp.maximum(h, 0.0).reshape((x.shape[0], -1))
        logits = h @ p["d"] + p["bd"]
        return _cross_entropy(xnp, logits, y)
    return _jitted_sgd_step(lib, tree_map, loss)


# --- W8: RNN through scan ----------------------------------------------------------------

def _rnn(lib):
    xnp = lib.numpy

    def loss(w, u, xs):
        def cell(h, x):
            h = xnp.tanh(h @ w + x @ u)
            return h, None
        h, _ = lib.lax.scan(cell, xnp.zeros((32, 128), xnp.float32), xs)
        return xnp.sum(h * h)
    return lib.jit(lib.grad(loss))


def _rnn_grad_numpy(w, u, xs):
    """d/dw of sum(h_T**2) for h_t = tanh(h_{t-1} w + x_t u), by backprop through time."""
    hs = [np.zeros((xs.shape[1], w.shape[0]), np.float32)]
    for x in xs:
        hs.append(np.tanh(hs[-1] @ w + x @ u))
    dh = 2 * hs[-1]
    dw = np.zeros_like(w)
    for t in range(len(xs), 0, -1):
        dz = dh * (1 - hs[t] * hs[t])
        dw += hs[t - 1].T @ dz
        dh = dz @ w.T
    return dw


# --- W11: a fresh process's first W4 result ------------------------------------------------

def _w11_child(name):
    """Run in a subprocess: build W4 with ``name``'s library and print the wall
    clock (``time.time()``) at its first result; then wait until the program
    is compiled and cached, so the next process finds a warm cache."""
    lib = jax if name == "jax" else numbax
    if name == "jax" and os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        lib.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        lib.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    tree_map = jax.tree_util.tree_map if name == "jax" else numbax.tree_map
    params, x, y = _mlp(np, (784, 512, 512, 10), 128)
    step = _train_step(lib, tree_map)
    args = (tree_map(lib.numpy.asarray, params), lib.numpy.asarray(x), lib.numpy.asarray(y))
    lib.block_until_ready(step(*args))
    print(f"{time.time():.6f}", flush=True)
    if lib is numbax:  # the worker's program into the cache before the warm runs
        step.lower(*args).compile()


def _fresh_process_seconds(name, cache_dir):
    """Wall seconds from launching a fresh interpreter (which imports the
    library) to W4's first result, with the library's disk cache in ``cache_dir``."""
    env = dict(os.environ, NUMBAX_CACHE_DIR=cache_dir, JAX_COMPILATION_CACHE_DIR=cache_dir)
    if name == "numbax":  # the child must not pay for importing JAX (_timing imports it when asked for)
        env["NUMBAX_BENCH_JAX"] = "0"
    launched = time.time()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--w11-child", name], env=env, check=True,
                         stdout=subprocess.PIPE, text=True)
    return float(out.stdout.split()[0]) - launched


def _w11(names):
    print("W11 fresh process to W4's first result (interpreter start, imports, trace, compile or cache load"
          " or op-by-op evaluation, run)")
    figures = {}
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"w11-{name}-") as cache_dir:
            cold = _fresh_process_seconds(name, cache_dir)
            warm = min(_fresh_process_seconds(name, cache_dir) for _ in range(3))
        figures[name] = (cold, warm)
        print(f"    {name}: cold (empty cache) {cold:.2f} s  warm (populated cache, best of 3) {warm:.2f} s")
    if "jax" in figures:
        (nc, nw), (jc, jw) = figures["numbax"], figures["jax"]
        print(f"    numbax/jax cold {nc / jc:.3g}x  warm {nw / jw:.3g}x")


def _until_compiled(lib, f, *args):
    """``f`` once its program for ``args`` is compiled: numbax may still be
    compiling it in a worker process (JAX compiled it in the first call)."""
    if lib is numbax:
        f.lower(*args).compile()
    return f


def main():
    os.environ["NUMBAX_CACHE_DIR"] = tempfile.mkdtemp(prefix="numbax-bench-")  # first calls are cold
    libs = {"numbax": (numbax, numbax.tree_map)}
    if jax is not None:
        libs["jax"] = (jax, jax.tree_util.tree_map)
    cases = []

    x8 = np.arange(8, dtype=np.float32)
    fns = {"numpy": lambda: x8 + 1.0}
    for name, (lib, _) in libs.items():
        a = lib.numpy.asarray(x8)
        f = _until_compiled(lib, lib.jit(lambda x: x + 1.0), a)
        fns[name] = lambda f=f, a=a: f(a)
    cases.append(("W1 jitted x+1.0 dispatch, f32[8]", "us", fns))

    big = np.random.default_rng(0).uniform(-3, 3, (2048, 2048)).astype(np.float32)
    fns = {"numpy": lambda: _chain_np(big)}
    print(f"  W3 NumPy float32 max error vs float64 NumPy rounded: {_ulp_error(_chain_np(big), big):.1f} ulp")
    for name, (lib, _) in libs.items():
        xnp = lib.numpy
        a = xnp.asarray(big)
        f = _until_compiled(lib, lib.jit(lambda x: xnp.sin(xnp.cos(x)) * xnp.tanh(x) + x * x), a)
        fns[name] = lambda f=f, a=a: f(a).block_until_ready()
        print(f"  W3 {name} max error vs float64 NumPy rounded: {_ulp_error(np.asarray(f(a)), big):.1f} ulp")
    cases.append(("W3 sin(cos(x))*tanh(x)+x*x, f32[2048,2048]", "ms", fns))

    for label, sizes, batch in (("W4 MLP 784-512-512-10 b128 step", (784, 512, 512, 10), 128),
                                ("W5 MLP 64-128-10 b32 step", (64, 128, 10), 32)):
        params, x, y = _mlp(np, sizes, batch)
        fns = {"numpy": lambda params=params, x=x, y=y: _train_step_numpy(params, x, y)}
        want = _train_step_numpy(params, x, y)
        for name, (lib, tree_map) in libs.items():
            step = _train_step(lib, tree_map)
            p = tree_map(lib.numpy.asarray, params)
            args = (p, lib.numpy.asarray(x), lib.numpy.asarray(y))
            started = time.perf_counter()
            value, new = lib.block_until_ready(step(*args))
            first = time.perf_counter() - started
            np.testing.assert_allclose(np.asarray(new[0]["w"]), want[1][0]["w"], rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(float(value), want[0], rtol=1e-4)
            _until_compiled(lib, step, *args)
            print(f"  {label.split()[0]} {name} first call (trace + compile, or trace + op-by-op run): {first:.2f} s;"
                  f" compiled program in use after {time.perf_counter() - started:.2f} s")
            value, new = lib.block_until_ready(step(*args))
            np.testing.assert_allclose(np.asarray(new[0]["w"]), want[1][0]["w"], rtol=1e-4, atol=1e-5)
            fns[name] = lambda step=step, args=args, lib=lib: lib.block_until_ready(step(*args))
        cases.append((label, "us", fns))

    rng = np.random.default_rng(3)
    w6, x6 = rng.standard_normal((16, 16)).astype(np.float32), rng.standard_normal((512, 16)).astype(np.float32)
    fns = {"numpy": lambda: _per_example_numpy(w6, x6)}
    for name, (lib, _) in libs.items():
        xnp = lib.numpy
        per_example = lib.jit(lib.vmap(lib.grad(lambda w, x: xnp.sum(xnp.tanh(x @ w) ** 2)), in_axes=(None, 0)))
        a, b = xnp.asarray(w6), xnp.asarray(x6)
        _until_compiled(lib, per_example, a, b)
        np.testing.assert_allclose(np.asarray(per_example(a, b)), _per_example_numpy(w6, x6), rtol=1e-4, atol=1e-5)
        fns[name] = lambda f=per_example, a=a, b=b: f(a, b).block_until_ready()
    cases.append(("W6 vmap(grad) per-example grads, 256 params, batch 512", "us", fns))

    params7, x7, y7 = _cnn(rng)
    fns = {}
    for name, (lib, tree_map) in libs.items():
        step = _cnn_step(lib, tree_map)
        args = (tree_map(lib.numpy.asarray, params7), lib.numpy.asarray(x7), lib.numpy.asarray(y7))
        try:
            started = time.perf_counter()
            lib.block_until_ready(step(*args))
        except NotImplementedError as e:
            print(f"  W7 {name} skipped: {e}")
            continue
        _until_compiled(lib, step, *args)
        print(f"  W7 {name} compiled program in use {time.perf_counter() - started:.2f} s after the first call")
        fns[name] = lambda step=step, args=args, lib=lib: lib.block_until_ready(step(*args))
    if "numbax" in fns:
        cases.append(("W7 CNN step 64x28x28x1, conv3x3 32, conv3x3 64 /2, dense 10", "ms", fns))

    w8 = (rng.standard_normal((128, 128)) * 0.05).astype(np.float32)
    u8 = (rng.standard_normal((32, 128)) * 0.1).astype(np.float32)
    xs8 = rng.standard_normal((100, 32, 32)).astype(np.float32)
    fns = {"numpy": lambda: _rnn_grad_numpy(w8, u8, xs8)}
    for name, (lib, _) in libs.items():
        args = [lib.numpy.asarray(a) for a in (w8, u8, xs8)]
        g = _until_compiled(lib, _rnn(lib), *args)
        np.testing.assert_allclose(np.asarray(g(*args)), _rnn_grad_numpy(w8, u8, xs8), rtol=1e-3, atol=1e-4)
        fns[name] = lambda g=g, args=args: g(*args).block_until_ready()
    cases.append(("W8 jit(grad) tanh RNN via scan, h128 in32 len100 b32", "ms", fns))

    print_table("numbax.jit workloads", cases, jax is not None)
    _w11(list(libs))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--w11-child"]:
        _w11_child(sys.argv[2])
    else:
        main()
