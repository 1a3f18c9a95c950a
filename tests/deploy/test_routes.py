"""One route table: compose.yaml, the Helm Ingress and the local edge send every prefix of topology.toml to the
same service."""

from __future__ import annotations

import json
import re

import yaml
from deploy_support import (
    CHART,
    NOT_BUILT,
    ROOT,
    built_services,
    compose_config,
    of_kind,
    rendered,
    routes_of_topology,
    topology,
)


def local_edge_routes() -> dict[str, str]:
    """Where the edge (`make run`) sends each prefix: the topology's longest-prefix match, as rig_edge uses it."""
    table = topology()
    routes: dict[str, str] = {}
    for prefix in routes_of_topology():
        found = table.route(prefix)
        assert found is not None, prefix
        routes[prefix] = found[0].name
    return routes


def helm_routes() -> dict[str, str]:
    (ingress,) = of_kind(rendered("default"), "Ingress").values()
    return {path["path"]: path["backend"]["service"]["name"].removeprefix("rig-")
            for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}


def compose_routes() -> dict[str, str]:
    """The compose edge routes by the image's topology.toml to RIG_UPSTREAMS: prefix -> the container it reaches."""
    services = compose_config("demo")["services"]
    upstreams = json.loads(services["edge"]["environment"]["RIG_UPSTREAMS"])
    routes: dict[str, str] = {}
    for prefix, owner in local_edge_routes().items():
        match = re.fullmatch(r"http://([a-z0-9-]+):([0-9]+)", upstreams[owner])
        assert match, upstreams[owner]
        container, port = match[1], int(match[2])
        target = services[container]["environment"]
        # The container serves the service the edge meant, on the port the route table gives it.
        assert (target["RIG_SERVICE"], int(target["RIG_PORT"])) == (owner, topology().spec(owner).port), prefix
        assert port == topology().spec(owner).port, prefix
        routes[prefix] = target["RIG_SERVICE"]
    return routes


def test_compose_helm_and_the_local_edge_route_every_prefix_alike():
    expected = routes_of_topology()
    assert expected, "topology.toml names no route of a built service"
    assert local_edge_routes() == expected
    assert helm_routes() == expected
    assert compose_routes() == expected


def test_the_image_carries_the_same_route_table():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY topology.toml /app/topology.toml" in dockerfile
    assert "RIG_TOPOLOGY=/app/topology.toml" in dockerfile


def test_services_not_built_yet_are_left_out_everywhere():
    for name in ("costs", "dashboard"):
        if name in built_services():
            continue  # once the package exists the chart and compose must carry it, and the test above says so
        assert name not in compose_config()["services"]
        assert f"rig-{name}" not in of_kind(rendered("default"), "Deployment")


def test_the_chart_values_copy_the_route_table_for_every_service():
    # Services not built yet are in values.yaml, disabled, with their routes ready for the day they are.
    values = yaml.safe_load((CHART / "values.yaml").read_text())["services"]
    table = {name: spec for name, spec in topology().services.items() if name not in NOT_BUILT}
    assert set(values) == set(table)
    for name, spec in table.items():
        assert (values[name]["port"], tuple(values[name]["paths"])) == (spec.port, spec.paths), name
        assert values[name]["enabled"] == (name in built_services()), name
