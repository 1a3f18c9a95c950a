"""`make run`'s demo, as a person runs it: label demo/hello#1 and the scripted agents take it from the issue to a
merged PR (a review round with changes requested included), with nothing but the embedded servers and the sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from make_run_support import free_offset, start_make_run

from rig_identity import mint
from rig_identity.keys import load_or_create

pytestmark = pytest.mark.slow


def drained(process: subprocess.Popen[str]) -> tuple[list[str], threading.Thread]:
    """The supervisor's output lines as they come, read all along (a full pipe would stall it and its children)."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, reader


def started(lines: list[str], within_s: float = 120) -> str:
    """What the supervisor printed until it said it is running."""
    deadline = time.monotonic() + within_s
    while not any("Press Ctrl-C" in line for line in lines):
        assert time.monotonic() < deadline, "".join(lines)
        time.sleep(0.1)
    return "".join(lines)


def store(edge: str, token: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{edge}/api/log", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"},
                       timeout=10)
    answer.raise_for_status()
    return [entry["event"] for entry in answer.json()["events"]]


def test_labelling_the_demo_issue_ends_in_a_merged_pr(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RIG_") and k not in ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "OPENAI_API_KEY")}
    offset = free_offset()
    data_dir = tmp_path / ".rig"
    env.update(RIG_DATA_DIR=str(data_dir), RIG_PORT_OFFSET=str(offset))
    process = start_make_run(env)
    lines, reader = drained(process)
    try:
        text = started(lines)
        edge, sandbox = f"http://127.0.0.1:{8000 + offset}", f"http://127.0.0.1:{8090 + offset}"
        assert f"RIG_SANDBOX_URL={sandbox} rig sandbox label add demo/hello 1 agent-ready" in text
        label = subprocess.run([str(Path(sys.executable).parent / "rig"), "sandbox", "label", "add", "demo/hello", "1",
                                "agent-ready"], env=env | {"RIG_SANDBOX_URL": sandbox}, capture_output=True,
                               text=True, timeout=60, check=False)
        assert label.returncode == 0, label.stderr
        token = mint(load_or_create(data_dir)[0], "human:operator", ["read"])
        deadline = time.monotonic() + 300
        events: list[dict[str, Any]] = []
        while not any(e["type"] == "ISSUE_DONE" for e in events):
            assert time.monotonic() < deadline, json.dumps([e["type"] for e in events])
            time.sleep(2)
            events = store(edge, token)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        finally:
            if process.poll() is None:  # stuck: killed, and its children with it (they die with their parent)
                process.kill()
        reader.join(timeout=10)
    assert process.returncode == 0, "".join(lines)[-3000:]
    kinds = [e["type"] for e in events if e["subject"] == "demo/hello#1"]
    assert kinds.count("REVIEW_DISPUTED") == 1 and kinds.count("REVIEW_PASSED") == 1
    assert kinds.count("MERGED") == 1 and kinds.count("ISSUE_DONE") == 1
    runs = [e for e in events if e["type"] == "RUN_FINISHED"]
    assert {e["source"] for e in runs} == {"agent:dev-e-node", "agent:review-e"}
    assert all(e["data"]["status"] == "succeeded" and e["data"]["cost_usd"] for e in runs)
