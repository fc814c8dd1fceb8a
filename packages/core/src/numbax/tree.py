"""``numbax.tree`` (≈ ``jax.tree``): short names for the tree utilities."""

from numbax._src.tree_util import tree_all as all  # noqa: A004,F401
from numbax._src.tree_util import tree_flatten as flatten  # noqa: F401
from numbax._src.tree_util import tree_flatten_with_path as flatten_with_path  # noqa: F401
from numbax._src.tree_util import tree_leaves as leaves  # noqa: F401
from numbax._src.tree_util import tree_map as map  # noqa: A004,F401
from numbax._src.tree_util import tree_map_with_path as map_with_path  # noqa: F401
from numbax._src.tree_util import tree_reduce as reduce  # noqa: F401
from numbax._src.tree_util import tree_structure as structure  # noqa: F401
from numbax._src.tree_util import tree_transpose as transpose  # noqa: F401
from numbax._src.tree_util import tree_unflatten as unflatten  # noqa: F401
