"""Check runs, check suites and commit statuses in GitHub's shapes."""

from __future__ import annotations

from typing import Any

from rig_sandbox.git.objects import CommitInfo
from rig_sandbox.records import Account, CheckRun, CheckSuite, CommitStatus, Pull, Repo
from rig_sandbox.shapes.accounts import simple_user
from rig_sandbox.shapes.commits import git_person
from rig_sandbox.urls import Urls, node_id
from rig_sandbox.verdicts import combined_state, latest_statuses, suite_outcome


def pull_ref_json(urls: Urls, repo: Repo, pull: Pull) -> dict[str, Any]:
    """`pull-request-minimal`: how check runs and suites name the pull requests of their commit."""
    small_repo = {"id": repo.id, "url": urls.repo_api(repo.full_name), "name": repo.name}
    return {"id": pull.id, "number": pull.number, "url": urls.repo_api(repo.full_name, f"/pulls/{pull.number}"),
            "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": small_repo},
            "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": small_repo}}


def check_run_json(urls: Urls, repo: Repo, run: CheckRun, app: dict[str, Any],
                   pulls: list[dict[str, Any]]) -> dict[str, Any]:
    """`check-run`."""
    url = urls.repo_api(repo.full_name, f"/check-runs/{run.id}")
    html = urls.repo_html(repo.full_name, f"/runs/{run.id}")
    return {
        "id": run.id, "node_id": node_id("CheckRun", run.id), "head_sha": run.head_sha, "name": run.name,
        "external_id": run.external_id or "", "url": url, "html_url": html, "details_url": run.details_url or html,
        "status": run.status, "conclusion": run.conclusion, "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": {"title": run.title, "summary": run.summary, "text": run.text, "annotations_count": 0,
                   "annotations_url": f"{url}/annotations"},
        "check_suite": {"id": run.suite_id}, "app": app, "pull_requests": pulls,
    }


def check_suite_json(urls: Urls, repo: Repo, suite: CheckSuite, runs: list[CheckRun], app: dict[str, Any],
                     repository: dict[str, Any], head: CommitInfo, pulls: list[dict[str, Any]]) -> dict[str, Any]:
    """`check-suite`: one App's suite on one commit, its status and conclusion from its latest runs."""
    status, conclusion = suite_outcome(runs)
    return {
        "id": suite.id, "node_id": node_id("CheckSuite", suite.id), "head_branch": suite.head_branch,
        "head_sha": suite.head_sha, "status": status, "conclusion": conclusion,
        "url": urls.repo_api(repo.full_name, f"/check-suites/{suite.id}"), "before": head.parents[0]
        if head.parents else None, "after": suite.head_sha, "pull_requests": pulls, "app": app,
        "repository": repository, "created_at": suite.created_at, "updated_at": suite.updated_at,
        "head_commit": {"id": head.sha, "tree_id": head.tree, "message": head.message,
                        "timestamp": git_person(head.committer)["date"],
                        "author": {"name": head.author.name, "email": head.author.email},
                        "committer": {"name": head.committer.name, "email": head.committer.email}},
        "latest_check_runs_count": len({(run.app_role, run.name) for run in runs}),
        "check_runs_url": urls.repo_api(repo.full_name, f"/check-suites/{suite.id}/check-runs"),
        "rerequestable": True, "runs_rerequestable": True,
    }


def status_json(urls: Urls, repo: Repo, status: CommitStatus, creator: Account | None) -> dict[str, Any]:
    """`status`: one commit status (with its creator)."""
    data = simple_status_json(urls, repo, status, creator)
    data["creator"] = simple_user(urls, creator) if creator else None
    return data


def simple_status_json(urls: Urls, repo: Repo, status: CommitStatus, creator: Account | None) -> dict[str, Any]:
    """`simple-commit-status`: a status as the combined status lists it."""
    return {
        "url": urls.repo_api(repo.full_name, f"/statuses/{status.sha}"),
        "avatar_url": urls.api(f"/avatars/u/{creator.id}") if creator else None, "id": status.id,
        "node_id": node_id("StatusContext", status.id), "state": status.state, "description": status.description,
        "target_url": status.target_url, "context": status.context, "created_at": status.created_at,
        "updated_at": status.updated_at, "required": True,
    }


def combined_status_json(urls: Urls, repo: Repo, sha: str, statuses: list[CommitStatus],
                         creators: dict[str, Account], repository: dict[str, Any]) -> dict[str, Any]:
    """`combined-commit-status`: the latest status per context and their combined state."""
    latest = latest_statuses(statuses)
    return {
        "state": combined_state(statuses), "sha": sha, "total_count": len(latest),
        "statuses": [simple_status_json(urls, repo, status, creators.get(status.creator)) for status in latest],
        "repository": repository, "commit_url": urls.repo_api(repo.full_name, f"/commits/{sha}"),
        "url": urls.repo_api(repo.full_name, f"/commits/{sha}/status"),
    }
