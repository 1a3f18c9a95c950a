"""What changes the sandbox's state.

Each action checks its input as GitHub would, changes records and git, saves, and emits the webhook events
GitHub would send.
"""
