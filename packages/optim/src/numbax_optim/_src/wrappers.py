"""Wrappers that change where, when or with which hyperparameters an inner transformation runs."""

import functools
import inspect
from typing import Any, Hashable, Mapping, NamedTuple

import numpy as np

import numbax
import numbax.numpy as jnp

from numbax_optim._src import tree_utils as otu
from numbax_optim._src.base import (
    GradientTransformationExtraArgs,
    check_number,
    safe_increment,
    with_extra_args_support,
    zero_count,
)


class MaskedNode(NamedTuple):
    """Stands in for a masked-out leaf inside a masked transformation's state (an empty pytree)."""


class MaskedState(NamedTuple):
    inner_state: Any


class PartitionState(NamedTuple):
    inner_states: Mapping[Hashable, Any]


class InjectStatefulHyperparamsState(NamedTuple):
    count: Any
    hyperparams: Any
    hyperparams_states: Any
    inner_state: Any


InjectHyperparamsState = InjectStatefulHyperparamsState


class MultiStepsState(NamedTuple):
    mini_step: Any
    gradient_step: Any
    inner_opt_state: Any
    acc_grads: Any
    skip_state: Any = ()


class ApplyIfFiniteState(NamedTuple):
    notfinite_count: Any
    last_finite: Any
    total_notfinite: Any
    inner_state: Any


# --- masked / multi_transform --------------------------------------------------------------------------------

def _mask_tree(tree, mask_tree, where):
    def pick(m, subtree):
        if not isinstance(m, (bool, np.bool_)):
            raise TypeError(f"{where}: mask leaves must be Python bools (the mask is structure, not data), got "
                            f"{type(m).__name__} {m!r}; build the mask with plain True/False.")
        return subtree if m else MaskedNode()

    try:
        return numbax.tree.map(pick, mask_tree, tree, is_leaf=lambda x: x is None)
    except ValueError as error:
        raise ValueError(f"{where}: the mask must have the structure of the params (or be a prefix of it): "
                         f"{error}") from None


def masked(inner, mask):
    """Apply ``inner`` only to the leaves where ``mask`` is True; the others pass through unchanged.

    ``mask`` is a pytree of bools with the params' structure (or a prefix of it), or a callable
    ``params -> mask``. Masked-out leaves appear as ``MaskedNode()`` in the inner state.
    State ``MaskedState(inner_state)``.
    """
    inner = with_extra_args_support(inner)

    def mask_for(tree):
        return mask(tree) if callable(mask) else mask

    def init(params):
        return MaskedState(inner.init(_mask_tree(params, mask_for(params), "masked")))

    def update(updates, state, params=None, **extra_args):
        mask_tree = mask_for(updates)
        masked_updates = _mask_tree(updates, mask_tree, "masked")
        masked_params = None if params is None else _mask_tree(params, mask_tree, "masked")
        new_masked, inner_state = inner.update(masked_updates, state.inner_state, masked_params, **extra_args)
        new_updates = numbax.tree.map(lambda m, new, old: new if m else old, mask_tree, new_masked, updates,
                                      is_leaf=lambda x: x is None)
        return new_updates, MaskedState(inner_state)

    return GradientTransformationExtraArgs(init, update)


def multi_transform(transforms, param_labels):
    """Apply a different transformation to each labelled part of the params.

    ``transforms`` maps label -> transformation; ``param_labels`` is a pytree of labels with the
    params' structure (or a callable ``params -> labels``). Each transformation sees only its leaves
    (through :func:`masked`). State ``PartitionState(inner_states={label: MaskedState(...)})``.
    """
    if not isinstance(transforms, Mapping):
        raise TypeError(f"multi_transform: transforms must be a dict label -> transformation, got "
                        f"{type(transforms).__name__}.")
    transforms = {label: with_extra_args_support(tx) for label, tx in transforms.items()}

    def labels_for(tree):
        labels = param_labels(tree) if callable(param_labels) else param_labels
        unknown = set(numbax.tree.leaves(labels)) - set(transforms)
        if unknown:
            raise ValueError(f"multi_transform: param_labels use {sorted(map(repr, unknown))} but transforms only "
                             f"has {sorted(map(repr, transforms))}; add a transformation for each label "
                             "(set_to_zero() freezes a part).")
        return labels

    def masked_for(labels, label, tx):
        return masked(tx, numbax.tree.map(lambda leaf_label: leaf_label == label, labels))

    def init(params):
        labels = labels_for(params)
        return PartitionState({label: masked_for(labels, label, tx).init(params) for label, tx in transforms.items()})

    def update(updates, state, params=None, **extra_args):
        labels = labels_for(updates)
        inner_states = {}
        for label, tx in transforms.items():
            updates, inner_states[label] = masked_for(labels, label, tx).update(
                updates, state.inner_states[label], params, **extra_args)
        return updates, PartitionState(inner_states)

    return GradientTransformationExtraArgs(init, update)


partition = multi_transform


# --- inject_hyperparams ---------------------------------------------------------------------------------------

def _as_float_dtype(value, dtype):
    value = jnp.asarray(value)
    if dtype is not None and jnp.issubdtype(value.dtype, jnp.floating):
        return value.astype(dtype)
    return value


def _leaf_dtype(tree):
    leaves = numbax.tree.leaves(tree)
    return getattr(leaves[0], "dtype", None) if leaves else None


def inject_hyperparams(inner_factory, static_args=(), hyperparam_dtype=None):
    """Make an optimizer's numeric hyperparameters part of its state.

    ``inject_hyperparams(adam)(learning_rate=0.1)`` builds ``adam`` afresh at every step from
    ``state.hyperparams``: numbers become arrays there (overwrite them between steps, e.g.
    ``state.hyperparams['learning_rate'] = jnp.asarray(0.01)``, without retracing a jitted step, since
    only array values change); callables are schedules evaluated at ``state.count`` (the stored value
    is the one used at the last step). Bools and ``static_args`` stay Python values.
    State ``InjectStatefulHyperparamsState(count, hyperparams, hyperparams_states, inner_state)``.
    """
    static_args = {static_args} if isinstance(static_args, str) else set(static_args)
    signature = inspect.signature(inner_factory)
    unknown = static_args - set(signature.parameters)
    if unknown:
        raise ValueError(f"inject_hyperparams: static_args {sorted(unknown)} are not arguments of "
                         f"{getattr(inner_factory, '__name__', inner_factory)}{signature}.")

    @functools.wraps(inner_factory)
    def wrapped(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        schedules, numbers, others = {}, {}, {}
        for name, value in bound.arguments.items():
            # Types and dtypes (mu_dtype=jnp.float32) are callable but are not schedules.
            if name in static_args or isinstance(value, (bool, type, np.dtype)):
                others[name] = value
            elif callable(value):
                schedules[name] = value
            elif isinstance(value, (int, float, np.number, np.ndarray, numbax.Array)):
                numbers[name] = value
            else:
                others[name] = value

        def evaluate(count, dtype):
            return {name: _as_float_dtype(fn(count), dtype) for name, fn in schedules.items()}

        def init(params):
            dtype = hyperparam_dtype or _leaf_dtype(params)
            count = zero_count()
            hyperparams = {name: _as_float_dtype(value, dtype) for name, value in numbers.items()}
            hyperparams.update(evaluate(count, dtype))
            inner_state = inner_factory(**others, **hyperparams).init(params)
            return InjectStatefulHyperparamsState(count, hyperparams, {}, inner_state)

        def update(updates, state, params=None, **extra_args):
            dtype = hyperparam_dtype or _leaf_dtype(updates)
            hyperparams = {name: _as_float_dtype(value, dtype) for name, value in state.hyperparams.items()}
            hyperparams.update(evaluate(state.count, dtype))
            inner = with_extra_args_support(inner_factory(**others, **hyperparams))
            updates, inner_state = inner.update(updates, state.inner_state, params, **extra_args)
            return updates, InjectStatefulHyperparamsState(safe_increment(state.count), hyperparams,
                                                           state.hyperparams_states, inner_state)

        return GradientTransformationExtraArgs(init, update)

    return wrapped


# --- MultiSteps -----------------------------------------------------------------------------------------------

class MultiSteps:
    """Gradient accumulation: ``every_k_schedule`` mini-steps make one step of ``opt``.

    The first k-1 calls to ``update`` return zero updates and accumulate the gradients (their running
    mean with ``use_grad_mean=True``, else their sum); the k-th applies ``opt`` to the accumulation.
    ``every_k_schedule`` is an int or a schedule of the gradient step. ``should_skip_update_fn(updates,
    gradient_step, params) -> (skip, skip_state)`` drops a mini-step entirely when ``skip`` is true.
    State ``MultiStepsState(mini_step, gradient_step, inner_opt_state, acc_grads, skip_state)``.

    Both branches are computed and selected with ``jnp.where`` (numbax.lax.cond is not available yet), so
    ``opt.update`` runs on every mini-step; its result is discarded on the k-1 accumulating ones.
    """

    def __init__(self, opt, every_k_schedule, use_grad_mean=True, should_skip_update_fn=None):
        self._opt = with_extra_args_support(opt)
        if callable(every_k_schedule):
            self._every_k_schedule = every_k_schedule
        else:
            check_number(every_k_schedule, "every_k_schedule", "MultiSteps", "Pass an int k or a schedule.")
            if isinstance(every_k_schedule, (int, np.integer)) and every_k_schedule < 1:
                raise ValueError(f"MultiSteps: every_k_schedule must be >= 1, got {every_k_schedule}.")
            self._every_k_schedule = lambda step: every_k_schedule
        self._use_grad_mean = use_grad_mean
        self._should_skip_update_fn = should_skip_update_fn

    @property
    def inner_opt(self):
        return self._opt

    def init(self, params):
        skip_state = ()
        if self._should_skip_update_fn is not None:
            _, skip_state = self._should_skip_update_fn(otu.zeros_like(params), zero_count(), params)
        return MultiStepsState(zero_count(), zero_count(), self._opt.init(params), otu.zeros_like(params),
                               skip_state)

    def update(self, updates, state, params=None, **extra_args):
        k = self._every_k_schedule(state.gradient_step)
        if self._should_skip_update_fn is None:
            skip, skip_state = jnp.asarray(False), ()
        else:
            skip, skip_state = self._should_skip_update_fn(updates, state.gradient_step, params)
        if self._use_grad_mean:
            acc_grads = numbax.tree.map(lambda g, acc: acc + (g - acc) / (state.mini_step + 1).astype(acc.dtype),
                                        updates, state.acc_grads)
        else:
            acc_grads = otu.add(state.acc_grads, updates)
        is_final = state.mini_step >= k - 1
        final_updates, final_inner = self._opt.update(acc_grads, state.inner_opt_state, params, **extra_args)
        emit = jnp.logical_and(is_final, jnp.logical_not(skip))
        new_updates = numbax.tree.map(lambda u: jnp.where(emit, u, jnp.zeros_like(u)), final_updates)
        new_state = MultiStepsState(
            mini_step=jnp.where(emit, zero_count(), safe_increment(state.mini_step)),
            gradient_step=jnp.where(emit, safe_increment(state.gradient_step), state.gradient_step),
            inner_opt_state=otu.where(emit, final_inner, state.inner_opt_state),
            acc_grads=numbax.tree.map(lambda a: jnp.where(emit, jnp.zeros_like(a), a), acc_grads),
            skip_state=skip_state)
        # A skipped mini-step leaves everything as it was except the skip state.
        kept = state._replace(skip_state=skip_state)
        new_state = otu.where(skip, kept, new_state)
        return new_updates, new_state

    def has_updated(self, state):
        """Whether the last ``update`` applied ``opt`` (a scalar bool array)."""
        return jnp.logical_and(state.mini_step == 0, state.gradient_step > 0)

    def gradient_transformation(self):
        """This accumulator as a plain ``GradientTransformationExtraArgs(init, update)``."""
        return GradientTransformationExtraArgs(self.init, self.update)


def skip_not_finite(updates, gradient_step, params):
    """A ``should_skip_update_fn`` for MultiSteps: skip mini-steps whose gradients hold NaN/Inf;
    its state counts the non-finite entries."""
    del gradient_step, params
    leaves = numbax.tree.leaves(updates)
    count = sum((jnp.sum(jnp.logical_not(jnp.isfinite(g))).astype(jnp.int32) for g in leaves), zero_count())
    return count > 0, {"should_skip": count > 0, "num_not_finite": count}


def skip_large_updates(updates, gradient_step, params, max_squared_norm):
    """A ``should_skip_update_fn`` (bind ``max_squared_norm`` with functools.partial): skip mini-steps whose
    squared global norm exceeds ``max_squared_norm`` or is not finite."""
    del gradient_step, params
    squared = otu.norm(updates, squared=True)
    skip = jnp.logical_or(jnp.isnan(squared), squared > max_squared_norm)
    return skip, {"should_skip": skip, "norm_squared": squared}


# --- apply_if_finite -----------------------------------------------------------------------------------------

def apply_if_finite(inner, max_consecutive_errors):
    """Skip updates whose gradients hold NaN or Inf: return zeros and keep ``inner``'s state, unless more
    than ``max_consecutive_errors`` bad steps came in a row (then the update goes through, so a run
    that is genuinely diverging shows it). State ``ApplyIfFiniteState(notfinite_count, last_finite,
    total_notfinite, inner_state)``."""
    check_number(max_consecutive_errors, "max_consecutive_errors", "apply_if_finite")
    inner = with_extra_args_support(inner)

    def init(params):
        return ApplyIfFiniteState(zero_count(), jnp.asarray(True), zero_count(), inner.init(params))

    def update(updates, state, params=None, **extra_args):
        finite = jnp.asarray(True)
        for g in numbax.tree.leaves(updates):
            finite = jnp.logical_and(finite, jnp.all(jnp.isfinite(g)))
        notfinite_count = jnp.where(finite, zero_count(), safe_increment(state.notfinite_count))
        apply = jnp.logical_or(finite, notfinite_count > max_consecutive_errors)
        new_updates, new_inner = inner.update(updates, state.inner_state, params, **extra_args)
        new_updates = numbax.tree.map(lambda u: jnp.where(apply, u, jnp.zeros_like(u)), new_updates)
        return new_updates, ApplyIfFiniteState(
            notfinite_count=notfinite_count,
            last_finite=finite,
            total_notfinite=jnp.where(finite, state.total_notfinite, safe_increment(state.total_notfinite)),
            inner_state=otu.where(apply, new_inner, state.inner_state))

    return GradientTransformationExtraArgs(init, update)
