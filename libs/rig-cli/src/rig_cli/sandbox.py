"""`rig sandbox`: the place for commands of the GitHub stand-in; they arrive together with the sandbox service."""

from __future__ import annotations

import click

NOT_YET = ("No sandbox commands exist yet: they are added together with the sandbox service "
           "(services/sandbox). Nothing was done.")
"""What `rig sandbox` says until the sandbox service brings its commands."""


@click.group("sandbox", invoke_without_command=True, epilog=NOT_YET)
@click.pass_context
def sandbox(ctx: click.Context) -> None:
    """Commands of the sandbox, the GitHub stand-in (demo repositories, issues, webhooks)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
