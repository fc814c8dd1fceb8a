"""The core README's examples run and print what they say."""

from numbax.test_util import readme_test

test_core_readme_examples = readme_test(__file__, "core")
