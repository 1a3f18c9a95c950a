"""What the hook reads from remotes, branch names, Claude Code's tool calls and its configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from conductor_e_hook.config import ConfigError, agent_id_of, load
from conductor_e_hook.gitinfo import issue_from_branch, repo_from_remote
from conductor_e_hook.tool_use import ToolUse

from rig_identity.tokens import generate_keypair, mint

TOKEN = mint(generate_keypair()[0], "human:alice", ["events:write"])


@pytest.mark.parametrize(("remote", "repo"), [
    ("https://github.com/acme/widgets.git", "acme/widgets"),
    ("https://github.com/acme/widgets", "acme/widgets"),
    ("https://x-access-token:ghs_abc@github.com/acme/widgets.git", "acme/widgets"),
    ("http://127.0.0.1:8090/acme/widgets.git", "acme/widgets"),
    ("git@github.com:acme/widgets.git", "acme/widgets"),
    ("github.com:acme/widgets", "acme/widgets"),
    ("ssh://git@github.com/acme/widgets.git", "acme/widgets"),
    ("ssh://git@ghe.example.com:2222/acme/widgets.git/", "acme/widgets"),
    ("/srv/git/widgets.git", None),
    ("widgets", None),
])
def test_repo_from_remote(remote: str, repo: str | None):
    assert repo_from_remote(remote) == repo


@pytest.mark.parametrize(("branch", "issue"), [
    ("agent/123-slug", 123),
    ("123-fix", 123),
    ("123", 123),
    ("issue-123", 123),
    ("issue_123-login", 123),
    ("issues/123", 123),
    ("gh-77", 77),
    ("feature/123-add-login", 123),
    ("alice/release/2/45_fix", 45),
    ("main", None),
    ("feature/login", None),
    ("v2-rewrite", None),
    ("0-zero", None),
])
def test_issue_from_branch(branch: str, issue: int | None):
    assert issue_from_branch(branch) == issue


def bash(command: str, stdout: str = "") -> ToolUse:
    use = ToolUse.from_hook_input({"tool_name": "Bash", "tool_input": {"command": command},
                                   "tool_response": {"stdout": stdout, "stderr": ""}, "cwd": "/w"})
    assert use is not None
    return use


@pytest.mark.parametrize(("command", "pushed"), [
    ("git push", True),
    ("git push -u origin HEAD", True),
    ("cd repo && /usr/bin/git -C sub -c push.default=current push", True),
    ("npm test; git push --force-with-lease 2>&1 | tail -1", True),
    ("git commit -m 'push it'", False),
    ("echo git push", False),
    ("git stash push", False),
    ("gitpush", False),
])
def test_a_push_is_a_git_push_command_and_nothing_that_mentions_one(command: str, pushed: bool):
    assert bash(command).pushed() is pushed


def test_a_new_pr_needs_gh_pr_create_and_its_url_in_the_output():
    created = bash('gh pr create --fill --body "Fixes #12"', "https://github.com/acme/widgets/pull/34\n").opened_pr()
    listed = bash("gh pr list", "https://github.com/acme/widgets/pull/34\n").opened_pr()
    failed = bash("gh pr create --fill", "a pull request for branch already exists\n").opened_pr()

    assert created is not None
    assert (created.repo, created.number, created.url, created.closes) == (
        "acme/widgets", 34, "https://github.com/acme/widgets/pull/34", 12)
    assert (listed, failed) == (None, None)


@pytest.mark.parametrize("payload", [
    {"tool_name": "Edit", "tool_input": {"file_path": "x"}},
    {"tool_name": "Bash", "tool_input": "ls"},
    {"tool_name": "Bash"},
    ["not", "an", "object"],
])
def test_other_tools_and_unknown_shapes_mean_nothing(payload: object):
    assert ToolUse.from_hook_input(payload) is None


def test_agent_id_is_the_token_subjects_name():
    assert agent_id_of(TOKEN) == "alice"
    assert agent_id_of("not-a-jwt") is None


def test_flags_beat_the_environment_which_beats_the_file(tmp_path: Path):
    file = tmp_path / "c.toml"
    file.write_text(f'url = "http://file:1"\ntoken = "{TOKEN}"\nagent_id = "from-file"\ntimeout = 3\n')
    env = {"CONDUCTOR_E_URL": "http://env:2/", "CONDUCTOR_E_TIMEOUT": "1.5"}

    from_file = load({}, config_path=file)
    from_env = load(env, config_path=file)
    from_flags = load(env, config_path=file, url="http://flag:3", agent_id="flag", timeout=0.25)

    assert (from_file.url, from_file.agent_id, from_file.timeout) == ("http://file:1", "from-file", 3.0)
    assert (from_env.url, from_env.agent_id, from_env.timeout) == ("http://env:2", "from-file", 1.5)
    assert (from_flags.events_url, from_flags.agent_id, from_flags.timeout) == (
        "http://flag:3/api/events", "flag", 0.25)


@pytest.mark.parametrize(("content", "env", "message"), [
    ("", {}, "not configured: set CONDUCTOR_E_URL and CONDUCTOR_E_TOKEN"),
    ('url = "ftp://x"\ntoken = "t"', {}, "must start with http:// or https://"),
    ('url = "http://x"\ntoken = "opaque"', {}, "cannot tell the agent id from the token"),
    ('url = "http://x"\ntoken = ', {}, "is not valid TOML"),
    ('url = "http://x"\ntoken = "t"\nagent_id = "a"', {"CONDUCTOR_E_TIMEOUT": "soon"}, "must be a number"),
    ('url = 5\ntoken = "t"', {}, "`url` in"),
])
def test_bad_configuration_says_what_to_fix(tmp_path: Path, content: str, env: dict[str, str], message: str):
    file = tmp_path / "c.toml"
    file.write_text(content)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load(env, config_path=file)
