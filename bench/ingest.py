"""Ingest bench: signed 10-25 KB webhooks/s into a real ingest process, and PostgreSQL's own ceiling beside it.

Ingest runs as uvicorn serves it in production (`rig_ingest.app:create_app`), as one process and as several
(`--workers`), against the machine's PostgreSQL and Redis. A separate load process (`bench.ingest_load`) posts the
fixture corpus's 10-25 KB payloads, signed, each with a fresh X-GitHub-Delivery, closed loop on 1 and more
keep-alive connections. Afterwards the deliveries table is counted: every 200 must be a stored row. In the same
run pgbench commits the same payloads into a table shaped like ingest's, one INSERT per transaction at the same
concurrency: the ceiling our rate is a fraction of. A missed target adds a cProfile of one ingest process.
"""

from __future__ import annotations

import asyncio
import json
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis

from bench import cpu
from bench.ingest_ceiling import available as ceiling_available
from bench.ingest_ceiling import ceiling
from bench.report import Figure, write
from rig_identity import generate_keypair
from rig_ingest.signature import sign
from rig_testing import servers

CORPUS = Path("/work/shared/fixtures/github-webhooks/api.github.com.json")
SMALLEST, LARGEST = 10_000, 25_000
SECRET = "bench-webhook-secret"
SECONDS, WARMUP_S = 6.0, 1.0
CONNECTIONS = (1, 8, 32)
PROCESSES = (1, 2)
TARGET_RATE, TARGET_P99_MS, TARGET_FRACTION = 2000.0, 50.0, 0.7
ROOT = Path(__file__).resolve().parents[1]
HEADLINE = ("ingest best", "ingest p99 at the best")
"""The figures a missed target's profile is attached to (once each, not to every row)."""


def corpus_path() -> Path:
    """The payload corpus: shared/ beside the repository, else the machine's copy."""
    beside = ROOT.parent / "shared" / "fixtures" / "github-webhooks" / "api.github.com.json"
    return beside if beside.is_file() else CORPUS


def prepare_bodies(folder: Path) -> tuple[Path, list[dict[str, str]]]:
    """Every corpus payload of 10-25 KB, serialised as GitHub sends it and signed; written one a line."""
    corpus: dict[str, list[dict[str, Any]]] = json.loads(corpus_path().read_text())
    bodies = []
    for event, payloads in corpus.items():
        for payload in payloads:
            text = json.dumps(payload)
            if SMALLEST <= len(text) <= LARGEST:
                bodies.append({"event": event, "body": text, "signature": sign(text.encode(), SECRET)})
    path = folder / "bodies.jsonl"
    path.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    return path, bodies


def start_ingest(workers: int, suffix: str, prefix: str, folder: Path,
                 profile: Path | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """An ingest server (uvicorn, `workers` processes; `bench.ingest_profile` when `profile`), ready to answer."""
    port = servers.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")} | {
        "RIG_DATABASE_URL": servers.database_url(), "RIG_REDIS_URL": servers.redis_url(), "RIG_KEY_PREFIX": prefix,
        "RIG_SCHEMA_SUFFIX": suffix, "RIG_ENVIRONMENT": "test", "RIG_DATA_DIR": str(folder),
        "RIG_INGEST_WEBHOOK_SECRETS": json.dumps([SECRET]), "RIG_TOKEN_PUBLIC_KEY": generate_keypair()[1],
        "RIG_INGEST_SWEEP_ENABLED": "false", "RIG_LOG_LEVEL": "WARNING"}
    if profile is not None:
        argv = [sys.executable, "-m", "bench.ingest_profile", "--port", str(port), "--output", str(profile)]
    else:
        argv = [sys.executable, "-m", "uvicorn", "rig_ingest.app:create_app", "--factory", "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", trust_env=False).status_code == 200:
                return process, port
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("ingest did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server as an operator does (SIGINT: uvicorn shuts down cleanly, cProfile writes its file)."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def load(port: int, bodies: Path, seconds: float, connections: int) -> dict[str, Any]:
    """One closed-loop run of the load process."""
    argv = [sys.executable, "-m", "bench.ingest_load", "--port", str(port), "--bodies", str(bodies),
            "--seconds", str(seconds), "--connections", str(connections)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def stored_rows(schema: str) -> int:
    """Deliveries ingest stored in `schema`."""
    async def count() -> int:
        conn = await asyncpg.connect(servers.database_url())
        try:
            return int(await conn.fetchval(f'SELECT count(*) FROM "{schema}".deliveries'))
        finally:
            await conn.close()
    return asyncio.run(count())


def drop(schemas: list[str], prefix: str) -> None:
    """Remove what the bench wrote: its schemas and its Redis keys."""
    async def drop_schemas() -> None:
        conn = await asyncpg.connect(servers.database_url())
        try:
            for schema in schemas:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
    asyncio.run(drop_schemas())
    client = redis.Redis.from_url(servers.redis_url())
    for key in client.scan_iter(match=f"{prefix}*", count=10_000):
        client.delete(key)
    client.close()


def measure(bodies_path: Path, bodies: list[dict[str, str]], run: str, folder: Path,
            schemas: list[str]) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Per connection count, back to back: each ingest setup, then pgbench, so that the three share one moment
    of this shared machine; afterwards each setup's rows are counted against the deliveries it accepted."""
    servers_up: dict[int, tuple[subprocess.Popen[bytes], int]] = {}
    accepted = dict.fromkeys(PROCESSES, 0)
    runs: dict[int, list[dict[str, Any]]] = {workers: [] for workers in PROCESSES}
    ceilings: dict[int, dict[str, Any]] = {}
    pg_schema = f"pgbench_{run}"
    try:
        for workers in PROCESSES:
            schemas.append(f"ingest_bench{run}w{workers}")
            servers_up[workers] = start_ingest(workers, f"_bench{run}w{workers}", f"bench:{run}:", folder)
            accepted[workers] += load(servers_up[workers][1], bodies_path, WARMUP_S, 8)["accepted"]
        if ceiling_available():
            schemas.append(pg_schema)
        for connections in CONNECTIONS:
            for workers, (process, port) in servers_up.items():
                used: dict[str, float] = {}
                with cpu.cores({"ingest": cpu.tree(process.pid), "postgres": cpu.named("postgres"),
                                "redis": cpu.named("redis-server")}, used):
                    result = load(port, bodies_path, SECONDS, connections)
                result["cores"] = used | {"load": used.pop("children")}
                accepted[workers] += result["accepted"]
                runs[workers].append(result)
            if ceiling_available():
                ceilings[connections] = ceiling(bodies, connections, SECONDS, pg_schema)
    finally:
        for process, _port in servers_up.values():
            stop(process)
    setups = []
    for workers in PROCESSES:
        rows = stored_rows(f"ingest_bench{run}w{workers}")
        setups.append({"workers": workers, "runs": runs[workers], "accepted": accepted[workers], "stored": rows,
                       "lost": accepted[workers] - rows})
    return setups, ceilings


def profile_ingest(bodies: Path, run: str, folder: Path, schemas: list[str]) -> dict[str, Any]:
    """cProfile of one ingest process while 8 connections load it (start-up excluded): where its CPU goes."""
    suffix = f"_bench{run}prof"
    schemas.append(f"ingest{suffix}")
    output = folder / "ingest.prof"
    process, port = start_ingest(1, suffix, f"bench:{run}:", folder, profile=output)
    try:
        load(port, bodies, WARMUP_S, 8)
        process.send_signal(signal.SIGUSR1)
        measured = load(port, bodies, SECONDS / 2, 8)
        process.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 10
        while not output.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop(process)
    stats = pstats.Stats(str(output))
    table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(own for _calls, _prim, own, _cum, _callers in table.values())
    by_package: dict[str, float] = {}
    for (file, _line, _name), (_calls, _prim, own, _cum, _callers) in table.items():
        by_package[package_of(file)] = by_package.get(package_of(file), 0.0) + own

    def entry(key: tuple[str, int, str], value: tuple[int, int, float, float, Any]) -> dict[str, Any]:
        return {"function": f"{package_of(key[0])}:{Path(key[0]).name}:{key[1]}:{key[2]}", "calls": value[0],
                "own_s": round(value[2], 3), "cumulative_s": round(value[3], 3)}
    heaviest = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:12]
    ours = sorted(((k, v) for k, v in table.items() if package_of(k[0]).startswith("rig_")),
                  key=lambda item: item[1][3], reverse=True)[:8]
    return {"profiled_requests": measured["requests"], "profiled_rate_per_s": measured["rate"],
            "cpu_ms_per_request": round(total * 1000 / max(measured["requests"], 1), 3),
            "own_time_share_by_package": {k: round(v / total, 3) for k, v in
                                          sorted(by_package.items(), key=lambda kv: kv[1], reverse=True)[:10]},
            "top_by_own_time": [entry(k, v) for k, v in heaviest],
            "our_code_by_cumulative_time": [entry(k, v) for k, v in ours]}


def package_of(file: str) -> str:
    """The package a profiled function belongs to: a site-package, one of ours, the standard library or C."""
    parts = Path(file).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    for part in parts:
        if part.startswith("rig_"):
            return part
    return "builtins (C)" if file == "~" else "stdlib"


def figures_of(ingest: list[dict[str, Any]], ceilings: dict[int, dict[str, Any]]) -> list[Figure]:
    """The table: per server setup and connection count, rate and latencies, and the fraction of the ceiling."""
    figures = []
    for setup in ingest:
        name = f"{setup['workers']} process" + ("es" if setup["workers"] > 1 else "")
        for result in setup["runs"]:
            conns = result["connections"]
            label = f"{name}, {conns} conn" + ("s" if conns > 1 else "")
            figures += [Figure(f"ingest webhooks/s, {label}", result["rate"], "/s"),
                        Figure(f"ingest p50, {label}", result["p50"], "ms"),
                        Figure(f"ingest p99, {label}", result["p99"], "ms", TARGET_P99_MS, lower_is_better=True)]
            if conns in ceilings:
                figures.append(Figure(f"ingest / PostgreSQL ceiling, {label}",
                                      result["rate"] / max(ceilings[conns]["tps"], 1.0), "fraction"))
        figures.append(Figure(f"deliveries lost (200 without a row), {name}", setup["lost"], "deliveries", 0,
                              lower_is_better=True))
    for conns, result in ceilings.items():
        figures.append(Figure(f"PostgreSQL ceiling inserts/s, {conns} conn" + ("s" if conns > 1 else ""),
                              result["tps"], "/s"))
    best = max((r | {"workers": s["workers"]} for s in ingest for r in s["runs"]), key=lambda r: r["rate"])
    figures += [Figure("ingest best sustained webhooks/s", best["rate"], "/s", TARGET_RATE,
                       profile={"cores_used_at_the_best_rate": best["cores"],
                                "cores": "CPU seconds per second of the run: the ingest process(es), PostgreSQL's "
                                         "backends, Redis, the load generator, and the whole machine (of cpus)"}),
                Figure("ingest p99 at the best rate", best["p99"], "ms", TARGET_P99_MS, lower_is_better=True)]
    if best["connections"] in ceilings:
        fraction = best["rate"] / max(ceilings[best["connections"]]["tps"], 1.0)
        figures.append(Figure("ingest best rate / PostgreSQL ceiling", fraction, "fraction", TARGET_FRACTION))
    return figures


def run() -> None:
    """Run the whole bench and write bench/results/ingest.json."""
    run_id = uuid.uuid4().hex[:8]
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="rig-bench-ingest-"))
    schemas: list[str] = []
    try:
        bodies_path, bodies = prepare_bodies(folder)
        ingest, ceilings = measure(bodies_path, bodies, run_id, folder, schemas)
        figures = figures_of(ingest, ceilings)
        if any(f.passed is False for f in figures):
            profile = profile_ingest(bodies_path, run_id, folder, schemas)
            for figure in figures:
                if figure.passed is False and figure.name.startswith(HEADLINE):
                    figure.profile = figure.profile | profile
    finally:
        drop(schemas, f"bench:{run_id}:")
        shutil.rmtree(folder, ignore_errors=True)
    sizes = [len(b["body"]) for b in bodies]
    write("ingest", figures, {
        "payloads": len(bodies), "payload_bytes": {"min": min(sizes), "max": max(sizes),
                                                   "mean": round(sum(sizes) / len(sizes))},
        "seconds": SECONDS, "cpus": os.cpu_count(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "server": "uvicorn (uvloop, httptools), --workers N",
        "load": "bench.ingest_load: its own process, closed loop, keep-alive, fresh X-GitHub-Delivery each",
        "ceiling": "pgbench: one INSERT of the same payloads per transaction, same connection counts"
                   if ceilings else "pgbench not installed: no ceiling measured",
        "ingest": ingest, "postgres_ceiling": list(ceilings.values())})


if __name__ == "__main__":
    run()
