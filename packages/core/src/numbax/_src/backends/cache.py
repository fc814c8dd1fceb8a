"""Where generated programs live: real module files in a cache directory.

numba caches compiled code only for functions defined in files (code created
with ``exec`` cannot be cached, numba/numba#3501), so each program is written
to ``<cache dir>/p_<hash>.py`` and imported from there; numba's
``cache=True`` then keeps the machine code next to it in ``__pycache__`` and
a second process starts warm.

- The directory is ``$NUMBAX_CACHE_DIR`` if set, else ``numbax`` under the
  user cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``).
  ``NUMBAX_CACHE_DIR=""`` disables the persistent cache (programs go to a
  per-process temporary directory and numba does not cache them).
- File names hash the program text, the backend and the numbax version, so
  different programs never share a file and an upgrade starts afresh.
- Writes are atomic (a temporary sibling, then ``os.replace``), so processes
  compiling the same program at once never see a half-written file.
- The directory is bounded (``NUMBAX_CACHE_MAX_MB``, default 512): when it
  grows past that, the least recently used programs are removed.
"""

import contextlib
import hashlib
import importlib.util
import os
import sys
import tempfile
import time

_MODULE_PREFIX = "numbax_program_"
_temporary_dir = None


def cache_dir():
    """The persistent cache directory, or None when caching is disabled."""
    configured = os.environ.get("NUMBAX_CACHE_DIR")
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "numbax")


def _directory():
    """``(directory, persistent)`` for the next program file."""
    global _temporary_dir
    persistent = cache_dir()
    if persistent is not None:
        try:
            os.makedirs(persistent, exist_ok=True)
            return persistent, True
        except OSError:
            pass  # an unwritable cache directory degrades to no persistent cache
    if _temporary_dir is None:
        _temporary_dir = tempfile.mkdtemp(prefix="numbax-programs-")
    return _temporary_dir, False


def program_key(*parts):
    """A short stable hash of the parts (program text, backend, version)."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return digest[:20]


def write_atomic(path, text):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_program(key, render):
    """The file of program ``key``, written with ``render(cache)`` if it does not
    exist yet (``cache``: whether numba may cache it). Returns ``(path, persistent)``;
    ``import_program(path)`` imports it."""
    directory, persistent = _directory()
    path = os.path.join(directory, f"p_{key}.py")
    if not os.path.exists(path):
        write_atomic(path, render(persistent))
        if persistent:
            cleanup(directory)
    else:
        # Mark the program recently used for the LRU cleanup on a sidecar file:
        # touching the module itself would change its mtime, which numba's
        # cache index checks, and every later process would recompile.
        used = _sidecar(path, ".used")
        try:
            with open(used, "a"):
                pass
            os.utime(used)
        except OSError:
            pass  # read-only cache: the LRU order just goes stale
    return path, persistent


def import_program(path):
    """The module of the program file ``path`` (imported once per process)."""
    name = _MODULE_PREFIX + os.path.basename(path)[2:-3]
    module = sys.modules.get(name)
    if module is None or getattr(module, "__file__", None) != path:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def _sidecar(path, suffix):
    """A file beside program ``path`` (``p_<key><suffix>``), cleaned up with it."""
    return path[:-len(".py")] + suffix


def mark_compiled(path):
    """Record that numba's disk cache holds the machine code of program ``path``
    (so a later process loads it instead of compiling in the background)."""
    write_atomic(_sidecar(path, ".compiled"), "")


def is_compiled(path):
    """Whether ``mark_compiled(path)`` was called (by any process): its machine
    code is then in numba's disk cache unless numba found it stale."""
    return os.path.exists(_sidecar(path, ".compiled"))


# A claim older than this is taken for a worker that died without releasing it.
CLAIM_SECONDS = 600


def claim_compile(path):
    """Claim the compile of program ``path`` for this process's worker (a file
    created exclusively, so across processes); False while another process's
    live claim holds it."""
    for _ in range(2):
        try:
            os.close(os.open(_sidecar(path, ".compiling"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except FileExistsError:
            if compile_claimed(path):
                return False
            release_compile(path)  # stale: its worker died
        except OSError:
            return False
    return False


def compile_claimed(path):
    """Whether a live claim on compiling program ``path`` exists."""
    try:
        return time.time() - os.stat(_sidecar(path, ".compiling")).st_mtime < CLAIM_SECONDS
    except OSError:
        return False


def release_compile(path):
    """Drop the claim on compiling program ``path``. Both the worker and the
    process that started it release it, so it may be gone already (a claim we
    cannot remove expires after CLAIM_SECONDS)."""
    with contextlib.suppress(OSError):
        os.unlink(_sidecar(path, ".compiling"))


def _max_bytes():
    try:
        return int(float(os.environ.get("NUMBAX_CACHE_MAX_MB", "512")) * 2**20)
    except ValueError:
        return 512 * 2**20


def cleanup(directory, max_bytes=None):
    """Remove least recently used programs (and numba's files for them) until
    the directory holds at most ``max_bytes``."""
    max_bytes = _max_bytes() if max_bytes is None else max_bytes
    groups = {}  # key -> [paths], last use
    pycache = os.path.join(directory, "__pycache__")
    for folder in (directory, pycache):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.startswith("p_"):
                continue
            key = name[2:].split(".")[0]
            full = os.path.join(folder, name)
            try:
                stat = os.stat(full)
            except OSError:
                continue
            paths, last, size = groups.get(key, ([], 0.0, 0))
            paths.append(full)
            groups[key] = (paths, max(last, stat.st_mtime), size + stat.st_size)
    total = sum(size for _, _, size in groups.values())
    for key, (paths, _, size) in sorted(groups.items(), key=lambda item: item[1][1]):
        if total <= max_bytes:
            break
        for full in paths:
            try:
                os.unlink(full)
            except OSError:
                pass
        total -= size
