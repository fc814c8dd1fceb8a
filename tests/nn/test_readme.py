"""The README's examples run and print what they say."""

import doctest
import importlib.util
import pathlib

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "packages" / "nn" / "README.md"


@pytest.mark.skipif(not README.exists(), reason="run from a source checkout: the README is not installed")
@pytest.mark.skipif(importlib.util.find_spec("numbax_optim") is None,
                    reason="the README's TrainState example needs numbax_optim, which is not installed")
def test_nn_readme_examples():
    result = doctest.testfile(str(README), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5
    assert result.failed == 0, f"{result.failed} README example(s) failed; run python -m doctest {README}"
