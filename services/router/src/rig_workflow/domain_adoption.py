"""Which pull requests a work item adopts (docs/design.md section 8, "who moves code").

A PR that says "Closes #N" becomes the item's PR only when its head branch lives in the base repository (not a
fork) and its author is the dev App's bot or a person the settings trust, and only once the issue is approved.
Any other PR is recorded on the item as foreign: shown, never reviewed, never a branch for the dev agent.
"""

from __future__ import annotations

from dataclasses import replace

from rig_workflow.domain_model import Policy, State, WorkItem
from rig_workflow.domain_steps import Outcome, unexpected


def refusal(item: WorkItem, pr_number: int, repo: str, head_repo: str, author: str, policy: Policy) -> str | None:
    """Why PR `pr_number` cannot become the item's PR, or None when the item may adopt it."""
    if pr_number in item.foreign_prs:
        return f"PR #{pr_number} was refused before: it stays foreign"
    if head_repo.casefold() != repo.casefold():
        where = f"the fork {head_repo}" if head_repo else "an unknown repository"
        return f"PR #{pr_number} has its head in {where}, not in {repo}: not adopted, not reviewed"
    if author.casefold() not in {login.casefold() for login in policy.pr_authors}:
        who = author or "an unknown author"
        return (f"PR #{pr_number} was opened by {who}, neither the dev App nor a trusted author: not adopted, "
                "not reviewed (trust a person with RIG_ROUTER_PR_AUTHORS)")
    if item.state is State.NEW:
        return f"PR #{pr_number} was opened before the issue was approved: not adopted (the dev agent opens its own)"
    return None


def refuse(item: WorkItem, pr_number: int, why: str) -> Outcome:
    """Record PR `pr_number` as foreign to the item, saying why; nothing else changes."""
    return unexpected(replace(item, foreign_prs=item.foreign_prs | {pr_number}), why)
