"""The operator's `rig` command (docs/design.md section 7): status, tokens, dead letters, replays, republishing, ACLs.

Each command module holds one command group and the async work behind it; `bootstrap` finds the settings,
servers, keys and the edge the same way the supervisor does, and `main` puts the groups together.
"""
