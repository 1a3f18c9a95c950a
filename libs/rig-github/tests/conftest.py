"""Fixtures: the sandbox (the GitHub stand-in, as its own process) for the session, and clients pointed at it.

Also lets these tests import their plain helper module (live_sandbox) by name.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from live_sandbox import TOKEN_TTL_S, LiveSandbox, receiving

from rig_github import GitHubClient, GitHubSettings, Role
from rig_testing.sandbox import sandbox_process


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    """The sandbox most tests use: GitHub's defaults, its webhook delivered to a receiver of the tests."""
    with receiving() as receiver, sandbox_process(tmp_path_factory.mktemp("sandbox"),
                                                  RIG_SANDBOX_WEBHOOK_URL=receiver.url) as url:
        yield LiveSandbox.at(url, receiver)


@pytest.fixture(scope="session")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    """A sandbox whose installation tokens live TOKEN_TTL_S and whose mergeability stays unknown 1-2 s after
    a push (as GitHub's does while it computes), for the tests of token refresh and of settling."""
    with sandbox_process(tmp_path_factory.mktemp("short-lived"), RIG_SANDBOX_TOKEN_TTL_S=str(TOKEN_TTL_S),
                         RIG_SANDBOX_MERGEABLE_UNKNOWN_MAX_S="2", RIG_SANDBOX_CHAOS_SEED="7") as url:
        yield LiveSandbox.at(url)


@pytest.fixture
def github(sandbox: LiveSandbox) -> Iterator[LiveSandbox]:
    """The sandbox with no fault armed, before and after the test."""
    sandbox.clear_faults()
    yield sandbox
    sandbox.clear_faults()


@pytest.fixture
async def repo(github: LiveSandbox) -> str:
    """A repository of the test's own in the sandbox."""
    return await github.new_repo()


@pytest.fixture
def make_settings(github: LiveSandbox) -> Callable[..., GitHubSettings]:
    """Settings for the sandbox with every role's App, quick retries and no request throttle."""

    def make(**overrides: Any) -> GitHubSettings:
        return github.settings(**overrides)

    return make


@pytest.fixture
async def conductor(make_settings: Callable[..., GitHubSettings]) -> AsyncIterator[GitHubClient]:
    async with GitHubClient(make_settings(), Role.CONDUCTOR) as client:
        yield client
