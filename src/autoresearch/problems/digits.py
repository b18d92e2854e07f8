"""The image-classification example's steps for eval.py: scikit-learn's bundled 8x8 digits, accuracy.

    data = digits.load(DATA_SEED)                      # 1,797 images: a fixed train/validation split
    model = trial.train(Examples(data.train_x, data.train_y), image_shape=(8, 8), n_classes=10)
    logits = model.predict(data.val_x, out_shape=(10,))
    trial.score(digits.accuracy(logits, data.val_y), optimum=1.0)

The data ship inside the scikit-learn package (no download). Pixel values are scaled to [0, 1].
The validation labels never leave the eval process: the model only sees the validation images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

N_CLASSES = 10
IMAGE_SHAPE = (8, 8)
VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Digits:
    train_x: np.ndarray
    """float32 (n, 8, 8) in [0, 1]"""
    train_y: np.ndarray
    """int64 (n,)"""
    val_x: np.ndarray
    val_y: np.ndarray
    note: str
    files: tuple[Path, ...]
    """the data files inside scikit-learn: the training process may not read them"""

    @property
    def val_hash(self) -> str:
        return hashlib.sha256(self.val_x.tobytes() + self.val_y.tobytes()).hexdigest()[:12]


def load(seed: int) -> Digits:
    """The digits with a fixed, stratified split drawn from `seed` (80% train, 20% validation)."""
    import sklearn.datasets
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    val = np.concatenate(
        [rng.permutation(np.flatnonzero(y == c))[: round(VAL_FRACTION * (y == c).sum())] for c in range(N_CLASSES)]
    )
    val.sort()
    train = np.setdiff1d(np.arange(len(y)), val)
    folder = Path(sklearn.datasets.__file__).parent / "data"
    files = tuple(sorted(folder.glob("digits*")))
    note = f"scikit-learn digits, seed {seed}: {len(train)} training and {len(val)} validation images of 8x8"
    return Digits(x[train], y[train], x[val], y[val], note, files)


def accuracy(logits: np.ndarray, targets: np.ndarray) -> float:
    """The share of validation images whose largest logit is the true class (exact, float64)."""
    if logits.shape != (len(targets), N_CLASSES):
        raise ValueError(f"logits of shape {logits.shape}, expected {(len(targets), N_CLASSES)}")
    return float(np.mean(np.argmax(logits, axis=1) == targets, dtype=np.float64))
