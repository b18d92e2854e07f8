"""FROZEN: the problem this project optimises, as a procedure: data, budget, training, score, record.

Usage: python eval.py [--profile smoke|cpu|cuda] [--seed N] [--seeds N] [--budget units|time] [--verbose]
       (or: just smoke, just eval)

Image classification on scikit-learn's bundled 8x8 digits (1,797 images, no download). train.py and
model.py run in a separate, confined process that receives training examples and answers the
validation images with logits; the labels never leave this process, which computes the accuracy
and writes one row per seed to the ROOT results.tsv (smoke writes none). Editing this file needs
META_MODE=1 (see program.md).
"""

import os
import sys

if not sys.flags.isolated:  # nothing in this folder may shadow the toolkit: rerun isolated (python -I)
    os.execv(sys.executable, [sys.executable, "-I", *sys.argv])

from autoresearch.evaluate import Examples, Metric, Profile, start
from autoresearch.problems import digits

METRIC = Metric("accuracy", "higher")  # share of validation images classified right
DATA_SEED = 1337  # fixes the train/validation split; never change it mid-project

PROFILES = {
    "smoke": Profile("smoke", "cpu", budget=2_048, unit="examples", seconds=5, cap_seconds=120, writes_row=False),
    "cpu": Profile("cpu", "cpu", budget=65_536, unit="examples", seconds=30, cap_seconds=300, window=(10, 300)),
    "cuda": Profile("cuda", "cuda", budget=4_194_304, unit="examples", seconds=120, cap_seconds=600),
}


def main() -> int:
    run = start(METRIC, PROFILES)  # the command line, the record's state, the code's lineage
    data = digits.load(DATA_SEED)
    run.set_data(data.note, data.val_hash, data.files)  # the trainer may not read the data files
    for trial in run.trials():  # one per seed; whatever fails inside a trial becomes its crash row
        with trial:
            model = trial.train(
                Examples(data.train_x, data.train_y), image_shape=digits.IMAGE_SHAPE, n_classes=digits.N_CLASSES
            )
            logits = model.predict(data.val_x, out_shape=(digits.N_CLASSES,), chunk=512)  # the labels stay here
            trial.score(digits.accuracy(logits, data.val_y), optimum=1.0)
    return run.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
