"""Settings: each role's App from a PEM or a key file, refused when half given."""

from __future__ import annotations

import pytest
from github_apps import APPS, app_key

from rig_github import GitHubClient, GitHubConfigError, GitHubSettings, Role


def test_nothing_configured_means_no_roles():
    settings = GitHubSettings()
    assert settings.github_api_url == "https://api.github.com"
    assert settings.configured_roles() == []


def test_settings_come_from_rig_environment_variables(monkeypatch, tmp_path):
    key_file = tmp_path / "dev.pem"
    key_file.write_text(app_key(Role.DEV).private_pem)
    monkeypatch.setenv("RIG_GITHUB_API_URL", "https://ghe.example.com/api/v3")
    monkeypatch.setenv("RIG_GITHUB_DEV_APP_ID", "202")
    monkeypatch.setenv("RIG_GITHUB_DEV_INSTALLATION_ID", "2002")
    monkeypatch.setenv("RIG_GITHUB_DEV_PRIVATE_KEY_FILE", str(key_file))
    monkeypatch.setenv("RIG_GITHUB_THREADS", "3")
    settings = GitHubSettings()
    app = settings.app(Role.DEV)
    assert app is not None and (app.app_id, app.installation_id) == (202, 2002)
    assert app.private_key.get_secret_value() == app_key(Role.DEV).private_pem
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


async def test_a_client_reads_its_key_from_a_file(fake, make_settings, tmp_path):
    key_file = tmp_path / "conductor.pem"
    key_file.write_text(app_key(Role.CONDUCTOR).private_pem)
    settings = make_settings(github_conductor_private_key=None, github_conductor_private_key_file=key_file)
    async with GitHubClient(settings, Role.CONDUCTOR) as client:
        assert (await client.get_repo("o/r")).default_branch == "main"
    assert fake.state.jwt_claims[0]["iss"] == str(APPS[Role.CONDUCTOR][0])


def test_the_config_error_is_a_value_error():
    assert issubclass(GitHubConfigError, ValueError)
