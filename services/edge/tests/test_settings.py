"""The edge refuses upstream settings it cannot use, at start-up, saying what to write instead."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rig_edge.app import create_app
from rig_edge.proxy import upstream_urls
from rig_edge.settings import EdgeSettings
from rig_service.topology import load


def test_upstream_must_be_an_http_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_UPSTREAMS", '{"ingest": "127.0.0.1:9001"}')

    with pytest.raises(ValidationError, match="not an http"):
        EdgeSettings()


def test_unknown_service_in_upstreams_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_UPSTREAMS", '{"ingestt": "http://127.0.0.1:9001"}')

    with pytest.raises(ValueError, match="ingestt"):
        create_app()


def test_upstream_is_the_override_else_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_UPSTREAMS", '{"ingest": "http://10.0.0.5:9001/"}')
    monkeypatch.setenv("RIG_UPSTREAM_HOST", "services.local")
    topology = load()

    urls = upstream_urls(topology, EdgeSettings())

    assert urls["ingest"] == "http://10.0.0.5:9001"
    assert urls["router"] == f"http://services.local:{topology.services['router'].port}"


@pytest.mark.parametrize("environment", ["test", "production"])
def test_outside_development_the_edge_needs_a_secret_to_sign_client_addresses(
        monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    monkeypatch.setenv("RIG_ENVIRONMENT", environment)
    monkeypatch.delenv("RIG_EDGE_SECRET", raising=False)
    with pytest.raises(ValidationError, match="RIG_EDGE_SECRET must hold at least 32"):
        EdgeSettings()
    monkeypatch.setenv("RIG_EDGE_SECRET", "s" * 64)
    assert EdgeSettings().edge_secret is not None
