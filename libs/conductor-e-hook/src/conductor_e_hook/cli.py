"""The `conductor-e-hook` command: report an event, react to a Claude Code tool call, or (un)install the hooks.

Reporting fails soft: whatever goes wrong (no configuration, no network, a refusal, a bug) costs one line on
stderr and exit status 0, because the person's tool waits for this command and must never fail through it.
`--strict` makes failures exit 1 for scripts (never 2, which Claude Code reads as "block this step").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from conductor_e_hook import __version__, claude_settings
from conductor_e_hook.config import (
    AGENT_ID_VARIABLE,
    CONFIG_VARIABLE,
    TIMEOUT_VARIABLE,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    ConfigError,
    environment,
    load,
)
from conductor_e_hook.gitinfo import WorkingCopy, read_working_copy
from conductor_e_hook.report import HEARTBEAT_STATUSES, Report, ReportError, send
from conductor_e_hook.tool_use import ToolUse

PROGRAM = claude_settings.PROGRAM
FAILED = 1
_SETUP_COMMANDS = ("install", "uninstall")


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error in a reporting command is soft too (argparse would exit 2)."""

    def error(self, message: str) -> NoReturn:
        argv = sys.argv[1:]
        hard = "--strict" in argv or bool(set(argv) & set(_SETUP_COMMANDS))
        if hard:
            self.print_usage(sys.stderr)
        print(f"{PROGRAM}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(FAILED if hard else 0)


def _say(message: str) -> None:
    print(f"{PROGRAM}: {message}", file=sys.stderr)


def _report_options() -> _Parser:
    common = _Parser(add_help=False)
    where = common.add_argument_group("what the report is about (inferred from git where not given)")
    where.add_argument("--repo", help="owner/name (default: from the `origin` remote)")
    where.add_argument("--issue", type=int, help="issue number (default: from the branch, e.g. agent/123-slug)")
    where.add_argument("--branch", help="branch name (default: the checked-out branch)")
    where.add_argument("--cwd", type=Path, help="the working copy to look at (default: the current directory)")
    how = common.add_argument_group("where to report")
    how.add_argument("--config", type=Path, help=f"TOML file with url, token, agent_id, timeout (${CONFIG_VARIABLE})")
    how.add_argument("--conductor-url", dest="url",
                     help=f"conductor base URL (${URL_VARIABLE}); the token only ever comes from "
                          f"${TOKEN_VARIABLE} or the file, never a flag, so it stays out of `ps`")
    how.add_argument("--agent-id", help=f"agentId to send (${AGENT_ID_VARIABLE}; default: the token's subject name)")
    how.add_argument("--timeout", type=float, help=f"seconds for the whole post (${TIMEOUT_VARIABLE}; default 2)")
    how.add_argument("--strict", action="store_true", help="exit 1 when the report fails (default: exit 0)")
    how.add_argument("--dry-run", action="store_true", help="print the JSON body instead of sending it")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The command line; each reporting command takes the common options after its name."""
    parser = _Parser(prog=PROGRAM, description="Report your AI coding sessions into rig-conductor's event log.")
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_report_options()]
    commands.add_parser("WORK_STARTED", parents=common, help="you began working on the branch's issue")
    heartbeat = commands.add_parser("HEARTBEAT", parents=common, help="you are working or idle")
    heartbeat.add_argument("status", choices=HEARTBEAT_STATUSES)
    pr = commands.add_parser("PR_CREATED", parents=common, help="you opened a PR (shown, not routed on)")
    pr.add_argument("--pr", type=int, required=True, help="the PR's number")
    pr.add_argument("--url", dest="pr_url", required=True, help="the PR's web address")
    stuck = commands.add_parser("AGENT_STUCK", parents=common, help="you cannot go on without help")
    stuck.add_argument("--reason", required=True, help="what is in the way")
    commands.add_parser("post-tool-use", parents=common,
                        help="read Claude Code's PostToolUse input on stdin; report a git push or a new PR")
    for name, verb in (("install", "add"), ("uninstall", "remove")):
        setup = commands.add_parser(name, help=f"{verb} this command's hooks in Claude Code's settings.json")
        setup.add_argument("--settings", type=Path,
                           help="settings file (default: $CLAUDE_CONFIG_DIR/settings.json or ~/.claude/settings.json)")
        if name == "install":
            setup.add_argument("--command", dest="program", default=PROGRAM,
                               help="how Claude Code should run this program (default: from PATH)")
    return parser


def _report_for(args: argparse.Namespace, copy: WorkingCopy) -> Report | None:
    """The report a command line asks for, given what git says; None when there is nothing to report."""
    repo = args.repo or copy.repo
    issue = args.issue or copy.issue_number
    branch = args.branch or copy.branch
    if args.command == "WORK_STARTED":
        return Report("WORK_STARTED", repo, issue, {"branch": branch})
    if args.command == "HEARTBEAT":
        return Report("HEARTBEAT", repo, issue, {"status": args.status})
    if args.command == "PR_CREATED":
        return Report("PR_CREATED", repo, issue, {"prNumber": args.pr, "prUrl": args.pr_url, "branch": branch})
    if args.command == "AGENT_STUCK":
        return Report("AGENT_STUCK", repo, issue, {"reason": args.reason})
    return _report_for_tool_use(args, repo, issue, branch)


def _report_for_tool_use(args: argparse.Namespace, repo: str | None, issue: int | None,
                         branch: str | None) -> Report | None:
    use = args.tool_use
    if use is None:
        return None
    pr = use.opened_pr()
    if pr is not None:
        return Report("PR_CREATED", args.repo or pr.repo, issue or pr.closes,
                      {"prNumber": pr.number, "prUrl": pr.url, "branch": branch})
    if use.pushed():
        return Report("HEARTBEAT", repo, issue, {"status": "working"})
    return None


def _read_tool_use(args: argparse.Namespace) -> None:
    """Attach the Bash call from stdin (and take its cwd) so the report can be built like any other."""
    if sys.stdin.isatty():
        raise ReportError("post-tool-use reads Claude Code's hook input on stdin; nothing was piped in")
    try:
        payload = json.loads(sys.stdin.read())
    except ValueError as error:
        raise ReportError(f"hook input on stdin is not JSON ({error})") from None
    args.tool_use = ToolUse.from_hook_input(payload)
    if args.cwd is None and args.tool_use is not None and args.tool_use.cwd:
        args.cwd = Path(args.tool_use.cwd)


def _report(args: argparse.Namespace) -> int:
    env = environment()
    if args.command == "post-tool-use":
        _read_tool_use(args)
        if args.tool_use is None:
            return 0
    copy = read_working_copy(args.cwd or Path.cwd())
    report = _report_for(args, copy)
    if report is None:
        return 0
    reason = report.missing()
    if reason is not None:
        raise ReportError(f"{report.type} not sent: {reason}")
    try:
        config = load(env, config_path=args.config, url=args.url, agent_id=args.agent_id, timeout=args.timeout)
    except ConfigError:
        if not args.dry_run:
            raise
        config = None
    agent_id = config.agent_id if config else (args.agent_id or "(unconfigured)")
    body = report.body(agent_id)
    if args.dry_run or config is None:
        print(json.dumps(body, indent=2))
        return 0
    send(config, body)
    return 0


def _setup(args: argparse.Namespace) -> int:
    path = claude_settings.settings_path(environment(), args.settings)
    install = args.command == "install"
    try:
        changed, backup = claude_settings.change(path, install, getattr(args, "program", PROGRAM))
    except (claude_settings.SettingsError, OSError) as error:
        _say(str(error))
        return FAILED
    if not changed:
        print(f"{path}: already {'has' if install else 'has none of'} the {PROGRAM} hooks; nothing to do")
    else:
        print(f"{path}: {'added' if install else 'removed'} the {PROGRAM} hooks"
              + (f" (previous version kept in {backup})" if backup else ""))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command in _SETUP_COMMANDS:
        return _setup(args)
    try:
        return _report(args)
    except (ReportError, ConfigError) as error:
        _say(str(error))
    except Exception as error:  # a bug here must still not fail the person's tool
        _say(f"internal error, report not sent: {type(error).__name__}: {error}")
    return FAILED if args.strict else 0
