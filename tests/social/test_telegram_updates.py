"""Telegram update parsing over every sample in the shared fixtures, as their INDEX.md says."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.social.platforms.telegram import MAX_TEXT_UNITS, parse_update
from services.social.platforms.text import split_text
from services.social.platforms.types import (
    AttachmentMeta,
    ContactEvent,
    Ignored,
    InboundMessage,
    InvalidPayloadError,
    Profile,
)
from tests.social.samples import FIXTURES, sample_bytes, telegram_update

TEST_USER = Profile(
    platform_user_id="1111111", display_name="Test Firstname Test Lastname", username="Testusername"
)


def _parse(name: str) -> object:
    return parse_update(json.dumps(telegram_update(name)).encode())


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_every_sample_has_an_expectation_below() -> None:
    tested = {
        "telegram_text_private.json",
        "telegram_text_private_real.json",
        "telegram_edited_message.json",
        "telegram_document_message.json",
        "telegram_photo_message_object.json",
        "telegram_callback_query.json",
        "telegram_my_chat_member_blocked.json",
    }
    assert {p.name for p in FIXTURES.glob("telegram_*.json")} == tested


def test_text_message_in_a_private_chat() -> None:
    update = parse_update(sample_bytes("telegram_text_private.json"))
    assert update == InboundMessage(
        dedup_key="10000",
        chat_id="1111111",
        platform_message_id="1365",
        sender=TEST_USER,
        text="/start",
        sent_at=_at(1441645532),
    )


def test_real_private_text_message() -> None:
    update = parse_update(sample_bytes("telegram_text_private_real.json"))
    assert isinstance(update, InboundMessage)
    assert update.dedup_key == "306197398"
    assert update.chat_id == "408258968"
    assert update.platform_message_id == "154"
    assert update.text == "4"
    assert update.sender == Profile("408258968", "Hirrolot", "hirrolot")
    assert not update.edited


def test_edited_message_is_flagged_with_its_edit_time() -> None:
    update = parse_update(sample_bytes("telegram_edited_message.json"))
    assert isinstance(update, InboundMessage)
    assert update.edited
    assert update.edited_at == _at(1441646600)
    assert update.sent_at == _at(1441645532)
    assert update.text == "Edited text"
    # An edit keeps the original message id, so it updates the stored message in place.
    assert update.platform_message_id == "1365"


def test_document_is_attachment_metadata() -> None:
    update = parse_update(sample_bytes("telegram_document_message.json"))
    assert isinstance(update, InboundMessage)
    assert update.text == ""
    assert update.attachments == (
        AttachmentMeta(
            kind="document",
            platform_type="document",
            platform_file_id="AwADBAADbXXXXXXXXXXXGBdhD2l6_XX",
            mime_type="application/pdf",
            file_name="Testfile.pdf",
            size_bytes=536392,
        ),
    )


def test_photo_message_wrapped_in_an_update_keeps_the_largest_size() -> None:
    update = _parse("telegram_photo_message_object.json")
    assert isinstance(update, InboundMessage)
    assert update.sender == Profile("250918540", "Андрей Власов", "aka_dude")
    assert update.attachments == (
        AttachmentMeta(
            kind="photo",
            platform_type="photo",
            platform_file_id="AgADAgAD36sxG-PX0UvQSXIn9rccdw-ACA4ABAEAAwIAA3kAAyTcBAABFgQ",
            size_bytes=75245,
        ),
    )


def test_callback_query_is_ignored_explicitly() -> None:
    update = parse_update(sample_bytes("telegram_callback_query.json"))
    assert isinstance(update, Ignored)
    assert update.dedup_key == "10000"
    assert "callback_query" in update.reason


def test_my_chat_member_kicked_means_the_contact_blocked_the_bot() -> None:
    update = parse_update(sample_bytes("telegram_my_chat_member_blocked.json"))
    assert update == ContactEvent(
        dedup_key="0",
        chat_id="0",
        sender=Profile("0", "FN LN", "UN"),
        change="blocked",
        occurred_at=_at(1644677726),
    )


def test_my_chat_member_back_to_member_means_unblocked() -> None:
    data = json.loads(sample_bytes("telegram_my_chat_member_blocked.json"))
    data["my_chat_member"]["new_chat_member"]["status"] = "member"
    update = parse_update(json.dumps(data).encode())
    assert isinstance(update, ContactEvent)
    assert update.change == "unblocked"


def test_group_chat_message_is_ignored() -> None:
    data = telegram_update("telegram_text_private.json")
    data["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Shop"}
    update = parse_update(json.dumps(data).encode())
    assert isinstance(update, Ignored)


def test_caption_counts_as_text() -> None:
    data = telegram_update("telegram_photo_message_object.json")
    data["message"]["caption"] = "look"
    update = parse_update(json.dumps(data).encode())
    assert isinstance(update, InboundMessage)
    assert update.text == "look"


def test_message_without_content_is_ignored() -> None:
    data = telegram_update("telegram_text_private.json")
    del data["message"]["text"]
    data["message"]["new_chat_title"] = "x"
    assert isinstance(parse_update(json.dumps(data).encode()), Ignored)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"update"',
        b"{}",
        b'{"update_id": "1"}',
        b'{"update_id": true}',
        b'{"update_id": 1, "message": "hi"}',
        b'{"update_id": 1, "message": {"chat": {"id": "x", "type": "private"}, "text": "a",'
        b' "message_id": 1}}',
    ],
)
def test_malformed_bodies_are_invalid_payloads(body: bytes) -> None:
    with pytest.raises(InvalidPayloadError):
        parse_update(body)


def test_text_postgres_cannot_store_is_cleaned_and_absurd_dates_tolerated() -> None:
    body = (
        b'{"update_id": 5, "message": {"message_id": 1, "date": 100000000000000000000,'
        b' "edit_date": 1, "chat": {"id": 1, "type": "private", "first_name": "A\\u0000B"},'
        b' "text": "x\\u0000y\\ud800z"}}'
    )
    update = parse_update(body)
    assert isinstance(update, InboundMessage)
    assert update.text == "xy?z"
    assert update.sender.display_name == "AB"
    assert update.sent_at.year >= 2026


def test_split_text_keeps_short_text_whole() -> None:
    assert split_text("hello", MAX_TEXT_UNITS) == ["hello"]
    assert split_text("", MAX_TEXT_UNITS) == []


def test_split_text_cuts_at_word_breaks_within_the_limit() -> None:
    text = ("word " * 30).strip()
    parts = split_text(text, limit=32)
    assert "".join(parts) == text
    assert all(len(part) <= 32 for part in parts)
    assert all(part.endswith(" ") for part in parts[:-1])


def test_split_text_counts_utf16_units() -> None:
    text = "😀" * 3000  # 2 UTF-16 units each
    parts = split_text(text, MAX_TEXT_UNITS)
    assert "".join(parts) == text
    assert [len(p) for p in parts] == [2048, 952]
