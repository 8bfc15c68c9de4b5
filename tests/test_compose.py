"""The compose deployment, checked without a Docker engine (there is none on this machine).

The file is validated against the Compose Specification's JSON schema as vendored by the
check-jsonschema package (`vendor.compose-spec`), before and after variable interpolation,
and its services, mounts, environment, health checks, profiles and secrets are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
LONG_RUNNING = (*AIRFLOW_SERVICES, "postgres", "redis", "mailpit")
SECRETS = (
    "POSTGRES_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
)
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
REFERENCE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")


class MissingVariable(LookupError):
    pass


def interpolate(node, env: dict[str, str]):
    """Compose's interpolation of every value (comments are not values), enough for this
    file: defaults, required values and `$$`."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    if not isinstance(node, str):
        return node

    def replace(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        value = env.get(name)
        empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and empty:
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-") and empty:
            return arg
        return value or ""

    return "$".join(REFERENCE.sub(replace, part) for part in node.split("$$"))


def strings(node):
    """Every string value of the parsed file."""
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            line = line.lstrip("# ")
            if not re.match(r"^[A-Z_][A-Z0-9_]*=", line):
                continue
        if "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


@pytest.fixture(scope="module")
def raw() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def spec(raw) -> dict:
    return yaml.safe_load(raw)


@pytest.fixture(scope="module")
def references(spec) -> list[re.Match]:
    return [m for value in strings(spec) for part in value.split("$$") for m in REFERENCE.finditer(part)]


@pytest.fixture(scope="module")
def services(spec) -> dict:
    return spec["services"]


@pytest.fixture(scope="module")
def filled_env() -> dict[str, str]:
    """The example .env with every secret filled in, as an admin would."""
    return {name: value or f"example-{name.lower()}" for name, value in env_example().items()}


def test_the_compose_schema_comes_from_the_package():
    schema = get_builtin_schema("vendor.compose-spec")
    assert schema["$id"] == "compose_spec.json"
    assert {"services", "volumes", "networks"} <= set(schema["properties"])


def test_compose_file_is_valid_against_the_compose_specification(spec):
    schema = get_builtin_schema("vendor.compose-spec")
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(spec)]
    assert errors == []


def test_interpolated_compose_file_is_still_valid(spec, filled_env):
    spec = interpolate(spec, filled_env)
    schema = get_builtin_schema("vendor.compose-spec")
    jsonschema.validators.validator_for(schema)(schema).validate(spec)
    env = spec["services"]["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__FERNET_KEY"] == filled_env["AIRFLOW_FERNET_KEY"]
    assert "example-postgres_password@postgres:5432/reports" in env["AIRFLOW_CONN_REPORT_DB"]
    assert '"${HOSTNAME}"' in spec["services"]["airflow-triggerer"]["healthcheck"]["test"][1]


def test_the_services_of_the_official_file_are_there(services):
    assert set(services) >= {*LONG_RUNNING, "airflow-init"}


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_services_share_image_mounts_and_environment(services, name):
    service = services[name]
    assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert service["image"].startswith("${AIRFLOW_IMAGE_NAME:-")
    mounts = {m.split(":")[0]: m.split(":")[1] for m in service["volumes"]}
    assert mounts["./dags"] == "/opt/airflow/dags"
    assert mounts["./plugins"] == "/opt/airflow/plugins"
    assert mounts["./include"] == "/opt/airflow/include"
    assert mounts["./output"] == "/opt/airflow/output"
    env = service["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://airflow:${POSTGRES_PASSWORD:?")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert env["PYTHONPATH"].split(":") == ["/opt/airflow/include", "/opt/airflow/plugins"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    # One secret for every process: tokens signed by one are accepted by the others.
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")
    assert env["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:?")
    # The report database through the report_db connection: `reports` on the same server.
    assert env["AIRFLOW_CONN_REPORT_DB"].startswith("postgresql://airflow:${POSTGRES_PASSWORD:?")
    assert env["AIRFLOW_CONN_REPORT_DB"].endswith("@postgres:5432/reports")
    assert env["AIRFLOW_VAR_REPORT_OUTPUT_DIR"] == "/opt/airflow/output"
    depends = service["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["airflow-init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_health_check(services, name):
    check = services[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert check["interval"]
    assert check["retries"]
    assert services[name]["restart"] == "always"


def test_health_checks_are_the_official_ones(services):
    assert "/api/v2/version" in services["airflow-apiserver"]["healthcheck"]["test"][-1]
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "8974/health" in services["airflow-scheduler"]["healthcheck"]["test"][-1]
    assert "DagProcessorJob" in services["airflow-dag-processor"]["healthcheck"]["test"][-1]
    assert "TriggererJob" in services["airflow-triggerer"]["healthcheck"]["test"][-1]
    assert "inspect ping" in services["airflow-worker"]["healthcheck"]["test"][-1]


def test_workers_scale_with_one_flag(services):
    worker = services["airflow-worker"]
    assert worker["command"] == "celery worker"
    assert "container_name" not in worker
    assert "ports" not in worker
    assert not any("container_name" in s for s in services.values())


def test_init_service_migrates_and_creates_admin_pool_and_report_db(services):
    init = services["airflow-init"]
    script = init["command"][-1]
    steps = [
        "airflow db migrate",
        "airflow users create --role Admin",
        'airflow pools set google_sheets_api 4 "',
        "python -m housing_report_airflow.init_report_db",
    ]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)
    assert script.startswith("set -euo pipefail")
    assert '--password "$${AIRFLOW_ADMIN_PASSWORD}"' in script
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    assert "restart" not in init
    assert "healthcheck" not in init


def test_mailpit_only_under_the_mail_profile(services):
    mailpit = services["mailpit"]
    assert mailpit["profiles"] == ["mail"]
    assert {p.split(":")[-1] for p in mailpit["ports"]} == {"1025", "8025"}
    assert all("profiles" not in s for n, s in services.items() if n != "mailpit")


def test_no_secret_has_a_default(raw, references):
    assert {m["name"] for m in references} >= set(SECRETS)
    for match in references:
        if match["name"] in SECRETS:
            assert match["op"] == ":?", match.group(0)
    # Every password in a URL is a required variable, never a literal.
    for user_password in re.findall(r"://([^/@\s]+)@", raw):
        assert ":${POSTGRES_PASSWORD:?" in user_password, user_password


@pytest.mark.parametrize("missing", SECRETS)
def test_compose_refuses_to_start_without_each_secret(spec, filled_env, missing):
    env = {**filled_env, missing: ""}
    with pytest.raises(MissingVariable, match=missing):
        interpolate(spec, env)


def test_env_example_documents_every_variable_with_no_usable_secret(references):
    documented = env_example()
    used = {m["name"] for m in references}
    assert used <= set(documented), used - set(documented)
    for name in SECRETS:
        assert documented[name] == "", name


def test_dockerfile_starts_from_airflow_and_installs_the_pinned_requirements():
    lines = [
        line.strip()
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0].startswith("FROM apache/airflow:3.3.2")
    copy = next(line for line in lines if line.startswith("COPY") and "requirements.txt" in line)
    assert "constraints.txt" in copy
    assert any(re.match(r"RUN pip install .*-r \S*requirements\.txt", line) for line in lines)
    requirements = (REPO / "requirements.txt").read_text(encoding="utf-8")
    assert "-c constraints.txt" in requirements
    assert "apache-airflow[celery,postgres]==3.3.2" in requirements
    assert re.search(r"^apache-airflow-providers-fab==", requirements, re.M)


def test_the_image_and_the_set_up_install_libreoffice():
    """The approved report is rendered to PDF by LibreOffice: the image installs it (as root,
    then back to the airflow user), and `make` installs it and SoftHSM2 where it can."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    install = re.search(r"RUN apt-get update(?:[^\n]*\\\n)*[^\n]*", text)
    assert install
    assert "libreoffice-writer" in install.group(0)
    assert text.index("USER root") < install.start() < text.index("USER airflow")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^SYSTEM_PACKAGES := .*libreoffice-writer.*softhsm2", makefile, re.M)
    assert re.search(r"^test: .*\$\(VENV\)/\.system", makefile, re.M)
    assert re.search(r"^demo: .*\$\(VENV\)/\.system", makefile, re.M)
