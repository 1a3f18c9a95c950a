"""The settings reference: one table row per environment variable, generated from the Settings classes.

Run `python -m rig_service.settings_doc` to write `docs/settings.md`, or add `--check` to exit 1 when
the committed file is out of date. A service adds its Settings class to `SETTINGS_CLASSES`.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

SETTINGS_CLASSES: list[str] = [
    "rig_service.settings:CommonSettings",
    "rig_supervisor.settings:SupervisorSettings",
    "rig_cli.settings:CliSettings",
    "rig_eventstore.settings:EventStoreSettings",
    "rig_edge.settings:EdgeSettings",
    "rig_github.settings:GitHubSettings",
    "rig_sandbox.settings:SandboxSettings",
    "rig_ingest.settings:IngestSettings",
    "rig_agent.settings:AgentSettings",
    "rig_merger.settings:MergerSettings",
    "rig_router.settings:RouterSettings",
    "rig_costs.settings:CostsSettings",
]
"""Import paths (`module:Class`) of every Settings class to document, base classes first."""

DOC_NAME = "settings.md"
"""The file written in the repository's `docs/` folder."""

_SECRET_TYPES = (SecretStr, SecretBytes)
_TYPE_WORDS: dict[Any, str] = {str: "text", int: "integer", float: "number", bool: "true or false",
                               SecretStr: "text", SecretBytes: "bytes", Path: "path"}


def load_class(path: str) -> type[BaseSettings]:
    """Import a Settings class from its `module:Class` path."""
    module_name, _, name = path.partition(":")
    found = getattr(importlib.import_module(module_name), name, None)
    if not (inspect.isclass(found) and issubclass(found, BaseSettings)):
        raise TypeError(f"{path} is not a pydantic-settings class; list `module:Class` paths in SETTINGS_CLASSES")
    return found


def env_name(cls: type[BaseSettings], name: str, field: FieldInfo) -> str:
    """Return the environment variable a field is read from (its alias, else the class's prefix + its name)."""
    alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
    return (alias or f"{cls.model_config.get('env_prefix') or ''}{name}").upper()


def _members(annotation: Any) -> tuple[Any, ...]:
    return get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)


def type_text(annotation: Any) -> str:
    """Describe a field's type in words an operator setting a variable understands."""
    members = [member for member in _members(annotation) if member is not type(None)]
    words = []
    for member in members:
        if get_origin(member) is Literal:
            words.append("one of " + ", ".join(f"`{value}`" for value in get_args(member)))
        elif get_origin(member) in (list, tuple, set, frozenset):
            inner = get_args(member)[0] if get_args(member) else Any
            words.append(f"JSON list of {type_text(inner)}")
        else:
            words.append(_TYPE_WORDS.get(member, getattr(member, "__name__", str(member))))
    return " or ".join(words)


def is_secret(annotation: Any) -> bool:
    """Whether a field holds a secret (kept out of logs and reprs)."""
    return any(member in _SECRET_TYPES for member in _members(annotation))


def default_text(field: FieldInfo) -> str:
    """Describe a field's default: required, unset, empty, hidden for a secret, else the value."""
    if field.default_factory is not None:
        return "computed"
    default = field.default
    if default is PydanticUndefined:
        return "required"
    if default is None:
        return "unset"
    if is_secret(field.annotation):
        return "(hidden)"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`" if default != "" else "empty"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _inherited(cls: type[BaseSettings], documented: Sequence[type[BaseSettings]]) -> tuple[list[str], set[str]]:
    bases = [base for base in documented if issubclass(cls, base) and base is not cls]
    same = {name for base in bases for name, field in base.model_fields.items()
            if name in cls.model_fields and repr(cls.model_fields[name]) == repr(field)}
    return [base.__name__ for base in bases], same


def settings_section(cls: type[BaseSettings], documented: Sequence[type[BaseSettings]] = ()) -> str:
    """Return the Markdown section of one class: its docstring and a row per variable it adds."""
    base_names, skipped = _inherited(cls, documented)
    lines = [f"## `{cls.__name__}` (`{cls.__module__}`)", "", _cell(inspect.getdoc(cls) or ""), ""]
    if base_names:
        lines += ["Also reads every variable of " + ", ".join(f"`{name}`" for name in base_names) + " above.", ""]
    lines += ["| variable | type | default | description | secret |", "|---|---|---|---|---|"]
    for name, field in cls.model_fields.items():
        if name in skipped:
            continue
        row = (f"`{env_name(cls, name, field)}`", type_text(field.annotation), default_text(field),
               field.description or "", "yes" if is_secret(field.annotation) else "no")
        lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n"


def render_classes(classes: Sequence[type[BaseSettings]]) -> str:
    """Return the whole Markdown document for `classes`, in order."""
    head = ("# Settings\n\nEvery setting is read from an environment variable (pydantic-settings); a variable "
            "that is not set takes the default. Generated by `python -m rig_service.settings_doc` from the "
            "Settings classes; do not edit by hand.\n")
    sections = [settings_section(cls, classes[:index]) for index, cls in enumerate(classes)]
    return "\n".join([head, *sections])


def render(paths: Sequence[str] = SETTINGS_CLASSES) -> str:
    """Return the document for the classes at `paths` (`module:Class`)."""
    return render_classes([load_class(path) for path in paths])


def repository_root(start: Path | None = None) -> Path:
    """Return the workspace root (the folder holding `uv.lock`) above `start`, else the current directory."""
    here = (start or Path(__file__)).resolve()
    return next((folder for folder in here.parents if (folder / "uv.lock").is_file()), Path.cwd())


def main(argv: Sequence[str] | None = None) -> int:
    """Write `docs/settings.md`, or with `--check` exit 1 when the committed file differs from it."""
    parser = argparse.ArgumentParser(prog="python -m rig_service.settings_doc", description="Write the settings doc.")
    parser.add_argument("--check", action="store_true", help="compare with the committed file; write nothing")
    parser.add_argument("--docs", type=Path, default=repository_root() / "docs", help="folder of the document")
    args = parser.parse_args(argv)
    path: Path = args.docs / DOC_NAME
    text = render()
    if args.check:
        current = path.is_file() and path.read_text(encoding="utf-8") == text
        print(f"{path} is up to date" if current else
              f"{path} is missing or out of date: run `python -m rig_service.settings_doc` and commit it")
        return 0 if current else 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
