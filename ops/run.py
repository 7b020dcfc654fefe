"""`make run`: migrate, start the Temporal dev server, the worker and the API; stop them all cleanly.

Children run in their own sessions so Ctrl-C reaches only this supervisor, which then stops them in
reverse order (API, worker, Temporal) and waits for each.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from types import FrameType

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from config import PROJECT_ROOT, Environment, Settings, get_settings, refusal_line
from integrations.components import report
from ops.demo import seed_demo
from ops.temporal_dev import DevServer, DevServerError, free_port, port_in_use, stop_process
from persistence.migrate import upgrade_to_head


class Startup(Exception):
    """A reason not to start, said in one line."""


def _local_temporal_port(settings: Settings) -> int | None:
    host, _, port = settings.temporal_address.rpartition(":")
    return int(port) if host in ("localhost", "127.0.0.1") and port.isdigit() else None


def _check_ports(settings: Settings, temporal_port: int | None) -> None:
    wanted = [(settings.api_port, "API (OMS_API_PORT)")]
    metrics_port = settings.worker_metrics_address.rpartition(":")[2]
    if metrics_port.isdigit():
        wanted.append((int(metrics_port), "worker's metrics (OMS_WORKER_METRICS_ADDRESS)"))
    if temporal_port is not None:
        wanted += [(temporal_port, "Temporal (OMS_TEMPORAL_ADDRESS)"), (settings.temporal_ui_port, "Temporal UI")]
    for port, what in wanted:
        if port_in_use(port):
            raise Startup(f"port {port} for the {what} is already in use: stop what holds it or choose another port")


def codec_endpoint(settings: Settings) -> str:
    """The API's codec endpoint as the Temporal UI's page (in the browser, on this machine) reaches it."""
    return f"http://localhost:{settings.api_port}/codec"


def dev_server(settings: Settings, port: int) -> DevServer:
    return DevServer(
        db_file=settings.var_dir / "temporal.db",
        port=port,
        ui_port=settings.temporal_ui_port,
        log_file=settings.var_dir / "temporal.log",
        # Payloads are encrypted: the UI shows them through the API's codec endpoint.
        extra_args=["--ui-codec-endpoint", codec_endpoint(settings)],
    )


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.var_dir = settings.var_dir
        self.temporal: DevServer | None = None
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def start(self) -> None:
        settings = self.settings
        temporal_port = _local_temporal_port(settings)
        _check_ports(settings, temporal_port)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        print("migrating the database ...", flush=True)
        upgrade_to_head(settings.resolved_database_url)
        if settings.demo and seed_demo(settings.resolved_database_url):
            print("demo data seeded: locations AMS, UTR; SKUs TSHIRT-BLK-M, HOODIE-GRY-L, MUG-LOGO", flush=True)
        if temporal_port is not None:
            print("starting the Temporal dev server ...", flush=True)
            self.temporal = dev_server(settings, temporal_port)
            self.temporal.start(new_session=True)
        python = sys.executable
        env = {**self._start_sendcloud_sandbox(), **self._start_moneybird_sandbox(), **self._start_exact_sandbox()}
        self._spawn("worker", [python, str(PROJECT_ROOT / "worker.py")], "worker.log", env)
        self._spawn(
            "api",
            [
                python,
                "-m",
                "uvicorn",
                "--factory",
                "api.main:create_app",
                "--host",
                settings.api_host,
                "--port",
                str(settings.api_port),
                "--no-access-log",
            ],
            "api.log",
            env,
        )
        self._wait_for_port(self.settings.api_port, "api")

    def _start_sendcloud_sandbox(self) -> dict[str, str]:
        """Development without Sendcloud keys: a local Sendcloud (sandboxes/sendcloud.py, keys made up
        for this run) that the worker and the API are pointed at, so a first order gets a
        real-looking label. Real keys (or production) start nothing: the engine talks to Sendcloud."""
        s = self.settings
        if s.env is Environment.PRODUCTION or not s.sandbox_enabled:
            return {}
        if s.sendcloud_public_key or s.sendcloud_secret_key:
            return {}
        port = free_port()
        env = {
            "OMS_SENDCLOUD_PUBLIC_KEY": f"dev-{secrets.token_hex(8)}",
            "OMS_SENDCLOUD_SECRET_KEY": secrets.token_hex(24),
            "OMS_SENDCLOUD_API_URL": f"http://127.0.0.1:{port}",
            "OMS_SENDCLOUD_SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{s.api_port}/webhooks/sendcloud",
        }
        print("starting the Sendcloud sandbox ...", flush=True)
        factory = "sandboxes.sendcloud:create_app_from_environment"
        args = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)]
        self._spawn("sendcloud", [*args, "--no-access-log"], "sendcloud.log", env)
        self._wait_for_port(port, "sendcloud")
        self.settings = s.model_copy(
            update={
                "sendcloud_public_key": env["OMS_SENDCLOUD_PUBLIC_KEY"],
                "sendcloud_secret_key": env["OMS_SENDCLOUD_SECRET_KEY"],
                "sendcloud_api_url": env["OMS_SENDCLOUD_API_URL"],
            }
        )
        return env

    def _start_moneybird_sandbox(self) -> dict[str, str]:
        """Development without a Moneybird token: a local Moneybird (sandboxes/moneybird.py, a token
        made up for this run) the worker pushes invoices and credit notes to. A real token (or
        production) starts nothing: the engine books at Moneybird itself, if OMS_MONEYBIRD_ENABLED."""
        s = self.settings
        if s.env is Environment.PRODUCTION or not s.sandbox_enabled or s.moneybird_api_token:
            return {}
        port = free_port()
        env = {
            "OMS_MONEYBIRD_ENABLED": "true",
            "OMS_MONEYBIRD_API_TOKEN": secrets.token_hex(24),
            "OMS_MONEYBIRD_ADMINISTRATION_ID": "123456789012345678",
            "OMS_MONEYBIRD_API_URL": f"http://127.0.0.1:{port}/api/v2",
        }
        print("starting the Moneybird sandbox ...", flush=True)
        factory = "sandboxes.moneybird:create_app_from_environment"
        args = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)]
        self._spawn("moneybird", [*args, "--no-access-log"], "moneybird.log", env)
        self._wait_for_port(port, "moneybird")
        self.settings = s.model_copy(
            update={
                "moneybird_enabled": True,
                "moneybird_api_token": env["OMS_MONEYBIRD_API_TOKEN"],
                "moneybird_administration_id": env["OMS_MONEYBIRD_ADMINISTRATION_ID"],
                "moneybird_api_url": env["OMS_MONEYBIRD_API_URL"],
            }
        )
        return env

    def _start_exact_sandbox(self) -> dict[str, str]:
        """Development without an Exact Online app: a local Exact (sandboxes/exact.py, its client and
        first refresh token made up for this run) that the books are pushed to, so the daily push and
        the reconciliation can be tried. A configured Exact app (or production) starts nothing."""
        s = self.settings
        if s.env is Environment.PRODUCTION or not s.sandbox_enabled or s.exact_client_id:
            return {}
        port = free_port()
        env = {
            "OMS_EXACT_ENABLED": "true",
            "OMS_EXACT_BASE_URL": f"http://127.0.0.1:{port}",
            "OMS_EXACT_CLIENT_ID": f"dev-{secrets.token_hex(8)}",
            "OMS_EXACT_CLIENT_SECRET": secrets.token_hex(24),
            "OMS_EXACT_REFRESH_TOKEN": secrets.token_urlsafe(24),
        }
        print("starting the Exact Online sandbox ...", flush=True)
        factory = "sandboxes.exact:create_app_from_environment"
        args = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)]
        self._spawn("exact", [*args, "--no-access-log"], "exact.log", env)
        self._wait_for_port(port, "exact")
        self.settings = s.model_copy(
            update={
                "exact_enabled": True,
                "exact_base_url": env["OMS_EXACT_BASE_URL"],
                "exact_client_id": env["OMS_EXACT_CLIENT_ID"],
                "exact_client_secret": env["OMS_EXACT_CLIENT_SECRET"],
                "exact_refresh_token": env["OMS_EXACT_REFRESH_TOKEN"],
            }
        )
        return env

    def _spawn(self, name: str, args: list[str], log_name: str, env: Mapping[str, str] | None = None) -> None:
        log = open(self.var_dir / log_name, "ab")  # noqa: SIM115 - the child owns it until it exits
        process = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **env} if env else None,
        )
        self.children.append((name, process))

    def _wait_for_port(self, port: int, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_children()
            if port_in_use(port):
                return
            time.sleep(0.2)
        raise Startup(f"the {name} did not start within {timeout:.0f}s; see {self.var_dir / (name + '.log')}")

    def _check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise Startup(f"the {name} exited with code {process.returncode}; see {self.var_dir / (name + '.log')}")
        if self.temporal and self.temporal.process and self.temporal.process.poll() is not None:
            raise Startup(f"the Temporal dev server exited; see {self.var_dir / 'temporal.log'}")

    def banner(self) -> str:
        s = self.settings
        api = f"http://localhost:{s.api_port}"
        return "\n".join(
            [
                "",
                "OMS is running:",
                f"  API           {api}",
                f"  API docs      {api}/docs",
                f"  Dashboard     {api}/dashboard",
                f"                first admin: {api}/dashboard/setup (with the staff token, OMS_ADMIN_TOKEN)",
                f"  Temporal UI   {s.temporal_ui_url}" if self.temporal else f"  Temporal      {s.temporal_address}",
                *(
                    [
                        "                payloads decrypted by the API's codec endpoint: sign in to the dashboard,",
                        "                then tick the UI's codec setting 'Include cross-origin credentials'",
                    ]
                    if self.temporal
                    else []
                ),
                f"  database      {s.resolved_database_url.split('@')[-1]}",
                f"  metrics       {api}/metrics (staff token or OMS_METRICS_TOKEN)"
                + (f", worker http://{s.worker_metrics_address}/metrics" if s.worker_metrics_address else ""),
                f"  logs          {self.var_dir}/{{api,worker,temporal,sendcloud,moneybird,exact}}.log",
                report(s),
                "Press Ctrl-C to stop.",
            ]
        )

    def watch(self) -> int:
        parent = os.getppid()
        while not self.stopping:
            if os.getppid() != parent:  # `make` was killed without passing the signal on: stop too
                return 1
            try:
                self._check_children()
            except Startup as exc:
                print(f"oms: {exc}", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.5)
        return 0

    def stop(self) -> None:
        for name, process in reversed(self.children):
            stop_process(process, 20, name)
        if self.temporal:
            self.temporal.stop()


def main() -> int:
    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"oms: {refusal_line(exc)}", file=sys.stderr)
        return 2
    supervisor = Supervisor(settings)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        supervisor.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        supervisor.start()
        if not supervisor.stopping:
            print(supervisor.banner(), flush=True)
            code = supervisor.watch()
    except (Startup, DevServerError) as exc:
        print(f"oms: {exc}", file=sys.stderr, flush=True)
        code = 1
    except OperationalError as exc:
        print(f"oms: cannot reach the database: {str(exc.orig).strip().splitlines()[0]}", file=sys.stderr)
        code = 1
    finally:
        print("stopping ...", flush=True)
        supervisor.stop()
        print("stopped.", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
