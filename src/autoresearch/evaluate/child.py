"""The training process: confines itself, imports the checkout's train.py, trains on the batches the
eval process hands out, then answers validation inputs with the model's outputs.

Started by the eval process only (`python -I -m autoresearch.evaluate.child FD PID`): FD is its end
of the channel, PID the eval process (the child dies with it). Nothing this process does reaches the metric except the outputs it sends back, which
the eval process checks and scores itself. train.py sees two objects:

    def train(data: TrainData, budget: Budget, seed: int) -> model:   # model(x) -> outputs
        while (batch := data.next_batch(batch_size)) is not None:
            x, y = batch                      # tensors on budget.device
            lr = base_lr * schedule(data.progress)
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoresearch.evaluate import sandbox
from autoresearch.evaluate.budget import Budget
from autoresearch.evaluate.channel import ArraySpec, Buffer, Channel

if TYPE_CHECKING:
    import numpy as np


class TrainData:
    """The only source of training batches. Each `next_batch` asks the eval process, which counts the
    units it hands out and ends the stream (None) once the budget is spent."""

    def __init__(self, channel: Channel, budget: Budget):
        self._channel = channel
        self.budget = budget
        self._slots: dict[int, Buffer] = {}
        self.units_seen = 0
        self.steps = 0
        self.progress = 0.0
        """fraction of the budget spent, in [0, 1], as the eval process counts it"""
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def next_batch(self, batch_size: int) -> tuple[Any, ...] | None:
        """The next batch as tensors on the budget's device, or None once the budget is spent."""
        import torch

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"next_batch({batch_size!r}): the batch size must be a positive integer")
        self._channel.send({"op": "batch", "size": batch_size})
        reply, buffers = self._channel.recv()
        if reply.get("op") == "error":
            raise RuntimeError(f"the eval process refused the batch: {reply.get('message')}")
        self.units_seen, self.steps, self.progress = int(reply["units"]), int(reply["steps"]), float(reply["progress"])
        if reply["op"] == "end":
            return None
        slot = int(reply["slot"])
        if buffers:
            if slot in self._slots:
                self._slots[slot].close()
            self._slots[slot] = buffers[0]
        device = self.budget.device
        out = []
        for spec in (ArraySpec.from_json(a) for a in reply["arrays"]):
            view = self._slots[slot].view(spec)
            # Copy out: the eval process reuses the slot for a later batch.
            tensor = torch.from_numpy(view.copy()) if device == "cpu" else torch.from_numpy(view).to(device)
            out.append(tensor)
        return tuple(out)


def _where(tb: traceback.StackSummary, checkout: str) -> str:
    """`train.py line 12` for the innermost frame in the agent's code, '' when none."""
    for frame in reversed(tb):
        if frame.filename.startswith(checkout):
            return f"{os.path.relpath(frame.filename, checkout)} line {frame.lineno}"
    return ""


def _peak_cuda_gb() -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 1e9 if torch.cuda.is_available() else None


def _model_facts(model: Any) -> dict[str, Any]:
    params = sum(p.numel() for p in model.parameters()) if hasattr(model, "parameters") else None
    flops = getattr(model, "flops_per_token", None)
    return {
        "params": params,
        "flops_per_token": float(flops()) if callable(flops) else None,
        "cuda_peak_gb": _peak_cuda_gb(),
    }


def _predict(model: Any, budget: Budget, x: np.ndarray) -> Any:
    import torch

    inputs = torch.from_numpy(x.copy()).to(budget.device)
    with torch.no_grad():
        if budget.device == "cuda":
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return model(inputs)
        return model(inputs)


def serve(channel: Channel, start: dict[str, Any], hello: dict[str, Any]) -> None:
    """Import train.py, say hello, train when told to, then answer `predict` requests until told to exit."""
    import torch

    budget = Budget(**start["budget"])
    torch.set_num_threads(int(start["threads"]))
    sys.path.insert(0, start["checkout"])
    import train  # the agent's code, from the checkout

    channel.send(hello)
    go, _ = channel.recv()
    if go.get("op") != "go":
        return
    data = TrainData(channel, budget)
    model = train.train(data, budget, int(start["seed"]))
    if not callable(model):
        raise TypeError(
            f"train.train returned {type(model).__name__}, not a model: return something that maps inputs to outputs"
        )
    channel.send({"op": "trained", **_model_facts(model)})
    inputs: Buffer | None = None
    outputs: Buffer | None = None
    while True:
        message, buffers = channel.recv()
        if message["op"] == "exit":
            return
        if message["op"] != "predict":
            raise RuntimeError(f"unexpected request {message['op']!r} from the eval process")
        if "input_buffer" in message:
            inputs = buffers.pop(0)
        if "output_buffer" in message:
            outputs = buffers.pop(0)
        assert inputs is not None and outputs is not None
        result = _predict(model, budget, inputs.view(ArraySpec.from_json(message["x"])))
        shape = list(getattr(result, "shape", ()))
        out = ArraySpec.from_json(message["out"])
        if shape != list(out.shape) or not hasattr(result, "float"):
            channel.send(
                {"op": "outputs", "shape": shape, "dtype": str(getattr(result, "dtype", type(result).__name__))}
            )
            continue
        outputs.view(out)[...] = result.detach().float().cpu().numpy()
        channel.send({"op": "outputs", "shape": shape, "dtype": str(result.dtype), "cuda_peak_gb": _peak_cuda_gb()})


def _die_with_parent(parent: int) -> None:
    """If the eval process dies (kill -9), the kernel kills this process too: no orphan trainer runs on."""
    if sys.platform == "linux":
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def main(fd: int, parent: int) -> int:
    _die_with_parent(parent)
    channel = Channel(socket.socket(fileno=fd))
    start, _ = channel.recv()
    try:
        # Before anything else: confine() refuses a process with threads, and numpy or torch start some.
        confinement = sandbox.confine(
            read=[Path(p) for p in start["read"]],
            write=[Path(p) for p in start["write"]] + sandbox.default_write_paths(),
            protect=[Path(p) for p in start["protect"]],
            listable=[Path(p) for p in start["listable"]],
        )
        hello = {"op": "hello", "sandbox": confinement.status, "why": confinement.why, "pid": os.getpid()}
        serve(channel, start, hello)
    except BaseException as e:  # every failure of the agent's code goes back to the eval process as its reason
        tb = traceback.extract_tb(e.__traceback__)
        traceback.print_exc()
        sys.stderr.flush()
        kind = type(e).__name__
        message = str(e) if not isinstance(e, SystemExit) else f"train.py called exit({e.code})"
        with contextlib.suppress(Exception):
            channel.send(
                {
                    "op": "error",
                    "type": kind,
                    "message": message[:4000],
                    "where": _where(tb, start["checkout"]),
                    "permission": isinstance(e, PermissionError),
                }
            )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]), int(sys.argv[2])))
