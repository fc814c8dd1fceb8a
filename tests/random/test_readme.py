"""The package README's example runs and prints jax.random's values."""

from numbax.test_util import readme_test

test_random_readme_examples = readme_test(__file__, "random")
