"""Untrusted code cannot reach the agent's secrets (issue 12, item 2), on a real agent process against the sandbox.

A repository's `testCommand` tries every way a workload could steal: the agent's environment through
`/proc/$PPID/environ` and every readable `/proc/*/environ`, its key files and data folder, and git hooks or
`core.fsmonitor` planted for the agent's own `git commit` and `git push`. It captures what it saw into a file of
the workspace; none of the agent's secrets may be in it, and no planted hook may ever run.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from agent_support import (
    REPO,
    agent_url,
    assign_issue,
    base_env,
    dev_transcript,
    ingest_for_agents,
    open_pulls,
    run_agent,
)
from github_sandbox_support import sandbox_with_app
from system_support import KEYS

from rig_contracts import Names
from rig_identity.keys import load_or_create

pytestmark = pytest.mark.slow

MODEL_KEY = "sk-ant-api03-model-key-the-workload-must-never-see"
DATABASE_URL = "postgresql://rig:database-password-never-shown@127.0.0.1:5432/rig"


def attack(marker: Path, paths: list[Path]) -> str:
    """A testCommand that dumps every environment it can reach, reads the given files and folders, and plants
    hooks that would create `marker`; it always succeeds, so the run goes on to commit and push."""
    hook = f"#!/bin/sh\ntouch {shlex.quote(str(marker))}\n"
    plant = " ".join(f"printf %s {shlex.quote(hook)} > .git/hooks/{name}; chmod +x .git/hooks/{name};"
                     for name in ("pre-commit", "pre-push", "post-checkout", "post-commit", "reference-transaction"))
    reads = " ".join(f"echo '== {p}'; ls -laR {shlex.quote(str(p))}; cat {shlex.quote(str(p))};" for p in paths)
    script = (
        "echo '== ppid environ'; tr '\\0' '\\n' < /proc/$PPID/environ;"
        " for f in /proc/[0-9]*/environ; do echo \"== $f\"; tr '\\0' '\\n' < \"$f\"; done;"
        " echo '== env'; env; echo '== processes'; ls /proc;"
        f" {reads}"
        " echo '== up from the workspace'; ls -laR ../../../.. ;"
        f" {plant}"
        f" git config core.fsmonitor {shlex.quote('touch ' + str(marker))};"
        f" git config core.hooksPath .git/hooks;"
        # A repository of its own inside the workspace, whose config would run programs once git looked into it.
        " git init -q nested && echo x > nested/file && git -C nested add file"
        " && git -C nested -c user.name=w -c user.email=w@example.com commit -qm nested"
        f" && git -C nested config core.fsmonitor {shlex.quote('touch ' + str(marker))}"
        f" && git -C nested config filter.evil.clean {shlex.quote('touch ' + str(marker) + '; cat')}"
        " && echo '* filter=evil' > nested/.gitattributes"
        f" && printf %s {shlex.quote(hook)} > nested/.git/hooks/pre-commit && chmod +x nested/.git/hooks/pre-commit;"
        " echo '== done'")
    return f"{{ {script} ; }} > captured.txt 2>&1; true"


async def test_a_test_command_sees_no_secret_and_its_hooks_never_run(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    names = Names(key_prefix)
    async with (ingest_for_agents(tmp_path, database_url, redis_url, key_prefix, schema_suffix) as system,
                sandbox_with_app(tmp_path / "sandbox") as sandbox):
        data_dir = tmp_path / "agent-data"
        signing_pem, _ = load_or_create(data_dir)  # the token-signing key on disk, where `make run` keeps it
        key_files = [Path(app["key_path"]) for app in sandbox.apps.values()]
        marker = tmp_path / "a-planted-hook-ran"
        command = attack(marker, [*key_files, data_dir, data_dir / "keys" / "private.pem", tmp_path / "sandbox"])
        number = await assign_issue(sandbox, redis, names, testCommand=command)
        url = await agent_url(redis, redis_url, names, "dev-e-python")
        agent_env = base_env(tmp_path, system, sandbox, key_prefix, url, "dev-e-python", ["events:write"],
                             dev_transcript(tmp_path))
        # Every secret an agent could hold, even ones it should not be given: none may reach the workload.
        agent_env |= {"RIG_ENVIRONMENT": "test", "ANTHROPIC_API_KEY": MODEL_KEY, "RIG_DATABASE_URL": DATABASE_URL,
                      "RIG_TOKEN_PRIVATE_KEY": KEYS[0]}

        log = await run_agent("dev-e-python", env=agent_env)

        pulls = await open_pulls(sandbox)
        assert len(pulls) == 1, log
        workspace = data_dir / "agents" / "dev-e-python" / "work" / REPO.replace("/", "__") / str(number)
        captured = (workspace / "captured.txt").read_text()
        assert "== ppid environ" in captured and "CI=true" in captured and "== done" in captured, captured
        password = url.split(":")[2].split("@")[0]
        secrets = {"agent token": agent_env["RIG_AGENT_TOKEN"], "Valkey password": password,
                   "model key": MODEL_KEY, "database URL": "database-password-never-shown",
                   "signing key": _pem_body(signing_pem), "signing key (setting)": _pem_body(KEYS[0]),
                   **{f"App key {p.name}": _pem_body(p.read_text()) for p in key_files}}
        leaked = [name for name, value in secrets.items() if value in captured]
        assert leaked == [], captured
        for shape in ("PRIVATE KEY", "ghs_", "x-access-token", "RIG_", "Authorization"):
            assert shape not in captured, (shape, captured)
        assert not marker.exists(), "a hook planted by the workload ran"
        assert not (workspace / ".git" / "hooks" / "pre-commit").exists()
        assert not (workspace / "nested" / ".git").exists()  # committed as plain files, never as a repository
        async with sandbox.roles() as gh:  # the commit and push went through, hooks or no hooks
            pushed = await gh.conductor.get_file(REPO, "captured.txt", ref=pulls[0][2])
            nested = await gh.conductor.get_file(REPO, "nested/file", ref=pulls[0][2])
        assert pushed is not None and "== done" in pushed.text
        assert nested is not None and nested.text == "x\n"


def _pem_body(pem: str) -> str:
    """A distinctive piece of a PEM key's base64 body (the first full line after the header)."""
    return next(line for line in pem.splitlines() if line and not line.startswith("-----"))
