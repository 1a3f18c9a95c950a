"""PyGithub, unmodified, through the client library, performs every operation of GitHub's description (the
subset rig-conductor uses) against the sandbox run as its own process, with delivery chaos on.

`STEPS` maps each operation id to a call through `GitHubClient` (its helpers, or `run` with PyGithub's public
API) made as the role that makes it in rig-conductor, and to what the answer must be. What proves the operation
was performed is PyGithub's own request log: during its step PyGithub sent a request matching the operation's
method and path template, and the sandbox answered it with a 2xx.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from github import Github, GithubIntegration
from github.Repository import Repository
from github_sandbox_support import (
    CHAOS_SEED,
    SUBSET,
    Roles,
    Sandbox,
    all_deliveries,
    receiving,
    sandbox_process,
)

from rig_github import GitHubClient
from rig_testing.waiting import eventually

REPO = "acme/widgets"
FILES = {"README.md": "# widgets\n", "src/app.js": "module.exports = 1;\n"}


@dataclass(frozen=True)
class Operation:
    """One operation of GitHub's description: its id, method and path template."""

    id: str
    method: str
    template: str

    def matches(self, method: str, path: str) -> bool:
        """Whether a request path (no query) is an instance of this operation's template."""
        pattern = re.sub(r"\\\{(\w+)\\\}", lambda m: ".+" if m.group(1) in ("path", "ref") else "[^/]+",
                         re.escape(self.template))
        return method == self.method and re.fullmatch(pattern, path) is not None


def operations() -> list[Operation]:
    """Every operation of the subset file."""
    spec = json.loads(SUBSET.read_text())
    return [Operation(op["operationId"], method.upper(), path) for path, methods in spec["paths"].items()
            for method, op in methods.items() if method in ("get", "post", "put", "patch", "delete")]


class Wire(logging.Handler):
    """Every request PyGithub sent, read from its own request log: (METHOD, path, HTTP status)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.requests: list[tuple[str, str, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        # PyGithub logs "%s %s://%s%s %s %s ==> %i …": verb, scheme, host, url, headers, body, status, …
        if str(record.msg).startswith("%s %s://%s%s") and isinstance(record.args, tuple):
            verb, url, status = record.args[0], record.args[3], record.args[6]
            self.requests.append((str(verb), str(url).split("?")[0], int(str(status))))

    def operations_since(self, mark: int, every: list[Operation]) -> list[tuple[str, int]]:
        """(operation id, status) of each request made after position `mark` of the record."""
        return [(op.id, status) for method, path, status in self.requests[mark:]
                for op in every if op.matches(method, path)]


@contextlib.contextmanager
def wire() -> Iterator[Wire]:
    """Record PyGithub's requests for the block."""
    logger, handler = logging.getLogger("github.Requester"), Wire()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@dataclass
class Run:
    """What the steps share: the sandbox, a client per role, and what earlier steps kept."""

    sandbox: Sandbox
    roles: Roles
    seen: dict[str, Any] = field(default_factory=dict)

    def app(self, role: str, key: str) -> Any:
        return self.sandbox.apps[role][key]


Call = Callable[[Run], Awaitable[Any]]


@dataclass(frozen=True)
class Step:
    """The call that performs `operation`, what its answer must satisfy, and under which name to keep it."""

    operation: str
    call: Call
    expect: Callable[[Run, Any], bool]
    keep: str | None = None


def client(run: Run, role: str) -> GitHubClient:
    found: GitHubClient = getattr(run.roles, role)
    return found


def pygithub(role: str, fn: Callable[[Repository, dict[str, Any]], Any]) -> Call:
    """`fn(repository, seen)` with PyGithub, in the pool of the `role` client."""
    return lambda run: client(run, role).run(lambda gh: fn(gh.get_repo(REPO), run.seen))


def as_app(fn: Callable[[GithubIntegration], Any]) -> Call:
    """`fn` with PyGithub's `GithubIntegration` made from the conductor client's App-authenticated `Github`
    (as PyGithub's own `Github.get_app()` does), in the client's pool."""
    def call(gh: Github) -> Any:
        with GithubIntegration(**gh.requester.kwargs) as integration:
            return fn(integration)
    return lambda run: run.roles.conductor.run(call, as_app=True)


def compared(comparison: Any) -> tuple[int, list[str]]:
    return comparison.ahead_by, [f.filename for f in comparison.files]


def first_issue(repo: Repository) -> tuple[str, str, str]:
    issue = repo.get_issue(1)
    return issue.title, issue.state, issue.user.login


def edited(thing: Any, **changes: Any) -> Any:
    thing.edit(**changes)
    return thing


async def create_feature_branch(run: Run) -> str:
    """Create `feature` at main through the API (dev), then push a commit to it through the control API."""
    made: str = await pygithub("dev", lambda repo, seen: repo.create_git_ref("refs/heads/feature",
                                                                             seen["main"]).ref)(run)
    run.seen["head"] = (await run.sandbox.post(f"/repos/{REPO}/commits", {
        "branch": "feature", "files": {"src/feature.js": "module.exports = 2;\n"}, "message": "Add feature"}))["sha"]
    return made


async def closed_delivery(run: Run) -> Any:
    async def closed() -> list[Any]:
        return [d for d in (await run.roles.conductor.list_deliveries(per_page=100)).deliveries
                if (d.event, d.action) == ("issues", "closed")]
    return (await eventually(closed, what="issues.closed in the App's deliveries"))[0]


async def redelivered(run: Run) -> bool:
    original = run.seen["delivery"]
    await run.roles.conductor.redeliver(original.id)

    async def listed() -> bool:
        return any(d.redelivery and d.guid == original.guid and d.status == "OK"
                   for d in await all_deliveries(run.roles.conductor))
    return bool(await eventually(listed, what="the redelivery listed as delivered"))


STEPS = [
    Step("apps/create-installation-access-token", lambda run: run.roles.conductor.installation_token(),
         lambda run, token: token.startswith("ghs_")),
    Step("apps/get-authenticated", as_app(lambda gi: gi.get_app().slug),
         lambda run, slug: slug == run.app("conductor", "slug")),
    Step("apps/list-installations", as_app(lambda gi: [each.id for each in gi.get_installations()]),
         lambda run, ids: ids == [run.app("conductor", "installation_id")]),
    Step("apps/get-repo-installation", as_app(lambda gi: gi.get_repo_installation("acme", "widgets").id),
         lambda run, found: found == run.app("conductor", "installation_id")),
    Step("rate-limit/get", lambda run: run.roles.conductor.run(lambda gh: gh.get_rate_limit().resources.core.limit),
         lambda run, limit: limit > 0),
    Step("repos/get", lambda run: run.roles.conductor.get_repo(REPO),
         lambda run, repo: (repo.full_name, repo.default_branch, repo.private) == (REPO, "main", True)),
    Step("repos/get-branch", pygithub("conductor", lambda repo, _: repo.get_branch("main").commit.sha),
         lambda run, sha: len(sha) == 40, keep="main"),
    Step("repos/get-content", lambda run: run.roles.conductor.get_file(REPO, "README.md"),
         lambda run, found: found.text == FILES["README.md"]),
    Step("git/get-ref", pygithub("conductor", lambda repo, _: repo.get_git_ref("heads/main").object.sha),
         lambda run, sha: sha == run.seen["main"]),
    Step("git/create-ref", create_feature_branch, lambda run, ref: ref == "refs/heads/feature"),
    Step("repos/compare-commits", pygithub("dev", lambda repo, _: compared(repo.compare("main", "feature"))),
         lambda run, got: got == (1, ["src/feature.js"])),
    Step("repos/list-webhooks", pygithub("conductor", lambda repo, _: list(repo.get_hooks())),
         lambda run, hooks: hooks == []),  # the webhook is the App's, not the repository's
    Step("issues/create", pygithub("conductor", lambda repo, _: repo.create_issue("Do it", labels=["bug"]).number),
         lambda run, number: number == 1),
    Step("issues/get", pygithub("conductor", lambda repo, _: first_issue(repo)),
         lambda run, found: found == ("Do it", "open", run.app("conductor", "bot_login"))),
    Step("issues/update", pygithub("conductor", lambda repo, _: edited(repo.get_issue(1), title="Do it well").title),
         lambda run, title: title == "Do it well"),
    Step("issues/create-comment", lambda run: run.roles.conductor.comment_once(REPO, 1, "plan", "On it"),
         lambda run, made: made.posted),
    Step("issues/list-comments", lambda run: run.roles.conductor.comment_once(REPO, 1, "plan", "On it"),
         lambda run, made: not made.posted),  # found by listing the comments
    Step("issues/add-labels", lambda run: run.roles.conductor.add_labels(REPO, 1, "agent-ready"),
         lambda run, _: True),
    Step("issues/list-labels-on-issue", pygithub("conductor", lambda repo, _: sorted(
        label.name for label in repo.get_issue(1).get_labels())), lambda run, names: names == ["agent-ready", "bug"]),
    Step("issues/remove-label", lambda run: run.roles.conductor.remove_label(REPO, 1, "bug"), lambda run, _: True),
    Step("pulls/create", lambda run: run.roles.dev.open_pull(REPO, head="feature", title="Feature", body="Closes #1"),
         lambda run, pull: (pull.number, pull.head_sha, pull.author) == (
             2, run.seen["head"], run.app("dev", "bot_login"))),
    Step("pulls/list", pygithub("dev", lambda repo, _: [pull.number for pull in repo.get_pulls(state="open")]),
         lambda run, numbers: numbers == [2]),
    Step("pulls/get", lambda run: run.roles.dev.get_pull(REPO, 2, settle=10),
         lambda run, pull: (pull.state, pull.mergeable_state, pull.base_ref) == ("open", "clean", "main")),
    Step("pulls/update", pygithub("dev", lambda repo, _: edited(repo.get_pull(2), title="Feature!").title),
         lambda run, title: title == "Feature!"),
    Step("pulls/list-commits", pygithub("dev", lambda repo, _: [c.sha for c in repo.get_pull(2).get_commits()]),
         lambda run, shas: shas == [run.seen["head"]]),
    Step("pulls/list-files", pygithub("dev", lambda repo, _: [
        (f.filename, f.status) for f in repo.get_pull(2).get_files()]),
         lambda run, files: files == [("src/feature.js", "added")]),
    Step("pulls/create-review", lambda run: run.roles.review.create_review(REPO, 2, run.seen["head"], "APPROVE"),
         lambda run, review: (review.state, review.commit_id) == ("APPROVED", run.seen["head"])),
    Step("pulls/list-reviews", lambda run: run.roles.dev.list_reviews(REPO, 2),
         lambda run, reviews: [(r.author, r.state) for r in reviews] == [(run.app("review", "bot_login"), "APPROVED")]),
    Step("repos/create-commit-status", pygithub("conductor", lambda repo, seen: repo.get_commit(
        seen["head"]).create_status("success", "http://ci.example/1", "lint", "ci/lint").state),
         lambda run, state: state == "success"),
    Step("repos/get-combined-status-for-ref", lambda run: run.roles.conductor.checks(REPO, run.seen["head"]),
         lambda run, checks: (checks.combined_state, [s.context for s in checks.statuses]) == ("success", ["ci/lint"])),
    Step("checks/create", pygithub("conductor", lambda repo, seen: repo.create_check_run(
        "ci", seen["head"], status="completed", conclusion="success",
        output={"title": "ci", "summary": "all green"}).conclusion), lambda run, conclusion: conclusion == "success"),
    Step("checks/list-for-ref", lambda run: run.roles.conductor.checks(REPO, run.seen["head"]),
         lambda run, checks: [(r.name, r.status, r.conclusion) for r in checks.check_runs] == [
             ("ci", "completed", "success")]),
    Step("checks/list-suites-for-ref", pygithub("conductor", lambda repo, seen: [
        (s.status, s.conclusion) for s in repo.get_commit(seen["head"]).get_check_suites()]),
         lambda run, suites: suites == [("completed", "success")]),
    Step("pulls/merge", lambda run: run.roles.conductor.merge(REPO, 2, run.seen["head"]),
         lambda run, merged: merged.merged and not merged.already_merged and len(merged.merge_commit_sha) == 40),
    Step("pulls/check-if-merged", pygithub("conductor", lambda repo, _: repo.get_pull(2).is_merged()),
         lambda run, merged: merged is True),
    Step("apps/list-webhook-deliveries", closed_delivery, lambda run, delivery: delivery.status_code > 0,
         keep="delivery"),
    Step("apps/get-webhook-delivery", lambda run: run.roles.conductor.get_delivery(run.seen["delivery"].id),
         lambda run, found: found.guid == run.seen["delivery"].guid
         and found.raw["request"]["headers"]["X-GitHub-Event"] == "issues"
         and found.raw["request"]["payload"]["issue"]["state_reason"] == "completed"),
    Step("apps/redeliver-webhook-delivery", redelivered, lambda run, listed: listed),
]


async def test_pygithub_through_the_client_performs_every_operation_of_the_subset(tmp_path) -> None:
    every = operations()
    assert len(every) == 38
    assert sorted(s.operation for s in STEPS) == sorted(op.id for op in every), "one step per operation id"
    async with (receiving() as receiver,
                sandbox_process(tmp_path / "data", receiver, RIG_SANDBOX_CHAOS_SEED=str(CHAOS_SEED)) as sandbox,
                sandbox.roles() as roles):
        await sandbox.post("/repos", {"owner": "acme", "name": "widgets", "files": FILES})
        run = Run(sandbox, roles)
        with wire() as sent:
            for step in STEPS:
                mark = len(sent.requests)
                answer = await step.call(run)
                assert step.expect(run, answer), f"{step.operation}: unexpected answer {answer!r}"
                if step.keep:
                    run.seen[step.keep] = answer
                performed = sent.operations_since(mark, every)
                assert any(op == step.operation and 200 <= status < 300 for op, status in performed), (
                    f"{step.operation}: PyGithub sent no request for it that succeeded; it sent {performed}")
        assert receiver.forged == 0
    answered = {op for op, status in sent.operations_since(0, every) if 200 <= status < 300}
    assert answered == {op.id for op in every}, f"never answered 2xx: {sorted({op.id for op in every} - answered)}"
