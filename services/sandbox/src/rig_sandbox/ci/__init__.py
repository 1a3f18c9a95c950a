"""The sandbox's stand-in for GitHub Actions.

A `ci` check run on each new pull request head, running the repository's `testCommand` (from
`.rig-agent.yaml` at that head) in a temporary worktree.
"""

from rig_sandbox.ci.workflow import Ci

__all__ = ["Ci"]
