"""Which argument schemas an owner's tool may declare."""

from __future__ import annotations

from typing import Any

import pytest

from services.agent.tools.arguments import check, schema_problem
from services.agent.tools.outcome import ToolFailure

OBJECT: dict[str, Any] = {"type": "object", "properties": {"city": {"type": "string"}}}


def test_a_plain_object_schema_with_local_references_is_accepted() -> None:
    schema = {
        "type": "object",
        "$defs": {"city": {"type": "string", "minLength": 1}},
        "properties": {"city": {"$ref": "#/$defs/city"}, "$ref": {"type": "string"}},
    }
    assert schema_problem(OBJECT) is None
    assert schema_problem(schema) is None


@pytest.mark.parametrize(
    "reference",
    [
        "https://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:8080/schema.json",
        "other.json#/defs/x",
        "urn:example:schema",
    ],
)
def test_a_reference_outside_the_schema_is_refused(reference: str) -> None:
    schema = {"type": "object", "properties": {"a": {"prefixItems": [{"$ref": reference}]}}}
    problem = schema_problem(schema)
    assert problem is not None
    assert reference in problem
    dynamic = {"type": "object", "properties": {"a": {"$dynamicRef": reference}}}
    assert schema_problem(dynamic) is not None


def test_not_an_object_schema_or_not_a_schema_is_refused() -> None:
    assert schema_problem({"type": "string"}) is not None
    assert schema_problem({"type": "object", "properties": {"a": {"type": 5}}}) is not None


def test_arguments_against_a_schema_with_an_unresolvable_reference_are_a_clear_failure() -> None:
    # What an MCP server may announce: checked, never fetched.
    schema = {"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:1/x.json"}}}
    with pytest.raises(ToolFailure) as raised:
        check({"a": 1}, schema)
    assert raised.value.reason == "INVALID_TOOL_SCHEMA"
    assert "127.0.0.1" not in raised.value.message
