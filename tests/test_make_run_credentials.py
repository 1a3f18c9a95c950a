"""`make run` gives each process only its own credentials (issue 12, item 2): read from the children's
`/proc/<pid>/environ` while the supervisor runs every service, the sandbox as GitHub, and two woken agents."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

import psutil  # type: ignore[import-untyped]
import pytest
import redis as sync_redis
from make_run_support import free_offset, start_make_run, stop_make_run, until_running

from rig_contracts import Names
from rig_supervisor.credentials import agent_env, is_secret, service_env

pytestmark = pytest.mark.slow

MODEL_KEY = "sk-ant-api03-model-key-for-the-agents-only"
OPERATOR_SECRET = "an-unrelated-secret-of-the-operators-shell"
WEBHOOK_SECRET = "webhook-secret-for-ingest-and-the-sandbox-only"
AGENTS = ("dev-e-node", "review-e")


def names_of(env: Mapping[str, str], prefix: str) -> set[str]:
    """The credential settings under `prefix`: a role's bot login is public (every service may match on it)."""
    return {name for name in env if name.startswith(prefix) and not name.endswith("_LOGIN")}


def test_every_process_of_make_run_holds_only_its_own_credentials(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")}
    env |= {"RIG_DATA_DIR": str(tmp_path / ".rig"), "RIG_PORT_OFFSET": str(free_offset()),
            "RIG_DATABASE_URL": database_url, "RIG_REDIS_URL": redis_url, "RIG_KEY_PREFIX": key_prefix,
            "RIG_SCHEMA_SUFFIX": schema_suffix, "RIG_AGENT_PROVIDER": "scripted", "RIG_AGENT_IDLE_EXIT_S": "20",
            "ANTHROPIC_API_KEY": MODEL_KEY, "AWS_SECRET_ACCESS_KEY": OPERATOR_SECRET,
            "RIG_SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET}
    process = start_make_run(env)
    try:
        until_running(process)
        client = sync_redis.Redis.from_url(redis_url)
        for agent in AGENTS:  # wake one dev and the review pool, as a new assignment would
            client.lpush(Names(key_prefix).signal(agent), "1")
        client.close()
        seen = children_by_name(process.pid, wanted={"ingest", "router", "merger", "eventstore", "costs", "edge",
                                                     "sandbox", *AGENTS})
    finally:
        stop_make_run(process)

    keys = [path for path in (tmp_path / ".rig").rglob("*") if path.is_file() and path.suffix == ".pem"
            and "PRIVATE KEY" in path.read_text(errors="replace")]
    assert len(keys) >= 4, keys  # the signing key and the sandbox's three Apps' keys
    assert [path for path in keys if path.stat().st_mode & 0o077] == []  # readable by their owner only
    everyone = list(seen.values())
    assert not any(OPERATOR_SECRET in v for e in everyone for v in e.values())  # nobody: not ours to hand out
    assert not any("PRIVATE KEY" in v for e in everyone for v in e.values())  # no key in any environment
    assert not any("RIG_TOKEN_PRIVATE_KEY" in e for e in everyone)  # the signing key stays with the supervisor
    for name in ("ingest", "router", "merger", "eventstore", "costs"):
        assert {"RIG_DATABASE_URL", "RIG_REDIS_URL"} <= set(seen[name]), name
        assert MODEL_KEY not in seen[name].values() and "RIG_AGENT_TOKEN" not in seen[name]
        assert not names_of(seen[name], "RIG_GITHUB_DEV_") | names_of(seen[name], "RIG_GITHUB_REVIEW_"), name
    for name in ("router", "merger"):
        assert names_of(seen[name], "RIG_GITHUB_CONDUCTOR_") and "RIG_INGEST_WEBHOOK_SECRETS" not in seen[name]
    assert names_of(seen["ingest"], "RIG_GITHUB_CONDUCTOR_") and "RIG_INGEST_WEBHOOK_SECRETS" in seen["ingest"]
    assert not [(name, role) for name in ("eventstore", "costs") for role in ("CONDUCTOR", "DEV", "REVIEW")
                if names_of(seen[name], f"RIG_GITHUB_{role}_")]  # no App at all
    assert not any(WEBHOOK_SECRET in v for name in ("router", "merger", "eventstore", "costs", "edge", *AGENTS)
                   for v in seen[name].values())
    assert [n for n, v in seen["edge"].items() if is_secret(n, v)] == ["RIG_EDGE_SECRET"]  # it signs addresses
    assert not any("RIG_EDGE_SECRET" in seen[agent] for agent in AGENTS)
    assert [n for n, v in seen["sandbox"].items() if is_secret(n, v)] == ["RIG_SANDBOX_WEBHOOK_SECRET"]
    for agent, role, other in (("dev-e-node", "DEV", "REVIEW"), ("review-e", "REVIEW", "DEV")):
        held = seen[agent]
        assert {"RIG_AGENT_TOKEN", "RIG_AGENT_REDIS_URL"} <= set(held) and held["ANTHROPIC_API_KEY"] == MODEL_KEY
        assert f"agent-{agent}:" in held["RIG_AGENT_REDIS_URL"]  # its own Valkey ACL user, not the shared URL
        assert "RIG_DATABASE_URL" not in held and "RIG_REDIS_URL" not in held
        assert names_of(held, f"RIG_GITHUB_{role}_")
        assert not names_of(held, f"RIG_GITHUB_{other}_") | names_of(held, "RIG_GITHUB_CONDUCTOR_")
    assert seen["dev-e-node"]["RIG_AGENT_TOKEN"] != seen["review-e"]["RIG_AGENT_TOKEN"]


def children_by_name(pid: int, wanted: set[str], within_s: float = 60.0) -> dict[str, dict[str, str]]:
    """The environment of each child named in `wanted` (a service by `serve NAME`, an agent by `--agent NAME`)."""
    found: dict[str, dict[str, str]] = {}
    deadline = time.monotonic() + within_s
    while set(found) != wanted and time.monotonic() < deadline:
        for child in psutil.Process(pid).children():
            try:
                cmdline = child.cmdline()
                name = next((cmdline[i + 1] for i, part in enumerate(cmdline[:-1])
                             if part in ("rig_service.serve", "--agent")), None)
                if name in wanted and name not in found:
                    found[name] = child.environ()
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        time.sleep(0.1)
    assert set(found) == wanted, f"missing: {wanted - set(found)}"
    return found


def test_the_environment_builders_withhold_what_a_process_does_not_use():
    env = {"PATH": "/usr/bin", "RIG_KEY_PREFIX": "p", "RIG_TOKEN_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----",
           "RIG_DATABASE_URL": "postgresql://rig:pw@db/rig", "RIG_REDIS_URL": "unix:///x/redis.sock",
           "RIG_INGEST_WEBHOOK_SECRETS": '["s"]', "RIG_SANDBOX_WEBHOOK_SECRET": "s",
           "RIG_GITHUB_API_URL": "http://127.0.0.1:8090", "RIG_GITHUB_CONDUCTOR_APP_ID": "1",
           "RIG_GITHUB_CONDUCTOR_PRIVATE_KEY_FILE": "/k/c.pem", "RIG_GITHUB_DEV_APP_ID": "2",
           "RIG_GITHUB_DEV_PRIVATE_KEY_FILE": "/k/d.pem", "RIG_GITHUB_REVIEW_TOKEN": "ghp_x",
           "RIG_TOKEN_PRIVATE_KEY": "pem", "OPENAI_API_KEY": "sk-x", "GITHUB_TOKEN": "ghp_y",
           "SOME_URL": "https://user:pw@example.com", "RIG_SANDBOX_TOKEN_TTL_S": "3600"}
    shared = {"PATH", "RIG_KEY_PREFIX", "RIG_TOKEN_PUBLIC_KEY", "RIG_GITHUB_API_URL", "RIG_SANDBOX_TOKEN_TTL_S"}
    assert set(service_env("edge", env)) == shared
    assert set(service_env("eventstore", env)) == shared | {"RIG_DATABASE_URL", "RIG_REDIS_URL"}
    assert set(service_env("costs", env)) == shared | {"RIG_DATABASE_URL", "RIG_REDIS_URL"}
    assert set(service_env("ingest", env)) == shared | {
        "RIG_DATABASE_URL", "RIG_REDIS_URL", "RIG_INGEST_WEBHOOK_SECRETS", "RIG_GITHUB_CONDUCTOR_APP_ID",
        "RIG_GITHUB_CONDUCTOR_PRIVATE_KEY_FILE"}
    assert set(service_env("sandbox", env)) == shared | {"RIG_SANDBOX_WEBHOOK_SECRET"}
    # An agent on a unix-socket Valkey (no ACL users there) keeps the shared URL; never the database's.
    dev = agent_env("dev-e-node", env, {"RIG_AGENT_TOKEN": "t"})
    assert set(dev) == shared | {"RIG_REDIS_URL", "RIG_AGENT_TOKEN", "OPENAI_API_KEY", "RIG_GITHUB_DEV_APP_ID",
                                 "RIG_GITHUB_DEV_PRIVATE_KEY_FILE"}
    review = agent_env("review-e", env, {"RIG_AGENT_TOKEN": "t", "RIG_AGENT_REDIS_URL": "redis://u:p@h"})
    assert set(review) == shared | {"RIG_AGENT_TOKEN", "RIG_AGENT_REDIS_URL", "OPENAI_API_KEY",
                                    "RIG_GITHUB_REVIEW_TOKEN"}
