"""`make run`: embedded servers if no URLs are given, then every service present and the edge; Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import redis.asyncio as aioredis

from rig_contracts import Names
from rig_embedded.servers import ServerUrls, resolve
from rig_identity.keys import load_or_create
from rig_service.serve import quiet_libraries
from rig_service.topology import Topology, load
from rig_supervisor.local import agent_identity, demo_agents, github_configured, webhook_env
from rig_supervisor.settings import SupervisorSettings
from rig_supervisor.supervisor import Plan, Supervisor

log = logging.getLogger(__name__)


def signing_key(settings: SupervisorSettings) -> str:
    """The private key that signs the agents' tokens (the setting, else the pair under the data folder)."""
    if settings.token_private_key is not None:
        return settings.token_private_key.get_secret_value()
    return load_or_create(Path(settings.data_dir).resolve())[0]


def child_env(settings: SupervisorSettings, urls: ServerUrls) -> dict[str, str]:
    """The environment every child gets: our own plus where the servers are and the token key."""
    data_dir = Path(settings.data_dir).resolve()
    public_key = settings.token_public_key or load_or_create(data_dir)[1]
    return {**os.environ, "RIG_DATABASE_URL": urls.database_url, "RIG_REDIS_URL": urls.redis_url,
            "RIG_TOKEN_PUBLIC_KEY": public_key, "RIG_DATA_DIR": str(data_dir)}


def make_plan(settings: SupervisorSettings, topology: Topology, urls: ServerUrls) -> Plan:
    """Every service present in the repository, then the edge, on the topology's ports.

    With no GitHub credentials given, the sandbox is wired in as GitHub; with no model key either, the agents
    replay the demo's recorded runs.
    """
    services = [*topology.present(), topology.edge]
    offset = settings.port_offset
    plan = Plan(services=services, ports={s.name: s.port + offset for s in services}, env=child_env(settings, urls),
                redis_url=urls.redis_url, names=Names(settings.key_prefix), agents=topology.agents.names,
                agent_command=settings.agent_command or topology.agents.command,
                agent_ports={a: topology.agents.port(a) + offset for a in topology.agents.names},
                poll_s=settings.wake_poll_ms / 1000)
    if "sandbox" in plan.ports and not github_configured(plan.env):
        plan.github_from_sandbox = True
        plan.env |= webhook_env(plan.env, plan.url("sandbox"), plan.url("edge")) | demo_agents(plan.env)
    return plan


def describe(plan: Plan, urls: ServerUrls, data_dir: str) -> str:
    """What is running where, for the person who typed `make run`."""
    lines = ["", "rig-conductor is running:"]
    lines.append(f"  edge        {plan.url('edge')}   (one base URL for agents, hooks and people)")
    lines += [f"  {s.name:<11} {plan.url(s.name)}" for s in plan.services if s.name != "edge"]
    for name, kind, url in (("postgres", "postgres", urls.database_url), ("valkey", "redis", urls.redis_url)):
        where = f"   (embedded, data in {data_dir}/{kind})" if kind in urls.embedded else ""
        lines.append(f"  {name:<11} {url}{where}")
    lines.append("  health      curl " + plan.url("edge") + "/services/<name>/healthz   ·   status: rig status")
    if "sandbox" in plan.ports:
        lines.append(f"  demo        GitHub stand-in at {plan.url('sandbox')} with repository demo/hello, issue #1; "
                     "start the work by labelling it:")
        command = "rig sandbox label add demo/hello 1 agent-ready"
        lines.append(f"              RIG_SANDBOX_URL={plan.url('sandbox')} {command}")
    lines.append("Press Ctrl-C to stop everything.")
    return "\n".join(lines)


async def agent_identities(plan: Plan, private_pem: str) -> dict[str, dict[str, str]]:
    """Each agent pool's token and Valkey user, made afresh at every start."""
    client = aioredis.Redis.from_url(plan.redis_url)
    try:
        return {agent: await agent_identity(client, plan.names, plan.redis_url, agent, private_pem,
                                            plan.url("edge")) for agent in plan.agents}
    finally:
        await client.aclose()


async def run(plan: Plan, urls: ServerUrls, data_dir: str, private_pem: str) -> None:
    """Start, report, and stop cleanly on SIGINT/SIGTERM."""
    plan.agent_env = await agent_identities(plan, private_pem)
    supervisor = Supervisor(plan)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await supervisor.start()
    try:
        await supervisor.wait_healthy()
        print(describe(plan, urls, data_dir), flush=True)
    except TimeoutError as error:
        print(f"supervisor: {error}", flush=True)
    await stop.wait()
    print("\nstopping every service…", flush=True)
    await supervisor.stop()
    print("stopped.", flush=True)


def main() -> None:
    """Entry point of `make run` (`rig-run`)."""
    settings = SupervisorSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s supervisor %(levelname)s %(message)s")
    quiet_libraries()
    urls = resolve(settings.database_url, settings.redis_url, Path(settings.data_dir))
    if urls.embedded:
        print(f"started embedded {' and '.join(urls.embedded)} under {settings.data_dir}/", flush=True)
    topology = load(Path(settings.topology) if settings.topology else None)
    asyncio.run(run(make_plan(settings, topology, urls), urls, settings.data_dir, signing_key(settings)))


if __name__ == "__main__":
    main()
