"""The sandbox (GitHub stand-in) run as its own process, the way `make run` starts it, for tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from rig_testing.servers import free_port


@contextlib.contextmanager
def sandbox_process(data_dir: Path, **env: str) -> Iterator[str]:
    """Run `python -m rig_service.serve sandbox` with its data under `data_dir`; yield its base URL.

    Only `RIG_…` variables given in `env` reach it (the demo is off unless `RIG_SANDBOX_DEMO` says otherwise);
    its output goes to `data_dir/sandbox-<port>.log`, quoted when it fails to start.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    variables = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")}
    variables |= {"RIG_DATA_DIR": str(data_dir), "RIG_SANDBOX_PUBLIC_URL": url, "RIG_LOG_LEVEL": "WARNING",
                  "RIG_SANDBOX_DEMO": "false", **env}
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"sandbox-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "rig_service.serve", "sandbox", "--port", str(port)],
                                   env=variables, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(url, process, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the sandbox did not start: {log_path.read_text()}")
        time.sleep(0.05)
