"""`make run` on the embedded servers: every service healthy through the edge; Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time

import httpx
import psutil  # type: ignore[import-untyped]

from rig_service.topology import load
from rig_supervisor.process import dying_with_this_process
from rig_testing.servers import port_open


def free_offset() -> int:
    topology = load()
    ports = [topology.edge.port, *(s.port for s in topology.services.values())]
    for _ in range(50):
        offset = random.randrange(20_000, 40_000, 100)
        if not any(port_open("127.0.0.1", p + offset) for p in ports):
            return offset
    raise RuntimeError("no free port range")


def test_make_run_serves_every_service_through_the_edge_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")}
    env.update(RIG_DATA_DIR=str(tmp_path / ".rig"), RIG_PORT_OFFSET=str(free_offset()))
    process = subprocess.Popen([sys.executable, "-m", "rig_supervisor.main"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               preexec_fn=dying_with_this_process())  # noqa: PLW1509 (system calls only)
    output: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert process.stdout is not None
        while not any("Press Ctrl-C" in line for line in output):
            line = process.stdout.readline()
            assert line and time.monotonic() < deadline, "".join(output)
            output.append(line)
        text = "".join(output)
        assert "started embedded postgres and redis" in text
        edge = re.search(r"edge\s+(http://127\.0\.0\.1:\d+)", text)
        assert edge, text
        present = [s.name for s in load().present()]
        assert "eventstore" in present
        for name in [*present, "edge"]:
            response = httpx.get(f"{edge.group(1)}/services/{name}/healthz", timeout=5)
            assert response.status_code == 200, (name, response.text)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= len(present) + 1
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:  # stuck: killed, and its children with it (they die with their parent)
                process.kill()
    assert process.returncode == 0, "".join(output) + rest
    time.sleep(0.5)
    left = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"processes left behind: {[p.cmdline() for p in left]}"
    data_dir = str(tmp_path / ".rig")
    strays = [p.pid for p in psutil.process_iter(["cmdline"])
              if any(data_dir in part for part in p.info["cmdline"] or ())]
    assert strays == [], "the embedded servers stopped with the supervisor"
