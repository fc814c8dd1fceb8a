"""numbax_nn: ``flax.linen`` for numbax.

Modules with ``setup``/``@compact``, ``init``/``apply`` over a plain variables
dict, layers whose parameter names and layouts match Flax, ``tabulate`` and
``TrainState``. See the package README for what works and the differences
from Flax.
"""

import numbax as numbax
import numbax_random as numbax_random

from numbax.nn import (  # noqa: F401  (activations, re-exported as flax.linen does)
    celu as celu, elu as elu, gelu as gelu, glu as glu, hard_sigmoid as hard_sigmoid,
    hard_silu as hard_silu, hard_swish as hard_swish, hard_tanh as hard_tanh,
    leaky_relu as leaky_relu, log_sigmoid as log_sigmoid, log_softmax as log_softmax,
    logsumexp as logsumexp, one_hot as one_hot, relu as relu, relu6 as relu6, selu as selu,
    sigmoid as sigmoid, silu as silu, soft_sign as soft_sign, softmax as softmax,
    softplus as softplus, standardize as standardize, swish as swish, tanh as tanh,
)

from numbax_nn import initializers as initializers
from numbax_nn.module import (
    AssignSubModuleError as AssignSubModuleError,
    CallCompactUnboundModuleError as CallCompactUnboundModuleError,
    DenyList as DenyList,
    InvalidRngError as InvalidRngError,
    ModifyScopeVariableError as ModifyScopeVariableError,
    Module as Module,
    NameInUseError as NameInUseError,
    ScopeCollectionNotFound as ScopeCollectionNotFound,
    ScopeParamNotFoundError as ScopeParamNotFoundError,
    ScopeParamShapeError as ScopeParamShapeError,
    SetAttributeFrozenModuleError as SetAttributeFrozenModuleError,
    Variable as Variable,
    compact as compact,
    merge_param as merge_param,
    nowrap as nowrap,
)
from numbax_nn.linear import (
    Conv as Conv,
    ConvTranspose as ConvTranspose,
    Dense as Dense,
    DenseGeneral as DenseGeneral,
    Embed as Embed,
)

from numbax_nn.normalization import (
    BatchNorm as BatchNorm,
    GroupNorm as GroupNorm,
    LayerNorm as LayerNorm,
    RMSNorm as RMSNorm,
)
from numbax_nn.stochastic import Dropout as Dropout
from numbax_nn.attention import (
    MultiHeadAttention as MultiHeadAttention,
    MultiHeadDotProductAttention as MultiHeadDotProductAttention,
    SelfAttention as SelfAttention,
    combine_masks as combine_masks,
    dot_product_attention as dot_product_attention,
    dot_product_attention_weights as dot_product_attention_weights,
    make_attention_mask as make_attention_mask,
    make_causal_mask as make_causal_mask,
)
from numbax_nn.recurrent import (
    GRUCell as GRUCell,
    LSTMCell as LSTMCell,
    OptimizedLSTMCell as OptimizedLSTMCell,
    RNN as RNN,
)
from numbax_nn.pooling import avg_pool as avg_pool, max_pool as max_pool, min_pool as min_pool, pool as pool
from numbax_nn.combinators import Sequential as Sequential
from numbax_nn.summary import tabulate as tabulate
from numbax_nn import training as training
from numbax_nn.training.train_state import TrainState as TrainState

__version__ = "0.1.0"
