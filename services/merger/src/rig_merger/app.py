"""Wiring of the merger: its kit (projection of `rig:events` through the inbox), its routes, the merge worker."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from rig_contracts import Names
from rig_contracts.reviewers import Reviewers
from rig_github import GitHubClient, GitHubSettings, Role
from rig_kit import ServiceKit
from rig_kit.app import service_app
from rig_merger.api import api_router
from rig_merger.github import PullRequests
from rig_merger.handlers import merger_projection
from rig_merger.settings import MergerSettings
from rig_merger.worker import MergeWorker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
if not MIGRATIONS.is_dir():  # running from the source tree
    MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: MergerSettings | None = None, github: GitHubSettings | None = None) -> FastAPI:
    """The merger app; without the conductor's GitHub credentials it records requests and says why they wait."""
    settings = settings or MergerSettings()
    github = github or GitHubSettings()
    reviewers = Reviewers(github.github_review_login.strip(), github.github_maintainer_reviews)
    if not reviewers.review_login:
        log.warning("RIG_GITHUB_REVIEW_LOGIN is unset: no bot's approval counts, so nothing merges on review-e's "
                    "word (set it to review-e's login, e.g. rig-review[bot])")

    async def merging(kit: ServiceKit) -> None:
        if Role.CONDUCTOR not in github.configured_roles():
            log.warning("no GitHub credentials for the conductor role: merge requests are recorded but wait "
                        "(set RIG_GITHUB_CONDUCTOR_APP_ID, _INSTALLATION_ID and _PRIVATE_KEY(_FILE))")
            await MergeWorker(kit, settings, None, reviewers).run()
            return
        async with GitHubClient(github, Role.CONDUCTOR) as client:
            await MergeWorker(kit, settings, PullRequests(client), reviewers).run()

    kit = ServiceKit("merger", settings, migrations=MIGRATIONS,
                     projection=merger_projection(Names(settings.key_prefix), reviewers), jobs=[merging])
    return service_app(kit, api_router(kit, settings.merger_await_approval_s), title="rig-conductor merger")
