"""The package README's example runs and prints jax.random's values."""

import doctest
import pathlib

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "packages" / "random" / "README.md"


@pytest.mark.skipif(not README.exists(), reason="run from a source checkout: the README is not installed")
def test_random_readme_examples():
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} README example(s) failed; run python -m doctest {README}"
