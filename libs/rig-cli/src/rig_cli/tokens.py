"""`rig tokens`: mint access tokens for agents and people, and show where the signing keys are."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from rig_cli import bootstrap
from rig_cli.edge import AdminToken, Edge
from rig_identity.keys import key_paths, load_or_create
from rig_identity.tokens import DEFAULT_TTL, SCOPES, mint


@click.group("tokens")
def tokens() -> None:
    """Access tokens (EdDSA JWT) for agents and people calling the services."""


@tokens.command("create")
@click.option("--subject", required=True,
              help="Who the token speaks for, e.g. agent:dev-e-node or human:alice.")
@click.option("--scope", "scopes", required=True, multiple=True, type=click.Choice(sorted(SCOPES)),
              help="What the token may do; repeat for several.")
@click.option("--ttl-days", type=click.IntRange(min=1), default=DEFAULT_TTL.days, show_default=True,
              help="Days until the token expires.")
def create(subject: str, scopes: tuple[str, ...], ttl_days: int) -> None:
    """Mint a token and print it on stdout (details go to stderr, so `$(rig tokens create …)` works)."""
    settings = bootstrap.load_settings()
    key = bootstrap.signing_key(settings)
    ttl = timedelta(days=ttl_days)
    try:
        token = mint(key.private_pem, subject, scopes, ttl=ttl)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    expires = (datetime.now(UTC) + ttl).replace(microsecond=0).isoformat()
    bootstrap.stderr().print(f"token for {subject} with {', '.join(sorted(set(scopes)))}, expires {expires}, "
                             f"signed with {key.origin}")
    click.echo(token)


@tokens.command("keygen")
def keygen() -> None:
    """Show where the signing key pair is kept, creating it under the data folder when missing."""
    settings = bootstrap.load_settings()
    data_dir = Path(settings.data_dir)
    try:
        _, public_pem = load_or_create(data_dir)
    except (OSError, ValueError) as error:
        raise click.ClickException(f"no usable key pair under {data_dir}/keys: {error}") from error
    private_path, public_path = key_paths(data_dir)
    console = bootstrap.stdout()
    console.print(f"private key: {private_path.resolve()}  (mode 600; signs tokens: keep it secret)")
    console.print(f"public key:  {public_path.resolve()}")
    console.print(f'Services verify with it: RIG_TOKEN_PUBLIC_KEY="$(cat {public_path.resolve()})"')
    if settings.token_private_key is not None:
        console.print("[yellow]Note: RIG_TOKEN_PRIVATE_KEY is set, so `rig` signs with that key, not this pair.[/]")
    click.echo(public_pem, nl=False)


def revocation_of(token_or_jti: str, reason: str) -> dict[str, Any]:
    """The admin API's body for a token id, or for a whole token (its `jti` and expiry read from it).

    A token's claims are read without checking its signature: revoking a token needs no trust in it, and a
    token signed with another key is revoked by its id all the same.
    """
    value = token_or_jti.strip()
    if value.count(".") != 2:
        if not value or any(c.isspace() for c in value):
            raise click.BadParameter("give a token id (jti) or a whole token", param_hint="TOKEN_OR_JTI")
        return {"jti": value, "reason": reason}
    claims = _claims(value)
    jti, expires = claims.get("jti"), claims.get("exp")
    if not isinstance(jti, str) or not jti:
        raise click.BadParameter("the token has no jti claim to revoke", param_hint="TOKEN_OR_JTI")
    body: dict[str, Any] = {"jti": jti, "reason": reason}
    if isinstance(expires, int | float) and not isinstance(expires, bool):
        body["expires_at"] = datetime.fromtimestamp(expires, UTC).isoformat()
    return body


@tokens.command("revoke")
@click.argument("token_or_jti")
@click.option("--reason", default="", help="Why, kept with the revocation.")
def revoke(token_or_jti: str, reason: str) -> None:
    """Revoke a token, by its jti or the token itself, through ingest's admin API (TOKEN_REVOKED).

    Ingest refuses it at once; every other service as soon as the TOKEN_REVOKED event reaches it.
    """
    body = revocation_of(token_or_jti, reason)
    settings = bootstrap.load_settings()
    token = AdminToken(bootstrap.signing_key(settings), bootstrap.operator_subject(), settings.admin_token_ttl_s)

    async def work() -> dict[str, Any]:
        async with Edge(settings.edge_url, token, settings.http_timeout_s) as edge:
            return await edge.call("POST", "/api/admin/tokens/revoke", body)

    answer = bootstrap.run(work())
    already = " (it already was)" if answer.get("duplicate") else ""
    bootstrap.stdout().print(f"revoked token {body['jti']}{already}: event {answer.get('event_id')}")


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise click.BadParameter(f"this is not a token we can read ({type(error).__name__}): give the token as "
                                 "`rig tokens create` printed it, or its jti", param_hint="TOKEN_OR_JTI") from error
    if not isinstance(claims, dict):
        raise click.BadParameter("the token's claims are not a JSON object", param_hint="TOKEN_OR_JTI")
    return claims
