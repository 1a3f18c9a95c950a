"""A person's `conductor-e-hook`, run as a real process in a real git working copy, reports through the edge into
ingest's `POST /api/events`: each event reaches the stream under the person's own subject, `human:alice`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from system_support import KEYS, build, eventually

from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD
from rig_identity import mint

HOOK = Path(sys.executable).parent / "conductor-e-hook"
pytestmark = pytest.mark.slow


def working_copy(folder: Path) -> Path:
    """A repository whose origin is acme/widgets, on the branch of issue 12."""
    folder.mkdir()
    for args in (["init", "--quiet"], ["remote", "add", "origin", "git@github.com:acme/widgets.git"],
                 ["checkout", "--quiet", "-b", "agent/12-login"]):
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)
    return folder


async def hook(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, [str(HOOK), *args, "--strict"], env=env, cwd=cwd,
                                   input="", capture_output=True, text=True, timeout=60, check=False)


async def published(redis: aioredis.Redis, key_prefix: str) -> list[dict[str, Any]]:
    entries = await redis.xrange(Names(key_prefix).events) or []
    return [json.loads(fields[EVENT_FIELD.encode()]) for _, fields in entries if fields]


async def test_the_hook_reports_through_the_edge_as_the_person(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    system = build(["ingest", "edge"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                   schema_suffix=schema_suffix, folder=tmp_path,
                   extra_env={"RIG_INGEST_WEBHOOK_SECRETS": json.dumps(["a-real-secret-for-tests"])})
    work = working_copy(tmp_path / "work")
    commands = [["WORK_STARTED"], ["HEARTBEAT", "working"],
                ["PR_CREATED", "--pr", "3", "--url", "https://github.com/acme/widgets/pull/3"],
                ["AGENT_STUCK", "--reason", "CI needs a secret"]]
    async with system:
        env = {name: value for name, value in os.environ.items() if not name.startswith("CONDUCTOR_E_")}
        env |= {"HOME": str(tmp_path / "home"), "CONDUCTOR_E_URL": system.url("edge"),
                "CONDUCTOR_E_TOKEN": mint(KEYS[0], "human:alice", ["events:write"])}
        runs = [await hook(args, env, work) for args in commands]
        assert [(run.returncode, run.stderr) for run in runs] == [(0, "")] * 4

        async def all_arrived() -> bool:
            return len(await published(redis, key_prefix)) >= 4
        await eventually(all_arrived, what="the four reports on the stream")

    events = await published(redis, key_prefix)
    assert [e["type"] for e in events] == ["WORK_STARTED", "AGENT_HEARTBEAT", "PR_REPORTED", "AGENT_STUCK"]
    assert {e["source"] for e in events} == {"human:alice"}
    assert events[0]["subject"] == "acme/widgets#12"
    assert events[0]["data"]["branch"] == "agent/12-login"
    assert events[2]["data"]["pr_number"] == 3
    assert events[3]["data"]["reason"] == "CI needs a secret"
