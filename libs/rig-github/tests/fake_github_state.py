"""The fake GitHub's state, which tests arrange and read back, and GitHub's error shape."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse

Json = dict[str, Any]


@dataclass
class Seen:
    """One request the server answered: when, what, with which credential, and the status it gave."""

    at: float
    method: str
    path: str
    credential: str
    status: int = 0


@dataclass
class FakeState:
    """Everything the fake GitHub knows; tests arrange it and read it back."""

    app_keys: dict[int, str] = field(default_factory=dict)  # app id -> PEM public key
    installations: dict[int, int] = field(default_factory=dict)  # installation id -> app id
    personal_tokens: dict[str, int] = field(default_factory=dict)  # PAT -> pseudo app id
    token_ttl: int = 3600
    tokens: dict[str, tuple[int, float]] = field(default_factory=dict)  # token -> (app id, expires at)
    jwt_claims: list[Json] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    most_in_flight: int = 0
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    comments: dict[tuple[str, int], list[Json]] = field(default_factory=dict)
    labels: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    pulls: dict[tuple[str, int], Json] = field(default_factory=dict)
    reviews: dict[tuple[str, int], list[Json]] = field(default_factory=dict)
    merges: list[tuple[str, int, str]] = field(default_factory=list)
    check_runs: dict[str, list[Json]] = field(default_factory=dict)
    statuses: dict[str, list[Json]] = field(default_factory=dict)
    deliveries: list[Json] = field(default_factory=list)
    redelivered: list[int] = field(default_factory=list)

    def clear(self) -> None:
        """Forget all but the registered Apps and personal tokens."""
        fresh = FakeState(app_keys=self.app_keys, installations=self.installations,
                          personal_tokens=self.personal_tokens)
        self.__dict__.update(fresh.__dict__)

    def add_pull(self, full_name: str, number: int, *, head_sha: str, author_app: int, head_ref: str = "feature",
                 mergeable_state: str = "clean", merged: bool = False) -> None:
        """A PR the tests can read, review and merge."""
        self.pulls[(full_name, number)] = {
            "number": number, "title": f"PR {number}", "body": "Closes #1", "state": "open", "draft": False,
            "merged": merged, "mergeable": mergeable_state == "clean", "mergeable_state": mergeable_state,
            "merge_commit_sha": None, "head": {"sha": head_sha, "ref": head_ref, "label": f"o:{head_ref}"},
            "base": {"sha": "base0", "ref": "main", "label": "o:main"}, "user": {"login": f"app-{author_app}[bot]"},
            "author_app": author_app, "labels": [],
        }


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/rest"}, status,
                        headers=headers)
