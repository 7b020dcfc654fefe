"""A real HTTP endpoint for outbound events in tests: a threaded http.server on a free port that
verifies every request with the `standardwebhooks` package's own verifier and answers as told
(`script`: what the first requests get, then 200 for the rest)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook

SLOW = "slow"
"""Script step: answer 503 only after SLOW_SECONDS (past the sender's timeout)."""
SLOW_SECONDS = 1.5


@dataclass
class Received:
    event_id: str
    type: str
    data: dict[str, Any]
    status: int
    verified: bool


@dataclass
class Receiver:
    secret: str = ""
    script: list[int | str] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    arrived: int = 0
    """Requests that reached the endpoint (counted as they arrive, before any answer)."""

    def accepted(self) -> list[Received]:
        """What was answered 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def accepted_ids(self) -> list[str]:
        return [r.event_id for r in self.accepted()]

    def answer(self) -> int | str:
        with self.lock:
            return self.script.pop(0) if self.script else 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {key: value for key, value in self.headers.items()}
            try:
                document = Webhook(receiver.secret).verify(raw, headers)
                verified = True
            except Exception:
                document, verified = json.loads(raw or b"{}"), False
            with receiver.lock:
                receiver.arrived += 1
            step = receiver.answer()
            if step == SLOW:
                time.sleep(SLOW_SECONDS)
                status = 503
            else:
                status = int(step) if verified else 401
            with receiver.lock:
                receiver.requests.append(
                    Received(
                        headers.get("webhook-id", ""),
                        document.get("type", ""),
                        document.get("data", {}),
                        status,
                        verified,
                    )
                )
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting (a SLOW step)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def receiving(secret: str = "", script: list[int | str] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret, script=list(script or []))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
