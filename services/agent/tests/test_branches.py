"""Where Dev-E may push: the pure rules (continuing from the reason, refused branches) and the push's lease,
on real git repositories (a bare origin on disk, a second clone pushing meanwhile)."""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig_agent.branches import continuing, refusal
from rig_agent.workspace import GitError, Workspace, branch_name
from rig_testing.servers import free_port


@pytest.mark.parametrize(("reason", "branch", "expected"), [
    ("new", "main", False),  # a branch on first work is ignored: Dev-E names its own
    ("", "agent/7-x", False),
    ("changes requested", "agent/7-x", True),
    ("conflict", "agent/7-x", True),
    ("behind", "agent/7-x", True),
    ("checks failed", "agent/7-x", True),
    ("lease expired", "agent/7-x", True),  # a retry of a PR's work
    ("lease expired", "", False),  # a retry of first work
])
def test_continuing_comes_from_the_reason(reason, branch, expected):
    assert continuing(reason, branch) is expected


@pytest.mark.parametrize(("branch", "why"), [
    ("main", "default branch"),
    ("refs/heads/main", "default branch"),
    ("trunk", "default branch"),
    ("", "names no branch"),
    ("agent/8-other-issue", "not one of issue #7's"),
    ("agent/71-x", "not one of issue #7's"),
    ("feature/7-x", "not one of issue #7's"),
    ("agent/7-x/../../main", "not one of issue #7's"),
    ("agent/7-", "not one of issue #7's"),
])
def test_the_default_branch_and_other_issues_branches_are_refused(branch, why):
    default = "trunk" if branch == "trunk" else "main"
    assert why in (refusal(branch, 7, default) or "")


@pytest.mark.parametrize("branch", ["agent/7", "agent/7-say-hello", "agent/7-v1.2_fix", branch_name(7, "Say hello!")])
def test_issue_branches_are_allowed(branch):
    assert refusal(branch, 7, "main") is None


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "Other", "GIT_AUTHOR_EMAIL": "o@example.com", "GIT_COMMITTER_NAME": "Other",
           "GIT_COMMITTER_EMAIL": "o@example.com", "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def origin(tmp_path) -> Path:
    """A bare repository with one commit on main."""
    seed = tmp_path / "seed"
    seed.mkdir()
    _git(seed, "init", "--quiet", "--initial-branch=main")
    (seed / "README.md").write_text("# app\n")
    _git(seed, "add", "README.md")
    _git(seed, "commit", "--quiet", "-m", "first")
    _git(tmp_path, "clone", "--quiet", "--bare", str(seed), "origin.git")
    return tmp_path / "origin.git"


@pytest.fixture
def served(tmp_path, origin) -> Iterator[str]:
    """`origin` served by `git daemon` with pushes allowed: the agent's git refuses `file://` remotes (a workload
    could point a submodule at the agent's own files), so the test reaches it over the network like GitHub."""
    port = free_port()
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
                               f"--base-path={tmp_path}", "--listen=127.0.0.1", f"--port={port}", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["git", "ls-remote", f"git://127.0.0.1:{port}/origin.git"], capture_output=True,
                             check=False).returncode != 0:
            assert time.monotonic() < deadline, "git daemon did not start"
            time.sleep(0.05)
        yield f"git://127.0.0.1:{port}/origin.git"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


async def test_a_push_never_overwrites_someone_elses_push(tmp_path, origin, served):
    ours = Workspace(tmp_path / "ours", "t0ken")
    await ours.clone(served)
    await ours.start_branch("agent/7-x")
    (ours.path / "a.txt").write_text("ours\n")
    first = await ours.commit_all("ours")
    await ours.push("agent/7-x", "")  # new branch: leased on its absence
    assert _git(origin, "rev-parse", "refs/heads/agent/7-x") == first

    theirs = tmp_path / "theirs"
    _git(tmp_path, "clone", "--quiet", "--branch", "agent/7-x", str(origin), "theirs")
    (theirs / "b.txt").write_text("theirs\n")
    _git(theirs, "add", "b.txt")
    _git(theirs, "commit", "--quiet", "-m", "theirs")
    _git(theirs, "push", "--quiet", "origin", "agent/7-x")
    their_head = _git(theirs, "rev-parse", "HEAD")

    (ours.path / "a.txt").write_text("ours again\n")
    await ours.commit_all("ours again")
    with pytest.raises(GitError, match=r"stale info|rejected"):
        await ours.push("agent/7-x", first)  # we checked out `first`; the branch moved on since
    assert _git(origin, "rev-parse", "refs/heads/agent/7-x") == their_head

    other = Workspace(tmp_path / "other", "t0ken")
    await other.clone(served)
    await other.start_branch("agent/7-x")
    (other.path / "c.txt").write_text("c\n")
    await other.commit_all("c")
    with pytest.raises(GitError):
        await other.push("agent/7-x", "")  # "new" branch that exists meanwhile: refused, not forced
    assert _git(origin, "rev-parse", "refs/heads/agent/7-x") == their_head
