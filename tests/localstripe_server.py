"""localstripe (a Stripe-compatible fake server from PyPI) as a subprocess on a port of our choosing.

Started through its aiohttp app rather than the `localstripe` command, for two reasons: the command
binds an IPv6 dual-stack socket (missing in some containers), and its store writes itself to the
fixed file /tmp/localstripe.pickle on every change, which concurrent servers (another test run, a
developer's own localstripe) would share. Here the state lives in memory and dies with the process.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ops.temporal_dev import port_in_use, stop_process

_BOOT = """
import sys
from aiohttp import web
from localstripe import resources
from localstripe.server import app

resources.Store.dump_to_disk = lambda self: None  # in memory only: no shared /tmp/localstripe.pickle
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


class LocalStripeError(RuntimeError):
    pass


def localstripe_installed() -> bool:
    return importlib.util.find_spec("localstripe") is not None


@dataclass
class LocalStripe:
    port: int
    log_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> None:
        if not localstripe_installed():
            raise LocalStripeError("localstripe is not installed: pip install -e '.[dev]'")
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(self.port)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalStripeError(
                    f"localstripe exited with code {self.process.returncode}"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            if port_in_use(self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise LocalStripeError(f"localstripe did not answer on port {self.port} within {timeout:.0f}s")

    def stop(self, timeout: float = 10) -> None:
        stop_process(self.process, timeout)
