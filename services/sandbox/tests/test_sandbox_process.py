"""The sandbox as `make run` starts it: its own process, the demo repository, and everything kept across a
restart (Apps, keys, tokens, repositories, issues)."""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from rig_testing.sandbox import sandbox_process


def token_of(url: str) -> tuple[str, dict[str, Any]]:
    apps = {app["role"]: app for app in httpx.get(f"{url}/_sandbox/apps").json()}
    dev = apps["dev"]
    now = int(time.time())
    signed = jwt.encode({"iat": now - 30, "exp": now + 300, "iss": str(dev["id"])},
                        Path(dev["key_path"]).read_text(), algorithm="RS256")
    minted = httpx.post(f"{url}/app/installations/{dev['installation_id']}/access_tokens",
                        headers={"Authorization": f"Bearer {signed}"})
    assert minted.status_code == 201, minted.text
    return minted.json()["token"], apps


def test_the_demo_is_ready_and_everything_survives_a_restart(tmp_path):
    data = tmp_path / "data"
    with sandbox_process(data, RIG_SANDBOX_DEMO="true", RIG_LOG_LEVEL="INFO") as url:
        token, apps = token_of(url)
        headers = {"Authorization": f"token {token}"}
        config = httpx.get(f"{url}/repos/demo/hello/contents/.rig-agent.yaml", headers=headers).json()
        issue = httpx.get(f"{url}/repos/demo/hello/issues/1", headers=headers).json()
        package = httpx.get(f"{url}/repos/demo/hello/contents/package.json", headers=headers).json()
        health = [httpx.get(f"{url}{path}").status_code for path in ("/healthz", "/readyz", "/metrics")]
    log = next(tmp_path.rglob("sandbox-*.log")).read_text()
    assert "stack: node" in base64.b64decode(config["content"]).decode()
    assert "testCommand: npm test" in base64.b64decode(config["content"]).decode()
    assert '"test"' in base64.b64decode(package["content"]).decode()
    assert issue["state"] == "open" and issue["labels"] == []
    assert health == [200, 200, 200]
    assert "rig sandbox label add demo/hello 1 agent-ready" in log

    with sandbox_process(data, RIG_SANDBOX_DEMO="true") as url:
        again = httpx.get(f"{url}/_sandbox/apps").json()
        still = httpx.get(f"{url}/repos/demo/hello/issues/1", headers=headers)
        repos = httpx.get(f"{url}/_sandbox/repos").json()
        clone = subprocess.run(["git", "clone", "--quiet", url.replace("http://", f"http://x-access-token:{token}@")
                                + "/demo/hello.git", str(tmp_path / "clone")], capture_output=True, check=False)
    assert {app["role"]: app["id"] for app in again} == {role: app["id"] for role, app in apps.items()}
    assert still.status_code == 200 and still.json()["title"] == issue["title"]
    assert [repo["full_name"] for repo in repos] == ["demo/hello"], "the demo is made once"
    assert clone.returncode == 0, clone.stderr
    assert (tmp_path / "clone" / ".rig-agent.yaml").exists()


def test_stopping_the_process_kills_the_tests_its_ci_runs(tmp_path):
    pid_file = tmp_path / "pid"
    config = f"testCommand: sleep 300 & echo $! > {pid_file}; wait\n"
    with sandbox_process(tmp_path / "data", RIG_SANDBOX_CI='["acme/slow"]') as url:
        made = httpx.post(f"{url}/_sandbox/repos", json={"owner": "acme", "name": "slow",
                                                         "files": {".rig-agent.yaml": config}})
        assert made.status_code == 201, made.text
        branch = httpx.post(f"{url}/_sandbox/repos/acme/slow/commits", json={"branch": "work", "files": {"x": "1"}})
        assert branch.status_code == 201, branch.text
        token, _apps = token_of(url)
        opened = httpx.post(f"{url}/repos/acme/slow/pulls", headers={"Authorization": f"token {token}"},
                            json={"title": "Slow", "head": "work", "base": "main"})
        assert opened.status_code == 201, opened.text
        runs = httpx.get(f"{url}/repos/acme/slow/commits/work/check-runs",
                         headers={"Authorization": f"token {token}"}).json()["check_runs"]
        assert [(run["name"], run["status"]) for run in runs] == [("ci", "in_progress")]
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text().strip()):
            assert time.monotonic() < deadline, "the test command never started"
            time.sleep(0.05)
    stat = Path(f"/proc/{int(pid_file.read_text())}/stat")
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z", "killed with the sandbox"
