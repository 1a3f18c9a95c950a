"""The `rig` command: the operator's tool (docs/design.md section 7), one group per concern."""

from __future__ import annotations

import click

from rig_cli.acl import acl
from rig_cli.costs import costs_command
from rig_cli.dead import dead
from rig_cli.replay import replay_command
from rig_cli.republish import republish_command
from rig_cli.sandbox import sandbox
from rig_cli.status import status
from rig_cli.tokens import tokens


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="rig-cli", prog_name="rig")
def app() -> None:
    """Operate rig-conductor: health, tokens, dead letters, replays, republishing, Valkey ACL users, costs.

    Settings come from RIG_… environment variables (docs/settings.md): RIG_EDGE_URL, RIG_REDIS_URL,
    RIG_DATABASE_URL (unset: the embedded servers under RIG_DATA_DIR, default .rig), RIG_KEY_PREFIX, RIG_TOPOLOGY.
    """


for command in (status, tokens, dead, replay_command, republish_command, acl, sandbox, costs_command):
    app.add_command(command)
