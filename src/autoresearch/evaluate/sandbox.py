"""Confinement of the training child with Landlock: what it may read, write, reach and signal.

Usage, in the child process, before any of the agent's code is imported:

    from autoresearch.evaluate import sandbox
    confinement = sandbox.confine(
        read=[code_dir, *sandbox.default_read_paths()],
        write=[scratch_dir, *sandbox.default_write_paths()],
    )
    # confinement.status ("landlock-abi7" or "none") goes into the results row

and in the parent, once at start-up: `sandbox.harden_parent()`; `sandbox.probe()` tells, without
restricting anything, what a child on this machine will get.

`confine()` restricts the calling process and every process it starts later, for good:
- files: read and execute only beneath the `read` paths; read, write, create, delete, rename and
  truncate only beneath the `write` paths; nothing elsewhere (no read, no listing, no write).
  Rules on a regular file carry only file rights; paths that do not exist are skipped.
  Creating device nodes is never granted, not even in scratch (a root child could otherwise make a
  node for the disk and read the record through it).
- network (ABI >= 4, Linux 6.7): TCP bind and connect are denied on every port.
- scopes (ABI >= 6, Linux 6.12): signals to processes outside the sandbox (the parent, the agent's
  shell) and connections to abstract unix sockets made outside it are denied.
- ptrace (every ABI): the child cannot ptrace, or read /proc/<pid>/mem, environ or fd/ of, a process
  outside its sandbox.
- capabilities: all are dropped (effective, permitted, inheritable, ambient, and the bounding set
  where the process may), so a child started as root (CI, many GPU containers) keeps no
  CAP_SYS_MODULE, CAP_SYS_RAWIO or CAP_DAC_OVERRIDE; no_new_privs stops setuid programs.
Each Landlock ABI only adds rights the kernel can check: truncate from ABI 3 (Linux 6.2), device
ioctls from ABI 5 (Linux 6.10); ABI 1 (5.13-5.18) refuses every rename or link across folders.
Where Landlock is missing (macOS, a kernel before 5.13 or built without it, disabled at boot),
confine() restricts nothing and says why: the run still works and the row says "none".

Devices (`default_write_paths`): /dev/null read-write; the GPU device files read-write with device
ioctls (CUDA needs ioctls on /dev/nvidiactl, /dev/nvidia<N>, /dev/nvidia-uvm(-tools),
/dev/nvidia-modeset and the MIG capability files /dev/nvidia-caps/*; ROCm on /dev/kfd and
/dev/dri/*, whose folder it lists). Read only: /dev/urandom, /dev/random, /dev/zero, /dev/full.
CUDA under this confinement has not yet been run on a GPU machine. Nothing else under /dev:
not /dev/shm (the parent's named shared memory), not the disks, not other terminals.

What it does NOT cover:
- anything at all on a kernel without Landlock or where a container blocks its syscalls (the row
  says "none"); on ABI < 4 the network, on ABI < 6 signals and abstract unix sockets, on ABI < 3
  truncate, on ABI < 5 device ioctls;
- UDP, raw and other non-TCP sockets, and connect() to a named (path) unix socket, such as a Docker
  or nvidia-persistenced socket the user may reach: Landlock ABI <= 7 does not check them;
- file descriptors opened before confine() (inherited from the parent or opened by the child before
  the call): the parent must pass only the pipes it means to (subprocess's close_fds=True);
- whatever the parent sends the child (a batch, a validation input) is the child's to read;
- the GPU: its memory and other processes' kernels on it are not isolated;
- information in /proc and /sys (other processes' command lines and status, the hardware), and
  everything under the read paths, including /etc;
- CPU, memory, disk and GPU exhaustion (the parent's cap and limits must handle those), and covert
  channels through timing or shared caches;
- threads: confine() must run while the process has one thread (it refuses otherwise), since
  Landlock restricts only the calling thread and what it starts afterwards;
- a secret on the parent's command line: /proc/<pid>/cmdline stays readable (pass seeds and keys
  through a pipe); a hard link of a secret already placed inside an allowed folder (check_protected
  sees only paths);
- a same-user process outside the sandbox (the agent's shell) against the parent: only
  harden_parent()'s non-dumpable flag stands there, and root (CAP_SYS_PTRACE) passes it.
The parent should start the child in a new session (no controlling terminal), with stdin from
/dev/null, with TMPDIR (without it tempfile finds no usable folder), HOME and the caches
(XDG_CACHE_HOME, TORCHINDUCTOR_CACHE_DIR, TRITON_CACHE_DIR, CUDA_CACHE_PATH) pointing into scratch,
and with inherited pipes, socketpairs or memfds as the only way to talk: a TCP or abstract unix
socket between them is denied by the confinement itself, and /dev/shm is not granted.

Binding: a small ctypes binding of the three Landlock syscalls, not a PyPI package. `landlock`
1.0.0.dev5 handles filesystem rights only (its ruleset has no handled_access_net and no scoped
field), so it cannot deny TCP or scope signals; `landlockpy` 0.2.0 and `py-landlock` 0.1.1 do cover
ABI 4-6 but are months-old 0.x releases by a single maintainer each. The kernel interface is small
and stable (three syscalls, numbers 444-446 on every architecture but alpha), and the one place
where we must know exactly which rights are handled is this one; the attack tests in
tests/test_sandbox.py check each right on the running kernel.
"""

from __future__ import annotations

import ctypes
import enum
import errno
import importlib.util
import os
import platform
import site
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autoresearch.errors import UserError

# Packages the training child imports: their import locations must be readable even when an
# editable install puts them outside site-packages.
CHILD_PACKAGES = ("autoresearch", "torch", "numpy", "einops", "jaxtyping", "loguru", "rich")
SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/opt")
DEVICE_READ_PATHS = ("/dev/urandom", "/dev/random", "/dev/zero", "/dev/full", "/dev/dri")
DEVICE_WRITE_GLOBS = (
    "null",
    "nvidiactl",
    "nvidia[0-9]*",
    "nvidia-uvm",
    "nvidia-uvm-tools",
    "nvidia-modeset",
    "nvidia-caps/*",
    "nvidia-caps-imex-channels/*",
    "kfd",
    "dri/*",
)
# The Linux release that brought each ABI, for the messages.
ABI_LINUX = {1: "5.13", 2: "5.19", 3: "6.2", 4: "6.7", 5: "6.10", 6: "6.12", 7: "6.15"}

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAP_VERSION_3 = 0x20080522


class FS(enum.IntFlag):
    """LANDLOCK_ACCESS_FS_*: the filesystem rights."""

    EXECUTE = 1 << 0
    WRITE_FILE = 1 << 1
    READ_FILE = 1 << 2
    READ_DIR = 1 << 3
    REMOVE_DIR = 1 << 4
    REMOVE_FILE = 1 << 5
    MAKE_CHAR = 1 << 6
    MAKE_DIR = 1 << 7
    MAKE_REG = 1 << 8
    MAKE_SOCK = 1 << 9
    MAKE_FIFO = 1 << 10
    MAKE_BLOCK = 1 << 11
    MAKE_SYM = 1 << 12
    REFER = 1 << 13  # ABI 2
    TRUNCATE = 1 << 14  # ABI 3
    IOCTL_DEV = 1 << 15  # ABI 5


FILE_RIGHTS = FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV
READ_RIGHTS = FS.EXECUTE | FS.READ_FILE | FS.READ_DIR
NEVER_GRANTED = FS.MAKE_CHAR | FS.MAKE_BLOCK
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6


@dataclass(frozen=True)
class Confinement:
    """What the kernel enforces on the training child; `status` is the results row's sandbox column."""

    abi: int | None
    """Landlock ABI in force (or on offer, from probe()); None when nothing is confined."""
    status: str
    """One token for the results row: "landlock-abi7", or "none"."""
    why: str
    """One line: what is enforced, or why nothing is."""
    network: bool
    """TCP bind and connect denied (ABI >= 4)."""
    signals: bool
    """Signals and abstract unix sockets scoped to the sandbox (ABI >= 6)."""

    @classmethod
    def landlock(cls, abi: int, why: str) -> Confinement:
        """Landlock at `abi`: the row's token and what that ABI enforces follow from it."""
        return cls(abi=abi, status=f"landlock-abi{abi}", why=why, network=abi >= 4, signals=abi >= 6)


def handled_fs(abi: int) -> FS:
    """The filesystem rights that a ruleset handles (denies unless a rule grants them) at this ABI."""
    rights = FS((1 << 13) - 1)  # EXECUTE through MAKE_SYM: ABI 1
    if abi >= 2:
        rights |= FS.REFER
    if abi >= 3:
        rights |= FS.TRUNCATE
    if abi >= 5:
        rights |= FS.IOCTL_DEV
    return rights


def unavailable(system: str, err: int | None, release: str) -> Confinement:
    """The Confinement of a machine without Landlock: on `system`, with the version query's errno."""
    if system != "Linux":
        why = f"no confinement: Landlock is Linux-only and this is {system}"
    elif err == errno.ENOSYS:
        why = (
            f"no confinement: kernel {release} has no Landlock "
            "(needs Linux >= 5.13 built with CONFIG_SECURITY_LANDLOCK)"
        )
    elif err == errno.EOPNOTSUPP:
        why = f"no confinement: Landlock is disabled on kernel {release} (add landlock to the lsm= boot parameter)"
    elif err == errno.EPERM:
        why = (
            f"no confinement: the Landlock syscalls are blocked on kernel {release} (a container's seccomp "
            "profile; allow landlock_create_ruleset, landlock_add_rule and landlock_restrict_self)"
        )
    else:
        raise ValueError(f"unexpected errno {err} from the Landlock version query")
    return Confinement(abi=None, status="none", why=why, network=False, signals=False)


def probe() -> Confinement:
    """What confine() would enforce on this machine; restricts nothing."""
    system, release = platform.system(), platform.release()
    if system != "Linux":
        return unavailable(system, None, release)
    libc = _libc()
    ctypes.set_errno(0)
    abi = libc.syscall(
        ctypes.c_long(_SYS_CREATE_RULESET), None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
    )
    if abi < 0:
        return unavailable(system, ctypes.get_errno(), release)
    return Confinement.landlock(abi, f"Landlock ABI {abi} on kernel {release}: {_covers(abi)}")


def confine(
    read: Iterable[Path],
    write: Iterable[Path],
    protect: Iterable[Path] = (),
    *,
    listable: Iterable[Path] = (),
    max_abi: int | None = None,
) -> Confinement:
    """Restrict the calling process, and every process it starts later, for good (see the module docstring).

    read: files or folders the process may read and execute beneath; write: those it may also write,
    create in, delete from and rename within. Paths that do not exist are skipped. protect: what the
    process must not reach (the record, the data cache, the signing key); checked first, see
    check_protected. listable: folders whose entries (names only, not contents) may be listed, at any
    depth: Python's import system lists a folder on sys.path before it opens a module there. max_abi: enforce as an older kernel would (the tests use it to run every ABI's
    code path here). Raises OSError if the kernel refuses a step, RuntimeError if the process already
    runs more than one thread.
    """
    read, write, listable = list(read), list(write), list(listable)
    check_protected(read, write, protect)
    offer = probe()
    if offer.abi is None:
        return offer
    abi = offer.abi if max_abi is None else min(offer.abi, max_abi)
    threads = len(os.listdir("/proc/self/task"))
    if threads > 1:
        raise RuntimeError(
            f"confine() must run before the process starts threads ({threads} running): "
            "call it first thing in the child, before importing torch"
        )
    libc = _libc()
    handled = handled_fs(abi)
    attr = _RulesetAttr(
        handled_access_fs=handled,
        handled_access_net=_NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0,
        scoped=_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # the struct grew a field at ABI 4 and 6
    ruleset = _syscall(
        libc,
        "landlock_create_ruleset",
        _SYS_CREATE_RULESET,
        ctypes.c_void_p(ctypes.addressof(attr)),
        ctypes.c_size_t(size),
        ctypes.c_uint32(0),
    )
    try:
        counts = []
        for paths, rights in (
            (read, handled & READ_RIGHTS),
            (write, handled & ~NEVER_GRANTED),
            (listable, handled & FS.READ_DIR),
        ):
            counts.append(sum(_add_rule(libc, ruleset, Path(p), rights) for p in paths))
        _prctl(libc, _PR_SET_NO_NEW_PRIVS, 1)
        caps = _drop_capabilities(libc)
        _syscall(libc, "landlock_restrict_self", _SYS_RESTRICT_SELF, ctypes.c_long(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return Confinement.landlock(
        abi, f"Landlock ABI {abi}: read beneath {counts[0]} paths, write beneath {counts[1]}; {_covers(abi)}; {caps}"
    )


def check_protected(read: Iterable[Path], write: Iterable[Path], protect: Iterable[Path]) -> None:
    """Raise UserError if a read or write path is, or contains, a protected path: Landlock can only
    grant, so a rule on a folder cannot leave out the record inside it. The parent calls this before
    starting the child (and confine() again inside it)."""
    rules = _existing_unique([*read, *write])
    for secret in protect:
        secret = Path(secret).resolve()
        for rule in rules:
            if rule == secret or rule in secret.parents:
                raise UserError(
                    f"sandbox: the allowed path {rule} contains {secret}, which the training process "
                    f"must not reach; move {secret.name} out of it or allow narrower paths"
                )


def harden_parent() -> None:
    """Make the calling process non-dumpable, so that a same-user process cannot ptrace it or read its
    /proc/<pid>/mem, environ or fd/ (root still can); a no-op off Linux."""
    if platform.system() == "Linux":
        _prctl(_libc(), _PR_SET_DUMPABLE, 0)


def default_read_paths() -> list[Path]:
    """What a Python + torch training process needs to read and execute: the interpreter's prefixes,
    site-packages, the import locations of CHILD_PACKAGES, the system folders and a few devices.
    Not sys.path: a PYTHONPATH entry may be the project folder itself."""
    candidates = [Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)]
    candidates.append(Path(sys.executable))
    candidates += [Path(p) for p in site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        candidates.append(Path(site.getusersitepackages()))
    for name in CHILD_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            candidates += [Path(p) for p in spec.submodule_search_locations]
        elif spec.origin:
            candidates.append(Path(spec.origin))
    candidates += [Path(p) for p in SYSTEM_READ_PATHS + DEVICE_READ_PATHS]
    return _existing_unique(candidates)


def default_write_paths() -> list[Path]:
    """/dev/null and the GPU device files that exist here (CUDA and ROCm), which need write and ioctl."""
    dev = Path("/dev")
    return _existing_unique([p for pattern in DEVICE_WRITE_GLOBS for p in sorted(dev.glob(pattern)) if not p.is_dir()])


def _covers(abi: int) -> str:
    parts = ["files"]
    parts.append("TCP bind/connect denied" if abi >= 4 else f"TCP not restricted (needs ABI 4, Linux {ABI_LINUX[4]})")
    parts.append(
        "signals and abstract unix sockets scoped"
        if abi >= 6
        else f"signals and abstract unix sockets not scoped (needs ABI 6, Linux {ABI_LINUX[6]})"
    )
    if abi < 3:
        parts.append(f"truncate not restricted (needs ABI 3, Linux {ABI_LINUX[3]})")
    if abi < 5:
        parts.append(f"device ioctls not restricted (needs ABI 5, Linux {ABI_LINUX[5]})")
    return ", ".join(parts)


def _existing_unique(paths: Iterable[Path | str]) -> list[Path]:
    seen: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.exists():
            seen.setdefault(path.resolve(), None)
    return list(seen)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is __attribute__((packed))
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _syscall(libc: ctypes.CDLL, name: str, number: int, *args: object) -> int:
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name} failed: {os.strerror(err)}")
    return result


def _prctl(libc: ctypes.CDLL, option: int, arg: int) -> None:
    ctypes.set_errno(0)
    zero = ctypes.c_ulong(0)
    if libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), zero, zero, zero) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}) failed: {os.strerror(err)}")


def _add_rule(libc: ctypes.CDLL, ruleset: int, path: Path, rights: FS) -> int:
    """Grant `rights` beneath `path`; 1 if a rule was added, 0 if the path does not exist."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return 0
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FILE_RIGHTS  # the kernel refuses directory rights on a file (EINVAL)
        attr = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _syscall(
            libc,
            f"landlock_add_rule({path})",
            _SYS_ADD_RULE,
            ctypes.c_long(ruleset),
            ctypes.c_long(_RULE_PATH_BENEATH),
            ctypes.c_void_p(ctypes.addressof(attr)),
            ctypes.c_uint32(0),
        )
    finally:
        os.close(fd)
    return 1


def _drop_capabilities(libc: ctypes.CDLL) -> str:
    """Clear every capability set of the calling process; says what it dropped, for `why`."""
    held = int(_status_field("CapEff"), 16) | int(_status_field("CapPrm"), 16)
    _prctl(libc, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        try:
            _prctl(libc, _PR_CAPBSET_DROP, cap)
        except PermissionError:
            break  # no CAP_SETPCAP: no_new_privs already keeps exec from raising the cleared sets
    header = _CapHeader(version=_CAP_VERSION_3, pid=0)
    data = (_CapData * 2)()
    ctypes.set_errno(0)
    if libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset failed: {os.strerror(err)}")
    return "capabilities dropped" if held else "no capabilities held"


def _status_field(name: str) -> str:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise OSError(errno.ENOENT, f"/proc/self/status has no {name} line")
