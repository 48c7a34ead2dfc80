"""Tool arguments: parsed as a JSON object and checked against the tool's JSON Schema."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from services.agent.tools.outcome import ToolFailure

MAX_SCHEMA_BYTES = 16 * 1024


def parse(arguments_json: str) -> dict[str, Any]:
    if not arguments_json.strip():
        return {}
    try:
        value = json.loads(arguments_json)
    except json.JSONDecodeError as error:
        raise _invalid(f"the arguments are not valid JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise _invalid("the arguments must be a JSON object")
    return value


def check(arguments: dict[str, Any], schema: dict[str, Any]) -> None:
    validator = Draft202012Validator(schema)
    try:
        found = list(validator.iter_errors(arguments))
    except Unresolvable:
        # An MCP server's own schema may name something else; nothing is fetched to resolve it.
        raise ToolFailure(
            "INVALID_TOOL_SCHEMA",
            "the tool's schema refers to a definition outside itself",
            rejected=True,
        ) from None
    problems = sorted(found, key=lambda e: list(e.absolute_path))
    if problems:
        described = "; ".join(
            f"{'/'.join(str(p) for p in problem.absolute_path) or '(root)'}: {problem.message}"
            for problem in problems[:5]
        )
        raise _invalid(f"the arguments do not match the tool's schema: {described}")


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why `schema` is no valid object schema of at most 16 KiB, or None."""
    if len(json.dumps(schema).encode()) > MAX_SCHEMA_BYTES:
        return "parameters is larger than 16 KiB"
    if schema.get("type") != "object":
        return 'parameters must be an object schema ({"type": "object", ...})'
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return f"parameters is not a valid JSON Schema: {error.message}"
    remote = next(_non_local_references(schema), None)
    if remote is not None:
        # Resolving it would mean fetching a URL the owner chose, outside the SSRF guard.
        return f"parameters may only reference its own definitions ('#/...'), not {remote!r}"
    return None


def _non_local_references(node: Any) -> Any:
    """Every `$ref` / `$dynamicRef` value in `node` that does not point inside the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                if not value.startswith("#"):
                    yield value
            else:
                yield from _non_local_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _non_local_references(item)


def _invalid(message: str) -> ToolFailure:
    return ToolFailure("INVALID_TOOL_ARGUMENTS", message, rejected=True)
