"""Our hooks in Claude Code's `settings.json`, merged with whatever else is there.

Claude Code's shape: `{"hooks": {EventName: [{"matcher": …, "hooks": [{"type": "command", "command": …}]}]}}`.
We add one matcher group of our own per event and recognise ours by the program the command runs, so a second
install changes nothing and an uninstall leaves every other key and hook exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROGRAM = "conductor-e-hook"
HOOK_TIMEOUT = 10
"""Seconds Claude Code gives one of our hooks before it cancels it: a backstop behind the hook's own 2 s budget."""

OUR_HOOKS: tuple[tuple[str, str | None, str], ...] = (
    # SessionStart's matcher is the session's source: not on `clear` or `compact`, which continue the same work.
    ("SessionStart", "startup|resume", "WORK_STARTED"),
    ("UserPromptSubmit", None, "HEARTBEAT working"),
    ("Stop", None, "HEARTBEAT idle"),
    ("PostToolUse", "Bash", "post-tool-use"),
)
"""(event, matcher or None for events without one, arguments) of each hook we install."""

BACKUP_SUFFIX = ".conductor-e-hook.bak"


class SettingsError(Exception):
    """The settings file cannot be merged safely (unreadable, not JSON, an unexpected shape); nothing was written."""


def settings_path(env: Mapping[str, str], explicit: Path | None = None) -> Path:
    """`--settings`, else `$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`."""
    if explicit is not None:
        return explicit.expanduser()
    if env.get("CLAUDE_CONFIG_DIR"):
        return Path(env["CLAUDE_CONFIG_DIR"]).expanduser() / "settings.json"
    return Path.home() / ".claude" / "settings.json"


def is_ours(hook: Any) -> bool:
    """Whether a hook entry runs this program (by any path, or as `python -m conductor_e_hook`)."""
    if not isinstance(hook, dict) or not isinstance(hook.get("command"), str):
        return False
    try:
        words = shlex.split(hook["command"])
    except ValueError:
        return False
    return any(word.rsplit("/", 1)[-1] == PROGRAM or word == "conductor_e_hook" for word in words[:3])


def without_ours(settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of `settings` with our hooks taken out, and any group or event they alone filled."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return dict(settings)
    kept_events: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            kept_events[event] = groups
            continue
        kept_groups = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(inner, list) or not any(is_ours(hook) for hook in inner):
                kept_groups.append(group)
                continue
            others = [hook for hook in inner if not is_ours(hook)]
            if others:
                kept_groups.append({**group, "hooks": others})
        if kept_groups or not groups:
            kept_events[event] = kept_groups
    result = dict(settings)
    if kept_events or not hooks:
        result["hooks"] = kept_events
    else:
        del result["hooks"]
    return result


def with_ours(settings: dict[str, Any], program: str = PROGRAM) -> dict[str, Any]:
    """`settings` with exactly one copy of each of our hooks, run as `program` (a name on PATH or a path)."""
    result = without_ours(settings)
    hooks = result.get("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f"`hooks` is a {type(hooks).__name__}, not an object: fix it by hand first")
    hooks = dict(hooks)
    for event, matcher, arguments in OUR_HOOKS:
        groups = hooks.get(event, [])
        if not isinstance(groups, list):
            raise SettingsError(f"`hooks.{event}` is a {type(groups).__name__}, not a list: fix it by hand first")
        group: dict[str, Any] = {} if matcher is None else {"matcher": matcher}
        group["hooks"] = [{"type": "command", "command": f"{shlex.quote(program)} {arguments}",
                           "timeout": HOOK_TIMEOUT}]
        hooks[event] = [*groups, group]
    result["hooks"] = hooks
    return result


def read(path: Path) -> dict[str, Any]:
    """The settings object in `path`, or an empty one when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise SettingsError(f"cannot read {path}: {error.strerror}") from error
    if not text.strip():
        return {}
    try:
        settings = json.loads(text)
    except ValueError as error:
        raise SettingsError(f"{path} is not valid JSON ({error}); nothing was changed") from error
    if not isinstance(settings, dict):
        raise SettingsError(f"{path} holds a JSON {type(settings).__name__}, not an object; nothing was changed")
    return settings


def write(path: Path, settings: dict[str, Any]) -> Path | None:
    """Replace the file atomically with `settings`, after copying the old one aside; return the backup's path.

    A symlinked settings file (dotfile managers do that) is written through, so the link survives.
    """
    target = path.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    backup: Path | None = None
    mode = 0o644
    if target.exists():
        backup = target.with_name(target.name + BACKUP_SUFFIX)
        shutil.copy2(target, backup)
        mode = target.stat().st_mode & 0o7777
    text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return backup


def change(path: Path, install: bool, program: str = PROGRAM) -> tuple[bool, Path | None]:
    """Install or uninstall our hooks in the file at `path`: (whether it changed, the backup written)."""
    current = read(path)
    wanted = with_ours(current, program) if install else without_ours(current)
    if wanted == current:
        return False, None
    return True, write(path, wanted)
