"""Sessions for the numbax monorepo: `nox -l` lists them, `nox -s NAME` runs one.

Every session installs the packages from their local directories, non-editable, so
tests exercise what a user would install. The siblings depend on `numbax` (and nn
on `numbax-random`), which are not on PyPI: naming their local directories in the
same pip command lets pip resolve those names to them.
"""

import os
import pathlib

import nox

nox.options.sessions = ["lint", "tests"]
# Virtualenvs are kept between runs; pip reinstalls the local packages every time
# (a local directory is always rebuilt), and already-satisfied PyPI pins are skipped.
nox.options.reuse_venv = "yes"

ROOT = pathlib.Path(__file__).parent

# package -> the local package directories it needs, itself last (what its pyproject declares).
PACKAGES = {
    "core": ["packages/core"],
    "random": ["packages/core", "packages/random"],
    "nn": ["packages/core", "packages/random", "packages/nn"],
    "optim": ["packages/core", "packages/optim"],
    "checkpoint": ["packages/core", "packages/checkpoint"],
}
ALL_PACKAGES = list(dict.fromkeys(path for paths in PACKAGES.values() for path in paths))
LINT_PATHS = ["packages", "tests", "benchmarks", "examples", "noxfile.py"]


@nox.session
def tests(session: nox.Session) -> None:
    """Install all five packages and run the whole suite (what .ci/run runs)."""
    session.install(*ALL_PACKAGES, "pytest", "scikit-learn")
    session.run("python", "-m", "pytest", "tests", *session.posargs)


def _package_tests(package: str):
    def run(session: nox.Session) -> None:
        session.install(*PACKAGES[package], "pytest")
        session.run("python", "-m", "pytest", f"tests/{package}", *session.posargs)

    run.__doc__ = f"Install only {PACKAGES[package][-1]} and what it declares, then run tests/{package}."
    return run


for _package in PACKAGES:
    nox.session(name=f"tests-{_package}")(_package_tests(_package))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check over the packages, tests, benchmarks, examples and this file."""
    session.install("ruff")
    session.run("ruff", "check", *LINT_PATHS, *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Install all packages and run the main end-to-end example, examples/mlp_digits.py
    (then the core-only examples/demo.py)."""
    session.install(*ALL_PACKAGES, "scikit-learn")
    session.run("python", "examples/mlp_digits.py", *session.posargs)
    session.run("python", "examples/demo.py")


@nox.session
def examples(session: nox.Session) -> None:
    """Install all packages and run every script in examples/."""
    session.install(*ALL_PACKAGES, "scikit-learn")
    for script in sorted((ROOT / "examples").glob("*.py")):
        session.run("python", str(script.relative_to(ROOT)))


@nox.session
def bench(session: nox.Session) -> None:
    """Install every package and JAX (the reference of issue 6), then run benchmarks/ and
    print figures against NumPy and JAX. NUMBAX_BENCH_JAX=0 skips installing JAX and
    drops the JAX columns."""
    session.install(*ALL_PACKAGES)
    with_jax = os.environ.get("NUMBAX_BENCH_JAX") != "0"
    if with_jax:
        session.install("jax")
    # A reused venv may still hold jax from an earlier run: say explicitly whether to use it.
    env = {"NUMBAX_BENCH_JAX": "1" if with_jax else "0"}
    session.run("python", "benchmarks/run.py", *session.posargs, env=env)
