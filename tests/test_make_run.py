"""`make run` on the embedded servers: every service healthy through the edge; Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import re
import time

import httpx
import psutil  # type: ignore[import-untyped]
from make_run_support import free_offset, start_make_run, stop_make_run, until_running

from rig_service.topology import load


def test_make_run_serves_every_service_through_the_edge_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")}
    env.update(RIG_DATA_DIR=str(tmp_path / ".rig"), RIG_PORT_OFFSET=str(free_offset()))
    process = start_make_run(env)
    output: list[str] = []
    try:
        output = until_running(process)
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
        rest = stop_make_run(process)
    assert process.returncode == 0, "".join(output) + rest
    time.sleep(0.5)
    left = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"processes left behind: {[p.cmdline() for p in left]}"
    data_dir = str(tmp_path / ".rig")
    strays = [p.pid for p in psutil.process_iter(["cmdline"])
              if any(data_dir in part for part in p.info["cmdline"] or ())]
    assert strays == [], "the embedded servers stopped with the supervisor"
