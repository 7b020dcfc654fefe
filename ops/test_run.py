"""`make test`: lint, bring up PostgreSQL where the machine has it (and Chromium for the browser
tests), then run every test tier.

PostgreSQL: OMS_TEST_POSTGRES_URL if set; otherwise a local cluster started with pg_ctlcluster and
a fresh `oms_test` database. Under CI=true a missing PostgreSQL or Chromium is an error, never a
silent skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from config import PROJECT_ROOT

TEST_ROLE = "oms_test"
TEST_PASSWORD = "oms_test"  # noqa: S105 - a throwaway local test role, not a secret
TEST_DATABASE = "oms_test"
DEFAULT_WORKERS = 3
"""pytest-xdist workers (OMS_TEST_WORKERS): measured on two cores, see parallel()."""


class NoPostgres(Exception):
    pass


def _as_postgres(args: list[str]) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else ["sudo", "-n", "-u", "postgres"]
    return subprocess.run(prefix + args, capture_output=True, text=True, check=False)


def _psql(sql: str) -> str:
    result = _as_postgres(["psql", "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
    if result.returncode != 0:
        raise NoPostgres(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def local_postgres() -> str:
    if shutil.which("pg_lsclusters") is None:
        raise NoPostgres("no PostgreSQL server is installed (pg_lsclusters not found)")
    clusters = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False)
    rows = [line.split() for line in clusters.stdout.splitlines() if line.strip()]
    if not rows:
        raise NoPostgres("no PostgreSQL cluster exists")
    version, name, port, state = rows[0][:4]
    if state != "online":
        started = subprocess.run(["pg_ctlcluster", version, name, "start"], capture_output=True, text=True, check=False)
        if started.returncode != 0:
            raise NoPostgres(f"pg_ctlcluster {version} {name} start failed: {started.stderr.strip()}")
    # Databases left by an interrupted earlier run (the tests' own, each xdist worker's, the e2e ones) go first.
    leftovers = _psql(
        f"SELECT datname FROM pg_database WHERE datname = '{TEST_DATABASE}' "  # noqa: S608
        f"OR datname LIKE 'oms\\_e2e\\_%' OR datname LIKE '{TEST_DATABASE}\\_gw%'"
    )
    for name in leftovers.split():
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{TEST_ROLE}') THEN "
        f"CREATE ROLE {TEST_ROLE} LOGIN CREATEDB PASSWORD '{TEST_PASSWORD}'; END IF; END $$"
    )
    _psql(f"CREATE DATABASE {TEST_DATABASE} OWNER {TEST_ROLE}")
    return f"postgresql+psycopg://{TEST_ROLE}:{TEST_PASSWORD}@localhost:{port}/{TEST_DATABASE}"


class NoChromium(Exception):
    pass


def chromium() -> str:
    """The browser tests' Chromium: the Debian package, installed here when we are root (never a
    browser download at test time: `playwright install` is not used)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise NoChromium("Chromium is not installed and this is not a root Debian shell: apt-get install chromium")
    print("installing Chromium (apt-get install chromium) for the browser tests ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise NoChromium(f"{' '.join(command)} failed: {result.stderr.strip()[-500:]}")
    found = shutil.which("chromium")
    if not found:
        raise NoChromium("apt-get installed chromium but no chromium executable is on PATH")
    return found


def parallel(env: dict[str, str]) -> list[str]:
    """The whole suite over pytest-xdist workers, a test file per worker at a time (a file's module
    fixtures, such as a running engine, start once). Most of a test's time is spent waiting on the
    Temporal server, the engine's processes and the databases, so more workers than cores pay off;
    each worker has its own Temporal dev server and PostgreSQL database (tests/conftest.py).
    OMS_TEST_WORKERS=1 runs everything in one process."""
    workers = int(env.get("OMS_TEST_WORKERS") or DEFAULT_WORKERS)
    return ["tests"] if workers <= 1 else ["-n", str(workers), "--dist", "loadfile", "tests"]


def lint() -> int:
    venv_bin = os.path.dirname(sys.executable)
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy", "."]):
        print("$", " ".join(command), flush=True)
        code = subprocess.call([os.path.join(venv_bin, command[0]), *command[1:]], cwd=PROJECT_ROOT)
        if code != 0:
            return code
    return 0


def main(argv: list[str]) -> int:
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if not argv and lint() != 0:
        print("make test: lint failed", file=sys.stderr)
        return 1
    env = dict(os.environ)
    if not env.get("OMS_TEST_POSTGRES_URL"):
        try:
            env["OMS_TEST_POSTGRES_URL"] = local_postgres()
            print("PostgreSQL tests run against the local cluster", flush=True)
        except NoPostgres as exc:
            if in_ci:
                print(f"make test: PostgreSQL is required in CI: {exc}", file=sys.stderr)
                return 1
            print(f"make test: PostgreSQL tests will be skipped: {exc}", file=sys.stderr, flush=True)
    if not env.get("OMS_TEST_CHROMIUM") and (not argv or any("e2e" in arg or "browser" in arg for arg in argv)):
        try:
            env["OMS_TEST_CHROMIUM"] = chromium()
        except NoChromium as exc:
            if in_ci:
                print(f"make test: Chromium is required in CI: {exc}", file=sys.stderr)
                return 1
            print(f"make test: browser tests will be skipped: {exc}", file=sys.stderr, flush=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *(argv or parallel(env))], cwd=PROJECT_ROOT, env=env)
    if code == 5:
        print("make test: pytest collected no tests: that is a failure, not a pass", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
