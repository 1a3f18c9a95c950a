"""Start the edge and small upstream services as real processes on free ports, and stop them again."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from rig_testing.servers import free_port, port_open

TESTS = Path(__file__).parent
REPO = TESTS.parents[2]

TEST_TOPOLOGY = """
[edge]
port = 8000
app = "rig_edge.app:create_app"

[services.ingest]
port = 8001
app = "rig_ingest.app:create_app"
paths = ["/webhooks/github", "/api/events"]

[services.router]
port = 8002
app = "rig_router.app:create_app"
paths = ["/api/queue"]

[services.merger]
port = 8003
app = "rig_merger.app:create_app"
paths = ["/api/merge"]

[services.dashboard]
port = 8006
app = "rig_dashboard.app:create_app"
paths = ["/api/events/stream", "/api/agents"]
"""
"""Names of the real table, but no service owns `/`, so unknown paths reach the edge's 404."""

RESPONSE_TIMEOUT_S = 1.0
"""The edge's wait for response headers in these tests; the upstream's SSE pause (1.5 s) is longer on purpose."""


class Process:
    """One server process listening on `port`; its output goes to a log file shown when it fails to start."""

    def __init__(self, name: str, argv: list[str], port: int, env: Mapping[str, str], log_dir: Path) -> None:
        self.name, self.port = name, port
        self.log = log_dir / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(argv, env={**os.environ, **env}, cwd=REPO, stdout=out,
                                          stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str = "/healthz", timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log.read_text()}")
            if port_open("127.0.0.1", self.port):
                try:
                    if httpx.get(self.url + path, timeout=2, trust_env=False).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout_s} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start_upstream(name: str, log_dir: Path, env: Mapping[str, str] | None = None) -> Process:
    """A uvicorn process serving `edge_upstream` under `name`, ready to answer."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(TESTS), "edge_upstream:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = Process(name, argv, port, {"UPSTREAM_NAME": name, **(env or {})}, log_dir)
    process.wait_ready()
    return process


def start_edge(upstreams: Mapping[str, str], log_dir: Path, topology: Path | None = None,
               env: Mapping[str, str] | None = None) -> Process:
    """The edge as it is run in production (`python -m rig_service.serve edge`), ready to answer."""
    port = free_port()
    settings = {"RIG_UPSTREAMS": json.dumps(dict(upstreams)), **(env or {})}
    if topology is not None:
        settings["RIG_TOPOLOGY"] = str(topology)
    argv = [sys.executable, "-m", "rig_service.serve", "edge", "--port", str(port)]
    process = Process("edge", argv, port, settings, log_dir)
    process.wait_ready("/services/edge/readyz")
    return process


class HangUpServer:
    """A TCP server that reads a request and closes the connection without answering (a crashing service)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)

    def close(self) -> None:
        self.sock.close()
