"""Wiring of one agent process: settings → Valkey (as the pool's ACL user), conductor, GitHub, provider, worker."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from rig_agent.busy import BusyMarker
from rig_agent.conductor import Conductor
from rig_agent.dev import DevContext, DevOptions
from rig_agent.loop import AgentLoop, LoopTimes, Source, Worker
from rig_agent.presence import Heartbeat
from rig_agent.providing import ProviderSetup
from rig_agent.pull import PullSource
from rig_agent.review import ReviewContext
from rig_agent.sessions import Sessions
from rig_agent.settings import AgentSettings
from rig_agent.stream import AssignmentStream
from rig_agent.workers import DevWorker, Reporting, ReviewWorker
from rig_contracts import Names
from rig_github import GitHubClient, GitHubSettings, Role
from rig_providers.claude import ClaudeOptions, ClaudeProvider
from rig_providers.codex import CodexOptions, CodexProvider
from rig_providers.model import Limits
from rig_providers.provider import Provider
from rig_providers.redact import Redactor
from rig_providers.sandbox import Sandbox
from rig_providers.scripted import ScriptedProvider

REVIEWER = "review-e"
PULL_AGENTS = frozenset({"ibuild-e"})
"""Pools that ask the conductor for work over HTTP (they may run where Valkey is not reachable, e.g. a Mac)."""


def make_provider(settings: AgentSettings, work_dir: Path, sandbox: Sandbox) -> Provider:
    """The configured coding CLI in `sandbox`, keeping its session files under the pool's work folder."""
    executable = settings.agent_executable
    if settings.agent_provider == "claude":
        return ClaudeProvider(ClaudeOptions(executable=executable or "claude", config_dir=work_dir / "claude",
                                            base_url=settings.agent_provider_base_url,
                                            skip_permissions=settings.agent_skip_permissions), sandbox=sandbox)
    if settings.agent_provider == "codex":
        return CodexProvider(CodexOptions(codex_home=work_dir / "codex", executable=executable or "codex",
                                          base_url=settings.agent_provider_base_url), sandbox=sandbox)
    return ScriptedProvider(transcript_of(settings), sandbox=sandbox)


DEMO_BOOK = Path(__file__).parent / "demo"
"""The demo's recorded runs, replayed when the scripted provider is given no transcript."""


def transcript_of(settings: AgentSettings) -> Path:
    """The scripted provider's transcript file or folder of recorded runs (the demo's by default)."""
    return Path(settings.agent_transcript) if settings.agent_transcript else DEMO_BOOK


def provider_secrets(settings: AgentSettings) -> dict[str, str]:
    """The model credentials the CLI gets (and that are redacted from every line it prints)."""
    named = {"ANTHROPIC_API_KEY": settings.anthropic_api_key,
             "CLAUDE_CODE_OAUTH_TOKEN": settings.claude_code_oauth_token,
             "OPENAI_API_KEY": settings.openai_api_key}
    return {name: value.get_secret_value() for name, value in named.items() if value is not None}


@dataclass
class AgentProcess:
    """Everything one agent process runs with; `loop.run()` is its life."""

    agent: str
    loop: AgentLoop
    heartbeat: Heartbeat


@contextlib.asynccontextmanager
async def agent_process(agent: str, settings: AgentSettings) -> AsyncIterator[AgentProcess]:
    """Build the agent's parts, and close them afterwards."""
    url = settings.agent_redis_url.get_secret_value() if settings.agent_redis_url else settings.redis_url
    if not url:
        raise ValueError("set RIG_AGENT_REDIS_URL (the pool's ACL user) or RIG_REDIS_URL")
    names = Names(settings.key_prefix)
    work_dir = Path(settings.agent_work_dir or Path(settings.data_dir) / "agents" / agent)
    client: aioredis.Redis = aioredis.Redis.from_url(url)
    token = settings.agent_token.get_secret_value() if settings.agent_token else None
    conductor = Conductor(settings.agent_conductor_url, token)
    github = GitHubClient(GitHubSettings(), Role.REVIEW if agent == REVIEWER else Role.DEV)
    book = transcript_of(settings) if settings.agent_provider == "scripted" else None
    # Outside development, untrusted code never runs unsandboxed: a missing bubblewrap stops the agent here.
    sandbox = Sandbox.detect(required=settings.environment != "development")
    sandbox.check()
    setup = ProviderSetup(make_provider(settings, work_dir, sandbox), settings.agent_model,
                          Limits(settings.agent_max_turns, settings.agent_max_seconds, settings.agent_max_cost_usd),
                          provider_secrets(settings), book if book is not None and book.is_dir() else None)
    redact = Redactor([*setup.secrets.values(), *([token] if token else [])])
    reporting = Reporting(agent, conductor, client, names, redact)
    worker: Worker
    if agent == REVIEWER:
        worker = ReviewWorker(reporting, ReviewContext(agent, github, conductor, setup, work_dir))
    else:
        options = DevOptions(work_dir / "work", check_attempts=settings.agent_check_attempts,
                             tool_install=settings.agent_tool_install, sandbox=sandbox)
        worker = DevWorker(reporting, DevContext(agent, github, conductor, Sessions(client, names), setup, options))
    consumer = settings.agent_consumer or f"{agent}@{socket.gethostname()}"
    source: Source = PullSource(conductor.http, agent) if agent in PULL_AGENTS else AssignmentStream(
        client, names, agent, consumer, reclaim_idle_ms=int(settings.agent_reclaim_idle_s * 1000))
    busy = BusyMarker(client, names.busy(agent), consumer, settings.agent_busy_ttl_s)
    heartbeat = Heartbeat(conductor, agent, setup.provider.name, settings.agent_heartbeat_s)
    times = LoopTimes(block_s=settings.agent_block_s,
                      idle_exit_s=None if settings.agent_cluster else settings.agent_idle_exit_s,
                      reclaim_idle_s=settings.agent_reclaim_idle_s, max_deliveries=settings.agent_max_deliveries)
    try:
        yield AgentProcess(agent, AgentLoop(agent, source, busy, worker, heartbeat, times), heartbeat)
    finally:
        await conductor.aclose()
        await github.aclose()
        await client.aclose()
