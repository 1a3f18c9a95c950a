"""Plain helpers for the rig-cli tests (imported, never from conftest): run `rig`, write a topology, serve an app."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import uvicorn
from click.testing import CliRunner, Result
from fastapi import FastAPI

from rig_cli.main import app
from rig_testing.servers import free_port

RIG_VARIABLES = ("RIG_DATABASE_URL", "RIG_REDIS_URL", "RIG_KEY_PREFIX", "RIG_SCHEMA_SUFFIX", "RIG_DATA_DIR",
                 "RIG_TOPOLOGY", "RIG_EDGE_URL", "RIG_TOKEN_PRIVATE_KEY", "RIG_TOKEN_PUBLIC_KEY", "RIG_ENVIRONMENT")


def environment(data_dir: Path, **values: str) -> dict[str, str | None]:
    """The environment of one `rig` run: every RIG_ variable unset unless given (as lower-case keywords)."""
    env: dict[str, str | None] = dict.fromkeys(RIG_VARIABLES)
    env |= {"RIG_DATA_DIR": str(data_dir), "COLUMNS": "250"}
    env |= {f"RIG_{name.upper()}": value for name, value in values.items()}
    return env


async def rig(args: list[str], env: Mapping[str, str | None]) -> Result:
    """Run `rig ARGS` as a user would (in its own thread, so its asyncio.run has a loop of its own)."""
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, app, args, env=dict(env), catch_exceptions=False)


def json_of(result: Result) -> Any:
    """The JSON a `--json` run printed on stdout."""
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def write_topology(path: Path, services: Mapping[str, str], agents: tuple[str, ...] = ("dev-e-node",)) -> Path:
    """A topology file with `services` (name → app path; an app in an installed package makes it present)."""
    lines = ['[edge]', 'port = 18000', 'app = "rig_absent_edge.app:create_app"', ""]
    for index, (name, app_path) in enumerate(services.items()):
        lines += [f"[services.{name}]", f"port = {18001 + index}", f'app = "{app_path}"', "paths = []", ""]
    lines += ["[agents]", f"names = {json.dumps(list(agents))}", "first_port = 18100", 'command = ["true"]']
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.asynccontextmanager
async def served(application: FastAPI) -> AsyncIterator[str]:
    """Serve `application` with uvicorn on a free local port for the block; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                            ws="none", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
