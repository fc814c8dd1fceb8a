"""``tabulate``: a text table of a model's modules, their inputs/outputs and
parameters, made by running init once with a call log."""

import math

import numbax

from .module import DenyList

__all__ = ["tabulate"]


def _describe(tree):
    def one(x):
        shape = getattr(x, "shape", None)
        dtype = getattr(x, "dtype", None)
        if shape is None:
            return repr(x)
        short = {"float32": "f32", "float64": "f64", "int32": "i32", "int64": "i64",
                 "uint32": "u32", "bool": "bool"}.get(str(dtype), str(dtype))
        return f"{short}[{','.join(map(str, shape))}]"

    leaves = numbax.tree.leaves(tree)
    if not leaves:
        return ""
    return ", ".join(one(x) for x in leaves)


def _subtree(tree, path):
    for name in path:
        if not isinstance(tree, dict) or name not in tree:
            return None
        tree = tree[name]
    return tree


def _own_variables(tree):
    """The arrays directly at this module (not in its submodules)."""
    if not isinstance(tree, dict):
        return []
    return [v for v in tree.values() if not isinstance(v, dict)]


def tabulate(module, rngs, depth=None, mutable=DenyList("intermediates"), **_unused):
    """``tabulate(module, rngs)(*args)`` → a text table: path, module class,
    inputs, outputs, and per collection the variables' shapes and counts, with
    totals. ``depth`` limits how deep the paths go.

    Differences from Flax: plain text (no rich table), no FLOP columns.
    """

    def run(*args, **kwargs):
        log = []
        _, variables = module._run({}, args, kwargs, rngs, None, mutable, True, call_log=log)
        cols = sorted(variables)
        seen, rows = set(), []
        for path, cls_name, call_args, call_kwargs, out in log:
            if path in seen or (depth is not None and len(path) > depth):
                continue
            seen.add(path)
            row = ["/".join(path), cls_name, _describe((call_args, call_kwargs)), _describe(out)]
            for col in cols:
                own = _own_variables(_subtree(variables[col], path))
                count = sum(math.prod(v.shape) for v in own)
                names = [k for k, v in _subtree(variables[col], path).items()
                         if not isinstance(v, dict)] if own else []
                row.append(" ".join(f"{k}: {_describe(_subtree(variables[col], path)[k])}" for k in names)
                           + (f" ({count:,})" if own else ""))
            rows.append(row)
        header = ["path", "module", "inputs", "outputs"] + cols
        totals = ["", "", "", "Total"] + [
            f"{sum(math.prod(x.shape) for x in numbax.tree.leaves(variables[c])):,}" for c in cols]
        table = [header] + rows + [totals]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]

        def fmt(r):
            return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

        rule = "+-" + "-+-".join("-" * w for w in widths) + "-+"
        lines = [f"{type(module).__name__} Summary", rule, fmt(header), rule]
        lines += [fmt(r) for r in rows] + [rule, fmt(totals), rule]
        total = sum(math.prod(x.shape) for x in numbax.tree.leaves(variables))
        lines.append(f"Total parameters and variables: {total:,}")
        return "\n".join(lines) + "\n"

    return run
