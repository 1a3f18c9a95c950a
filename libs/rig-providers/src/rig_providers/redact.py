"""Take credentials out of output lines before anyone sees them (live logs, run logs, events)."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# Shapes of credentials that may reach the output without being given to us (a key the CLI found in a file,
# a token echoed by a tool): Anthropic and OpenAI keys, Claude OAuth tokens, GitHub tokens, bearer headers.
_PATTERNS = re.compile(
    r"sk-ant-[A-Za-z0-9_\-]{8,}"
    r"|sk-(?:proj-)?[A-Za-z0-9_\-]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{16,}=*"
)

# Shorter values would redact ordinary words; a real credential is far longer.
_MIN_SECRET_LENGTH = 6


class Redactor:
    """Replaces the given secret values, and anything shaped like a credential, with `[redacted]`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._values = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def __call__(self, text: str) -> str:
        """The text with every secret replaced."""
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        return _PATTERNS.sub(REDACTED, text)
