"""Which process gets which secret under `make run`: each only the credentials it uses (docs/design.md section 8).

The supervisor holds every secret of the local system (the servers' URLs, the webhook secret, the Apps' keys, the
model keys, the agents' tokens). A child process gets the supervisor's environment without any of them, then
only what its grants name:

- the services on the database (ingest, router, merger, eventstore, costs, and any other Kit service) get the
  PostgreSQL and Valkey URLs; the edge and the sandbox get neither;
- ingest gets the webhook secrets it checks; the sandbox the one it signs with;
- the conductor App (which merges) only ingest, the router and the merger;
- an agent pool its own token, its own Valkey ACL user (the shared URL only where the server has no ACL users),
  its role's App (dev or review) and the model keys; never the database URL, another App's key or the webhook
  secrets;
- the token-signing private key nobody: the supervisor mints the agents' tokens itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum

_SECRET_NAME = re.compile(
    r"(?:^|_)(?:SECRETS?|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|PRIVATE_KEY_FILE|API_KEY|ACCESS_KEY|CREDENTIALS?)$")
"""Variable names that hold a secret (RIG_AGENT_TOKEN, RIG_INGEST_WEBHOOK_SECRETS, AWS_SECRET_ACCESS_KEY, …)."""
_URL_WITH_PASSWORD = re.compile(r"://[^/@\s]*:[^/@\s]+@")
_GITHUB_ROLE = re.compile(r"^RIG_GITHUB_(CONDUCTOR|DEV|REVIEW)_")
DATA_URLS = ("RIG_DATABASE_URL", "RIG_REDIS_URL")
MODEL_KEYS = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "OPENAI_API_KEY", "RIG_ANTHROPIC_API_KEY",
              "RIG_CLAUDE_CODE_OAUTH_TOKEN", "RIG_OPENAI_API_KEY")


class Grant(StrEnum):
    """A group of secrets a process may be given."""

    DATA = "data"
    """The PostgreSQL and shared Valkey URLs."""
    WEBHOOKS_IN = "webhooks-in"
    """The webhook secrets ingest checks deliveries with."""
    WEBHOOKS_OUT = "webhooks-out"
    """The secret the sandbox signs its deliveries with."""
    GITHUB_CONDUCTOR = "github-conductor"
    GITHUB_DEV = "github-dev"
    GITHUB_REVIEW = "github-review"
    MODEL = "model"
    """The coding CLIs' model keys."""
    EDGE = "edge"
    """The secret the edge signs client addresses with and the services check (never an agent's)."""


SERVICE_GRANTS: dict[str, frozenset[Grant]] = {
    "ingest": frozenset({Grant.DATA, Grant.WEBHOOKS_IN, Grant.GITHUB_CONDUCTOR, Grant.EDGE}),
    "router": frozenset({Grant.DATA, Grant.GITHUB_CONDUCTOR, Grant.EDGE}),
    "merger": frozenset({Grant.DATA, Grant.GITHUB_CONDUCTOR, Grant.EDGE}),
    "eventstore": frozenset({Grant.DATA, Grant.EDGE}),
    "costs": frozenset({Grant.DATA, Grant.EDGE}),
    "edge": frozenset({Grant.EDGE}),
    "sandbox": frozenset({Grant.WEBHOOKS_OUT}),
}
DEFAULT_SERVICE_GRANTS = frozenset({Grant.DATA, Grant.EDGE})
"""A service the table does not name (a new one, the tests' own): the database and Valkey, nothing else."""

_GRANTED: dict[Grant, Callable[[str], bool]] = {
    Grant.DATA: lambda name: name in DATA_URLS,
    Grant.WEBHOOKS_IN: lambda name: name == "RIG_INGEST_WEBHOOK_SECRETS",
    Grant.WEBHOOKS_OUT: lambda name: name == "RIG_SANDBOX_WEBHOOK_SECRET",
    Grant.GITHUB_CONDUCTOR: lambda name: name.startswith("RIG_GITHUB_CONDUCTOR_"),
    Grant.GITHUB_DEV: lambda name: name.startswith("RIG_GITHUB_DEV_"),
    Grant.GITHUB_REVIEW: lambda name: name.startswith("RIG_GITHUB_REVIEW_"),
    Grant.MODEL: lambda name: name in MODEL_KEYS,
    Grant.EDGE: lambda name: name == "RIG_EDGE_SECRET",
}


def is_secret(name: str, value: str) -> bool:
    """Whether a variable holds a credential: by its name, a password inside a URL, or a GitHub App's settings.

    An App's id without its key would fail the process that reads it, so a role's group goes whole or not at all.
    """
    if name.endswith("_LOGIN"):
        return False  # a bot's login is public (GitHub shows it on every comment); services match reviews by it
    return bool(_SECRET_NAME.search(name) or _URL_WITH_PASSWORD.search(value) or _GITHUB_ROLE.match(name)
                or name in DATA_URLS or name in MODEL_KEYS)


def scoped_env(env: Mapping[str, str], grants: frozenset[Grant]) -> dict[str, str]:
    """`env` without every secret but those `grants` name."""
    return {name: value for name, value in env.items()
            if not is_secret(name, value) or any(_GRANTED[grant](name) for grant in grants)}


def service_env(service: str, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a service process: the shared settings and its own credentials."""
    return scoped_env(env, SERVICE_GRANTS.get(service, DEFAULT_SERVICE_GRANTS))


def agent_env(agent: str, env: Mapping[str, str], identity: Mapping[str, str]) -> dict[str, str]:
    """The environment of an agent pool's process: its identity (token, Valkey user), its role's App, model keys.

    The shared Valkey URL only when it has no Valkey user of its own (a unix socket, reachable only on this host).
    """
    role = Grant.GITHUB_REVIEW if agent == "review-e" else Grant.GITHUB_DEV
    scoped = scoped_env(env, frozenset({role, Grant.MODEL}))
    if "RIG_AGENT_REDIS_URL" not in identity and "RIG_REDIS_URL" in env:
        scoped["RIG_REDIS_URL"] = env["RIG_REDIS_URL"]
    return scoped | dict(identity)
