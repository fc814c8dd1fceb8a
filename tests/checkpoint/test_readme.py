"""The checkpoint README's example runs and prints what it says."""

from numbax.test_util import readme_test

test_checkpoint_readme_examples = readme_test(__file__, "checkpoint")
