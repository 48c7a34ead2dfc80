"""X webhooks: every sample parsed as the shared INDEX.md says, CRC and signature checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from services.social.platforms.types import (
    AccountRevoked,
    AttachmentMeta,
    Ignored,
    InboundMessage,
    InvalidPayloadError,
    OwnerMessage,
    Profile,
)
from services.social.platforms.x import (
    SIGNATURE_HEADER,
    conversation_id,
    crc_response,
    one_to_one_partner,
    parse_delivery,
    verify,
)
from tests.social.samples import FIXTURES, sample, sample_bytes

SECRET = "consumer-secret"


def test_every_sample_has_an_expectation_below() -> None:
    tested = {
        "x_aaa_direct_message_events.json",
        "x_aaa_dm_indicate_typing.json",
        "x_aaa_dm_mark_read.json",
        "x_xaa_dm_received.json",
        "x_v2_dm_event_message_create.json",
        "x_v2_dm_event_participants_join.json",
        "x_webhook_register_response.json",
    }
    assert {p.name for p in FIXTURES.glob("x_*.json")} == tested


def test_account_activity_dm_is_an_inbound_message_for_the_subscribed_user() -> None:
    delivery = parse_delivery(sample_bytes("x_aaa_direct_message_events.json"))
    assert delivery.account_id == "4337869213"
    assert delivery.updates == (
        InboundMessage(
            dedup_key="954491830116155396",
            chat_id="3001969357-4337869213",
            platform_message_id="954491830116155396",
            sender=Profile(
                platform_user_id="3001969357",
                display_name="Jordan Brinks",
                username="furiouscamper",
                avatar_url="https://pbs.twimg.com/profile_images/851526626785480705/cW4WTi7C_normal.jpg",
            ),
            text="Hello World!",
            sent_at=datetime.fromtimestamp(1516403560.557, UTC),
        ),
    )


@pytest.mark.parametrize("name", ["x_aaa_dm_indicate_typing.json", "x_aaa_dm_mark_read.json"])
def test_typing_and_read_receipts_are_ignored(name: str) -> None:
    delivery = parse_delivery(sample_bytes(name))
    assert delivery.account_id == "4337869213"
    [update] = delivery.updates
    assert isinstance(update, Ignored)
    assert update.dedup_key.startswith("body:")


def test_activity_api_envelope_is_unwrapped() -> None:
    delivery = parse_delivery(sample_bytes("x_xaa_dm_received.json"))
    assert delivery.account_id == "1111111111111111111"
    [update] = delivery.updates
    assert isinstance(update, InboundMessage)
    assert update.dedup_key == "2080765901528535096"
    assert update.text == "hello!"
    assert update.sender == Profile(
        platform_user_id="2222222222222222222",
        display_name="OtherUser",
        username="OtherUser",
        avatar_url="https://pbs.twimg.com/profile_images/0000000000000000001/example_normal.jpg",
    )


def test_the_accounts_own_dms_are_dropped_as_echoes() -> None:
    data = sample("x_aaa_direct_message_events.json")
    data["direct_message_events"][0]["message_create"]["sender_id"] = "4337869213"
    [update] = parse_delivery(json.dumps(data).encode()).updates
    assert isinstance(update, Ignored)
    assert update.reason == "sent by the connected account"


def test_the_accounts_dm_from_another_app_is_the_owner_by_hand() -> None:
    data = sample("x_aaa_direct_message_events.json")
    create = data["direct_message_events"][0]["message_create"]
    create["sender_id"], create["target"]["recipient_id"] = "4337869213", "3001969357"
    body = json.dumps(data).encode()
    [echo] = parse_delivery(body, app_id="13090192").updates  # sent through our app
    assert isinstance(echo, Ignored)
    [unknown] = parse_delivery(body).updates  # no app id configured: taken for an echo
    assert isinstance(unknown, Ignored)
    [by_hand] = parse_delivery(body, app_id="999").updates
    assert isinstance(by_hand, OwnerMessage)
    assert by_hand.recipient.platform_user_id == "3001969357"
    assert by_hand.recipient.username == "furiouscamper"
    assert by_hand.text == "Hello World!"


def test_one_body_may_carry_several_events() -> None:
    data = sample("x_aaa_direct_message_events.json")
    second = json.loads(json.dumps(data["direct_message_events"][0]))
    second["id"] = "954491830116155397"
    second["message_create"]["message_data"] = {
        "text": "",
        "attachment": {
            "type": "media",
            "media": {
                "id_str": "9001",
                "type": "photo",
                "media_url_https": "https://pbs.twimg.com/dm/9001.jpg",
            },
        },
    }
    data["direct_message_events"].append(second)
    updates = parse_delivery(json.dumps(data).encode()).updates
    assert [u.dedup_key for u in updates] == ["954491830116155396", "954491830116155397"]
    assert isinstance(updates[1], InboundMessage)
    assert updates[1].attachments == (
        AttachmentMeta(
            kind="photo",
            platform_type="photo",
            platform_file_id="9001",
            url="https://pbs.twimg.com/dm/9001.jpg",
        ),
    )


def test_v2_message_create_of_a_one_to_one_conversation_names_the_partner() -> None:
    event = sample("x_v2_dm_event_message_create.json")
    # As published the sample is a group conversation (its id has no `a-b` form): not a contact.
    assert one_to_one_partner(event, "17200003") is None
    event["dm_conversation_id"] = conversation_id("944480690", "17200003")
    assert event["dm_conversation_id"] == "17200003-944480690"
    assert one_to_one_partner(event, "17200003") == "944480690"
    assert one_to_one_partner(event, "944480690") == "17200003"
    assert one_to_one_partner(event, "1") is None


def test_v2_participants_join_is_not_a_contact() -> None:
    event = sample("x_v2_dm_event_participants_join.json")
    event["dm_conversation_id"] = "17200003-944480690"
    assert one_to_one_partner(event, "17200003") is None


def test_webhook_register_response_is_what_the_stand_in_answers() -> None:
    data = sample("x_webhook_register_response.json")["data"]
    assert data["valid"] is True
    assert data["id"].isdigit()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"{}",
        b'{"for_user_id": "x"}',
        b'{"for_user_id": "1", "direct_message_events": {}}',
        b'{"for_user_id": "1", "direct_message_events": [{"type": "message_create"}]}',
        b'{"data": {"event_type": "dm.received"}}',
    ],
)
def test_malformed_bodies_are_invalid_payloads(body: bytes) -> None:
    with pytest.raises(InvalidPayloadError):
        parse_delivery(body)


def _signature(secret: str, payload: bytes) -> str:
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(mac).decode()


def test_crc_answer_is_the_base64_hmac_of_the_token() -> None:
    assert crc_response(SECRET, "challenge-123") == {
        "response_token": _signature(SECRET, b"challenge-123")
    }


def test_a_signed_body_verifies_and_any_change_breaks_it() -> None:
    body = sample_bytes("x_aaa_direct_message_events.json")
    good = {SIGNATURE_HEADER: _signature(SECRET, body)}
    assert verify(good, body, consumer_secret=SECRET)
    assert not verify(good, body + b" ", consumer_secret=SECRET)
    assert not verify(good, body, consumer_secret="other-secret")
    assert not verify({SIGNATURE_HEADER: _signature("forged", body)}, body, consumer_secret=SECRET)
    assert not verify({}, body, consumer_secret=SECRET)
    assert not verify(good, body, consumer_secret="")


REVOKE = {
    "user_event": {
        "revoke": {
            "date_time": "2018-05-24T09:48:12+00:00",
            "target": {"app_id": "13090192"},
            "source": {"user_id": "63046977"},
        }
    }
}


def test_an_app_revocation_names_the_account_it_ends() -> None:
    delivery = parse_delivery(json.dumps(REVOKE).encode())
    assert delivery.account_id == "63046977"
    [update] = delivery.updates
    assert isinstance(update, AccountRevoked)
