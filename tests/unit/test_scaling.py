"""Past one machine: what docker-compose.yml and the proxy's nginx.conf must hold so that
`docker compose up -d --scale api=K --scale worker=N --scale location-worker=M` works, and so that
K + N + M replicas fit PostgreSQL's max_connections at the scale the file says it is sized for
(x-oms-sizing).

No Docker engine and no nginx are needed: the files are parsed (nginx.conf by the small parser
below) and the connection ceilings come from the engine's own settings (config.DatabasePool), fed
with the compose environment as compose interpolates it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.pool import QueuePool

from config import API_DB_POOL_SIZE, Settings, load_settings
from persistence.db import create_db_engine
from tests.unit.test_deployment import (
    COMPOSE_FILE,
    REAL_LOOKING,
    ROOT,
    environment,
    interpolate,
    published,
)
from worker import ConfigurationError, run_worker

pytestmark = pytest.mark.unit

SCALED = ("api", "worker", "location-worker")
"""The services `--scale` multiplies."""
WORKERS = ("worker", "location-worker")
TEMPORAL_SERVICES = 4
"""frontend, history, matching and worker: one process in the auto-setup container, a pool each."""
SUPERUSER_RESERVED = 3
"""PostgreSQL's superuser_reserved_connections when not set."""
NGINX_RESOLVE_SINCE = (1, 27, 3)
"""The first open-source nginx with `resolve` on an upstream server."""


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


def settings_of(service: dict[str, Any], extra: dict[str, str] | None = None) -> Settings:
    """The settings a container of `service` starts with: compose's interpolation, then its
    environment read as the engine reads it."""
    env = interpolate(environment(service), {**REAL_LOOKING, **(extra or {})})
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        return load_settings(_env_file=None)


# --- nginx.conf ------------------------------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None
    children: list[Directive] = field(default_factory=list)

    def all(self, name: str) -> list[Directive]:
        return [child for child in self.children if child.name == name]

    def one(self, name: str) -> Directive:
        (found,) = self.all(name)
        return found

    def walk(self) -> list[Directive]:
        return [self, *(each for child in self.children for each in child.walk())]


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{};]|[^\s{};"\']+')


def parse_nginx(text: str) -> Directive:
    """nginx's configuration syntax: directives end in `;` or open a `{ ... }` block; `#` comments."""
    text = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())
    root = Directive("main", [])
    stack = [root]
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if token == "{":
            block = Directive(words[0], words[1:])
            stack[-1].children.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"directive {words} lacks its ';'"
            stack.pop()
            assert stack, "unbalanced '}'"
        elif token == ";":
            stack[-1].children.append(Directive(words[0], words[1:]))
            words = []
        else:
            words.append(token.strip("\"'") if token[0] in "\"'" else token)
    assert len(stack) == 1 and not words, "nginx.conf ends inside a block or a directive"
    return root


def test_the_nginx_parser_reads_blocks_directives_and_quotes() -> None:
    config = parse_nginx(
        'a 1; # x { y\nhttp { upstream u { server s:1 resolve; } location / { return 200 "ok;\\n"; } }'
    )
    assert [each.name for each in config.walk()] == ["main", "a", "http", "upstream", "server", "location", "return"]
    assert config.one("http").one("location").one("return").args == ["200", "ok;\\n"]
    with pytest.raises(AssertionError):
        parse_nginx("http { server s;")


@pytest.fixture(scope="module")
def proxy_config(services: dict[str, dict[str, Any]]) -> Directive:
    mounts = {str(v).split(":")[1]: ROOT / str(v).split(":")[0] for v in services["proxy"]["volumes"]}
    return parse_nginx(mounts["/etc/nginx/nginx.conf"].read_text())


def api_port(services: dict[str, dict[str, Any]]) -> str:
    command = services["api"]["command"]
    return str(command[command.index("--port") + 1])


# --- what scales -----------------------------------------------------------------------------------


def test_scaled_services_have_no_fixed_name_and_no_host_port(services: dict[str, dict[str, Any]]) -> None:
    for name in SCALED:
        service = services[name]
        assert "container_name" not in service, f"{name}: a fixed container name stops --scale {name}=2"
        assert not service.get("ports"), f"{name}: a host port can be published by one replica only"
        assert isinstance(service["deploy"]["replicas"], int), name
    assert services["api"]["deploy"]["replicas"] >= 2  # one API container is a single point of failure
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_the_proxy_publishes_the_api_once_and_is_health_checked(services: dict[str, dict[str, Any]]) -> None:
    proxy = services["proxy"]
    assert published(proxy) == {8000: 8000}
    assert [name for name, service in services.items() if 8000 in published(service)] == ["proxy"]
    image, _, tag = proxy["image"].partition(":")
    assert image == "nginx"
    version = tuple(int(part) for part in re.findall(r"\d+", tag)[:3])
    assert version >= NGINX_RESOLVE_SINCE, f"{proxy['image']}: upstream `resolve` needs nginx 1.27.3"
    check = proxy["healthcheck"]["test"]
    assert check[0] == "CMD" and "http://127.0.0.1:8000/proxy-health" in check
    assert "api" in proxy["depends_on"]


def test_the_proxy_routes_every_request_to_every_api_replica(
    services: dict[str, dict[str, Any]], proxy_config: Directive
) -> None:
    http = proxy_config.one("http")
    (server,) = http.all("server")
    assert server.one("listen").args[0] == "8000"  # the container port compose publishes
    root = next(location for location in server.all("location") if location.args == ["/"])
    target = root.one("proxy_pass").args[0]
    assert target.startswith("http://")
    upstream = next(block for block in http.all("upstream") if block.args == [target.removeprefix("http://")])
    (member,) = upstream.all("server")
    assert member.args[0] == f"api:{api_port(services)}"
    # Re-resolved while running, so replicas added or removed by --scale are followed: needs a shared
    # zone and a resolver (Docker's embedded DNS).
    assert "resolve" in member.args and upstream.all("zone")
    resolver = http.all("resolver") or upstream.all("resolver")
    assert resolver and resolver[0].args[0] == "127.0.0.11"
    # Keep-alive to the replicas needs HTTP/1.1 and an empty Connection header.
    assert root.one("proxy_http_version").args == ["1.1"]
    headers = {each.args[0].lower(): each.args[1] for each in root.all("proxy_set_header")}
    assert headers["connection"] == ""
    # The health check's path is answered by the proxy itself.
    health = next(location for location in server.all("location") if location.args == ["=", "/proxy-health"])
    assert health.one("return").args[0] == "200"


def test_the_api_behind_the_proxy_sees_the_clients_address(
    services: dict[str, dict[str, Any]], proxy_config: Directive
) -> None:
    """Sign-in and self-service throttles count per client address: the API trusts the proxy's
    X-Forwarded-For, so the proxy must set it (a client's own header appended to would be trusted)
    and nothing but the proxy may reach the API."""
    (root,) = (
        location
        for server in proxy_config.one("http").all("server")
        for location in server.all("location")
        if location.args == ["/"]
    )
    headers = {each.args[0].lower(): each.args[1] for each in root.all("proxy_set_header")}
    assert headers["x-forwarded-for"] == "$remote_addr"
    assert headers["host"] == "$http_host"  # tracking links fall back to the address the client used
    assert "x-forwarded-proto" in headers
    assert environment(services["api"])["FORWARDED_ALLOW_IPS"] == "*"
    assert not services["api"].get("ports")


def test_the_proxy_lets_the_api_refuse_large_bodies_itself(proxy_config: Directive) -> None:
    (limit,) = proxy_config.one("http").all("client_max_body_size")
    match = re.fullmatch(r"(\d+)([kKmM]?)", limit.args[0])
    assert match, limit.args
    number, unit = match.groups()
    size = int(number) * {"": 1, "k": 1 << 10, "m": 1 << 20}[unit.lower()]
    defaults = load_settings(_env_file=None)
    assert size > max(defaults.webhook_body_limit, defaults.body_limit)


def test_the_proxy_logs_no_request_lines(proxy_config: Directive) -> None:
    """Request lines carry tracking tokens and search terms; the API logs requests with them blanked."""
    assert [each.args for each in proxy_config.one("http").all("access_log")] == [["off"]]
    assert not [each for each in proxy_config.walk() if each.name == "access_log" and each.args != ["off"]]


def test_the_proxy_writes_only_to_its_tmpfs(services: dict[str, dict[str, Any]], proxy_config: Directive) -> None:
    proxy = services["proxy"]
    assert proxy["read_only"] is True
    scratch = [Path(each) for each in proxy["tmpfs"]]
    written = [proxy_config.one("pid").args[0]]
    written += [each.args[0] for each in proxy_config.one("http").children if each.name.endswith("_temp_path")]
    assert len(written) == 6
    for path in written:
        assert any(Path(path).is_relative_to(directory) for directory in scratch), path


# --- location workers ------------------------------------------------------------------------------


def test_location_workers_serve_only_the_locations_queues(services: dict[str, dict[str, Any]]) -> None:
    location, orders = services["location-worker"], services["worker"]
    assert location["command"] == ["python", "worker.py", "--locations-only"]
    assert "--locations-only" not in orders["command"]
    assert location["image"] == orders["image"]
    assert environment(location)["OMS_LOCATION_TASK_QUEUES"].startswith("${OMS_LOCATION_TASK_QUEUES:-")
    assert "OMS_LOCATION_TASK_QUEUES" not in environment(orders)
    queues = "store-amsterdam, 3pl-venlo"
    assert settings_of(location, {"OMS_LOCATION_TASK_QUEUES": queues}).location_queues == [
        "store-amsterdam",
        "3pl-venlo",
    ]
    assert settings_of(location).location_queues == []  # none by default: its replicas are 0
    assert location["deploy"]["replicas"] == 0


def test_a_location_worker_without_queues_refuses_to_start() -> None:
    """It would poll nothing and look healthy while the locations' shipments wait; it says so at
    once, before it connects to anything."""
    settings = load_settings(_env_file=None, temporal_address="127.0.0.1:1", location_task_queues=" , ")
    with pytest.raises(ConfigurationError, match="OMS_LOCATION_TASK_QUEUES"):
        asyncio.run(run_worker(settings, locations_only=True))


# --- Temporal --------------------------------------------------------------------------------------


def test_temporal_keeps_its_histories_in_postgres_with_a_fixed_shard_count(services: dict[str, dict[str, Any]]) -> None:
    env = interpolate(environment(services["temporal"]), REAL_LOOKING)
    assert env["DB"] == "postgres12" and env["POSTGRES_SEEDS"] == "postgres"
    assert "postgres" in services["temporal"]["depends_on"]
    shards = int(env["NUM_HISTORY_SHARDS"])
    assert shards >= 512, "the shard count can never change after the first start: size it for growth"
    for pool in ("SQL_MAX_CONNS", "SQL_VIS_MAX_CONNS"):
        assert int(env[pool]) >= 1, pool


# --- PostgreSQL connections ------------------------------------------------------------------------


def postgres_setting(services: dict[str, dict[str, Any]], name: str) -> int | None:
    command = services["postgres"]["command"]
    words = command if isinstance(command, list) else shlex.split(command)
    options = dict(words[i + 1].split("=", 1) for i, word in enumerate(words[:-1]) if word == "-c")
    return int(options[name]) if name in options else None


def replica_ceiling(services: dict[str, dict[str, Any]], name: str) -> int:
    """What one replica of an engine service may hold: its pool plus overflow, from its settings."""
    settings = settings_of(services[name])
    return (settings.api_db_pool if name == "api" else settings.worker_db_pool).ceiling


def connection_budget(compose: dict[str, Any], scale: dict[str, int]) -> dict[str, int]:
    services = compose["services"]
    temporal = interpolate(environment(services["temporal"]), REAL_LOOKING)
    budget = {
        "temporal": TEMPORAL_SERVICES * (int(temporal["SQL_MAX_CONNS"]) + int(temporal["SQL_VIS_MAX_CONNS"])),
        **{name: scale[name] * replica_ceiling(services, name) for name in SCALED},
        "one-off": scale["one-off"],
        "superuser reserved": postgres_setting(services, "superuser_reserved_connections") or SUPERUSER_RESERVED,
    }
    return budget


def test_the_documented_scale_fits_postgres_max_connections(compose: dict[str, Any]) -> None:
    sizing = compose["x-oms-sizing"]
    assert set(sizing) == {*SCALED, "one-off"}
    max_connections = postgres_setting(compose["services"], "max_connections")
    assert max_connections is not None, "PostgreSQL's default of 100 is too few for any scale-out"
    budget = connection_budget(compose, sizing)
    total = sum(budget.values())
    assert total <= max_connections, f"{budget}: {total} > max_connections={max_connections}"
    # The sum written beside max_connections is this one (a comment that lies misleads the next sizing).
    assert f"{total} <= {max_connections}" in COMPOSE_FILE.read_text()
    # Every migrate / ops process opens a pool of 1 and as many in overflow; the room counts a few.
    assert sizing["one-off"] >= 2 * 2


def test_the_default_scale_is_within_the_documented_one(compose: dict[str, Any]) -> None:
    sizing = compose["x-oms-sizing"]
    for name in SCALED:
        assert compose["services"][name]["deploy"]["replicas"] <= sizing[name], name


def test_scaling_past_the_documented_scale_is_caught(compose: dict[str, Any]) -> None:
    """The check above can fail: scaled past what max_connections was sized for, it does."""
    max_connections = postgres_setting(compose["services"], "max_connections")
    assert max_connections is not None
    doubled = {name: 2 * replicas for name, replicas in compose["x-oms-sizing"].items()}
    assert sum(connection_budget(compose, doubled).values()) > max_connections


def test_compose_pools_give_every_worker_thread_a_connection(services: dict[str, dict[str, Any]]) -> None:
    api = settings_of(services["api"])
    assert (api.api_db_pool.size, api.api_db_pool.max_overflow) == (10, 10)
    for name in WORKERS:
        settings = settings_of(services[name])
        pool = settings.worker_db_pool
        # A connection for each activity thread, so no activity waits for one.
        assert pool.ceiling >= settings.worker_activity_threads, name


# --- pool settings ---------------------------------------------------------------------------------


def test_pool_settings_default_to_what_each_process_needs() -> None:
    defaults = load_settings(_env_file=None)
    assert (defaults.api_db_pool.size, defaults.api_db_pool.max_overflow) == (API_DB_POOL_SIZE, API_DB_POOL_SIZE)
    threads = defaults.worker_activity_threads
    assert (defaults.worker_db_pool.size, defaults.worker_db_pool.max_overflow) == (threads, threads)
    narrow = load_settings(_env_file=None, worker_activity_threads=8, db_max_overflow=0)
    assert narrow.worker_db_pool.ceiling == 8 and narrow.api_db_pool.ceiling == API_DB_POOL_SIZE
    sized = load_settings(_env_file=None, db_pool_size=5, db_max_overflow=3)
    assert sized.api_db_pool.ceiling == sized.worker_db_pool.ceiling == 8


def test_pool_settings_refuse_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    for name, value in (("OMS_DB_POOL_SIZE", "0"), ("OMS_DB_MAX_OVERFLOW", "-1")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match=name.removeprefix("OMS_").lower()):
            load_settings(_env_file=None)
        monkeypatch.delenv(name)


def test_the_engine_is_built_with_the_pool_it_is_given() -> None:
    # No connection is opened: a PostgreSQL engine connects on first use.
    engine = create_db_engine("postgresql+psycopg://oms:pw@postgres:5432/oms", pool_size=7, max_overflow=2)
    assert isinstance(engine.pool, QueuePool)
    assert (engine.pool.size(), engine.pool._max_overflow) == (7, 2)
    default = create_db_engine("postgresql+psycopg://oms:pw@postgres:5432/oms", pool_size=4)
    assert isinstance(default.pool, QueuePool)
    assert (default.pool.size(), default.pool._max_overflow) == (4, 4)  # as many again, as before


# --- Kubernetes (deploy/k8s) -----------------------------------------------------------------------

K8S = ROOT / "deploy" / "k8s"
K8S_WORKLOADS = {"api": "oms-api", "worker": "oms-worker", "location-worker": "oms-location-worker"}
"""Compose service -> the Deployment that runs the same thing on Kubernetes."""


@pytest.fixture(scope="module")
def k8s() -> dict[tuple[str, str], dict[str, Any]]:
    documents = [doc for doc in yaml.safe_load_all((K8S / "oms.yaml").read_text()) if doc]
    found = {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents}
    assert len(found) == len(documents), "two objects of one kind share a name"
    return found


@pytest.fixture(scope="module")
def temporal_values() -> dict[str, Any]:
    values = yaml.safe_load((K8S / "temporal-values.yaml").read_text())
    assert isinstance(values, dict)
    return values


def only_container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def k8s_settings(k8s: dict[tuple[str, str], dict[str, Any]], container: dict[str, Any]) -> Settings:
    """What a container starts with: the oms-env ConfigMap, the oms-secrets Secret (made by the
    operator: real-looking values here) and its own env, read as the engine reads its environment."""
    refs = {next(iter(ref)): ref[next(iter(ref))]["name"] for ref in container["envFrom"]}
    assert refs == {"configMapRef": "oms-env", "secretRef": "oms-secrets"}
    env = {**k8s[("ConfigMap", "oms-env")]["data"]}
    env |= {key: value for key, value in REAL_LOOKING.items() if key.startswith("OMS_")}
    env["OMS_DATABASE_URL"] = f"postgresql+psycopg://oms:{REAL_LOOKING['OMS_DB_PASSWORD']}@postgres:5432/oms"
    env |= {each["name"]: each["value"] for each in container.get("env", [])}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, str(value))
        return load_settings(_env_file=None)


def test_k8s_runs_what_compose_runs(
    k8s: dict[tuple[str, str], dict[str, Any]], services: dict[str, dict[str, Any]]
) -> None:
    images = set()
    for service, name in K8S_WORKLOADS.items():
        container = only_container(k8s[("Deployment", name)])
        assert container["command"] == services[service]["command"], name
        images.add(container["image"])
    migrate = k8s[("Job", "oms-migrate")]["spec"]["template"]["spec"]["containers"][0]
    assert migrate["command"] == services["migrate"]["command"]
    images.add(migrate["image"])
    assert len(images) == 1, images


def test_k8s_scaled_workloads_have_no_host_port_and_no_fixed_name(k8s: dict[tuple[str, str], dict[str, Any]]) -> None:
    for name in K8S_WORKLOADS.values():
        pod = k8s[("Deployment", name)]["spec"]["template"]["spec"]
        assert not pod.get("hostNetwork"), name
        for container in pod["containers"]:
            assert not [port for port in container.get("ports", []) if "hostPort" in port], name
        assert "hostname" not in pod, name
    assert k8s[("Deployment", "oms-location-worker")]["spec"]["replicas"] == 0  # none until queues are set


def test_k8s_publishes_the_api_once_through_its_service(k8s: dict[tuple[str, str], dict[str, Any]]) -> None:
    deployment = k8s[("Deployment", "oms-api")]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    service = k8s[("Service", "oms-api")]["spec"]
    assert service["type"] == "ClusterIP" and service["selector"] == labels
    (port,) = service["ports"]
    container_ports = {each["name"]: each["containerPort"] for each in only_container(deployment)["ports"]}
    assert container_ports[port["targetPort"]] == 8000
    services = [key for key in k8s if key[0] == "Service"]
    ingresses = [doc for key, doc in k8s.items() if key[0] == "Ingress"]
    assert services == [("Service", "oms-api")] and len(ingresses) == 1
    (rule,) = ingresses[0]["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/" and path["backend"]["service"] == {"name": "oms-api", "port": {"name": port["name"]}}
    # Readiness is /health: a replica without the database or Temporal gets no requests.
    assert only_container(deployment)["readinessProbe"]["httpGet"]["path"] == "/health"


def test_k8s_api_trusts_forwarded_headers_only_behind_a_network_policy(
    k8s: dict[tuple[str, str], dict[str, Any]],
) -> None:
    container = only_container(k8s[("Deployment", "oms-api")])
    env = {each["name"]: each["value"] for each in container["env"]}
    assert env["FORWARDED_ALLOW_IPS"] == "*"
    policy = k8s[("NetworkPolicy", "oms-api")]["spec"]
    assert policy["podSelector"]["matchLabels"] == k8s[("Deployment", "oms-api")]["spec"]["selector"]["matchLabels"]
    assert policy["policyTypes"] == ["Ingress"]
    (allowed,) = policy["ingress"]
    assert allowed["from"] and all("namespaceSelector" in peer for peer in allowed["from"])


def test_k8s_location_workers_serve_only_the_locations_queues(k8s: dict[tuple[str, str], dict[str, Any]]) -> None:
    container = only_container(k8s[("Deployment", "oms-location-worker")])
    assert container["command"][-1] == "--locations-only"
    assert "--locations-only" not in only_container(k8s[("Deployment", "oms-worker")])["command"]
    assert "OMS_LOCATION_TASK_QUEUES" in k8s[("ConfigMap", "oms-env")]["data"]


def test_k8s_settings_are_valid_production_settings(k8s: dict[tuple[str, str], dict[str, Any]]) -> None:
    config = k8s[("ConfigMap", "oms-env")]["data"]
    assert not [key for key in config if key in REAL_LOOKING or "PASSWORD" in key], "secrets belong in oms-secrets"
    assert all(isinstance(value, str) for value in config.values()), "ConfigMap values must be strings"
    for name in K8S_WORKLOADS.values():
        settings = k8s_settings(k8s, only_container(k8s[("Deployment", name)]))
        assert settings.env.value == "production" and not settings.sandbox_enabled, name
        assert settings.temporal_address == "temporal-frontend:7233", name  # the Helm release `temporal`


def test_k8s_temporal_keeps_its_histories_in_postgres(temporal_values: dict[str, Any]) -> None:
    persistence = temporal_values["server"]["config"]["persistence"]
    assert persistence["numHistoryShards"] >= 512
    stores = persistence["datastores"]
    for store in (persistence["defaultStore"], persistence["visibilityStore"]):
        sql = stores[store]["sql"]
        assert sql["pluginName"] == sql["driverName"] == "postgres12", store
        assert sql["existingSecret"] and "password" not in sql, store
    assert temporal_values["server"]["dynamicConfig"]["limit.maxIDLength"][0]["value"] <= 255


def test_k8s_autoscaled_replicas_fit_postgres_max_connections(
    k8s: dict[tuple[str, str], dict[str, Any]], temporal_values: dict[str, Any]
) -> None:
    server = temporal_values["server"]
    stores = server["config"]["persistence"]["datastores"]
    per_pod = sum(int(stores[store]["sql"]["maxConns"]) for store in ("default", "visibility"))
    pods = sum(int(server[role].get("replicaCount", 1)) for role in ("frontend", "history", "matching", "worker"))
    sizing = k8s[("ConfigMap", "oms-env")]["metadata"]["annotations"]
    most = {
        "oms-api": k8s[("HorizontalPodAutoscaler", "oms-api")]["spec"]["maxReplicas"],
        "oms-worker": k8s[("HorizontalPodAutoscaler", "oms-worker")]["spec"]["maxReplicas"],
        "oms-location-worker": int(sizing["oms/location-worker-replicas-max"]),
    }
    budget = {"temporal": pods * per_pod}
    for name, replicas in most.items():
        settings = k8s_settings(k8s, only_container(k8s[("Deployment", name)]))
        pool = settings.api_db_pool if name == "oms-api" else settings.worker_db_pool
        budget[name] = replicas * pool.ceiling
    budget["one-off"] = int(sizing["oms/one-off-connections"])
    budget["superuser reserved"] = SUPERUSER_RESERVED
    total, max_connections = sum(budget.values()), int(sizing["oms/postgres-max-connections"])
    assert total <= max_connections, f"{budget}: {total} > {max_connections}"
    assert f"{total} <= {max_connections}" in (K8S / "oms.yaml").read_text()
    for name in ("oms-api", "oms-worker"):
        hpa = k8s[("HorizontalPodAutoscaler", name)]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["minReplicas"] <= k8s[("Deployment", name)]["spec"]["replicas"] <= hpa["maxReplicas"]
