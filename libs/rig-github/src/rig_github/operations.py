"""The blocking GitHub operations the services need, each a function of a `Github` run in a pool thread.

Every function reads all it returns inside the call (lazy attributes such as `mergeable_state` included) and
returns a snapshot from `rig_github.models`, never a PyGithub object. The client wraps each one in its pool.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

from github import Github, GithubException
from github.Commit import Commit
from github.GithubObject import NotSet
from github.PullRequest import PullRequest

from rig_github.errors import GitHubError, HeadMovedError, NotMergeableError, translate
from rig_github.models import (
    ChangedFile,
    CheckRunInfo,
    ChecksInfo,
    CommentResult,
    Comparison,
    Delivery,
    DeliveryPage,
    FileContent,
    MergeResult,
    PullInfo,
    RepoInfo,
    ReviewEvent,
    ReviewInfo,
    StatusInfo,
)

_MARKER_KEY = re.compile(r"^[A-Za-z0-9_.:/#@+=-]{1,200}$")


def marker(key: str) -> str:
    """The hidden HTML comment that identifies a comment posted for `key`: `<!-- rig:{key} -->`."""
    if not _MARKER_KEY.match(key):
        raise ValueError(f"comment key {key!r}: use 1-200 letters, digits and _.:/#@+=- (it ends up in HTML)")
    return f"<!-- rig:{key} -->"


def get_repo(gh: Github, full_name: str) -> RepoInfo:
    """A repository's name, id, default branch and address."""
    repo = gh.get_repo(full_name)
    return RepoInfo(full_name=repo.full_name, id=repo.id, default_branch=repo.default_branch,
                    private=repo.private, html_url=repo.html_url, clone_url=repo.clone_url)


def get_file(gh: Github, full_name: str, path: str, ref: str | None = None) -> FileContent | None:
    """A file's text and blob SHA at `ref` (default: the default branch), None when there is no such file."""
    repo = gh.get_repo(full_name)
    try:
        found = repo.get_contents(path, ref=ref) if ref else repo.get_contents(path)
    except GithubException as error:
        if error.status == 404:
            return None
        raise
    if isinstance(found, list):
        raise GitHubError(f"{full_name}:{path} is a directory, not a file")
    return FileContent(path=found.path, sha=found.sha, text=found.decoded_content.decode())


def comment_once(gh: Github, full_name: str, number: int, key: str, body: str, author: str) -> CommentResult:
    """Post `body` on an issue or PR unless a comment by `author` (our own login) with the marker of `key` is there.

    Anyone can write our hidden marker into a comment: only our own comments count, so nobody suppresses ours.
    """
    tag = marker(key)
    issue = gh.get_repo(full_name).get_issue(number)
    for comment in issue.get_comments():
        if tag in (comment.body or "") and comment.user is not None and comment.user.login == author:
            return CommentResult(id=comment.id, html_url=comment.html_url, posted=False)
    made = issue.create_comment(f"{body}\n\n{tag}")
    return CommentResult(id=made.id, html_url=made.html_url, posted=True)


def own_login(gh: Github, *, as_app: bool) -> str:
    """The login GitHub shows on what this client writes: an App's bot user (`<slug>[bot]`), else the token's user."""
    if as_app:  # `Github.get_app()` without a slug is deprecated: ask for the authenticated App itself
        _, app = gh.requester.requestJsonAndCheck("GET", "/app")
        return f"{app['slug']}[bot]"
    return gh.get_user().login


def add_labels(gh: Github, full_name: str, number: int, labels: tuple[str, ...]) -> None:
    """Add labels to an issue or PR (labels it already has stay as they are)."""
    gh.get_repo(full_name).get_issue(number).add_to_labels(*labels)


def remove_label(gh: Github, full_name: str, number: int, label: str) -> None:
    """Remove a label from an issue or PR; a label that is not there is already removed."""
    try:
        gh.get_repo(full_name).get_issue(number).remove_from_labels(label)
    except GithubException as error:
        if error.status != 404:
            raise


def pull_info(full_name: str, pr: PullRequest) -> PullInfo:
    """Snapshot a PR; reading `mergeable_state` may fetch it (GitHub computes mergeability lazily)."""
    return PullInfo(
        repo=full_name, number=pr.number, title=pr.title, body=pr.body or "", state=pr.state, draft=bool(pr.draft),
        merged=bool(pr.merged), mergeable=pr.mergeable, mergeable_state=pr.mergeable_state or "unknown",
        head_sha=pr.head.sha, head_ref=pr.head.ref, base_ref=pr.base.ref,
        author=pr.user.login if pr.user else "ghost", labels=tuple(label.name for label in pr.labels),
        html_url=pr.html_url, merge_commit_sha=pr.merge_commit_sha,
    )


def get_pull(gh: Github, full_name: str, number: int) -> PullInfo:
    """A PR as GitHub sees it now, its mergeability included."""
    return pull_info(full_name, gh.get_repo(full_name).get_pull(number))


def pull_files(gh: Github, full_name: str, number: int) -> list[ChangedFile]:
    """The files a PR changes, each with its patch."""
    return [ChangedFile(filename=f.filename, status=f.status, additions=f.additions, deletions=f.deletions,
                        patch=f.patch or "")
            for f in gh.get_repo(full_name).get_pull(number).get_files()]


def compare(gh: Github, full_name: str, base: str, head: str) -> Comparison:
    """The files `base...head` changes (from their merge base), each with its patch (none for binary or huge files).

    GitHub lists at most 300 files here; a larger change is what the caller has to say it did not see.
    """
    found = gh.get_repo(full_name).compare(base, head)
    files = tuple(ChangedFile(filename=f.filename, status=f.status, additions=f.additions, deletions=f.deletions,
                              patch=f.patch or "") for f in found.files)
    return Comparison(base=base, head=head, files=files, total_commits=found.total_commits, status=found.status)


def required_checks(gh: Github, full_name: str, branch: str) -> tuple[str, ...] | None:
    """The status checks branch protection requires on `branch`, None when it requires none (GitHub's 404)."""
    branch_path = f"/repos/{full_name}/branches/{quote(branch, safe='')}"
    try:
        _, data = gh.requester.requestJsonAndCheck("GET", f"{branch_path}/protection/required_status_checks")
    except GithubException as error:
        if error.status == 404:  # "Branch not protected" or "Required status checks not enabled"
            return None
        if error.status != 403:
            raise
        # An App without the administration permission may not read protection, but the branch shows its checks.
        _, shown = gh.requester.requestJsonAndCheck("GET", branch_path)
        if not shown.get("protected"):
            return None
        data = (shown.get("protection") or {}).get("required_status_checks") or {}
    names = [str(c) for c in data.get("contexts") or ()]
    names += [str(c["context"]) for c in data.get("checks") or () if isinstance(c, dict) and c.get("context")]
    return tuple(dict.fromkeys(names))


def list_reviews(gh: Github, full_name: str, number: int) -> list[ReviewInfo]:
    """Every review submitted on a PR, oldest first."""
    return [
        ReviewInfo(id=review.id, author=review.user.login if review.user else "ghost", state=review.state,
                   commit_id=review.commit_id, body=review.body or "", submitted_at=review.submitted_at,
                   author_association=review.author_association or "")
        for review in gh.get_repo(full_name).get_pull(number).get_reviews()
    ]


def checks(gh: Github, full_name: str, sha: str) -> ChecksInfo:
    """The check runs and the combined commit status of a commit."""
    commit = gh.get_repo(full_name).get_commit(sha)
    runs = tuple(CheckRunInfo(name=run.name, status=run.status, conclusion=run.conclusion)
                 for run in commit.get_check_runs())
    combined = commit.get_combined_status()
    statuses = tuple(StatusInfo(context=status.context, state=status.state, description=status.description)
                     for status in combined.statuses)
    return ChecksInfo(sha=sha, check_runs=runs, combined_state=combined.state, statuses=statuses)


def merge(gh: Github, full_name: str, number: int, sha: str, title: str | None = None,
          message: str | None = None) -> MergeResult:
    """Squash-merge a PR at the approved head `sha`; a PR found merged already is a success, not a second merge.

    Raises HeadMovedError when the head is no longer `sha` (409) and NotMergeableError when GitHub will not
    merge (405) a PR that is not merged.
    """
    pr = gh.get_repo(full_name).get_pull(number)
    try:
        done = pr.merge(merge_method="squash", sha=sha, commit_title=title if title is not None else NotSet,
                        commit_message=message if message is not None else NotSet)
    except GithubException as error:
        if error.status not in (405, 409):
            raise
        now = gh.get_repo(full_name).get_pull(number)
        if now.merged:
            return MergeResult(merged=True, already_merged=True, merge_commit_sha=now.merge_commit_sha,
                               head_sha=now.head.sha, message="already merged")
        problem = translate(error).message
        if error.status == 409:
            raise HeadMovedError(f"{full_name}#{number}: head is {now.head.sha}, not the approved {sha}: {problem}",
                                 status=409, data=error.data) from error
        raise NotMergeableError(f"{full_name}#{number} is not mergeable ({now.mergeable_state}): {problem}",
                                status=405, data=error.data) from error
    return MergeResult(merged=bool(done.merged), already_merged=False, merge_commit_sha=done.sha, head_sha=sha,
                       message=done.message or "")


def create_review(gh: Github, full_name: str, number: int, commit_id: str, event: ReviewEvent,
                  body: str = "") -> ReviewInfo:
    """Submit a review at `commit_id` (approve, request changes or comment)."""
    repo = gh.get_repo(full_name)
    # The SHA is known: a Commit with it set, so PyGithub does not fetch the commit to learn it.
    commit = Commit(gh.requester, attributes={"sha": commit_id}, url=f"{repo.url}/commits/{commit_id}",
                    completed=False)
    review = repo.get_pull(number).create_review(commit=commit, body=body, event=event)
    return ReviewInfo(id=review.id, author=review.user.login if review.user else "ghost", state=review.state,
                      commit_id=review.commit_id, body=review.body or "", submitted_at=review.submitted_at)


def open_pull(gh: Github, full_name: str, head: str, title: str, body: str, base: str | None = None,
              draft: bool = False) -> PullInfo:
    """Open a PR from branch `head` (default base: the default branch); an open PR for `head` is returned as is."""
    repo = gh.get_repo(full_name)
    target = base or repo.default_branch
    try:
        pr = repo.create_pull(base=target, head=head, title=title, body=body, draft=draft)
    except GithubException as error:
        if error.status != 422 or "already exists" not in translate(error).message:
            raise
        owner_head = head if ":" in head else f"{full_name.split('/', maxsplit=1)[0]}:{head}"
        for existing in repo.get_pulls(state="open", head=owner_head, base=target):
            return pull_info(full_name, existing)
        raise
    return pull_info(full_name, pr)


def _delivery(data: dict[str, Any]) -> Delivery:
    return Delivery(id=int(data["id"]), guid=str(data.get("guid", "")), event=str(data.get("event", "")),
                    action=data.get("action"), status_code=int(data.get("status_code") or 0),
                    status=str(data.get("status", "")), redelivery=bool(data.get("redelivery")),
                    delivered_at=str(data.get("delivered_at", "")), raw=data)


def next_cursor(link: str | None) -> str | None:
    """The `cursor` of the `rel="next"` URL in a Link header, None when there is no next page."""
    for part in (link or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            cursors = parse_qs(urlparse(url.strip().strip("<>")).query).get("cursor")
            return cursors[0] if cursors else None
    return None


def list_deliveries(gh: Github, per_page: int = 50, cursor: str | None = None) -> DeliveryPage:
    """A page of the App's webhook deliveries (needs the App's JWT: `gh` authenticated as the App)."""
    parameters: dict[str, Any] = {"per_page": per_page} | ({"cursor": cursor} if cursor else {})
    headers, data = gh.requester.requestJsonAndCheck("GET", "/app/hook/deliveries", parameters=parameters)
    return DeliveryPage(deliveries=tuple(_delivery(item) for item in data or []),
                        next_cursor=next_cursor(headers.get("link")))


def get_delivery(gh: Github, delivery_id: int) -> Delivery:
    """One delivery with its request and response (`raw["request"]`, `raw["response"]`)."""
    _, data = gh.requester.requestJsonAndCheck("GET", f"/app/hook/deliveries/{delivery_id}")
    return _delivery(data)


def redeliver(gh: Github, delivery_id: int) -> None:
    """Ask GitHub to send a delivery again (it answers 202 and delivers soon after)."""
    gh.requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{delivery_id}/attempts")
