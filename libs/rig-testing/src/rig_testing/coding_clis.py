"""The real coding CLIs (Claude Code, Codex) installed once with npm into a cache folder outside the repository.

`python -m rig_testing.coding_clis` installs them (CI runs it); the `coding_clis` fixture does the same and
skips only when npm itself is missing. Versions are pinned: npm would otherwise pick an older Claude Code on
Node 20 (the newest wants Node 22 but runs here), and the tests check these versions' output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGES = {"@anthropic-ai/claude-code": "2.1.332", "@openai/codex": "0.169.0"}
"""npm packages and the versions the tests were written against."""


class NpmMissingError(RuntimeError):
    """npm is not installed, so the real CLIs cannot be."""


@dataclass(frozen=True, slots=True)
class CodingClis:
    """Paths of the installed binaries."""

    claude: Path
    codex: Path


def cache_dir() -> Path:
    """Where the CLIs live: `RIG_NPM_CACHE`, else ~/.cache/rig-conductor/npm."""
    configured = os.environ.get("RIG_NPM_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "rig-conductor" / "npm"


def _installed(prefix: Path) -> bool:
    for package, version in PACKAGES.items():
        manifest = prefix / "node_modules" / package / "package.json"
        if not manifest.exists() or json.loads(manifest.read_text()).get("version") != version:
            return False
    return all((prefix / "node_modules" / ".bin" / name).exists() for name in ("claude", "codex"))


def install(prefix: Path | None = None) -> CodingClis:
    """Install the pinned CLIs into `prefix` unless they already are there; return their paths."""
    prefix = prefix or cache_dir()
    if not _installed(prefix):
        npm = shutil.which("npm")
        if npm is None:
            raise NpmMissingError("npm is not installed: the tests of the real Claude Code and Codex CLIs need it")
        prefix.mkdir(parents=True, exist_ok=True)
        specs = [f"{package}@{version}" for package, version in PACKAGES.items()]
        subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                        *specs], check=True, timeout=900)
    bin_dir = prefix / "node_modules" / ".bin"
    return CodingClis(claude=bin_dir / "claude", codex=bin_dir / "codex")


if __name__ == "__main__":
    clis = install()
    print(f"coding CLIs ready: {clis.claude}, {clis.codex}")
    sys.exit(0)
