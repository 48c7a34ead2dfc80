"""Google Calendar (v3) with a service account: a JWT-bearer token exchange (RFC 7523) at the
configured token URL, then freeBusy and events.insert on the shared calendar."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, urlencode

import jwt

from services.agent.tools.outcome import ToolFailure
from services.agent.workspaces.common import (
    Check,
    Http,
    Slot,
    check_of,
    json_of,
    require,
    unreachable,
)

SCOPE = "https://www.googleapis.com/auth/calendar"


def service_account_email(key_json: str) -> str | None:
    """The key's `client_email`, or None when this is no service-account key."""
    try:
        key = json.loads(key_json)
    except json.JSONDecodeError:
        return None
    if not isinstance(key, dict) or not key.get("private_key") or not key.get("client_email"):
        return None
    return str(key["client_email"])


class GoogleCalendar:
    def __init__(self, http: Http, *, api_base: str, token_url: str) -> None:
        self._http = http
        self._base = api_base
        self._token_url = token_url

    async def _token(self, key_json: str) -> str:
        key = json.loads(key_json)
        now = int(time.time())
        try:
            assertion = jwt.encode(
                {
                    "iss": key["client_email"],
                    "scope": SCOPE,
                    "aud": self._token_url,
                    "iat": now,
                    "exp": now + 600,
                },
                key["private_key"],
                algorithm="RS256",
                headers={"kid": key.get("private_key_id", "")},
            )
        except (ValueError, TypeError, jwt.PyJWTError):
            raise ToolFailure(
                "CONNECTION_REJECTED", "the service-account key is unusable"
            ) from None
        answer = await self._http.call(
            "POST",
            self._token_url,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            content=urlencode(
                {
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": assertion,
                }
            ).encode(),
        )
        if answer.status in (400, 401, 403):
            raise ToolFailure("CONNECTION_REJECTED", "Google refused the service-account key")
        require(answer, (200,), "getting a Google token")
        return str(json_of(answer).get("access_token", ""))

    async def _headers(self, key_json: str) -> dict[str, str]:
        token = await self._token(key_json)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def check(self, key_json: str, calendar_id: str) -> Check:
        try:
            headers = await self._headers(key_json)
            answer = await self._http.call(
                "GET", f"{self._base}/calendars/{quote(calendar_id, safe='')}", headers=headers
            )
        except ToolFailure as failure:
            if failure.reason == "CONNECTION_REJECTED":
                return Check(2, failure.message)
            return unreachable(failure)
        return check_of(answer)

    async def busy(self, key_json: str, calendar_id: str, slot: Slot) -> bool:
        body = {
            "timeMin": slot.start.isoformat(),
            "timeMax": slot.end.isoformat(),
            "items": [{"id": calendar_id}],
        }
        answer = await self._http.call(
            "POST",
            f"{self._base}/freeBusy",
            headers=await self._headers(key_json),
            content=json.dumps(body).encode(),
        )
        require(answer, (200,), "reading free/busy")
        calendar = json_of(answer).get("calendars", {}).get(calendar_id, {})
        if calendar.get("errors"):
            raise ToolFailure("CONNECTION_REJECTED", "the calendar is not shared with the account")
        return bool(calendar.get("busy"))

    async def book(self, key_json: str, calendar_id: str, slot: Slot) -> dict[str, Any]:
        description = slot.description
        if slot.attendee_email:
            description = f"{description}\nAttendee: {slot.attendee_email}".strip()
        body = {
            "summary": slot.title,
            "description": description,
            "start": {"dateTime": slot.start.isoformat()},
            "end": {"dateTime": slot.end.isoformat()},
        }
        answer = await self._http.call(
            "POST",
            f"{self._base}/calendars/{quote(calendar_id, safe='')}/events",
            headers=await self._headers(key_json),
            content=json.dumps(body).encode(),
        )
        require(answer, (200,), "adding the event")
        created = json_of(answer)
        return {
            "provider": "google_calendar",
            "event_id": created.get("id", ""),
            "url": created.get("htmlLink", ""),
        }
