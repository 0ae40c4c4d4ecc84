"""Calibration case slow_http: a client fetching, one after another, from a loopback HTTP server
that takes 200 ms to answer each request.

Truth by construction: the client spends almost all its time waiting for the server's answer on
an inet socket, so the run is network-bound.

The server is double-forked (a child that starts a new session forks it and exits at once),
as a daemon a pipeline starts would be. The harness is a child subreaper during a run, so the
server is re-parented to it and counted as part of the run, like any process the run creates,
and ended with it. It delays its answer by waiting on the client's socket (select with a
timeout), not in time.sleep: its waits are network waits, as the client's are, so the truth
holds with it counted. The case kills the server by pid when it is done, and the server exits
by itself once the case is gone (killed by a timeout, say).
"""

from __future__ import annotations

import http.server
import os
import select
import signal
import time
import urllib.request

from workloads.calibration import casekit

DELAY_S = 0.2
IDLE_CHECK_S = 0.25


class SlowHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET after DELAY_S spent waiting on the connection, as a slow API would."""

    def do_GET(self) -> None:
        select.select([self.connection], [], [], DELAY_S)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start_server(lifetime_s: float) -> tuple[int, int]:
    """Double-fork a server in a session of its own; returns (server pid, port)."""
    owner = os.getpid()
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child == 0:  # the intermediate child: new session, fork the server, leave at once
        try:
            os.close(read_fd)
            os.setsid()
            if os.fork() == 0:
                _serve(owner, write_fd, lifetime_s)
        finally:
            os._exit(0)
    os.close(write_fd)
    os.waitpid(child, 0)
    with os.fdopen(read_fd) as pipe:
        pid, port = pipe.readline().split()
    return int(pid), int(port)


def _serve(owner: int, write_fd: int, lifetime_s: float) -> None:
    """Serve until the case (`owner`) is gone or `lifetime_s` has passed."""
    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # nothing of the server in the case's output (a client gone: EPIPE)
        os.dup2(quiet, fd)
    server = http.server.HTTPServer(("127.0.0.1", 0), SlowHandler)
    server.timeout = IDLE_CHECK_S  # handle_request() returns this often when idle
    os.write(write_fd, f"{os.getpid()} {server.server_address[1]}\n".encode())
    os.close(write_fd)
    end = time.monotonic() + lifetime_s
    while time.monotonic() < end and _alive(owner):
        server.handle_request()
    server.server_close()


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    server_pid, port = start_server(args.seconds + 60)
    url = f"http://127.0.0.1:{port}/item"
    try:
        started = time.perf_counter()
        deadline = started + args.seconds
        done = 0
        while time.perf_counter() < deadline:
            with urllib.request.urlopen(url) as response:
                response.read()
            done += 1
        casekit.report("slow_http", done, started, delay_s=DELAY_S, server_pid=server_pid)
    finally:
        try:
            os.kill(server_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    main()
