"""What the GitHub routes share: finding the repository a caller may see, and GitHub's pagination."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from fastapi import Request, Response

from rig_sandbox.auth import Identity
from rig_sandbox.context import Sandbox
from rig_sandbox.records import Repo

T = TypeVar("T")

PER_PAGE_DEFAULT, PER_PAGE_MAX = 30, 100


def visible_repo(sandbox: Sandbox, identity: Identity, owner: str, name: str) -> Repo:
    """The repository `owner/name` if the caller may see it, else 404."""
    repo = sandbox.repo_or_404(owner, name)
    identity.check_repo(repo)
    return repo


def _number(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def paginate(sandbox: Sandbox, request: Request, response: Response, items: Sequence[T]) -> list[T]:
    """One page of `items` (`per_page` up to 100, `page` from 1), with GitHub's `Link` header for the others.

    Link URLs start with the public base URL, so clients that check the host (PyGithub does) follow them.
    """
    per_page = min(max(_number(request.query_params.get("per_page"), PER_PAGE_DEFAULT), 1), PER_PAGE_MAX)
    page = max(_number(request.query_params.get("page"), 1), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []

    def link(number: int, rel: str) -> str:
        query = request.url.include_query_params(page=number, per_page=per_page).query
        return f'<{sandbox.urls.api(request.url.path)}?{query}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if links:
        response.headers["Link"] = ", ".join(links)
    return list(items[(page - 1) * per_page:page * per_page])
