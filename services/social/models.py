"""Rows of social's tables as typed values; the repository returns these, never raw rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row


@dataclass(frozen=True, slots=True)
class Integration:
    id: str
    owner_id: str
    platform: str
    display_name: str
    status: str
    delivery_mode: str
    platform_account_id: str
    platform_username: str
    credentials_encrypted: bytes
    webhook_secret_encrypted: bytes | None
    default_contact_policy: str
    last_error: str
    last_error_at: datetime | None
    last_update_at: datetime | None
    credentials_expire_at: datetime | None
    webhook_ref: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Integration:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[Any, Any]) -> Integration:
        return cls(
            id=str(m["id"]),
            owner_id=str(m["owner_id"]),
            platform=m["platform"],
            display_name=m["display_name"],
            status=m["status"],
            delivery_mode=m["delivery_mode"],
            platform_account_id=m["platform_account_id"],
            platform_username=m["platform_username"],
            credentials_encrypted=bytes(m["credentials_encrypted"]),
            webhook_secret_encrypted=(
                bytes(m["webhook_secret_encrypted"])
                if m["webhook_secret_encrypted"] is not None
                else None
            ),
            default_contact_policy=m["default_contact_policy"],
            last_error=m["last_error"],
            last_error_at=m["last_error_at"],
            last_update_at=m["last_update_at"],
            credentials_expire_at=m["credentials_expire_at"],
            webhook_ref=m["webhook_ref"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
        )

    def __repr__(self) -> str:  # credentials stay out of logs and tracebacks
        return (
            f"Integration(id={self.id!r}, owner_id={self.owner_id!r}, platform={self.platform!r})"
        )


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    owner_id: str
    integration_id: str
    platform_user_id: str
    display_name: str | None
    platform_display_name: str
    username: str
    avatar_url: str
    agent_access: str
    agent_paused: bool
    agent_paused_at: datetime | None
    reachable: bool
    last_message_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Contact:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[Any, Any]) -> Contact:
        return cls(
            id=str(m["id"]),
            owner_id=str(m["owner_id"]),
            integration_id=str(m["integration_id"]),
            platform_user_id=m["platform_user_id"],
            display_name=m["display_name"],
            platform_display_name=m["platform_display_name"],
            username=m["username"],
            avatar_url=m["avatar_url"],
            agent_access=m["agent_access"],
            agent_paused=m["agent_paused"],
            agent_paused_at=m["agent_paused_at"],
            reachable=m["reachable"],
            last_message_at=m["last_message_at"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
        )

    def agent_allowed(self, default_contact_policy: str) -> bool:
        """`agent_access` resolved against the integration's default policy."""
        if self.agent_access == "allowed":
            return True
        if self.agent_access == "denied":
            return False
        return default_contact_policy != "deny_all"


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    owner_id: str
    integration_id: str
    contact_id: str
    direction: str
    author_kind: str
    agent_id: str
    text: str
    attachments: list[dict[str, Any]]
    platform_message_id: str
    reply_id: str | None
    reply_part: int
    in_reply_to_message_id: str | None
    status: str
    error_message: str
    edited: bool
    edited_at: datetime | None
    platform_at: datetime | None
    send_attempt_id: str | None
    attempts: int
    deleted: bool
    request_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Message:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[Any, Any]) -> Message:
        return cls(
            id=str(m["id"]),
            owner_id=str(m["owner_id"]),
            integration_id=str(m["integration_id"]),
            contact_id=str(m["contact_id"]),
            direction=m["direction"],
            author_kind=m["author_kind"],
            agent_id=m["agent_id"],
            text=m["text"],
            attachments=list(m["attachments"] or []),
            platform_message_id=m["platform_message_id"],
            reply_id=_optional_str(m["reply_id"]),
            reply_part=m["reply_part"],
            in_reply_to_message_id=_optional_str(m["in_reply_to_message_id"]),
            status=m["status"],
            error_message=m["error_message"],
            edited=m["edited"],
            edited_at=m["edited_at"],
            platform_at=m["platform_at"],
            send_attempt_id=_optional_str(m["send_attempt_id"]),
            attempts=m["attempts"],
            deleted=m["deleted"],
            request_id=_optional_str(m["request_id"]),
            created_at=m["created_at"],
        )


@dataclass(frozen=True, slots=True)
class ContactSync:
    id: str
    owner_id: str
    integration_id: str
    state: str
    started_at: datetime
    ended_at: datetime | None
    lease_until: datetime
    contacts_seen: int
    contacts_created: int
    contacts_updated: int
    error_message: str

    @classmethod
    def from_row(cls, row: Row[Any]) -> ContactSync:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[Any, Any]) -> ContactSync:
        return cls(
            id=str(m["id"]),
            owner_id=str(m["owner_id"]),
            integration_id=str(m["integration_id"]),
            state=m["state"],
            started_at=m["started_at"],
            ended_at=m["ended_at"],
            lease_until=m["lease_until"],
            contacts_seen=m["contacts_seen"],
            contacts_created=m["contacts_created"],
            contacts_updated=m["contacts_updated"],
            error_message=m["error_message"],
        )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
