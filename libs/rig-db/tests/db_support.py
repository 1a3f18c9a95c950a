"""Plain helpers for the rig-db tests (imported, never from conftest)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from rig_contracts.catalogue import AgentHeartbeatEvent

WORKER = Path(__file__).parent / "programs" / "worker.py"


def heartbeat(subject: str = "o/r#1", agent: str = "dev-e-node") -> AgentHeartbeatEvent:
    """A simple event to count."""
    return AgentHeartbeatEvent.of(source=f"agent:{agent}", subject=subject, key=f"hb:{agent}",
                                  data={"agent": agent})


def spawn(role: str, *, database_url: str, redis_url: str, key_prefix: str, schema: str,
          consumer: str = "c1", fault: str | None = None, min_idle_ms: int = 300) -> subprocess.Popen[str]:
    """Start the test worker program as a real process."""
    env = {**os.environ, "RIG_DATABASE_URL": database_url, "RIG_REDIS_URL": redis_url,
           "RIG_KEY_PREFIX": key_prefix, "RIG_TEST_SCHEMA": schema, "RIG_TEST_CONSUMER": consumer,
           "RIG_TEST_MIN_IDLE_MS": str(min_idle_ms)}
    env.pop("RIG_FAULT_POINT", None)
    if fault:
        env["RIG_FAULT_POINT"] = fault
    return subprocess.Popen([sys.executable, str(WORKER), role], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)




async def wait_exit(process: subprocess.Popen[str], timeout: float = 30.0) -> int:
    """Wait for a process to end without blocking the event loop; return its status."""
    deadline = asyncio.get_running_loop().time() + timeout
    while process.poll() is None:
        if asyncio.get_running_loop().time() > deadline:
            process.kill()
            raise AssertionError(f"process did not exit in {timeout}s")
        await asyncio.sleep(0.05)
    return process.returncode


def stop(process: subprocess.Popen[str]) -> str:
    """Kill a worker and return what it printed."""
    if process.poll() is None:
        process.kill()
    out, _ = process.communicate(timeout=10)
    return out
