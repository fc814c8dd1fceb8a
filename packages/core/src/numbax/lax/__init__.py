"""``numbax.lax``: the primitives' public face (≈ ``jax.lax``)."""

from numbax._src.lax.elementwise import *  # noqa: F401,F403
from numbax._src.lax.shape import *  # noqa: F401,F403
from numbax._src.lax.index import *  # noqa: F401,F403
from numbax._src.lax.reduce import *  # noqa: F401,F403
from numbax._src.lax.cumulative import *  # noqa: F401,F403
from numbax._src.lax.sort import *  # noqa: F401,F403
from numbax._src.lax.dot import *  # noqa: F401,F403
from numbax._src.lax.conv import *  # noqa: F401,F403
from numbax._src.lax.parallel import *  # noqa: F401,F403
from numbax.lax import linalg as linalg  # noqa: F401,E402
from numbax._src.lax.control_flow import *  # noqa: F401,F403,E402
