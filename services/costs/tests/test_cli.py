"""`rig costs` against the real costs service over HTTP: the table's rows and total are the service's roll-up."""

import asyncio
import json

import uvicorn
from click.testing import CliRunner
from costs_support import expected, publish, recorded

from rig_cli.main import app as rig
from rig_contracts import Names
from rig_costs.app import create_app
from rig_identity import generate_keypair
from rig_testing.servers import free_port
from rig_testing.waiting import eventually


async def test_rig_costs_prints_the_roll_up_by_agent_and_of_one_issue(settings, redis, key_prefix, tmp_path):
    private_pem, public_pem = generate_keypair()
    service = create_app(settings.model_copy(update={"token_public_key": public_pem}))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(service, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ws="none"))
    env = {"RIG_EDGE_URL": f"http://127.0.0.1:{port}", "RIG_TOKEN_PRIVATE_KEY": private_pem,
           "RIG_DATA_DIR": str(tmp_path), "COLUMNS": "200"}

    def run(*args: str) -> str:
        result = CliRunner().invoke(rig, ["costs", *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    async with service.router.lifespan_context(service):
        serving = asyncio.create_task(server.serve())
        try:
            await publish(redis, Names(key_prefix), recorded())

            async def projected() -> bool:
                answer = json.loads(await asyncio.to_thread(run, "--by", "agent", "--json"))
                return answer["total"]["runs"] == 7
            await eventually(projected, what="the runs projected")
            table = await asyncio.to_thread(run, "--by", "agent")
            one = json.loads(await asyncio.to_thread(run, "--issue", "acme/lib#7", "--by", "model", "--json"))
        finally:
            server.should_exit = True
            await serving

    for agent, group in expected("agent").items():
        line = next(x for x in table.splitlines() if f" {agent} " in x)
        assert f"{float(group['cost']):,.4f}" in line and f"{group['input_tokens']:,}" in line, line
    assert "total" in table
    assert {g["key"]: g["cost_usd"] for g in one["groups"]}["mystery-model-9"] is None, "unpriced, not $0"
