"""The webhook settings come from RIG_SANDBOX_… variables and refuse what could never work."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

sys.path.insert(0, str(Path(__file__).parents[2] / "src"))  # until rig-sandbox is installed in the venv

from rig_sandbox.webhooks import WebhookSettings


def test_defaults_record_only_with_the_development_secret_and_no_chaos(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RIG_SANDBOX_WEBHOOK_URL", "RIG_SANDBOX_CHAOS_SEED", "RIG_SANDBOX_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)

    settings = WebhookSettings()

    assert settings.sandbox_webhook_url is None and settings.sandbox_chaos_seed is None
    assert settings.sandbox_webhook_secret.get_secret_value() == "sandbox-webhook-secret"
    assert settings.sandbox_delivery_timeout_s == 10.0 and not settings.sandbox_fail_deliveries


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_SANDBOX_WEBHOOK_URL", "http://127.0.0.1:8000/webhooks/github")
    monkeypatch.setenv("RIG_SANDBOX_CHAOS_SEED", "42")
    monkeypatch.setenv("RIG_SANDBOX_FAIL_DELIVERIES", "true")

    settings = WebhookSettings()

    assert settings.sandbox_webhook_url == "http://127.0.0.1:8000/webhooks/github"
    assert settings.sandbox_chaos_seed == 42 and settings.sandbox_fail_deliveries


@pytest.mark.parametrize(
    "changes",
    [{"sandbox_webhook_url": "ftp://host/x"}, {"sandbox_webhook_url": "not a url"}, {"sandbox_chaos_drop": 1.5},
     {"sandbox_delivery_timeout_s": 0}, {"sandbox_chaos_late_max_s": -1}],
)
def test_impossible_values_are_refused_at_start_up(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        WebhookSettings(**changes)


def test_an_empty_url_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_SANDBOX_WEBHOOK_URL", "")

    assert WebhookSettings().sandbox_webhook_url is None
