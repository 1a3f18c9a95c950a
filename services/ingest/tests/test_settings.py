import pytest
from pydantic import ValidationError

from rig_ingest.settings import IngestSettings


def test_secrets_come_from_a_json_list_in_the_environment(monkeypatch):
    monkeypatch.setenv("RIG_INGEST_WEBHOOK_SECRETS", '["new-secret-b", "old-secret-a"]')
    settings = IngestSettings(environment="production")
    assert [s.get_secret_value() for s in settings.ingest_webhook_secrets] == ["new-secret-b", "old-secret-a"]
    assert "new-secret-b" not in repr(settings)


@pytest.mark.parametrize("secrets", ["[]", '["changeme"]', '["real-one", ""]'])
def test_outside_development_missing_or_placeholder_secrets_refuse_to_start(monkeypatch, secrets):
    monkeypatch.setenv("RIG_INGEST_WEBHOOK_SECRETS", secrets)
    with pytest.raises(ValidationError, match="RIG_INGEST_WEBHOOK_SECRETS"):
        IngestSettings(environment="test")


def test_development_starts_without_secrets(monkeypatch):
    monkeypatch.delenv("RIG_INGEST_WEBHOOK_SECRETS", raising=False)
    assert IngestSettings(environment="development").ingest_webhook_secrets == []
