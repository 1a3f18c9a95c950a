"""The settings reference: complete, current, and readable for a service's own Settings class."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from rig_service.settings import CommonSettings
from rig_service.settings_doc import SETTINGS_CLASSES, load_class, main, render, render_classes


@pytest.mark.parametrize("path", SETTINGS_CLASSES)
def test_every_setting_has_a_description(path: str) -> None:
    cls = load_class(path)

    missing = [name for name, field in cls.model_fields.items() if not field.description]

    assert cls.__doc__, f"{path} needs a docstring"
    assert not missing, f"{path}: describe {missing}"


def test_the_committed_document_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0, capsys.readouterr().out


def test_the_check_fails_until_the_document_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--docs", str(tmp_path)]) == 1
    assert "run `python -m rig_service.settings_doc`" in capsys.readouterr().out

    assert main(["--docs", str(tmp_path)]) == 0
    assert (tmp_path / "settings.md").read_text(encoding="utf-8") == render()
    assert main(["--check", "--docs", str(tmp_path)]) == 0


def test_common_settings_rows() -> None:
    text = render(["rig_service.settings:CommonSettings"])

    assert "| `RIG_ENVIRONMENT` | one of `development`, `test`, `production` | `development` |" in text
    assert "| `RIG_DATABASE_URL` | text | unset | PostgreSQL URL." in text
    assert "| `RIG_LOG_LEVEL` | text | `INFO` | Logging level. | no |" in text
    assert any(line.startswith("| `RIG_TRUSTED_NETWORKS` | JSON list of IPvAnyNetwork |") for line in text.splitlines())
    for secret in ("RIG_TOKEN_PRIVATE_KEY", "RIG_EDGE_SECRET"):
        [secret_row] = [line for line in text.splitlines() if line.startswith(f"| `{secret}`")]
        assert secret_row.endswith("| yes |")


class WorkerSettings(CommonSettings):
    """Settings of a made-up worker service."""

    port: int = Field(default=8002, description="HTTP port | the edge routes here.")
    webhook_secret: SecretStr = Field(description="Shared secret of the webhooks.")
    tools: list[str] = Field(default_factory=list, description="Tools to install.")
    verbose: bool = Field(default=False, description="Log every request.")
    log_level: str = Field(default="DEBUG", description="Logging level (louder here).")


def test_a_service_class_lists_only_what_it_adds_or_changes() -> None:
    text = render_classes([CommonSettings, WorkerSettings])
    section = text.split("## `WorkerSettings`")[1]

    assert "Also reads every variable of `CommonSettings` above." in section
    assert "| `RIG_PORT` | integer | `8002` | HTTP port \\| the edge routes here. | no |" in section
    assert "| `RIG_WEBHOOK_SECRET` | text | required | Shared secret of the webhooks. | yes |" in section
    assert "| `RIG_TOOLS` | JSON list of text | computed |" in section
    assert "| `RIG_VERBOSE` | true or false | `false` |" in section
    assert "| `RIG_LOG_LEVEL` | text | `DEBUG` |" in section
    assert "RIG_DATABASE_URL" not in section


def test_a_path_that_is_not_a_settings_class_is_refused() -> None:
    with pytest.raises(TypeError, match="not a pydantic-settings class"):
        load_class("rig_service.settings:PLACEHOLDER_SECRETS")
    assert issubclass(load_class("rig_service.settings:CommonSettings"), BaseSettings)
