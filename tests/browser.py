"""A headless Chromium driven over the Chrome DevTools Protocol, with nothing but the standard library.

:class:`Browser` starts ``chromium --headless`` with a fresh profile and no
background networking, opens its page target's websocket and sends protocol
commands (``Page.navigate``, ``Runtime.evaluate``, ``Page.captureScreenshot``,
...) as JSON, collecting the events that arrive in between. It is what the
facilitator console's tests use to click through a console as a facilitator
would; run as a script it saves a screenshot of a page after some clicks::

    python tests/browser.py console.html docs/console.png --click reveal --click reveal
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

#: Flags for a quiet, reproducible headless browser that reaches no network of its own accord.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    """The Chromium executable on PATH (Debian's ``chromium``, or ``chromium-browser``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class ProtocolError(RuntimeError):
    """A DevTools command failed, or a script raised in the page."""


class _WebSocket:
    """A minimal websocket client (RFC 6455): text frames out, masked; text frames in, ping answered."""

    def __init__(self, url: str, timeout: float = 30.0):
        assert url.startswith("ws://"), url
        hostport, _, path = url[len("ws://") :].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ProtocolError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ProtocolError(f"websocket handshake refused: {head.decode(errors='replace')}")

    def _exact(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ProtocolError("websocket closed")
            out += chunk
        return out

    def _frame(self, opcode: int, payload: bytes) -> None:
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text: str) -> None:
        self._frame(0x1, text.encode())

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            mask = self._exact(4) if b1 & 0x80 else b""
            payload = self._exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x9:  # ping
                self._frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise ProtocolError("websocket closed by the browser")
            message += payload
            if b0 & 0x80:
                return message.decode()

    def close(self) -> None:
        try:
            self._frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


class Browser:
    """A headless Chromium with one page, driven over the DevTools Protocol; use it as a context manager."""

    def __init__(self, executable: str, width: int = 1400, height: int = 900):
        self.profile = Path(tempfile.mkdtemp(prefix="drsim-chromium-"))
        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.events: list[dict] = []
        self._id = 0
        try:
            port = self._port()
            self.ws = _WebSocket(self._page_socket(port))
        except Exception:
            self.close()
            raise

    def _port(self, timeout: float = 60.0) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ProtocolError(f"chromium exited with status {self.proc.returncode} before it listened")
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            time.sleep(0.1)
        raise ProtocolError("chromium did not open its DevTools port in time")

    @staticmethod
    def _page_socket(port: int) -> str:
        for _ in range(100):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise ProtocolError("chromium has no page target")

    def call(self, method: str, **params) -> dict:
        """Send one protocol command and return its result (events arriving meanwhile go to :attr:`events`)."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise ProtocolError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, event: str, timeout: float = 30.0) -> dict:
        """The first event named ``event`` (already received or arriving within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == event:
                    return self.events.pop(i)
            if time.monotonic() > deadline:
                raise ProtocolError(f"no {event} within {timeout}s")
            self.events.append(json.loads(self.ws.recv()))

    def open(self, url: str) -> None:
        """Load ``url`` and wait for its load event."""
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-serialisable values only)."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise ProtocolError(f"{expression}: {r['exceptionDetails'].get('exception', {}).get('description')}")
        return r["result"].get("value")

    def click(self, element_id: str) -> None:
        """Click the element with id ``element_id`` as a user would (it must be there and enabled)."""
        ok = self.js(
            f"(() => {{ const b = document.getElementById({json.dumps(element_id)});"
            " if (!b || b.disabled) return false; b.click(); return true; })()"
        )
        if not ok:
            raise ProtocolError(f"#{element_id} is missing or disabled")

    def screenshot(self, path: str | Path, full_page: bool = False) -> Path:
        """Save a PNG of the viewport (or of the whole page) to ``path``."""
        params: dict = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: list[str]) -> int:
    """``browser.py PAGE.html OUT.png [--click ID ...]``: a screenshot of a page after some clicks."""
    if len(argv) < 2:
        print(main.__doc__, file=sys.stderr)
        return 2
    page, out, rest = Path(argv[0]).resolve(), argv[1], argv[2:]
    exe = find_chromium()
    if exe is None:
        print("chromium is not installed", file=sys.stderr)
        return 3
    with Browser(exe) as b:
        b.open(page.as_uri())
        for flag, element in zip(rest[::2], rest[1::2], strict=True):
            assert flag == "--click", flag
            b.click(element)
        b.screenshot(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
