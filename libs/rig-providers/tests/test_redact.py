"""Secrets and credential-shaped strings never leave a run's lines."""

from __future__ import annotations

from rig_providers.redact import REDACTED, Redactor


def test_given_values_and_credential_shapes_are_redacted() -> None:
    redact = Redactor(["my-oauth-token-value", "abc"])
    line = ('{"key": "my-oauth-token-value", "other": "sk-ant-api03-AAAABBBBCCCC", "gh": '
            '"ghs_0123456789abcdefghijABCDEFGHIJ", "h": "Authorization: Bearer eyJhbGciOiJFZERTQSJ9.abc"}')
    out = redact(line)
    assert "my-oauth-token-value" not in out and "sk-ant-api03" not in out and "ghs_" not in out
    assert "eyJhbGci" not in out and out.count(REDACTED) == 4


def test_short_values_and_ordinary_text_are_left_alone() -> None:
    # A three-letter "secret" would redact ordinary words: only real credentials are matched.
    assert Redactor(["abc"])("abc task-ok") == "abc task-ok"
