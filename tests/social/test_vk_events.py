"""VK Callback API: every sample parsed as the shared INDEX.md says, and the secret/group check."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.social.platforms.types import (
    AttachmentMeta,
    ConfirmationRequest,
    ContactEvent,
    Ignored,
    InboundMessage,
    InvalidPayloadError,
    OwnerMessage,
    Profile,
)
from services.social.platforms.vk import parse_event, random_id, verify
from tests.social.samples import FIXTURES, sample, sample_bytes

SECRET = "Sh0pSecretKey"


def _with(name: str, **fields: Any) -> bytes:
    data = sample(name)
    data.update(fields)
    return json.dumps(data).encode()


def test_every_sample_has_an_expectation_below() -> None:
    tested = {
        "vk_confirmation.json",
        "vk_group_join.json",
        "vk_message_new_text.json",
        "vk_message_new_photo.json",
        "vk_message_new_chat_action_legacy.json",
    }
    assert {p.name for p in FIXTURES.glob("vk_*.json")} == tested


def test_confirmation_asks_for_the_confirmation_string() -> None:
    assert isinstance(parse_event(sample_bytes("vk_confirmation.json")), ConfirmationRequest)


def test_group_join_is_ignored_explicitly() -> None:
    update = parse_event(sample_bytes("vk_group_join.json"))
    assert isinstance(update, Ignored)
    assert "group_join" in update.reason


def test_text_message_in_a_dm() -> None:
    update = parse_event(_with("vk_message_new_text.json", event_id="e1", group_id=1))
    assert update == InboundMessage(
        dedup_key="e1",
        chat_id="1",
        platform_message_id="100",
        sender=Profile(platform_user_id="1", display_name="", username=""),
        text="test",
        sent_at=datetime.fromtimestamp(1, UTC),
    )


def test_a_body_without_event_id_is_keyed_by_its_bytes() -> None:
    body = sample_bytes("vk_message_new_text.json")
    update = parse_event(body)
    assert isinstance(update, InboundMessage)
    assert update.dedup_key == "body:" + hashlib.sha256(body).hexdigest()


def test_real_photo_message_keeps_both_photos_as_metadata() -> None:
    update = parse_event(sample_bytes("vk_message_new_photo.json"))
    assert isinstance(update, InboundMessage)
    assert update.dedup_key == "c1b1934f9232fd3221bdfd020a3f1ca78ced263f"
    assert update.chat_id == "259166248"
    assert update.sender.platform_user_id == "418618"
    assert update.platform_message_id == "1709"
    assert update.text == ""
    assert update.sent_at == datetime.fromtimestamp(1630235567, UTC)
    assert [a.platform_file_id for a in update.attachments] == [
        "photo259166248_457281385_8d73b853538b295088",
        "photo259166248_457281386_1f72efe606ae12fd92",
    ]
    first = update.attachments[0]
    assert first == AttachmentMeta(
        kind="photo",
        platform_type="photo",
        platform_file_id="photo259166248_457281385_8d73b853538b295088",
        mime_type="image/jpeg",
        url=first.url,
    )
    assert "size=266x109" in first.url  # the largest of the listed sizes


def test_legacy_chat_service_message_is_ignored() -> None:
    update = parse_event(sample_bytes("vk_message_new_chat_action_legacy.json"))
    assert isinstance(update, Ignored)
    assert update.reason == "not a one-to-one conversation"


def test_legacy_shape_dm_is_read_too() -> None:
    data = sample("vk_message_new_chat_action_legacy.json")
    data["object"].update(peer_id=194250225, text="old api", id=5)
    del data["object"]["action"]
    update = parse_event(json.dumps(data).encode())
    assert isinstance(update, InboundMessage)
    assert update.text == "old api"


def test_message_edit_object_is_the_message_itself() -> None:
    message = sample("vk_message_new_text.json")["object"]["message"]
    message.update(text="fixed", update_time=1700000000)
    body = json.dumps({"type": "message_edit", "object": message, "event_id": "e2"})
    update = parse_event(body.encode())
    assert isinstance(update, InboundMessage)
    assert update.edited
    assert update.edited_at == datetime.fromtimestamp(1700000000, UTC)
    assert update.platform_message_id == "100"  # the same stored message, updated in place


@pytest.mark.parametrize(
    ("kind", "change"), [("message_allow", "unblocked"), ("message_deny", "blocked")]
)
def test_allow_and_deny_change_reachability(kind: str, change: str) -> None:
    body = json.dumps({"type": kind, "object": {"user_id": 42, "key": "k"}, "event_id": "e3"})
    update = parse_event(body.encode())
    assert isinstance(update, ContactEvent)
    assert update.change == change
    assert update.sender.platform_user_id == "42"


def test_an_admin_writing_in_vk_is_the_owner_by_hand() -> None:
    message = sample("vk_message_new_text.json")["object"]["message"]
    message.update(peer_id=42, from_id=-1, out=1, admin_author_id=7, text="I'll take it", id=9)
    update = parse_event(
        json.dumps({"type": "message_reply", "object": message, "event_id": "r"}).encode()
    )
    assert update == OwnerMessage(
        dedup_key="r",
        chat_id="42",
        platform_message_id="9",
        recipient=Profile(platform_user_id="42", display_name="", username=""),
        text="I'll take it",
        sent_at=datetime.fromtimestamp(1, UTC),
    )


def test_own_outgoing_messages_are_ignored() -> None:
    message = sample("vk_message_new_text.json")["object"]["message"]
    reply = json.dumps({"type": "message_reply", "object": message, "event_id": "e4"})
    assert isinstance(parse_event(reply.encode()), Ignored)
    message["out"] = 1
    new = json.dumps({"type": "message_new", "object": {"message": message}, "event_id": "e5"})
    assert isinstance(parse_event(new.encode()), Ignored)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"nope",
        b"[]",
        b"{}",
        b'{"type": 5}',
        b'{"type": "message_new", "object": []}',
        b'{"type": "message_new", "object": {"message": {"peer_id": "x"}}}',
    ],
)
def test_malformed_bodies_are_invalid_payloads(body: bytes) -> None:
    with pytest.raises(InvalidPayloadError):
        parse_event(body)


def test_the_right_secret_and_group_verify() -> None:
    body = _with("vk_message_new_photo.json", secret=SECRET)
    assert verify(body, secret=SECRET, group_id="200982061")
    assert verify(sample_bytes("vk_confirmation.json"), secret="secret_123456", group_id="123456")


@pytest.mark.parametrize(
    ("body", "group_id"),
    [
        (_with("vk_message_new_photo.json", secret="wrong"), "200982061"),
        (_with("vk_message_new_photo.json", secret=SECRET.lower()), "200982061"),
        (_with("vk_message_new_photo.json", secret=SECRET), "1"),  # another community
        (sample_bytes("vk_message_new_photo.json"), "200982061"),  # no secret at all
        (_with("vk_message_new_photo.json", secret=SECRET, group_id="200982061"), "200982061"),
        (b"{not json", "200982061"),
    ],
    ids=["forged", "case", "other-group", "missing", "group-as-string", "malformed"],
)
def test_forged_or_misdirected_bodies_fail(body: bytes, group_id: str) -> None:
    assert not verify(body, secret=SECRET, group_id=group_id)


def test_an_integration_without_a_secret_accepts_nothing() -> None:
    assert not verify(
        _with("vk_message_new_photo.json", secret=""), secret="", group_id="200982061"
    )


def test_random_id_is_a_deterministic_positive_int32() -> None:
    first = random_id("5c0f8a9e-message-id")
    assert first == random_id("5c0f8a9e-message-id")
    assert first != random_id("another-message-id")
    assert 0 < first < 2**31
