"""``numbax_optim.tree`` (≈ ``optax.tree``): arithmetic over pytrees."""

from numbax_optim._src.tree_utils import (  # noqa: F401
    add as add,
    add_scale as add_scale,
    bias_correction as bias_correction,
    cast as cast,
    div as div,
    full_like as full_like,
    mul as mul,
    norm as norm,
    ones_like as ones_like,
    scale as scale,
    sub as sub,
    sum as sum,  # noqa: A004
    update_moment as update_moment,
    update_moment_per_elem_norm as update_moment_per_elem_norm,
    vdot as vdot,
    where as where,
    zeros_like as zeros_like,
)
