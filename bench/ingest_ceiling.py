"""The ingest bench's ceiling: this machine's PostgreSQL alone committing the same payloads, with pgbench.

One INSERT per transaction into a table shaped like ingest's `deliveries` (text key, jsonb payload, an index on
the arrival time), at a given number of connections, each transaction with a fresh key. pgbench is a C client, so
what it measures is the server's rate, not a Python client's. Its per-transaction log gives the latencies.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import asyncpg

from bench.ingest_load import percentile
from rig_testing import servers

SCRIPTS = 12
"""How many of the payloads become pgbench scripts (each script is one payload, picked at random per transaction)."""

_TABLE = """
CREATE SCHEMA IF NOT EXISTS "{schema}";
CREATE TABLE IF NOT EXISTS "{schema}".deliveries (
    guid text PRIMARY KEY, event text NOT NULL, action text,
    received_at timestamptz NOT NULL DEFAULT now(), payload jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_received_at ON "{schema}".deliveries (received_at);
"""


def available() -> bool:
    """Whether pgbench is installed (Debian's postgresql-client has it)."""
    return shutil.which("pgbench") is not None


def script(schema: str, event: str, body: str) -> str:
    """A pgbench script inserting `body` under a fresh key (pgbench's `:client_id` and a random number)."""
    # In pgbench's simple protocol a `:name` that is not a pgbench variable stays as written, so the JSON can go
    # in as it is; only its quotes are doubled for the SQL literal.
    literal = body.replace("'", "''")
    return (f"INSERT INTO \"{schema}\".deliveries (guid, event, payload) VALUES "
            f"(:client_id || '-' || md5(random()::text || clock_timestamp()::text), '{event}', "
            f"'{literal}'::jsonb);\n")


async def _sql(statement: str) -> int:
    conn = await asyncpg.connect(servers.database_url())
    try:
        result = await conn.fetchval(statement) if statement.lstrip().upper().startswith("SELECT") else None
        if result is None:
            await conn.execute(statement)
        return int(result or 0)
    finally:
        await conn.close()


def ceiling(bodies: list[dict[str, str]], connections: int, seconds: float, schema: str) -> dict[str, Any]:
    """pgbench at `connections` for `seconds`: transactions/s, latencies in ms, and rows counted afterwards."""
    asyncio.run(_sql(_TABLE.format(schema=schema)))
    before = asyncio.run(_sql(f'SELECT count(*) FROM "{schema}".deliveries'))
    with tempfile.TemporaryDirectory(prefix="rig-pgbench-") as folder:
        files = []
        for index, body in enumerate(bodies[:SCRIPTS]):
            path = Path(folder) / f"insert{index}.sql"
            path.write_text(script(schema, body["event"], body["body"]))
            files += ["-f", str(path)]
        url = servers.database_url()
        argv = ["pgbench", "-n", "-c", str(connections), "-j", str(min(connections, 2)), "-T", str(int(seconds)),
                "-l", "--log-prefix", f"{folder}/log", *files, url]
        done = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=folder)
        latencies = sorted(int(line.split()[2]) / 1000 for log in Path(folder).glob("log*")
                           for line in log.read_text().splitlines())
    committed = asyncio.run(_sql(f'SELECT count(*) FROM "{schema}".deliveries')) - before
    tps = _number(done.stdout, r"tps = ([\d.]+)")
    return {"connections": connections, "tps": round(tps, 1), "transactions": len(latencies), "rows": committed,
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


def _number(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"pgbench printed no {pattern!r}: {text}")
    return float(match[1])
