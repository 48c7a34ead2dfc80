"""MAX webhooks: every sample handled as the shared INDEX.md says, and the secret header."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.social.platforms.max import SECRET_HEADER, dialog_partner, parse_update, verify
from services.social.platforms.types import (
    AttachmentMeta,
    ContactEvent,
    Ignored,
    InboundMessage,
    InvalidPayloadError,
    MessageRemoved,
    Profile,
)
from tests.social.samples import FIXTURES, sample, sample_bytes

JOHN = Profile(platform_user_id="123456789", display_name="John Doe", username="")


def test_every_sample_has_an_expectation_below() -> None:
    tested = {
        "max_message_created_chat_forward.json",
        "max_message_edited_dialog.json",
        "max_message_callback.json",
        "max_message_removed.json",
        "max_bot_started.json",
        "max_bot_stopped.json",
        "max_get_chat_dialog_response.json",
        # The API error body: read by the client, see test_max_api.py.
        "max_error_invalid_token.json",
    }
    assert {p.name for p in FIXTURES.glob("max_*.json")} == tested


def test_a_group_chat_message_is_ignored() -> None:
    update = parse_update(sample_bytes("max_message_created_chat_forward.json"))
    assert isinstance(update, Ignored)
    assert update.reason == "not a dialog"
    assert update.dedup_key == "message_created:mid.ffffbdb48e6c3775019d496b34394b84"


def test_an_edit_in_a_dialog_updates_the_message_and_is_keyed_per_edit() -> None:
    update = parse_update(sample_bytes("max_message_edited_dialog.json"))
    assert update == InboundMessage(
        dedup_key="message_edited:mid.000000000adf429c019d47b1ce4600ff:1775025604499",
        chat_id="182182182",
        platform_message_id="mid.000000000adf429c019d47b1ce4600ff",
        sender=JOHN,
        text="hi bot",
        sent_at=datetime.fromtimestamp(1775025603.399, UTC),
        edited=True,
        edited_at=datetime.fromtimestamp(1775025604.499, UTC),
    )


def test_a_new_dialog_message_is_keyed_by_mid_and_type() -> None:
    data = sample("max_message_edited_dialog.json")
    data["update_type"] = "message_created"
    data["message"]["body"]["attachments"] = [
        {
            "type": "image",
            "payload": {"photo_id": 7, "token": "tok", "url": "https://i.max.ru/7.jpg"},
        },
        {"type": "inline_keyboard", "payload": {"buttons": []}},
    ]
    update = parse_update(json.dumps(data).encode())
    assert isinstance(update, InboundMessage)
    assert update.dedup_key == "message_created:mid.000000000adf429c019d47b1ce4600ff"
    assert not update.edited
    assert update.attachments == (
        AttachmentMeta(
            kind="photo",
            platform_type="image",
            platform_file_id="tok",
            url="https://i.max.ru/7.jpg",
        ),
    )


def test_a_button_press_is_ignored_and_keyed_by_callback_id() -> None:
    update = parse_update(sample_bytes("max_message_callback.json"))
    assert isinstance(update, Ignored)
    assert update.dedup_key.startswith("message_callback:f9LHodD0cOJf4_DkJGeq8BkDgc5vgSwZ")


def test_a_removed_message_is_marked_deleted() -> None:
    update = parse_update(sample_bytes("max_message_removed.json"))
    assert update == MessageRemoved(
        dedup_key="message_removed:mid.000000000adf429c019d47b1ce4600ff",
        chat_id="182182182",
        platform_message_id="mid.000000000adf429c019d47b1ce4600ff",
    )


@pytest.mark.parametrize(
    ("name", "change"),
    [("max_bot_started.json", "unblocked"), ("max_bot_stopped.json", "blocked")],
)
def test_started_and_stopped_change_reachability(name: str, change: str) -> None:
    update = parse_update(sample_bytes(name))
    assert update == ContactEvent(
        dedup_key=f"{name[4:-5]}:182182182:123456789:1775025604499",
        chat_id="182182182",
        sender=JOHN,  # `avatar.png` is not an https URL, so no avatar
        change=change,  # type: ignore[arg-type]
        occurred_at=datetime.fromtimestamp(1775025604.499, UTC),
    )


def test_a_dialog_from_get_chats_names_its_user() -> None:
    assert dialog_partner(sample("max_get_chat_dialog_response.json")) == Profile(
        platform_user_id="123123123", display_name="John Doe", username=""
    )
    assert dialog_partner({"type": "chat", "chat_id": 1}) is None


def test_messages_from_bots_are_ignored() -> None:
    data = sample("max_message_edited_dialog.json")
    data["message"]["sender"]["is_bot"] = True
    assert isinstance(parse_update(json.dumps(data).encode()), Ignored)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"{}",
        b'{"update_type": 1}',
        b'{"update_type": "message_created", "message": {"body": {}}}',
        b'{"update_type": "message_removed", "chat_id": 1}',
        b'{"update_type": "bot_started", "chat_id": 1, "user": {"name": "x"}}',
    ],
)
def test_malformed_bodies_are_invalid_payloads(body: bytes) -> None:
    with pytest.raises(InvalidPayloadError):
        parse_update(body)


def test_the_secret_header_is_compared_exactly() -> None:
    secret = "s3cret_Value-1"
    assert verify({SECRET_HEADER: secret}, secret)
    for forged in ({SECRET_HEADER: secret + "x"}, {SECRET_HEADER: secret.upper()}, {}):
        assert not verify(forged, secret)
    assert not verify({SECRET_HEADER: ""}, "")
    assert "X-Max-Bot-Api-Secret".lower() == SECRET_HEADER
