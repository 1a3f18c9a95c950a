"""The sandbox's CI (its stand-in for GitHub Actions): a `ci` check run on each new pull request head of a
repository with CI on, `in_progress` at once and completed by the repository's `testCommand`; none elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sandbox_support import Sandbox, clone_url, create_repo, git, serving, wait_for

from rig_sandbox.ci.workflow import ci_repositories
from rig_sandbox.settings import SandboxSettings

CHECKED = "acme/checked"
CONFIG = "stack: shell\ntestCommand: echo looking for ok.txt; test -f ok.txt\n"


async def open_pull(sandbox: Sandbox, full_name: str, branch: str, files: dict[str, str]) -> dict[str, Any]:
    """Commit `files` to a new branch (control API) and open a pull request of it as the dev App."""
    async with sandbox.client() as control:
        made = await control.post(f"/_sandbox/repos/{full_name}/commits",
                                  json={"branch": branch, "files": files, "from": "main"})
        assert made.status_code == 201, made.text
    async with sandbox.client(await sandbox.token("dev")) as client:
        opened = await client.post(f"/repos/{full_name}/pulls", json={"title": branch, "head": branch, "base": "main"})
    assert opened.status_code == 201, opened.text
    return dict(opened.json())


async def runs_of(sandbox: Sandbox, full_name: str, sha: str) -> list[dict[str, Any]]:
    """The check runs of commit `sha`, as a client reads them."""
    async with sandbox.client(await sandbox.token("conductor")) as client:
        answer = await client.get(f"/repos/{full_name}/commits/{sha}/check-runs", params={"filter": "all"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["check_runs"])


async def finished(sandbox: Sandbox, full_name: str, sha: str) -> dict[str, Any]:
    """The `ci` run of `sha` once it completed."""
    async def completed() -> dict[str, Any] | None:
        runs = [run for run in await runs_of(sandbox, full_name, sha) if run["name"] == "ci"]
        return runs[0] if runs and runs[0]["status"] == "completed" else None

    found: dict[str, Any] = await wait_for(completed, within_s=60)
    return found


def ci_events(sandbox: Sandbox, sha: str) -> list[tuple[str, str, str | None]]:
    """(event, action, status) of every check_run / check_suite webhook about `sha`, in order."""
    seen = []
    for name, payload in sandbox.events.events:
        if name in ("check_run", "check_suite") and payload[name]["head_sha"] == sha:
            seen.append((name, payload["action"], payload[name]["status"]))
    return seen


async def test_a_pull_request_head_gets_ci_in_progress_then_its_tests_verdict(tmp_path):
    async with serving(tmp_path / "data", sandbox_ci=[CHECKED]) as sandbox:
        await create_repo(sandbox, CHECKED, {"README.md": "# checked\n", ".rig-agent.yaml": CONFIG})
        good = await open_pull(sandbox, CHECKED, "good", {"ok.txt": "ok\n"})
        bad = await open_pull(sandbox, CHECKED, "bad", {"other.txt": "not it\n"})
        good_sha, bad_sha = good["head"]["sha"], bad["head"]["sha"]

        # The run existed, in progress, before the pull request's answer came back.
        created = [payload["check_run"] for payload in sandbox.events.named("check_run", "created")]
        assert [(run["head_sha"], run["name"], run["status"]) for run in created] == [
            (good_sha, "ci", "in_progress"), (bad_sha, "ci", "in_progress")]
        assert [pr["number"] for pr in created[0]["pull_requests"]] == [good["number"]]
        assert created[0]["app"]["slug"] == "rig-conductor"

        passed, failed = await finished(sandbox, CHECKED, good_sha), await finished(sandbox, CHECKED, bad_sha)
        assert passed["conclusion"] == "success" and failed["conclusion"] == "failure"
        assert passed["output"]["title"] == "`echo looking for ok.txt; test -f ok.txt` passed"
        assert failed["output"]["title"] == "`echo looking for ok.txt; test -f ok.txt` failed (exit code 1)"
        assert "looking for ok.txt" in failed["output"]["summary"]

        for sha, conclusion in ((good_sha, "success"), (bad_sha, "failure")):
            assert ci_events(sandbox, sha) == [("check_run", "created", "in_progress"),
                                               ("check_run", "completed", "completed"),
                                               ("check_suite", "completed", "completed")]
            suite = [p["check_suite"] for p in sandbox.events.named("check_suite", "completed")
                     if p["check_suite"]["head_sha"] == sha]
            assert suite[0]["conclusion"] == conclusion
        async with sandbox.client(await sandbox.token("conductor")) as client:
            merge_gates = [(await client.get(f"/repos/{CHECKED}/pulls/{pull['number']}")).json()["mergeable_state"]
                           for pull in (good, bad)]
        assert merge_gates == ["clean", "blocked"]


async def test_each_new_head_gets_its_own_run_from_a_git_push_and_a_control_commit(tmp_path):
    async with serving(tmp_path / "data", sandbox_ci=[CHECKED.upper()]) as sandbox:
        await create_repo(sandbox, CHECKED, {"README.md": "# checked\n", ".rig-agent.yaml": CONFIG})
        pull = await open_pull(sandbox, CHECKED, "fix", {"other.txt": "not it\n"})
        first = pull["head"]["sha"]

        work = tmp_path / "work"
        await git(tmp_path, "clone", "--quiet", clone_url(sandbox, CHECKED, await sandbox.token("dev")), str(work))
        await git(work, "checkout", "-q", "fix")
        (work / "ok.txt").write_text("ok\n")
        await git(work, "add", "ok.txt")
        await git(work, "commit", "-q", "-m", "Add ok.txt")
        await git(work, "push", "-q", "origin", "fix")
        pushed = await git(work, "rev-parse", "HEAD")

        async with sandbox.client() as control:
            made = await control.post(f"/_sandbox/repos/{CHECKED}/commits",
                                      json={"branch": "fix", "files": {"ok.txt": None}, "message": "Drop ok.txt"})
        committed = made.json()["sha"]

        assert (await finished(sandbox, CHECKED, first))["conclusion"] == "failure"
        assert (await finished(sandbox, CHECKED, pushed))["conclusion"] == "success"
        assert (await finished(sandbox, CHECKED, committed))["conclusion"] == "failure"
        for sha in (first, pushed, committed):
            assert [run["name"] for run in await runs_of(sandbox, CHECKED, sha)] == ["ci"], "one run per head"

        # Closing and reopening on the same head runs nothing again.
        async with sandbox.client(await sandbox.token("dev")) as client:
            for state in ("closed", "open"):
                edited = await client.patch(f"/repos/{CHECKED}/pulls/{pull['number']}", json={"state": state})
                assert edited.status_code == 200, edited.text
        assert len(await runs_of(sandbox, CHECKED, committed)) == 1


async def test_repositories_without_ci_get_no_check_run(tmp_path):
    async with serving(tmp_path / "data", sandbox_ci=[CHECKED]) as other:
        await create_repo(other, "acme/plain", {"README.md": "# plain\n", ".rig-agent.yaml": CONFIG})
        pull = await open_pull(other, "acme/plain", "change", {"ok.txt": "ok\n"})
        assert await runs_of(other, "acme/plain", pull["head"]["sha"]) == []
    async with serving(tmp_path / "default") as default:  # the demo is off: so is CI
        await create_repo(default, CHECKED, {"README.md": "# checked\n", ".rig-agent.yaml": CONFIG})
        pull = await open_pull(default, CHECKED, "change", {"ok.txt": "ok\n"})
        assert await runs_of(default, CHECKED, pull["head"]["sha"]) == []
    for sandbox in (other, default):
        assert sandbox.events.named("pull_request", "opened"), "the pull request was opened"
        assert not [name for name, _ in sandbox.events.events if name in ("check_run", "check_suite")]


async def test_no_test_command_passes_and_a_broken_config_fails(tmp_path):
    async with serving(tmp_path / "data", sandbox_ci=[CHECKED, "acme/broken"]) as sandbox:
        await create_repo(sandbox, CHECKED, {"README.md": "# no config\n"})
        await create_repo(sandbox, "acme/broken", {".rig-agent.yaml": "testCommand: [unclosed\n"})
        bare = await finished(sandbox, CHECKED, (await open_pull(sandbox, CHECKED, "a", {"x": "1"}))["head"]["sha"])
        broken = await finished(sandbox, "acme/broken",
                                (await open_pull(sandbox, "acme/broken", "a", {"x": "1"}))["head"]["sha"])
    assert bare["conclusion"] == "success" and "nothing was run" in bare["output"]["summary"]
    assert broken["conclusion"] == "failure" and "not valid YAML" in broken["output"]["summary"]


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (a killed one may linger as a zombie until its new parent reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def worktrees(sandbox: Sandbox, full_name: str) -> list[Path]:
    """Worktrees the bare repository still has registered."""
    owner, name = full_name.split("/")
    folder = sandbox.data_dir / "sandbox" / "git" / owner / f"{name}.git" / "worktrees"
    return list(folder.iterdir()) if folder.exists() else []


async def test_a_timeout_kills_the_whole_command_and_concludes_timed_out(tmp_path):
    pid_file = tmp_path / "pid"
    config = f"testCommand: sleep 300 & echo $! > {pid_file}; wait\n"
    async with serving(tmp_path / "data", sandbox_ci=[CHECKED], sandbox_ci_timeout_s=1) as sandbox:
        await create_repo(sandbox, CHECKED, {".rig-agent.yaml": config})
        pull = await open_pull(sandbox, CHECKED, "slow", {"x": "1"})
        run = await finished(sandbox, CHECKED, pull["head"]["sha"])
        assert run["conclusion"] == "timed_out" and "timed out" in run["output"]["title"]
        assert not alive(int(pid_file.read_text())), "the command's child was killed with it"
        assert worktrees(sandbox, CHECKED) == []


async def test_a_shutdown_kills_running_tests_and_the_next_start_runs_them_again(tmp_path):
    pid_file, go = tmp_path / "pid", tmp_path / "go"
    config = f"testCommand: test -f {go} && exit 0; sleep 300 & echo $! > {pid_file}; wait\n"
    async with serving(tmp_path / "data", sandbox_ci=[CHECKED]) as sandbox:
        await create_repo(sandbox, CHECKED, {".rig-agent.yaml": config})
        sha = (await open_pull(sandbox, CHECKED, "slow", {"x": "1"}))["head"]["sha"]

        async def started() -> bool:
            return pid_file.exists() and bool(pid_file.read_text().strip())

        await wait_for(started, within_s=60)
        pid = int(pid_file.read_text())
    assert not alive(pid), "nothing left running after the shutdown"
    assert worktrees(sandbox, CHECKED) == []
    assert ci_events(sandbox, sha) == [("check_run", "created", "in_progress")]

    go.touch()
    async with serving(tmp_path / "data", sandbox_ci=[CHECKED]) as again:
        run = await finished(again, CHECKED, sha)
    assert run["conclusion"] == "success"
    assert ci_events(again, sha) == [("check_run", "completed", "completed"), ("check_suite", "completed", "completed")]


async def test_the_demo_runs_npm_test(tmp_path):
    async with serving(tmp_path / "data", sandbox_demo=True) as sandbox:
        farewell = ("function greet(name) {\n  return `Hello, ${name}!`;\n}\n\n"
                    "function farewell(name) {\n  return `Goodbye, ${name}!`;\n}\n\n"
                    "module.exports = { greet, farewell };\n")
        good = await open_pull(sandbox, "demo/hello", "farewell", {"src/greet.js": farewell})
        broken = await open_pull(sandbox, "demo/hello", "broken",
                                 {"src/greet.js": "module.exports = { greet: () => 'Hi' };\n"})
        passed = await finished(sandbox, "demo/hello", good["head"]["sha"])
        failed = await finished(sandbox, "demo/hello", broken["head"]["sha"])
    assert passed["conclusion"] == "success" and passed["output"]["title"] == "`npm test` passed"
    assert failed["conclusion"] == "failure" and "greets by name" in failed["output"]["summary"]


def test_ci_repositories_are_full_names(tmp_path):
    with pytest.raises(ValidationError, match="owner/name"):
        SandboxSettings(data_dir=str(tmp_path), sandbox_ci=["hello"])
    assert ci_repositories(SandboxSettings(data_dir=str(tmp_path), sandbox_ci=[" Acme/X "])) == {"acme/x"}
    assert ci_repositories(SandboxSettings(data_dir=str(tmp_path), sandbox_demo=True)) == {"demo/hello"}
    assert ci_repositories(SandboxSettings(data_dir=str(tmp_path), sandbox_demo=False)) == set()
