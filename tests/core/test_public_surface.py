"""The public surface named in shared/API.md exists, and the op table covers it."""

import importlib.util
import pathlib

import pytest

import numbax

NUMPY_NAMES = """
array asarray zeros ones full empty zeros_like ones_like full_like empty_like arange linspace eye
identity tri tril triu add subtract multiply divide exp log log1p expm1 sqrt power sin cos tan tanh
arcsin arccos arctan sinh cosh arctan2 abs sign floor ceil round clip maximum minimum where isnan
isfinite logaddexp equal not_equal less less_equal greater greater_equal logical_and logical_or
logical_not sum mean prod max min var std argmax argmin any all cumsum cumprod reshape transpose
swapaxes moveaxis expand_dims squeeze ravel concatenate stack vstack hstack split tile repeat
broadcast_to pad flip roll meshgrid dot matmul einsum tensordot outer inner vdot trace take
take_along_axis nonzero sort argsort unique float32 float64 int32 int64 uint32 bool_ finfo iinfo
""".split()
LINALG_NAMES = "norm inv solve cholesky det eigh svd".split()
LAX_NAMES = """
add sub mul div neg exp log sin cos tanh dot_general conv_general_dilated reduce_window
broadcast_in_dim reshape transpose slice dynamic_slice dynamic_update_slice gather scatter
scatter_add concatenate pad select_n convert_element_type bitcast_convert_type shift_left
shift_right_logical shift_right_arithmetic bitwise_and bitwise_or bitwise_xor bitwise_not iota
reduce_sum reduce_max argmax sort top_k cumsum stop_gradient
""".split()
NN_NAMES = """relu relu6 gelu silu swish sigmoid softplus elu leaky_relu tanh softmax log_softmax
logsumexp one_hot standardize""".split()
SPECIAL_NAMES = "logsumexp erf erfinv gammaln".split()
TREE_NAMES = "map leaves structure flatten unflatten reduce all".split()
TREE_UTIL_NAMES = """register_pytree_node register_dataclass register_pytree_node_class tree_map
tree_leaves tree_flatten tree_unflatten tree_structure""".split()

MISSING_BY_DESIGN = {
    # jax.lax.stop_gradient is an autodiff primitive; it arrives with the autodiff issue.
    ("lax", "stop_gradient"),
}


@pytest.mark.parametrize("module,names", [
    (numbax.numpy, NUMPY_NAMES), (numbax.numpy.linalg, LINALG_NAMES), (numbax.lax, LAX_NAMES),
    (numbax.nn, NN_NAMES), (numbax.scipy.special, SPECIAL_NAMES), (numbax.tree, TREE_NAMES),
    (numbax.tree_util, TREE_UTIL_NAMES),
], ids=["numpy", "linalg", "lax", "nn", "special", "tree", "tree_util"])
def test_api_names_exist(module, names):
    short = module.__name__.split(".")[-1]
    missing = [n for n in names if not hasattr(module, n) and (short, n) not in MISSING_BY_DESIGN]
    assert not missing, f"{module.__name__} lacks {missing}"


def test_top_level_names():
    for name in ["Array", "config", "make_jaxpr", "eval_shape", "ShapeDtypeStruct", "device_put",
                 "device_get", "devices", "local_devices", "default_backend", "block_until_ready",
                 "jit", "pure_callback", "numba_call", "debug"]:
        assert hasattr(numbax, name), name
    for name in ["print", "callback"]:
        assert callable(getattr(numbax.debug, name)), f"numbax.debug.{name}"


def _op_table_names():
    names = set()
    for path in sorted(pathlib.Path(__file__).parent.glob("test_*.py")):
        if path.name == pathlib.Path(__file__).name:
            continue
        spec = importlib.util.spec_from_file_location(f"_surface_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for value in vars(module).values():
            rows = value if isinstance(value, (list, tuple)) else [value]
            for row in rows:
                if isinstance(row, numbax.test_util.OpCase) and row.ref is not None:
                    names.add(row.name)
    return names


# Functions that are not array computations (dtype helpers, constants), or
# whose tests are property-style rather than an op-table row.
NOT_IN_OP_TABLE = set("""float32 float64 int32 int64 uint32 bool_ finfo iinfo""".split())


def test_op_table_covers_the_numpy_and_lax_surface():
    import numbax.test_util  # noqa: F401
    covered = _op_table_names()
    normalized = {name.split("[")[0].split(":")[0].replace("jnp.", "").replace("lax.", "")
                  .replace("linalg.", "").replace("nn.", "").replace("special.", "") for name in covered}
    wanted = [n for n in NUMPY_NAMES + LINALG_NAMES + LAX_NAMES if n not in NOT_IN_OP_TABLE]
    missing = sorted({n for n in wanted if n not in normalized} - {"stop_gradient"})
    assert not missing, f"op table has no row for {missing}"
