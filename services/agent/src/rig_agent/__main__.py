"""`python -m rig_agent --agent dev-e-python [--port 8012]`: one agent process (the supervisor or KEDA starts it)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from rig_agent.runtime import agent_process
from rig_agent.settings import AgentSettings
from rig_providers.sandbox import make_undumpable
from rig_service.health import health_router
from rig_service.serve import quiet_libraries

log = logging.getLogger("rig_agent")


class HealthServer(uvicorn.Server):
    """uvicorn without its signal handling: SIGTERM stops the agent's loop, which then stops this server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave the process's signal handlers alone."""
        yield


async def serve(agent: str, port: int | None, settings: AgentSettings) -> None:
    """Run the agent's loop and heartbeat, with `/healthz` and `/metrics` on `port`, until idle or told to stop."""
    async with agent_process(agent, settings) as process:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, process.loop.stop)
        tasks = [asyncio.create_task(process.loop.run(), name="assignments"),
                 asyncio.create_task(process.heartbeat.run(), name="heartbeat")]
        server: uvicorn.Server | None = None
        if port:
            app = FastAPI(title=f"rig-conductor agent {agent}")
            app.include_router(health_router({}))
            server = HealthServer(uvicorn.Config(app, host=os.environ.get("RIG_BIND_HOST", "127.0.0.1"), port=port,
                                                 log_level="warning", access_log=False))
            tasks.append(asyncio.create_task(server.serve(), name="health"))
        try:
            await tasks[0]
        finally:
            if server is not None:
                server.should_exit = True
            for task in tasks[1:]:
                if task.get_name() == "heartbeat":
                    task.cancel()
            await asyncio.wait(tasks[1:])
            await process.heartbeat.beat("offline")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run one agent process."""
    parser = argparse.ArgumentParser(prog="python -m rig_agent", description=__doc__)
    parser.add_argument("--agent", required=True, help="agent pool: dev-e-{stack}, review-e or ibuild-e")
    parser.add_argument("--port", type=int, default=0, help="port of /healthz and /metrics (0: none)")
    args = parser.parse_args(argv)
    if not make_undumpable():  # before the settings (token, keys) are read into this process
        log.warning("could not make this process non-dumpable: same-user processes may read its memory")
    settings = AgentSettings()
    logging.basicConfig(level=settings.log_level,
                        format=f"%(asctime)s {args.agent} %(levelname)s %(name)s: %(message)s")
    quiet_libraries()
    asyncio.run(serve(args.agent, args.port, settings))


if __name__ == "__main__":
    main()
