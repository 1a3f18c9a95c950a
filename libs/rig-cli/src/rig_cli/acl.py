"""`rig acl apply`: the Valkey ACL users that confine each agent pool to its own keys (docs/design.md section 3)."""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass

import click
import redis.asyncio as aioredis
from rich.table import Table

from rig_cli import bootstrap
from rig_contracts import Names
from rig_contracts.names import AGENTS
from rig_identity.acl import ensure_agent_user

PASSWORD_ENV_PREFIX = "RIG_ACL_PASSWORD_"  # noqa: S105 - the prefix of a variable name, not a password
"""An agent's password is taken from `RIG_ACL_PASSWORD_<AGENT>` (upper case, dashes as underscores) when set."""


@dataclass(frozen=True, slots=True)
class AgentUser:
    """An agent pool's ACL user and its password (None when it came from the environment: not shown again)."""

    agent: str
    user: str
    password: str | None
    password_from: str


def password_variable(agent: str) -> str:
    """The environment variable that may hold `agent`'s password, e.g. RIG_ACL_PASSWORD_DEV_E_NODE."""
    return PASSWORD_ENV_PREFIX + agent.upper().replace("-", "_")


def password_for(agent: str) -> tuple[str, str | None]:
    """`agent`'s password and the variable it came from, or a new random one and None."""
    variable = password_variable(agent)
    given = os.environ.get(variable)
    if given:
        return given, variable
    return secrets.token_urlsafe(32), None


async def apply(client: aioredis.Redis, names: Names, agents: list[str]) -> list[AgentUser]:
    """Create or refresh the ACL user of each agent pool; return them with the passwords set."""
    users = []
    for agent in agents:
        password, variable = password_for(agent)
        user = await ensure_agent_user(client, names, agent, password)
        users.append(AgentUser(agent, user, None if variable else password, variable or "generated"))
    return users


@click.group("acl")
def acl() -> None:
    """Valkey ACL users of the agent pools."""


@acl.command("apply")
@click.option("--agent", "agents", multiple=True, metavar="AGENT",
              help="Agent pool to set up; repeat for several. Default: every pool in the topology.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines instead of a table.")
def apply_command(agents: tuple[str, ...], as_json: bool) -> None:
    """Create or refresh each agent pool's ACL user and print its password once.

    A password is taken from RIG_ACL_PASSWORD_<AGENT> (e.g. RIG_ACL_PASSWORD_DEV_E_NODE) when set, else a new
    one is generated: running it again rotates generated passwords.
    """
    settings = bootstrap.load_settings()
    known = bootstrap.topology_of(settings).agents.names
    chosen = list(dict.fromkeys(agents)) if agents else list(known)
    unknown = [a for a in chosen if a not in known and a not in AGENTS]
    if unknown:
        raise click.BadParameter(f"unknown agent pool(s) {', '.join(unknown)}; known: "
                                 f"{', '.join(dict.fromkeys([*known, *AGENTS]))}", param_hint="--agent")
    if not chosen:
        raise click.UsageError("the topology names no agent pools: name them with --agent")
    url = bootstrap.redis_url(settings)

    async def work() -> list[AgentUser]:
        async with bootstrap.valkey(url) as client:
            return await apply(client, bootstrap.names_of(settings), chosen)

    users = bootstrap.run(work())
    if as_json:
        bootstrap.print_json({"users": [asdict(u) for u in users]})
        return
    table = Table(title=f"Valkey ACL users at {bootstrap.safe_url(url)}")
    for column in ("agent", "user", "password"):
        table.add_column(column, overflow="fold")
    for u in users:
        table.add_row(u.agent, u.user, u.password or f"(from {u.password_from})")
    console = bootstrap.stdout()
    console.print(table)
    if any(u.password for u in users):
        console.print("These passwords are shown only now: store each in its agent pool's secret, as "
                      "RIG_REDIS_URL=redis://USER:PASSWORD@HOST:PORT. Running this again makes new ones.")
