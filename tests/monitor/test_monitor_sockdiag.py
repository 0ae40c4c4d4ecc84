"""Unix socket peers from sock_diag: replies recorded on this machine, then the real kernel."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from harness.monitor import sockdiag

# Replies to build_request(inode, seq) recorded here (Linux 6.18, x86_64).
# Socket 216570 of a socketpair, request 7: its peer is 216571 (then a SHUTDOWN attribute).
PAIR = bytes.fromhex(
    "300000001400000007000000f075000001010100fa4d03000e000000000000000800"
    "0200fb4d03000500060000000000"
)
# A listening socket (216573), request 9: no peer attribute.
LISTENER = bytes.fromhex(
    "280000001400000009000000f075000001010a00fd4d03000f000000000000000500060000000000"
)
# An inode that is no socket, request 8: NLMSG_ERROR -ENOENT, echoing the request.
MISSING = bytes.fromhex(
    "3c0000000200000008000000f0750000feffffff2800000014000100080000000000000001000000"
    "ffffffffffc99a3b04000000ffffffffffffffff"
)


def test_request_layout() -> None:
    # The recorded error echoes the request it answers: header and body as we sent them.
    assert sockdiag.build_request(999999999, 8)[4:] == MISSING[20 + 4 :]


def test_peer_from_recorded_replies() -> None:
    assert sockdiag.parse_peer(PAIR, 216570, 7) == 216571
    assert sockdiag.parse_peer(LISTENER, 216573, 9) is None
    assert sockdiag.parse_peer(MISSING, 999999999, 8) is None


def test_a_reply_to_another_request_or_socket_is_not_taken() -> None:
    assert sockdiag.parse_peer(PAIR, 216570, 6) is None
    assert sockdiag.parse_peer(PAIR, 216571, 7) is None
    assert sockdiag.parse_peer(PAIR[:20], 216570, 7) is None


@pytest.fixture
def peers() -> Iterator[sockdiag.UnixPeers]:
    p = sockdiag.UnixPeers()
    yield p
    p.close()


def inode(s: socket.socket) -> int:
    return os.fstat(s.fileno()).st_ino


def test_peers_of_real_sockets(peers: sockdiag.UnixPeers) -> None:
    left, right = socket.socketpair()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(f"\0pipeprof-test-{os.getpid()}")
    listener.listen()
    try:
        assert peers.peer(inode(left)) == inode(right)
        assert peers.peer(inode(right)) == inode(left)
        assert peers.peer(inode(listener)) is None
        assert peers.peer(2**32 - 7) is None
        assert peers.peer(inode(left)) == inode(right)  # from the cache, after the misses
    finally:
        for s in (left, right, listener):
            s.close()
