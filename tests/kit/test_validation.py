"""The contract validator on hand-picked messages (the exhaustive sweep is in tests/contracts)."""

from __future__ import annotations

import uuid

from google.protobuf import field_mask_pb2, struct_pb2
from inbetwin.agent.v1 import agent_service_pb2 as agent
from inbetwin.agent.v1 import tool_pb2
from inbetwin.auth.v1 import auth_service_pb2 as auth

from services.kit.validation import (
    CONTROL_CHARACTER_VIOLATION,
    FieldViolation,
    is_email,
    validate,
    validate_request,
)


def _fields(violations: list[FieldViolation]) -> set[str]:
    return {v.field for v in violations}


def test_valid_request_has_no_violations() -> None:
    request = auth.RegisterRequest(
        email="ann@example.com", password="correct horse", display_name="Ann"
    )
    assert validate(request) == []


def test_every_violation_is_reported_with_its_field() -> None:
    violations = validate(auth.RegisterRequest(email="nope", password="short"))
    assert _fields(violations) == {"email", "password", "display_name"}
    by_field = {v.field: v.description for v in violations}
    assert "at least 8" in by_field["password"]


def test_nested_paths_are_dotted() -> None:
    request = auth.UpdateMeRequest(
        user=auth.User(display_name="x" * 101),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )
    assert _fields(validate_request(request)) == {"user.display_name"}


def test_update_checks_only_masked_fields() -> None:
    request = auth.UpdateMeRequest(
        user=auth.User(display_name="", locale="en"),
        update_mask=field_mask_pb2.FieldMask(paths=["locale"]),
    )
    assert validate(request) != []
    assert validate_request(request) == []


def test_required_message_and_enum_rules() -> None:
    assert _fields(validate(auth.UpdateMeRequest())) == {"user", "update_mask"}
    assert _fields(validate(auth.ChangePlanRequest(tier=42))) == {"tier"}  # type: ignore[arg-type]
    assert _fields(validate(auth.ChangePlanRequest())) == {"tier"}
    assert validate(auth.ChangePlanRequest(tier=auth.PLAN_TIER_PRO)) == []


def test_in_and_pattern_rules() -> None:
    bad = auth.StartOAuthRequest(provider="facebook", redirect_uri="javascript:alert(1)")
    assert _fields(validate(bad)) == {"provider", "redirect_uri"}
    good = auth.StartOAuthRequest(provider="yandex", redirect_uri="")
    assert validate(good) == []


def test_email_check() -> None:
    assert is_email("ann@example.com")
    assert is_email("Ann.Lee+tag@пример.рф")
    for bad in ("ann", "ann@", "@example.com", "a b@example.com", "a@b", "a..b@example.com"):
        assert not is_email(bad), bad


def test_control_characters_are_refused_in_every_string_field() -> None:
    for bad in ("\x00", "a\x00b", "\x1b[31m", "\x7f", "\x0b", "\x0c", "\x08"):
        request = auth.RegisterRequest(
            email="ann@example.com", password="correct horse", display_name=f"Ann{bad}"
        )
        violations = validate(request)
        assert [(v.field, v.description) for v in violations] == [
            ("display_name", CONTROL_CHARACTER_VIOLATION)
        ], repr(bad)


def test_tab_newline_and_carriage_return_are_plain_text() -> None:
    request = auth.RegisterRequest(
        email="ann@example.com", password="correct\thorse\r\n", display_name="Ann\tLee"
    )
    assert validate(request) == []


def test_control_characters_are_refused_without_any_rule_on_the_field() -> None:
    # `parameters` carries no PGV rule: the plain-text rule applies to every string anyway,
    # down to the keys and values of a Struct, list items and nested structs.
    parameters = struct_pb2.Struct()
    parameters.update({"name\x00": "x", "list": ["ok", "no\x00"], "deep": {"v": "\x01"}})
    tool = tool_pb2.Tool(
        name="lookup",
        description="Looks up",
        parameters=parameters,
        http_webhook=tool_pb2.HttpWebhookConfig(url="https://tools.example/x"),
    )
    fields = {v.field for v in validate(agent.CreateToolRequest(tool=tool))}
    assert fields == {
        "tool.parameters.fields[name\x00]",
        "tool.parameters.fields[list].list_value.values[1].string_value",
        "tool.parameters.fields[deep].struct_value.fields[v].string_value",
    }


def test_control_characters_in_plain_fields_and_unmasked_fields() -> None:
    call = agent.ExecuteToolRequest(agent_id=str(uuid.uuid4()), tool_name="a\x00", call_id="c")
    assert {v.field for v in validate(call)} == {"tool_name"}
    unmasked = auth.UpdateMeRequest(
        user=auth.User(display_name="\x00", locale="en"),
        update_mask=field_mask_pb2.FieldMask(paths=["locale"]),
    )
    assert validate_request(unmasked) == []  # not written, so not judged (AIP-134)
    masked = auth.UpdateMeRequest(
        user=auth.User(display_name="\x00"),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )
    assert {v.field for v in validate_request(masked)} == {"user.display_name"}
