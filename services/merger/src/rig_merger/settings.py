"""Settings of the merger (`RIG_MERGER_…`); GitHub itself is configured by `rig_github`'s `RIG_GITHUB_…`."""

from __future__ import annotations

from pydantic import Field

from rig_service.settings import CommonSettings


class MergerSettings(CommonSettings):
    """The merger's settings (`RIG_MERGER_…`)."""

    merger_blocking_labels: list[str] = Field(
        default_factory=lambda: ["do-not-merge"],
        description="PR labels that hold a merge (a JSON list); the merge waits until every one is removed.")
    merger_require_checks: bool = Field(
        default=True, description="Wait until at least one check run or commit status has reported on the head, "
                                  "so a merge never races CI that has not started yet.")
    merger_required_checks: list[str] = Field(
        default_factory=list,
        description="Check names (check runs or status contexts) every merge waits for, a JSON list, besides the "
                    "ones branch protection requires on the base branch; each must have reported and passed.")
    merger_unknown_first_s: float = Field(
        default=0.5, gt=0, description="First wait before asking GitHub again when it says `mergeable_state` "
                                       "is `unknown` (it is still computing); doubled each time.")
    merger_unknown_max_s: float = Field(
        default=30.0, gt=0, description="Longest wait between two re-checks of an `unknown` mergeable state.")
    merger_unknown_tries: int = Field(
        default=8, ge=1, description="Re-checks of an `unknown` mergeable state before the request just waits for "
                                     "the next event about its PR.")
    merger_retry_first_s: float = Field(
        default=2.0, gt=0, description="First wait before trying again after GitHub failed (5xx or a rate limit "
                                       "the client's own retries could not wait out); doubled each time.")
    merger_retry_max_s: float = Field(
        default=300.0, gt=0, description="Longest wait before trying again after GitHub failed.")
    merger_idle_check_s: float = Field(
        default=30.0, gt=0, description="Longest the merge worker sleeps without a wake-up; a safety net, since "
                                        "requests and events wake it at once.")
    merger_await_approval_s: float = Field(
        default=3600.0, gt=0, description="How long a merge request by {repo, prNumber} that came before its "
                                          "approval waits for the approval (REVIEW_PASSED) before it expires.")
    merger_lease_s: float = Field(
        default=120.0, gt=0, description="How long one worker holds a request it evaluates; another merger "
                                         "process may take it over after that (a crashed one).")
