"""The real Claude Code CLI, offline against a scripted Messages API, runs the hooks `install` wrote."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hook_support import COMMAND, conductor_running, git_working_copy, hook_environment, run_hook

from rig_testing.coding_clis import CodingClis
from rig_testing.fake_anthropic import FakeAnthropic
from rig_testing.model_script import Say, Shell

pytestmark = pytest.mark.slow


def test_a_claude_code_session_reports_start_prompt_push_and_stop(
        tmp_path: Path, coding_clis: CodingClis, fake_anthropic: FakeAnthropic):
    # Fetching names acme/widgets (what the hook reports); pushing goes to a bare repository beside it.
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    work = git_working_copy(tmp_path / "work", "git@github.com:acme/widgets.git", "agent/12-login")
    subprocess.run(["git", "-C", str(work), "remote", "set-url", "--push", "origin", str(remote)], check=True)
    # `gh` is absent here, so the echo prints what `gh pr create` prints: it shows that Claude Code hands the hook
    # the Bash output as tool_response.stdout, which is where a new PR's URL is read from.
    fake_anthropic.script = [Shell("git push --quiet origin agent/12-login"),
                             Shell("gh pr create --fill 2>/dev/null || echo https://github.com/acme/widgets/pull/7"),
                             Say("Pushed and opened.")]
    config_dir = tmp_path / "claude"
    with conductor_running() as conductor:
        env = hook_environment(
            tmp_path / "home", CLAUDE_CONFIG_DIR=str(config_dir), CONDUCTOR_E_URL=conductor.url,
            CONDUCTOR_E_TOKEN="a.b.c", CONDUCTOR_E_AGENT_ID="alice",
            # As after `uv tool install`: Claude Code finds `conductor-e-hook` on PATH.
            PATH=f"{COMMAND.parent}{os.pathsep}{os.environ['PATH']}",
            ANTHROPIC_BASE_URL=fake_anthropic.url, ANTHROPIC_API_KEY="sk-test",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", IS_SANDBOX="1")
        installed = run_hook(["install"], env, cwd=tmp_path)
        assert installed.returncode == 0, installed.stderr

        session = subprocess.run(
            [str(coding_clis.claude), "-p", "Push the branch.", "--output-format", "stream-json", "--verbose",
             "--dangerously-skip-permissions", "--model", "claude-sonnet-4-5"],
            env=env, cwd=work, capture_output=True, text=True, timeout=180, check=False, stdin=subprocess.DEVNULL)

    assert session.returncode == 0, session.stderr[-2000:]
    assert subprocess.run(["git", "-C", str(remote), "rev-parse", "--verify", "--quiet", "agent/12-login"],
                          capture_output=True, check=False).returncode == 0, "the scripted push did not happen"
    work_item = {"agentId": "alice", "repo": "acme/widgets", "issueNumber": 12}
    assert [r.body for r in conductor.requests] == [
        {"type": "WORK_STARTED", **work_item, "branch": "agent/12-login"},   # SessionStart
        {"type": "HEARTBEAT", **work_item, "status": "working"},            # UserPromptSubmit
        {"type": "HEARTBEAT", **work_item, "status": "working"},            # PostToolUse: git push
        {"type": "PR_CREATED", **work_item, "prNumber": 7, "prUrl": "https://github.com/acme/widgets/pull/7",
         "branch": "agent/12-login"},                                        # PostToolUse: gh pr create
        {"type": "HEARTBEAT", **work_item, "status": "idle"},               # Stop
    ]
