"""docker-compose.yaml, checked statically (no Docker engine here): services, image, executor, commands,
environment, volumes, the warehouse queue routing, loopback-only ports, init, and secrets from the env.

The file is read with PyYAML's SafeLoader, which resolves the `<<:` merge keys, so every service is
checked as Compose sees it. Variables are interpolated the way Compose does (`_interpolate`), with
sentinel secrets, so connection URLs can be parsed and secrets traced to where they are used.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ctwatch_airflow.defaults import WAREHOUSE_POOL, WAREHOUSE_POOL_SLOTS, WAREHOUSE_QUEUE
from tests.conftest import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
AIRFLOW_IMAGE = "apache/airflow:3.3.2-python3.11"
INIT = "airflow-init"
LONG_RUNNING = {"api-server", "scheduler", "dag-processor", "triggerer", "worker", "worker-warehouse"}
AIRFLOW_SERVICES = LONG_RUNNING | {INIT}
WORKERS = {"worker", "worker-warehouse"}
# Every secret the deployment needs, each with a sentinel value no real configuration would hold.
SECRETS = {
    "CTWATCH_POSTGRES_PASSWORD": "sentinel-postgres-password",
    "CTWATCH_FERNET_KEY": "sentinel-fernet-key",
    "CTWATCH_JWT_SECRET": "sentinel-jwt-secret",
    "CTWATCH_API_SECRET_KEY": "sentinel-api-secret-key",
    "CTWATCH_ADMIN_PASSWORD": "sentinel-admin-password",
}
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEY)$")
CODE_FOLDERS = ("dags", "plugins", "include")
DATA_VOLUME = "ctwatch-data"

_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:\?|\?|:-|-)(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariableError(LookupError):
    pass


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:?error}` (and `-`/`?`)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        unset_or_empty = not value if op in (":?", ":-") else value is None
        if op in (":?", "?") and unset_or_empty:
            raise MissingVariableError(f"{name}: {arg}")
        if op in (":-", "-") and unset_or_empty:
            return arg
        return value or ""

    return _VARIABLE.sub(substitute, text)


def _interpolate_tree(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return _interpolate(node, env)
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate_tree(item, env) for item in node]
    return node


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every service after merge keys and interpolation with the sentinel secrets."""
    resolved: dict[str, dict[str, Any]] = _interpolate_tree(raw["services"], SECRETS)
    return resolved


def _argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def _option(argv: list[str], *names: str) -> str | None:
    """The value of `--name value` or `--name=value` in argv, None when absent."""
    for index, token in enumerate(argv):
        for name in names:
            if token == name:
                return argv[index + 1]
            if token.startswith(f"{name}="):
                return token.split("=", 1)[1]
    return None


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Short-syntax volumes as {target: (source, mode)}."""
    mounts: dict[str, tuple[str, str]] = {}
    for entry in service.get("volumes", []):
        assert isinstance(entry, str), f"use the short volume syntax: {entry!r}"
        source, target, *mode = entry.split(":")
        mounts[target] = (source, mode[0] if mode else "rw")
    return mounts


def test_the_services_are_the_airflow_components_with_their_database_and_broker(
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis"}


def test_airflow_services_extend_the_official_image_with_the_pinned_requirements(
    services: dict[str, dict[str, Any]],
) -> None:
    airflow_pin = re.search(r"^apache-airflow==(\S+)$", (REPO_ROOT / "requirements.txt").read_text(), re.M)
    assert airflow_pin is not None
    assert AIRFLOW_IMAGE.split(":")[1].startswith(f"{airflow_pin.group(1)}-"), "image and pin disagree"
    images = set()
    for name in AIRFLOW_SERVICES:
        build = services[name]["build"]
        assert build["context"] == "."
        instructions = [line.strip() for line in build["dockerfile_inline"].splitlines() if line.strip()]
        assert instructions[0] == f"FROM {AIRFLOW_IMAGE}", name
        assert "COPY requirements.txt /requirements.txt" in instructions
        assert any(
            line.startswith("RUN pip install") and "-r /requirements.txt" in line for line in instructions
        )
        assert "dockerfile" not in build, "the repository keeps no Dockerfile"
        images.add(services[name]["image"])
    assert len(images) == 1, "every component runs the same built image"


def test_every_airflow_service_runs_the_celery_executor_against_postgres_and_redis(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        results = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert metadata.scheme == "postgresql+psycopg2"
        assert results.scheme == "db+postgresql+psycopg2", "Celery results go to PostgreSQL, same driver"
        assert broker.scheme == "redis"
        assert (metadata.hostname, results.hostname, broker.hostname) == ("postgres", "postgres", "redis")
        assert metadata.password == results.password == SECRETS["CTWATCH_POSTGRES_PASSWORD"]
        assert metadata.username == services["postgres"]["environment"]["POSTGRES_USER"]
        assert metadata.path == f"/{services['postgres']['environment']['POSTGRES_DB']}"


def test_workers_reach_the_execution_api_of_the_api_server_service(
    services: dict[str, dict[str, Any]],
) -> None:
    api_port = _option(_argv(services["api-server"]["command"]), "--port")
    for name in AIRFLOW_SERVICES:
        url = urlsplit(services[name]["environment"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert (url.scheme, url.hostname, str(url.port), url.path) == (
            "http",
            "api-server",
            api_port,
            "/execution/",
        ), name


def test_all_airflow_services_share_one_environment(
    raw: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    shared = _interpolate_tree(raw["x-airflow-env"], SECRETS)
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert {key: env[key] for key in shared} == shared, name
    extras = {name: set(services[name]["environment"]) - set(shared) for name in AIRFLOW_SERVICES}
    assert extras == {
        INIT: {"CTWATCH_ADMIN_PASSWORD"},
        "api-server": set(),
        "scheduler": set(),
        "dag-processor": set(),
        "triggerer": set(),
        "worker": {"DUMB_INIT_SETSID"},
        "worker-warehouse": {"DUMB_INIT_SETSID"},
    }


def test_each_component_runs_its_own_command(services: dict[str, dict[str, Any]]) -> None:
    commands = {name: _argv(services[name]["command"]) for name in LONG_RUNNING}
    assert commands == {
        "api-server": ["api-server", "--host", "0.0.0.0", "--port", "8080"],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer"],
        "worker": ["celery", "worker", "--queues", "default"],
        "worker-warehouse": ["celery", "worker", "--queues", WAREHOUSE_QUEUE, "--concurrency", "1"],
    }


def test_the_compose_file_and_make_runs_cluster_mode_agree(services: dict[str, dict[str, Any]]) -> None:
    """One Airflow configuration for both deployments: what differs is only where things run."""
    from ctwatch_airflow.cluster import Cluster

    compose_env = services["scheduler"]["environment"]
    cluster = Cluster(workers=2, broker_url="redis://127.0.0.1:6379/0")
    cluster_env = cluster.environment(compose_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    placed_differently = {"AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CORE__HOSTNAME_CALLABLE"}
    for key, value in cluster_env.items():
        if key not in placed_differently:
            assert compose_env.get(key) == value, key
    assert urlsplit(compose_env["AIRFLOW__CELERY__BROKER_URL"]).scheme == urlsplit(cluster.broker_url).scheme
    workers = cluster.components()
    for service, worker in (("worker", "worker-1"), ("worker-warehouse", "worker-warehouse")):
        compose_argv, cluster_argv = _argv(services[service]["command"]), list(workers[worker])
        assert compose_argv[:2] == cluster_argv[:2] == ["celery", "worker"]
        assert _option(compose_argv, "--queues", "-q") == _option(cluster_argv, "--queues", "-q"), service
    warehouse_argv = _argv(services["worker-warehouse"]["command"])
    assert _option(warehouse_argv, "--concurrency", "-c") == _option(
        list(workers["worker-warehouse"]), "--concurrency", "-c"
    )


def test_warehouse_tasks_have_one_single_slot_worker_and_fetch_workers_never_take_them(
    services: dict[str, dict[str, Any]],
) -> None:
    celery_workers = {
        name
        for name, service in services.items()
        if _argv(service.get("command", ""))[:2] == ["celery", "worker"]
    }
    assert celery_workers == WORKERS
    warehouse = services["worker-warehouse"]
    warehouse_argv = _argv(warehouse["command"])
    assert _option(warehouse_argv, "--queues", "-q") == WAREHOUSE_QUEUE
    assert _option(warehouse_argv, "--concurrency", "-c") == "1"
    assert warehouse["deploy"]["replicas"] == 1
    fetch_queues = (_option(_argv(services["worker"]["command"]), "--queues", "-q") or "default").split(",")
    assert WAREHOUSE_QUEUE not in fetch_queues
    assert services["worker"]["deploy"]["replicas"] >= 1
    assert "hostname" not in services["worker"], "a fixed hostname would clash once the worker is scaled"


def test_code_is_mounted_read_only_and_the_data_volume_is_shared_with_every_worker(
    raw: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        mounts = _mounts(services[name])
        assert env["PYTHONPATH"].split(":") == ["/opt/airflow/include", "/opt/airflow/plugins"], name
        for folder in CODE_FOLDERS:
            if name != INIT or folder != "dags":
                assert mounts[f"/opt/airflow/{folder}"] == (f"./{folder}", "ro"), (name, folder)
        assert mounts[env["CTWATCH_DATA_DIR"]] == (DATA_VOLUME, "rw"), name
        for source, _mode in mounts.values():
            if source.startswith("./"):
                assert (REPO_ROOT / source).is_dir(), source
            else:
                assert source in raw["volumes"], f"{name} mounts an undeclared volume {source}"
    # The staged files a fetch worker writes are read by the warehouse worker, by the same path.
    for name in WORKERS | {"scheduler"}:
        assert DATA_VOLUME in {source for source, _mode in _mounts(services[name]).values()}


def test_every_published_port_is_bound_to_loopback(services: dict[str, dict[str, Any]]) -> None:
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}
    assert published == {"api-server": ["127.0.0.1:8080:8080"]}
    for name, service in services.items():
        assert "network_mode" not in service, f"{name} would bypass the port bindings"


def test_init_migrates_creates_the_warehouse_pool_and_the_admin_login(
    services: dict[str, dict[str, Any]],
) -> None:
    init = services[INIT]
    argv = _argv(init["command"])
    assert argv[:4] == ["bash", "-euo", "pipefail", "-c"], "a failing step must fail the init"
    script_text = argv[4].replace("\\\n", " ")
    script = [shlex.split(line) for line in script_text.splitlines() if line.strip()]
    assert script[0] == ["airflow", "db", "migrate"]
    pools = [line for line in script if line[:3] == ["airflow", "pools", "set"]]
    assert [line[3:5] for line in pools] == [[WAREHOUSE_POOL, str(WAREHOUSE_POOL_SLOTS)]]
    assert init["restart"] == "no"
    # The admin password reaches the passwords file the API server reads, and no other container.
    passwords_file = PurePosixPath(init["environment"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    assert any(line[-2:] == [">", str(passwords_file)] for line in script)
    assert init["environment"]["CTWATCH_ADMIN_PASSWORD"] == SECRETS["CTWATCH_ADMIN_PASSWORD"]
    auth_volume = _mounts(init)[str(passwords_file.parent)][0]
    assert _mounts(services["api-server"])[str(passwords_file.parent)] == (auth_volume, "rw")
    for name in AIRFLOW_SERVICES - {INIT, "api-server"}:
        assert auth_volume not in {source for source, _mode in _mounts(services[name]).values()}, name


def test_components_start_after_init_and_on_healthy_dependencies(services: dict[str, dict[str, Any]]) -> None:
    for name in LONG_RUNNING:
        depends_on = services[name]["depends_on"]
        assert depends_on[INIT] == {"condition": "service_completed_successfully"}, name
        assert depends_on["postgres"] == depends_on["redis"] == {"condition": "service_healthy"}, name
        assert services[name]["restart"] == "always", name
    for name in WORKERS:
        assert services[name]["depends_on"]["api-server"] == {"condition": "service_healthy"}
    assert services[INIT]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
    for name in LONG_RUNNING | {"postgres", "redis"}:
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_secrets_come_only_from_required_variables(raw: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text()
    referenced = {match.group("name") or match.group("bare") for match in _VARIABLE.finditer(text)} - {None}
    assert referenced == set(SECRETS)
    for secret in SECRETS:
        uses = re.findall(rf"\$\{{{secret}(.?.?)", text)
        assert uses, secret
        assert set(uses) == {":?"}, f"{secret} must be required (${{{secret}:?...}}), never defaulted"
    for missing in SECRETS:
        env = {name: value for name, value in SECRETS.items() if name != missing}
        with pytest.raises(MissingVariableError, match=missing):
            _interpolate_tree(raw, env)
    # Every secret-looking setting holds exactly one of the sentinels, so none is written in the file.
    services = _interpolate_tree(raw["services"], SECRETS)
    for name, service in services.items():
        for key, value in service.get("environment", {}).items():
            if SECRET_NAME.search(key):
                assert value in SECRETS.values(), f"{name}.{key} is not taken from the environment"
            if "://" in value and urlsplit(value).password is not None:
                assert urlsplit(value).password in SECRETS.values(), f"{name}.{key} has a written password"


def test_the_interpolation_helper_follows_compose_rules() -> None:
    env = {"SET": "value", "EMPTY": ""}
    assert _interpolate("a$$b ${SET} $SET ${UNSET:-dflt} ${EMPTY:-dflt} ${EMPTY-dflt}", env) == (
        "a$b value value dflt dflt "
    )
    with pytest.raises(MissingVariableError, match="EMPTY: needed"):
        _interpolate("${EMPTY:?needed}", env)
    assert _interpolate("${EMPTY?needed}", env) == ""


def _compose_plugin() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    version = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, check=False)
    return docker if version.returncode == 0 else None


@pytest.mark.skipif(_compose_plugin() is None, reason="the docker compose plugin is not installed")
def test_docker_compose_accepts_the_file_and_requires_every_secret() -> None:
    docker = _compose_plugin()
    assert docker is not None
    base = {key: value for key, value in os.environ.items() if not key.startswith("CTWATCH_")}

    def config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        argv = [docker, "compose", "--project-directory", str(REPO_ROOT), "-f", str(COMPOSE_FILE)]
        return subprocess.run(
            [*argv, "config", "--quiet"], env=env, capture_output=True, text=True, check=False, cwd=REPO_ROOT
        )

    accepted = config({**base, **SECRETS})
    assert accepted.returncode == 0, accepted.stderr
    refused = config({**base, **SECRETS, "CTWATCH_FERNET_KEY": ""})
    assert refused.returncode != 0
    assert "CTWATCH_FERNET_KEY" in refused.stderr
