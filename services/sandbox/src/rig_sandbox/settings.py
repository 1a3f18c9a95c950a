"""Settings of the sandbox, the GitHub stand-in (`RIG_…`)."""

from __future__ import annotations

from pydantic import Field

from rig_sandbox.webhooks.settings import WebhookSettings
from rig_service.settings import CommonSettings


class SandboxSettings(WebhookSettings, CommonSettings):
    """The sandbox's settings: where it is reached, how long its tokens live, its chaos, and its demo."""

    sandbox_public_url: str = Field(
        default="http://127.0.0.1:8090",
        description="Base URL the sandbox is reached at, as `https://api.github.com` is for GitHub: every `url`, "
                    "`html_url` and `clone_url` in its answers and webhooks starts with it.",
    )
    sandbox_token_ttl_s: int = Field(
        default=3600, ge=1,
        description="Lifetime of an installation token in seconds (GitHub: one hour). Tests set it short to see "
                    "tokens refreshed.",
    )
    sandbox_mergeable_unknown_max_s: float = Field(
        default=0.0, ge=0,
        description="Chaos: after each push to a pull request's head or base, `mergeable_state` stays `unknown` "
                    "(and `mergeable` null) for a seeded-random moment between half this and this many seconds "
                    "(seed: RIG_SANDBOX_CHAOS_SEED). 0: computed at once.",
    )
    sandbox_demo: bool = Field(
        default=True,
        description="Create the demo repository `demo/hello` (a small Node project with a `.rig-agent.yaml`) "
                    "and its issue #1, ready for the `agent-ready` label, at first start.",
    )
    sandbox_git_concurrency: int = Field(
        default=8, ge=1, description="How many git processes the sandbox runs at once; more wait their turn."
    )
