"""Attack tests for the training child's confinement (src/autoresearch/evaluate/sandbox.py).

Each test starts a real Python process that confines itself as the training child will
(read: a code folder and default_read_paths(); write: a scratch folder and default_write_paths())
and then tries to get past the confinement; the test asserts the errno that stopped it.
Tests skip, with the reason, where the kernel lacks the Landlock ABI they need.
Run: OMP_NUM_THREADS=1 .venv/bin/python -m pytest -q tests/test_sandbox.py
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import socket
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from autoresearch.errors import UserError
from autoresearch.evaluate import sandbox

PROBE = sandbox.probe()


def needs_abi(abi: int, what: str):
    return pytest.mark.skipif(
        (PROBE.abi or 0) < abi,
        reason=f"{what} needs Landlock ABI {abi} (Linux {sandbox.ABI_LINUX[abi]}); this kernel has {PROBE.abi}",
    )


# The attacker: confines itself, runs the attack body (which fills `out`), prints `out` as JSON.
CHILD = """
import errno, json, os, signal, socket, subprocess, sys
from dataclasses import asdict
from pathlib import Path
from autoresearch.evaluate import sandbox

spec = json.loads(sys.argv[1])
confinement = sandbox.confine(read=[Path(p) for p in spec["read"]], write=[Path(p) for p in spec["write"]],
                              protect=[Path(spec["paths"]["record"])], max_abi=spec["max_abi"])
out = {"confinement": asdict(confinement)}
P = {k: Path(v) for k, v in spec["paths"].items()}
ARGS = spec["args"]


def attempt(action):
    try:
        action()
        return "done"
    except OSError as e:
        return errno.errorcode[e.errno]

"""


@dataclass
class Layout:
    project: Path  # the root checkout: the record lives here
    code: Path  # the agent's code folder: read-only for the child
    scratch: Path  # the child's only writable folder
    record: Path  # results.tsv, which the child must not read


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    project, scratch = tmp_path / "project", tmp_path / "scratch"
    code = project / "code"
    code.mkdir(parents=True)
    scratch.mkdir()
    record = project / "results.tsv"
    record.write_text("commit\tval_bpb\nabc1234\t1.234\n")
    (code / "train.py").write_text("LR = 3e-4\n")
    (scratch / "checkpoint.pt").write_text("weights\n")
    return Layout(project, code, scratch, record)


def child_command(layout: Layout, body: str, args: dict | None = None, max_abi: int | None = None) -> list[str]:
    """The argv of a confined attacker running `body`; the script lives in the (readable) code folder."""
    if PROBE.abi is None:
        pytest.skip(PROBE.why)
    script = layout.code / f"attack_{uuid.uuid4().hex[:8]}.py"
    script.write_text(CHILD + textwrap.dedent(body) + "\nprint(json.dumps(out))\n")
    spec = {
        "read": [str(layout.code), *map(str, sandbox.default_read_paths())],
        "write": [str(layout.scratch), *map(str, sandbox.default_write_paths())],
        "paths": {
            "project": str(layout.project),
            "code": str(layout.code),
            "scratch": str(layout.scratch),
            "record": str(layout.record),
        },
        "args": args or {},
        "max_abi": max_abi,
    }
    return [sys.executable, str(script), json.dumps(spec)]


def run_confined(
    layout: Layout, body: str, args: dict | None = None, timeout: float = 60, max_abi: int | None = None
) -> dict:
    proc = subprocess.run(
        child_command(layout, body, args, max_abi),
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=layout.code,
        stdin=subprocess.DEVNULL,
        env=child_env(layout),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_env(layout: Layout) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(layout.scratch), "PYTHONDONTWRITEBYTECODE": "1"}


def test_reading_the_record_next_to_the_code_is_denied(layout: Layout) -> None:
    out = run_confined(
        layout,
        """
        out["read record"] = attempt(lambda: P["record"].read_text())
        out["list project"] = attempt(lambda: os.listdir(P["project"]))
        os.symlink(P["record"], P["scratch"] / "record-link")
        out["through a symlink in scratch"] = attempt(lambda: (P["scratch"] / "record-link").read_text())
        out["read code"] = attempt(lambda: (P["code"] / "train.py").read_text())
    """,
    )
    assert out["read record"] == "EACCES"
    assert out["list project"] == "EACCES"
    assert out["through a symlink in scratch"] == "EACCES"
    assert out["read code"] == "done"


def test_changing_the_code_folder_is_denied(layout: Layout) -> None:
    out = run_confined(
        layout,
        """
        out["append"] = attempt(lambda: open(P["code"] / "train.py", "a"))
        out["create"] = attempt(lambda: (P["code"] / "new.py").write_text("x"))
        out["delete"] = attempt(lambda: os.unlink(P["code"] / "train.py"))
        out["mkdir"] = attempt(lambda: os.mkdir(P["code"] / "pkg"))
        out["symlink"] = attempt(lambda: os.symlink("/etc/passwd", P["code"] / "link"))
    """,
    )
    assert {k: out[k] for k in ("append", "create", "delete", "mkdir", "symlink")} == dict.fromkeys(
        ("append", "create", "delete", "mkdir", "symlink"), "EACCES"
    )
    assert (layout.code / "train.py").read_text() == "LR = 3e-4\n"
    assert sorted(p.name for p in layout.code.iterdir() if not p.name.startswith("attack_")) == ["train.py"]


def test_writing_outside_scratch_is_denied(layout: Layout) -> None:
    name = f"autoresearch-sandbox-{uuid.uuid4().hex[:8]}"
    targets = {"tmp": Path("/tmp") / name, "home": Path.home() / name, "project": layout.project / name}
    try:
        out = run_confined(
            layout,
            """
            for where, path in ARGS.items():
                out[where] = attempt(lambda: Path(path).write_text("x"))
        """,
            args={k: str(v) for k, v in targets.items()},
        )
        assert {k: out[k] for k in targets} == dict.fromkeys(targets, "EACCES")
        assert not any(p.exists() for p in targets.values())
    finally:
        for path in targets.values():
            path.unlink(missing_ok=True)


def test_moving_a_file_out_of_scratch_into_the_code_folder_is_denied(layout: Layout) -> None:
    out = run_confined(
        layout,
        """
        out["rename"] = attempt(lambda: os.rename(P["scratch"] / "checkpoint.pt", P["code"] / "model.py"))
        out["link"] = attempt(lambda: os.link(P["scratch"] / "checkpoint.pt", P["code"] / "model.py"))
    """,
    )
    assert out["rename"] == "EACCES" and out["link"] == "EACCES"
    assert not (layout.code / "model.py").exists()
    assert (layout.scratch / "checkpoint.pt").exists()


def test_pulling_the_record_into_scratch_is_denied(layout: Layout) -> None:
    """A hard link or rename into scratch would make the record readable through scratch's rights."""
    out = run_confined(
        layout,
        """
        out["link"] = attempt(lambda: os.link(P["record"], P["scratch"] / "stolen.tsv"))
        out["rename"] = attempt(lambda: os.rename(P["record"], P["scratch"] / "stolen.tsv"))
    """,
    )
    assert out["link"] in ("EXDEV", "EACCES") and out["rename"] in ("EXDEV", "EACCES"), out
    assert not (layout.scratch / "stolen.tsv").exists()
    assert layout.record.read_text().startswith("commit\tval_bpb")


@needs_abi(3, "restricting truncate")
def test_truncating_a_read_only_file_is_denied(layout: Layout) -> None:
    out = run_confined(
        layout,
        """
        out["truncate"] = attempt(lambda: os.truncate(P["code"] / "train.py", 0))
        out["open truncating"] = attempt(lambda: open(P["code"] / "train.py", "w"))
    """,
    )
    assert out["truncate"] == "EACCES" and out["open truncating"] == "EACCES"
    assert (layout.code / "train.py").read_text() == "LR = 3e-4\n"


@needs_abi(4, "denying TCP")
def test_tcp_connect_and_bind_are_denied(layout: Layout) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        out = run_confined(
            layout,
            """
            out["connect"] = attempt(lambda: socket.create_connection(("127.0.0.1", ARGS["port"]), timeout=5))
            out["bind"] = attempt(lambda: socket.create_server(("127.0.0.1", 0)))
        """,
            args={"port": port},
        )
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()
    assert out["connect"] == "EACCES" and out["bind"] == "EACCES"
    assert out["confinement"]["network"] is True


# A parent like the evaluation process: optionally hardened, it starts the confined child and,
# if it is still running and not stopped afterwards, reports the child's result.
PARENT = """
import json, subprocess, sys
from autoresearch.evaluate import sandbox
if sys.argv[1] == "harden":
    sandbox.harden_parent()
child = subprocess.run(json.loads(sys.argv[2]), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
assert child.returncode == 0, child.stderr
print(json.dumps({"child": json.loads(child.stdout.strip().splitlines()[-1]), "parent": "alive"}))
"""


def run_under_parent(layout: Layout, body: str, harden: bool, args: dict | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PARENT, "harden" if harden else "plain", json.dumps(child_command(layout, body, args))],
        check=False,
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        env=child_env(layout),
    )
    assert proc.returncode == 0, f"the parent did not survive (rc {proc.returncode}): {proc.stderr}"
    return json.loads(proc.stdout)


@needs_abi(6, "scoping signals")
def test_signals_to_the_parent_are_denied(layout: Layout) -> None:
    result = run_under_parent(
        layout,
        """
        out["SIGTERM"] = attempt(lambda: os.kill(os.getppid(), signal.SIGTERM))
        out["SIGSTOP"] = attempt(lambda: os.kill(os.getppid(), signal.SIGSTOP))
        out["probe the test process"] = attempt(lambda: os.kill(ARGS["pytest"], 0))
    """,
        harden=False,
        args={"pytest": os.getpid()},
    )
    child = result["child"]
    assert child["SIGTERM"] == "EPERM" and child["SIGSTOP"] == "EPERM" and child["probe the test process"] == "EPERM"
    assert result["parent"] == "alive"


@needs_abi(6, "scoping abstract unix sockets")
def test_the_parents_abstract_unix_socket_is_unreachable(layout: Layout) -> None:
    name = f"\0autoresearch-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(name)
        server.listen()
        out = run_confined(
            layout,
            """
            def connect():
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(ARGS["name"])
            out["connect"] = attempt(connect)
        """,
            args={"name": name},
        )
    assert out["connect"] == "EPERM"


def test_the_parents_memory_and_environment_are_unreadable(layout: Layout) -> None:
    result = run_under_parent(
        layout,
        """
        import ctypes
        ppid = os.getppid()
        out["mem"] = attempt(lambda: open(f"/proc/{ppid}/mem", "rb"))
        out["environ"] = attempt(lambda: open(f"/proc/{ppid}/environ", "rb").read())
        out["fd"] = attempt(lambda: open(f"/proc/{ppid}/fd/1", "rb"))
        out["fd link"] = attempt(lambda: os.readlink(f"/proc/{ppid}/fd/1"))
        libc = ctypes.CDLL(None, use_errno=True)
        PTRACE_ATTACH = 16
        rc = libc.ptrace(ctypes.c_long(PTRACE_ATTACH), ctypes.c_long(ppid), None, None)
        out["ptrace"] = "done" if rc == 0 else errno.errorcode[ctypes.get_errno()]
    """,
        harden=True,
    )
    child = result["child"]
    assert {k: child[k] for k in ("mem", "environ", "fd", "fd link")} == dict.fromkeys(
        ("mem", "environ", "fd", "fd link"), "EACCES"
    )
    assert child["ptrace"] == "EPERM"
    assert result["parent"] == "alive"


# A same-user process that is NOT confined (the agent's shell) starts a victim and reads its memory.
PEEK = """
import errno, os, subprocess, sys, time
from autoresearch.evaluate import sandbox
if os.geteuid() == 0:
    sandbox._drop_capabilities(sandbox._libc())  # else CAP_SYS_PTRACE passes the non-dumpable check
victim = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
start = int(victim.stdout.readline().split("-")[0], 16)
try:
    with open(f"/proc/{victim.pid}/mem", "rb") as mem:
        mem.seek(start)
        print("read" if len(mem.read(16)) == 16 else "short")
except OSError as e:
    print(errno.errorcode[e.errno])
finally:
    victim.kill()
"""
VICTIM = """
import sys, time
from autoresearch.evaluate import sandbox
if {harden}:
    sandbox.harden_parent()
print(open("/proc/self/maps").readline(), flush=True)
time.sleep(30)
"""


def peek(harden: bool) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PEEK, VICTIM.format(harden=harden)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.skipif(platform.system() != "Linux", reason="harden_parent is a no-op off Linux")
def test_harden_parent_stops_a_same_user_process_reading_its_memory() -> None:
    yama = Path("/proc/sys/kernel/yama/ptrace_scope")
    if yama.exists() and int(yama.read_text()) >= 2:
        pytest.skip("Yama ptrace_scope >= 2 already forbids the unhardened read this test compares with")
    assert peek(harden=False) == "read"  # the same attack works on a process that did not harden itself
    assert peek(harden=True) == "EACCES"


GRANDCHILD = """
import errno, sys
from pathlib import Path
results = []
for action in (lambda: Path(sys.argv[1]).read_text(), lambda: Path(sys.argv[2], "x").write_text("x")):
    try:
        action()
        results.append("done")
    except OSError as e:
        results.append(errno.errorcode[e.errno])
print(" ".join(results))
"""


def test_a_process_started_by_the_confined_child_is_confined_too(layout: Layout) -> None:
    out = run_confined(
        layout,
        """
        proc = subprocess.run([sys.executable, "-c", ARGS["code"], str(P["record"]), str(P["code"])],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        out["grandchild"] = proc.stdout.strip() or proc.stderr
    """,
        args={"code": GRANDCHILD},
    )
    assert out["grandchild"] == "EACCES EACCES"
    assert not (layout.code / "x").exists()


def test_writing_in_scratch_works(layout: Layout) -> None:
    out = run_confined(
        layout,
        """
        s = P["scratch"]
        (s / "runs" / "a").mkdir(parents=True)
        (s / "runs" / "a" / "log.txt").write_text("step 1\\n")
        with open(s / "runs" / "a" / "log.txt", "a") as f:
            f.write("step 2\\n")
        os.rename(s / "runs" / "a" / "log.txt", s / "log.txt")
        os.truncate(s / "log.txt", 7)
        os.symlink(s / "log.txt", s / "latest")
        import tempfile
        with tempfile.NamedTemporaryFile(dir=s) as f:
            f.write(b"x")
        (s / "checkpoint.pt").unlink()
        os.rmdir(s / "runs" / "a")
        out["log"] = (s / "latest").read_text()
        out["devnull"] = attempt(lambda: subprocess.run(["true"], stdout=subprocess.DEVNULL, check=True))
    """,
    )
    assert out["log"] == "step 1\n" and out["devnull"] == "done"
    assert sorted(p.name for p in layout.scratch.iterdir()) == ["latest", "log.txt", "runs"]


def test_creating_a_device_node_in_scratch_is_denied(layout: Layout) -> None:
    """A root child could otherwise make a node for the disk in scratch and read the record raw."""
    out = run_confined(
        layout,
        """
        import stat
        out["mknod"] = attempt(lambda: os.mknod(P["scratch"] / "disk", 0o600 | stat.S_IFBLK, os.makedev(8, 0)))
        out["fifo"] = attempt(lambda: os.mkfifo(P["scratch"] / "fifo"))
        out["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapBnd"))]
    """,
    )
    assert out["mknod"] == "EACCES" and out["fifo"] == "done"  # Landlock answers before the CAP_MKNOD check
    assert out["caps"][0] == "0000000000000000"  # no capability left, root or not


def test_torch_trains_when_confined(layout: Layout) -> None:
    out = run_confined(
        layout,
        """
        import torch
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(32, 4), torch.randn(32, 1)
        losses = []
        for _ in range(5):
            loss = torch.nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        torch.save(model.state_dict(), P["scratch"] / "model.pt")
        out["losses"] = losses
        out["record"] = attempt(lambda: P["record"].read_text())
    """,
        timeout=120,
    )
    assert out["losses"][-1] < out["losses"][0]
    assert (layout.scratch / "model.pt").exists()
    assert out["record"] == "EACCES"


@pytest.mark.skipif(platform.system() != "Linux", reason="Landlock is Linux-only")
def test_probe_and_confine_agree_with_the_kernel_abi(layout: Layout) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    kernel_abi = libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0), ctypes.c_uint32(1))  # ..._VERSION
    if kernel_abi < 0:
        assert PROBE.abi is None and PROBE.status == "none"
        return
    assert PROBE.abi == kernel_abi
    assert PROBE.status == f"landlock-abi{kernel_abi}"
    confined = run_confined(layout, "")["confinement"]
    assert confined["abi"] == kernel_abi and confined["status"] == PROBE.status
    assert confined["network"] is (kernel_abi >= 4) and confined["signals"] is (kernel_abi >= 6)
    assert confined["why"].startswith(f"Landlock ABI {kernel_abi}: read beneath")


def test_an_allowed_folder_that_contains_the_record_is_refused(layout: Layout) -> None:
    sandbox.check_protected([layout.code, *sandbox.default_read_paths()], [layout.scratch], [layout.record])
    with pytest.raises(UserError, match=f"the allowed path {layout.project} contains {layout.record}"):
        sandbox.check_protected([layout.project], [layout.scratch], [layout.record])
    with pytest.raises(UserError, match="contains"):
        sandbox.check_protected([layout.code], [layout.record], [layout.record])
    script = layout.code / "too_wide.py"
    script.write_text(
        textwrap.dedent(f"""
        from autoresearch.evaluate import sandbox
        sandbox.confine(read=[{str(layout.project)!r}], write=[], protect=[{str(layout.record)!r}])
    """)
    )
    proc = subprocess.run([sys.executable, str(script)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "UserError: sandbox: the allowed path" in proc.stderr


@pytest.mark.parametrize("abi", range(1, 8))
def test_each_older_abi_enforces_what_it_covers(layout: Layout, abi: int) -> None:
    """Runs the code path of an older kernel (its ruleset size and rights) on this one."""
    if abi > (PROBE.abi or 0):
        pytest.skip(f"this kernel has Landlock ABI {PROBE.abi}")
    with socket.create_server(("127.0.0.1", 0)) as server:
        out = run_confined(
            layout,
            """
            out["read record"] = attempt(lambda: P["record"].read_text())
            out["write code"] = attempt(lambda: (P["code"] / "new.py").write_text("x"))
            out["write scratch"] = attempt(lambda: (P["scratch"] / "new.txt").write_text("x"))
            out["tcp"] = attempt(lambda: socket.create_connection(("127.0.0.1", ARGS["port"]), timeout=5).close())
            out["signal"] = attempt(lambda: os.kill(ARGS["pytest"], 0))
            out["truncate"] = attempt(lambda: os.truncate(P["code"] / "train.py", 0))
        """,
            args={"port": server.getsockname()[1], "pytest": os.getpid()},
            max_abi=abi,
        )
    assert out["confinement"]["abi"] == abi and out["confinement"]["status"] == f"landlock-abi{abi}"
    assert (out["read record"], out["write code"], out["write scratch"]) == ("EACCES", "EACCES", "done")
    assert out["tcp"] == ("EACCES" if abi >= 4 else "done")
    assert out["signal"] == ("EPERM" if abi >= 6 else "done")
    assert out["truncate"] == ("EACCES" if abi >= 3 else "done")


@pytest.mark.skipif(PROBE.abi is None, reason=PROBE.why)
def test_confine_refuses_a_process_that_already_runs_threads(layout: Layout) -> None:
    script = layout.code / "threaded.py"
    script.write_text(
        textwrap.dedent("""
        import threading, time
        from autoresearch.evaluate import sandbox
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        sandbox.confine(read=[], write=[])
    """)
    )
    proc = subprocess.run([sys.executable, str(script)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "RuntimeError: confine() must run before the process starts threads (2 running)" in proc.stderr


@pytest.mark.parametrize(
    "system, err, expected",
    [
        ("Darwin", None, "Landlock is Linux-only and this is Darwin"),
        ("Linux", errno.ENOSYS, "has no Landlock (needs Linux >= 5.13"),
        ("Linux", errno.EOPNOTSUPP, "Landlock is disabled on kernel"),
        ("Linux", errno.EPERM, "the Landlock syscalls are blocked"),
    ],
)
def test_a_machine_without_landlock_is_reported_as_none(system: str, err: int | None, expected: str) -> None:
    confinement = sandbox.unavailable(system, err, "5.10.0")
    assert confinement.abi is None and confinement.status == "none"
    assert not confinement.network and not confinement.signals
    assert expected in confinement.why


def test_handled_rights_grow_with_the_abi() -> None:
    assert sandbox.FS.REFER not in sandbox.handled_fs(1)
    assert sandbox.FS.REFER in sandbox.handled_fs(2) and sandbox.FS.TRUNCATE not in sandbox.handled_fs(2)
    assert sandbox.FS.TRUNCATE in sandbox.handled_fs(3) and sandbox.FS.IOCTL_DEV not in sandbox.handled_fs(4)
    assert sandbox.handled_fs(7) == sandbox.handled_fs(5) == sandbox.FS((1 << 16) - 1)
