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

# A password inside a URL (`https://user:secret@host`, `redis://:pass@host`, `postgresql://user:pass@host`) and
# git's `x-access-token:<token>@`: the user name stays (it says which identity), the secret goes.
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s:/@'\"]*:)[^\s@/'\"]+@")
_ACCESS_TOKEN = re.compile(r"(?i)(x-access-token:)[^\s@'\"]+")

# A PEM private key (RSA, EC, OpenSSH, PKCS#8, encrypted): from its BEGIN line to its END line, on real lines
# or inside one line with escaped newlines (a tool result in JSON). A block left open goes on to later lines.
_PEM_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY-----"
_PEM_BLOCK = re.compile(rf"{_PEM_BEGIN}.*?(?:{_PEM_END}|\Z)", re.DOTALL)
_PEM_OPEN = re.compile(rf"{_PEM_BEGIN}(?:(?!{_PEM_END}).)*\Z", re.DOTALL)
_PEM_CLOSE = re.compile(rf"\A.*?{_PEM_END}", re.DOTALL)
_PEM_MAX_LINES = 200
"""A block that never ends stops being redacted after this many lines (a 4096-bit RSA key has about 50)."""

# Shorter values would redact ordinary words; a real credential is far longer.
_MIN_SECRET_LENGTH = 6


class Redactor:
    """Replaces the given secret values, and anything shaped like a credential, with `[redacted]`.

    Called line by line, it remembers an open PEM block and redacts the lines up to its END line.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._values = re.compile("|".join(re.escape(v) for v in values)) if values else None
        self._pem_lines_left = 0

    def __call__(self, text: str) -> str:
        """The text with every secret replaced."""
        if self._pem_lines_left:
            text = self._continue_pem(text)
        if _PEM_OPEN.search(text):
            self._pem_lines_left = _PEM_MAX_LINES
        text = _PEM_BLOCK.sub(REDACTED, text)
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        text = _URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)
        text = _ACCESS_TOKEN.sub(rf"\g<1>{REDACTED}", text)
        return _PATTERNS.sub(REDACTED, text)

    def _continue_pem(self, text: str) -> str:
        """A line inside an open PEM block: redacted up to the block's END line (all of it if none)."""
        closed = _PEM_CLOSE.search(text)
        if closed is None:
            self._pem_lines_left -= 1
            return REDACTED
        self._pem_lines_left = 0
        return REDACTED + text[closed.end():]
