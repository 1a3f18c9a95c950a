"""The translation of deliveries into events, pure: corpus payloads, adjusted where the corpus lacks a case."""

from typing import Any

import pytest
from ingest_support import every_payload, example

from rig_ingest import domain
from rig_ingest.webhook import Delivery, Known, PullLink, Translation

REPO = "Codertocat/Hello-World"
LABEL = "agent-ready"


def translate(event: str, payload: dict[str, Any], known: Known | None = None,
              guid: str = "guid-1") -> Translation:
    return domain.translate(Delivery(guid, event, payload), known or Known(), LABEL)


def only(translation: Translation) -> Any:
    assert len(translation.events) == 1, translation.events
    return translation.events[0]


@pytest.mark.parametrize(("event", "index", "payload"), list(every_payload()),
                         ids=[f"{e}-{i}" for e, i, _ in every_payload()])
def test_every_corpus_payload_translates_without_error(event, index, payload):
    translation = translate(event, payload)
    assert all(e.source == "ingest" for e in translation.events)


def approval(action: str = "labeled", label: str = LABEL) -> dict[str, Any]:
    payload = example("issues", "labeled")
    payload["action"] = action
    payload["label"]["name"] = label
    payload["issue"]["labels"] = [{"name": label}]
    return payload


def test_agent_ready_label_approves_the_issue_with_the_same_key_under_another_guid():
    payload = approval()
    event = only(translate("issues", payload))
    again = only(translate("issues", payload, guid="guid-2"))
    number = payload["issue"]["number"]
    assert event.type == "ISSUE_APPROVED"
    assert event.subject == f"{REPO}#{number}"
    assert event.data.title == payload["issue"]["title"]
    assert event.data.labels == (LABEL,)
    assert event.data.approved_by == payload["sender"]["login"]
    assert event.key == again.key and event.id != again.id


def test_label_match_ignores_case_and_other_labels_mean_nothing():
    assert only(translate("issues", approval(label="Agent-Ready"))).type == "ISSUE_APPROVED"
    assert translate("issues", example("issues", "labeled")).events == ()


def test_removing_the_label_unapproves():
    event = only(translate("issues", approval("unlabeled")))
    assert event.type == "ISSUE_UNAPPROVED"
    assert event.data.removed_by == example("issues", "labeled")["sender"]["login"]


@pytest.mark.parametrize(("reason", "expected"), [("completed", "completed"), ("not_planned", "not_planned"),
                                                  ("duplicate", "duplicate"), (None, "completed")])
def test_closing_an_issue_reports_its_state_reason(reason, expected):
    payload = example("issues", "opened")
    payload["action"] = "closed"
    payload["issue"].update(state="closed", state_reason=reason, closed_at="2026-01-01T00:00:00Z")
    event = only(translate("issues", payload))
    assert event.type == "ISSUE_CLOSED"
    assert event.data.state_reason == expected
    assert event.key == f"closed:{REPO}#{payload['issue']['number']}:2026-01-01T00:00:00Z"


def pull_request(action: str, body: str = "Fixes #7") -> dict[str, Any]:
    payload = example("pull_request", action)
    payload["pull_request"]["body"] = body
    return payload


def test_opened_pr_with_a_closing_keyword_is_created_on_its_issue_and_remembered():
    payload = pull_request("opened", "This closes codertocat/hello-world#7.")
    translation = translate("pull_request", payload)
    event = only(translation)
    pr = payload["pull_request"]
    assert event.type == "PR_CREATED"
    assert event.subject == f"{REPO}#7"
    assert event.key == f"pr:{REPO}#{pr['number']}"
    assert (event.data.issue_number, event.data.head_sha, event.data.head_ref) == (7, pr["head"]["sha"],
                                                                                   pr["head"]["ref"])
    assert translation.links == (PullLink(REPO.lower(), pr["number"], 7, pr["head"]["sha"]),)


def test_created_and_updated_prs_say_who_opened_them_and_where_their_head_lives():
    opened, pushed = pull_request("opened"), pull_request("synchronize")
    created = only(translate("pull_request", opened))
    updated = only(translate("pull_request", pushed, Known(issues={pushed["pull_request"]["number"]: 7})))
    assert (created.data.author, created.data.head_repo) == ("Codertocat", REPO)
    assert (updated.data.author, updated.data.head_repo) == ("Codertocat", REPO)


def test_a_pr_from_a_fork_names_the_fork_as_its_head_repository():
    payload = pull_request("opened")
    head = payload["pull_request"]["head"]
    head["repo"] = {**head["repo"], "full_name": "outsider/Hello-World", "fork": True}
    head["label"], head["ref"] = "outsider:main", "main"
    payload["pull_request"]["user"]["login"] = "outsider"
    created = only(translate("pull_request", payload))
    assert (created.data.head_repo, created.data.head_ref, created.data.author) == ("outsider/Hello-World", "main",
                                                                                    "outsider")
    head["repo"] = None  # the fork was deleted: GitHub sends no head repository
    assert only(translate("pull_request", payload, guid="guid-2")).data.head_repo == ""


def test_opened_pr_without_a_keyword_is_only_remembered():
    translation = translate("pull_request", pull_request("opened", "no link"))
    assert translation.events == ()
    assert translation.links[0].issue_number is None


def test_synchronize_updates_the_head_on_the_remembered_issue():
    payload = pull_request("synchronize", body="")
    pr = payload["pull_request"]
    event = only(translate("pull_request", payload, Known(issues={pr["number"]: 7})))
    assert event.type == "PR_UPDATED"
    assert event.subject == f"{REPO}#7"
    assert (event.data.head_sha, event.data.before_sha) == (pr["head"]["sha"], payload["before"])


def test_pr_label_changes_carry_the_labels_after_the_change():
    for action in ("labeled", "unlabeled"):
        payload = pull_request(action)
        event = only(translate("pull_request", payload))
        assert event.type == "PR_LABELS_CHANGED"
        assert event.data.labels == tuple(label["name"] for label in payload["pull_request"]["labels"])
        assert event.subject == f"{REPO}#7"


def test_closed_pr_is_merged_or_closed():
    payload = pull_request("closed")
    assert only(translate("pull_request", payload)).type == "PR_CLOSED"
    payload["pull_request"].update(merged=True, merge_commit_sha="m" * 40)
    event = only(translate("pull_request", payload))
    assert event.type == "MERGED"
    assert (event.data.sha, event.data.merge_sha) == (payload["pull_request"]["head"]["sha"], "m" * 40)
    assert event.key == f"merged:{REPO}#{payload['pull_request']['number']}"


@pytest.mark.parametrize(("state", "kind"), [("approved", "REVIEW_PASSED"),
                                             ("changes_requested", "REVIEW_DISPUTED"), ("commented", None)])
def test_reviews_pass_or_dispute_at_their_commit(state, kind):
    payload = example("pull_request_review", "submitted")
    payload["review"].update(state=state, body="please rename")
    review = payload["review"]
    translation = translate("pull_request_review", payload, Known(issues={payload["pull_request"]["number"]: 7}))
    if kind is None:
        assert translation.events == ()
        return
    event = only(translation)
    assert event.type == kind
    assert event.subject == f"{REPO}#7"
    assert event.key == f"review:{REPO}#{payload['pull_request']['number']}:{review['id']}"
    assert event.data.commit_id == review["commit_id"]
    # Who reviewed, how they relate to the repository, and whose PR it is: what decides whether it counts.
    assert event.data.author_association == review["author_association"]
    assert event.data.pr_author == payload["pull_request"]["user"]["login"]
    if kind == "REVIEW_DISPUTED":
        assert event.data.feedback == "please rename"


def test_checks_find_their_issue_through_the_head_map():
    payload = example("check_suite", "completed", 1)  # the one with no pull_requests, like a fork's
    sha = payload["check_suite"]["head_sha"]
    assert payload["check_suite"]["pull_requests"] == []
    unknown = only(translate("check_suite", payload))
    assert unknown.type == "CHECKS_COMPLETED"
    assert unknown.subject == f"{REPO}@{sha}"
    known = only(translate("check_suite", payload, Known(issues={2: 7}, heads={sha: 2})))
    assert known.subject == f"{REPO}#7"
    assert known.data.pr_number == 2
    assert known.key == unknown.key


def test_check_run_and_status_complete_and_unfinished_ones_do_not():
    run = only(translate("check_run", example("check_run", "completed")))
    assert (run.data.conclusion, run.data.checks[0].name) == ("failure", "Octocoders-linter")
    assert run.subject == f"{REPO}#2"  # listed PR, not yet linked to an issue
    status = example("status")
    event = only(translate("status", status))
    assert (event.data.conclusion, event.data.checks[0].name) == ("success", status["context"])
    status["state"] = "pending"
    assert translate("status", status).events == ()
    assert translate("check_suite", example("check_suite", "requested")).events == ()
    assert translate("check_run", example("check_run", "created")).events == ()
