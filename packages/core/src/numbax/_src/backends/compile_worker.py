"""``python -m numbax._src.backends.compile_worker PATH SPEC``: compile the
generated program file PATH for the argument types SPEC into numba's disk
cache and mark it compiled (the worker of background.py). Exits non-zero on
any failure; the caller then compiles in its own process, where the error is
raised with its traceback."""

import sys


def main(argv):
    path, spec = argv
    from . import background, cache
    try:
        module = cache.import_program(path)
        background.compile_program(module.program, background.parse_signature(spec))
        cache.mark_compiled(path)
    finally:
        cache.release_compile(path)  # claimed by the process that started this worker


if __name__ == "__main__":
    main(sys.argv[1:])
