"""Edge bench: the latency the edge adds, at 500 requests/s open-loop, with many connections and with one.

Starts a tiny upstream (FastAPI, small JSON) and the edge (`python -m rig_service.serve edge`) as real
processes, then drives a fixed request rate from a separate load process (`python -m bench.edge load …`):
first straight at the upstream, then through the edge. The added latency is the through-edge percentile
minus the direct one. If a target is missed, a second, profiled edge (RIG_EDGE_PROFILE=true) is measured
and its cProfile top entries go into the figure's profile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from bench.report import Figure, write
from rig_testing.servers import free_port, port_open

RATE, SECONDS, WARMUP_S = 500, 10.0, 1.0
MANY = 32
TARGET_P99_MS = 2.0
PATH = "/api/events/bench"
ROOT = Path(__file__).resolve().parents[1]


def upstream_app() -> FastAPI:
    """The upstream: answers every GET with a small JSON body."""
    app = FastAPI()

    @app.get("/{path:path}")
    async def answer(path: str) -> dict[str, object]:
        return {"ok": True, "path": path, "items": [1, 2, 3]}

    return app


# ---------------------------------------------------------------- load process (open loop, keep-alive)

class Connection:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads Content-Length responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
        self.reader, self.writer, self.request = reader, writer, request

    async def get(self) -> int:
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return int(head[9:12])


async def drive(port: int, rate: int, seconds: float, connections: int) -> dict[str, Any]:
    """Send `rate` requests/s for `seconds` on `connections` keep-alive connections; latencies in ms."""
    request = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bench\r\n\r\n".encode()
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(Connection(*await asyncio.open_connection("127.0.0.1", port), request))
    latencies: list[float] = []
    errors = 0

    async def one() -> None:
        nonlocal errors
        ready = time.perf_counter()  # the moment the client could send: waiting for a connection counts
        connection = await free.get()
        try:
            status = await connection.get()
        finally:
            free.put_nowait(connection)
        latencies.append((time.perf_counter() - ready) * 1000)
        errors += status != 200

    loop = asyncio.get_running_loop()
    total, start = int(rate * seconds), loop.time() + 0.05
    tasks = []
    for i in range(total):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    latencies.sort()
    return {"requests": total, "errors": errors, "rate": round(total / elapsed, 1),
            **{f"p{q}": percentile(latencies, q) for q in (50, 90, 99, 99.9)}, "max": round(latencies[-1], 3),
            "mean": round(statistics.fmean(latencies), 3)}


def percentile(ordered: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of sorted values."""
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))], 3)


def load(port: int, seconds: float, connections: int, rate: int = RATE) -> dict[str, Any]:
    """Run the load generator as its own process (so it does not share an event loop with anything)."""
    argv = [sys.executable, "-m", "bench.edge", "load", "--port", str(port), "--seconds", str(seconds),
            "--connections", str(connections), "--rate", str(rate)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# ---------------------------------------------------------------- processes

def start(argv: list[str], port: int, env: dict[str, str], probe: str) -> subprocess.Popen[bytes]:
    """Start a server process and wait until `probe` answers 200."""
    process = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", port):
            try:
                if httpx.get(f"http://127.0.0.1:{port}{probe}", trust_env=False).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{argv} did not answer {probe} on port {port}")


def start_edge(upstream_port: int, profile: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    """The edge as it runs in production, with ingest (owner of /api/events) pointed at the bench upstream."""
    port = free_port()
    env = {"RIG_UPSTREAMS": json.dumps({"ingest": f"http://127.0.0.1:{upstream_port}"}),
           "RIG_EDGE_PROFILE": "true" if profile else "false", "RIG_LOG_LEVEL": "WARNING"}
    argv = [sys.executable, "-m", "rig_service.serve", "edge", "--port", str(port)]
    return start(argv, port, env, "/services/edge/readyz"), port


def upstream_head_ms(edge_port: int) -> tuple[float, float]:
    """(sum in ms, count) of the edge's own measurement of time to the upstream's response headers."""
    text = httpx.get(f"http://127.0.0.1:{edge_port}/services/edge/metrics", trust_env=False).text
    values = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
              if s.labels.get("service") == "ingest" and s.name.startswith("rig_edge_upstream_latency_seconds_")}
    return values.get("rig_edge_upstream_latency_seconds_sum", 0.0) * 1000, values.get(
        "rig_edge_upstream_latency_seconds_count", 0.0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(direct_port: int, edge: subprocess.Popen[bytes], edge_port: int, connections: int) -> dict[str, Any]:
    """Warm up, then the direct run and the through-edge run at the same rate and connection count."""
    load(direct_port, WARMUP_S, connections)
    load(edge_port, WARMUP_S, connections)
    direct = load(direct_port, SECONDS, connections)
    head_before, cpu_before = upstream_head_ms(edge_port), cpu_seconds(edge.pid)
    through = load(edge_port, SECONDS, connections)
    head_after, cpu_after = upstream_head_ms(edge_port), cpu_seconds(edge.pid)
    head_mean = (head_after[0] - head_before[0]) / max(1.0, head_after[1] - head_before[1])
    added = {q: round(through[q] - direct[q], 3) for q in ("p50", "p90", "p99", "p99.9", "mean")}
    phases = {"client_mean_through_edge_ms": through["mean"], "direct_mean_ms": direct["mean"],
              "edge_seen_upstream_head_mean_ms": round(head_mean, 3),
              "edge_server_side_ms (through mean - edge-seen upstream)": round(through["mean"] - head_mean, 3),
              "edge_http_client_ms (edge-seen upstream - direct mean)": round(head_mean - direct["mean"], 3),
              "edge_cpu_ms_per_request": round((cpu_after - cpu_before) * 1000 / through["requests"], 3)}
    return {"connections": connections, "direct": direct, "through_edge": through, "added": added, "phases": phases}


def profile_edge(upstream_port: int) -> dict[str, Any]:
    """cProfile of an edge process at half the rate (profiling doubles its cost; overload would skew it)."""
    edge, port = start_edge(upstream_port, profile=True)
    try:
        httpx.get(f"http://127.0.0.1:{port}/services/edge/profile", trust_env=False)  # reset after start-up
        load(port, 5.0, MANY, RATE // 2)
        result: dict[str, Any] = httpx.get(f"http://127.0.0.1:{port}/services/edge/profile", params={"top": 12},
                                           trust_env=False).json()
        return result
    finally:
        edge.terminate()
        edge.wait()


def run() -> None:
    """Run the whole bench and write bench/results/edge.json."""
    upstream_port = free_port()
    upstream = start([sys.executable, "-m", "uvicorn", "bench.edge:upstream_app", "--factory", "--port",
                      str(upstream_port), "--log-level", "warning", "--no-access-log"], upstream_port, {}, "/healthz")
    edge, edge_port = start_edge(upstream_port)
    try:
        runs = [measure(upstream_port, edge, edge_port, n) for n in (MANY, 1)]
        figures: list[Figure] = []
        for r in runs:
            label = f"{r['connections']} conn" + ("s" if r["connections"] > 1 else "")
            figures += [
                Figure(f"edge added latency p50, {label}", r["added"]["p50"], "ms"),
                Figure(f"edge added latency p99, {label}", r["added"]["p99"], "ms", TARGET_P99_MS,
                       lower_is_better=True, profile=r["phases"]),
                Figure(f"direct p99, {label}", r["direct"]["p99"], "ms"),
                Figure(f"through edge p99, {label}", r["through_edge"]["p99"], "ms"),
            ]
        if any(f.passed is False for f in figures):
            cprofile = profile_edge(upstream_port)
            for f in figures:
                if f.passed is False:
                    f.profile = {**f.profile, "edge_cprofile": cprofile}
    finally:
        for process in (edge, upstream):
            process.terminate()
            process.wait()
    write("edge", figures, {"rate_per_s": RATE, "seconds": SECONDS, "path": PATH, "cpus": os.cpu_count(),
                            "load": "asyncio open-loop client in its own process, keep-alive connections",
                            "runs": runs})


def main() -> None:
    """`python -m bench.edge` runs the bench; `python -m bench.edge load …` is its load process."""
    parser = argparse.ArgumentParser(prog="python -m bench.edge")
    sub = parser.add_subparsers(dest="command")
    gen = sub.add_parser("load", help="drive one open-loop run and print its latencies as JSON")
    gen.add_argument("--port", type=int, required=True)
    gen.add_argument("--seconds", type=float, default=SECONDS)
    gen.add_argument("--connections", type=int, default=MANY)
    gen.add_argument("--rate", type=int, default=RATE)
    args = parser.parse_args()
    if args.command == "load":
        print(json.dumps(asyncio.run(drive(args.port, args.rate, args.seconds, args.connections))))
    else:
        run()


if __name__ == "__main__":
    main()
