"""Settings of the sandbox, the GitHub stand-in (`RIG_…`)."""

from __future__ import annotations

from pydantic import Field, field_validator

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
    sandbox_ci: list[str] | None = Field(
        default=None,
        description="Repositories (`owner/name`, a JSON list) whose pull requests get the sandbox's stand-in for "
                    "GitHub Actions: a `ci` check run on each new head, running `testCommand` from the head's "
                    "`.rig-agent.yaml`. Unset: the demo repository when RIG_SANDBOX_DEMO is on, none otherwise.",
    )
    sandbox_ci_timeout_s: float = Field(
        default=600.0, gt=0,
        description="Longest a `ci` run's test command may take; then its processes are killed and the check "
                    "run concludes `timed_out`.",
    )
    sandbox_ci_concurrency: int = Field(
        default=2, ge=1, description="How many `ci` runs execute at once; more wait their turn.",
    )


    @field_validator("sandbox_ci")
    @classmethod
    def _full_names(cls, value: list[str] | None) -> list[str] | None:
        """Refuse at start-up a name no repository could have, rather than never running its CI."""
        for name in value or []:
            owner, slash, repo = name.strip().partition("/")
            if not (owner and slash and repo) or "/" in repo:
                raise ValueError(f"RIG_SANDBOX_CI lists repositories as owner/name, such as demo/hello; not {name!r}")
        return value
