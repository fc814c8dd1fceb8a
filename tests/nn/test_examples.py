"""The examples run in their short mode and learn: each test states how far
the loss must fall. The steps run eagerly (``--no-jit``) so the suite does not
pay numba's compile time; tests/nn/test_train_state.py covers jitted steps."""

import importlib.util
import pathlib
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="run from a source checkout: examples/ is not installed")
needs_optim = pytest.mark.skipif(importlib.util.find_spec("numbax_optim") is None,
                                 reason="this example trains with numbax_optim, which is not installed")


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


@needs_optim
def test_mlp_digits_learns_checkpoints_and_resumes(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="mlp_digits needs scikit-learn's bundled digits")
    pytest.importorskip("numbax_checkpoint", reason="the resume check needs numbax_checkpoint")
    example = load("mlp_digits")
    first = example.main(["--steps", "44", "--no-jit", "--ckpt-dir", str(tmp_path)])
    assert first["final_loss"] < 0.4 * first["initial_loss"], "loss must fall by at least 60% in 44 steps"
    assert first["test_accuracy"] > 0.8
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.isdigit()) == ["1", "2"]
    resumed = example.main(["--steps", "66", "--no-jit", "--ckpt-dir", str(tmp_path), "--resume"])
    assert "resumed from the checkpoint of epoch 2" in capsys.readouterr().out
    assert [h["epoch"] for h in resumed["history"]] == [3] and resumed["steps"] == 66
    assert resumed["final_loss"] < first["final_loss"]


@needs_optim
def test_cnn_digits_learns(capsys):
    pytest.importorskip("sklearn", reason="cnn_digits needs scikit-learn's bundled digits")
    result = load("cnn_digits").main(["--steps", "40", "--no-jit", "--no-checkpoint"])
    assert result["final_loss"] < 0.4 * result["initial_loss"], "loss must fall by at least 60% in 40 steps"
    assert result["state"].batch_stats is not None
    assert "test acc" in capsys.readouterr().out


@needs_optim
def test_char_transformer_learns_and_samples(capsys):
    args = ["--steps", "30", "--batch-size", "8", "--block-size", "32", "--sample-length", "20"]
    result = load("char_transformer").main(args)
    assert result["final_loss"] < 0.75 * result["initial_loss"], "loss must fall by at least 25% in 30 steps"
    assert result["val_bits_per_char"] < result["unigram_bits"], "must beat a unigram model on held-out text"
    assert "sample: 'The for statement" in capsys.readouterr().out


def test_core_only_fits_the_line():
    result = load("core_only").main(["--steps", "50"])
    assert result["final_loss"] < 0.01 * result["initial_loss"], "loss must fall 100-fold in 50 steps"
    assert result["grad_gap"] < 1e-5
