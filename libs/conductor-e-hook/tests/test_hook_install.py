"""`conductor-e-hook install|uninstall` on real settings files, run as the person would run it."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from hook_support import hook_environment, run_hook

# A settings file as people have them: permissions, env, a status line, and hooks of their own on the same events.
EXISTING: dict[str, Any] = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "model": "claude-sonnet-4-5",
    "permissions": {"allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"], "deny": ["Read(./.env)"]},
    "env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "0"},
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh"},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/guard-rm.sh"}]}],
        "PostToolUse": [
            {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "npx prettier --write \"$FILE\""}]},
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/log-bash.sh", "timeout": 5}]},
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send 'Claude is done'"}]}],
    },
    "includeCoAuthoredBy": False,
}

OURS = {
    "SessionStart": ("startup|resume", "conductor-e-hook WORK_STARTED"),
    "UserPromptSubmit": (None, "conductor-e-hook HEARTBEAT working"),
    "Stop": (None, "conductor-e-hook HEARTBEAT idle"),
    "PostToolUse": ("Bash", "conductor-e-hook post-tool-use"),
}


def assert_claude_code_shape(settings: dict[str, Any]) -> None:
    """Claude Code's nested shape: event → list of {matcher?, hooks: [{type: command, command, timeout?}]}."""
    assert isinstance(settings["hooks"], dict)
    for groups in settings["hooks"].values():
        assert isinstance(groups, list)
        for group in groups:
            assert set(group) <= {"matcher", "hooks"} and isinstance(group.get("matcher", ""), str)
            for hook in group["hooks"]:
                assert set(hook) <= {"type", "command", "timeout"} and hook["type"] == "command"
                assert isinstance(hook["command"], str) and hook["command"]


def ours_in(settings: dict[str, Any]) -> dict[str, list[tuple[str | None, str, int]]]:
    """Every hook group that runs conductor-e-hook, by event: (matcher, command, timeout)."""
    found: dict[str, list[tuple[str | None, str, int]]] = {}
    for event, groups in settings.get("hooks", {}).items():
        for group in groups:
            for hook in group["hooks"]:
                if "conductor-e-hook" in hook["command"]:
                    found.setdefault(event, []).append((group.get("matcher"), hook["command"], hook["timeout"]))
    return found


def test_install_twice_adds_our_hooks_once_and_keeps_everything_else(tmp_path: Path):
    settings = tmp_path / "claude" / "settings.json"
    settings.parent.mkdir()
    original_text = json.dumps(EXISTING, indent=4)
    settings.write_text(original_text)
    env = hook_environment(tmp_path / "home")

    first = run_hook(["install", "--settings", str(settings)], env, cwd=tmp_path)
    after_first = settings.read_text()
    second = run_hook(["install", "--settings", str(settings)], env, cwd=tmp_path)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert "added" in first.stdout and "nothing to do" in second.stdout
    assert settings.read_text() == after_first
    result = json.loads(after_first)
    assert_claude_code_shape(result)
    assert ours_in(result) == {event: [(matcher, command, 10)] for event, (matcher, command) in OURS.items()}
    # Every other key as it was, and every existing hook group still first in its event, untouched.
    assert {k: v for k, v in result.items() if k != "hooks"} == {k: v for k, v in EXISTING.items() if k != "hooks"}
    for event, groups in EXISTING["hooks"].items():
        assert result["hooks"][event][: len(groups)] == groups
    backup = settings.with_name("settings.json.conductor-e-hook.bak")
    assert backup.read_text() == original_text


def test_uninstall_removes_only_ours(tmp_path: Path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(EXISTING))
    env = hook_environment(tmp_path / "home")

    run_hook(["install", "--settings", str(settings)], env, cwd=tmp_path)
    removed = run_hook(["uninstall", "--settings", str(settings)], env, cwd=tmp_path)
    again = run_hook(["uninstall", "--settings", str(settings)], env, cwd=tmp_path)

    assert (removed.returncode, again.returncode) == (0, 0)
    assert "removed" in removed.stdout and "nothing to do" in again.stdout
    assert json.loads(settings.read_text()) == EXISTING


def test_claude_config_dir_is_honoured_and_a_missing_file_is_created(tmp_path: Path):
    config_dir = tmp_path / "claude-config"
    env = hook_environment(tmp_path / "home", CLAUDE_CONFIG_DIR=str(config_dir))

    done = run_hook(["install", "--command", "/opt/my tools/conductor-e-hook"], env, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    result = json.loads((config_dir / "settings.json").read_text())
    assert_claude_code_shape(result)
    assert set(result) == {"hooks"}
    assert result["hooks"]["Stop"] == [{"hooks": [
        {"type": "command", "command": "'/opt/my tools/conductor-e-hook' HEARTBEAT idle", "timeout": 10}]}]
    assert not (config_dir / "settings.json.conductor-e-hook.bak").exists()
    assert not (tmp_path / "home" / ".claude").exists()


def test_reinstalling_with_another_command_replaces_ours_and_keeps_a_shared_group(tmp_path: Path):
    settings = tmp_path / "settings.json"
    # Someone put our command by hand into a group next to their own hook.
    existing = copy.deepcopy(EXISTING)
    existing["hooks"]["Stop"][0]["hooks"].append({"type": "command", "command": "conductor-e-hook HEARTBEAT idle"})
    settings.write_text(json.dumps(existing))
    env = hook_environment(tmp_path / "home")

    run_hook(["install", "--settings", str(settings), "--command", "/usr/local/bin/conductor-e-hook"], env,
             cwd=tmp_path)
    result = json.loads(settings.read_text())

    assert ours_in(result)["Stop"] == [(None, "/usr/local/bin/conductor-e-hook HEARTBEAT idle", 10)]
    assert result["hooks"]["Stop"][0] == EXISTING["hooks"]["Stop"][0]


def test_a_symlinked_settings_file_stays_a_symlink(tmp_path: Path):
    target = tmp_path / "dotfiles" / "claude-settings.json"
    target.parent.mkdir()
    target.write_text(json.dumps(EXISTING))
    os.chmod(target, 0o600)
    link = tmp_path / "settings.json"
    link.symlink_to(target)

    done = run_hook(["install", "--settings", str(link)], hook_environment(tmp_path / "home"), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and ours_in(json.loads(target.read_text()))
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_file_that_is_not_json_is_left_alone_with_an_error(tmp_path: Path):
    settings = tmp_path / "settings.json"
    settings.write_text('{"model": "x",}')

    done = run_hook(["install", "--settings", str(settings)], hook_environment(tmp_path / "home"), cwd=tmp_path)

    assert done.returncode == 1
    assert done.stderr.startswith(f"conductor-e-hook: {settings} is not valid JSON")
    assert settings.read_text() == '{"model": "x",}'
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no backup, no temporary file left
