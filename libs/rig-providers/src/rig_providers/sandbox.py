"""Where untrusted code runs: a bubblewrap namespace sandbox that cannot read the agent's secrets.

Repository commands (`buildCommand`, `testCommand`, tool installs) and the coding CLIs (with every tool the
model runs) are as untrusted as the issue text that steered them. Inside the sandbox they get:

- a fresh pid namespace and /proc: no other process of the machine is visible, the agent's included, so
  `/proc/<agent>/environ` and `/mem` do not exist for them (`$PPID` is the sandbox's own init);
- the system directories read-only, and only the paths the workload needs: its workspace read-write (with
  `.git` read-only, so hooks, `core.fsmonitor` or filter drivers cannot be planted for the agent's own git),
  the CLI's install and config folders; never the agent's data folder, key files or settings;
- a private /tmp, /var/tmp (TMPDIR: Codex refuses to set up its own sandbox's helpers under TMPDIR, and its
  home may well be under /tmp) and HOME, and only the environment the caller passes (bubblewrap itself is
  started with it, so even the sandbox's init shows nothing else);
- the network namespace shared, so a local model server on 127.0.0.1 and package registries stay reachable.

Outside development a missing bubblewrap is an error (`Sandbox.detect(required=True)`); in development the
workload runs unsandboxed, with a warning saying what to install.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/opt")
"""Read-only inside the sandbox (symlinks such as /bin -> usr/bin are recreated as symlinks)."""

SANDBOX_HOME = "/tmp/home"  # noqa: S108 (the sandbox's own private tmpfs)
"""HOME inside the sandbox when the caller gives none: on the private /tmp, gone with the sandbox."""

SANDBOX_TMP = "/var/tmp"  # noqa: S108 (a private tmpfs inside the sandbox)
"""TMPDIR inside the sandbox."""

INSTALL_HINT = "install bubblewrap (`apt-get install -y bubblewrap`; `.ci/run` does)"


class SandboxUnavailableError(RuntimeError):
    """Untrusted code would run unsandboxed outside development; the message says what to install."""


@dataclass(frozen=True, slots=True)
class Jail:
    """What one sandboxed process may see besides the system directories.

    `workdir` is bound read-write (its `.git` read-only), `writable` and `readable` are further folders or
    files bound at the same path, `home` is a persistent HOME (bound read-write) instead of a private one.
    """

    workdir: Path
    writable: Sequence[Path] = ()
    readable: Sequence[Path] = ()
    home: Path | None = None


@dataclass(frozen=True, slots=True)
class Sandbox:
    """Wraps a command in bubblewrap (`bwrap`), or runs it as it is when `bwrap` is None (development only)."""

    bwrap: str | None

    @classmethod
    def detect(cls, *, required: bool) -> Sandbox:
        """The machine's bubblewrap; without it an error when `required`, else an unsandboxed one (warned)."""
        found = shutil.which("bwrap")
        if found is None:
            if required:
                raise SandboxUnavailableError(
                    f"repository commands and coding CLIs must run sandboxed outside development: {INSTALL_HINT}, "
                    "or set RIG_ENVIRONMENT=development to run them as the agent's own user (unsafe)")
            log.warning("bubblewrap is missing: repository commands and coding CLIs run unsandboxed and can read "
                        "this agent's secrets; %s", INSTALL_HINT)
        return cls(found)

    def check(self) -> None:
        """Start one empty sandbox, so that a bubblewrap that cannot work here fails at start, saying why."""
        if self.bwrap is None:
            return
        with tempfile.TemporaryDirectory(prefix="rig-sandbox-check-") as folder:
            argv, env = self.wrap(["/bin/sh", "-c", "true"], {"PATH": os.defpath}, Jail(Path(folder)))
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise SandboxUnavailableError(
                f"bubblewrap cannot start a sandbox here ({done.stderr.strip()[-500:]}): it needs unprivileged user "
                "namespaces (sysctl kernel.unprivileged_userns_clone=1, and in a container a seccomp profile "
                "allowing clone with CLONE_NEWUSER) or to run as root")

    @classmethod
    def off(cls) -> Sandbox:
        """No sandbox (tests of the unsandboxed path, development without bubblewrap)."""
        return cls(None)

    def wrap(self, argv: Sequence[str], env: Mapping[str, str], jail: Jail) -> tuple[list[str], dict[str, str]]:
        """The command and environment that run `argv` with `env` inside the sandbox described by `jail`."""
        home = str(jail.home) if jail.home is not None else SANDBOX_HOME
        inner = dict(env) | {"HOME": home, "TMPDIR": SANDBOX_TMP}
        if self.bwrap is None:
            if jail.home is not None:
                jail.home.mkdir(parents=True, exist_ok=True)
                return list(argv), inner
            return list(argv), dict(env)
        args = [self.bwrap, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",  # noqa: S108 (mounts a private one)
                "--tmpfs", SANDBOX_TMP]
        for name in SYSTEM_DIRS:
            args += _system_dir(Path(name))
        for path in _existing(jail.readable):
            args += ["--ro-bind", str(path), str(path)]
        if jail.home is not None:
            jail.home.mkdir(parents=True, exist_ok=True)
            args += ["--bind", home, home]
        else:
            args += ["--dir", home]
        for path in _existing(jail.writable):
            args += ["--bind", str(path), str(path)]
        workdir = jail.workdir.resolve()
        args += ["--bind", str(workdir), str(workdir), "--ro-bind-try", str(workdir / ".git"), str(workdir / ".git"),
                 "--chdir", str(workdir), "--"]
        return args + list(argv), inner


def _system_dir(path: Path) -> list[str]:
    if path.is_symlink():
        return ["--symlink", str(path.readlink()), str(path)]
    return ["--ro-bind", str(path), str(path)] if path.is_dir() else []


def _existing(paths: Iterable[Path]) -> list[Path]:
    """Resolved paths that exist, each once (bubblewrap refuses a missing source)."""
    seen: dict[Path, None] = {}
    for path in paths:
        resolved = path.resolve()
        if resolved.exists():
            seen.setdefault(resolved, None)
    return list(seen)


def install_root(executable: str, path: str | None) -> list[Path]:
    """What a CLI found as `executable` on `path` needs readable: its npm `node_modules` folder, else its folder."""
    found = shutil.which(executable, path=path)
    if found is None:
        return []
    places = [Path(found).parent]
    for candidate in (Path(found).absolute(), Path(found).resolve()):
        modules = next((p for p in candidate.parents if p.name == "node_modules"), None)
        places.append(modules if modules is not None else candidate.parent)
    return places


def python_paths(*packages: str) -> list[Path]:
    """What our own Python needs readable to run `packages` (the scripted player).

    Its prefixes (the virtualenv, site-packages) and the folders the packages are imported from (editable
    installs point at their sources).

    Never the whole `sys.path`: with `python -m` its first entry is the working directory, which may be the
    repository root holding the data folder and its keys.
    """
    roots = [Path(sys.base_prefix), Path(sys.prefix)]
    for name in packages:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec is not None else []:
            roots.append(Path(location).parent)
    return roots


PR_SET_DUMPABLE = 4


def make_undumpable() -> bool:
    """Mark this process non-dumpable (prctl PR_SET_DUMPABLE 0); whether it worked (Linux only).

    Then no process of the same user without CAP_SYS_PTRACE can read its `/proc/<pid>/environ` or `mem`, or
    attach to it.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


async def group_gone(pgid: int, limit_s: float = 2.0) -> None:
    """Wait (briefly) until no live process is left in the group.

    A sandbox's init takes a moment to end its namespace once killed, and a run is over only when nothing of it
    runs any more. No event tells when a process of another parent has gone, so this looks at /proc.
    """
    deadline = time.monotonic() + limit_s
    while _live_in_group(pgid) and time.monotonic() < deadline:  # noqa: ASYNC110 (nothing to wait on but /proc)
        await asyncio.sleep(0.01)


def _live_in_group(pgid: int) -> bool:
    """Whether a process of group `pgid` is still running (zombies excluded); False where /proc cannot say."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False
