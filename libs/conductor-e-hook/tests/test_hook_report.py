"""`conductor-e-hook` run as a real process against a real local HTTP server and a real git working copy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hook_support import Conductor, conductor_running, git_working_copy, hook_environment, run_hook

from rig_identity.tokens import generate_keypair, mint, verify
from rig_testing.servers import free_port

PRIVATE_PEM, PUBLIC_PEM = generate_keypair()
TOKEN = mint(PRIVATE_PEM, "human:alice", ["events:write"])


@pytest.fixture
def conductor() -> Iterator[Conductor]:
    with conductor_running() as running:
        yield running


def configured(tmp_path: Path, url: str, **variables: str) -> dict[str, str]:
    return hook_environment(tmp_path / "home", CONDUCTOR_E_URL=url, CONDUCTOR_E_TOKEN=TOKEN, **variables)


def test_work_started_carries_repo_issue_and_branch_from_git_and_the_token(tmp_path: Path, conductor: Conductor):
    work = git_working_copy(tmp_path / "work", "git@github.com:acme/widgets.git", "agent/123-fix-login")

    done = run_hook(["WORK_STARTED"], configured(tmp_path, conductor.url), cwd=work)

    assert (done.returncode, done.stderr) == (0, "")
    [request] = conductor.requests
    assert request.path == "/api/events"
    assert request.headers["Content-Type"] == "application/json"
    scheme, token = request.headers["Authorization"].split(" ")
    assert scheme == "Bearer" and verify(PUBLIC_PEM, token).subject == "human:alice"
    assert request.body == {"type": "WORK_STARTED", "agentId": "alice", "repo": "acme/widgets",
                            "issueNumber": 123, "branch": "agent/123-fix-login"}


@pytest.mark.parametrize(("args", "fields"), [
    (["HEARTBEAT", "working"], {"type": "HEARTBEAT", "status": "working"}),
    (["HEARTBEAT", "idle"], {"type": "HEARTBEAT", "status": "idle"}),
    (["PR_CREATED", "--pr", "42", "--url", "https://github.com/acme/widgets/pull/42"],
     {"type": "PR_CREATED", "prNumber": 42, "prUrl": "https://github.com/acme/widgets/pull/42", "branch": "77-fix"}),
    (["AGENT_STUCK", "--reason", "CI needs a secret I lack"],
     {"type": "AGENT_STUCK", "reason": "CI needs a secret I lack"}),
])
def test_each_event_posts_the_runtime_camel_case_body(tmp_path: Path, conductor: Conductor, args, fields):
    work = git_working_copy(tmp_path / "work", "https://github.com/acme/widgets.git", "77-fix")

    done = run_hook(args, configured(tmp_path, conductor.url), cwd=work)

    assert (done.returncode, done.stderr) == (0, "")
    [request] = conductor.requests
    assert request.body == {"agentId": "alice", "repo": "acme/widgets", "issueNumber": 77, **fields}


def test_flags_override_git_and_the_config_file_supplies_url_and_token(tmp_path: Path, conductor: Conductor):
    work = git_working_copy(tmp_path / "work", "ssh://git@github.com:2222/acme/widgets.git", "feature/9-login")
    config = tmp_path / "conductor.toml"
    config.write_text(f'url = "{conductor.url}/"\ntoken = "{TOKEN}"\nagent_id = "alice-laptop"\n')
    env = hook_environment(tmp_path / "home", CONDUCTOR_E_CONFIG=str(config))

    inferred = run_hook(["WORK_STARTED"], env, cwd=work)
    overridden = run_hook(["WORK_STARTED", "--repo", "acme/gadgets", "--issue", "5", "--branch", "b"], env, cwd=work)

    assert (inferred.returncode, inferred.stderr, overridden.returncode, overridden.stderr) == (0, "", 0, "")
    assert [r.body for r in conductor.requests] == [
        {"type": "WORK_STARTED", "agentId": "alice-laptop", "repo": "acme/widgets", "issueNumber": 9,
         "branch": "feature/9-login"},
        {"type": "WORK_STARTED", "agentId": "alice-laptop", "repo": "acme/gadgets", "issueNumber": 5, "branch": "b"},
    ]
    assert {r.path for r in conductor.requests} == {"/api/events"}


def test_config_file_in_xdg_config_home_is_found_without_being_named(tmp_path: Path, conductor: Conductor):
    (tmp_path / "xdg" / "conductor-e").mkdir(parents=True)
    (tmp_path / "xdg" / "conductor-e" / "config.toml").write_text(f'url = "{conductor.url}"\ntoken = "{TOKEN}"\n')
    env = hook_environment(tmp_path / "home", XDG_CONFIG_HOME=str(tmp_path / "xdg"))

    done = run_hook(["HEARTBEAT", "idle"], env, cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    # Outside a repository the heartbeat still goes, without the repo and issue it cannot know.
    assert [r.body for r in conductor.requests] == [{"type": "HEARTBEAT", "agentId": "alice", "status": "idle"}]


def claude_bash_call(cwd: Path, command: str, stdout: str) -> str:
    """The PostToolUse input Claude Code pipes to the hook after a Bash call."""
    return json.dumps({
        "session_id": "abc123", "transcript_path": str(cwd / "t.jsonl"), "cwd": str(cwd),
        "permission_mode": "default", "hook_event_name": "PostToolUse", "tool_name": "Bash",
        "tool_input": {"command": command, "description": "run it"},
        "tool_response": {"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False},
        "tool_use_id": "toolu_01",
    })


def test_post_tool_use_reports_a_new_pr_a_push_and_nothing_else(tmp_path: Path, conductor: Conductor):
    work = git_working_copy(tmp_path / "work", "git@github.com:acme/widgets.git", "agent/31-retry")
    env = configured(tmp_path, conductor.url)
    calls = [
        claude_bash_call(work, 'git add -A && gh pr create --title "Retry" --body "Closes #31"',
                         "Creating pull request for agent/31-retry into main\n\nhttps://github.com/acme/widgets/pull/8\n"),
        claude_bash_call(work, "git -C . push -u origin agent/31-retry 2>&1", "branch set up to track\n"),
        claude_bash_call(work, "git commit -m 'push the button'; ls", "done\n"),
        json.dumps({"hook_event_name": "PostToolUse", "tool_name": "Edit", "cwd": str(work),
                    "tool_input": {"file_path": "x"}, "tool_response": {}}),
    ]

    runs = [run_hook(["post-tool-use"], env, cwd=tmp_path, stdin=call) for call in calls]

    assert [(run.returncode, run.stderr) for run in runs] == [(0, "")] * 4
    assert [r.body for r in conductor.requests] == [
        {"type": "PR_CREATED", "agentId": "alice", "repo": "acme/widgets", "issueNumber": 31, "prNumber": 8,
         "prUrl": "https://github.com/acme/widgets/pull/8", "branch": "agent/31-retry"},
        {"type": "HEARTBEAT", "agentId": "alice", "repo": "acme/widgets", "issueNumber": 31, "status": "working"},
    ]


def test_server_down_costs_one_line_on_stderr_and_exit_0_unless_strict(tmp_path: Path):
    env = configured(tmp_path, f"http://127.0.0.1:{free_port()}")

    soft = run_hook(["HEARTBEAT", "idle"], env, cwd=tmp_path)
    strict = run_hook(["HEARTBEAT", "idle", "--strict"], env, cwd=tmp_path)

    assert (soft.returncode, soft.stdout) == (0, "")
    assert soft.stderr.startswith("conductor-e-hook: cannot reach http://127.0.0.1:") and soft.stderr.count("\n") == 1
    assert (strict.returncode, strict.stderr) == (1, soft.stderr)


def test_a_refusal_is_reported_without_the_token(tmp_path: Path, conductor: Conductor):
    conductor.status, conductor.answer = 401, {"detail": "token revoked"}
    env = configured(tmp_path, conductor.url)

    soft = run_hook(["AGENT_STUCK", "--reason", "x"], env, cwd=tmp_path)
    strict = run_hook(["AGENT_STUCK", "--reason", "x", "--strict"], env, cwd=tmp_path)

    assert (soft.returncode, soft.stderr) == (0, "conductor-e-hook: HTTP 401: token revoked\n")
    assert (strict.returncode, strict.stderr) == (1, soft.stderr)
    assert len(conductor.requests) == 2


def test_a_server_that_never_answers_is_abandoned_at_the_timeout(tmp_path: Path, conductor: Conductor):
    conductor.hold.clear()
    env = configured(tmp_path, conductor.url, CONDUCTOR_E_TIMEOUT="0.5")

    done = run_hook(["HEARTBEAT", "working"], env, cwd=tmp_path)

    # The request arrived and its answer was still held back when the hook had already exited on its own.
    assert conductor.arrived.is_set() and not conductor.hold.is_set()
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == f"conductor-e-hook: {conductor.url} did not answer within 0.5 s\n"


def test_unconfigured_or_issueless_reports_are_skipped_softly(tmp_path: Path, conductor: Conductor):
    work = git_working_copy(tmp_path / "work", "git@github.com:acme/widgets.git", None)

    unconfigured = run_hook(["HEARTBEAT", "idle"], hook_environment(tmp_path / "home"), cwd=work)
    strict = run_hook(["HEARTBEAT", "idle", "--strict"], hook_environment(tmp_path / "home"), cwd=work)
    on_main = run_hook(["WORK_STARTED"], configured(tmp_path, conductor.url), cwd=work)
    bad_usage = run_hook(["HEARTBEAT", "busy"], configured(tmp_path, conductor.url), cwd=work)

    assert unconfigured.returncode == 0 and strict.returncode == 1
    assert unconfigured.stderr.startswith("conductor-e-hook: not configured: set CONDUCTOR_E_URL and "
                                          "CONDUCTOR_E_TOKEN or write url/token in ")
    assert (on_main.returncode, on_main.stderr) == (
        0, "conductor-e-hook: WORK_STARTED not sent: no issue number: the branch names none (pass --issue N)\n")
    assert bad_usage.returncode == 0 and bad_usage.stderr.count("\n") == 1
    assert conductor.requests == []
