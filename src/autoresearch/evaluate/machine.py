"""What the machine is doing: free CPU cores, load, competing processes, and the environment of a run.

On the CPU, torch's default of one thread per core oversubscribes a machine that is already busy, and
a run that should take 100 s hits its cap. So the eval process measures how many cores are idle
right now and gives the training process that many threads (AUTORESEARCH_THREADS or --threads
override it); the same seed gives the same number whatever the count. Usage:

    threads, why = choose_threads("cpu")          # e.g. (1, "1 of 2 cores idle at start")
    busy_report(exclude={os.getpid()})            # "load 3.9 on 2 cores; competing: python (pid 123) 97% ..."
    environment("cpu", threads)                   # a dict for the run folder
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

SAMPLE_SECONDS = 0.3


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _cpu_times() -> tuple[float, float] | None:
    """(idle, total) jiffies of the whole machine, or None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait, over user..steal


def idle_cores(seconds: float = SAMPLE_SECONDS) -> float | None:
    """How many cores were idle over the next `seconds`, or None where it cannot be measured."""
    a = _cpu_times()
    if a is None:
        return None
    time.sleep(seconds)
    b = _cpu_times()
    assert b is not None
    total = b[1] - a[1]
    return None if total <= 0 else (os.cpu_count() or 1) * (b[0] - a[0]) / total


def choose_threads(device: str, override: int | None = None) -> tuple[int, str]:
    """CPU threads for the training process, and why."""
    n = cores()
    if override is not None:
        return override, "set by --threads"
    if env := os.environ.get("AUTORESEARCH_THREADS"):
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"AUTORESEARCH_THREADS={env!r}: expected a positive integer")
        return int(env), "set by AUTORESEARCH_THREADS"
    if device != "cpu":
        return n, f"all {n} cores (the GPU does the work)"
    idle = idle_cores()
    if idle is None:
        return n, f"all {n} cores (no /proc/stat to measure the load)"
    threads = max(1, min(n, int(idle + 0.5)))
    return threads, f"{idle:.1f} of {n} cores idle at start"


@dataclass(frozen=True)
class Competitor:
    pid: int
    name: str
    cpu_percent: float


def competitors(exclude: set[int], seconds: float = SAMPLE_SECONDS, top: int = 5) -> list[Competitor]:
    """The processes (other than `exclude`) using the most CPU over the next `seconds`."""

    def ticks() -> dict[int, tuple[str, int]]:
        found = {}
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
            if not entry.isdigit() or int(entry) in exclude:
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
            found[int(entry)] = (name, int(rest[11]) + int(rest[12]))  # utime + stime
        return found

    before = ticks()
    time.sleep(seconds)
    after = ticks()
    hz = os.sysconf("SC_CLK_TCK")
    used = [
        Competitor(pid, name, 100 * (t - before[pid][1]) / hz / seconds)
        for pid, (name, t) in after.items()
        if pid in before and t > before[pid][1]
    ]
    return sorted(used, key=lambda c: -c.cpu_percent)[:top]


def load() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def busy_report(exclude: set[int]) -> str:
    """One line on how busy the machine is now: load average, cores, the biggest CPU users."""
    avg = load()
    head = f"load average {avg[0]:.1f} on {cores()} cores" if avg else f"{cores()} cores"
    busy = [c for c in competitors(exclude) if c.cpu_percent >= 20]
    if not busy:
        return head + "; no other process was using the CPU"
    listed = ", ".join(f"{c.name} (pid {c.pid}) {c.cpu_percent:.0f}%" for c in busy)
    return f"{head}; {len(busy)} other process{'es' * (len(busy) > 1)} competing: {listed}"


def gpu_processes() -> list[str]:
    """`pid name memory` of every process on the GPUs (nvidia-smi), [] without one."""
    if shutil.which("nvidia-smi") is None:
        return []
    out = subprocess.run(
        ["nvidia-smi", "--query-compute-apps=pid,process_name,used_memory", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []


def environment(device: str, threads: int, why: str) -> dict[str, object]:
    import torch

    info: dict[str, object] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": platform.node(),
        "torch": torch.__version__,
        "device": device,
        "cpu_cores": cores(),
        "threads": threads,
        "threads_why": why,
        "load_at_start": load(),
    }
    if torch.cuda.is_available():
        info |= {
            "cuda": torch.version.cuda,
            "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "gpu_processes_at_start": gpu_processes(),
        }
    return info
