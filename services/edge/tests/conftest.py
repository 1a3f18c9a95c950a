"""Fixtures of the edge tests: upstream services and the edge as real processes, once per session.

Helper modules (edge_processes, edge_upstream) are plain modules imported by name; nothing imports this file.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from edge_processes import (
    RESPONSE_TIMEOUT_S,
    TEST_TOPOLOGY,
    HangUpServer,
    Process,
    start_edge,
    start_upstream,
)

from rig_testing.servers import free_port


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edge-logs")


@pytest.fixture(scope="session")
def upstreams(log_dir: Path) -> Iterator[dict[str, Process]]:
    started: dict[str, Process] = {}
    try:
        for name in ("ingest", "dashboard"):
            started[name] = start_upstream(name, log_dir)
        yield started
    finally:
        for process in started.values():
            process.stop()


@pytest.fixture(scope="session")
def hang_up() -> Iterator[HangUpServer]:
    server = HangUpServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def down_url() -> str:
    """A URL nothing listens on: a service that is not running."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def edge(upstreams: dict[str, Process], hang_up: HangUpServer, down_url: str, log_dir: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    topology = tmp_path_factory.mktemp("edge-topology") / "topology.toml"
    topology.write_text(TEST_TOPOLOGY)
    urls = {name: process.url for name, process in upstreams.items()}
    urls |= {"merger": down_url, "router": hang_up.url}
    process = start_edge(urls, log_dir, topology, env={"RIG_UPSTREAM_RESPONSE_TIMEOUT_S": str(RESPONSE_TIMEOUT_S)})
    yield process
    process.stop()
