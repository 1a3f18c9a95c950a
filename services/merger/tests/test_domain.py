"""The merge policy, rule by rule: what GitHub says about a PR now -> merge, wait, re-check or block."""

from dataclasses import replace

import pytest

from rig_contracts.reviewers import Reviewers
from rig_merger import domain
from rig_merger.domain import (
    Outcome,
    PullFacts,
    Review,
    Verdict,
    backoff,
    check_run,
    commit_status,
    latest_reviews,
)

SHA = "a" * 40
OTHER = "b" * 40
GREEN = PullFacts(state="open", draft=False, merged=False, head_sha=SHA, mergeable_state="clean", labels=(),
                  reviews=(Review("review-e[bot]", "APPROVED", SHA),),
                  checks=(check_run("ci", "completed", "success"), commit_status("lint", "success")))
LABELS = ["do-not-merge"]
TRUST = Reviewers("review-e[bot]")


def decide(sha: str, facts: PullFacts, labels: list[str], **options) -> Verdict:
    """The policy with review-e's login configured, as the merger runs it."""
    return domain.decide(sha, facts, labels, **({"reviewers": TRUST} | options))


def test_approved_green_clean_merges() -> None:
    assert decide(SHA, GREEN, LABELS).outcome is Outcome.MERGE
    assert decide(SHA, replace(GREEN, mergeable_state="has_hooks"), LABELS).outcome is Outcome.MERGE


def test_already_merged_is_success_not_a_second_merge() -> None:
    verdict = decide(SHA, replace(GREEN, merged=True, state="closed", merge_commit_sha="c" * 40), LABELS)
    assert (verdict.outcome, verdict.detail, verdict.final) == (Outcome.MERGED, "c" * 40, True)


@pytest.mark.parametrize(("facts", "reason"), [
    (replace(GREEN, head_sha=OTHER), "head moved"),
    (replace(GREEN, state="closed"), "closed"),
])
def test_a_moved_head_or_a_closed_pr_blocks_for_good(facts: PullFacts, reason: str) -> None:
    verdict = decide(SHA, facts, LABELS)
    assert (verdict.outcome, verdict.reason, verdict.final) == (Outcome.BLOCKED, reason, True)


def test_a_blocking_label_blocks_until_removed_whatever_its_case() -> None:
    verdict = decide(SHA, replace(GREEN, labels=("bug", "Do-Not-Merge")), LABELS)
    assert (verdict.outcome, verdict.reason, verdict.detail, verdict.final) == (
        Outcome.BLOCKED, "label", "Do-Not-Merge", False)
    assert decide(SHA, replace(GREEN, labels=("bug",)), LABELS).outcome is Outcome.MERGE
    assert decide(SHA, replace(GREEN, labels=("hold",)), ["hold"]).reason == "label"


def test_failing_checks_block_with_what_failed_and_pending_ones_wait() -> None:
    failed = replace(GREEN, checks=(check_run("ci", "completed", "failure"), commit_status("lint", "error"),
                                    check_run("docs", "in_progress", None)))
    verdict = decide(SHA, failed, LABELS)
    assert (verdict.outcome, verdict.reason, verdict.detail) == (Outcome.BLOCKED, "checks failed",
                                                                 "ci: failure; lint: error")
    pending = replace(GREEN, checks=(check_run("ci", "completed", "success"), commit_status("lint", "pending")))
    assert (decide(SHA, pending, LABELS).outcome, decide(SHA, pending, LABELS).reason) == (
        Outcome.WAIT, "checks pending")
    skipped = replace(GREEN, checks=(check_run("ci", "completed", "skipped"), check_run("n", "completed", "neutral")))
    assert decide(SHA, skipped, LABELS).outcome is Outcome.MERGE


def test_no_check_reported_yet_waits_unless_checks_are_not_required() -> None:
    bare = replace(GREEN, checks=())
    assert decide(SHA, bare, LABELS).reason == "checks pending"
    assert decide(SHA, bare, LABELS, require_checks=False).outcome is Outcome.MERGE


def test_the_approval_must_be_at_exactly_the_head() -> None:
    stale = replace(GREEN, reviews=(Review("review-e[bot]", "APPROVED", OTHER),))
    assert (decide(SHA, stale, LABELS).outcome, decide(SHA, stale, LABELS).reason) == (
        Outcome.WAIT, "awaiting approval")
    assert decide(SHA, replace(GREEN, reviews=()), LABELS).reason == "awaiting approval"
    disputed = replace(GREEN, reviews=(*GREEN.reviews, Review("maintainer", "CHANGES_REQUESTED", SHA, "MEMBER")))
    assert decide(SHA, disputed, LABELS, reviewers=Reviewers("review-e[bot]", True)).reason == "changes requested"
    r = "review-e[bot]"
    later = replace(GREEN, reviews=(Review(r, "CHANGES_REQUESTED", SHA), Review(r, "COMMENTED", SHA),
                                    Review(r, "APPROVED", SHA)))
    assert decide(SHA, later, LABELS).outcome is Outcome.MERGE
    assert latest_reviews(later.reviews)[r].state == "APPROVED"


def test_only_review_e_and_configured_maintainers_approve_or_hold_a_merge() -> None:
    outsider = replace(GREEN, reviews=(Review("mallory", "APPROVED", SHA, "NONE"),))
    assert decide(SHA, outsider, LABELS).reason == "awaiting approval"
    member = replace(GREEN, reviews=(Review("alice", "APPROVED", SHA, "MEMBER"),))
    assert decide(SHA, member, LABELS).reason == "awaiting approval"
    assert decide(SHA, member, LABELS, reviewers=Reviewers("review-e[bot]", True)).outcome is Outcome.MERGE
    # A maintainer's own PR: their approval is a self-approval and never counts.
    assert decide(SHA, replace(member, author="alice"), LABELS,
                  reviewers=Reviewers("review-e[bot]", True)).reason == "awaiting approval"
    # An outsider's "changes requested" neither holds the merge nor counts as a dispute.
    held = replace(GREEN, reviews=(*GREEN.reviews, Review("mallory", "CHANGES_REQUESTED", SHA, "CONTRIBUTOR")))
    assert decide(SHA, held, LABELS).outcome is Outcome.MERGE
    # With no review login configured nobody's approval counts.
    assert domain.decide(SHA, GREEN, LABELS).reason == "awaiting approval"


def test_every_required_check_must_have_reported_and_passed() -> None:
    quick = replace(GREEN, checks=(check_run("lint", "completed", "success"),), required_checks=("lint", "e2e"))
    verdict = decide(SHA, quick, LABELS)
    assert (verdict.outcome, verdict.reason) == (Outcome.WAIT, "checks pending") and "e2e" in verdict.detail
    # The same from the setting, without branch protection.
    quick = replace(quick, required_checks=())
    assert decide(SHA, quick, LABELS, required_checks=["e2e"]).reason == "checks pending"
    both = replace(quick, checks=(*quick.checks, commit_status("e2e", "success")), required_checks=("lint", "e2e"))
    assert decide(SHA, both, LABELS).outcome is Outcome.MERGE
    failing = replace(both, checks=(*quick.checks, check_run("e2e", "completed", "failure")))
    assert decide(SHA, failing, LABELS).reason == "checks failed"


@pytest.mark.parametrize(("state", "outcome", "reason"), [
    ("unknown", Outcome.RECHECK, "mergeability unknown"),
    ("unstable", Outcome.BLOCKED, "checks failed"),
    ("behind", Outcome.BLOCKED, "behind"),
    ("dirty", Outcome.BLOCKED, "conflict"),
    ("blocked", Outcome.WAIT, "blocked"),
    ("draft", Outcome.WAIT, "draft"),
])
def test_mergeable_state(state: str, outcome: Outcome, reason: str) -> None:
    verdict = decide(SHA, replace(GREEN, mergeable_state=state), LABELS)
    assert (verdict.outcome, verdict.reason) == (outcome, reason)


def test_a_draft_waits() -> None:
    assert decide(SHA, replace(GREEN, draft=True), LABELS).reason == "draft"


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff(n, 0.5, 3) for n in range(5)] == [0.5, 1, 2, 3, 3]
