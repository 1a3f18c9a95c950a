"""One report to the conductor: the public agent runtime's camelCase body, posted within a hard time budget."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from conductor_e_hook import __version__
from conductor_e_hook.config import Config

EVENT_TYPES = ("WORK_STARTED", "HEARTBEAT", "PR_CREATED", "AGENT_STUCK")
"""The runtime's names this hook sends; ingest maps them onto the catalogue (PR_CREATED → PR_REPORTED …)."""

HEARTBEAT_STATUSES = ("working", "idle")

_NEEDS_ISSUE = frozenset({"WORK_STARTED", "PR_CREATED"})
"""Types that mean nothing without the work item they are about."""


class ReportError(Exception):
    """The report did not reach the conductor or was refused; the message is one short line for stderr."""


@dataclass(frozen=True)
class Report:
    """One event as the public agent runtime posts it: `{type, agentId, repo, issueNumber, …}`."""

    type: str
    repo: str | None
    issue_number: int | None
    extra: dict[str, Any] = field(default_factory=dict)

    def missing(self) -> str | None:
        """Why this report cannot be sent, or None: work started and PRs belong to an issue."""
        if self.type not in _NEEDS_ISSUE:
            return None
        if self.repo is None:
            return "no repository: no `origin` remote here (pass --repo owner/name)"
        if self.issue_number is None:
            return "no issue number: the branch names none (pass --issue N)"
        return None

    def body(self, agent_id: str) -> dict[str, Any]:
        """The JSON body; unknown repo or issue are left out rather than sent as null."""
        body: dict[str, Any] = {"type": self.type, "agentId": agent_id}
        if self.repo is not None:
            body["repo"] = self.repo
        if self.issue_number is not None:
            body["issueNumber"] = self.issue_number
        body |= {name: value for name, value in self.extra.items() if value is not None}
        return body


def _refusal(error: urllib.error.HTTPError) -> str:
    """`HTTP 401: <first line of the detail>`, short, for one line on stderr."""
    try:
        raw = error.read(2048).decode("utf-8", "replace")
    except OSError:
        raw = ""
    try:
        parsed = json.loads(raw)
        detail = parsed.get("detail", raw) if isinstance(parsed, dict) else raw
    except ValueError:
        detail = raw
    text = " ".join(str(detail).split())[:160]
    return f"HTTP {error.code}" + (f": {text}" if text else "")


def _post(config: Config, body: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310  # the URL's scheme was checked to be http(s) in config
        config.events_url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {config.token}",
            "Content-Type": "application/json",
            "User-Agent": f"conductor-e-hook/{__version__}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=config.timeout) as response:  # noqa: S310  # as above
            return int(response.status)
    except urllib.error.HTTPError as error:
        raise ReportError(_refusal(error)) from None
    except urllib.error.URLError as error:
        raise ReportError(f"cannot reach {config.url}: {error.reason}") from None
    except TimeoutError:
        raise ReportError(f"{config.url} did not answer within {config.timeout:g} s") from None
    except OSError as error:
        raise ReportError(f"cannot reach {config.url}: {error.strerror or error}") from None


def send(config: Config, body: dict[str, Any]) -> int:
    """Post `body` and return the HTTP status, or raise ReportError; never takes much longer than the timeout.

    The socket timeout bounds each read and write but not the whole exchange (a server may trickle bytes, a name
    may take long to resolve), so the post runs in a daemon thread that the command simply abandons at the
    deadline: the process exits and takes the thread with it.
    """
    outcome: list[int | ReportError] = []

    def attempt() -> None:
        try:
            outcome.append(_post(config, body))
        except ReportError as error:
            outcome.append(error)

    worker = threading.Thread(target=attempt, name="conductor-e-report", daemon=True)
    worker.start()
    worker.join(config.timeout)
    if not outcome:
        raise ReportError(f"{config.url} did not answer within {config.timeout:g} s")
    result = outcome[0]
    if isinstance(result, ReportError):
        raise result
    return result
