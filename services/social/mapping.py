"""Models to contract messages. Stored enum values are the proto value names, lower-cased and
without their prefix (`PLATFORM_TELEGRAM` is stored as `telegram`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.timestamp_pb2 import Timestamp
from inbetwin.social.v1 import contact_pb2, integration_pb2, message_pb2

from services.social.models import Contact, ContactSync, Integration, Message


def enum_value(prefix: str, name: str) -> str:
    """The proto value name of a stored name; message constructors accept enum values by name."""
    return f"{prefix}_{name.upper()}"


def enum_name(enum_type: EnumTypeWrapper, prefix: str, value: int) -> str | None:
    """The stored name of an enum value; None for the UNSPECIFIED value."""
    name: str = enum_type.Name(value)
    stored = name.removeprefix(f"{prefix}_").lower()
    return None if stored == "unspecified" else stored


def webhook_url(public_base_url: str, integration: Integration) -> str:
    return f"{public_base_url}/webhooks/{integration.platform}/{integration.id}"


def integration_to_proto(
    integration: Integration,
    *,
    public_base_url: str,
    last_sync: ContactSync | None = None,
    x_webhook_id: str = "",
) -> integration_pb2.Integration:
    result = integration_pb2.Integration(
        id=integration.id,
        platform=enum_value("PLATFORM", integration.platform),
        display_name=integration.display_name,
        status=enum_value("INTEGRATION_STATUS", integration.status),
        platform_account_id=integration.platform_account_id,
        platform_username=integration.platform_username,
        delivery_mode=enum_value("DELIVERY_MODE", integration.delivery_mode),
        default_contact_policy=enum_value("CONTACT_POLICY", integration.default_contact_policy),
        webhook_url=_webhook_url(public_base_url, integration, x_webhook_id),
        last_error=integration.last_error,
    )
    if last_sync is not None:
        result.last_contact_sync.CopyFrom(contact_sync_to_proto(last_sync))
    _set_time(result.last_error_time, integration.last_error_at)
    _set_time(result.last_update_time, integration.last_update_at)
    _set_time(result.create_time, integration.created_at)
    _set_time(result.update_time, integration.updated_at)
    return result


def _webhook_url(public_base_url: str, integration: Integration, x_webhook_id: str) -> str:
    if integration.delivery_mode != "webhook":
        return ""
    if integration.platform == "x":
        # X's app has one webhook for every account.
        return f"{public_base_url}/webhooks/x/{x_webhook_id}" if x_webhook_id else ""
    return webhook_url(public_base_url, integration)


def contact_sync_to_proto(sync: ContactSync) -> integration_pb2.ContactSync:
    result = integration_pb2.ContactSync(
        state=enum_value("CONTACT_SYNC_STATE", sync.state),
        contacts_seen=sync.contacts_seen,
        contacts_created=sync.contacts_created,
        contacts_updated=sync.contacts_updated,
        error_message=sync.error_message,
    )
    _set_time(result.start_time, sync.started_at)
    _set_time(result.end_time, sync.ended_at)
    return result


def contact_to_proto(
    contact: Contact, *, platform: str, default_contact_policy: str
) -> contact_pb2.Contact:
    result = contact_pb2.Contact(
        id=contact.id,
        integration_id=contact.integration_id,
        platform=enum_value("PLATFORM", platform),
        platform_user_id=contact.platform_user_id,
        display_name=contact.display_name or contact.platform_display_name,
        platform_display_name=contact.platform_display_name,
        username=contact.username,
        avatar_url=contact.avatar_url,
        agent_access=enum_value("AGENT_ACCESS", contact.agent_access),
        agent_allowed=contact.agent_allowed(default_contact_policy),
        agent_paused=contact.agent_paused,
        reachable=contact.reachable,
    )
    _set_time(result.agent_pause_time, contact.agent_paused_at if contact.agent_paused else None)
    _set_time(result.last_message_time, contact.last_message_at)
    _set_time(result.create_time, contact.created_at)
    _set_time(result.update_time, contact.updated_at)
    return result


def message_to_proto(message: Message) -> message_pb2.Message:
    result = message_pb2.Message(
        id=message.id,
        integration_id=message.integration_id,
        contact_id=message.contact_id,
        direction=enum_value("MESSAGE_DIRECTION", message.direction),
        author_kind=enum_value("AUTHOR_KIND", message.author_kind),
        agent_id=message.agent_id,
        text=message.text,
        attachments=[_attachment(item) for item in message.attachments],
        platform_message_id=message.platform_message_id,
        edited=message.edited,
        deleted=message.deleted,
        reply_to_message_id=message.in_reply_to_message_id or "",
        status=enum_value("MESSAGE_STATUS", message.status),
        error_message=message.error_message,
    )
    _set_time(result.edit_time, message.edited_at if message.edited else None)
    _set_time(result.create_time, message.created_at)
    _set_time(result.platform_time, message.platform_at)
    return result


def _attachment(item: dict[str, Any]) -> message_pb2.Attachment:
    return message_pb2.Attachment(
        kind=enum_value("ATTACHMENT_KIND", str(item.get("kind", "other"))),
        platform_type=str(item.get("platform_type", "")),
        url=str(item.get("url", "")),
        mime_type=str(item.get("mime_type", "")),
        file_name=str(item.get("file_name", "")),
        size_bytes=int(item.get("size_bytes", 0)),
        platform_file_id=str(item.get("platform_file_id", "")),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _set_time(field: Timestamp, value: datetime | None) -> None:
    """`Timestamp.FromDatetime` in integer arithmetic: the same value in a tenth of the time
    (protobuf's version goes through `utctimetuple` and `calendar.timegm`, and every webhook
    sets six of these)."""
    if value is None:
        return
    since = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)) - _EPOCH
    field.seconds = since.days * 86_400 + since.seconds
    field.nanos = since.microseconds * 1000
