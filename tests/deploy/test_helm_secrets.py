"""The chart hands each process only the secrets `make run` hands it (rig_supervisor.credentials), from existing
Secrets, and renders no secret value."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import VALUES, rendered

from rig_supervisor.credentials import SERVICE_GRANTS, Grant, is_secret, scoped_env

SECRET_GRANTS = {
    "rig-database": Grant.DATA, "rig-valkey": Grant.DATA, "rig-edge": Grant.EDGE, "rig-webhooks": Grant.WEBHOOKS_IN,
    "rig-github-conductor": Grant.GITHUB_CONDUCTOR, "rig-github-dev": Grant.GITHUB_DEV,
    "rig-github-review": Grant.GITHUB_REVIEW, "rig-model-keys": Grant.MODEL,
}
"""Each shared Secret of values.yaml and the grant of credentials.py that names what it holds."""
AGENT_IDENTITY = "rig-agent-"
"""A pool's own Secret (its token and Valkey user): only that pool's pods."""


def _workloads(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] in {"Deployment", "Job"}}


def _secret_refs(pod: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The Secrets a pod reads (env, envFrom, volumes) and the variable names it takes from single keys."""
    names: set[str] = set()
    variables: set[str] = set()
    for container in pod.get("initContainers", []) + pod["containers"]:
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                names.add(ref["name"])
                variables.add(env["name"])
        names |= {source["secretRef"]["name"] for source in container.get("envFrom", []) if "secretRef" in source}
    names |= {volume["secret"]["secretName"] for volume in pod.get("volumes", []) if "secret" in volume}
    return names, variables


def _expected(workload: dict[str, Any]) -> tuple[frozenset[Grant], str | None]:
    labels = workload["metadata"]["labels"]
    process = labels["rig-conductor/process"]
    if labels["app.kubernetes.io/component"] == "migration":
        return frozenset({Grant.DATA}), None  # the database URL alone: it never touches Valkey
    if labels["app.kubernetes.io/component"] == "agent":
        role = Grant.GITHUB_REVIEW if process == "review-e" else Grant.GITHUB_DEV
        return frozenset({role, Grant.MODEL}), AGENT_IDENTITY + process
    return SERVICE_GRANTS[process], None


@pytest.mark.parametrize("values", list(VALUES))
def test_each_secret_is_mounted_only_where_credentials_py_grants_it(values):
    workloads = _workloads(rendered(values))
    assert workloads
    for name, workload in workloads.items():
        grants, identity = _expected(workload)
        names, variables = _secret_refs(workload["spec"]["template"]["spec"])
        shared = {secret for secret in names if not secret.startswith(AGENT_IDENTITY)}
        assert shared <= set(SECRET_GRANTS), f"{name} reads a Secret the chart does not know: {shared}"
        got = {SECRET_GRANTS[secret] for secret in shared}
        if workload["metadata"]["labels"]["app.kubernetes.io/component"] == "migration":
            assert names == {"rig-database"}, name
        assert got == set(grants), f"{name}: secrets {sorted(shared)} give {sorted(got)}, expected {sorted(grants)}"
        assert names - shared == ({identity} if identity else set()), name
        # The variable names taken from single keys are the ones those grants let through.
        assert set(scoped_env(dict.fromkeys(variables, "x"), grants)) == variables, name


def test_agents_never_get_the_database_the_webhook_secrets_or_the_edge_secret():
    for name, workload in _workloads(rendered("production")).items():
        if workload["metadata"]["labels"]["app.kubernetes.io/component"] != "agent":
            continue
        names, _ = _secret_refs(workload["spec"]["template"]["spec"])
        assert not names & {"rig-database", "rig-valkey", "rig-webhooks", "rig-edge", "rig-github-conductor"}, name
        others = {secret for secret in names if secret.startswith(AGENT_IDENTITY)} - {f"rig-agent-{name[4:]}"}
        assert not others, f"{name} reads another pool's identity: {others}"


@pytest.mark.parametrize("values", list(VALUES))
def test_no_secret_value_is_rendered(values):
    docs = rendered(values)
    assert not [doc for doc in docs if doc["kind"] == "Secret"], "the chart only reads existing Secrets"
    for workload in _workloads(docs).values():
        pod = workload["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            for env in container.get("env", []):
                if "value" in env:
                    assert not is_secret(env["name"], env["value"]), env["name"]
    for config in (doc for doc in docs if doc["kind"] == "ConfigMap"):
        for key, value in config.get("data", {}).items():
            assert not is_secret(key, value), key
