"""The sandbox as the routes see it: its records, its git repositories, its URLs and where events go."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig_sandbox.errors import not_found
from rig_sandbox.git.repository import GitRepository
from rig_sandbox.git.runner import GitRunner
from rig_sandbox.records import Account, AppRecord, Issue, Pull, Repo, Role
from rig_sandbox.settings import SandboxSettings
from rig_sandbox.shapes.accounts import app_json, installation_ref, simple_user
from rig_sandbox.shapes.commits import login_in_email
from rig_sandbox.shapes.repos import repository_json
from rig_sandbox.sink import EventSink
from rig_sandbox.store import Store
from rig_sandbox.urls import Urls

PullHook = Callable[[Repo, int, str], Awaitable[None]]
"""Called after each `pull_request` event with the repository, the pull request's number and the action."""

WEBHOOK_ROLE: Role = "conductor"
"""The App whose installation webhook payloads name: the conductor's App receives the webhooks."""


@dataclass
class Sandbox:
    """Everything a route needs: settings, records, git, URLs, and the sink of webhook events."""

    settings: SandboxSettings
    root: Path
    store: Store
    git: GitRunner
    sink: EventSink
    urls: Urls
    pull_hooks: list[PullHook] = field(default_factory=list)
    """What else reacts to pull request events inside the sandbox (its CI, as Actions reacts on GitHub)."""
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    @property
    def apps(self) -> dict[str, AppRecord]:
        """The Apps by role."""
        return self.store.state.apps

    def app(self, role: str) -> AppRecord:
        """The App of `role`."""
        return self.store.state.apps[role]

    def app_by_id(self, app_id: int) -> AppRecord | None:
        """The App with id `app_id`, if any."""
        return next((app for app in self.apps.values() if app.id == app_id), None)

    def lock(self, repo: Repo) -> asyncio.Lock:
        """The lock that serializes ref changes (pushes, merges) in one repository."""
        return self._locks.setdefault(repo.id, asyncio.Lock())

    def repo_or_404(self, owner: str, name: str) -> Repo:
        """The repository `owner/name`, else 404."""
        repo = self.store.repo(owner, name)
        if repo is None:
            raise not_found("https://docs.github.com/rest/repos/repos#get-a-repository")
        return repo

    def repository(self, repo: Repo) -> GitRepository:
        """The bare git repository of `repo`."""
        return GitRepository(self.git_dir(repo.owner, repo.name), self.git)

    def git_dir(self, owner: str, name: str) -> Path:
        """Where the bare repository `owner/name` lives."""
        return self.root / "git" / owner.lower() / f"{name.lower()}.git"

    def who(self, login: str) -> Account:
        """The account `login` (created as a user the first time, for logins met in git data)."""
        return self.store.account(login)

    def by_email(self, email: str) -> Account | None:
        """The account a commit e-mail belongs to (no-reply addresses name it), if any."""
        login = login_in_email(email)
        return self.store.find_account(login) if login else None

    def owner_of(self, repo: Repo) -> Account:
        """The account that owns `repo`."""
        return self.store.account(repo.owner, "Organization")

    def issue_or_404(self, repo: Repo, number: int) -> Issue:
        """Issue (or pull request) `number`, else 404."""
        issue = repo.issues.get(number)
        if issue is None:
            raise not_found("https://docs.github.com/rest/issues/issues#get-an-issue")
        return issue

    def pull_or_404(self, repo: Repo, number: int) -> tuple[Issue, Pull]:
        """Pull request `number` and its issue, else 404."""
        pull = repo.pulls.get(number)
        if pull is None:
            raise not_found("https://docs.github.com/rest/pulls/pulls#get-a-pull-request")
        return repo.issues[number], pull

    def repo_json(self, repo: Repo) -> dict[str, Any]:
        """The repository in GitHub's shape."""
        open_issues = sum(1 for issue in repo.issues.values() if issue.state == "open")
        return repository_json(self.urls, repo, self.owner_of(repo), open_issues)

    def app_json(self, app: AppRecord) -> dict[str, Any]:
        """An App in GitHub's shape."""
        return app_json(self.urls, app, self.store.account(app.owner, "Organization"))

    def emit(self, event: str, repo: Repo, sender: Account, payload: dict[str, Any],
             repository: dict[str, Any] | None = None) -> None:
        """Send a webhook event about `repo` caused by `sender`, with the repository, sender and installation."""
        full = {**payload, "repository": repository or self.repo_json(repo), "sender": simple_user(self.urls, sender),
                "installation": installation_ref(self.app(WEBHOOK_ROLE))}
        self.sink.emit(event, full)
