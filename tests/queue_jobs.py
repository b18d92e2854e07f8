"""Jobs for the queue tests: a project whose eval writes its results row in seconds.

The eval is the real harness with one extra tiny profile and a stand-in train.py (a uniform
model, exactly 8 bits per byte); eval.py's own smoke profile writes no row and its cpu profile
takes minutes. Usage:

    make_row_writing(project)   # then queue: python tiny_eval.py --profile tiny
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

TINY_EVAL = '''\
"""eval.py plus a tiny row-writing profile; the harness is the same code."""
import time

import tyro

import eval
from autoresearch.harness import EvalArgs, run_eval

eval.PROFILES["tiny"] = eval.Profile("tiny", "cpu", seq_len=32, train_tokens=1_024, time_seconds=2, cap_seconds=60, val_docs=4)
raise SystemExit(run_eval(tyro.cli(EvalArgs), eval.PROFILES, eval.DATA, eval.DATA_SEED, eval.val_bpb, time.perf_counter()))
'''
UNIFORM_TRAIN = '''\
"""A stand-in train.py: reads its budget, learns nothing; uniform logits score exactly 8 bits per byte."""
import torch


class Uniform(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(256))

    def forward(self, idx):
        return self.logits.expand(*idx.shape, 256)


def train(data, budget, seed):
    while data.next_batch(4) is not None:
        pass
    return Uniform()
'''


def make_row_writing(project: Path) -> None:
    """Add tiny_eval.py and the stand-in train.py to the project, committed."""
    (project / "tiny_eval.py").write_text(TINY_EVAL)
    (project / "train.py").write_text(UNIFORM_TRAIN)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "tiny eval", "--no-verify"], cwd=project, check=True)


def until(check, seconds: float, what: str):
    """Poll `check` until it returns something truthy; fail the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {what}"
        time.sleep(0.3)
    return value
