"""Settings: read from RIG_ variables, and placeholder secrets refused outside development."""

from __future__ import annotations

import os

import pytest
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from rig_service.settings import CommonSettings

REAL_KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGq3cM0Ta0aFhG0kFL3bS2yA9h7\n-----END PRIVATE KEY-----\n"


@pytest.fixture(autouse=True)
def no_rig_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep variables of the machine running the tests out of them."""
    for key in list(os.environ):
        if key.startswith("RIG_"):
            monkeypatch.delenv(key)


def test_production_refuses_a_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match=r"RIG_TOKEN_PRIVATE_KEY holds a placeholder value.*production"):
        CommonSettings(environment="production", token_private_key=SecretStr("changethis"))


@pytest.mark.parametrize("placeholder", ["changethis", " ChangeThis ", "secret", ""])
def test_test_and_production_refuse_placeholders_however_written(placeholder: str) -> None:
    for environment in ("test", "production"):
        with pytest.raises(ValidationError, match="placeholder"):
            CommonSettings(environment=environment, token_private_key=SecretStr(placeholder))


def test_development_accepts_a_placeholder_secret() -> None:
    settings = CommonSettings(environment="development", token_private_key=SecretStr("changethis"))

    assert settings.token_private_key is not None
    assert settings.token_private_key.get_secret_value() == "changethis"


def test_production_accepts_a_real_secret_and_an_unset_one() -> None:
    assert CommonSettings(environment="production", token_private_key=SecretStr(REAL_KEY)).token_private_key
    assert CommonSettings(environment="production").token_private_key is None


def test_settings_come_from_rig_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_ENVIRONMENT", "production")
    monkeypatch.setenv("RIG_KEY_PREFIX", "eu:")
    monkeypatch.setenv("RIG_TOKEN_PRIVATE_KEY", "changethis")

    with pytest.raises(ValidationError, match="RIG_TOKEN_PRIVATE_KEY"):
        CommonSettings()

    monkeypatch.setenv("RIG_TOKEN_PRIVATE_KEY", REAL_KEY)
    settings = CommonSettings()
    assert (settings.environment, settings.key_prefix) == ("production", "eu:")
    assert REAL_KEY not in repr(settings)


def test_a_service_secret_is_named_with_the_service_prefix() -> None:
    class RouterSettings(CommonSettings):
        model_config = SettingsConfigDict(env_prefix="RIG_ROUTER_")
        webhook_secret: SecretStr = Field(description="Secret of the webhook.")

    with pytest.raises(ValidationError, match="RIG_ROUTER_WEBHOOK_SECRET holds a placeholder"):
        RouterSettings(environment="production", webhook_secret=SecretStr("change-me"))
