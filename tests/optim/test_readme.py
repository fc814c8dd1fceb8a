"""The optim README's example runs and prints what it says."""

import doctest

from numbax.test_util import readme_test

test_optim_readme_examples = readme_test(__file__, "optim")


def test_package_docstring_example():
    import numbax_optim
    result = doctest.testmod(numbax_optim)
    assert result.attempted > 0 and result.failed == 0
