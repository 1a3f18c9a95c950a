"""Repositories, branches, refs and contents in GitHub's shapes."""

from __future__ import annotations

import base64
import zlib
from typing import Any

from rig_sandbox.git.objects import TreeEntry
from rig_sandbox.records import Account, Repo
from rig_sandbox.shapes.accounts import simple_user
from rig_sandbox.urls import Urls, node_id

_REPO_URL_TEMPLATES = {
    "archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}", "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}", "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}", "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}", "contributors_url": "/contributors", "deployments_url": "/deployments",
    "downloads_url": "/downloads", "events_url": "/events", "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}", "git_refs_url": "/git/refs{/sha}", "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks", "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}",
    "languages_url": "/languages", "merges_url": "/merges", "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}", "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}", "stargazers_url": "/stargazers", "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers", "subscription_url": "/subscription", "tags_url": "/tags",
    "teams_url": "/teams", "trees_url": "/git/trees{/sha}",
}


def repository_json(urls: Urls, repo: Repo, owner: Account, open_issues: int) -> dict[str, Any]:
    """`full-repository` (also what pull requests and webhooks embed)."""
    full = repo.full_name
    data: dict[str, Any] = {
        "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name, "full_name": full,
        "private": True, "owner": simple_user(urls, owner), "html_url": urls.repo_html(full),
        "description": repo.description, "fork": repo.fork_of is not None, "url": urls.repo_api(full),
    }
    data |= {key: urls.repo_api(full, template) for key, template in _REPO_URL_TEMPLATES.items()}
    data |= {
        "created_at": repo.created_at, "updated_at": repo.updated_at, "pushed_at": repo.pushed_at,
        "git_url": urls.clone(full).replace("http", "git", 1), "ssh_url": f"git@sandbox:{full}.git",
        "clone_url": urls.clone(full), "svn_url": urls.repo_html(full), "homepage": None, "size": 0,
        "stargazers_count": 0, "watchers_count": 0, "language": None, "has_issues": True, "has_projects": False,
        "has_downloads": True, "has_wiki": False, "has_pages": False, "has_discussions": False, "forks_count": 0,
        "mirror_url": None, "archived": False, "disabled": False, "open_issues_count": open_issues, "license": None,
        "allow_forking": False, "is_template": False, "web_commit_signoff_required": False, "topics": [],
        "visibility": "private", "forks": 0, "open_issues": open_issues, "watchers": 0,
        "default_branch": repo.default_branch, "network_count": 0, "subscribers_count": 0,
        "allow_squash_merge": True, "allow_merge_commit": True, "allow_rebase_merge": False,
        "delete_branch_on_merge": False, "custom_properties": {},
        "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
    }
    return data


def ref_json(urls: Urls, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    """`git-ref`: a ref and the commit it points at."""
    return {"ref": ref, "node_id": node_id("Ref", zlib.crc32(f"{repo.id}:{ref}".encode())),
            "url": urls.repo_api(repo.full_name, f"/git/{ref}"),
            "object": {"type": "commit", "sha": sha, "url": urls.repo_api(repo.full_name, f"/git/commits/{sha}")}}


def required_checks(repo: Repo, branch: str) -> list[str] | None:
    """The checks branch protection requires on `branch` (only the default branch is protected), or None."""
    return repo.required_checks if branch == repo.default_branch else None


def status_check_policy_json(urls: Urls, repo: Repo, branch: str, contexts: list[str]) -> dict[str, Any]:
    """`status-check-policy`: what `GET …/branches/{branch}/protection/required_status_checks` answers."""
    url = urls.repo_api(repo.full_name, f"/branches/{branch}/protection/required_status_checks")
    return {"url": url, "strict": repo.require_up_to_date, "contexts": list(contexts),
            "checks": [{"context": name, "app_id": None} for name in contexts], "contexts_url": f"{url}/contexts"}


def branch_json(urls: Urls, repo: Repo, name: str, commit: dict[str, Any]) -> dict[str, Any]:
    """`branch-with-protection`: a branch, its tip commit and its protection (required checks, if any)."""
    full = repo.full_name
    required = required_checks(repo, name)
    checks = {"enforcement_level": "non_admins" if required is not None else "off", "contexts": required or [],
              "checks": [{"context": c, "app_id": None} for c in required or []]}
    return {
        "name": name, "commit": commit, "protected": required is not None,
        "_links": {"self": urls.repo_api(full, f"/branches/{name}"), "html": urls.repo_html(full, f"/tree/{name}")},
        "protection": {"enabled": required is not None, "required_status_checks": checks},
        "protection_url": urls.repo_api(full, f"/branches/{name}/protection"),
    }


def content_entry_json(urls: Urls, repo: Repo, entry: TreeEntry, ref: str) -> dict[str, Any]:
    """One entry of `content-directory`, or the common part of a file's `content-file`."""
    full = repo.full_name
    git_kind = "trees" if entry.type == "dir" else "blobs"
    self_url = urls.repo_api(full, f"/contents/{entry.path}?ref={ref}")
    git_url = urls.repo_api(full, f"/git/{git_kind}/{entry.sha}")
    html_url = urls.repo_html(full, f"/{'tree' if entry.type == 'dir' else 'blob'}/{ref}/{entry.path}")
    download = urls.repo_html(full, f"/raw/{ref}/{entry.path}") if entry.type == "file" else None
    return {"type": entry.type, "size": entry.size, "name": entry.name, "path": entry.path, "sha": entry.sha,
            "url": self_url, "git_url": git_url, "html_url": html_url, "download_url": download,
            "_links": {"self": self_url, "git": git_url, "html": html_url}}


def file_content_json(urls: Urls, repo: Repo, entry: TreeEntry, ref: str, content: bytes) -> dict[str, Any]:
    """`content-file`: a file with its bytes in base64 (wrapped at 60 characters, as GitHub sends them)."""
    encoded = base64.b64encode(content).decode()
    wrapped = "".join(encoded[i:i + 60] + "\n" for i in range(0, len(encoded), 60))
    return {**content_entry_json(urls, repo, entry, ref), "content": wrapped, "encoding": "base64"}


def symlink_content_json(urls: Urls, repo: Repo, entry: TreeEntry, ref: str, target: bytes) -> dict[str, Any]:
    """`content-symlink`: a symbolic link and where it points."""
    return {**content_entry_json(urls, repo, entry, ref), "target": target.decode(errors="replace")}
