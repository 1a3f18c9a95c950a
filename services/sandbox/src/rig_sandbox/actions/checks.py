"""Check runs (grouped in one suite per App and commit) and commit statuses, with their events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rig_sandbox.context import Sandbox
from rig_sandbox.errors import GitHubError, validation_failed
from rig_sandbox.records import Account, AppRecord, CheckRun, CheckSuite, CommitStatus, Repo, now_iso
from rig_sandbox.shapes.checks import check_run_json, check_suite_json, pull_ref_json, status_json
from rig_sandbox.shapes.commits import commit_json
from rig_sandbox.verdicts import suite_outcome

CONCLUSIONS = {"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
STATUS_STATES = {"error", "failure", "pending", "success"}


@dataclass(frozen=True, slots=True)
class NewCheckRun:
    """What a caller asks for when it creates a check run."""

    name: str
    head_sha: str
    status: str | None = None
    conclusion: str | None = None
    details_url: str | None = None
    external_id: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None


async def commit_or_422(sandbox: Sandbox, repo: Repo, sha: str) -> str:
    """The full sha of commit `sha` in `repo`, else 422 `No commit found for SHA`."""
    found = await sandbox.repository(repo).resolve(sha)
    if found is None or not found.startswith(sha.lower()):
        raise GitHubError(422, f"No commit found for SHA: {sha}")
    return found


def pulls_of_commit(sandbox: Sandbox, repo: Repo, sha: str) -> list[dict[str, Any]]:
    """The open pull requests whose head is `sha`, as check runs and suites name them."""
    return [pull_ref_json(sandbox.urls, repo, pull) for number, pull in repo.pulls.items()
            if pull.head_sha == sha and repo.issues[number].state == "open"]


async def run_json(sandbox: Sandbox, repo: Repo, run: CheckRun) -> dict[str, Any]:
    """A check run as GitHub shows it."""
    app = sandbox.app(run.app_role)
    return check_run_json(sandbox.urls, repo, run, sandbox.app_json(app), pulls_of_commit(sandbox, repo, run.head_sha))


async def suite_json(sandbox: Sandbox, repo: Repo, suite: CheckSuite) -> dict[str, Any]:
    """A check suite as GitHub shows it."""
    runs = [run for run in repo.check_runs if run.suite_id == suite.id]
    head = await sandbox.repository(repo).commit(suite.head_sha)
    return check_suite_json(sandbox.urls, repo, suite, runs, sandbox.app_json(sandbox.app(suite.app_role)),
                            sandbox.repo_json(repo), head, pulls_of_commit(sandbox, repo, suite.head_sha))


async def create_check_run(sandbox: Sandbox, repo: Repo, app: AppRecord, sender: Account,
                           wanted: NewCheckRun) -> dict[str, Any]:
    """Create a check run; send `check_run.created`, and `completed` (then `check_suite.completed`) when done."""
    if not wanted.name.strip():
        raise validation_failed("CheckRun", "name", "missing_field")
    head_sha = await commit_or_422(sandbox, repo, wanted.head_sha)
    status = "completed" if wanted.conclusion is not None else (wanted.status or "queued")
    if wanted.conclusion is not None and wanted.conclusion not in CONCLUSIONS:
        raise validation_failed("CheckRun", "conclusion", "invalid")
    if status == "completed" and wanted.conclusion is None:
        raise GitHubError(422, "Invalid request.\n\nNo conclusion given for a completed check run.")
    if status not in ("queued", "in_progress", "completed", "waiting", "requested", "pending"):
        raise validation_failed("CheckRun", "status", "invalid")
    suite = await _suite_for(sandbox, repo, app, head_sha)
    stamp = now_iso()
    run = CheckRun(id=sandbox.store.new_id(), suite_id=suite.id, app_role=app.role, head_sha=head_sha,
                   name=wanted.name, status=status, conclusion=wanted.conclusion,
                   started_at=wanted.started_at or stamp,
                   completed_at=(wanted.completed_at or stamp) if status == "completed" else None,
                   external_id=wanted.external_id, details_url=wanted.details_url, title=wanted.title,
                   summary=wanted.summary, text=wanted.text)
    repo.check_runs.append(run)
    suite.updated_at = stamp
    shown = await run_json(sandbox, repo, run)
    sandbox.emit("check_run", repo, sender, {"action": "created", "check_run": await _run_payload(sandbox, repo, run)})
    if status == "completed":
        sandbox.emit("check_run", repo, sender,
                     {"action": "completed", "check_run": await _run_payload(sandbox, repo, run)})
        suite_runs = [each for each in repo.check_runs if each.suite_id == suite.id]
        if suite_outcome(suite_runs)[0] == "completed":
            sandbox.emit("check_suite", repo, sender,
                         {"action": "completed", "check_suite": await suite_json(sandbox, repo, suite)})
    await sandbox.store.save()
    return shown


async def complete_check_run(sandbox: Sandbox, repo: Repo, run: CheckRun, sender: Account, *, conclusion: str,
                             title: str | None, summary: str | None) -> None:
    """Complete `run`, as `PATCH …/check-runs/{id}` with a conclusion does.

    Sends `check_run.completed`, then `check_suite.completed` once every latest run of its suite is done.
    """
    if conclusion not in CONCLUSIONS:
        raise validation_failed("CheckRun", "conclusion", "invalid")
    stamp = now_iso()
    run.status, run.conclusion, run.completed_at = "completed", conclusion, stamp
    run.title, run.summary = title, summary
    suite = next(suite for suite in repo.check_suites if suite.id == run.suite_id)
    suite.updated_at = stamp
    sandbox.emit("check_run", repo, sender,
                 {"action": "completed", "check_run": await _run_payload(sandbox, repo, run)})
    if suite_outcome([each for each in repo.check_runs if each.suite_id == suite.id])[0] == "completed":
        sandbox.emit("check_suite", repo, sender,
                     {"action": "completed", "check_suite": await suite_json(sandbox, repo, suite)})
    await sandbox.store.save()


async def _run_payload(sandbox: Sandbox, repo: Repo, run: CheckRun) -> dict[str, Any]:
    """A check run as webhooks carry it: with its whole check suite."""
    suite = next(suite for suite in repo.check_suites if suite.id == run.suite_id)
    return {**await run_json(sandbox, repo, run), "check_suite": await suite_json(sandbox, repo, suite)}


async def _suite_for(sandbox: Sandbox, repo: Repo, app: AppRecord, head_sha: str) -> CheckSuite:
    for suite in repo.check_suites:
        if suite.app_role == app.role and suite.head_sha == head_sha:
            return suite
    refs = await sandbox.repository(repo).refs()
    branch = next((ref.removeprefix("refs/heads/") for ref, sha in sorted(refs.items())
                   if sha == head_sha and ref.startswith("refs/heads/")), None)
    suite = CheckSuite(id=sandbox.store.new_id(), app_role=app.role, head_sha=head_sha, head_branch=branch)
    repo.check_suites.append(suite)
    return suite


async def create_status(sandbox: Sandbox, repo: Repo, creator: Account, sha: str, *, state: str,
                        context: str | None, description: str | None, target_url: str | None) -> dict[str, Any]:
    """Record a commit status; send the `status` event; return the status as GitHub shows it."""
    if state not in STATUS_STATES:
        raise validation_failed("Status", "state", "invalid")
    full_sha = await commit_or_422(sandbox, repo, sha)
    status = CommitStatus(id=sandbox.store.new_id(), sha=full_sha, state=state,
                          context=context or "default", description=description, target_url=target_url,
                          creator=creator.login)
    repo.statuses.append(status)
    shown = status_json(sandbox.urls, repo, status, creator)
    git = sandbox.repository(repo)
    commit = commit_json(sandbox.urls, repo, await git.commit(full_sha), sandbox.by_email)
    branches = [{"name": ref.removeprefix("refs/heads/"),
                 "commit": {"sha": tip, "url": sandbox.urls.repo_api(repo.full_name, f"/commits/{tip}")},
                 "protected": False}
                for ref, tip in (await git.refs()).items() if ref.startswith("refs/heads/") and tip == full_sha]
    sandbox.emit("status", repo, creator, {
        "id": status.id, "sha": full_sha, "name": repo.full_name, "target_url": target_url,
        "context": status.context, "description": description, "state": state, "commit": commit,
        "branches": branches, "created_at": status.created_at, "updated_at": status.updated_at})
    await sandbox.store.save()
    return shown
