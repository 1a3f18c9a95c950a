"""The URLs the sandbox writes into its answers: API URLs under `/repos/…`, web URLs under `/{owner}/{repo}`."""

from __future__ import annotations

import base64
from dataclasses import dataclass


def node_id(kind: str, number: int) -> str:
    """A GraphQL-style global node id for a record of `kind` (opaque to clients, as GitHub's are)."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


@dataclass(frozen=True, slots=True)
class Urls:
    """Builds absolute URLs from the sandbox's public base URL (one host serves API, web and git)."""

    base: str

    @classmethod
    def of(cls, base: str) -> Urls:
        """URLs under `base` (a trailing slash is dropped)."""
        return cls(base.rstrip("/"))

    def api(self, path: str) -> str:
        """An API URL: `base` + `path` (which starts with a slash)."""
        return f"{self.base}{path}"

    def html(self, path: str) -> str:
        """A web URL: `base` + `path`."""
        return f"{self.base}{path}"

    def repo_api(self, full_name: str, path: str = "") -> str:
        """`base/repos/{owner}/{repo}` + `path`."""
        return f"{self.base}/repos/{full_name}{path}"

    def repo_html(self, full_name: str, path: str = "") -> str:
        """`base/{owner}/{repo}` + `path`."""
        return f"{self.base}/{full_name}{path}"

    def clone(self, full_name: str) -> str:
        """Where git clones and pushes: `base/{owner}/{repo}.git`."""
        return f"{self.base}/{full_name}.git"

    def user_api(self, login: str, path: str = "") -> str:
        """`base/users/{login}` + `path`."""
        return f"{self.base}/users/{login}{path}"
