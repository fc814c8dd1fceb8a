"""The nn README's examples run and print what they say."""

import doctest

from numbax.test_util import readme_test

test_nn_readme_examples = readme_test(__file__, "nn", doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                                      min_examples=6, requires=("numbax_optim",))
