"""The wire between the eval process and the training process: small JSON messages, shared-memory arrays.

A Unix SOCK_SEQPACKET socket pair carries one JSON object per packet (so no framing, and never
pickle: the eval process must not run anything the training process sends). Arrays travel through
anonymous shared memory (memfd) that the eval process creates and hands over with SCM_RIGHTS, so a
batch or a block of outputs is written once and read once, with no serialisation; a confined
process needs no file system access for it. Usage:

    parent, child = pair()
    buf = Buffer.create(1 << 20); parent.send({"op": "batch", ...}, buf)
    msg, bufs = child.recv(timeout=10)          # bufs: Buffers that came with the message
    arrays = buf.write([x, y]); buf.read(arrays[0])
"""

from __future__ import annotations

import json
import mmap
import os
import select
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MAX_MESSAGE = 1 << 20
"""A message is a small JSON object; anything longer is a protocol error."""


class ChannelClosed(Exception):
    """The other side closed the socket (it exited or died)."""


class ChannelTimeout(Exception):
    pass


class ProtocolError(Exception):
    """A message that is not what the protocol allows."""


class Buffer:
    """A shared-memory region (memfd) both processes map."""

    def __init__(self, fd: int, size: int):
        self.fd, self.size = fd, size
        self.mem = mmap.mmap(fd, size)

    @classmethod
    def create(cls, size: int, name: str = "autoresearch") -> Buffer:
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
        os.ftruncate(fd, size)
        return cls(fd, size)

    def close(self) -> None:
        self.mem.close()
        os.close(self.fd)

    def view(self, spec: ArraySpec) -> np.ndarray:
        import numpy as np

        if spec.offset < 0 or spec.offset + spec.nbytes > self.size:
            raise ProtocolError(f"array {spec} does not fit the {self.size}-byte buffer")
        return np.ndarray(spec.shape, dtype=np.dtype(spec.dtype), buffer=self.mem, offset=spec.offset)

    def write(self, arrays: list[np.ndarray]) -> list[ArraySpec]:
        """Copy the arrays in, one after the other (64-byte aligned); their specs."""
        specs, offset = [], 0
        for a in arrays:
            spec = ArraySpec(offset, tuple(a.shape), a.dtype.str)
            self.view(spec)[...] = a
            specs.append(spec)
            offset += -(-spec.nbytes // 64) * 64
        return specs


@dataclass(frozen=True)
class ArraySpec:
    offset: int
    shape: tuple[int, ...]
    dtype: str
    """numpy dtype string, e.g. '<i8'"""

    @property
    def nbytes(self) -> int:
        import numpy as np

        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def to_json(self) -> list[Any]:
        return [self.offset, list(self.shape), self.dtype]

    @classmethod
    def from_json(cls, value: Any) -> ArraySpec:
        import numpy as np

        try:
            offset, shape, dtype = value
            spec = cls(int(offset), tuple(int(n) for n in shape), str(dtype))
            np.dtype(spec.dtype)
        except (TypeError, ValueError) as e:
            raise ProtocolError(f"not an array spec: {value!r} ({e})") from None
        if any(n < 0 for n in spec.shape) or np.dtype(spec.dtype).hasobject:
            raise ProtocolError(f"not a plain array: {value!r}")
        return spec


def needed(arrays: list[np.ndarray]) -> int:
    return sum(-(-a.nbytes // 64) * 64 for a in arrays)


class Channel:
    def __init__(self, sock: socket.socket, accept_buffers: bool = True):
        self.sock = sock
        self.accept_buffers = accept_buffers

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, message: dict[str, Any], *buffers: Buffer) -> None:
        data = json.dumps(message).encode()
        if len(data) > MAX_MESSAGE:
            raise ProtocolError(f"message of {len(data)} bytes is too long")
        fds = [b.fd for b in buffers]
        sizes = [b.size for b in buffers]
        payload = json.dumps({"m": message, "sizes": sizes}).encode() if buffers else data
        try:
            socket.send_fds(self.sock, [payload], fds) if fds else self.sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            raise ChannelClosed("the other process is gone") from None

    def recv(self, timeout: float | None = None) -> tuple[dict[str, Any], list[Buffer]]:
        """The next message and the buffers sent with it; ChannelTimeout, ChannelClosed or ProtocolError."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise ChannelTimeout(f"no message within {timeout:.0f} s")
        try:
            data, fds, flags, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 8)
        except ConnectionResetError:
            raise ChannelClosed("the other process is gone") from None
        if not data:
            raise ChannelClosed("the other process closed the channel")
        if flags & socket.MSG_TRUNC:
            raise ProtocolError("a message longer than the protocol allows")
        try:
            message = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ProtocolError("a message that is not JSON") from None
        if not isinstance(message, dict):
            raise ProtocolError("a message that is not a JSON object")
        if not fds:
            return message, []
        if not self.accept_buffers:
            for fd in fds:
                os.close(fd)
            raise ProtocolError("buffers from the training process (only the eval process makes them)")
        sizes = message.get("sizes")
        if not isinstance(sizes, list) or len(sizes) != len(fds) or not isinstance(message.get("m"), dict):
            for fd in fds:
                os.close(fd)
            raise ProtocolError("buffers without their sizes")
        return message["m"], [Buffer(fd, int(size)) for fd, size in zip(fds, sizes)]

    def close(self) -> None:
        self.sock.close()


def pair() -> tuple[Channel, socket.socket]:
    """(the eval process's channel, the socket to pass to the training process)."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    return Channel(a, accept_buffers=False), b
