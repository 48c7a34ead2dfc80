"""docs/openapi.yaml: generated from the contracts by tools/openapi.py, never stale, and saying
what the edge does (the same operations as the rendered routes, the same access rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from schemathesis.core.result import Ok

from services.edge.descriptors import ACCESS_INTERNAL, ACCESS_PUBLIC, load_services
from tools import openapi, third_party

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "openapi.yaml"
DESCRIPTOR = ROOT / "gen" / "descriptor" / "inbetwin.pb"
JSONDict = dict[str, Any]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The document generated now, from proto/ and third-party protos laid out afresh."""
    folder = tmp_path_factory.mktemp("third_party")
    third_party.main(str(folder))
    return openapi.generate(folder)


@pytest.fixture(scope="module")
def document() -> JSONDict:
    loaded: JSONDict = yaml.safe_load(SPEC.read_text())
    return loaded


def test_committed_document_is_current(generated: str) -> None:
    assert SPEC.read_text() == generated, "docs/openapi.yaml is stale: run `make openapi`"


def test_every_http_binding_is_an_operation(document: JSONDict) -> None:
    expected: set[tuple[str, str]] = set()
    for service in load_services(DESCRIPTOR):
        for method in service.methods:
            if method.access == ACCESS_INTERNAL:
                assert not method.bindings
                continue
            for binding in method.bindings:
                path = openapi.openapi_path(binding.template)
                verb = binding.verb.lower()
                expected.add((path, verb))
                operation = document["paths"][path][verb]
                assert operation["x-grpc-method"] == method.grpc_path
                public = method.access == ACCESS_PUBLIC
                assert (operation.get("security") == []) is public, (path, verb)
                assert operation["tags"] == [service.svc]
                streaming = bool(operation["responses"]["200"].get("x-stream"))
                assert streaming is method.server_streaming, (path, verb)
    found = {(path, verb) for path, item in document["paths"].items() for verb in item}
    assert found == expected
    assert document["security"] == [{"bearer": []}]


def test_schemathesis_reads_every_operation() -> None:
    schema = schemathesis.openapi.from_path(SPEC)
    errors = []
    count = 0
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            count += 1
        else:
            errors.append(result.err())
    assert not errors, errors
    assert count == sum(len(item) for item in yaml.safe_load(SPEC.read_text())["paths"].values())


def _schema(document: JSONDict, name: str) -> JSONDict:
    found: JSONDict = document["components"]["schemas"][name]
    return found


def _property(document: JSONDict, message: str, name: str) -> JSONDict:
    found: JSONDict = _schema(document, message)["properties"][name]
    return found


def test_rules_become_constraints(document: JSONDict) -> None:
    register = document["paths"]["/api/v1/auth/register"]["post"]
    body = register["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["email"]["format"] == "email"
    assert {"email", "password"} <= set(body["required"])  # their empty defaults are invalid
    assert body["additionalProperties"] is False

    agents = document["paths"]["/api/v1/agent/agents"]["get"]
    page_size = next(p for p in agents["parameters"] if p["name"] == "page_size")
    assert (page_size["schema"]["minimum"], page_size["schema"]["maximum"]) == (0, 100)
    assert "required" not in page_size

    get_agent = document["paths"]["/api/v1/agent/agents/{agent_id}"]["get"]
    (agent_id,) = get_agent["parameters"]
    assert agent_id["in"] == "path"
    assert agent_id["schema"]["format"] == "uuid"

    # A path variable on a nested field keeps its proto path.
    update = document["paths"]["/api/v1/agent/agents/{agent_id}"]["patch"]
    variable = next(p for p in update["parameters"] if p["in"] == "path")
    assert variable["x-proto-field"] == "agent.id"

    # 64-bit integers travel as strings, enums by name, timestamps as RFC 3339.
    assert _property(document, "inbetwin.rag.v1.Document", "size_bytes")["type"] == "string"
    assert _property(document, "inbetwin.rag.v1.Document", "size_bytes")["readOnly"] is True
    plan = _schema(document, "inbetwin.auth.v1.PlanTier")
    assert plan["type"] == "string"
    assert "PLAN_TIER_FREE" in plan["enum"]
    create_time = _property(document, "inbetwin.auth.v1.User", "create_time")
    assert create_time["format"] == "date-time"

    # A oneof that must be set: exactly one of its members.
    tool = _schema(document, "inbetwin.agent.v1.Tool")
    assert len(tool["oneOf"]) >= 2
    assert all(len(branch["required"]) == 1 for branch in tool["oneOf"])


def test_streams_raw_bodies_and_errors(document: JSONDict) -> None:
    watch = document["paths"]["/api/v1/agent/activity:watch"]["get"]["responses"]["200"]
    assert watch["content"]["application/json"]["schema"]["type"] == "array"
    assert "text/event-stream" in watch["content"]

    upload = document["paths"]["/api/v1/rag/knowledge-bases/{knowledge_base_id}/documents:upload"]
    raw = upload["post"]["requestBody"]["content"]["application/octet-stream"]["schema"]
    assert raw == {"type": "string", "format": "binary"}
    jwks = document["paths"]["/.well-known/jwks.json"]["get"]
    assert jwks["security"] == []
    assert "*/*" in jwks["responses"]["200"]["content"]

    for item in document["paths"].values():
        for operation in item.values():
            error = operation["responses"]["default"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/google.rpc.Status"}
    status = _schema(document, "google.rpc.Status")
    assert status["required"] == ["code", "message"]
