"""The public names the issue asks for exist, and each public function has a docstring."""

import inspect

import numbax_optim as optim

REQUIRED = """GradientTransformation GradientTransformationExtraArgs apply_updates chain identity set_to_zero
sgd adam adamw nadam rmsprop adagrad adafactor lion lamb lars adabelief adamax novograd radam yogi
scale scale_by_learning_rate scale_by_adam scale_by_schedule clip clip_by_global_norm clip_by_block_rms
add_decayed_weights add_noise trace ema zero_nans masked multi_transform inject_hyperparams MultiSteps
apply_if_finite constant_schedule linear_schedule polynomial_schedule cosine_decay_schedule
warmup_cosine_decay_schedule exponential_decay piecewise_constant_schedule join_schedules
cosine_onecycle_schedule warmup_constant_schedule warmup_linear_decay_schedule softmax_cross_entropy
softmax_cross_entropy_with_integer_labels sigmoid_binary_cross_entropy l2_loss squared_error huber_loss
log_cosh cosine_similarity cosine_distance hinge_loss kl_divergence global_norm tree losses schedules""".split()


def test_required_names_exist():
    missing = [name for name in REQUIRED if not hasattr(optim, name)]
    assert not missing
    for name in ("norm", "add", "scale", "zeros_like"):
        assert callable(getattr(optim.tree, name))


def test_public_functions_have_docstrings():
    undocumented = [name for name in dir(optim) if not name.startswith("_")
                    and inspect.isfunction(getattr(optim, name)) and not inspect.getdoc(getattr(optim, name))]
    assert not undocumented
