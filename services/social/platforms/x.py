"""X adapter: direct messages of user accounts authorised with OAuth 2.0 (PKCE).

Facts used (../shared/PLATFORMS.md section 3): one webhook per app receives every subscribed
user's events; X checks it with a CRC GET (`response_token` = `sha256=` + base64 HMAC-SHA256 of
`crc_token` under the app's consumer secret) and signs every POST in
`x-twitter-webhooks-signature` the same way over the raw body. Account Activity bodies carry
`for_user_id` and `direct_message_events` (several per body possible), the X Activity API wraps
them in `data.payload` with `data.filter.user_id`; DMs the account sent itself come back too and
are dropped. The de-duplication key is (`for_user_id`, DM event id). Sending is
`POST /2/dm_conversations/with/:participant_id/messages`; 429 carries `x-rate-limit-reset`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.social.platforms import fields
from services.social.platforms.adapter import SendLimits, WebhookAck
from services.social.platforms.http import call, json_body
from services.social.platforms.types import (
    AccountProfile,
    AccountRevoked,
    AttachmentKindName,
    AttachmentMeta,
    BlockedError,
    Delivery,
    Ignored,
    InboundMessage,
    InvalidCredentialsError,
    InvalidPayloadError,
    OwnerMessage,
    PermanentError,
    PlatformError,
    Profile,
    RetryLaterError,
    SentMessage,
    TransientError,
    Update,
)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
SCOPES = ("dm.read", "dm.write", "tweet.read", "users.read", "offline.access")
# Without these the service can neither read nor answer DMs; offline.access only adds refresh.
REQUIRED_SCOPES = ("dm.read", "dm.write", "tweet.read", "users.read")
MAX_TEXT_UNITS = 10_000
# DM sends: 15 requests per 15 minutes per user.
LIMITS = SendLimits(
    per_chat_rate=1.0, per_chat_burst=3, per_account_rate=15 / 900, per_account_burst=15
)
SYNC_MAX_PAGES = 20

_MEDIA_KINDS: dict[str, AttachmentKindName] = {
    "photo": "photo",
    "video": "video",
    "animated_gif": "video",
}


@dataclass(frozen=True, slots=True)
class OAuthTokens:
    access_token: str
    refresh_token: str
    expires_at: datetime | None
    scopes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"OAuthTokens(expires_at={self.expires_at!r}, scopes={self.scopes!r})"


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The app's OAuth 2.0 client; `client_secret` is empty for a public client."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"OAuthClient(client_id={self.client_id!r})"


class XClient:
    """X API v2 calls over one shared client."""

    def __init__(self, http: httpx.AsyncClient, *, api_base: str = "https://api.x.com") -> None:
        self._http = http
        self._base = api_base.rstrip("/")

    async def exchange_code(
        self, oauth: OAuthClient, *, code: str, code_verifier: str, redirect_uri: str
    ) -> OAuthTokens:
        return await self._token(
            oauth,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )

    async def refresh(self, oauth: OAuthClient, *, refresh_token: str) -> OAuthTokens:
        return await self._token(
            oauth, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def me(self, token: str) -> AccountProfile:
        body = await self._call(
            token, "GET", "/2/users/me", params={"user.fields": "name,username,profile_image_url"}
        )
        user = fields.obj(fields.optional_obj(body).get("data"), "data")
        return AccountProfile(
            platform_account_id=fields.id_string(user, "id", "data"),
            username=fields.text(user, "username"),
            display_name=fields.text(user, "name"),
        )

    async def subscribe(self, token: str, *, webhook_id: str) -> None:
        """Subscribe the token's user to the app's webhook (Account Activity)."""
        await self._call(
            token, "POST", f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
        )

    async def send_dm(self, token: str, *, participant_id: str, text: str) -> SentMessage:
        body = await self._call(
            token,
            "POST",
            f"/2/dm_conversations/with/{participant_id}/messages",
            json={"text": text},
        )
        data = fields.obj(fields.optional_obj(body).get("data"), "data")
        return SentMessage(
            platform_message_id=fields.id_string(data, "dm_event_id", "data"),
            sent_at=datetime.now(UTC),
        )

    async def dm_events(self, token: str, *, pagination_token: str = "") -> dict[str, Any]:
        params = {
            "max_results": "100",
            "event_types": "MessageCreate",
            "dm_event.fields": "id,event_type,text,sender_id,dm_conversation_id,created_at",
            "expansions": "sender_id",
            "user.fields": "name,username,profile_image_url",
        }
        if pagination_token:
            params["pagination_token"] = pagination_token
        return fields.optional_obj(await self._call(token, "GET", "/2/dm_events", params=params))

    async def _token(self, oauth: OAuthClient, form: dict[str, str]) -> OAuthTokens:
        auth = (oauth.client_id, oauth.client_secret) if oauth.client_secret else None
        if auth is None:
            form = {**form, "client_id": oauth.client_id}
        response = await call(
            self._http, "POST", f"{self._base}/2/oauth2/token", platform="X", data=form, auth=auth
        )
        body = json_body(response)
        if not response.is_success or not isinstance(body, dict):
            raise _error(response, body)
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise TransientError("token endpoint returned no access_token")
        expires_in = body.get("expires_in")
        scope = body.get("scope")
        return OAuthTokens(
            access_token=access,
            refresh_token=fields.text(body, "refresh_token"),
            expires_at=(
                datetime.now(UTC) + timedelta(seconds=expires_in)
                if isinstance(expires_in, int) and expires_in > 0
                else None
            ),
            scopes=tuple(scope.split()) if isinstance(scope, str) else (),
        )

    async def _call(self, token: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await call(
            self._http,
            method,
            f"{self._base}{path}",
            platform="X",
            headers={"Authorization": f"Bearer {token}"},
            **kwargs,
        )
        body = json_body(response)
        if not response.is_success:
            raise _error(response, body)
        return body


def _error(response: httpx.Response, body: Any) -> PlatformError:
    status = response.status_code
    description = _description(body) or f"HTTP {status}"
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset", "")
        wait = float(reset) - time.time() if reset.isdigit() else 60.0
        return RetryLaterError(description, retry_after=max(wait, 1.0), status=status)
    if status == 401:
        return InvalidCredentialsError(description, status=status)
    if status == 403:
        return BlockedError(description, status=status)
    if 400 <= status < 500:
        return PermanentError(description, status=status)
    return TransientError(description, status=status)


def _description(body: Any) -> str:
    """X answers `Problem` (`title`/`detail`), `{errors: [{message}]}` or OAuth errors."""
    if not isinstance(body, dict):
        return ""
    for key in ("detail", "error_description", "title", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = errors[0].get("message") or errors[0].get("detail")
        if isinstance(message, str):
            return message
    return ""


def signature(secret: str, payload: bytes) -> str:
    """`sha256=<base64 HMAC-SHA256>`: X's CRC answer and its webhook signature alike."""
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def crc_response(secret: str, crc_token: str) -> dict[str, str]:
    return {"response_token": signature(secret, crc_token.encode())}


def verify(headers: Mapping[str, str], body: bytes, *, consumer_secret: str) -> bool:
    supplied = headers.get(SIGNATURE_HEADER)
    if not supplied or not consumer_secret:
        return False
    return hmac.compare_digest(supplied.encode(), signature(consumer_secret, body).encode())


def parse_delivery(body: bytes, *, app_id: str = "") -> Delivery:
    """Normalise one webhook body (Account Activity or X Activity API). `app_id` is this
    service's X app: a DM the account sent through it is the service's own send, echoed back;
    one sent from anywhere else is the owner writing by hand."""
    data = fields.load_object(body)
    envelope = data.get("data")
    if isinstance(envelope, dict) and "event_type" in envelope:
        return _activity_delivery(body, envelope, app_id)
    revoke = fields.optional_obj(fields.optional_obj(data.get("user_event")).get("revoke"))
    if revoke:
        source = fields.obj(revoke.get("source"), "user_event.revoke.source")
        user = fields.id_string(source, "user_id", "user_event.revoke.source")
        return Delivery(updates=(AccountRevoked(_body_key(body)),), account_id=user)
    for_user = fields.id_string(data, "for_user_id", "body")
    events = data.get("direct_message_events")
    if events is None:
        kinds = sorted(key for key in data if key.endswith("_events") or key == "user_event")
        reason = f"{', '.join(kinds) or 'body'} is not handled"
        return Delivery(updates=(Ignored(_body_key(body), reason),), account_id=for_user)
    users = {key: fields.optional_obj(value) for key, value in _users(data.get("users")).items()}
    return Delivery(updates=_dm_updates(events, for_user, users, app_id), account_id=for_user)


def _activity_delivery(body: bytes, envelope: dict[str, Any], app_id: str) -> Delivery:
    for_user = fields.id_string(
        fields.obj(envelope.get("filter"), "data.filter"), "user_id", "data.filter"
    )
    event_type = envelope.get("event_type")
    payload = fields.optional_obj(envelope.get("payload"))
    events = payload.get("direct_message_events")
    if event_type != "dm.received" or events is None:
        uuid = envelope.get("event_uuid")
        key = f"event:{uuid}" if isinstance(uuid, str) and uuid else _body_key(body)
        return Delivery(
            updates=(Ignored(key, f"event type {event_type!r} is not handled"),),
            account_id=for_user,
        )
    # The X Activity API nests each user's fields under `data`.
    users = {
        key: fields.optional_obj(fields.optional_obj(value).get("data"))
        for key, value in _users(payload.get("users")).items()
    }
    return Delivery(updates=_dm_updates(events, for_user, users, app_id), account_id=for_user)


def _users(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dm_updates(
    events: Any, for_user: str, users: Mapping[str, dict[str, Any]], app_id: str
) -> tuple[Update, ...]:
    if not isinstance(events, list):
        raise InvalidPayloadError("direct_message_events must be a list")
    return tuple(
        _dm_event(fields.obj(event, "direct_message_events[]"), for_user, users, app_id)
        for event in events
    )


def _dm_event(
    event: dict[str, Any], for_user: str, users: Mapping[str, dict[str, Any]], app_id: str
) -> Update:
    event_id = fields.id_string(event, "id", "direct_message_events[]")
    if event.get("type") != "message_create":
        return Ignored(event_id, f"DM event type {event.get('type')!r} is not handled")
    create = fields.obj(event.get("message_create"), "message_create")
    sender = fields.id_string(create, "sender_id", "message_create")
    data = fields.optional_obj(create.get("message_data"))
    text = fields.text(data, "text")
    attachments = _attachments(data.get("attachment"))
    if sender == for_user:
        return _own_dm(event_id, event, create, users, app_id, text, attachments)
    if not text and not attachments:
        return Ignored(event_id, "message has no text or supported attachment")
    return InboundMessage(
        dedup_key=event_id,
        chat_id=conversation_id(for_user, sender),
        platform_message_id=event_id,
        sender=_profile(sender, users.get(sender, {})),
        text=text,
        sent_at=fields.unix_time(event.get("created_timestamp"), milliseconds=True),
        attachments=attachments,
    )


def _own_dm(
    event_id: str,
    event: dict[str, Any],
    create: dict[str, Any],
    users: Mapping[str, dict[str, Any]],
    app_id: str,
    text: str,
    attachments: tuple[AttachmentMeta, ...],
) -> Update:
    """A DM the connected account sent: the service's own (echoed), or the owner's by hand."""
    source = create.get("source_app_id")
    if not app_id or not isinstance(source, str) or source == app_id:
        return Ignored(event_id, "sent by the connected account")
    target = fields.optional_obj(create.get("target"))
    recipient = fields.id_string(target, "recipient_id", "message_create.target")
    sender = fields.id_string(create, "sender_id", "message_create")
    return OwnerMessage(
        dedup_key=event_id,
        chat_id=conversation_id(sender, recipient),
        platform_message_id=event_id,
        recipient=_profile(recipient, users.get(recipient, {})),
        text=text,
        sent_at=fields.unix_time(event.get("created_timestamp"), milliseconds=True),
        attachments=attachments,
    )


def conversation_id(one: str, other: str) -> str:
    """The 1:1 conversation id X uses: `{smaller user id}-{larger user id}`."""
    low, high = sorted((one, other), key=int)
    return f"{low}-{high}"


def one_to_one_partner(event: Mapping[str, Any], account_id: str) -> str | None:
    """The other participant of a v2 DM event's 1:1 conversation; None for group conversations
    and events that are not messages."""
    if event.get("event_type") != "MessageCreate":
        return None
    conversation = event.get("dm_conversation_id")
    if not isinstance(conversation, str) or conversation.count("-") != 1:
        return None
    first, second = conversation.split("-")
    if account_id not in (first, second) or not (first.isdigit() and second.isdigit()):
        return None
    return second if first == account_id else first


def _attachments(attachment: Any) -> tuple[AttachmentMeta, ...]:
    if not isinstance(attachment, dict) or attachment.get("type") != "media":
        return ()
    media = fields.optional_obj(attachment.get("media"))
    kind_name = fields.text(media, "type") or "media"
    return (
        AttachmentMeta(
            kind=_MEDIA_KINDS.get(kind_name, "other"),
            platform_type=kind_name,
            platform_file_id=fields.text(media, "id_str"),
            url=fields.https_url(media.get("media_url_https")),
        ),
    )


def _profile(user_id: str, user: Mapping[str, Any]) -> Profile:
    return Profile(
        platform_user_id=user_id,
        display_name=fields.text(user, "name"),
        username=fields.text(user, "screen_name") or fields.text(user, "username"),
        avatar_url=fields.https_url(
            user.get("profile_image_url_https") or user.get("profile_image_url")
        ),
    )


def _body_key(body: bytes) -> str:
    return "body:" + hashlib.sha256(body).hexdigest()


class XAdapter:
    """X behind the common adapter interface. The webhook is the app's, not an integration's:
    `verify` takes the app's consumer secret."""

    platform = "x"
    max_text_units = MAX_TEXT_UNITS
    # The DM endpoint has no idempotency key.
    idempotent_send = False
    limits = LIMITS
    ack = WebhookAck(content_type="text/plain", body=b"")

    def __init__(self, client: XClient, *, app_id: str = "") -> None:
        self.client = client
        self._app_id = app_id

    def verify(
        self, headers: Mapping[str, str], body: bytes, *, secret: str, account_id: str
    ) -> bool:
        return verify(headers, body, consumer_secret=secret)

    def parse(self, body: bytes) -> Delivery:
        return parse_delivery(body, app_id=self._app_id)

    async def send_text(
        self, token: str, *, recipient_id: str, text: str, idempotency_key: str
    ) -> SentMessage:
        return await self.client.send_dm(token, participant_id=recipient_id, text=text)

    async def contacts(
        self, token: str, *, account_id: str, known_user_ids: Sequence[str]
    ) -> AsyncIterator[Profile]:
        """Partners of 1:1 conversations in the DM events X keeps (the last 30 days)."""
        seen: set[str] = set()
        pagination = ""
        for _ in range(SYNC_MAX_PAGES):
            page = await self.client.dm_events(token, pagination_token=pagination)
            includes = fields.optional_obj(page.get("includes")).get("users")
            users = {str(u.get("id")): u for u in includes or [] if isinstance(u, dict)}
            for event in page.get("data") or []:
                partner = one_to_one_partner(fields.optional_obj(event), account_id)
                if partner is None or partner in seen:
                    continue
                seen.add(partner)
                yield _profile(partner, users.get(partner, {}))
            pagination = fields.text(fields.optional_obj(page.get("meta")), "next_token")
            if not pagination:
                return
