"""Retries are PyGithub's own `GithubRetry`, configured from settings; this module adds two things to it.

`GithubRetry` already retries 5xx and connection errors with exponential backoff, waits out a secondary rate
limit (`Retry-After`, else `secondary_rate_wait`) and a primary one (until `X-RateLimit-Reset`), and refuses to
wait longer than `max_rate_limit_wait`. `CountedRetry` keeps all of that and:

- counts every retry in `rig_github_retries_total`, labelled with the operation running in this thread;
- does not repeat a POST after a 5xx: GitHub may have acted on it (a comment, a review) before failing, and
  repeating it would post twice. A POST refused by a rate limit never took effect, so it is still retried.
  The caller's own at-least-once retry then goes through the idempotent helpers (marker check, pinned SHA).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType

from github import GithubRetry
from urllib3 import BaseHTTPResponse, Retry
from urllib3.connectionpool import ConnectionPool

from rig_github.metrics import RETRIES
from rig_github.settings import GitHubSettings


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a pool thread is doing right now, for labelling the retries it makes."""

    role: str
    operation: str


CURRENT_CALL: ContextVar[CallContext | None] = ContextVar("rig_github_current_call", default=None)
"""Set by the client around each operation in its pool thread."""


class CountedRetry(GithubRetry):
    """`GithubRetry` that counts its retries and does not repeat a POST after a 5xx (see the module docstring)."""

    retry_post_on_5xx = False

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Whether urllib3 should retry this answer: as GithubRetry, except a POST that got a 5xx."""
        if status_code >= 500 and method.upper() == "POST" and not self.retry_post_on_5xx:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        """Let GithubRetry decide (it raises when it gives up), then count the retry that follows."""
        retry = super().increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[arg-type]
        context = CURRENT_CALL.get()
        status = str(response.status) if response is not None else type(error).__name__
        RETRIES.labels(context.role if context else "-", context.operation if context else "-", status).inc()
        return retry


class TokenRetry(CountedRetry):
    """Retry for fetching installation tokens: that POST only mints a token, so repeating it after a 5xx is safe."""

    retry_post_on_5xx = True


def github_retry(settings: GitHubSettings, *, kind: type[CountedRetry] = CountedRetry) -> CountedRetry:
    """The retry policy every `Github` of the client is built with, from the settings."""
    return kind(
        total=settings.github_retry_total,
        backoff_factor=settings.github_retry_backoff_factor,
        backoff_max=settings.github_retry_max_wait,
        retry_after_max=int(settings.github_retry_max_wait),
        secondary_rate_wait=settings.github_secondary_rate_wait,
        max_rate_limit_wait=settings.github_retry_max_wait,
        # 429 is how GitHub also signals a secondary rate limit; GithubRetry adds 403 to this list itself.
        status_forcelist=[429, *range(500, 600)],
        # Give the last answer back instead of raising, so PyGithub turns it into an exception with its body.
        raise_on_status=False,
    )
