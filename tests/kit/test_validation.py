"""The contract validator on hand-picked messages (the exhaustive sweep is in tests/contracts)."""

from __future__ import annotations

from google.protobuf import field_mask_pb2
from inbetwin.auth.v1 import auth_service_pb2 as auth

from services.kit.validation import FieldViolation, is_email, validate, validate_request


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
