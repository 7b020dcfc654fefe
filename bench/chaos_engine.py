"""The engine's processes for the chaos run, each a real OS process whose pid we may SIGKILL.

Before the "everything at once" fault the run starts the processes itself (Temporal dev server,
two `worker.py`, the API under uvicorn), so it can kill one and start one again. After it, the
engine comes back the way a person brings it back: `python -m ops.run` (what `make run` runs) on
the same var directory and database, which finds Temporal's database file and every workflow in
it; the run adds its second worker beside the one `make run` starts.

localstripe and PostgreSQL are never killed: localstripe keeps its payment intents in memory (a
killed localstripe is a Stripe that lost its data, which no engine can survive, and the checks
read what it holds), and PostgreSQL is a shared server that recovers from its own write-ahead log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from config import PROJECT_ROOT
from ops.temporal_dev import DevServer, free_port, stop_process

ADMIN_TOKEN = "chaos-admin-token"
SHOPIFY_SECRET = "chaos-shopify-secret"
STRIPE_SECRET = "sk_test_oms_chaos"


@dataclass(frozen=True)
class Ports:
    api: int
    temporal: int
    temporal_ui: int

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port())


def engine_env(var_dir: Path, database_url: str, stripe_url: str, ports: Ports, worker_threads: int) -> dict[str, str]:
    """What every process of the engine is started with: this run's ports, database, var directory
    and localstripe, the sandbox warehouse confirming every step; nothing from the caller's OMS_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}
    env.update(
        {
            "OMS_ENV": "development",
            "OMS_API_HOST": "127.0.0.1",
            "OMS_API_PORT": str(ports.api),
            "OMS_TEMPORAL_ADDRESS": f"localhost:{ports.temporal}",
            "OMS_TEMPORAL_UI_PORT": str(ports.temporal_ui),
            "OMS_VAR_DIR": str(var_dir),
            "OMS_DATABASE_URL": database_url,
            "OMS_ADMIN_TOKEN": ADMIN_TOKEN,
            "OMS_SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
            "OMS_SANDBOX": "true",
            "OMS_STRIPE_SECRET_KEY": STRIPE_SECRET,
            "OMS_STRIPE_API_BASE": stripe_url,
            "OMS_WORKER_ACTIVITY_THREADS": str(worker_threads),
            "OMS_WORKER_METRICS_ADDRESS": "",  # two workers at once: one metrics port would refuse the second
        }
    )
    return env


@dataclass
class Engine:
    """Temporal, the workers and the API of one chaos run; every kill and start is logged."""

    var_dir: Path
    env: dict[str, str]
    ports: Ports
    temporal: DevServer | None = None
    api: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    make_run: subprocess.Popen[bytes] | None = None
    """`python -m ops.run`, once the engine was brought back the way a person does."""
    _logs: list[IO[bytes]] = field(default_factory=list)
    _worker_count: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    def _log(self, name: str) -> IO[bytes]:
        log = open(self.var_dir / name, "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        return log

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen[bytes]:
        # A session of its own: a Ctrl-C at the terminal reaches only the orchestrator, which stops them.
        return subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self._log(log_name),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    # -- starting ------------------------------------------------------------------------------

    def start_temporal(self) -> None:
        """The dev server on its persistent database file: a restart finds every workflow again."""
        self.temporal = DevServer(
            db_file=self.var_dir / "temporal.db",
            port=self.ports.temporal,
            ui_port=self.ports.temporal_ui,
            log_file=self.var_dir / "temporal.log",
        )
        self.temporal.start(new_session=True, timeout=90)

    def start_worker(self) -> str:
        self._worker_count += 1
        name = f"worker-{self._worker_count}"
        self.workers[name] = self._spawn([sys.executable, str(PROJECT_ROOT / "worker.py")], f"{name}.log")
        return name

    def start_api(self) -> None:
        self.api = self._spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "api.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports.api),
                "--no-access-log",
            ],
            "api.log",
        )

    def start_make_run(self) -> None:
        """What `make run` runs, with this run's settings: migrate, Temporal on its file, a worker, the API."""
        self.make_run = self._spawn([sys.executable, "-m", "ops.run"], "make-run.log")

    def wait_healthy(self, timeout: float) -> float:
        """Seconds until GET /health answers 200 (the database and Temporal both answer)."""
        started = time.monotonic()
        deadline = started + timeout
        with httpx.Client(base_url=self.api_url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.make_run is not None and self.make_run.poll() is not None:
                    raise RuntimeError(f"make run exited with code {self.make_run.returncode}; see make-run.log")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/health").status_code == 200:
                        return time.monotonic() - started
                time.sleep(0.2)
        raise RuntimeError(f"the engine was not healthy within {timeout:.0f}s; logs in {self.var_dir}")

    # -- faults --------------------------------------------------------------------------------

    def kill_worker(self, name: str) -> int:
        """SIGKILL one worker (no chance to finish or report anything); returns its pid."""
        process = self.workers.pop(name)
        process.kill()
        process.wait()
        return process.pid

    def kill_temporal(self) -> int:
        assert self.temporal is not None and self.temporal.process is not None
        process = self.temporal.process
        process.kill()
        process.wait()
        return process.pid

    def restart_temporal(self) -> None:
        assert self.temporal is not None
        self.temporal.start(new_session=True, timeout=90)

    def kill_everything(self) -> list[int]:
        """SIGKILL Temporal, the API and every worker in one go, before any can notice the others."""
        processes = [p for p in (self.api, self.temporal.process if self.temporal else None) if p is not None]
        processes += self.workers.values()
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        for process in processes:
            process.wait()
        self.api, self.workers = None, {}
        if self.temporal is not None:
            self.temporal.process = None
        return [process.pid for process in processes]

    def dead_workers(self) -> dict[str, int]:
        """Our workers that exited without being killed by us: name → exit code (forgotten here)."""
        dead = {name: p.returncode for name, p in self.workers.items() if p.poll() is not None}
        for name in dead:
            del self.workers[name]
        return dead

    def make_run_exited(self) -> int | None:
        return None if self.make_run is None else self.make_run.poll()

    # -- stopping ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop what is still running, gently (the workers finish their steps), and close the logs."""
        for process in self.workers.values():
            process.terminate()
        for name, process in self.workers.items():
            stop_process(process, 40, name)
        self.workers = {}
        stop_process(self.api, 20, "API")
        stop_process(self.make_run, 60, "make run")  # it stops its own API, worker and Temporal
        if self.temporal is not None:
            self.temporal.stop()
        for log in self._logs:
            log.close()
        self._logs = []
