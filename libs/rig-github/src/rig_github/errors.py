"""Typed errors for the GitHub answers callers must tell apart, and the translation from PyGithub's.

Callers catch these, never `github.GithubException`: a merger tells a moved head (409) from a PR that cannot
be merged (405), a router tells a missing file (404) from a rate limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
from github import BadCredentialsException, GithubException, RateLimitExceededException
from github.GithubException import RateLimitExceededExceedsMaxWait


class GitHubError(Exception):
    """GitHub refused or failed an operation; `status` is the HTTP status (0 when no answer came)."""

    outcome: ClassVar[str] = "error"

    def __init__(self, message: str, *, status: int = 0, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.data = data


class NotFoundError(GitHubError):
    """404: the repository, issue, PR or file does not exist, or the App cannot see it (check its installation)."""

    outcome = "not_found"


class UnauthorizedError(GitHubError):
    """401/403: bad credentials or missing permission; check the role's App id, key and installation."""

    outcome = "unauthorized"


class ConflictError(GitHubError):
    """409: the request conflicts with the repository's state."""

    outcome = "conflict"


class HeadMovedError(ConflictError):
    """409 on merge: the PR's head is no longer the approved SHA; review the new head before merging."""

    outcome = "head_moved"


class NotMergeableError(GitHubError):
    """405 on merge: GitHub will not merge the PR now (conflict, failing required checks, missing review …)."""

    outcome = "not_mergeable"


class ValidationFailedError(GitHubError):
    """422: GitHub rejected the input; `message` and `errors` carry GitHub's own words."""

    outcome = "validation"

    @property
    def errors(self) -> list[Any]:
        """GitHub's `errors` list (field, code, message), empty when it gave none."""
        found = self.data.get("errors") if isinstance(self.data, dict) else None
        return list(found) if isinstance(found, list) else []


class RateLimitedError(GitHubError):
    """A rate limit that retries could not wait out; try again after `retry_after` seconds or at `reset_at`."""

    outcome = "rate_limited"

    def __init__(self, message: str, *, status: int = 0, data: Any = None, retry_after: float | None = None,
                 reset_at: datetime | None = None) -> None:
        super().__init__(message, status=status, data=data)
        self.retry_after = retry_after
        self.reset_at = reset_at


class UnavailableError(GitHubError):
    """GitHub did not answer, or kept answering 5xx after every retry; the operation may be tried later."""

    outcome = "unavailable"


_BY_STATUS: dict[int, type[GitHubError]] = {
    401: UnauthorizedError, 404: NotFoundError, 405: NotMergeableError, 409: ConflictError,
    410: NotFoundError, 422: ValidationFailedError,
}


def _message(error: GithubException) -> str:
    data = error.data if isinstance(error.data, dict) else {}
    message = error.message or data.get("message") or str(error.data or "")
    details = [item.get("message") if isinstance(item, dict) else item for item in data.get("errors") or []]
    found = [str(detail) for detail in details if detail]
    return "; ".join([str(message), *found]) if found else str(message)


def _header(headers: dict[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _rate_limited(error: GithubException, message: str) -> RateLimitedError | None:
    retry_after = _header(error.headers, "retry-after")
    reset = _header(error.headers, "x-ratelimit-reset")
    remaining = _header(error.headers, "x-ratelimit-remaining")
    limited = isinstance(error, RateLimitExceededException) or error.status == 429
    if not (limited or retry_after is not None or remaining == "0"):
        return None
    reset_at = datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else None
    wait = float(retry_after) if retry_after and retry_after.isdigit() else None
    if isinstance(error, RateLimitExceededExceedsMaxWait):
        wait = error.wait
    return RateLimitedError(f"rate limited by GitHub: {message}", status=error.status, data=error.data,
                            retry_after=wait, reset_at=reset_at)


def translate(error: Exception) -> GitHubError:
    """Turn an exception from PyGithub or requests into the typed error a caller can act on."""
    if isinstance(error, GitHubError):
        return error
    if isinstance(error, GithubException):
        message = _message(error)
        if error.status in (403, 429) and (limited := _rate_limited(error, message)) is not None:
            return limited
        if isinstance(error, BadCredentialsException) or error.status == 403:
            return UnauthorizedError(message, status=error.status, data=error.data)
        if error.status >= 500:
            return UnavailableError(f"GitHub answered {error.status}: {message}", status=error.status, data=error.data)
        kind = _BY_STATUS.get(error.status, GitHubError)
        return kind(message, status=error.status, data=error.data)
    if isinstance(error, requests.RequestException):
        return UnavailableError(f"GitHub did not answer: {error}")
    raise TypeError(f"not a GitHub error: {error!r}") from error
