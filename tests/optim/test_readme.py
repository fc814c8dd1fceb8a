"""The optim README's example runs and prints what it says."""

import doctest
import pathlib

import pytest

import numbax

README = pathlib.Path(__file__).resolve().parents[2] / "packages" / "optim" / "README.md"


@pytest.mark.skipif(not README.exists(), reason="run from a source checkout: the README is not installed")
@pytest.mark.skipif(not hasattr(numbax, "jit"), reason="the example jits its step; numbax.jit has not landed yet")
def test_optim_readme_examples():
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} README example(s) failed; run python -m doctest {README}"


def test_package_docstring_example():
    import numbax_optim
    result = doctest.testmod(numbax_optim)
    assert result.attempted > 0 and result.failed == 0
