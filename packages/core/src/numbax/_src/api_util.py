"""Small helpers shared by the user-facing transformations."""

from .tree_util import tree_flatten, tree_unflatten


def flatten_fun(fun, in_tree):
    """``(flat_fun, out_tree_box)``: ``flat_fun(*leaves)`` calls ``fun`` on the
    arguments rebuilt from ``in_tree`` and returns the output's leaves; the
    output's tree structure is appended to ``out_tree_box`` when it runs."""
    out_tree_box = []

    def flat_fun(*leaves):
        out = fun(*tree_unflatten(in_tree, leaves))
        out_leaves, out_tree = tree_flatten(out)
        out_tree_box.append(out_tree)
        return out_leaves
    return flat_fun, out_tree_box
