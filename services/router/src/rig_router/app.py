"""Wiring of the router: its kit (consumer of `rig:events`, outbox relay), GitHub as the conductor, its routes."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from rig_bus.consumer import BatchHandler, ConsumerOptions
from rig_contracts.reviewers import Reviewers
from rig_github import GitHubClient, GitHubSettings, Role
from rig_kit import ServiceKit
from rig_kit.app import service_app
from rig_router.api import api_router
from rig_router.comments import CommentPoster
from rig_router.config_source import ConfigSource
from rig_router.emit import Emitter
from rig_router.handlers import Router
from rig_router.leases import Leases
from rig_router.queueing import Limits
from rig_router.settings import RouterSettings

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
if not MIGRATIONS.is_dir():  # running from the source tree
    MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def conductor(github_settings: GitHubSettings) -> GitHubClient | None:
    """The conductor's GitHub client, or None (every repository is then `stack: base`) without credentials."""
    if Role.CONDUCTOR not in github_settings.configured_roles():
        log.warning("no GitHub credentials for the conductor role (RIG_GITHUB_CONDUCTOR_…): .rig-agent.yaml is not "
                    "read (every repository counts as stack: base) and no comments are posted")
        return None
    return GitHubClient(github_settings, Role.CONDUCTOR)


def pr_authors(settings: RouterSettings, github_settings: GitHubSettings) -> list[str]:
    """Whose PRs items adopt: the dev App's bot and the trusted people (a warning when there is no dev App)."""
    if not github_settings.github_dev_login:
        log.warning("RIG_GITHUB_DEV_LOGIN is not set: PRs the dev agents open are not adopted (they are recorded "
                    "as anomalies, never reviewed); set it to the dev App's bot login, `<app slug>[bot]`")
    return [login for login in (github_settings.github_dev_login, *settings.router_pr_authors) if login]


def create_app(settings: RouterSettings | None = None, github_settings: GitHubSettings | None = None) -> FastAPI:
    """The router app."""
    settings = settings or RouterSettings()
    github_settings = github_settings or GitHubSettings()
    github = conductor(github_settings)
    reviewers = Reviewers(github_settings.github_review_login.strip(), github_settings.github_maintainer_reviews)
    if not reviewers.review_login:
        log.warning("RIG_GITHUB_REVIEW_LOGIN is unset: no bot's approval or requested changes will count "
                    "(set it to review-e's login, e.g. rig-review[bot])")
    source = ConfigSource(github, settings.router_config_path, settings.router_config_ttl_s)
    poster = CommentPoster(github, settings.router_comment_retry_s)

    def router(kit: ServiceKit) -> BatchHandler:
        emitter = Emitter(kit.names, settings.router_maintainers, settings.router_config_path)
        return Router(kit, source, emitter, poster, Limits(settings.router_pool_limits, settings.router_repo_limit),
                      pr_authors(settings, github_settings), reviewers)

    async def post_comments(kit: ServiceKit) -> None:
        await poster.run(kit.pool, kit.faults)

    async def expire_leases(kit: ServiceKit) -> None:
        emitter = Emitter(kit.names, settings.router_maintainers, settings.router_config_path)
        await Leases(kit, settings, emitter, poster).run()

    kit = ServiceKit("router", settings, migrations=MIGRATIONS, live_handler=router,
                     options=ConsumerOptions(batch_size=500), jobs=[post_comments, expire_leases])
    return service_app(kit, api_router(kit, settings), title="rig-conductor router")
