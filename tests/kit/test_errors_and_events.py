from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from inbetwin.events.v1 import auth_events_pb2, social_events_pb2

from services.kit.errors import QuotaViolation, ServiceError, invalid_argument
from services.kit.events import deterministic_id, event_id_of, new_event, subject_of
from services.kit.identity import caller_from_metadata
from services.kit.validation import FieldViolation


def test_service_error_carries_error_info_bad_request_and_retry_info() -> None:
    error = ServiceError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TOO_MANY_ATTEMPTS",
        "slow down",
        violations=[FieldViolation("email", "bad")],
        retry_after_seconds=1.5,
    )
    status = error.to_status("auth.inbetwin.app")
    assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("TOO_MANY_ATTEMPTS", "auth.inbetwin.app")
    bad_request = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad_request)
    assert bad_request.field_violations[0].field == "email"
    retry = error_details_pb2.RetryInfo()
    assert status.details[2].Unpack(retry)
    assert (retry.retry_delay.seconds, retry.retry_delay.nanos) == (1, 500_000_000)


def test_service_error_carries_quota_failure() -> None:
    error = ServiceError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "AGENT_LIMIT_REACHED",
        "the plan allows 3 agents",
        quota_violations=[QuotaViolation("owner", "3 agents of 3 allowed")],
    )
    status = error.to_status("agent.inbetwin.app")
    failure = error_details_pb2.QuotaFailure()
    assert status.details[-1].Unpack(failure)
    [violation] = failure.violations
    assert (violation.subject, violation.description) == ("owner", "3 agents of 3 allowed")
    assert len(status.details) == 2  # ErrorInfo first, then QuotaFailure


def test_invalid_argument_summarises_violations() -> None:
    error = invalid_argument([FieldViolation("a", "is required"), FieldViolation("b", "too long")])
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "a: is required" in error.message
    assert len(error.violations) == 2


def test_events_know_their_subject_and_id() -> None:
    event = new_event(auth_events_pb2.UserRegistered, owner_id="o", email="a@b.c")
    assert subject_of(event) == "inbetwin.auth.user.registered"
    assert subject_of(social_events_pb2.MessageReceived) == "inbetwin.social.message.received"
    assert event_id_of(event) == event.event_id
    assert event.occur_time.seconds > 0


def test_deterministic_ids_are_stable_and_distinct() -> None:
    assert deterministic_id("reply", "m1") == deterministic_id("reply", "m1")
    assert deterministic_id("reply", "m1") != deterministic_id("reply", "m2")


def test_caller_requires_a_uuid() -> None:
    user_id = "5f0c6f5e-1d2b-4c3a-9e8f-0a1b2c3d4e5f"
    caller = caller_from_metadata((("x-user-id", user_id.upper()),))
    assert caller is not None
    assert caller.user_id == user_id
    assert caller_from_metadata((("x-user-id", "admin"),)) is None
    assert caller_from_metadata(()) is None
