"""Headless Chromium over the DevTools protocol, just enough to check a page opened from disk:
console errors, uncaught exceptions, failed loads, a script's result, and a screenshot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


@dataclass
class PageCheck:
    """What the browser saw: problems on the console, and what `script` returned."""

    errors: list[str] = field(default_factory=list)
    result: Any = None


class _Session:
    """One DevTools websocket: numbered commands, and every event kept."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.ids = ws, itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.events: list[dict[str, Any]] = []
        self.loaded = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            else:
                self.events.append(data)
                if data.get("method") == "Page.loadEventFired":
                    self.loaded.set()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self.ids)
        self.pending[n] = asyncio.get_running_loop().create_future()
        await self.ws.send_json({"id": n, "method": method, "params": params})
        reply = await asyncio.wait_for(self.pending[n], 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def errors(self) -> list[str]:
        found = []
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value")) for a in p["args"]))
            elif method == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                described = details.get("exception", {}).get("description", "")
                found.append(f"exception: {details.get('text', '')} {described}".strip())
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                found.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        return found


async def _check(ws_url: str, url: str, script: str, shot: Path, width: int) -> PageCheck:
    port = re.search(r":(\d+)/", ws_url)[1]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
            pages = [t for t in await response.json() if t.get("type") == "page"]
        async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            s = _Session(ws)
            for domain in ("Runtime", "Log", "Page"):
                await s.call(f"{domain}.enable")
            await s.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            await s.call("Page.navigate", url=url)
            await asyncio.wait_for(s.loaded.wait(), 30)
            value = await s.call(
                "Runtime.evaluate", expression=script, returnByValue=True, awaitPromise=True
            )
            if "exceptionDetails" in value:
                raise RuntimeError(f"check script failed: {value['exceptionDetails']}")
            metrics = await s.call("Page.getLayoutMetrics")
            height = min(int(metrics["cssContentSize"]["height"]) + 1, 12_000)
            await s.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            png = await s.call("Page.captureScreenshot", format="png")
            shot.parent.mkdir(parents=True, exist_ok=True)
            shot.write_bytes(base64.b64decode(png["data"]))
            await asyncio.sleep(0.2)  # late console messages
            s.reader.cancel()
            return PageCheck(s.errors(), value["result"].get("value"))


def check_page(url: str, script: str, screenshot: Path, width: int = 1400) -> PageCheck:
    """Open `url` in headless Chromium, run `script` (a JS expression) once it has loaded, save
    a full-page screenshot; RuntimeError if Chromium cannot be started or driven."""
    exe = find_chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed")
    with tempfile.TemporaryDirectory(
        prefix="pipeprof-chromium-", ignore_cleanup_errors=True
    ) as profile:
        argv = [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"]
        proc = subprocess.Popen(
            [*argv, "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        found: list[str] = []
        ready = threading.Event()

        def drain() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                if not found and (m := _LISTENING.search(line)):
                    found.append(m[1])
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        try:
            if not ready.wait(30) or not found:
                raise RuntimeError("chromium did not open its DevTools port")
            return asyncio.run(_check(found[0], url, script, screenshot, width))
        finally:
            _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    """Chromium forks helpers (zygote, crashpad): stop its whole session, not just the browser."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)
            time.sleep(0.2)  # helpers exit just after the browser
            return
