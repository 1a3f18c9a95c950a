"""The workloads' sandbox (rig_providers.sandbox): the real Claude Code CLI's own tool use sees no secret of the
process that started it, and that process can be made non-dumpable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from providers_support import git_repo, run_to_end

from rig_providers import ClaudeOptions, ClaudeProvider, RunRequest, StopReason
from rig_providers.sandbox import Jail, Sandbox, SandboxUnavailableError
from rig_testing.coding_clis import CodingClis
from rig_testing.fake_anthropic import FakeAnthropic
from rig_testing.model_script import Say, Shell

API_KEY = "sk-ant-api03-the-providers-own-model-key"
AGENT_SECRETS = {
    "RIG_AGENT_TOKEN": "eyJhbGciOiJFZERTQSJ9.agent-token-never-to-be-seen.signature",
    "RIG_AGENT_REDIS_URL": "redis://agent-dev-e-node:valkey-password-never-seen@127.0.0.1:6379",
    "RIG_DATABASE_URL": "postgresql://rig:database-password-never-seen@127.0.0.1:5432/rig",
    "RIG_TOKEN_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nsigning-key-body-never-seen\n-----END PRIVATE KEY-----",
    "OPENAI_API_KEY": "sk-proj-another-providers-key-never-seen",
}


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_claude_codes_bash_tool_sees_no_secret_but_its_own_model_key(
        coding_clis: CodingClis, fake_anthropic: FakeAnthropic, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AGENT_SECRETS.items():  # this test process plays the agent holding them
        monkeypatch.setenv(name, value)
    key_file = tmp_path / "data" / "keys" / "private.pem"
    key_file.parent.mkdir(parents=True)
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nkey-file-body-never-seen\n-----END PRIVATE KEY-----\n")
    key_file.chmod(0o600)
    repo = git_repo(tmp_path / "repo")
    command = (f"cat /proc/$PPID/environ | tr '\\0' '\\n'; env; cat /proc/{os.getpid()}/environ;"
               " for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done;"
               f" cat {key_file}; ls -la {key_file.parent}; echo finished-looking")
    fake_anthropic.script = [Shell(command), Say("Looked around.")]
    provider = ClaudeProvider(ClaudeOptions(executable=str(coding_clis.claude), config_dir=tmp_path / "claude",
                                            base_url=fake_anthropic.url),
                              sandbox=Sandbox.detect(required=True))

    _, result = await run_to_end(provider, RunRequest("Look around", repo, model="claude-sonnet-4-5",
                                                      secrets={"ANTHROPIC_API_KEY": API_KEY}))

    assert result.stop_reason is StopReason.COMPLETED and not result.is_error
    seen = tool_output(fake_anthropic)
    assert "finished-looking" in seen and "PATH=" in seen, seen  # the command did run, in full
    fragments = ["agent-token-never", "valkey-password-never", "database-password-never", "signing-key-body-never",
                 "another-providers-key", "key-file-body-never", "RIG_"]
    assert [fragment for fragment in fragments if fragment in seen] == [], seen
    assert {h.get("x-api-key") for h in fake_anthropic.headers} == {API_KEY}  # its own key still works


def tool_output(fake: FakeAnthropic) -> str:
    """Every tool result the CLI sent back to the model: what the model's command saw, unredacted."""
    texts: list[str] = []
    for body in fake.requests:
        for message in body.get("messages", []):
            for block in message.get("content") if isinstance(message.get("content"), list) else []:
                if block.get("type") == "tool_result":
                    content = block.get("content")
                    texts += [content] if isinstance(content, str) else [c.get("text", "") for c in content or []]
    return "\n".join(texts)


def test_a_sandboxed_command_sees_only_its_workspace_and_environment(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the workspace")
    workspace = git_repo(tmp_path / "ws")
    argv, env = Sandbox.detect(required=True).wrap(
        ["/bin/sh", "-c", f"cat {secret}; echo mine > mine.txt; echo x > .git/hooks/pre-commit; ls /proc; env"],
        {"PATH": "/usr/bin:/bin", "GIVEN": "yes"}, Jail(workspace))
    done = subprocess.run(argv, env=env, cwd=workspace, capture_output=True, text=True, check=False)
    assert "outside the workspace" not in done.stdout and "No such file" in done.stderr
    assert (workspace / "mine.txt").read_text() == "mine\n"  # the workspace is writable
    assert not (workspace / ".git" / "hooks" / "pre-commit").exists()  # its .git is not
    assert "GIVEN=yes" in done.stdout and "RIG_" not in done.stdout and "HOME=/tmp/home" in done.stdout
    pids = [line for line in done.stdout.splitlines() if line.isdigit()]
    assert len(pids) <= 3, pids  # the sandbox's init, the shell and ls: nothing of the machine


def test_without_bubblewrap_outside_development_the_agent_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxUnavailableError, match="apt-get install -y bubblewrap"):
        Sandbox.detect(required=True)
    assert Sandbox.detect(required=False).bwrap is None  # development: unsandboxed, with a warning


def test_a_bubblewrap_that_cannot_start_a_sandbox_fails_the_check_saying_why(tmp_path: Path) -> None:
    Sandbox.detect(required=True).check()  # it works on this machine
    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(SandboxUnavailableError, match="No permissions to create new namespace"):
        Sandbox(str(broken)).check()


def test_the_agent_can_make_itself_non_dumpable() -> None:
    code = ("import ctypes; from rig_providers.sandbox import make_undumpable; assert make_undumpable();"
            " print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")  # PR_GET_DUMPABLE
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"
