"""Helpers of the router's cross tests (a plain module): ingest and the router as real processes behind the
sandbox with its delivery chaos on, and what they published, read from the stream and the router's schema."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from github_sandbox_support import Roles, Sandbox, sandbox_process
from system_support import admin_token, build

from rig_bus.messages import decode_fields
from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD
from rig_supervisor.harness import System
from rig_testing.waiting import eventually

CHAOS = {"RIG_SANDBOX_CHAOS_SEED": "5", "RIG_SANDBOX_CHAOS_LATE": "0.2", "RIG_SANDBOX_CHAOS_LATE_MAX_S": "0.5",
         "RIG_SANDBOX_CHAOS_REORDER": "0.2", "RIG_SANDBOX_CHAOS_DUPLICATE": "0.3", "RIG_SANDBOX_CHAOS_DROP": "0.15"}
"""Late, reordered, duplicated and dropped deliveries (ingest's sweep recovers the dropped ones)."""


def system_env(sandbox: Sandbox) -> dict[str, str]:
    """What ingest and the router need: the sandbox's Apps, maintainers to mention, quick comment retries."""
    return sandbox.env() | {"RIG_ROUTER_MAINTAINERS": json.dumps(["alice"]), "RIG_ROUTER_COMMENT_RETRY_S": "0.5"}


@dataclass
class Conductor:
    """The running system and the sandbox, with views of what was published."""

    system: System
    sandbox: Sandbox
    roles: Roles
    redis: aioredis.Redis
    names: Names

    async def published(self, kind: str | None = None, subject: str | None = None) -> list[dict[str, Any]]:
        """Events on `rig:events` (of `kind`, about `subject`), in order."""
        entries = await self.redis.xrange(self.names.events) or []
        events = [json.loads(fields[EVENT_FIELD.encode()]) for _, fields in entries if fields]
        return [e for e in events
                if (kind is None or e["type"] == kind) and (subject is None or e["subject"] == subject)]

    async def kinds(self, subject: str) -> Counter[str]:
        """How often each type was published about `subject`."""
        return Counter(e["type"] for e in await self.published(subject=subject))

    async def assignments(self, agent: str) -> list[dict[str, str]]:
        """The entries of `assignments:{agent}`, decoded."""
        entries = await self.redis.xrange(self.names.assignments(agent)) or []
        return [decode_fields(fields) for _, fields in entries if fields]

    async def signals(self, agent: str) -> int:
        return int(await self.redis.llen(self.names.signal(agent)))

    async def work_item(self, repo: str, number: int) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.get(f"{self.system.url('router')}/api/work-items/{repo}/{number}",
                                        headers={"Authorization": f"Bearer {admin_token()}"})
        except httpx.HTTPError:  # the router is being restarted
            return {}
        return dict(answer.json()) if answer.status_code == 200 else {}

    async def state_is(self, repo: str, number: int, state: str) -> bool:
        return (await self.work_item(repo, number)).get("state") == state

    async def idle(self) -> bool:
        """The router has handled everything on the stream and published everything it decided."""
        groups = {g["name"].decode() if isinstance(g["name"], bytes) else g["name"]: g
                  for g in await self.redis.xinfo_groups(self.names.events)}
        router = groups.get("router")
        if router is None or router["pending"]:
            return False
        last = await self.redis.xrevrange(self.names.events, count=1) or []
        return bool(last) and router["last-delivered-id"] == last[0][0]

    async def settle(self) -> None:
        """Wait until the router is idle twice in a row, a moment apart (chaos delivers late)."""
        async def quiet() -> bool:
            if not await self.idle():
                return False
            await asyncio.sleep(1.5)
            return await self.idle()
        await eventually(quiet, within_s=60, what="the router to go idle")

    async def issue(self, repo: str, title: str, body: str = "", label: bool = True) -> int:
        """Open an issue as a maintainer; label it `agent-ready` (a separate `labeled` event, as on GitHub)."""
        number = int((await self.sandbox.post(f"/repos/{repo}/issues", {"title": title, "body": body}))["number"])
        if label:
            await self.label(repo, number)
        return number

    async def label(self, repo: str, number: int, name: str = "agent-ready") -> None:
        answer = await self.sandbox.control.post(f"/_sandbox/repos/{repo}/issues/{number}/labels",
                                                 json={"labels": [name]})
        assert answer.status_code == 200, answer.text

    async def unlabel(self, repo: str, number: int, name: str = "agent-ready") -> None:
        answer = await self.sandbox.control.delete(f"/_sandbox/repos/{repo}/issues/{number}/labels/{name}")
        assert answer.status_code in (200, 204), answer.text


@contextlib.asynccontextmanager
async def conductor(tmp_path: Path, *, database_url: str, redis_url: str, key_prefix: str, schema_suffix: str,
                    redis: aioredis.Redis, extra_env: dict[str, str] | None = None) -> AsyncIterator[Conductor]:
    """Ingest and the router as processes (with `extra_env`), the sandbox delivering to ingest with chaos on."""
    system = build(["ingest", "router"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                   schema_suffix=schema_suffix, folder=tmp_path)
    hook = f"{system.url('ingest')}/webhooks/github"
    async with sandbox_process(tmp_path / "sandbox", None, RIG_SANDBOX_WEBHOOK_URL=hook, **CHAOS) as sandbox:
        system.plan.env.update(system_env(sandbox) | (extra_env or {}))
        async with system, sandbox.roles() as roles:
            yield Conductor(system, sandbox, roles, redis, Names(key_prefix))


async def arm(system: System, service: str, point: str) -> None:
    """Restart `service` with the fault point armed: it exits (137) when it reaches `point`."""
    child = system.supervisor.children[service]
    child.env["RIG_FAULT_POINT"] = point
    restarts = system.restarts(service)
    system.kill(service)
    await eventually(lambda: _restarted(system, service, restarts), within_s=30, what=f"{service} restarted")


async def disarm_after_fault(system: System, service: str) -> None:
    """Wait for `service` to exit at its armed point, then disarm it before the supervisor restarts it."""
    child = system.supervisor.children[service]
    process = child.process
    assert process is not None
    await eventually(lambda: _exited(process), within_s=60, what=f"{service} to exit at its fault point", every_s=0.01)
    child.env.pop("RIG_FAULT_POINT", None)
    assert process.returncode == 137


async def _exited(process: asyncio.subprocess.Process) -> bool:
    return process.returncode is not None


async def _restarted(system: System, service: str, before: int) -> bool:
    if system.restarts(service) <= before or system.pid(service) is None:
        return False
    with contextlib.suppress(httpx.HTTPError):
        async with httpx.AsyncClient(timeout=1) as http:
            return (await http.get(system.plan.health_url(service))).status_code == 200
    return False
