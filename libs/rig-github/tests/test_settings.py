"""Settings: each role's App from a PEM or a key file, refused when half given."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rig_github import GitHubClient, GitHubConfigError, GitHubSettings, Role


def test_nothing_configured_means_no_roles():
    settings = GitHubSettings()
    assert settings.github_api_url == "https://api.github.com"
    assert settings.configured_roles() == []


def test_settings_come_from_rig_environment_variables(monkeypatch, sandbox):
    key_file = sandbox.apps[Role.DEV]["key_path"]  # as a user points the client at the sandbox's dev App
    monkeypatch.setenv("RIG_GITHUB_API_URL", "https://ghe.example.com/api/v3")
    monkeypatch.setenv("RIG_GITHUB_DEV_APP_ID", "202")
    monkeypatch.setenv("RIG_GITHUB_DEV_INSTALLATION_ID", "2002")
    monkeypatch.setenv("RIG_GITHUB_DEV_PRIVATE_KEY_FILE", str(key_file))
    monkeypatch.setenv("RIG_GITHUB_THREADS", "3")
    settings = GitHubSettings()
    app = settings.app(Role.DEV)
    assert app is not None and (app.app_id, app.installation_id) == (202, 2002)
    assert app.private_key.get_secret_value() == sandbox.private_key(Role.DEV)
    assert "PRIVATE KEY" not in repr(settings)
    assert settings.configured_roles() == [Role.DEV]
    assert settings.github_threads == 3


@pytest.mark.parametrize("fields", [
    {"github_dev_app_id": 1},
    {"github_dev_app_id": 1, "github_dev_installation_id": 2},
    {"github_dev_app_id": 1, "github_dev_installation_id": 2, "github_dev_private_key": "not a key"},
])
def test_a_half_configured_app_fails_at_start_up(fields):
    with pytest.raises(ValueError, match="RIG_GITHUB_DEV_"):
        GitHubSettings(**fields)


def test_a_key_file_that_cannot_be_read_is_named(tmp_path):
    with pytest.raises(ValueError, match="PRIVATE_KEY_FILE"):
        GitHubSettings(github_dev_app_id=1, github_dev_installation_id=2,
                       github_dev_private_key_file=tmp_path / "missing.pem")


async def test_a_client_reads_its_key_from_a_file(github, make_settings, repo):
    key_file = Path(github.apps[Role.CONDUCTOR]["key_path"])
    settings = make_settings(github_conductor_private_key=None, github_conductor_private_key_file=key_file)
    since = time.time()
    async with GitHubClient(settings, Role.CONDUCTOR) as client:
        assert (await client.get_repo(repo)).default_branch == "main"
    [minted] = await github.tokens_minted(Role.CONDUCTOR, since)  # the sandbox took the JWT signed with that key
    assert minted["credential"] == "jwt"


def test_the_config_error_is_a_value_error():
    assert issubclass(GitHubConfigError, ValueError)
