"""FROZEN: the problem this project optimises, as a procedure: data, budget, training, checks, score, record.

Usage: python eval.py [--profile smoke|cpu|cuda] [--seed N] [--seeds N] [--budget units|time] [--verbose]
       (or: just smoke, just eval)

train.py and model.py run in a separate, confined process that only receives training batches and
answers validation inputs; the number is computed here, in float64, and written by this process
alone: one row per seed to the ROOT results.tsv (smoke writes none), with a run folder in 7_runs/.
Editing this file needs META_MODE=1 (see program.md).
"""

import os
import sys

if not sys.flags.isolated:  # nothing in this folder may shadow the toolkit: rerun isolated (python -I)
    os.execv(sys.executable, [sys.executable, "-I", *sys.argv])

from autoresearch.evaluate import Metric, Profile, start
from autoresearch.problems import lm

METRIC = Metric("val_bpb", "lower")  # bits per byte of the validation documents
DATA = "synthetic"  # or "text:PATH": a .txt/.md file, a folder of them, or a glob (relative to the root checkout)
DATA_SEED = 1337  # fixes the corpus and the validation split; never change it mid-project

PROFILES = {
    "smoke": Profile("smoke", "cpu", budget=20_480, unit="tokens", seconds=5, cap_seconds=120, writes_row=False),
    "cpu": Profile("cpu", "cpu", budget=1_048_576, unit="tokens", seconds=150, cap_seconds=420),
    "cuda": Profile("cuda", "cuda", budget=400_000_000, unit="tokens", seconds=300, cap_seconds=900),
}
SEQ_LEN = {"smoke": 256, "cpu": 256, "cuda": 1024}  # bytes per training window and per validation document
VAL_DOCS = {"smoke": 16, "cpu": 256, "cuda": 512}


def main() -> int:
    run = start(METRIC, PROFILES)  # the command line, the record's state, the code's lineage
    name = run.profile.name
    data = lm.load(DATA, DATA_SEED, SEQ_LEN[name], VAL_DOCS[name], run.profile.budget, run.project.root)
    run.set_data(data.corpus.note, data.corpus.val_hash, data.corpus.files)  # the trainer may not read the files
    for trial in run.trials():  # one per seed; whatever fails inside a trial becomes its crash row
        with trial:
            model = trial.train(
                lm.windows(data), seq_len=data.seq_len, vocab_size=lm.VOCAB
            )  # confined, under the budget
            lm.check_causal(model, data, trial)  # later bytes must not move earlier logits
            bits = lm.doc_bits(model, data.val)  # the model's logits, scored here
            value = lm.bits_per_byte(bits, data)
            lm.check_floor(value, data)  # nothing beats the exact Bayes floor
            lm.check_fresh(model, data, bits, trial)  # nor does better on the split than on fresh text
            trial.score(value, optimum=data.floor_bpb)
    return run.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
