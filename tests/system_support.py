"""Plain helpers for the cross-service tests: build a system of real processes, mint tokens, wait for things."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from rig_contracts import Names
from rig_identity import generate_keypair, mint
from rig_service.topology import ServiceSpec, load
from rig_supervisor.harness import System, pythonpath
from rig_testing import waiting

ROOT = Path(__file__).resolve().parents[1]
TEST_SERVICES = Path(__file__).parent / "services"
TEST_SPECS = {
    "tally": ServiceSpec("tally", 0, "rig_tally.app:create_app", ("/tally", "/api/admin/tally")),
    "producer": ServiceSpec("producer", 0, "rig_producer.app:create_app", ("/produce",)),
}
KEYS = generate_keypair()


def topology_file(folder: Path, replicas: Mapping[str, str] | None = None) -> Path:
    """The real route table plus the test-only services, and `replicas` (name: real service) owning no path."""
    real = load(ROOT / "topology.toml")
    specs = [*TEST_SPECS.values(),
             *(ServiceSpec(name, 0, real.spec(of).app, ()) for name, of in (replicas or {}).items())]
    extra = "".join(f'\n[services.{s.name}]\nport = {19000 + i}\napp = "{s.app}"\npaths = {list(s.paths)!r}\n'
                    for i, s in enumerate(specs))
    path = folder / "topology.toml"
    path.write_text((ROOT / "topology.toml").read_text() + extra.replace("'", '"'))
    return path


def admin_token() -> str:
    """A token with every right, signed with the key the test system trusts."""
    return mint(KEYS[0], "cli:test", ["admin"])


def build(names: Sequence[str], *, database_url: str, redis_url: str, key_prefix: str, schema_suffix: str,
          folder: Path, agents: Sequence[str] = (), agent_command: Sequence[str] = (),
          extra_env: dict[str, str] | None = None, replicas: Mapping[str, str] | None = None) -> System:
    """A system of the named services (real ones from the topology, or test ones) as real processes.

    `replicas` adds second processes of real services under names of their own (`{"merger-b": "merger"}`):
    the same app, schema and consumer group, so they share the work as replicas do.
    """
    topology = load(topology_file(folder, replicas))
    specs = [topology.spec(n) for n in names]
    env = {**os.environ, "RIG_DATABASE_URL": database_url, "RIG_REDIS_URL": redis_url,
           "RIG_KEY_PREFIX": key_prefix, "RIG_SCHEMA_SUFFIX": schema_suffix, "RIG_DATA_DIR": str(folder),
           "RIG_TOKEN_PUBLIC_KEY": KEYS[1], "RIG_TOPOLOGY": str(folder / "topology.toml"),
           "PYTHONPATH": pythonpath(TEST_SERVICES), "RIG_ENVIRONMENT": "test", **(extra_env or {})}
    env.pop("RIG_FAULT_POINT", None)
    return System(specs, env=env, redis_url=redis_url, names=Names(key_prefix), agents=agents,
                  agent_command=agent_command, echo=os.environ.get("RIG_TEST_ECHO") == "1")


async def eventually(check: Callable[[], Awaitable[bool]], *, within_s: float = 60.0, what: str = "condition") -> None:
    """`rig_testing.waiting.eventually`, where a service not answering yet counts as false."""
    await waiting.eventually(check, within_s=within_s, what=what, ignoring=(httpx.HTTPError,))


async def get_json(url: str, token: str | None = None) -> dict[str, Any]:
    """GET a JSON document (with a bearer token when given)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        return response.json()


async def post_json(url: str, body: object, token: str | None = None) -> dict[str, Any]:
    """POST JSON and return the JSON answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=120) as client:
        response = await client.post(url, json=body, headers=headers)
        response.raise_for_status()
        return response.json()


async def whole_log(store_url: str, token: str) -> list[dict[str, Any]]:
    """Every event the store holds, paging through `GET /api/log`."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await get_json(f"{store_url}/api/log?after={after}&limit=1000", token)
        if not page["events"]:
            return events
        events += page["events"]
        after = page["next_after"]


def rig(*args: str, system: System, database_url: str, redis_url: str, key_prefix: str, schema_suffix: str,
        folder: Path) -> subprocess.CompletedProcess[str]:
    """Run the operator's `rig` command against a test system, as a person would."""
    env = {**os.environ, "RIG_DATABASE_URL": database_url, "RIG_REDIS_URL": redis_url, "RIG_KEY_PREFIX": key_prefix,
           "RIG_SCHEMA_SUFFIX": schema_suffix, "RIG_DATA_DIR": str(folder), "RIG_TOKEN_PRIVATE_KEY": KEYS[0],
           "RIG_TOPOLOGY": str(folder / "topology.toml"), "PYTHONPATH": pythonpath(TEST_SERVICES),
           "RIG_EDGE_URL": system.url("edge") if "edge" in system.plan.ports else "http://127.0.0.1:9"}
    return subprocess.run([str(Path(sys.executable).parent / "rig"), *args], env=env, text=True,
                          capture_output=True, timeout=300, check=False)
