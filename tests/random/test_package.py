"""numbax-random installs on its own and reaches numbax through its declared dependency."""

import numbax_random

PUBLIC = {"key", "PRNGKey", "key_data", "wrap_key_data", "split", "fold_in", "clone", "bits", "uniform",
          "normal", "truncated_normal", "bernoulli", "randint", "gumbel", "categorical", "permutation",
          "shuffle", "choice", "exponential", "laplace", "logistic", "cauchy", "rademacher", "gamma",
          "loggamma", "beta", "dirichlet", "t", "ball", "multivariate_normal", "orthogonal", "KeyArray",
          "threefry2x32"}


def test_version():
    assert numbax_random.__version__ == "0.1.0"


def test_public_surface():
    exported = {n for n in dir(numbax_random) if not n.startswith("_")} - {"numbax"}
    assert exported == PUBLIC
