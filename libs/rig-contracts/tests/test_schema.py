"""The generated documents: committed and current, complete, and every reference in them resolves."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from rig_contracts import EVENT_TYPES, Names, payloads
from rig_contracts.envelope import Envelope, Payload
from rig_contracts.schema import (
    DOCS,
    EVENT_CONSUMERS,
    PRODUCERS,
    asyncapi_document,
    event_json_schema,
    main,
    payload_class,
    repository_root,
)

KNOWN_PRODUCERS = {"ingest", "router", "merger", "costs", "agent", "hook"}

PAYLOAD_MODELS = [obj for obj in vars(payloads).values()
                  if inspect.isclass(obj) and issubclass(obj, Payload) and obj is not Payload]


def resolve(document: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer such as `#/components/messages/MERGED`."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    """Every `$ref` anywhere below `node`."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def test_the_committed_documents_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--check"])

    assert status == 0, capsys.readouterr().out


def test_the_check_runs_as_a_module() -> None:
    done = subprocess.run([sys.executable, "-m", "rig_contracts.schema", "--check"],
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_fails_on_missing_or_stale_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--docs", str(tmp_path)]) == 1
    assert "events.schema.json is missing" in capsys.readouterr().out

    assert main(["--docs", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(DOCS)
    assert main(["--check", "--docs", str(tmp_path)]) == 0

    stale = tmp_path / "events.asyncapi.json"
    stale.write_text(stale.read_text().replace('"3.0.0"', '"2.6.0"'))
    capsys.readouterr()
    assert main(["--check", "--docs", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "events.asyncapi.json is out of date" in out
    assert '-  "asyncapi": "2.6.0"' in out


def test_the_documents_live_at_the_repository_root() -> None:
    root = repository_root()

    assert (root / "uv.lock").is_file()
    assert (root / "libs" / "rig-contracts").is_dir()


@pytest.mark.parametrize("model", PAYLOAD_MODELS, ids=lambda model: model.__name__)
def test_every_payload_field_has_a_description(model: type[BaseModel]) -> None:
    assert inspect.getdoc(model), f"{model.__name__} needs a docstring (it becomes the message description)"
    missing = [name for name, field in model.model_fields.items() if not field.description]
    assert not missing, f"{model.__name__}: describe {missing}"


@pytest.mark.parametrize("event", list(EVENT_TYPES.values()), ids=lambda event: event.__name__)
def test_every_envelope_field_has_a_description(event: type[Envelope]) -> None:
    missing = [name for name, field in event.model_fields.items() if not field.description]
    assert not missing, f"{event.__name__}: describe {missing}"
    assert payload_class(event) in PAYLOAD_MODELS


def test_every_type_has_known_producers() -> None:
    assert list(PRODUCERS) == list(EVENT_TYPES)
    assert {p for producers in PRODUCERS.values() for p in producers} == KNOWN_PRODUCERS


def test_the_json_schema_is_the_discriminated_union() -> None:
    schema = event_json_schema()

    assert schema["discriminator"]["propertyName"] == "type"
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == set(EVENT_TYPES)
    for kind, ref in mapping.items():
        assert resolve(schema, ref)["properties"]["type"]["const"] == kind
    assert all(resolve(schema, ref) for ref in refs(schema))


@pytest.mark.parametrize("kind", list(EVENT_TYPES))
def test_the_json_schema_requires_every_field_a_producer_writes(kind: str) -> None:
    schema = event_json_schema()
    event_schema = resolve(schema, schema["discriminator"]["mapping"][kind])

    assert set(event_schema["required"]) == set(event_schema["properties"]) == set(EVENT_TYPES[kind].model_fields)
    assert event_schema["additionalProperties"] is False


def test_every_asyncapi_reference_resolves() -> None:
    document = asyncapi_document()

    unresolved = [ref for ref in refs(document) if not _resolves(document, ref)]

    assert not unresolved
    assert document["asyncapi"] == "3.0.0"


def _resolves(document: dict[str, Any], ref: str) -> bool:
    try:
        resolve(document, ref)
    except (KeyError, AssertionError):
        return False
    return True


def test_every_operation_uses_messages_of_its_own_channel() -> None:
    document = asyncapi_document()

    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        assert operation["action"] in {"send", "receive"}
        assert operation["messages"], name
        assert all(message["$ref"].startswith(channel + "/messages/") for message in operation["messages"]), name


def test_each_event_type_is_a_message_described_by_its_payload() -> None:
    messages = asyncapi_document()["components"]["messages"]

    for kind, event in EVENT_TYPES.items():
        message = messages[kind]
        assert message["description"].startswith(inspect.getdoc(payload_class(event)) or "?")
        assert message["payload"] == {"$ref": f"#/components/schemas/{event.__name__}"}
        assert message["x-producers"] == list(PRODUCERS[kind])


def test_producers_send_what_the_design_says_and_services_receive_everything() -> None:
    operations = asyncapi_document()["operations"]

    sent = {name.split(".")[0]: {m["$ref"].rsplit("/", 1)[1] for m in op["messages"]}
            for name, op in operations.items() if name.endswith(".sendEvents")}
    assert sent == {p: {k for k, ps in PRODUCERS.items() if p in ps} for p in KNOWN_PRODUCERS}
    for consumer in EVENT_CONSUMERS:
        assert len(operations[f"{consumer}.receiveEvents"]["messages"]) == len(EVENT_TYPES)
    assert "ingest" in operations["agent.sendEvents"]["description"]


def test_channels_are_the_names_of_the_design() -> None:
    names = Names()
    channels = asyncapi_document()["channels"]

    addresses = {key: channel["address"] for key, channel in channels.items()}
    assert addresses == {
        "events": names.events, "assignments": names.assignments("{agent}"), "replay": names.replay("{service}"),
        "dead": names.dead, "runlogs": names.runlogs, "logs": names.logs("{agent}"),
    }
    for key, channel in channels.items():
        assert set(re.findall(r"{(\w+)}", channel["address"])) == set(channel.get("parameters", {})), key
    assert set(channels["assignments"]["messages"]) == {"ISSUE_ASSIGNED", "REVIEW_ASSIGNED"}


def test_the_committed_asyncapi_document_is_plain_json() -> None:
    text = (repository_root() / "docs" / "events.asyncapi.json").read_text(encoding="utf-8")

    assert json.loads(text) == asyncapi_document()
