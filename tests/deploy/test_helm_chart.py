"""The Helm chart, checked by the real tools: helm lint and template, Kubernetes 1.31 schemas, the KEDA and
prometheus-operator models, and the contract fields a cluster depends on."""

from __future__ import annotations

import subprocess
from typing import Any

import kubernetes_validate
import pytest
from cloudcoil.models.keda.v1alpha1 import ScaledObject, TriggerAuthentication
from cloudcoil.models.prometheus_operator.v1 import PodMonitor, PrometheusRule, ServiceMonitor
from deploy_support import (
    CHART,
    KUBE_VERSION,
    VALUES,
    built_services,
    of_kind,
    rendered,
    routes_of_topology,
    run,
    tools,
    topology,
)

MODELS: dict[str, Any] = {"ScaledObject": ScaledObject, "TriggerAuthentication": TriggerAuthentication,
                          "ServiceMonitor": ServiceMonitor, "PodMonitor": PodMonitor,
                          "PrometheusRule": PrometheusRule}
KEDA_DEFAULTS = {"pollingInterval": 15, "cooldownPeriod": 300, "minReplicaCount": 0, "maxReplicaCount": 1}


@pytest.mark.parametrize("values", list(VALUES))
def test_helm_lint_strict(values):
    command = [str(tools().helm), "lint", "--strict", str(CHART)]
    if VALUES[values] is not None:
        command += ["-f", str(VALUES[values])]
    assert "0 chart(s) failed" in run(command)


@pytest.mark.parametrize("values", list(VALUES))
def test_rendered_manifests_are_valid_for_kubernetes_1_31(values):
    docs = rendered(values)
    assert docs
    for doc in docs:
        model = MODELS.get(doc["kind"])
        if model is not None:
            # kubernetes-validate has no schema for custom resources: their own models check them.
            model.model_validate(doc)
            continue
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_production_renders_the_monitoring_objects_and_defaults_do_not():
    production = rendered("production")
    for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
        assert of_kind(production, kind), kind
        assert not of_kind(rendered("default"), kind), kind
    dashboards = [doc for doc in production if doc["kind"] == "ConfigMap"
                  and doc["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert {next(iter(doc["data"])) for doc in dashboards} == {"pipeline.json", "agents.json", "merges.json"}


@pytest.mark.parametrize("pairs", [
    ("agents.ibuild-e.stack=base", "agents.ibuild-e.role=dev"),  # it pulls over HTTP from a Mac
    ("services.ingest.memoryLimit=lots",),
    ("agentDefaults.keda.minReplicaCount=-1",),
    ("networkPolicy.agentEgressPorts={443,5432}",),
])
def test_the_values_schema_refuses(pairs):
    command = [str(tools().helm), "template", "rig", str(CHART)]
    for pair in pairs:
        command += ["--set", pair]
    result = subprocess.run(command, capture_output=True, text=True, env=tools().env(), check=False)
    assert result.returncode != 0
    assert "schema" in result.stderr


def _pods(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc["spec"]["template"]["spec"] for doc in docs
            if doc["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}}


def test_one_deployment_and_service_per_built_service_and_the_edge():
    docs = rendered("default")
    expected = {f"rig-{name}" for name in built_services()} | {"rig-edge"}
    services = {name for name, doc in of_kind(docs, "Deployment").items()
                if doc["metadata"]["labels"]["app.kubernetes.io/component"] in {"service", "edge"}}
    assert services == expected
    assert set(of_kind(docs, "Service")) == expected


def test_a_hook_job_migrates_once_before_the_new_pods():
    (job,) = of_kind(rendered("production"), "Job").values()
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["python", "-m", "rig_kit.migrate"]


def test_agent_pools_scale_on_both_lists_with_the_contract_defaults():
    docs = rendered("default")
    pools = set(topology().agents.names)
    assert "ibuild-e" not in pools
    scaled = of_kind(docs, "ScaledObject")
    assert set(scaled) == {f"rig-{pool}" for pool in pools}
    deployments = of_kind(docs, "Deployment")
    for pool in pools:
        spec = scaled[f"rig-{pool}"]["spec"]
        assert spec["scaleTargetRef"]["name"] in deployments
        assert {key: spec[key] for key in KEDA_DEFAULTS} == KEDA_DEFAULTS
        triggers = {trigger["metadata"]["listName"]: trigger for trigger in spec["triggers"]}
        assert set(triggers) == {f"signal:{pool}", f"busy:{pool}"}
        for trigger in triggers.values():
            assert trigger["type"] == "redis"
            assert trigger["metadata"]["listLength"] == "1"
            assert trigger["metadata"]["activationListLength"] == "0"
            assert trigger["authenticationRef"]["name"] in of_kind(docs, "TriggerAuthentication")


def test_keda_settings_are_settable_per_pool():
    docs = rendered("default", "agents.review-e.keda.maxReplicaCount=4", "agents.review-e.keda.listLength=3")
    scaled = of_kind(docs, "ScaledObject")
    assert scaled["rig-review-e"]["spec"]["maxReplicaCount"] == 4
    assert {t["metadata"]["listLength"] for t in scaled["rig-review-e"]["spec"]["triggers"]} == {"3"}
    assert scaled["rig-dev-e-node"]["spec"]["maxReplicaCount"] == 1
    production = of_kind(rendered("production"), "ScaledObject")
    assert production["rig-review-e"]["spec"]["cooldownPeriod"] == 600


def test_the_key_prefix_reaches_the_triggers_and_every_process():
    docs = rendered("default", "keyPrefix=team-a:")
    lists = {trigger["metadata"]["listName"] for scaled in of_kind(docs, "ScaledObject").values()
             for trigger in scaled["spec"]["triggers"]}
    assert "team-a:signal:review-e" in lists and "team-a:busy:review-e" in lists
    for name, pod in _pods(docs).items():
        env = {var["name"]: var.get("value") for var in pod["containers"][0]["env"]}
        assert env["RIG_KEY_PREFIX"] == "team-a:", name


def test_trigger_authentication_reads_an_existing_secret():
    (auth,) = of_kind(rendered("default"), "TriggerAuthentication").values()
    assert {(ref["parameter"], ref["name"]) for ref in auth["spec"]["secretTargetRef"]} == {
        ("username", "rig-keda-valkey"), ("password", "rig-keda-valkey")}


@pytest.mark.parametrize("values", list(VALUES))
def test_every_container_requests_1m_cpu_1mi_memory_with_a_memory_limit_and_no_cpu_limit(values):
    for name, pod in _pods(rendered(values)).items():
        for container in pod.get("initContainers", []) + pod["containers"]:
            resources = container["resources"]
            assert resources["requests"] == {"cpu": "1m", "memory": "1Mi"}, name
            assert "cpu" not in resources.get("limits", {}), name
            assert resources["limits"]["memory"], name


def test_memory_limits_are_settable():
    pods = _pods(rendered("default", "services.router.memoryLimit=300Mi", "agents.dev-e-node.memoryLimit=3Gi"))
    assert pods["rig-router"]["containers"][0]["resources"]["limits"]["memory"] == "300Mi"
    assert pods["rig-dev-e-node"]["containers"][0]["resources"]["limits"]["memory"] == "3Gi"


def test_ingress_routes_the_topology_prefixes_to_their_services():
    (ingress,) = of_kind(rendered("default"), "Ingress").values()
    routes = {path["path"]: path["backend"]["service"] for rule in ingress["spec"]["rules"]
              for path in rule["http"]["paths"]}
    assert {prefix: backend["name"] for prefix, backend in routes.items()} == {
        prefix: f"rig-{name}" for prefix, name in routes_of_topology().items()}
    ports = {name: port for name, (port, _) in built_services().items()}
    for prefix, backend in routes.items():
        assert backend["port"]["number"] == ports[routes_of_topology()[prefix]]


def test_agents_cannot_reach_postgresql():
    policies = of_kind(rendered("default"), "NetworkPolicy")
    agents = [policy for policy in policies.values()
              if policy["spec"]["podSelector"]["matchLabels"].get("app.kubernetes.io/component") == "agent"]
    assert len(agents) == 1
    spec = agents[0]["spec"]
    assert "Egress" in spec["policyTypes"]
    for rule in spec["egress"]:
        # A rule without ports would open every port (PostgreSQL's too) to its destinations.
        assert rule.get("ports"), rule
        assert all(port["port"] != 5432 for port in rule["ports"]), rule
    services = next(policy for policy in policies.values()
                    if policy["spec"]["podSelector"]["matchLabels"].get("app.kubernetes.io/component") == "service")
    (source,) = services["spec"]["ingress"][0]["from"]
    assert source["podSelector"]["matchExpressions"] == [
        {"key": "app.kubernetes.io/component", "operator": "NotIn", "values": ["agent"]}]


def test_prometheus_finds_every_process_under_the_jobs_the_alerts_name():
    docs = rendered("production")
    paths = {monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]:
             monitor["spec"]["endpoints"][0]["path"] for monitor in of_kind(docs, "ServiceMonitor").values()}
    assert paths == {"service": "/metrics", "edge": "/services/edge/metrics"}
    (pods,) = of_kind(docs, "PodMonitor").values()
    assert pods["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "agent"
    assert pods["spec"]["podMetricsEndpoints"][0]["path"] == "/metrics"
    jobs = {doc["metadata"]["labels"]["rig-conductor/job"] for doc in of_kind(docs, "Service").values()}
    jobs |= {doc["spec"]["template"]["metadata"]["labels"]["rig-conductor/job"]
             for doc in of_kind(docs, "Deployment").values()
             if doc["metadata"]["labels"]["app.kubernetes.io/component"] == "agent"}
    assert jobs == {"rig-conductor", "rig-conductor-edge", "rig-agents"}
    rules = of_kind(docs, "PrometheusRule")["rig-alerts"]["spec"]["groups"][0]["rules"]
    down = next(rule for rule in rules if rule["alert"] == "RigServiceDown")
    assert all(job in down["expr"] for job in jobs)
