"""Jobs for the queue tests: a project whose eval writes a known row in seconds, and a poller.

The eval is the project's own (the fixture eval.py of tests/conftest.py, profile `tiny`: the real
evaluation core, a few seconds a run) with a stand-in train.py whose model learns nothing: uniform
logits score exactly 8 bits per byte, so a test can assert the number. Usage:

    make_row_writing(project)   # then queue: python eval.py --profile tiny   (val_bpb 8.0)
    until(lambda: job.state == "done", 20, "the job to end")
    stop_tsp(project)           # empty and stop the project's task-spooler server
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

EVAL = ("eval.py", "--profile", "tiny")
"""What a queued job runs (after the python executable): one seed, one signed row."""
UNIFORM_TRAIN = '''\
"""A stand-in train.py: spends its budget, learns nothing; uniform logits score exactly 8 bits per byte."""
import torch

from autoresearch.evaluate import Budget, TrainData


class Uniform(torch.nn.Module):
    def __init__(self, vocab: int):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(vocab))

    def forward(self, idx):
        return self.logits.expand(*idx.shape, self.logits.shape[0])


def train(data: TrainData, budget: Budget, seed: int) -> torch.nn.Module:
    while data.next_batch(4) is not None:
        pass
    return Uniform(budget.spec["vocab_size"])
'''


def make_row_writing(project: Path) -> None:
    """Put the stand-in train.py in the project, committed: `python eval.py --profile tiny` then writes val_bpb 8.0."""
    (project / "train.py").write_text(UNIFORM_TRAIN)
    subprocess.run(["git", "commit", "-qam", "uniform train.py", "--no-verify"], cwd=project, check=True)


def until(check, seconds: float, what: str):
    """Poll `check` until it returns something truthy; fail the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {what}"
        time.sleep(0.3)
    return value


def stop_tsp(project: Path) -> None:
    """Remove the queued jobs, kill the running ones and stop the project's task-spooler server, if it has one."""
    from autoresearch.queue.tsp import QUEUE_DIR, SOCKET, find_tsp, parse_list

    socket = project / QUEUE_DIR / SOCKET
    tsp = find_tsp()
    if tsp is None or not socket.exists():
        return
    env = {**os.environ, "TS_SOCKET": str(socket)}
    listed = parse_list(subprocess.run([tsp, "-l"], env=env, capture_output=True, text=True, check=False).stdout)
    for flag, word in (("-r", "queued"), ("-k", "running")):  # queued first: a kill starts the next job
        for job_id in [i for i, w in listed.items() if w == word]:
            subprocess.run([tsp, flag, job_id], env=env, capture_output=True, check=False)
    subprocess.run([tsp, "-K"], env=env, capture_output=True, check=False)
