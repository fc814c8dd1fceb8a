"""numbax_nn exposes the flax.linen names that API.md promises."""

import numbax_nn

PUBLIC = """Module compact nowrap Variable DenyList merge_param
Dense DenseGeneral Conv ConvTranspose Embed LayerNorm RMSNorm BatchNorm GroupNorm Dropout
MultiHeadDotProductAttention MultiHeadAttention SelfAttention dot_product_attention
dot_product_attention_weights make_attention_mask make_causal_mask combine_masks
LSTMCell OptimizedLSTMCell GRUCell RNN Sequential max_pool avg_pool min_pool pool tabulate TrainState
relu relu6 gelu silu swish sigmoid softplus elu celu selu leaky_relu tanh softmax log_softmax logsumexp
one_hot standardize glu hard_tanh hard_sigmoid log_sigmoid initializers training
ModifyScopeVariableError InvalidRngError ScopeParamNotFoundError ScopeParamShapeError
ScopeCollectionNotFound NameInUseError AssignSubModuleError SetAttributeFrozenModuleError
CallCompactUnboundModuleError""".split()

INITIALIZERS = """zeros ones constant zeros_init ones_init normal uniform truncated_normal variance_scaling
lecun_normal lecun_uniform glorot_normal glorot_uniform xavier_normal xavier_uniform he_normal
he_uniform kaiming_normal kaiming_uniform orthogonal""".split()


def test_public_names():
    missing = [name for name in PUBLIC if not hasattr(numbax_nn, name)]
    assert not missing, f"numbax_nn lacks {missing}"
    missing = [name for name in INITIALIZERS if not hasattr(numbax_nn.initializers, name)]
    assert not missing, f"numbax_nn.initializers lacks {missing}"
    from numbax_nn.training.train_state import TrainState
    assert TrainState is numbax_nn.TrainState
    assert numbax_nn.relu is numbax_nn.numbax.nn.relu
