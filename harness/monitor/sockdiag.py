"""The peer of a unix socket, by inode, from the kernel's sock_diag netlink interface.

/proc/net/unix lists unix sockets without their peers; `ss -x` finds them the way this does:
one SOCK_DIAG_BY_FAMILY request for the inode with UDIAG_SHOW_PEER. The kernel answers about
the network namespace of the asking socket, i.e. the monitor's own.
"""

from __future__ import annotations

import errno
import socket
import struct

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
UDIAG_SHOW_PEER = 0x4
UNIX_DIAG_PEER = 2
_ALL_STATES = 0xFFFFFFFF
_NO_COOKIE = 0xFFFFFFFF  # INET_DIAG_NOCOOKIE: look the socket up by inode alone
MAX_CACHED = 4096

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_REQUEST = struct.Struct("=BBHIIIII")  # family, protocol, pad, states, ino, show, cookie[2]
_MESSAGE = struct.Struct("=BBBBIII")  # family, type, state, pad, ino, cookie[2]
_RTATTR = struct.Struct("=HH")  # len, type
_U32 = struct.Struct("=I")


def build_request(inode: int, seq: int) -> bytes:
    """A request for one unix socket's diag message, with its peer."""
    body = _REQUEST.pack(
        socket.AF_UNIX, 0, 0, _ALL_STATES, inode, UDIAG_SHOW_PEER, _NO_COOKIE, _NO_COOKIE
    )
    header = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, seq, 0)
    return header + body


def parse_peer(data: bytes, inode: int, seq: int) -> int | None:
    """The peer inode in a reply about `inode` to request `seq`; None if the reply is an
    error (no such socket), another request's, or the socket has no peer (not connected)."""
    if len(data) < _NLMSGHDR.size + _MESSAGE.size:
        return None
    length, kind, _, got_seq, _ = _NLMSGHDR.unpack_from(data)
    if kind != SOCK_DIAG_BY_FAMILY or got_seq != seq:
        return None
    if _MESSAGE.unpack_from(data, _NLMSGHDR.size)[4] != inode:
        return None
    end = min(length, len(data))
    offset = _NLMSGHDR.size + _MESSAGE.size
    while offset + _RTATTR.size <= end:
        size, attr = _RTATTR.unpack_from(data, offset)
        if size < _RTATTR.size:
            return None
        if attr == UNIX_DIAG_PEER and size >= _RTATTR.size + _U32.size:
            peer = _U32.unpack_from(data, offset + _RTATTR.size)[0]
            return peer or None
        offset += (size + 3) & ~3
    return None


class UnixPeers:
    """Answers "which socket is this unix socket connected to", caching what it found
    (a connected socket keeps its peer for life)."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._unavailable = False
        self._seq = 0
        self._peers: dict[int, int] = {}

    def peer(self, inode: int) -> int | None:
        """The peer's inode, or None (not connected, gone, or no sock_diag here)."""
        cached = self._peers.get(inode)
        if cached is not None:
            return cached
        sock = self._socket()
        if sock is None:
            return None
        self._seq += 1
        try:
            sock.send(build_request(inode, self._seq))
            while True:  # the kernel answers before send returns; skip any stale reply
                data = sock.recv(8192, socket.MSG_DONTWAIT)
                if len(data) >= _NLMSGHDR.size and _NLMSGHDR.unpack_from(data)[3] == self._seq:
                    break
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno != errno.EINTR:  # not answering as it should: stop asking
                self.close()
                self._unavailable = True
            return None
        peer = parse_peer(data, inode, self._seq)
        if peer is not None:
            if len(self._peers) >= MAX_CACHED:
                self._peers.clear()
            self._peers[inode] = peer
        return peer

    def _socket(self) -> socket.socket | None:
        if self._sock is None and not self._unavailable:
            try:
                sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
                sock.connect((0, 0))
            except OSError:  # no netlink here (or not allowed): no peers, never ask again
                self._unavailable = True
                return None
            self._sock = sock
        return self._sock

    def close(self) -> None:
        """Close the netlink socket (idempotent; the next peer() opens a new one)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
