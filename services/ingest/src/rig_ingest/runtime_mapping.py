"""The public agent runtime's wire format (docs/design.md section 9) mapped onto our catalogue. Pure: no I/O.

That runtime posts camelCase JSON that we do not control, so its bodies ignore fields they do not know (a newer
runtime may send more) and check only what the mapping needs. Its names map as `HEARTBEAT` → AGENT_HEARTBEAT,
`PR_CREATED` → PR_REPORTED (a fact about GitHub comes only from GitHub), `ESCALATED` → ISSUE_ESCALATED, and the
execution-log calls → RUN_STARTED, RUN_STEP, RUN_FINISHED. The subject is the work item, `repo#issueNumber`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from rig_contracts import Envelope, new_event_id
from rig_contracts import catalogue as c
from rig_contracts import payloads as p

AgentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
"""An agent id as it appears in key names (`logs:{agent}`): no spaces, colons or glob characters."""

InstanceId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(/[A-Za-z0-9_.-]{1,40})?$")]
"""An agent id, or the runtime's instance id `{agent}/{last 5 of HOSTNAME}`: the pool is the part before `/`."""

Text = Annotated[str, BeforeValidator(lambda value: "" if value is None else str(value))]
"""Free text the runtime may send as null or as a number (a timestamp in milliseconds)."""

NoRepo = Annotated[p.Repo | None, BeforeValidator(lambda value: value or None)]
"""A repository, where the runtime sends `""` (or null) for "none": outside an assignment."""

NoNumber = Annotated[Annotated[int, Field(ge=1)] | None, BeforeValidator(lambda value: value or None)]
"""An issue number, where the runtime sends `0` (or null) for "none"."""


class RuntimeBody(BaseModel):
    """A camelCase body of the public runtime: unknown fields are ignored, since that runtime may add some."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True)


class RuntimeStep(RuntimeBody):
    """`POST /api/execution-logs/{id}/steps`: one step of a run."""

    type: str = Field(min_length=1, max_length=200)
    status: str = Field(default="", max_length=100)
    detail: Text = ""
    cost_usd: float | None = Field(default=None, ge=0)
    turns: int = Field(default=0, ge=0)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_creation_tokens: int = Field(default=0, ge=0)


class RunOpening(RuntimeBody):
    """`POST /api/execution-logs`: a run begins (`steps` may already list some)."""

    repo: p.Repo
    issue_number: int = Field(ge=1)
    agent_id: AgentId
    status: str = ""
    model: str = ""
    provider: str = ""
    steps: list[RuntimeStep] | None = None


class RunCompletion(RuntimeBody):
    """`POST /api/execution-logs/{id}/complete`: a run ended, with its totals."""

    status: str = Field(min_length=1, max_length=100)
    total_cost_usd: float | None = Field(default=None, ge=0)
    total_turns: int = Field(default=0, ge=0)
    total_input_tokens: int = Field(default=0, ge=0)
    total_output_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_creation_tokens: int = Field(default=0, ge=0)
    duration_api_ms: int = Field(default=0, ge=0)
    pr_number: int | None = Field(default=None, ge=1)


class RuntimeEvent(RuntimeBody):
    """`POST /api/events` in the runtime's form (it has `agentId`); fields beyond the first four by `type`."""

    type: str = Field(min_length=1)
    agent_id: InstanceId
    repo: NoRepo = None
    issue_number: NoNumber = None
    status: str = "online"
    provider: str = ""
    active_provider: Text = ""
    current_task: str | None = None
    current_repo: NoRepo = None
    current_issue: NoNumber = None
    available_providers: list[str] = Field(default_factory=list)
    providers: dict[str, Any] = Field(default_factory=dict)
    integrations: dict[str, Any] = Field(default_factory=dict)
    model: str = ""
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_creation_tokens: int = Field(default=0, ge=0)
    cost_usd: float | None = Field(default=None, ge=0)
    # Codex's usage comes with `category: ""`: it is work, the only kind of call it makes.
    category: Annotated[str, BeforeValidator(lambda value: value or "work")] = "work"
    branch: str = ""
    pr_number: int | None = Field(default=None, ge=1)
    pr_url: str = ""
    reason: str = ""

    @property
    def pool(self) -> str:
        """The agent pool: the instance id's part before `/` (the whole id when it names no instance)."""
        return self.agent_id.partition("/")[0]

    @property
    def instance(self) -> str:
        """The instance within the pool (the runtime's last 5 of HOSTNAME), or ""."""
        return self.agent_id.partition("/")[2]


class RunLogLine(RuntimeBody):
    """One line of `POST /api/execution-logs/{id}/logs`."""

    timestamp: Text = ""
    level: str = "info"
    message: Text


class AgentLogLine(RuntimeBody):
    """One entry of `POST /api/agent-logs`."""

    ts: Text = ""
    level: str = "info"
    message: Text
    repo: p.Repo | None = None
    issue_number: int | None = Field(default=None, ge=1)


class AgentLogs(RuntimeBody):
    """`POST /api/agent-logs`: output lines of one agent."""

    agent_id: AgentId
    entries: list[AgentLogLine]


@dataclass(frozen=True)
class Run:
    """A run ingest opened for the runtime: the id it handed out and the work item it is about."""

    run_id: str
    agent: str
    repo: str
    issue_number: int
    started_at: datetime

    @property
    def source(self) -> str:
        """The source of the run's events."""
        return f"agent:{self.agent}"

    @property
    def subject(self) -> str:
        """The work item."""
        return f"{self.repo}#{self.issue_number}"


@dataclass(frozen=True)
class Mapped:
    """An event to store; `once`: its key is a natural identity, so a repeated call returns the first event."""

    event: Envelope
    once: bool


EVENT_NAMES = {"HEARTBEAT": "AGENT_HEARTBEAT", "TOKEN_USAGE": "TOKEN_USAGE", "AGENT_STUCK": "AGENT_STUCK",
               "WORK_STARTED": "WORK_STARTED", "PR_CREATED": "PR_REPORTED", "ESCALATED": "ISSUE_ESCALATED"}
"""The runtime's event names and ours."""

FINISHED = {"completed": "succeeded", "complete": "succeeded", "success": "succeeded", "succeeded": "succeeded",
            "done": "succeeded", "failed": "failed", "failure": "failed", "error": "failed", "timeout": "failed",
            "cancelled": "stopped", "canceled": "stopped", "stopped": "stopped", "escalated": "escalated"}
"""The runtime's final statuses and ours (succeeded, failed, stopped, escalated); others pass through."""


def subject_of(repo: str, number: int) -> str:
    """The work item `owner/repo#N`."""
    return f"{repo}#{number}"


def run_started(body: RunOpening, run_id: str) -> Mapped:
    """RUN_STARTED for a run the runtime opened (runs are an agent's, never a person's)."""
    data = p.RunStarted(repo=body.repo, number=body.issue_number, run_id=run_id, agent=body.agent_id,
                        provider=body.provider, model=body.model)
    event = c.RunStartedEvent(source=f"agent:{body.agent_id}", subject=subject_of(body.repo, body.issue_number),
                              key=f"run:{run_id}:started", data=data)
    return Mapped(event, once=True)


def run_step(run: Run, step: RuntimeStep, number: int) -> Mapped:
    """RUN_STEP for the run's `number`-th step."""
    usage = p.Usage(input_tokens=step.input_tokens, output_tokens=step.output_tokens,
                    cache_read_tokens=step.cache_read_tokens, cache_write_tokens=step.cache_creation_tokens)
    data = p.RunStep(run_id=run.run_id, step=step.type, status=step.status, detail=step.detail, turns=step.turns,
                     usage=usage, cost_usd=step.cost_usd)
    event = c.RunStepEvent(source=run.source, subject=run.subject, key=f"run:{run.run_id}:step:{number}", data=data)
    return Mapped(event, once=True)


def run_finished(run: Run, body: RunCompletion, now: datetime) -> Mapped:
    """RUN_FINISHED with the run's totals; its wall time counts from the opening call."""
    usage = p.Usage(input_tokens=body.total_input_tokens, output_tokens=body.total_output_tokens,
                    cache_read_tokens=body.cache_read_tokens, cache_write_tokens=body.cache_creation_tokens)
    status = body.status.strip().lower()
    duration_ms = max(0, int((now - run.started_at).total_seconds() * 1000))
    # The runtime's total is the provider's own figure, computed at API prices: both what we and it would say.
    data = p.RunFinished(repo=run.repo, number=run.issue_number, run_id=run.run_id, status=FINISHED.get(status, status),
                         turns=body.total_turns, usage=usage, cost_usd=body.total_cost_usd,
                         provider_cost_usd=body.total_cost_usd, duration_ms=duration_ms,
                         duration_api_ms=body.duration_api_ms, pr_number=body.pr_number)
    event = c.RunFinishedEvent(source=run.source, subject=run.subject, key=f"run:{run.run_id}:finished", data=data)
    return Mapped(event, once=True)


def our_type(body: RuntimeEvent) -> str:
    """Our name for the body's type; ValueError for one the runtime does not send."""
    ours = EVENT_NAMES.get(body.type)
    if ours is None:
        raise ValueError(f"unknown runtime event type {body.type!r}: known are {', '.join(EVENT_NAMES)}")
    return ours


def _heartbeat(body: RuntimeEvent, item: str | None, event_id: str) -> tuple[Any, str, bool]:
    current = subject_of(body.current_repo, body.current_issue) if body.current_repo and body.current_issue else None
    data = p.AgentHeartbeat(agent=body.pool, status=body.status, provider=body.active_provider or body.provider,
                            current_task=body.current_task or item or current, instance=body.instance,
                            current_repo=body.current_repo, current_issue=body.current_issue,
                            available_providers=body.available_providers, providers=body.providers,
                            integrations=body.integrations)
    return data, f"heartbeat:{body.agent_id}:{event_id}", False


def _usage(body: RuntimeEvent, _item: str | None, event_id: str) -> tuple[Any, str, bool]:
    usage = p.Usage(input_tokens=body.input_tokens, output_tokens=body.output_tokens,
                    cache_read_tokens=body.cache_read_tokens, cache_write_tokens=body.cache_creation_tokens)
    data = p.TokenUsage.model_validate({"agent": body.pool, "model": body.model, "category": body.category,
                                        "usage": usage, "cost_usd": body.cost_usd})
    return data, f"usage:{body.pool}:{event_id}", False


def _stuck(body: RuntimeEvent, _item: str | None, event_id: str) -> tuple[Any, str, bool]:
    return p.AgentStuck(agent=body.pool, reason=body.reason), f"stuck:{body.pool}:{event_id}", False


def _work_started(body: RuntimeEvent, item: str | None, event_id: str) -> tuple[Any, str, bool]:
    repo, number = _work_item(body)
    data = p.WorkStarted(repo=repo, number=number, agent=body.pool, branch=body.branch)
    return data, f"work-started:{item}:{body.pool}:{event_id}", False


def _escalated(body: RuntimeEvent, item: str | None, event_id: str) -> tuple[Any, str, bool]:
    repo, number = _work_item(body)
    data = p.IssueEscalated(repo=repo, number=number, reason=body.reason or "escalated by agent")
    return data, f"escalated:{item}:{body.pool}:{event_id}", False


def _pr_reported(body: RuntimeEvent, _item: str | None, _event_id: str) -> tuple[Any, str, bool]:
    repo, _number = _work_item(body)
    if body.pr_number is None:
        raise ValueError("PR_CREATED needs prNumber")
    data = p.PrReported(repo=repo, pr_number=body.pr_number, url=body.pr_url, branch=body.branch,
                        reporter=body.pool)
    # Reporting the same PR again says nothing new: one PR_REPORTED per PR and reporter.
    return data, f"pr-reported:{repo}#{body.pr_number}:{body.pool}", True


def _work_item(body: RuntimeEvent) -> tuple[str, int]:
    if not body.repo or not body.issue_number:
        raise ValueError(f"{body.type} needs repo and issueNumber: the work item it is about")
    return body.repo, body.issue_number


_BUILDERS = {"AGENT_HEARTBEAT": _heartbeat, "TOKEN_USAGE": _usage, "AGENT_STUCK": _stuck,
             "WORK_STARTED": _work_started, "ISSUE_ESCALATED": _escalated, "PR_REPORTED": _pr_reported}


def runtime_event(body: RuntimeEvent, source: str) -> Mapped:
    """Our event, from `source`, for one of the runtime's `POST /api/events` bodies.

    Raises ValueError for a type or a shape we cannot map. The subject is the work item, else the source itself
    (an idle agent's heartbeat is about the agent).
    """
    ours, event_id = our_type(body), new_event_id()
    item = subject_of(body.repo, body.issue_number) if body.repo and body.issue_number else None
    if item is None and ours == "AGENT_HEARTBEAT" and body.current_repo and body.current_issue:
        item = subject_of(body.current_repo, body.current_issue)  # the runtime's heartbeat names its work so
    data, key, once = _BUILDERS[ours](body, item, event_id)
    event = c.EVENT_TYPES[ours].of(id=event_id, source=source, subject=item or source, key=key, data=data)
    return Mapped(event, once)
