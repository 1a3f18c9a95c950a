"""Faults: GitHub misbehaving on purpose, armed through `/_sandbox/faults` for the next N matching requests.

A fault matches requests by method and path pattern (and, optionally, the App that calls), and answers the
way GitHub does when it misbehaves: a 5xx with GitHub's body (`server_error`, before or after the request was
carried out), a secondary rate limit (403 or 429, GitHub's "You have exceeded a secondary rate limit" and
`Retry-After`), a primary rate limit (403 or 429, `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset` ahead),
`forbidden` (403, the App lacks the permission), or a `delay` before the normal answer. Each fault keeps
counting what it did, so tests can read it back.

Pure logic: the ASGI side is in `front_door`, the control routes in `api.faults`.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rig_sandbox.records import Role

FIRINGS_KEPT = 100
"""How many firings each fault remembers (its `fired` count goes on counting)."""

RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SERVER_ERRORS = {
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request "
         "and contact us if the problem persists.",
}
"""GitHub's messages for the 5xx answers it gives."""


class _Match(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field(default="*", pattern=r"^(\*|[A-Za-z]{3,7})$",
                        description="HTTP method to match (GET, POST, …), or * for any.")
    path: str = Field(min_length=1, pattern=r"^/",
                      description="Path pattern (no query): `*` matches within one segment, `**` across segments; "
                                  "e.g. `/repos/acme/*/issues/*/comments`. Matched case-insensitively.")
    app: Role | None = Field(default=None, description="Only requests of this App (its JWT or installation token).")
    times: int = Field(default=1, ge=1, le=10_000, description="How many matching requests the fault answers.")


class ServerError(_Match):
    """Answer a 5xx with GitHub's body, before the request is carried out or after it (then the answer is lost)."""

    kind: Literal["server_error"]
    status: Literal[500, 502, 503, 504] = 502
    after_handling: bool = Field(default=False, description="Carry the request out, then answer the 5xx instead "
                                                            "(GitHub acted, the caller does not know).")


class SecondaryRateLimit(_Match):
    """Answer GitHub's secondary rate limit: 403 (or 429) with `Retry-After` (null: without the header)."""

    kind: Literal["secondary_rate_limit"]
    status: Literal[403, 429] = 403
    retry_after_s: int | None = Field(default=60, ge=0)


class PrimaryRateLimit(_Match):
    """Answer GitHub's primary rate limit: 403 (or 429), no requests left until `reset_in_s` from now."""

    kind: Literal["primary_rate_limit"]
    status: Literal[403, 429] = 403
    reset_in_s: int = Field(default=60, ge=0)


class Delay(_Match):
    """Answer normally, `delay_s` late."""

    kind: Literal["delay"]
    delay_s: float = Field(gt=0, le=120)


class Forbidden(_Match):
    """Answer 403 as GitHub does when the App lacks the permission (branch protection without administration)."""

    kind: Literal["forbidden"]


Spec = ServerError | SecondaryRateLimit | PrimaryRateLimit | Delay | Forbidden
"""What a fault matches and how it misbehaves."""
FaultSpec = Annotated[Spec, Field(discriminator="kind")]
"""What to arm: body of `POST /_sandbox/faults`, told apart by `kind`."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer a fault gives instead of GitHub's own (`delay_s` > 0: GitHub's own answer, late)."""

    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    after_handling: bool = False


def path_pattern(glob: str) -> re.Pattern[str]:
    """A glob on paths as a regex: `**` crosses segments, `*` stays within one."""
    parts = (".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
             for part in re.split(r"(\*\*|\*)", glob))
    return re.compile("".join(parts), re.IGNORECASE)


@dataclass
class Fault:
    """An armed fault: what it matches, how many matching requests it still answers, and what it did."""

    id: int
    spec: Spec
    remaining: int
    fired: int = 0
    firings: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=FIRINGS_KEPT))
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.pattern = path_pattern(self.spec.path)

    def matches(self, method: str, path: str, app: str | None) -> bool:
        """Whether this fault still answers a `method` request of `path` by `app`."""
        spec = self.spec
        return (self.remaining > 0 and spec.method.upper() in ("*", method.upper())
                and (spec.app is None or spec.app == app) and self.pattern.fullmatch(path) is not None)

    def fire(self, method: str, path: str, now: float, who: str) -> Answer:
        """Use one of the remaining requests; the answer to give, remembered with when and what it answered."""
        self.remaining -= 1
        self.fired += 1
        answer = answer_of(self.spec, now, who)
        self.firings.append({"at": now, "method": method, "path": path, "status": answer.status or None,
                             "headers": answer.headers, "delay_s": answer.delay_s or None})
        return answer

    def json(self) -> dict[str, Any]:
        """The fault as the control API shows it."""
        return {"id": self.id, **self.spec.model_dump(), "remaining": self.remaining, "fired": self.fired,
                "active": self.remaining > 0, "firings": list(self.firings)}


def answer_of(spec: Spec, now: float, who: str = "installation") -> Answer:
    """What GitHub answers when it misbehaves as `spec` says, at time `now`, to `who` (`installation ID 7`)."""
    if isinstance(spec, Delay):
        return Answer(delay_s=spec.delay_s)
    if isinstance(spec, ServerError):
        return Answer(spec.status, {"message": SERVER_ERRORS[spec.status], "documentation_url":
                                    "https://docs.github.com/rest", "status": str(spec.status)},
                      after_handling=spec.after_handling)
    if isinstance(spec, Forbidden):
        return Answer(403, {"message": "Resource not accessible by integration", "status": "403",
                            "documentation_url": "https://docs.github.com/rest"})
    if isinstance(spec, SecondaryRateLimit):
        headers = {} if spec.retry_after_s is None else {"Retry-After": str(spec.retry_after_s)}
        message = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If "
                   "you reach out to GitHub Support for help, please include the request ID.")
        return Answer(spec.status, {"message": message, "status": str(spec.status), "documentation_url":
                                    f"{RATE_LIMIT_DOCS}#about-secondary-rate-limits"}, headers)
    headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000",
               "X-RateLimit-Reset": str(int(now) + spec.reset_in_s), "X-RateLimit-Resource": "core"}
    return Answer(spec.status, {"message": f"API rate limit exceeded for {who}. If you reach out to GitHub "
                                           "Support for help, please include the request ID.",
                                "status": str(spec.status),
                                "documentation_url": f"{RATE_LIMIT_DOCS}#about-the-primary-rate-limit"}, headers)


class Faults:
    """The armed faults, oldest first; the oldest active one that matches a request answers it."""

    def __init__(self) -> None:
        self._faults: dict[int, Fault] = {}
        self._ids = itertools.count(1)

    def arm(self, spec: Spec) -> Fault:
        """Arm a fault for the next `spec.times` matching requests."""
        fault = Fault(next(self._ids), spec, remaining=spec.times)
        self._faults[fault.id] = fault
        return fault

    def all(self) -> list[Fault]:
        """Every fault armed since the last clear, spent ones included (their counts stay readable)."""
        return list(self._faults.values())

    def get(self, fault_id: int) -> Fault | None:
        """The fault with this id, if armed."""
        return self._faults.get(fault_id)

    def remove(self, fault_id: int) -> bool:
        """Disarm and forget one fault; False when there is none with this id."""
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> int:
        """Disarm and forget every fault; how many there were."""
        count = len(self._faults)
        self._faults.clear()
        return count

    def take(self, method: str, path: str, app: str | None, *, who: str = "installation",
             now: float | None = None) -> tuple[Fault, Answer] | None:
        """The fault that answers this request by `app` (`who` in messages) and its answer, if any.

        Answering uses one of the fault's remaining requests.
        """
        for fault in self._faults.values():
            if fault.matches(method, path, app):
                return fault, fault.fire(method, path, time.time() if now is None else now, who)
        return None
