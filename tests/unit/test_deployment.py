"""Production deployment: what docker-compose.yml, the Dockerfile and .dockerignore must guarantee.

No Docker engine is needed: the files are parsed and their properties checked, and the compose
environment is interpolated the way compose does it and fed through the engine's own settings.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from api.metrics import HTTP_LATENCY, WEBHOOK_REJECTIONS
from api.routes.metrics import exposition
from config import PLACEHOLDER_SECRETS, Environment, load_settings
from services.metrics import ReadModelGauges
from tests.fakes import FakeUnits
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

APP_SERVICES = ("migrate", "api", "worker", "location-worker")
REQUIRED_SERVICES = (
    "postgres",
    "temporal",
    "temporal-setup",
    "temporal-ui",
    *APP_SERVICES,
    "proxy",
    "prometheus",
    "grafana",
)
SECRETS = (
    "OMS_ADMIN_TOKEN",
    "OMS_SHOPIFY_WEBHOOK_SECRET",
    "OMS_WOOCOMMERCE_WEBHOOK_SECRET",
    "OMS_TRACKING_SECRET",
    "OMS_PAYLOAD_KEYS",
    "OMS_METRICS_TOKEN",
)
# Everything compose must refuse to start without (the secrets plus the database and Grafana passwords).
REQUIRED_VARIABLES = (*SECRETS, "POSTGRES_PASSWORD", "OMS_DB_PASSWORD", "GRAFANA_ADMIN_PASSWORD")
# Inside a container the API must listen beyond loopback; the published port decides who reaches it.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104
REAL_LOOKING = {
    "OMS_ADMIN_TOKEN": "3f9c2a7b51e04d8c9a6b",
    "OMS_SHOPIFY_WEBHOOK_SECRET": "shpss_8d41f0c2b7a9",
    "OMS_WOOCOMMERCE_WEBHOOK_SECRET": "wc_5e7a1c9d03b2",
    "OMS_TRACKING_SECRET": "trk_9d2f61c0a7e4",
    "OMS_PAYLOAD_KEYS": "k1:mS0n1S0V6pV8nN2ZGzN4v0QvJ0qkYp1bq7Qo9yWmU6E=",
    "OMS_STRIPE_SECRET_KEY": "sk_live_51Hx3c8f7a2",
    "POSTGRES_PASSWORD": "c0ffee5up3ru53r",
    "OMS_DB_PASSWORD": "a1b2c3d4e5f6a7b8",
    "OMS_METRICS_TOKEN": "mt_4c7e19b02d6a",
    "GRAFANA_ADMIN_PASSWORD": "9e1d7c3b5a2f",
}
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA = ROOT / "deploy" / "grafana"
SDK_METRICS_ON_FAILURE = frozenset(
    {"temporal_activity_execution_failed_total", "temporal_workflow_task_execution_failed_total"}
)
"""SDK counters that appear only once something has failed (named in Temporal's SDK metrics reference,
https://docs.temporal.io/references/sdk-metrics): the end-to-end test cannot see them served."""
SDK_METRICS = frozenset(
    {
        "temporal_workflow_task_schedule_to_start_latency_seconds_bucket",
        "temporal_activity_schedule_to_start_latency_seconds_bucket",
        "temporal_activity_execution_latency_seconds_bucket",
        "temporal_worker_task_slots_available",
        *SDK_METRICS_ON_FAILURE,
    }
)
"""The Temporal SDK metrics the dashboard reads, as the worker exports them (ops.telemetry: counters
with _total, durations in seconds named _seconds); tests/e2e/test_metrics_and_logs.py scrapes a real
worker for the ones it can see."""


# --- helpers ---------------------------------------------------------------------------------------

# Compose interpolation (https://github.com/compose-spec/compose-spec/blob/main/12-interpolation.md):
# `$$` is a literal dollar, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`,
# `${NAME?error}` and the unbraced `$NAME`.
_DOLLAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[_A-Za-z][_A-Za-z0-9]*))")
_BRACED = re.compile(r"(?P<name>[_A-Za-z][_A-Za-z0-9]*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>.*))?", re.DOTALL)


class MissingVariable(Exception):
    pass


def interpolations(text: str) -> list[tuple[str, str | None]]:
    """(variable name, operator) of every interpolation in `text`; `$$` escapes are not ones."""
    found: list[tuple[str, str | None]] = []
    for match in _DOLLAR.finditer(text):
        if match["escaped"]:
            continue
        if match["named"]:
            found.append((match["named"], None))
            continue
        braced = _BRACED.fullmatch(match["braced"])
        assert braced, f"not a valid compose interpolation: ${{{match['braced']}}}"
        found.append((braced["name"], braced["op"]))
    return found


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Resolve a parsed compose document (or any part of it) against `env`, as compose does."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["named"]:
            return env.get(match["named"], "")
        braced = _BRACED.fullmatch(match["braced"])
        assert braced
        name, op, arg = braced["name"], braced["op"], braced["arg"]
        current = env.get(name)
        unset_or_empty = not current
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if current is not None else arg
        if op == ":?" and unset_or_empty:
            raise MissingVariable(f"{name}: {arg}")
        if op == "?" and current is None:
            raise MissingVariable(f"{name}: {arg}")
        return current or ""

    return _DOLLAR.sub(substitute, value)


def scalars(value: Any) -> list[str]:
    """Every scalar value (not key) in a parsed YAML document, as text."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in scalars(item)]
    if isinstance(value, list):
        return [text for item in value for text in scalars(item)]
    return [] if value is None else [str(value)]


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(str(item).split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """Dependency -> condition (the short list form means service_started)."""
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def published(service: Mapping[str, Any]) -> dict[int, int]:
    """Host port -> container port for the short `[ip:]host:container[/proto]` syntax (and the long one)."""
    ports: dict[int, int] = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports[int(entry["published"])] = int(entry["target"])
            continue
        parts = str(entry).split("/")[0].split(":")
        assert len(parts) >= 2, f"{entry!r} publishes a random host port"
        ports[int(parts[-2])] = int(parts[-1])
    return ports


def command_text(service: Mapping[str, Any]) -> str:
    command = service.get("command", "")
    return "\n".join(command) if isinstance(command, list) else str(command)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        keyword, _, rest = (current + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current, "Dockerfile ends inside a continued line"
    return instructions


def _defines_function(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name for node in tree.body)


def _runs_as_main(path: Path) -> bool:
    return 'if __name__ == "__main__"' in path.read_text()


def assert_runs_repo_code(argv: list[str]) -> None:
    """The command's Python entry point exists in this repository and can actually run."""
    program = Path(argv[0]).name
    if program.startswith("python"):
        if argv[1] == "-m":
            module = ROOT / (argv[2].replace(".", "/") + ".py")
            assert module.is_file(), f"{argv}: no module {module.relative_to(ROOT)}"
            assert _runs_as_main(module), f"{argv}: {module.relative_to(ROOT)} has no __main__ block"
        else:
            script = ROOT / argv[1]
            assert script.is_file(), f"{argv}: no script {argv[1]}"
            assert _runs_as_main(script), f"{argv}: {argv[1]} has no __main__ block"
    elif program == "uvicorn":
        assert "--factory" in argv, f"{argv}: create_app is a factory, uvicorn needs --factory"
        target = next(arg for arg in argv[1:] if ":" in arg and not arg.startswith("-"))
        module_name, attribute = target.split(":")
        module = ROOT / (module_name.replace(".", "/") + ".py")
        assert module.is_file(), f"{argv}: no module {module_name}"
        assert _defines_function(module, attribute), f"{argv}: {module_name} defines no {attribute}()"
    else:
        raise AssertionError(f"unexpected program in {argv}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No OMS_ variable from the caller's shell and no stray .env file may reach these tests."""
    for name in list(os.environ):
        if name.upper().startswith("OMS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


# --- topology --------------------------------------------------------------------------------------


def test_required_services_exist(services: dict[str, dict[str, Any]]) -> None:
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"docker-compose.yml lacks {missing}"


def test_app_services_run_one_image_built_from_this_repo(services: dict[str, dict[str, Any]]) -> None:
    builds = {name: services[name].get("build") for name in APP_SERVICES}
    images = {name: services[name].get("image") for name in APP_SERVICES}
    assert len({json.dumps(build, sort_keys=True) for build in builds.values()}) == 1, builds
    assert len(set(images.values())) == 1, images
    build = builds["api"]
    assert build, "the app services must build this repository's Dockerfile"
    context, dockerfile = (build, "Dockerfile") if isinstance(build, str) else (build["context"], build["dockerfile"])
    assert (ROOT / context).resolve() == ROOT
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE


def test_api_and_worker_wait_for_successful_migration(services: dict[str, dict[str, Any]]) -> None:
    for name in ("api", "worker", "location-worker"):
        assert depends_on(services[name]).get("migrate") == "service_completed_successfully", name
    assert str(services["migrate"].get("restart")) == "no"
    assert services["migrate"]["command"] == ["python", "-m", "persistence.migrate"]


def test_database_users_wait_for_healthy_postgres(services: dict[str, dict[str, Any]]) -> None:
    for name in ("migrate", "temporal"):
        assert depends_on(services[name]).get("postgres") == "service_healthy", name


def test_api_needs_temporal_and_worker_waits_for_the_search_attributes(services: dict[str, dict[str, Any]]) -> None:
    assert depends_on(services["api"]).get("temporal") in ("service_started", "service_healthy")
    for name in ("worker", "location-worker"):
        assert depends_on(services[name]).get("temporal-setup") == "service_completed_successfully", name
    assert depends_on(services["temporal-setup"]).get("temporal") == "service_healthy"
    assert "healthcheck" in services["temporal"]


def test_postgres_is_healthchecked_and_persistent(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert re.fullmatch(r"postgres:1[56](\.\d+)?(-\w+)?", postgres["image"]), postgres["image"]
    check = postgres["healthcheck"]["test"]
    assert "pg_isready" in (" ".join(check) if isinstance(check, list) else check)
    data_volumes = [v for v in postgres["volumes"] if str(v).split(":")[1] == "/var/lib/postgresql/data"]
    assert data_volumes, "PostgreSQL data would not survive the container"
    assert str(data_volumes[0]).split(":")[0] in compose.get("volumes", {}), "data should live in a named volume"


def test_postgres_creates_the_app_database(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    url = make_url(interpolate(environment(services["api"])["OMS_DATABASE_URL"], REAL_LOOKING))
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "postgres"
    assert url.password == REAL_LOOKING["OMS_DB_PASSWORD"]
    if environment(postgres).get("POSTGRES_DB") == url.database:
        return
    init_dirs = [v for v in postgres["volumes"] if str(v).split(":")[1] == "/docker-entrypoint-initdb.d"]
    assert init_dirs, "nothing creates the app database"
    scripts = "\n".join(path.read_text() for path in (ROOT / str(init_dirs[0]).split(":")[0]).iterdir())
    assert f"CREATE DATABASE {url.database} OWNER {url.username}" in scripts
    assert f"CREATE ROLE {url.username} LOGIN" in scripts
    assert "OMS_DB_PASSWORD" in scripts and "OMS_DB_PASSWORD" in environment(postgres)


def test_temporal_runs_on_postgres_with_the_production_dynamic_config(services: dict[str, dict[str, Any]]) -> None:
    temporal = services["temporal"]
    image, _, tag = temporal["image"].partition(":")
    assert image == "temporalio/auto-setup"
    major, minor = (int(part) for part in tag.split(".")[:2])
    assert (major, minor) >= (1, 25), tag
    env = environment(temporal)
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "postgres"
    assert env["DB_PORT"] == "5432"
    assert env["POSTGRES_USER"] == environment(services["postgres"])["POSTGRES_USER"]
    mounts = {str(v).split(":")[1]: ROOT / str(v).split(":")[0] for v in temporal["volumes"]}
    config_path = Path("/etc/temporal") / env["DYNAMIC_CONFIG_FILE_PATH"]  # relative to the image's workdir
    host_dir = mounts[str(config_path.parent)]
    dynamic_config = yaml.safe_load((host_dir / config_path.name).read_text())
    assert dynamic_config["limit.maxIDLength"][0]["value"] <= 255  # SQL persistence: VARCHAR(255) ids
    assert "system.forceSearchAttributesCacheRefreshOnRead" not in dynamic_config  # development only


def test_bind_mounted_files_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        _, _, tag = service["image"].partition(":")
        assert tag and tag != "latest", f"{name} runs an unpinned image {service['image']}"


# --- configuration and secrets ---------------------------------------------------------------------


def test_app_services_run_in_production(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        env = environment(services[name])
        assert env["OMS_ENV"] == "production", name
        assert env["OMS_TEMPORAL_ADDRESS"] == "temporal:7233", name
        assert env["OMS_API_HOST"] == ALL_INTERFACES, name
        assert env["OMS_DATABASE_URL"].startswith("postgresql+psycopg://"), name
        # No sandbox and no self-confirming locations, whatever the environment says.
        assert (env["OMS_SANDBOX"], env["OMS_AUTO_CONFIRM"]) == ("false", "false"), name


@pytest.mark.parametrize("secret", SECRETS)
def test_secrets_are_required_from_the_environment(services: dict[str, dict[str, Any]], secret: str) -> None:
    for name in APP_SERVICES:
        value = environment(services[name])[secret]
        assert re.fullmatch(r"\$\{" + secret + r":\?[^}]+\}", value), f"{name}: {secret}={value!r}"


def test_database_passwords_are_required_from_the_environment(services: dict[str, dict[str, Any]]) -> None:
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", environment(services["postgres"])["POSTGRES_PASSWORD"])
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", environment(services["temporal"])["POSTGRES_PWD"])
    for name in APP_SERVICES:
        assert "${OMS_DB_PASSWORD:?" in environment(services[name])["OMS_DATABASE_URL"], name


def test_no_development_placeholder_anywhere(compose: dict[str, Any]) -> None:
    placeholders = set(PLACEHOLDER_SECRETS.values())
    assert {"dev-admin-token", "dev-shopify-secret", "dev-woocommerce-secret", "dev-tracking-secret"} < placeholders
    for value in scalars(compose):
        assert value not in placeholders, f"docker-compose.yml holds the placeholder {value!r}"
    for path in (COMPOSE_FILE, DOCKERFILE):
        text = path.read_text()
        assert not [p for p in placeholders if p in text], f"{path.name} mentions a placeholder secret"


def test_every_interpolation_has_a_default_or_is_required(compose: dict[str, Any]) -> None:
    """A bare ${X} or $X silently becomes "" when unset; in shell scripts `$` must be written `$$`."""
    found = [found for value in scalars(compose) for found in interpolations(value)]
    loose = [(name, op) for name, op in found if op not in (":-", ":?")]
    assert not loose, f"interpolations without a default or :? requirement: {loose}"
    required = {name for name, op in found if op == ":?"}
    assert required == set(REQUIRED_VARIABLES)


def test_compose_environment_gives_valid_production_settings(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in APP_SERVICES:
        for key, value in interpolate(environment(services[name]), REAL_LOOKING).items():
            monkeypatch.setenv(key, value)
        settings = load_settings(_env_file=None)
        assert settings.env is Environment.PRODUCTION
        assert settings.admin_token == REAL_LOOKING["OMS_ADMIN_TOKEN"]
        assert settings.shopify_webhook_secret == REAL_LOOKING["OMS_SHOPIFY_WEBHOOK_SECRET"]
        assert settings.woocommerce_webhook_secret == REAL_LOOKING["OMS_WOOCOMMERCE_WEBHOOK_SECRET"]
        assert settings.tracking_secret == REAL_LOOKING["OMS_TRACKING_SECRET"]
        assert settings.resolved_database_url.startswith("postgresql+psycopg://oms:")
        assert settings.temporal_address == "temporal:7233"
        assert settings.sandbox_enabled is False  # production runs no sandbox
        assert settings.auto_confirm_enabled is False  # staff confirm pick, pack and ship
        assert settings.payload_keys == REAL_LOOKING["OMS_PAYLOAD_KEYS"]
        assert settings.stripe_secret_key == REAL_LOOKING["OMS_STRIPE_SECRET_KEY"]
        assert settings.metrics_token == REAL_LOOKING["OMS_METRICS_TOKEN"]
        assert settings.worker_metrics_address == "0.0.0.0:9464" and settings.log_format == "json"


@pytest.mark.parametrize("variable", REQUIRED_VARIABLES)
def test_compose_refuses_to_start_without(compose: dict[str, Any], variable: str) -> None:
    env = {key: value for key, value in REAL_LOOKING.items() if key != variable}
    with pytest.raises(MissingVariable, match=variable):
        interpolate(compose, env)
    with pytest.raises(MissingVariable, match=variable):
        interpolate(compose, {**env, variable: ""})


def test_the_interpolation_helper_matches_compose() -> None:
    env = {"SET": "value", "EMPTY": ""}
    assert interpolate("$$HOME ${SET} $SET ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d}", env) == "$HOME value value d d "
    assert interpolate("${SET:?x}", env) == "value"
    with pytest.raises(MissingVariable):
        interpolate("${EMPTY:?set EMPTY}", env)
    assert interpolations("$$x ${A:-1} ${B:?b} $C") == [("A", ":-"), ("B", ":?"), ("C", None)]


@pytest.mark.parametrize("placeholder_field", sorted(PLACEHOLDER_SECRETS))
def test_production_settings_refuse_each_placeholder(placeholder_field: str) -> None:
    secrets = {
        "admin_token": REAL_LOOKING["OMS_ADMIN_TOKEN"],
        "shopify_webhook_secret": REAL_LOOKING["OMS_SHOPIFY_WEBHOOK_SECRET"],
        "woocommerce_webhook_secret": REAL_LOOKING["OMS_WOOCOMMERCE_WEBHOOK_SECRET"],
        "tracking_secret": REAL_LOOKING["OMS_TRACKING_SECRET"],
        "payload_keys": REAL_LOOKING["OMS_PAYLOAD_KEYS"],
        "stripe_secret_key": REAL_LOOKING["OMS_STRIPE_SECRET_KEY"],
        placeholder_field: PLACEHOLDER_SECRETS[placeholder_field],
    }
    with pytest.raises(ValidationError, match=f"OMS_{placeholder_field.upper()}"):
        load_settings(
            env="production", database_url="postgresql+psycopg://oms:pw@postgres:5432/oms", _env_file=None, **secrets
        )


def test_production_settings_refuse_all_placeholders() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        load_settings(
            env="production",
            database_url="postgresql+psycopg://oms:pw@postgres:5432/oms",
            admin_token="dev-admin-token",
            shopify_webhook_secret="dev-shopify-secret",
            woocommerce_webhook_secret="dev-woocommerce-secret",
            tracking_secret="dev-tracking-secret",
            _env_file=None,
        )


def test_production_settings_need_a_database_url() -> None:
    with pytest.raises(ValidationError, match="OMS_DATABASE_URL"):
        load_settings(
            env="production",
            admin_token=REAL_LOOKING["OMS_ADMIN_TOKEN"],
            shopify_webhook_secret=REAL_LOOKING["OMS_SHOPIFY_WEBHOOK_SECRET"],
            woocommerce_webhook_secret=REAL_LOOKING["OMS_WOOCOMMERCE_WEBHOOK_SECRET"],
            tracking_secret=REAL_LOOKING["OMS_TRACKING_SECRET"],
            payload_keys=REAL_LOOKING["OMS_PAYLOAD_KEYS"],
            stripe_secret_key=REAL_LOOKING["OMS_STRIPE_SECRET_KEY"],
            _env_file=None,
        )


def test_production_settings_accept_real_secrets() -> None:
    settings = load_settings(
        env="production",
        database_url="postgresql+psycopg://oms:pw@postgres:5432/oms",
        admin_token=REAL_LOOKING["OMS_ADMIN_TOKEN"],
        shopify_webhook_secret=REAL_LOOKING["OMS_SHOPIFY_WEBHOOK_SECRET"],
        woocommerce_webhook_secret=REAL_LOOKING["OMS_WOOCOMMERCE_WEBHOOK_SECRET"],
        tracking_secret=REAL_LOOKING["OMS_TRACKING_SECRET"],
        payload_keys=REAL_LOOKING["OMS_PAYLOAD_KEYS"],
        stripe_secret_key=REAL_LOOKING["OMS_STRIPE_SECRET_KEY"],
        _env_file=None,
    )
    assert settings.env is Environment.PRODUCTION
    assert settings.resolved_database_url == "postgresql+psycopg://oms:pw@postgres:5432/oms"


# --- Temporal setup, ports, health, scaling --------------------------------------------------------


def test_setup_service_registers_the_search_attributes(services: dict[str, dict[str, Any]]) -> None:
    setup = services["temporal-setup"]
    assert setup["image"].startswith("temporalio/admin-tools:")
    assert str(setup.get("restart")) == "no"
    script = interpolate(command_text(setup), {})  # as the container's shell receives it
    assert "temporal operator search-attribute create" in script
    registered = dict(re.findall(r"--name\s+(\w+)\s+--type\s+(\w+)", script))
    wanted = {key.name for key in SEARCH_ATTRIBUTES}
    assert wanted == {"OrderStatus", "Channel"}
    assert {name: registered.get(name) for name in wanted} == dict.fromkeys(wanted, "Keyword")
    assert "--namespace default" in script
    assert environment(setup)["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_published_ports(services: dict[str, dict[str, Any]]) -> None:
    assert published(services["proxy"]) == {8000: 8000}  # the API's replicas, through the proxy
    assert published(services["temporal-ui"]) == {8233: 8080}
    assert environment(services["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"
    # Login-less or sign-in-once UIs listen on the host's loopback only.
    for name, ports in (("temporal-ui", ["127.0.0.1:8233:8080"]), ("grafana", ["127.0.0.1:3000:3000"])):
        assert services[name]["ports"] == ports, name
    # No authentication on Temporal's gRPC port, the database, Prometheus or the workers' metrics.
    for name in ("postgres", "temporal", "temporal-setup", "migrate", "api", "worker", "location-worker", "prometheus"):
        assert not services[name].get("ports"), f"{name} should not publish ports"


def test_api_healthcheck_calls_health_without_curl(services: dict[str, dict[str, Any]]) -> None:
    check = services["api"]["healthcheck"]["test"]
    text = " ".join(check) if isinstance(check, list) else check
    assert "/health" in text and ":8000" in text
    assert "curl" not in text and "urllib" in text


def test_workers_scale_out(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "container_name" not in worker and not worker.get("ports"), "a fixed name or port blocks replicas"
    assert worker["command"] == ["python", "worker.py"]


def test_shared_app_config_is_one_yaml_anchor() -> None:
    text = COMPOSE_FILE.read_text()
    anchor = re.search(r"^x-oms-app: &(\S+)", text, re.MULTILINE)
    assert anchor, "the shared app service config should be the x-oms-app anchor"
    assert len(re.findall(r"<<: \*" + re.escape(anchor[1]) + r"\b", text)) == len(APP_SERVICES)


# --- metrics: Prometheus and Grafana --------------------------------------------------------------


def dashboard_queries() -> list[str]:
    dashboard = json.loads((GRAFANA / "dashboards" / "oms.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def dashboard_metric_names() -> set[str]:
    """Every metric the dashboard's queries read (label names never start with oms_ or temporal_)."""
    return {name for expr in dashboard_queries() for name in re.findall(r"\b(?:oms|temporal)_\w+", expr)}


def is_served(name: str, families: Mapping[str, set[str]]) -> bool:
    """Whether a scrape's families (name → its sample names) serve `name`: as a sample, or as the
    _total, _bucket, _count or _sum series of a family that has no sample yet (a counter never moved)."""
    samples = set().union(*families.values()) if families else set()
    suffixed = {family + suffix for family in families for suffix in ("", "_total", "_bucket", "_count", "_sum")}
    return name in samples or name in suffixed


def api_metric_families() -> dict[str, set[str]]:
    """What GET /metrics serves (api.routes.metrics.exposition), the read model a fake one; the API's
    own metrics are registered when api.metrics is imported."""
    assert {HTTP_LATENCY._name, WEBHOOK_REJECTIONS._name} == {
        "oms_http_request_duration_seconds",
        "oms_webhook_rejections",
    }
    text = exposition(ReadModelGauges(FakeUnits())).decode()
    return {family.name: {sample.name for sample in family.samples} for family in text_string_to_metric_families(text)}


def test_prometheus_scrapes_the_api_with_the_metrics_token_and_every_worker(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api, worker = jobs["oms-api"], jobs["oms-worker"]
    # Every API replica on the port it listens on, not the proxy (counters are per process).
    (api_discovery,) = api["dns_sd_configs"]
    assert api_discovery["names"] == ["api"] and api_discovery["type"] == "A"
    api_command = services["api"]["command"]
    assert str(api_discovery["port"]) == api_command[api_command.index("--port") + 1]
    assert api["metrics_path"] == "/metrics"
    # The token comes from the same variable the API reads, as a compose secret mounted in Prometheus.
    secret = Path(api["authorization"]["credentials_file"])
    assert api["authorization"]["type"] == "Bearer" and secret.parent == Path("/run/secrets")
    assert secret.name in services["prometheus"]["secrets"]
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    assert compose["secrets"][secret.name] == {"environment": "OMS_METRICS_TOKEN"}
    assert environment(services["api"])["OMS_METRICS_TOKEN"].startswith("${OMS_METRICS_TOKEN:?")
    # Every replica of both worker services, on the port their settings serve the SDK's metrics on.
    (discovery,) = worker["dns_sd_configs"]
    assert discovery["names"] == ["worker", "location-worker"] and discovery["type"] == "A"
    for name in discovery["names"]:
        metrics_address = environment(services[name])["OMS_WORKER_METRICS_ADDRESS"]
        assert metrics_address == f"{ALL_INTERFACES}:{discovery['port']}", name
    mounts = {str(v).split(":")[1]: ROOT / str(v).split(":")[0] for v in services["prometheus"]["volumes"]}
    assert mounts["/etc/prometheus/prometheus.yml"] == PROMETHEUS_CONFIG
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]


def test_grafana_is_provisioned_from_the_repo_with_prometheus(services: dict[str, dict[str, Any]]) -> None:
    grafana = services["grafana"]
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in grafana["volumes"]}
    assert ROOT / mounts["/etc/grafana/provisioning"] == GRAFANA / "provisioning"
    (datasource,) = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "oms.yml").read_text())["providers"]
    assert ROOT / mounts[provider["options"]["path"]] == GRAFANA / "dashboards"
    dashboard = json.loads((GRAFANA / "dashboards" / "oms.json").read_text())
    assert dashboard["uid"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        assert panel["targets"] and all(target["expr"] for target in panel["targets"]), panel["title"]
    assert environment(grafana)["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")


def test_the_dashboard_reads_only_metrics_that_exist() -> None:
    names = dashboard_metric_names()
    ours = {name for name in names if name.startswith("oms_")}
    assert {"oms_orders_taken_total", "oms_webhook_rejections_total", "oms_outbox_pending", "oms_orders"} <= ours
    families = api_metric_families()
    assert not [name for name in ours if not is_served(name, families)]
    assert {name for name in names if name.startswith("temporal_")} == SDK_METRICS


def test_the_served_check_sees_a_misspelt_metric() -> None:
    families = {"oms_orders_taken": set(), "oms_orders": {"oms_orders"}}
    assert is_served("oms_orders_taken_total", families) and is_served("oms_orders", families)
    assert not is_served("oms_orders_total_taken", families)


# --- Dockerfile and .dockerignore ------------------------------------------------------------------


def test_dockerfile_builds_the_project_on_python_slim_as_non_root() -> None:
    instructions = dockerfile_instructions()
    args: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            name, _, default = rest.partition("=")
            args[name] = default
    bases = [
        re.sub(r"\$\{(\w+)\}", lambda match: args[str(match[1])], rest.split()[0])
        for kw, rest in instructions
        if kw == "FROM"
    ]
    assert bases and all(base.startswith("python:3.11-slim") for base in bases), bases
    assert any(kw == "RUN" and re.search(r"\bpip install \.(\s|$)", rest) for kw, rest in instructions)
    final_stage = instructions[max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM") :]
    users = [rest for kw, rest in final_stage if kw == "USER"]
    assert users, "the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_bakes_in_no_secret() -> None:
    for keyword, rest in dockerfile_instructions():
        if keyword in ("ENV", "ARG", "LABEL"):
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_.]*)=", rest) or [rest.split()[0]]
            for name in names:
                assert not re.search(r"TOKEN|SECRET|PASSWORD|PWD|API_KEY", name.upper()), f"{keyword} {name}"
        if keyword in ("COPY", "ADD"):
            assert ".env" not in rest.split(), f"{keyword} {rest}"


def test_entry_points_are_real_modules(services: dict[str, dict[str, Any]]) -> None:
    cmd = [json.loads(rest) for kw, rest in dockerfile_instructions() if kw == "CMD"]
    assert cmd, "the Dockerfile has no default command"
    default = cmd[-1]
    assert default[:3] == ["uvicorn", "--factory", "api.main:create_app"]
    assert default[default.index("--host") + 1] == ALL_INTERFACES and default[default.index("--port") + 1] == "8000"
    assert services["api"].get("command", default) == default  # compose runs the image's default
    for argv in (
        default,
        services["worker"]["command"],
        services["location-worker"]["command"],
        services["migrate"]["command"],
    ):
        assert_runs_repo_code(argv)
    for required in ("persistence/migrate.py", "worker.py", "api/main.py", "alembic.ini", "pyproject.toml"):
        assert (ROOT / required).is_file(), required


def _ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, pattern.removeprefix("**/").rstrip("/")) for pattern in patterns)


def test_dockerignore_keeps_secrets_out_and_the_engine_in() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("!")
    ]
    for secret_or_local in (".env", ".env.production", ".git", ".venv", "var"):
        assert _ignored(secret_or_local, patterns), f"{secret_or_local} would be sent into the image"
    needed = ["pyproject.toml", "README.md", "alembic.ini", "config.py", "worker.py", "migrations"]
    needed += [path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file() and path.name != "tests"]
    for name in needed:
        assert not _ignored(name, patterns), f".dockerignore drops {name}, which the image needs"


def test_the_temporal_ui_reads_payloads_through_the_api_codec_endpoint(services: dict[str, dict[str, Any]]) -> None:
    """Histories are encrypted: the UI (in the browser, at the loopback port compose publishes) asks the
    API's /codec to decrypt, with the dashboard's cookie, from an origin the API allows."""
    ui = interpolate(environment(services["temporal-ui"]), REAL_LOOKING)
    api_port = next(iter(published(services["proxy"])))  # the browser reaches the API through the proxy
    ui_port = next(iter(published(services["temporal-ui"])))
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"http://localhost:{api_port}/codec"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    for name in APP_SERVICES:
        origins = interpolate(environment(services[name]), REAL_LOOKING)["OMS_CODEC_CORS_ORIGINS"]
        assert f"http://localhost:{ui_port}" in origins.split(","), name


def test_make_run_points_the_dev_servers_ui_at_the_api_codec_endpoint() -> None:
    """The dev server's UI (`make run`) asks the API's /codec to decrypt, from an origin it allows."""
    from ops.run import dev_server

    settings = load_settings(
        _env_file=None, api_port=8123, temporal_ui_port=8444, codec_cors_origins="http://localhost:8444"
    )
    command = dev_server(settings, 7299).command()
    assert command[command.index("--ui-codec-endpoint") + 1] == "http://localhost:8123/codec"
    assert command[command.index("--ui-port") + 1] == "8444"
    assert settings.temporal_ui_url in settings.codec_origins
    defaults = load_settings(_env_file=None)
    assert defaults.temporal_ui_url in defaults.codec_origins  # out of the box, too
