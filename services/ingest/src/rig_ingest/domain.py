"""Webhook deliveries -> domain events (docs/design.md section 2): pure, one producer per fact, natural keys.

Keys are built from what GitHub puts in the payload (ids, timestamps), never from the delivery guid alone where
the payload allows, so the same fact delivered twice (even under two guids) yields the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rig_contracts import Envelope
from rig_contracts.catalogue import (
    IssueApprovedEvent,
    IssueClosedEvent,
    IssueUnapprovedEvent,
    MergedEvent,
    PrClosedEvent,
    PrCreatedEvent,
    PrLabelsChangedEvent,
    PrUpdatedEvent,
    ReviewDisputedEvent,
    ReviewPassedEvent,
)
from rig_ingest import checks
from rig_ingest.linking import closed_issue
from rig_ingest.webhook import (
    NOTHING,
    SOURCE,
    Delivery,
    Known,
    PullLink,
    Translation,
    Wanted,
    number,
    obj,
    text,
    work_item,
)

STATE_REASONS = frozenset({"completed", "not_planned", "duplicate"})
"""`state_reason`s ISSUE_CLOSED carries; anything else (null included) reads as completed."""

CI_EVENTS = frozenset({"check_suite", "check_run", "status"})
"""Deliveries that report CI results."""


def wanted(delivery: Delivery) -> Wanted:
    """What to look up before translating `delivery`."""
    if delivery.event in CI_EVENTS:
        return checks.wanted(delivery)
    pr = number(obj(delivery.payload, "pull_request"), "number")
    return Wanted(delivery.repo, frozenset({pr} if pr else ()))


def translate(delivery: Delivery, known: Known, approval_label: str) -> Translation:
    """The events `delivery` means, given what ingest knows; NOTHING for deliveries we only store."""
    if not delivery.repo:
        return NOTHING
    if delivery.event == "issues":
        return _issue(delivery, approval_label)
    if delivery.event == "pull_request":
        return _pull_request(delivery, known)
    if delivery.event == "pull_request_review" and delivery.action == "submitted":
        return _review(delivery, known)
    if delivery.event in CI_EVENTS:
        return checks.translate(delivery, known)
    return NOTHING


def _issue(delivery: Delivery, approval_label: str) -> Translation:
    issue, repo = obj(delivery.payload, "issue"), delivery.repo
    num = number(issue, "number")
    if not num:
        return NOTHING
    subject = f"{repo}#{num}"
    moment = text(issue, "updated_at") or delivery.guid
    sender = text(obj(delivery.payload, "sender"), "login")
    label = text(obj(delivery.payload, "label"), "name")
    is_approval = label.casefold() == approval_label.casefold()
    event: Envelope
    if delivery.action == "labeled" and is_approval:
        labels = [text(x, "name") for x in issue.get("labels") or () if isinstance(x, Mapping)]
        event = IssueApprovedEvent.of(
            source=SOURCE, subject=subject, key=f"approved:{subject}:{moment}",
            data={"repo": repo, "number": num, "title": text(issue, "title"), "body": text(issue, "body"),
                  "labels": labels, "author": text(obj(issue, "user"), "login"), "approved_by": sender})
    elif delivery.action == "unlabeled" and is_approval:
        event = IssueUnapprovedEvent.of(source=SOURCE, subject=subject, key=f"unapproved:{subject}:{moment}",
                                        data={"repo": repo, "number": num, "removed_by": sender})
    elif delivery.action == "closed":
        reason = text(issue, "state_reason")
        event = IssueClosedEvent.of(
            source=SOURCE, subject=subject, key=f"closed:{subject}:{text(issue, 'closed_at') or moment}",
            data={"repo": repo, "number": num, "state_reason": reason if reason in STATE_REASONS else "completed"})
    else:
        return NOTHING
    return Translation(events=(event,))


def _pull_request(delivery: Delivery, known: Known) -> Translation:
    pr, repo, action = obj(delivery.payload, "pull_request"), delivery.repo, delivery.action
    num = number(pr, "number")
    head = text(obj(pr, "head"), "sha")
    if not num or not head:
        return NOTHING
    linked = closed_issue(text(pr, "body"), repo)
    subject = work_item(repo, num, known, linked)
    ref = f"{repo}#{num}"
    data: dict[str, Any] = {"repo": repo, "pr_number": num}
    # Who opened it and where its head lives: the router adopts only PRs of the dev App from the base repository.
    origin = {"author": text(obj(pr, "user"), "login"), "head_repo": text(obj(obj(pr, "head"), "repo"), "full_name")}
    link = PullLink(repo.lower(), num, known.issues.get(num) or linked, head)
    event: Envelope
    if action in ("opened", "reopened"):
        if not linked:
            return Translation(links=(link,))
        event = PrCreatedEvent.of(source=SOURCE, subject=f"{repo}#{linked}", key=f"pr:{ref}", data=data | {
            "issue_number": linked, "head_sha": head, "head_ref": text(obj(pr, "head"), "ref"),
            "base_ref": text(obj(pr, "base"), "ref"), "url": text(pr, "html_url")} | origin)
    elif action == "synchronize":
        before = text(delivery.payload, "before")
        event = PrUpdatedEvent.of(source=SOURCE, subject=subject, key=f"pr-head:{ref}:{head}",
                                  data=data | {"head_sha": head, "before_sha": before} | origin)
    elif action in ("labeled", "unlabeled"):
        labels = [text(x, "name") for x in pr.get("labels") or () if isinstance(x, Mapping)]
        label = text(obj(delivery.payload, "label"), "name")
        event = PrLabelsChangedEvent.of(
            source=SOURCE, subject=subject, key=f"pr-labels:{ref}:{action}:{label}:{text(pr, 'updated_at')}",
            data=data | {"labels": labels})
    elif action == "closed" and pr.get("merged") is True:
        event = MergedEvent.of(source=SOURCE, subject=subject, key=f"merged:{ref}",
                               data=data | {"sha": head, "merge_sha": text(pr, "merge_commit_sha")})
    elif action == "closed":
        event = PrClosedEvent.of(source=SOURCE, subject=subject, key=f"pr-closed:{ref}:{text(pr, 'closed_at')}",
                                 data=data)
    else:
        return Translation(links=(link,))
    return Translation(events=(event,), links=(link,))


def _review(delivery: Delivery, known: Known) -> Translation:
    review, pr, repo = obj(delivery.payload, "review"), obj(delivery.payload, "pull_request"), delivery.repo
    num, review_id = number(pr, "number"), number(review, "id")
    state = text(review, "state").lower()
    if not num or review_id is None or state not in ("approved", "changes_requested"):
        return NOTHING
    subject = work_item(repo, num, known, closed_issue(text(pr, "body"), repo))
    data = {"repo": repo, "pr_number": num, "review_id": review_id,
            "commit_id": text(review, "commit_id") or text(obj(pr, "head"), "sha"),
            "reviewer": text(obj(review, "user"), "login"), "author_association": text(review, "author_association"),
            "pr_author": text(obj(pr, "user"), "login")}
    key = f"review:{repo}#{num}:{review_id}"
    event: Envelope
    if state == "approved":
        event = ReviewPassedEvent.of(source=SOURCE, subject=subject, key=key, data=data)
    else:
        event = ReviewDisputedEvent.of(source=SOURCE, subject=subject, key=key,
                                       data=data | {"feedback": text(review, "body")})
    return Translation(events=(event,))
