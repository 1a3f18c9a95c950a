"""A sandbox run as its own process, the way `make run` starts it, plus a webhook receiver to deliver to."""

from __future__ import annotations

import contextlib
import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sandbox_support import REPO_ROOT

from rig_testing.servers import free_port


@dataclass
class Receiver:
    """A webhook receiver in a thread that answers 200 and keeps what it got."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/github"


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """Run a webhook receiver for the block."""
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def sandbox_process(data_dir: Path, **env: str) -> Iterator[str]:
    """Start `python -m rig_service.serve sandbox --port P` with its data under `data_dir`; yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    variables = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")}
    variables |= {"RIG_DATA_DIR": str(data_dir), "RIG_SANDBOX_PUBLIC_URL": url, "RIG_LOG_LEVEL": "WARNING", **env}
    log = (data_dir.parent / f"sandbox-{port}.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "rig_service.serve", "sandbox", "--port", str(port)],
                               cwd=REPO_ROOT, env=variables, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start: {Path(log.name).read_text()}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
