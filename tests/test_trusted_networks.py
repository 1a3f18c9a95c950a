"""Trusted networks on real processes: a range that trusts everyone refuses to start, and a forged forwarded
address is believed neither by a service nor through the edge (docs/security.md, rig_service.forwarding).

Everything here is loopback, as on one machine or behind a tunnel: the trusted caller is 127.0.0.2, the attacker
127.0.0.1, the address the edge itself connects from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from system_support import ROOT, build

from rig_service.forwarding import CLIENT_HEADER, attest
from rig_supervisor.harness import free_port

TRUSTED_CALLER = "127.0.0.2"
"""A loopback address of its own, trusted below (development only: outside it loopback is refused)."""

MERGE = {"repo": "octo/widgets", "prNumber": 12}
"""The public runtime's merge request; with no approval recorded a heard caller's waits for one (202), an unheard
one gets 401."""


@pytest.mark.parametrize(("environment", "trusted", "why"), [
    ("test", '["127.0.0.0/8"]', "includes loopback"),
    ("production", '["::1/128"]', "includes loopback"),
    ("production", '["10.0.0.0/8", "0.0.0.0/0"]', "much of the Internet"),
    ("development", '["::/0"]', "much of the Internet"),
])
def test_a_service_trusting_loopback_or_everyone_refuses_to_start(tmp_path, environment, trusted, why):
    env = {**os.environ, "RIG_ENVIRONMENT": environment, "RIG_TRUSTED_NETWORKS": trusted,
           "RIG_EDGE_SECRET": "e" * 64, "RIG_DATA_DIR": str(tmp_path)}
    started = subprocess.run([sys.executable, "-m", "rig_service.serve", "merger", "--port", str(free_port())],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = started.stdout + started.stderr
    assert started.returncode != 0, output
    assert why in output and "RIG_TRUSTED_NETWORKS" in output, output
    if why == "includes loopback":
        assert "tunnel or relay in front of the edge" in output and "pods' CIDR" in output, output


async def test_a_forged_forwarded_address_is_refused_directly_and_through_the_edge(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    system = build(["merger", "edge"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                   schema_suffix=schema_suffix, folder=tmp_path,
                   extra_env={"RIG_ENVIRONMENT": "development", "RIG_TRUSTED_NETWORKS": f'["{TRUSTED_CALLER}/32"]'})
    forged = {"X-Forwarded-For": TRUSTED_CALLER, "X-Real-IP": TRUSTED_CALLER, "Forwarded": f"for={TRUSTED_CALLER}"}
    async with system, httpx.AsyncClient(timeout=30) as attacker, httpx.AsyncClient(
            timeout=30, transport=httpx.AsyncHTTPTransport(local_address=TRUSTED_CALLER)) as runtime:
        merger, edge = system.url("merger"), system.url("edge")
        direct = await attacker.post(f"{merger}/api/merge", json=MERGE, headers=forged)
        through_edge = await attacker.post(f"{edge}/api/merge", json=MERGE, headers=forged)
        # The edge's own header, made up (no secret) or copied from an edge that signed another caller.
        made_up = await attacker.post(f"{merger}/api/merge", json=MERGE,
                                      headers={CLIENT_HEADER: f"{TRUSTED_CALLER};{int(time.time())};00"})
        wrong_key = await attacker.post(f"{edge}/api/merge", json=MERGE,
                                        headers={CLIENT_HEADER: attest("x" * 64, TRUSTED_CALLER)})
        heard_directly = await runtime.post(f"{merger}/api/merge", json=MERGE)
        heard_through_edge = await runtime.post(f"{edge}/api/merge", json=MERGE, headers=forged)
    refusals = [direct, through_edge, made_up, wrong_key]
    assert [r.status_code for r in refusals] == [401, 401, 401, 401], [r.text for r in refusals]
    assert "missing bearer token" in through_edge.text
    assert (heard_directly.status_code, heard_through_edge.status_code) == (202, 202), heard_through_edge.text
    assert heard_through_edge.json()["state"] == "waiting_for_approval"
