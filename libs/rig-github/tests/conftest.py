"""Fixtures: one fake GitHub per test module, the Apps registered in it, and clients pointed at it.

Also lets these tests import their plain helper modules (fake_github, github_apps) by name.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_github import FakeGitHub
from github_apps import APPS, app_key

from rig_github import GitHubClient, GitHubSettings, Role


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub().start()
    for role, (app_id, installation_id) in APPS.items():
        server.state.app_keys[app_id] = app_key(role).public_pem
        server.state.installations[installation_id] = app_id
    yield server
    server.stop()


@pytest.fixture
def fake(github: FakeGitHub) -> FakeGitHub:
    github.reset()
    return github


@pytest.fixture
def make_settings(fake: FakeGitHub) -> Callable[..., GitHubSettings]:
    """Settings for the fake GitHub with every role's App, quick retries and no request throttle."""

    def make(**overrides: Any) -> GitHubSettings:
        values: dict[str, Any] = {
            "github_api_url": fake.url, "github_retry_total": 3, "github_retry_backoff_factor": 0.2,
            "github_retry_max_wait": 10, "github_secondary_rate_wait": 1, "github_seconds_between_requests": 0,
            "github_seconds_between_writes": 0, "github_threads": 4,
        }
        for role, (app_id, installation_id) in APPS.items():
            values |= {f"github_{role}_app_id": app_id, f"github_{role}_installation_id": installation_id,
                       f"github_{role}_private_key": app_key(role).private_pem}
        return GitHubSettings(**(values | overrides))

    return make


@pytest.fixture
async def conductor(make_settings: Callable[..., GitHubSettings]) -> AsyncIterator[GitHubClient]:
    async with GitHubClient(make_settings(), Role.CONDUCTOR) as client:
        yield client
