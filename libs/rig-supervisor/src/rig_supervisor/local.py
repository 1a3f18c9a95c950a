"""Local wiring (`make run`, whole-loop tests): the sandbox stands in for GitHub, agents get their own identities.

With no GitHub credentials given, every service and agent is pointed at the sandbox's three Apps, the sandbox
delivers its webhooks through the edge to ingest with a shared secret, and each agent pool gets a token of its
own (docs/design.md section 8) and, where Valkey allows ACLs, its own Valkey user (section 3).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rig_contracts import Names
from rig_identity import mint
from rig_identity.acl import ensure_agent_user

log = logging.getLogger(__name__)

REVIEWER, PULLER = "review-e", "ibuild-e"


def github_configured(env: Mapping[str, str]) -> bool:
    """Whether the environment names GitHub credentials of its own (then the sandbox is not wired in)."""
    return any(name.startswith("RIG_GITHUB_") and name.endswith(("_APP_ID", "_TOKEN")) and value
               for name, value in env.items())


def webhook_env(env: Mapping[str, str], sandbox_url: str, edge_url: str) -> dict[str, str]:
    """The sandbox delivers to ingest through the edge, signed with a secret both share (unless already set)."""
    secret = env.get("RIG_SANDBOX_WEBHOOK_SECRET") or secrets.token_hex(24)
    wired = {"RIG_SANDBOX_PUBLIC_URL": sandbox_url, "RIG_SANDBOX_WEBHOOK_URL": f"{edge_url}/webhooks/github",
             "RIG_SANDBOX_WEBHOOK_SECRET": secret, "RIG_INGEST_WEBHOOK_SECRETS": json.dumps([secret])}
    return {name: value for name, value in wired.items() if not env.get(name)}


MODEL_KEYS = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "OPENAI_API_KEY")


def demo_agents(env: Mapping[str, str]) -> dict[str, str]:
    """With no provider chosen and no model key, agents replay the demo's recorded runs (the scripted provider)."""
    if env.get("RIG_AGENT_PROVIDER") or any(env.get(k) or env.get(f"RIG_{k}") for k in MODEL_KEYS):
        return {}
    return {"RIG_AGENT_PROVIDER": "scripted"}


async def sandbox_credentials(sandbox_url: str) -> dict[str, str]:
    """RIG_GITHUB_* for every role, from the running sandbox's Apps."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as client:
        response = await client.get("/_sandbox/apps")
        response.raise_for_status()
        apps = response.json()
    return sandbox_env(sandbox_url, apps)


def sandbox_env(sandbox_url: str, apps: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """RIG_GITHUB_* for the sandbox's Apps as `GET /_sandbox/apps` lists them (no throttle: it is local).

    With them each App's bot login (RIG_GITHUB_{ROLE}_LOGIN): whose comments, PRs and reviews are ours.
    """
    env = {"RIG_GITHUB_API_URL": sandbox_url, "RIG_GITHUB_SECONDS_BETWEEN_REQUESTS": "0",
           "RIG_GITHUB_SECONDS_BETWEEN_WRITES": "0"}
    for app in apps:
        prefix = f"RIG_GITHUB_{app['role'].upper()}"
        env |= {f"{prefix}_APP_ID": str(app["id"]), f"{prefix}_INSTALLATION_ID": str(app["installation_id"]),
                f"{prefix}_PRIVATE_KEY_FILE": str(app["key_path"]), f"{prefix}_LOGIN": str(app["bot_login"])}
    return env


def agent_scopes(agent: str) -> list[str]:
    """What an agent pool's token may do: report, run, and per role ask for merges or pull work."""
    scopes = ["events:write", "runs:write", "read"]
    if agent == REVIEWER:
        scopes.append("merge:request")
    if agent == PULLER:
        scopes.append("assignments:pull")
    return scopes


async def agent_identity(redis: aioredis.Redis, names: Names, redis_url: str, agent: str, private_pem: str,
                         conductor_url: str) -> dict[str, str]:
    """An agent pool's token, conductor URL and (when the server takes ACL users) its own Valkey URL."""
    env = {"RIG_AGENT_TOKEN": mint(private_pem, f"agent:{agent}", agent_scopes(agent)),
           "RIG_AGENT_CONDUCTOR_URL": conductor_url}
    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss"):  # a unix socket (embedded Redis): only local processes reach it
        return env
    password = secrets.token_hex(24)
    try:
        user = await ensure_agent_user(redis, names, agent, password)
    except RedisError as error:  # a managed Valkey may refuse ACL SETUSER: the shared URL still works
        log.warning("no Valkey user for %s (%s); it uses the shared connection", agent, error)
        return env
    netloc = f"{quote(user, safe='')}:{password}@{parts.hostname}:{parts.port or 6379}"
    return env | {"RIG_AGENT_REDIS_URL": urlunsplit(parts._replace(netloc=netloc))}
