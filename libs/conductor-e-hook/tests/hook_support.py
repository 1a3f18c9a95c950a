"""Plain helpers for the conductor-e-hook tests: a recording HTTP server, a real git working copy, the command."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

COMMAND = Path(sys.executable).parent / "conductor-e-hook"
"""The console script the workspace installed, run as a person's tool runs it."""


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Conductor:
    """A stand-in for ingest's `/api/events` that records every request and answers `status`.

    Ingest's endpoint is being built beside this package; the hook only needs an HTTP peer that records what
    arrives. With `hold` cleared, answers wait until the test sets it (a server slower than any timeout).
    """

    url: str
    status: int = 202
    answer: dict[str, Any] = field(default_factory=lambda: {"accepted": True})
    requests: list[Recorded] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    hold: threading.Event = field(default_factory=threading.Event)


def _handler(conductor: Conductor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            conductor.requests.append(Recorded("POST", self.path, dict(self.headers.items()), json.loads(raw)))
            conductor.arrived.set()
            conductor.hold.wait(timeout=60)
            payload = json.dumps(conductor.answer).encode()
            self.send_response(conductor.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a hook gone at its deadline
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # `format`: the base class names it so
            """Quiet: the test reads the recorded requests instead."""

    return Handler


@contextlib.contextmanager
def conductor_running() -> Iterator[Conductor]:
    """A recording server on a free loopback port for the block (answers at once until `hold` is cleared)."""
    conductor = Conductor(url="")
    conductor.hold.set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(conductor))
    server.daemon_threads = True
    conductor.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield conductor
    finally:
        conductor.hold.set()
        server.shutdown()
        server.server_close()


def git_working_copy(directory: Path, remote: str | None, branch: str | None) -> Path:
    """A real repository in `directory` with `origin` at `remote` and `branch` checked out (one commit)."""
    directory.mkdir(parents=True, exist_ok=True)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True)

    git("init", "--quiet", "--initial-branch=main")
    git("-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "--quiet", "--allow-empty",
        "-m", "start")
    if remote is not None:
        git("remote", "add", "origin", remote)
    if branch is not None:
        git("checkout", "--quiet", "-b", branch)
    return directory


def hook_environment(home: Path, **variables: str) -> dict[str, str]:
    """The environment of one run: no CONDUCTOR_E_ or proxy variables leak in from the test's own, HOME is `home`."""
    leaked = ("CONDUCTOR_E_", "CLAUDE_CONFIG_DIR", "XDG_CONFIG_HOME", "http_proxy", "https_proxy", "HTTP_PROXY",
              "HTTPS_PROXY", "ALL_PROXY", "all_proxy")
    env = {name: value for name, value in os.environ.items() if not name.startswith(leaked)}
    env["HOME"] = str(home)
    env |= variables
    return env


def run_hook(args: list[str], env: Mapping[str, str], cwd: Path, stdin: str | None = None,
             ) -> subprocess.CompletedProcess[str]:
    """Run `conductor-e-hook ARGS` as a real process; the guard timeout only stops a hung run from hanging the test."""
    return subprocess.run([str(COMMAND), *args], env=dict(env), cwd=cwd, input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=60, check=False)
