"""`GitHubClient`: the one way a service talks to GitHub, as one role, from asyncio code.

Every call runs in a bounded thread pool (PyGithub blocks), is retried by `GithubRetry` as configured in
`rig_github.retry`, is measured in `rig_github.metrics`, and fails with the typed errors of `rig_github.errors`.

Each pool thread has its own `github.Github`. PyGithub's connection object stores a request's verb, URL and
headers on itself between `request()` and `getresponse()` (see PyGithub PR #2052, still open), so one `Github`
shared by several threads can send one thread's request with another's headers. The threads share the rest:
the installation token cache, the retry policy and the metrics.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Self, TypeVar

from github import Auth, BadCredentialsException, Github

from rig_github import operations as ops
from rig_github.apps import InstallationAuth, InstallationTokens, app_auth
from rig_github.errors import GitHubError, translate
from rig_github.metrics import CALLS, IN_FLIGHT, LATENCY
from rig_github.models import (
    ChangedFile,
    ChecksInfo,
    CommentResult,
    Comparison,
    Delivery,
    DeliveryPage,
    FileContent,
    MergeResult,
    PullInfo,
    RepoInfo,
    ReviewEvent,
    ReviewInfo,
)
from rig_github.retry import CURRENT_CALL, CallContext, github_retry
from rig_github.settings import GitHubConfigError, GitHubSettings, Role

T = TypeVar("T")


class GitHubClient:
    """GitHub as one role (conductor, dev or review), for asyncio code: `await client.merge(…)`.

    Build it once per process and role, close it at shutdown (`await client.aclose()` or `async with`).
    """

    def __init__(self, settings: GitHubSettings, role: Role | str) -> None:
        self.settings = settings
        self.role = Role(role)
        self._app = settings.app(self.role)
        self._tokens: InstallationTokens | None = None
        if self._app is not None:
            self._tokens = InstallationTokens.for_app(settings, self._app, role=self.role)
            self._auth: Auth.Auth = InstallationAuth(self._tokens)
        elif (pat := settings.token(self.role)) is not None:
            self._auth = Auth.Token(pat.get_secret_value())
        else:
            name = f"RIG_GITHUB_{self.role.upper()}"
            raise GitHubConfigError(f"no credentials for the {self.role} role: set {name}_APP_ID, "
                                    f"{name}_INSTALLATION_ID and {name}_PRIVATE_KEY(_FILE)")
        self._pool = ThreadPoolExecutor(settings.github_threads, thread_name_prefix=f"github-{self.role}")
        self._local = threading.local()
        self._made: list[Github] = []
        self._made_lock = threading.Lock()
        self._login: str | None = settings.bot_login(self.role)

    async def run(self, fn: Callable[[Github], T], *, operation: str = "custom", as_app: bool = False) -> T:
        """Run `fn` with this pool thread's `Github` (as the App itself when `as_app`) and return its result.

        Return plain values, not PyGithub objects: those are bound to the thread's `Github` and fetch lazily.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._invoke, fn, operation, as_app)

    def _invoke(self, fn: Callable[[Github], T], operation: str, as_app: bool) -> T:
        marker = CURRENT_CALL.set(CallContext(self.role, operation))
        IN_FLIGHT.labels(self.role).inc()
        started, outcome = time.perf_counter(), "ok"
        try:
            return fn(self._github(as_app=as_app))
        except GitHubError as error:
            outcome = error.outcome
            raise
        except Exception as error:
            if isinstance(error, BadCredentialsException) and self._tokens is not None:
                self._tokens.invalidate()
            try:
                typed = translate(error)
            except TypeError:
                outcome = "error"
                raise error from None
            outcome = typed.outcome
            raise typed from error
        finally:
            LATENCY.labels(self.role, operation).observe(time.perf_counter() - started)
            CALLS.labels(self.role, operation, outcome).inc()
            IN_FLIGHT.labels(self.role).dec()
            CURRENT_CALL.reset(marker)

    def _github(self, *, as_app: bool) -> Github:
        name = "app" if as_app else "installation"
        found: Github | None = getattr(self._local, name, None)
        if found is None:
            if as_app and self._app is None:
                raise GitHubConfigError(f"the {self.role} role has a personal access token, not an App: "
                                        "calls made as the App (webhook deliveries) need the App")
            found = Github(
                auth=app_auth(self._app) if as_app and self._app else self._auth,
                base_url=self.settings.github_api_url, timeout=self.settings.github_timeout,
                user_agent=self.settings.github_user_agent, per_page=100, retry=github_retry(self.settings),
                pool_size=2, seconds_between_requests=self.settings.github_seconds_between_requests or None,
                seconds_between_writes=self.settings.github_seconds_between_writes or None, lazy=True,
            )
            setattr(self._local, name, found)
            with self._made_lock:
                self._made.append(found)
        return found

    async def installation_token(self) -> str:
        """A token valid now for git over HTTPS (`x-access-token:<token>`): the installation token, or the PAT."""
        return await self.run(lambda _gh: self._auth.token, operation="installation_token")

    async def get_repo(self, full_name: str) -> RepoInfo:
        """A repository's id, default branch and address."""
        return await self.run(lambda gh: ops.get_repo(gh, full_name), operation="get_repo")

    async def get_file(self, full_name: str, path: str, *, ref: str | None = None) -> FileContent | None:
        """A file's text and blob SHA on the default branch (or `ref`); None when it does not exist."""
        return await self.run(lambda gh: ops.get_file(gh, full_name, path, ref), operation="get_file")

    async def own_login(self) -> str:
        """The login GitHub shows on this role's comments: the setting, else asked once (`GET /app` or `/user`)."""
        if self._login is None:
            as_app = self._app is not None
            self._login = await self.run(lambda gh: ops.own_login(gh, as_app=as_app), operation="own_login",
                                         as_app=as_app)
        return self._login

    async def comment_once(self, full_name: str, number: int, key: str, body: str) -> CommentResult:
        """Comment on an issue or PR once per `key`: not again where a comment of ours holds the key's marker.

        Someone else's comment holding the marker does not count (anyone can write it).
        """
        author = await self.own_login()
        return await self.run(lambda gh: ops.comment_once(gh, full_name, number, key, body, author),
                              operation="comment")

    async def add_labels(self, full_name: str, number: int, *labels: str) -> None:
        """Add labels to an issue or PR."""
        await self.run(lambda gh: ops.add_labels(gh, full_name, number, labels), operation="add_labels")

    async def remove_label(self, full_name: str, number: int, label: str) -> None:
        """Remove a label from an issue or PR (no error when it is not there)."""
        await self.run(lambda gh: ops.remove_label(gh, full_name, number, label), operation="remove_label")

    async def get_pull(self, full_name: str, number: int, *, settle: float = 0.0) -> PullInfo:
        """A PR with its mergeability; with `settle` > 0, asks again while `mergeable_state` is `unknown`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settle
        while True:
            pull = await self.run(lambda gh: ops.get_pull(gh, full_name, number), operation="get_pull")
            if pull.mergeable_state != "unknown" or loop.time() >= deadline:
                return pull
            await asyncio.sleep(min(0.5, max(deadline - loop.time(), 0.0)))

    async def pull_files(self, full_name: str, number: int) -> list[ChangedFile]:
        """The files a PR changes, with their patches."""
        return await self.run(lambda gh: ops.pull_files(gh, full_name, number), operation="pull_files")

    async def git_token(self) -> str:
        """A token git can fetch and push with: the current installation token (refreshed ahead of expiry) or PAT."""
        if self._tokens is not None:
            tokens = self._tokens
            return await asyncio.get_running_loop().run_in_executor(self._pool, tokens.token)
        pat = self.settings.token(self.role)
        if pat is None:  # the constructor refuses a role with neither
            raise GitHubConfigError(f"no credentials for the {self.role} role")
        return pat.get_secret_value()

    async def list_reviews(self, full_name: str, number: int) -> list[ReviewInfo]:
        """Every review of a PR, oldest first."""
        return await self.run(lambda gh: ops.list_reviews(gh, full_name, number), operation="list_reviews")

    async def compare(self, full_name: str, base: str, head: str) -> Comparison:
        """The files `base...head` changes, with their patches (empty for binary or very large files)."""
        return await self.run(lambda gh: ops.compare(gh, full_name, base, head), operation="compare")

    async def required_checks(self, full_name: str, branch: str) -> tuple[str, ...] | None:
        """The check names branch protection requires on `branch`; None when it is unprotected or requires none."""
        return await self.run(lambda gh: ops.required_checks(gh, full_name, branch), operation="required_checks")

    async def checks(self, full_name: str, sha: str) -> ChecksInfo:
        """Check runs and combined status of a commit."""
        return await self.run(lambda gh: ops.checks(gh, full_name, sha), operation="checks")

    async def merge(self, full_name: str, number: int, sha: str, *, title: str | None = None,
                    message: str | None = None) -> MergeResult:
        """Squash-merge at the approved `sha`; already merged is a success; raises HeadMovedError, NotMergeableError."""
        return await self.run(lambda gh: ops.merge(gh, full_name, number, sha, title, message), operation="merge")

    async def create_review(self, full_name: str, number: int, commit_id: str, event: ReviewEvent,
                            body: str = "") -> ReviewInfo:
        """Approve, request changes or comment on a PR at `commit_id`."""
        return await self.run(lambda gh: ops.create_review(gh, full_name, number, commit_id, event, body),
                              operation="create_review")

    async def open_pull(self, full_name: str, *, head: str, title: str, body: str, base: str | None = None,
                        draft: bool = False) -> PullInfo:
        """Open a PR from `head` (or return the one already open for it)."""
        return await self.run(lambda gh: ops.open_pull(gh, full_name, head, title, body, base, draft),
                              operation="open_pull")

    async def list_deliveries(self, *, per_page: int = 50, cursor: str | None = None) -> DeliveryPage:
        """A page of this role's App webhook deliveries, newest first."""
        return await self.run(lambda gh: ops.list_deliveries(gh, per_page, cursor), operation="list_deliveries",
                              as_app=True)

    async def get_delivery(self, delivery_id: int) -> Delivery:
        """One webhook delivery of this role's App, with its request and response."""
        return await self.run(lambda gh: ops.get_delivery(gh, delivery_id), operation="get_delivery", as_app=True)

    async def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to deliver a webhook delivery of this role's App again."""
        await self.run(lambda gh: ops.redeliver(gh, delivery_id), operation="redeliver", as_app=True)

    def close(self) -> None:
        """Wait for running calls, stop the pool and close every connection (blocking)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._made_lock:
            made, self._made = self._made, []
        for gh in made:
            gh.close()
        if self._tokens is not None:
            self._tokens.close()

    async def aclose(self) -> None:
        """`close` without blocking the event loop."""
        await asyncio.to_thread(self.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.aclose()


def clients(settings: GitHubSettings) -> dict[Role, GitHubClient]:
    """A client for every role that has credentials in the settings."""
    return {role: GitHubClient(settings, role) for role in settings.configured_roles()}
