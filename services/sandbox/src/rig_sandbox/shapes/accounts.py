"""Users, bots, organizations, Apps and installations in GitHub's shapes."""

from __future__ import annotations

from typing import Any

from rig_sandbox.records import Account, AppRecord
from rig_sandbox.urls import Urls, node_id

APP_PERMISSIONS = {"metadata": "read", "contents": "write", "issues": "write", "pull_requests": "write",
                   "checks": "write", "statuses": "write"}
"""What every sandbox App may do (on GitHub this is chosen when an App is registered)."""

APP_EVENTS = ["check_run", "check_suite", "issue_comment", "issues", "pull_request", "pull_request_review",
              "push", "status"]
"""The webhook events every sandbox App subscribes to."""


def simple_user(urls: Urls, account: Account) -> dict[str, Any]:
    """`simple-user`: how GitHub shows a user, bot or organization inside other objects."""
    login = account.login
    return {
        "login": login, "id": account.id, "node_id": node_id(account.type, account.id),
        "avatar_url": urls.api(f"/avatars/u/{account.id}"), "gravatar_id": "",
        "url": urls.user_api(login), "html_url": urls.html(f"/{login}"),
        "followers_url": urls.user_api(login, "/followers"),
        "following_url": urls.user_api(login, "/following{/other_user}"),
        "gists_url": urls.user_api(login, "/gists{/gist_id}"),
        "starred_url": urls.user_api(login, "/starred{/owner}{/repo}"),
        "subscriptions_url": urls.user_api(login, "/subscriptions"),
        "organizations_url": urls.user_api(login, "/orgs"), "repos_url": urls.user_api(login, "/repos"),
        "events_url": urls.user_api(login, "/events{/privacy}"),
        "received_events_url": urls.user_api(login, "/received_events"),
        "type": account.type, "user_view_type": "public", "site_admin": False,
    }


def app_json(urls: Urls, app: AppRecord, owner: Account) -> dict[str, Any]:
    """`integration`: a GitHub App."""
    return {
        "id": app.id, "slug": app.slug, "node_id": node_id("Integration", app.id), "client_id": f"Iv1.{app.id:016x}",
        "owner": simple_user(urls, owner), "name": app.name,
        "description": f"The {app.role} App of rig-conductor (sandbox).",
        "external_url": urls.html(f"/apps/{app.slug}"),
        "html_url": urls.html(f"/apps/{app.slug}"), "created_at": app.created_at, "updated_at": app.created_at,
        "permissions": dict(APP_PERMISSIONS), "events": list(APP_EVENTS), "installations_count": 1,
    }


def installation_json(urls: Urls, app: AppRecord, account: Account) -> dict[str, Any]:
    """`installation`: an App's installation on `account`, covering all its repositories."""
    # The account is also shaped as an enterprise (name, slug, times): GitHub's schema of the installation list
    # asks for both.
    owner = {**simple_user(urls, account), "name": account.name or account.login, "slug": account.login,
             "created_at": app.created_at, "updated_at": app.created_at, "description": None, "website_url": None}
    return {
        "id": app.installation_id, "account": owner, "repository_selection": "all",
        "access_tokens_url": urls.api(f"/app/installations/{app.installation_id}/access_tokens"),
        "repositories_url": urls.api("/installation/repositories"),
        "html_url": urls.html(f"/settings/installations/{app.installation_id}"),
        "app_id": app.id, "app_slug": app.slug, "target_id": account.id, "target_type": account.type,
        "permissions": dict(APP_PERMISSIONS), "events": list(APP_EVENTS), "created_at": app.created_at,
        "updated_at": app.created_at, "single_file_name": None, "has_multiple_single_files": False,
        "single_file_paths": [], "suspended_by": None, "suspended_at": None,
    }


def installation_ref(app: AppRecord) -> dict[str, Any]:
    """The `installation` object of a webhook payload: the App installation it is delivered for."""
    return {"id": app.installation_id, "node_id": node_id("Installation", app.installation_id)}
