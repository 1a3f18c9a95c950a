"""Prometheus and Grafana: promtool checks the configuration, the alert rules and their unit tests; every alert has a
firing and a silent case; every dashboard query parses; every metric they name is exported by running processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from deploy_support import CHART, ROOT, compose_config, promtool, run, topology
from github_sandbox_support import sandbox_process
from system_support import KEYS, build

from rig_identity import mint
from rig_supervisor.harness import free_port
from rig_testing import waiting

RULES = CHART / "files" / "prometheus" / "alerts.yml"
RULE_TESTS = CHART / "files" / "prometheus" / "alerts.test.yml"
DASHBOARDS = sorted((CHART / "files" / "grafana").glob("*.json"))
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
METRIC = re.compile(r"\b(rig_[a-z0-9_]+|up)\b(?!\s*\()")


def alert_expressions() -> dict[str, str]:
    return {rule["alert"]: rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"]
            for rule in group["rules"] if "alert" in rule}


def panel_expressions() -> list[tuple[str, str]]:
    """(dashboard/panel title, PromQL) for every query of every panel."""
    found = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            found += [(f"{path.stem}/{panel['title']}", target["expr"]) for target in panel["targets"]]
    return found


def metric_names(expression: str) -> set[str]:
    # Label names inside {…} and by (…) clauses are not metrics.
    bare = re.sub(r"\{[^}]*\}", "", expression)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    return set(METRIC.findall(bare))


def test_promtool_checks_the_compose_prometheus_config(tmp_path):
    # The same file compose mounts, with the rules at their place in the repository.
    config = PROMETHEUS.read_text().replace("/etc/prometheus/alerts.yml", str(RULES))
    (tmp_path / "prometheus.yml").write_text(config)
    run([promtool(), "check", "config", str(tmp_path / "prometheus.yml")])


def test_prometheus_scrapes_every_service_of_compose():
    targets = {target for job in yaml.safe_load(PROMETHEUS.read_text())["scrape_configs"]
               for static in job["static_configs"] for target in static["targets"]}
    services = compose_config()["services"]
    expected = {f"{name}:{services[name]['environment']['RIG_PORT']}" for name in services
                if "RIG_SERVICE" in services[name].get("environment", {})}
    expected |= {f"{agent}:8080" for agent in topology().agents.names}
    assert targets == expected


def test_promtool_checks_and_tests_the_alert_rules():
    run([promtool(), "check", "rules", str(RULES)])
    run([promtool(), "test", "rules", str(RULE_TESTS)], cwd=RULE_TESTS.parent)


def test_every_alert_has_a_firing_and_a_silent_case():
    firing: set[str] = set()
    silent: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    alerts = set(alert_expressions())
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - silent == set(), "alerts never tested silent"


def test_every_dashboard_query_parses(tmp_path):
    # promtool parses PromQL when it checks rules: each query becomes a recording rule.
    rules = [{"record": f"dashboard:query:{index}", "expr": expr}
             for index, (_, expr) in enumerate(panel_expressions())]
    assert rules
    (tmp_path / "queries.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    run([promtool(), "check", "rules", str(tmp_path / "queries.yml")])


def test_dashboards_have_unique_ids_and_a_datasource_variable():
    uids = [json.loads(path.read_text())["uid"] for path in DASHBOARDS]
    assert len(set(uids)) == len(uids) == 3
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        assert [var["name"] for var in board["templating"]["list"]] == ["datasource"], path.name
        for panel in board["panels"]:
            assert panel["targets"], f"{path.name}: {panel['title']} has no query"


async def scrape(url: str) -> set[str]:
    """The metric families a /metrics page declares."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
        response.raise_for_status()
    return {_family(line.split()[2]) for line in response.text.splitlines() if line.startswith("# TYPE ")}


def _family(name: str) -> str:
    """A counter's family name: its samples end in _total, and expositions differ on whether TYPE says so."""
    return name.removesuffix("_total")


async def agent_metrics(tmp_path: Path, redis_url: str, key_prefix: str, conductor_url: str) -> set[str]:
    """What a real agent process exports on its --port (GitHub is the sandbox; it needs the App credentials)."""
    port = free_port()
    async with sandbox_process(tmp_path / "sandbox") as sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")} | {
            "RIG_REDIS_URL": redis_url, "RIG_AGENT_REDIS_URL": redis_url, "RIG_KEY_PREFIX": key_prefix,
            "RIG_DATA_DIR": str(tmp_path / "agent"), "RIG_AGENT_CONDUCTOR_URL": conductor_url,
            "RIG_AGENT_TOKEN": mint(KEYS[0], "agent:dev-e-base", ["events:write"]),
            "RIG_AGENT_PROVIDER": "scripted", "RIG_AGENT_IDLE_EXIT_S": "60", "RIG_ENVIRONMENT": "test",
            **sandbox.env()}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rig_agent", "--agent", "dev-e-base", "--port", str(port), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            found: set[str] = set()

            async def answered() -> bool:
                found.update(await scrape(f"http://127.0.0.1:{port}/metrics"))
                return bool(found)
            await waiting.eventually(answered, within_s=60, what="the agent's /metrics",
                                     ignoring=(httpx.HTTPError,))
            return found
        finally:
            process.terminate()
            await process.wait()


@pytest.mark.slow
async def test_every_metric_the_dashboards_and_alerts_name_is_exported(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    named: dict[str, set[str]] = {}
    for where, expr in [*panel_expressions(), *alert_expressions().items()]:
        for name in metric_names(expr):
            named.setdefault(_family(name), set()).add(where)
    named.pop("up", None)  # Prometheus's own, for every target
    services = ["ingest", "router", "merger", "eventstore", "edge"]
    system = build(services, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                   schema_suffix=schema_suffix, folder=tmp_path,
                   extra_env={"RIG_INGEST_WEBHOOK_SECRETS": json.dumps(["deploy-test-secret"])})
    exported: set[str] = set()
    async with system:
        for name in services:
            # The edge forwards every path but its own, under /services/edge (as Prometheus scrapes it).
            exported |= await scrape(f"{system.url(name)}{'/services/edge' if name == 'edge' else ''}/metrics")
        exported |= await agent_metrics(tmp_path, redis_url, key_prefix, system.url("ingest"))
    missing: dict[str, Any] = {name: sorted(where) for name, where in named.items() if name not in exported}
    assert not missing, f"named but exported by no running process: {missing}"
