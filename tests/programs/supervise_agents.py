"""The supervisor's agent waking alone (no services), for the orphan test: `supervise_agents.py AGENT…`.

Wakes real agent processes (`python -m rig_agent`) with the supervisor's own code and runs until killed.
"""

import asyncio
import os
import sys

from rig_contracts import Names
from rig_supervisor.supervisor import Plan, Supervisor


async def main(agents: list[str]) -> None:
    plan = Plan(services=[], ports={}, env=dict(os.environ), redis_url=os.environ["RIG_REDIS_URL"],
                names=Names(os.environ.get("RIG_KEY_PREFIX", "")), agents=agents,
                agent_command=["python", "-m", "rig_agent", "--agent", "{agent}"], echo=True)
    supervisor = Supervisor(plan)
    await supervisor.start()
    print("supervising", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await supervisor.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
