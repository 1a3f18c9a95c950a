"""The merger's GitHub I/O, through `rig_github`'s client as the conductor: read a PR's facts, merge, comment.

The client already retries 5xx answers and rate limits with backoff and counts each retry
(`rig_github_retries_total`); what still fails here reaches the worker, which tries again later.
"""

from __future__ import annotations

import asyncio
import logging

from rig_github import GitHubClient
from rig_github.models import MergeResult
from rig_merger.domain import PullFacts, Review, check_run, commit_status

log = logging.getLogger(__name__)

CONFLICT_COMMENT = ("rig-conductor cannot merge this pull request: it conflicts with its base branch. "
                    "Rebase it on the base branch (or merge the base in) and push; it will be reviewed again.")


class PullRequests:
    """A PR's facts and the merge, as the conductor's GitHub App."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client

    async def facts(self, repo: str, number: int, sha: str) -> PullFacts:
        """Everything the policy needs, read now: the PR (mergeability included), its reviews, the checks on `sha`.

        The three reads run at once. `sha` is the approved head: if the PR's head is another, the policy stops at
        "head moved" before it looks at checks, so the approved SHA's checks are the ones that matter.
        """
        pull, reviews, checks = await asyncio.gather(self.client.get_pull(repo, number),
                                                     self.client.list_reviews(repo, number),
                                                     self.client.checks(repo, sha))
        # Read after the PR (its base may change); branch protection's required checks, if any (404: none).
        required = await self.client.required_checks(repo, pull.base_ref) or ()
        return PullFacts(
            state=pull.state, draft=pull.draft, merged=pull.merged, head_sha=pull.head_sha,
            mergeable_state=pull.mergeable_state, labels=pull.labels,
            reviews=tuple(Review(r.author, r.state, r.commit_id, r.author_association) for r in reviews),
            checks=(*(check_run(c.name, c.status, c.conclusion) for c in checks.check_runs),
                    *(commit_status(s.context, s.state) for s in checks.statuses)),
            merge_commit_sha=pull.merge_commit_sha, author=pull.author, required_checks=required)

    async def merge(self, repo: str, number: int, sha: str) -> MergeResult:
        """Squash-merge at `sha`: GitHub refuses a moved head (HeadMovedError); already merged is a success."""
        return await self.client.merge(repo, number, sha)

    async def say_conflict(self, repo: str, number: int, sha: str) -> None:
        """One comment per head on a conflicting PR (a hidden marker is checked before posting)."""
        result = await self.client.comment_once(repo, number, f"merge-conflict:{repo}#{number}@{sha}",
                                                CONFLICT_COMMENT)
        if result.posted:
            log.info("commented on %s#%d: conflict at %s", repo, number, sha)
