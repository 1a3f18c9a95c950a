"""`rig sandbox`: drive the sandbox (the GitHub stand-in) as a person would, through its `/_sandbox` endpoints.

Create a repository from a folder, open issues, add or remove labels, push commits, report check runs and
statuses, and look at the webhooks it sent. The sandbox is found at RIG_SANDBOX_URL (default
http://127.0.0.1:8090); every action sends the same webhooks GitHub would.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click
import httpx
from rich.table import Table

from rig_cli import bootstrap

CHECK_RESULTS = ("success", "failure", "neutral", "cancelled", "timed_out", "action_required", "skipped",
                 "in_progress", "queued")
STATUS_STATES = ("success", "failure", "error", "pending")
_SKIPPED_FOLDERS = {".git", "node_modules", "__pycache__", ".venv"}


def _call(method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
    """Call the sandbox; its refusals and an unreachable sandbox become messages with what to do."""
    settings = bootstrap.load_settings()
    url = settings.sandbox_url.rstrip("/")
    try:
        answer = httpx.request(method, f"{url}{path}", json=body, params=params, timeout=settings.http_timeout_s)
    except httpx.HTTPError as error:
        raise click.ClickException(f"cannot reach the sandbox at {url} ({error}): start it with `make run` (or "
                                   "`python -m rig_service.serve sandbox`), or set RIG_SANDBOX_URL") from error
    if answer.status_code >= 400:
        raise click.ClickException(f"the sandbox refused {method} {path} ({answer.status_code}): {_reason(answer)}")
    return answer.json() if answer.content else None


def _reason(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text.strip() or answer.reason_phrase
    errors = body.get("errors") if isinstance(body, dict) else None
    message = body.get("message", "") if isinstance(body, dict) else str(body)
    details = "; ".join(e.get("message") or f"{e.get('field')} {e.get('code')}" if isinstance(e, dict) else str(e)
                        for e in errors or [])
    return f"{message} ({details})" if details else message


def _repo_path(full_name: str) -> str:
    owner, sep, name = full_name.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise click.BadParameter(f"{full_name!r} is not OWNER/NAME")
    return f"/_sandbox/repos/{owner}/{name}"


def _file_content(data: bytes) -> str | dict[str, str]:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


def _files_of(folder: Path) -> dict[str, str | dict[str, str]]:
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not _SKIPPED_FOLDERS.intersection(relative.parts):
            files[relative.as_posix()] = _file_content(path.read_bytes())
    return files


def _pairs(values: tuple[str, ...], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        left, sep, right = value.partition("=")
        if not sep or not left:
            raise click.BadParameter(f"{value!r} is not REPO_PATH=VALUE", param_hint=option)
        pairs.append((left, right))
    return pairs


def _done(data: Any, as_json: bool, line: str) -> None:
    if as_json:
        bootstrap.print_json(data)
    else:
        bootstrap.stdout().print(line)


json_option = click.option("--json", "as_json", is_flag=True, help="Print the sandbox's JSON answer.")


@click.group("sandbox")
def sandbox() -> None:
    """The sandbox, a GitHub stand-in: repositories, issues, labels, pushes, checks and webhooks (RIG_SANDBOX_URL)."""


@sandbox.command("apps")
@json_option
def apps_command(as_json: bool) -> None:
    """The sandbox's GitHub Apps (one per role) and where their private keys are."""
    apps = _call("GET", "/_sandbox/apps")
    if as_json:
        bootstrap.print_json(apps)
        return
    table = Table(title="Sandbox GitHub Apps")
    for column in ("role", "id", "slug", "installation", "private key"):
        table.add_column(column, overflow="fold")
    for app in apps:
        table.add_row(app["role"], str(app["id"]), app["slug"], str(app["installation_id"]), app["key_path"])
    bootstrap.stdout().print(table)


@sandbox.group("repo")
def repo() -> None:
    """Repositories of the sandbox."""


@repo.command("create")
@click.argument("full_name", metavar="OWNER/NAME")
@click.option("--from", "folder", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder whose files make the first commit (.git and node_modules are left out).")
@click.option("--branch", default="main", show_default=True, help="The default branch.")
@click.option("--description", help="The repository's description.")
@click.option("--require-review", is_flag=True, help="Block merges until someone other than the author approves.")
@json_option
def repo_create(full_name: str, folder: Path, branch: str, description: str | None, require_review: bool,
                as_json: bool) -> None:
    """Create OWNER/NAME from the files of a folder, in one first commit."""
    _repo_path(full_name)
    files = _files_of(folder)
    if not files:
        raise click.ClickException(f"{folder} holds no files: a repository starts with at least one")
    owner, name = full_name.split("/")
    body = {"owner": owner, "name": name, "files": files, "default_branch": branch, "description": description,
            "require_review": require_review}
    created = _call("POST", "/_sandbox/repos", body)
    _done(created, as_json, f"created {full_name} with {len(files)} file(s); clone {created['clone_url']}")


@repo.command("list")
@json_option
def repo_list(as_json: bool) -> None:
    """List the repositories with their clone URLs."""
    repos = _call("GET", "/_sandbox/repos")
    lines = "\n".join(f"{r['full_name']}  {r['clone_url']}" for r in repos) or "no repositories"
    _done(repos, as_json, lines)


@sandbox.group("issue")
def issue() -> None:
    """Issues of sandbox repositories."""


@issue.command("open")
@click.argument("full_name", metavar="OWNER/NAME")
@click.option("--title", required=True, help="The issue's title.")
@click.option("--body", help="The issue's text.")
@click.option("--label", "labels", multiple=True, help="A label to put on it (repeat for more).")
@click.option("--author", default="maintainer", show_default=True, help="The sandbox user who opens it.")
@json_option
def issue_open(full_name: str, title: str, body: str | None, labels: tuple[str, ...], author: str,
               as_json: bool) -> None:
    """Open an issue (sends `issues.opened`, and `issues.labeled` per label)."""
    opened = _call("POST", f"{_repo_path(full_name)}/issues",
                   {"title": title, "body": body, "labels": list(labels), "author": author})
    _done(opened, as_json, f"opened {full_name}#{opened['number']}: {opened['html_url']}")


@sandbox.group("label")
def label() -> None:
    """Labels on issues and pull requests (`agent-ready` starts the work)."""


@label.command("add")
@click.argument("full_name", metavar="OWNER/NAME")
@click.argument("number", type=click.IntRange(min=1))
@click.argument("labels", nargs=-1, required=True)
@click.option("--author", default="maintainer", show_default=True, help="The sandbox user who labels.")
@json_option
def label_add(full_name: str, number: int, labels: tuple[str, ...], author: str, as_json: bool) -> None:
    """Add labels to issue or pull request NUMBER (sends one `labeled` event per new label)."""
    now = _call("POST", f"{_repo_path(full_name)}/issues/{number}/labels", {"labels": list(labels), "author": author})
    _done(now, as_json, f"{full_name}#{number} labels: {', '.join(x['name'] for x in now) or '(none)'}")


@label.command("remove")
@click.argument("full_name", metavar="OWNER/NAME")
@click.argument("number", type=click.IntRange(min=1))
@click.argument("name")
@click.option("--author", default="maintainer", show_default=True, help="The sandbox user who unlabels.")
@json_option
def label_remove(full_name: str, number: int, name: str, author: str, as_json: bool) -> None:
    """Remove label NAME from issue or pull request NUMBER (sends `unlabeled`)."""
    now = _call("DELETE", f"{_repo_path(full_name)}/issues/{number}/labels/{name}", params={"author": author})
    _done(now, as_json, f"{full_name}#{number} labels: {', '.join(x['name'] for x in now) or '(none)'}")


@sandbox.command("push")
@click.argument("full_name", metavar="OWNER/NAME")
@click.argument("branch")
@click.option("--file", "files", multiple=True, metavar="PATH=LOCAL_FILE", help="Set PATH to a local file's bytes.")
@click.option("--text", "texts", multiple=True, metavar="PATH=TEXT", help="Set PATH to TEXT.")
@click.option("--delete", "deletions", multiple=True, metavar="PATH", help="Delete PATH.")
@click.option("-m", "--message", default="Update files", show_default=True, help="The commit message.")
@click.option("--from", "start_from", help="Where a new branch starts (default: the default branch).")
@click.option("--author", default="maintainer", show_default=True, help="The sandbox user who pushes.")
@json_option
def push_command(full_name: str, branch: str, files: tuple[str, ...], texts: tuple[str, ...],
                 deletions: tuple[str, ...], message: str, start_from: str | None, author: str, as_json: bool) -> None:
    """Commit file changes on BRANCH and push them (sends `push`, and `synchronize` to its pull requests)."""
    changes: dict[str, Any] = dict(_pairs(texts, "--text"))
    for path, local in _pairs(files, "--file"):
        if not Path(local).is_file():
            raise click.BadParameter(f"{local} is not a file", param_hint="--file")
        changes[path] = _file_content(Path(local).read_bytes())
    changes |= dict.fromkeys(deletions)
    if not changes:
        raise click.UsageError("say what to change with --file, --text or --delete")
    body = {"branch": branch, "files": changes, "message": message, "from": start_from, "author": author}
    pushed = _call("POST", f"{_repo_path(full_name)}/commits", body)
    _done(pushed, as_json, f"pushed {pushed['sha'][:12]} to {full_name}:{branch}")


@sandbox.group("check")
def check() -> None:
    """Check runs, as CI reports them."""


@check.command("set")
@click.argument("full_name", metavar="OWNER/NAME")
@click.argument("ref")
@click.argument("name")
@click.argument("result", type=click.Choice(CHECK_RESULTS))
@click.option("--app", type=click.Choice(["conductor", "dev", "review"]), default="conductor", show_default=True,
              help="The App that reports it.")
@click.option("--summary", help="The check's summary.")
@json_option
def check_set(full_name: str, ref: str, name: str, result: str, app: str, summary: str | None,
              as_json: bool) -> None:
    """Report check run NAME on REF (a branch or sha) as RESULT: a conclusion, or in_progress / queued."""
    body: dict[str, Any] = {"ref": ref, "name": name, "app": app, "summary": summary}
    body |= {"status": result} if result in ("in_progress", "queued") else {"conclusion": result}
    run = _call("POST", f"{_repo_path(full_name)}/check-runs", body)
    _done(run, as_json, f"check {name} on {run['head_sha'][:12]}: {run['conclusion'] or run['status']}")


@sandbox.group("status")
def status_group() -> None:
    """Commit statuses."""


@status_group.command("set")
@click.argument("full_name", metavar="OWNER/NAME")
@click.argument("ref")
@click.argument("state", type=click.Choice(STATUS_STATES))
@click.option("--context", default="default", show_default=True, help="What the status is about.")
@click.option("--description", help="A short description.")
@click.option("--target-url", help="Where the details are.")
@json_option
def status_set(full_name: str, ref: str, state: str, context: str, description: str | None,
               target_url: str | None, as_json: bool) -> None:
    """Set the commit status CONTEXT of REF (a branch or sha) to STATE (sends `status`)."""
    body = {"ref": ref, "state": state, "context": context, "description": description, "target_url": target_url}
    created = _call("POST", f"{_repo_path(full_name)}/statuses", body)
    _done(created, as_json, f"status {context} on {ref}: {state}")


@sandbox.command("deliveries")
@json_option
def deliveries_command(as_json: bool) -> None:
    """The latest webhook deliveries (newest first) with their outcome."""
    found = _call("GET", "/_sandbox/deliveries")
    if as_json:
        bootstrap.print_json(found)
        return
    if not found:
        bootstrap.stdout().print("No deliveries yet.")
        return
    table = Table(title="Sandbox webhook deliveries")
    for column in ("id", "event", "status", "code", "at", "redelivery"):
        table.add_column(column, overflow="fold")
    for row in found:
        event = f"{row['event']}.{row['action']}" if row.get("action") else row["event"]
        table.add_row(str(row["id"]), event, row["status"], str(row["status_code"]), row.get("delivered_at") or "",
                      "yes" if row.get("redelivery") else "")
    bootstrap.stdout().print(table)
