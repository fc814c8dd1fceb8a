"""A small convolutional network on scikit-learn's 8x8 digits: Conv + BatchNorm
+ ReLU + max pooling, twice, then Dropout and a Dense classifier.

Shows BatchNorm's ``batch_stats`` collection through training (``mutable=
['batch_stats']``) and evaluation (``use_running_average``), with the data
pipeline, optimizer (adamw + warmup-cosine), jit steps and checkpointing of
examples/mlp_digits.py. Full run: 98.6-98.9% test accuracy (target 98%); with
``--no-jit`` it takes about 20 seconds. With numbax.jit (the default) numba needs
about 2.5 minutes on 2 cores to compile the steps the first time; meanwhile they
run op by op, as with ``--no-jit``, while a worker process compiles them (the short
run below takes ~6 s), and afterwards an epoch takes about a second (a later run
loads the compiled steps from the disk cache).

    python examples/cnn_digits.py              # full run (30 epochs)
    python examples/cnn_digits.py --steps 40   # short run (what CI does)
"""

import os
import sys

import numbax_nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_digits import load_digits_split, parse_args, summarize, train  # noqa: E402

ACCURACY_TARGET = 0.98


class CNN(nn.Module):
    """(8, 8, 1) -> conv32 -> pool -> conv64 -> pool -> dropout -> dense 10."""

    dropout: float = 0.3

    @nn.compact
    def __call__(self, x, train):
        for features in (32, 64):
            x = nn.Conv(features, (3, 3))(x)
            x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
            x = nn.max_pool(nn.relu(x), (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        x = nn.Dropout(self.dropout)(x, deterministic=not train)
        return nn.Dense(10)(x)


def main(argv=None):
    defaults = {"epochs": 30, "quick_steps": 40, "batch_size": 64, "learning_rate": 3e-3,
                "name": "numbax_cnn_digits"}
    args = parse_args(argv, defaults)
    ckpt_dir = None if args.no_checkpoint else args.ckpt_dir
    result = train(CNN(), load_digits_split(args.seed, images=True), epochs=args.epochs,
                   batch_size=args.batch_size, learning_rate=args.learning_rate, max_steps=args.steps,
                   seed=args.seed, ckpt_dir=ckpt_dir, resume=args.resume, batch_stats=True)
    summarize(result, ACCURACY_TARGET, args.steps is not None, ckpt_dir)
    return result


if __name__ == "__main__":
    main()
