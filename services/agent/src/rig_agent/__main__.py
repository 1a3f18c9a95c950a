"""`python -m rig_agent --agent dev-e-python [--port 8012]`: one agent process (the supervisor or KEDA starts it)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from rig_agent.runtime import agent_process
from rig_agent.settings import AgentSettings
from rig_providers.sandbox import make_undumpable
from rig_service.health import health_router
from rig_service.serve import quiet_libraries
from rig_service.waiting import stop_task

log = logging.getLogger("rig_agent")


class HealthServer(uvicorn.Server):
    """uvicorn without its signal handling: SIGTERM stops the agent's loop, which then stops this server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave the process's signal handlers alone."""
        yield


STOP_BUDGET_S = 8.0
"""How long a stop (SIGTERM, SIGINT) may take, the workload's kill and the reports included, before the process
exits anyway: within the supervisor's 10 s before SIGKILL, and never held up by a thread blocked in a call (a GitHub
request being retried against a server that went away keeps even a finished interpreter from exiting)."""


def _exit_now(agent: str) -> None:
    log.error("%s did not stop within %.0fs of the signal; exiting without waiting", agent, STOP_BUDGET_S)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(1)


async def serve(agent: str, port: int | None, settings: AgentSettings) -> None:
    """Run the agent's loop and heartbeat, with `/healthz` and `/metrics` on `port`, until idle or told to stop.

    SIGTERM or SIGINT stops it at once, whatever it is doing: the current assignment is cancelled (its provider
    and commands killed with their process groups, its run recorded as failed) and left pending for another try.
    """
    async with agent_process(agent, settings) as process:
        loop = asyncio.get_running_loop()
        halting: list[asyncio.Task[None]] = []

        def on_signal() -> None:
            if halting:
                return
            log.info("%s stopping: the current assignment is left for another try", agent)
            deadline = threading.Timer(STOP_BUDGET_S, _exit_now, args=(agent,))
            deadline.daemon = True
            deadline.start()
            halting.append(asyncio.create_task(process.loop.halt(), name="halt"))

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal)
        work = asyncio.create_task(process.loop.run(), name="assignments")
        heartbeat = asyncio.create_task(process.heartbeat.run(), name="heartbeat")
        server: uvicorn.Server | None = None
        health: list[asyncio.Task[None]] = []
        if port:
            app = FastAPI(title=f"rig-conductor agent {agent}")
            app.include_router(health_router({}))
            server = HealthServer(uvicorn.Config(app, host=os.environ.get("RIG_BIND_HOST", "127.0.0.1"), port=port,
                                                 log_level="warning", access_log=False))
            health.append(asyncio.create_task(server.serve(), name="health"))
        try:
            await asyncio.wait([work])
        finally:
            if server is not None:
                server.should_exit = True
            await stop_task(heartbeat, again_after_s=1.0)
            if health or halting:
                await asyncio.wait([*health, *halting])
            await process.heartbeat.beat("offline")
        if not work.cancelled() and (error := work.exception()) is not None:
            raise error


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
