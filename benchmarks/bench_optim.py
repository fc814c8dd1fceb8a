"""numbax_optim: one ``adam`` step (update + apply_updates) on a 10M-parameter
pytree of four float32 leaves, jitted, against the same step written by hand
in NumPy (and optax under jax.jit when JAX and optax are importable).

Each step reads the gradient, both moments and the parameters and writes the
moments and the parameters: 7 x 4 bytes per parameter. The effective GB/s is
that traffic over the step time; this machine's memory bandwidth bounds it."""

import numpy as np

import numbax
from _timing import best_seconds, compiled_before_first_result, jax_or_none

try:
    import numbax_optim as optim
except ImportError:  # nox -s bench installs core only
    optim = None

jax = jax_or_none()
SIZES = {"w1": 4_000_000, "w2": 3_000_000, "w3": 2_000_000, "b": 1_000_000}
LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8
BYTES_PER_PARAM = 7 * 4


def numpy_adam_step(params, grads, mu, nu, count):
    count += 1
    bc1, bc2 = 1 - B1 ** count, 1 - B2 ** count
    for k in params:
        g = grads[k]
        mu[k] *= B1
        mu[k] += (1 - B1) * g
        nu[k] *= B2
        nu[k] += (1 - B2) * g * g
        params[k] -= LR * (mu[k] / bc1) / (np.sqrt(nu[k] / bc2) + EPS)
    return count


def main():
    if optim is None:
        print("numbax_optim not installed: skipping the adam benchmark")
        return
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(n).astype(np.float32) for k, n in SIZES.items()}
    grads = {k: rng.standard_normal(n).astype(np.float32) for k, n in SIZES.items()}
    n_params = sum(SIZES.values())
    tx = optim.adam(LR, B1, B2, EPS)

    @numbax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    nb_params = {k: numbax.numpy.asarray(v) for k, v in params.items()}
    nb_grads = {k: numbax.numpy.asarray(v) for k, v in grads.items()}
    box = {"p": nb_params, "s": tx.init(nb_params)}

    def run_numbax():
        box["p"], box["s"] = step(box["p"], box["s"], nb_grads)
        numbax.block_until_ready(box["p"])

    np_state = {"p": {k: v.copy() for k, v in params.items()},
                "mu": {k: np.zeros_like(v) for k, v in params.items()},
                "nu": {k: np.zeros_like(v) for k, v in params.items()}, "count": 0}

    def run_numpy():
        np_state["count"] = numpy_adam_step(np_state["p"], grads, np_state["mu"], np_state["nu"],
                                            np_state["count"])

    times = {"numpy": best_seconds(run_numpy), "numbax": best_seconds(run_numbax)}
    if jax is not None:
        try:
            import optax
        except ImportError:
            optax = None
        if optax is not None:
            jtx = optax.adam(LR, B1, B2, EPS)
            jparams = {k: jax.device_put(v) for k, v in params.items()}
            jgrads = {k: jax.device_put(v) for k, v in grads.items()}
            jbox = {"p": jparams, "s": jtx.init(jparams)}

            @jax.jit
            def jstep(params, state, grads):
                updates, state = jtx.update(grads, state, params)
                return optax.apply_updates(params, updates), state

            def run_jax():
                jbox["p"], jbox["s"] = jstep(jbox["p"], jbox["s"], jgrads)
                jax.block_until_ready(jbox["p"])
            times["jax+optax"] = best_seconds(run_jax)
    print(f"adam step on {n_params / 1e6:.0f}M float32 parameters (4 leaves), jitted")
    cells = [f"{impl} {t * 1e3:.2f} ms ({n_params * BYTES_PER_PARAM / t / 1e9:.1f} GB/s)"
             for impl, t in times.items()]
    print("    " + "  ".join(cells))
    print("    " + "  ".join(f"numbax/{ref} {times['numbax'] / times[ref]:.3g}x" for ref in times if ref != "numbax"))


if __name__ == "__main__":
    with compiled_before_first_result():
        main()
