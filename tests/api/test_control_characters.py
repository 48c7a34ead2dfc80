"""Control characters in any string of any request are refused at the kit with a field violation
(HTTP 400 through the edge), before a service's store sees them (Postgres text and jsonb cannot
hold NUL: it used to come back as a 500)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from services.kit.validation import CONTROL_CHARACTER_VIOLATION
from services.stack import Stack


def _violations(body: dict[str, object]) -> dict[str, str]:
    details = body.get("details")
    assert isinstance(details, list), body
    for detail in details:
        if str(detail.get("@type", "")).endswith("google.rpc.BadRequest"):
            return {v["field"]: v["description"] for v in detail["field_violations"]}
    raise AssertionError(body)


@pytest.mark.parametrize("text", ["Ann\x00", "\x1b[2J", "a\x7fb", "\x0bAnn"])
def test_a_control_character_in_a_body_field_is_a_400(fuzz_stack: Stack, text: str) -> None:
    response = httpx.post(
        f"{fuzz_stack.rest_url}/api/v1/auth/register",
        json={
            "email": f"cc-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct horse battery",
            "display_name": text,
        },
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert _violations(response.json()) == {"display_name": CONTROL_CHARACTER_VIOLATION}


def test_tab_and_newline_stay_ordinary_text(fuzz_stack: Stack) -> None:
    response = httpx.post(
        f"{fuzz_stack.rest_url}/api/v1/auth/register",
        json={
            "email": f"cc-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct horse battery",
            "display_name": "Ann\tLee\r\n",
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_a_control_character_in_a_query_parameter_is_a_400(
    fuzz_stack: Stack, fuzz_token: str
) -> None:
    response = httpx.get(
        f"{fuzz_stack.rest_url}/api/v1/social/contacts",
        params={"query": "An\x00n"},
        headers={"Authorization": f"Bearer {fuzz_token}"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert _violations(response.json()) == {"query": CONTROL_CHARACTER_VIOLATION}


def test_a_lone_surrogate_is_a_400(fuzz_stack: Stack) -> None:
    # Valid JSON (`\ud800` escaped), but no Unicode text: it cannot be UTF-8 in a message.
    email = f"cc-{uuid.uuid4().hex[:10]}@example.com"
    body = json.dumps({"email": email, "password": "correct horse battery"})[:-1]
    body += ', "display_name": "Ann\\ud800"}'
    response = httpx.post(
        f"{fuzz_stack.rest_url}/api/v1/auth/register",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
