"""Whose review counts (docs/design.md section 8): one pure rule for the router and the merger alike.

An approval or a dispute counts only from review-e's bot login and, where configured, from maintainers (a
person whose `author_association` is OWNER, MEMBER or COLLABORATOR). Anyone can submit a review on a public
repository, so every other review is recorded and shown, never routed, and never makes a head mergeable. A
review by the PR's own author never counts (GitHub refuses it too, but a bot account or a maintainer's own PR
must not slip through), and no bot other than review-e's counts through the maintainer rule: the dev App
writes the code and must never approve it.
"""

from __future__ import annotations

from dataclasses import dataclass

MAINTAINER_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
"""`author_association` values that make a person a maintainer of the repository."""


@dataclass(frozen=True, slots=True)
class Reviewers:
    """Who may approve or dispute: review-e's bot login (`review_login`) and, if `maintainers`, maintainers."""

    review_login: str = ""
    """Review-e's GitHub login (`rig-review[bot]` for an App named rig-review); empty: no bot review counts."""
    maintainers: bool = False
    """Whether OWNER, MEMBER and COLLABORATOR people count as reviewers too."""

    def refusal(self, reviewer: str, association: str = "", pr_author: str = "") -> str | None:
        """Why a review by `reviewer` does not count, or None when it does."""
        who = reviewer.casefold()
        if not who:
            return "a review with no reviewer login does not count"
        if pr_author and who == pr_author.casefold():
            return f"{reviewer} reviewed their own PR: a self-review never counts"
        if self.review_login and who == self.review_login.casefold():
            return None
        if self.maintainers and association.upper() in MAINTAINER_ASSOCIATIONS and not who.endswith("[bot]"):
            return None
        expected = f"review-e ({self.review_login or 'RIG_GITHUB_REVIEW_LOGIN unset'})"
        if self.maintainers:
            expected += " or a maintainer (OWNER, MEMBER, COLLABORATOR)"
        return (f"review by {reviewer} ({association or 'association unknown'}) does not count: only {expected} "
                "may approve or request changes")

    def counts(self, reviewer: str, association: str = "", pr_author: str = "") -> bool:
        """Whether a review by `reviewer` counts as an approval or a dispute."""
        return self.refusal(reviewer, association, pr_author) is None
