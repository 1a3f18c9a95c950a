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


PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretbodyline1\nQWxhZGRpbjpvcGVuIHNlc2FtZQsecret2\n"
       "-----END RSA PRIVATE KEY-----")


def test_a_pem_block_in_one_text_is_redacted_whole() -> None:
    out = Redactor([])(f"found key:\n{PEM}\nand then more")
    assert "secretbodyline1" not in out and "secret2" not in out and "PRIVATE KEY" not in out
    assert out == f"found key:\n{REDACTED}\nand then more"


def test_a_pem_block_with_escaped_newlines_in_a_json_line_is_redacted() -> None:
    line = '{"tool_result": "' + PEM.replace("\n", "\\n") + '", "after": 1}'
    out = Redactor([])(line)
    assert "secretbodyline1" not in out and out == '{"tool_result": "' + REDACTED + '", "after": 1}'


def test_a_pem_block_printed_line_by_line_is_redacted_up_to_its_end() -> None:
    redact = Redactor([])
    lines = ["before", *"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAABG5vbmUAAAAEbm9uZQ\n"
             "-----END OPENSSH PRIVATE KEY-----".splitlines(), "after"]
    out = [redact(line) for line in lines]
    assert out == ["before", REDACTED, REDACTED, REDACTED, REDACTED, "after"]


def test_an_ec_and_an_encrypted_pkcs8_key_are_redacted_but_public_keys_and_certificates_stay() -> None:
    redact = Redactor([])
    for kind in ("EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        assert redact(f"-----BEGIN {kind}-----\nAAAAsecret\n-----END {kind}-----") == REDACTED
    public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----"
    assert redact(public) == public


def test_credentials_inside_urls_are_redacted_and_the_user_kept() -> None:
    redact = Redactor([])
    cases = {
        "clone https://user:s3cret-pass@github.example/acme/app.git": "https://user:[redacted]@github.example",
        "remote: https://x-access-token:v1.abcdef0123456789@github.com/a/b": "x-access-token:[redacted]@github.com",
        "RIG_AGENT_REDIS_URL=redis://agent-dev-e-node:9f8e7d6c5b4a@127.0.0.1:6379/0":
            "redis://agent-dev-e-node:[redacted]@127.0.0.1",
        "db postgresql://rig:pg-password-here@db:5432/rig": "postgresql://rig:[redacted]@db:5432",
        "redis://:only-a-password@valkey:6379": "redis://:[redacted]@valkey",
        "header x-access-token:abcdef0123456789 seen": "x-access-token:[redacted] seen",
    }
    for text, kept in cases.items():
        out = redact(text)
        assert kept in out, (text, out)
        for secret in ("s3cret-pass", "v1.abcdef", "9f8e7d6c5b4a", "pg-password-here", "only-a-password",
                       "abcdef0123456789"):
            assert secret not in out, (text, out)
    assert redact("see https://github.com/acme/app and http://127.0.0.1:8000/x") == (
        "see https://github.com/acme/app and http://127.0.0.1:8000/x")
