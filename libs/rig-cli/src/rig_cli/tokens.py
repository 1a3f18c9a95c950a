"""`rig tokens`: mint access tokens for agents and people, and show where the signing keys are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from rig_cli import bootstrap
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
