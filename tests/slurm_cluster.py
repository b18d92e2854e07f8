"""A real single-node Slurm cluster for the tests: its own munged, slurmctld and slurmd, started and stopped by PID.

Everything lives in one temporary folder (config, state, spool, logs, munge socket) on free ports,
so two test sessions at once do not meet, and a munged the machine already runs is left alone.
Needs root and the Debian packages slurmctld slurmd slurm-client munge (.ci/run installs them).
Usage (tests/test_queue_slurm.py has the fixture):

    cluster = SlurmCluster.start()       # SLURM_CONF is cluster.conf; cluster.env() for subprocesses
    ...
    cluster.stop()
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BINARIES = ("munged", "munge", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel", "sacct", "sinfo", "squeue")
MUNGE_KEY = Path("/etc/munge/munge.key")
INSTALL = "apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge (as .ci/run does)"


def binary(name: str) -> str | None:
    """The daemons live in /usr/sbin, which a non-root PATH may lack."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def why_not() -> str | None:
    """Why a cluster cannot start here, or None."""
    missing = [b for b in BINARIES if not binary(b)]
    if missing:
        return f"Slurm is not installed ({', '.join(missing)} not on PATH): {INSTALL}"
    if os.geteuid() != 0:
        return "a test Slurm cluster needs root (slurmd runs jobs as their user)"
    if not MUNGE_KEY.exists():
        return f"{MUNGE_KEY} is missing: the munge package makes it; reinstall munge"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SlurmCluster:
    base: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def conf(self) -> Path:
        return self.base / "slurm.conf"

    @property
    def jobcomp(self) -> Path:
        return self.base / "log" / "jobcomp.txt"

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    @classmethod
    def start(cls, timeout: float = 30.0) -> SlurmCluster:
        cluster = cls(Path(tempfile.mkdtemp(prefix="autoresearch-slurm-")))
        try:
            cluster._start(timeout)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _start(self, timeout: float) -> None:
        import pwd

        munge = pwd.getpwnam("munge")
        self.base.chmod(0o755)  # munged (user munge) must reach its socket folder inside
        for d in ("state", "spool", "log"):
            (self.base / d).mkdir()
        sock_dir = self.base / "munge"
        sock_dir.mkdir(mode=0o755)
        os.chown(sock_dir, munge.pw_uid, munge.pw_gid)
        sock = sock_dir / "munge.socket"
        self._spawn(
            [
                "munged",
                "-F",
                f"--socket={sock}",
                f"--pid-file={sock_dir / 'munged.pid'}",
                f"--seed-file={sock_dir / 'munged.seed'}",
                f"--log-file={sock_dir / 'munged.log'}",
            ],
            "munged",
            user=munge.pw_uid,
            group=munge.pw_gid,
        )
        self._until(lambda: sock.exists(), timeout, "munged made no socket", sock_dir / "munged.log")
        node = socket.gethostname().split(".")[0]
        self.conf.write_text(
            f"""ClusterName=autoresearch-test
SlurmctldHost={node}
SlurmUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
StateSaveLocation={self.base / "state"}
SlurmdSpoolDir={self.base / "spool"}
SlurmctldPidFile={self.base / "slurmctld.pid"}
SlurmdPidFile={self.base / "slurmd.pid"}
SlurmctldLogFile={self.base / "log" / "slurmctld.log"}
SlurmdLogFile={self.base / "log" / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp}
SelectType=select/cons_tres
SchedulerParameters=batch_sched_delay=0
MinJobAge=300
ReturnToService=2
GresTypes=gpu
NodeName={node} CPUs={os.cpu_count()} Gres=gpu:1 State=UNKNOWN
PartitionName=test Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""
        )
        # One pretend GPU (no device file), so that --gres=gpu:1, the default of GPU jobs, is scheduled here.
        (self.base / "gres.conf").write_text(f"NodeName={node} Name=gpu File=/dev/null\n")
        os.environ["SLURM_CONF"] = str(self.conf)
        self._spawn(["slurmctld", "-D", "-f", str(self.conf)], "slurmctld")
        self._spawn(["slurmd", "-D", "-f", str(self.conf)], "slurmd")
        self._until(self._idle, timeout, "the node never became idle", self.base / "log" / "slurmctld.log")

    def _spawn(self, args: list[str], name: str, **kwargs) -> None:
        log = open(self.base / "log" / f"{name}.out", "wb")  # noqa: SIM115 - the daemon writes it until stop()
        args = [binary(args[0]), *args[1:]]
        self.procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=self.env(), **kwargs))
        log.close()

    def _idle(self) -> bool:
        out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=self.env())
        return out.stdout.strip() == "idle"

    def _until(self, ready, timeout: float, what: str, log: Path) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            dead = [p.args[0] for p in self.procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
                raise RuntimeError(
                    f"test Slurm cluster: {what}{' (' + ', '.join(dead) + ' exited)' if dead else ''}; {log}:\n{tail}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Cancel the cluster's jobs (their slurmstepd outlives slurmd), stop what start() started, by PID, newest first; remove the folder."""
        if any(p.args[0].endswith("slurmctld") and p.poll() is None for p in self.procs):
            subprocess.run(["scancel", f"--user={os.getuid()}"], env=self.env(), capture_output=True)
            deadline = time.monotonic() + 10
            while (
                time.monotonic() < deadline
                and subprocess.run(
                    ["squeue", "-h", "-t", "RUNNING,COMPLETING"], env=self.env(), capture_output=True, text=True
                ).stdout.strip()
            ):
                time.sleep(0.2)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs.clear()
        if os.environ.get("SLURM_CONF") == str(self.conf):
            del os.environ["SLURM_CONF"]
        shutil.rmtree(self.base, ignore_errors=True)
