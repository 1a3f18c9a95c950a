"""`rig sandbox …` against a real sandbox process: create a repository from a folder, open an issue, label
it, push, report a check and a status, and list what was sent."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from cli_support import environment, json_of, rig

from rig_testing.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]


@contextlib.contextmanager
def sandbox_process(data_dir: Path) -> Iterator[str]:
    """`python -m rig_service.serve sandbox` on a free port, without its demo; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIG_")}
    env |= {"RIG_DATA_DIR": str(data_dir), "RIG_SANDBOX_PUBLIC_URL": url, "RIG_SANDBOX_DEMO": "false"}
    process = subprocess.Popen([sys.executable, "-m", "rig_service.serve", "sandbox", "--port", str(port)],
                               cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            assert process.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_person_drives_the_sandbox_with_rig(tmp_path):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "README.md").write_text("# widgets\n")
    (project / "src" / "app.js").write_text("module.exports = 1;\n")
    (project / "logo.bin").write_bytes(b"\xff\xfe\x00")
    (project / "node_modules").mkdir()
    (project / "node_modules" / "left-out.js").write_text("x")
    local = tmp_path / "new.txt"
    local.write_text("from a file\n")
    with sandbox_process(tmp_path / "data") as url:
        env = environment(tmp_path, sandbox_url=url)
        created = await rig(["sandbox", "repo", "create", "acme/widgets", "--from", str(project)], env)
        opened = json_of(await rig(["sandbox", "issue", "open", "acme/widgets", "--title", "Do it", "--label",
                                    "triage", "--json"], env))
        added = await rig(["sandbox", "label", "add", "acme/widgets", "1", "agent-ready"], env)
        removed = await rig(["sandbox", "label", "remove", "acme/widgets", "1", "triage"], env)
        pushed = json_of(await rig(["sandbox", "push", "acme/widgets", "topic", "--file", f"new.txt={local}",
                                    "--text", "note.md=hi", "--delete", "README.md", "-m", "Topic", "--json"], env))
        checked = await rig(["sandbox", "check", "set", "acme/widgets", "topic", "ci", "failure"], env)
        status = await rig(["sandbox", "status", "set", "acme/widgets", pushed["sha"], "success", "--context",
                            "lint"], env)
        listed = await rig(["sandbox", "repo", "list"], env)
        apps = json_of(await rig(["sandbox", "apps", "--json"], env))
        deliveries = await rig(["sandbox", "deliveries"], env)
        async with httpx.AsyncClient() as client:
            events = (await client.get(f"{url}/_sandbox/events")).json()
        missing = await rig(["sandbox", "label", "add", "acme/nothing", "1", "x"], env)
        bad_name = await rig(["sandbox", "issue", "open", "widgets", "--title", "x"], env)
    assert created.exit_code == 0, created.output
    assert "created acme/widgets with 3 file(s)" in created.stdout and "/acme/widgets.git" in created.stdout
    assert opened["number"] == 1 and [x["name"] for x in opened["labels"]] == ["triage"]
    assert "triage, agent-ready" in added.stdout and "labels: agent-ready" in removed.stdout
    assert len(pushed["sha"]) == 40
    assert checked.exit_code == 0 and "check ci on" in checked.stdout and "failure" in checked.stdout
    assert status.exit_code == 0 and "status lint" in status.stdout
    assert "acme/widgets" in listed.stdout and {a["role"] for a in apps} == {"conductor", "dev", "review"}
    assert deliveries.exit_code == 0 and "issues.labeled" in deliveries.stdout and "status" in deliveries.stdout
    assert [(e["event"], e["action"]) for e in events] == [
        ("issues", "opened"), ("issues", "labeled"), ("issues", "labeled"), ("issues", "unlabeled"), ("push", None),
        ("check_run", "created"), ("check_run", "completed"), ("check_suite", "completed"), ("status", None)]
    assert missing.exit_code == 1 and "404" in missing.stderr
    assert bad_name.exit_code == 2 and "OWNER/NAME" in bad_name.stderr


async def test_an_unreachable_sandbox_is_reported_with_what_to_do(tmp_path):
    env = environment(tmp_path, sandbox_url=f"http://127.0.0.1:{free_port()}")
    result = await rig(["sandbox", "repo", "list"], env)
    assert result.exit_code == 1
    assert "cannot reach the sandbox" in result.stderr and "RIG_SANDBOX_URL" in result.stderr
