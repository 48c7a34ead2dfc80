"""Hostile input at the edge: schemathesis drives every operation of docs/openapi.yaml against the
running gateway (Envoy in front of all six services) with a valid token, valid and invalid
input alike, and requires no 5xx and no response that breaks the document.

Bounded: MAX_EXAMPLES per operation and generation mode, each request within REQUEST_TIMEOUT;
deterministic (the same inputs every run, no example database, no shrinking: a failure shows the
input that hit it, with a curl line). Server-streaming operations never end by themselves (live
watches), so for them the first event is read as NDJSON, checked against the document, and the
stream is closed. The status of a stream comes with its first message, and a watch may stay
silent until its first heartbeat (15 s): one still silent after FIRST_EVENT_SECONDS has been
accepted (a failing call is answered at once, before any message), and is closed there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hypothesis
import jsonschema
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, assume
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from urllib3.exceptions import ReadTimeoutError

from services.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "openapi.yaml"
DOCUMENT: dict[str, Any] = yaml.safe_load(SPEC.read_text())
MAX_EXAMPLES = 5
REQUEST_TIMEOUT = 30.0
FIRST_EVENT_SECONDS = 1.0
NDJSON = "application/x-ndjson"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

# Hosts that no resolver knows (RFC 2606 `.invalid`): a tool or MCP URL can be stored and tried,
# and is then refused by agent's DNS (see conftest), never dialled.
_LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True)
_URIS = st.builds(
    "{}://{}.invalid/{}".format,
    st.sampled_from(["http", "https", "HTTPS"]),
    _LABEL,
    st.from_regex(r"[a-zA-Z0-9._~-]{0,20}", fullmatch=True),
)
schemathesis.openapi.format("uri", _URIS)

# A URL whose host is a literal address (IPv4, IPv6, or a number) could be dialled as it is.
_LITERAL_HOST = re.compile(r"(?i)[a-z][a-z0-9+.-]*:/*\[?(?:[0-9]|0x|[0-9a-f]*:[0-9a-f:]*)")

schema = schemathesis.openapi.from_path(SPEC)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    no_shrink=True,
)


def _dials_a_literal_address(case: schemathesis.Case) -> bool:
    text = json.dumps([case.body, case.query], default=repr)
    return bool(_LITERAL_HOST.search(text))


def _streaming(case: schemathesis.Case) -> bool:
    return bool(case.operation.definition.raw["responses"]["200"].get("x-stream"))


def _draft4(schema: Any) -> Any:
    """OpenAPI 3.0's `nullable` as JSON Schema draft 4 says it."""
    if isinstance(schema, dict):
        converted = {k: _draft4(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") and "type" in converted:
            converted["type"] = [converted["type"], "null"]
        return converted
    if isinstance(schema, list):
        return [_draft4(item) for item in schema]
    return schema


_COMPONENTS = _draft4(DOCUMENT["components"])


def _validate(instance: Any, ref: str) -> None:
    """Check `instance` against a schema of the document (OpenAPI 3.0: JSON Schema draft 4)."""
    jsonschema.Draft4Validator({"$ref": ref, "components": _COMPONENTS}).validate(instance)


def _describe(case: schemathesis.Case, response: requests.Response, text: str) -> str:
    return (
        f"{case.operation.label}: HTTP {response.status_code}\n{text[:2000]}\n"
        f"reproduce: {case.as_curl_command()}"
    )


def _check_stream(case: schemathesis.Case, base_url: str, headers: dict[str, str]) -> None:
    kwargs = case.as_transport_kwargs(base_url=base_url, headers={**headers, "Accept": NDJSON})
    try:
        response = requests.request(
            **kwargs, stream=True, timeout=(REQUEST_TIMEOUT, FIRST_EVENT_SECONDS)
        )
    except requests.exceptions.ReadTimeout:
        return  # accepted, silent until its first heartbeat (see the module docstring)
    with response:
        if response.status_code >= 400:
            text = response.text
            assert response.status_code < 500, _describe(case, response, text)
            _validate(json.loads(text), "#/components/schemas/google.rpc.Status")
            return
        assert response.status_code == 200, _describe(case, response, "")
        try:
            first = next(response.iter_lines())
        except requests.exceptions.ConnectionError as error:
            if isinstance(error.args[0], ReadTimeoutError):
                return  # accepted, silent until its first heartbeat
            raise
        content = case.operation.definition.raw["responses"]["200"]["content"]
        _validate(json.loads(first), content["application/json"]["schema"]["items"]["$ref"])


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_errors_and_responses_follow_the_document(
    case: schemathesis.Case, fuzz_stack: Stack, fuzz_token: str
) -> None:
    assume(not _dials_a_literal_address(case))
    headers = {"authorization": f"Bearer {fuzz_token}"}
    if _streaming(case):
        _check_stream(case, fuzz_stack.rest_url, headers)
        return
    response = case.call(base_url=fuzz_stack.rest_url, headers=headers, timeout=REQUEST_TIMEOUT)
    case.validate_response(response, checks=CHECKS)
