"""A local Google Calendar API (v3) with the OAuth 2.0 token endpoint for service accounts
(JWT bearer grant, RFC 7523): assertions are verified with the account's public key; calendars
answer only to accounts they are shared with; freeBusy reflects inserted events."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.agent.http_standin import JsonStandIn, Request

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class GoogleCalendarStandIn(JsonStandIn):
    def __init__(self) -> None:
        super().__init__()
        self.public_keys: dict[str, Any] = {}
        self.access_tokens: dict[str, str] = {}
        self.calendars: dict[
            str, set[str]
        ] = {}  # calendar id -> service accounts it is shared with
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.route("POST", r"/token", self._token)
        self.route("GET", r"/calendar/v3/calendars/(?P<id>[^/]+)", self._calendar)
        self.route("POST", r"/calendar/v3/freeBusy", self._free_busy)
        self.route("POST", r"/calendar/v3/calendars/(?P<id>[^/]+)/events", self._insert)

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/calendar/v3"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def add_service_account(self) -> str:
        """A new account; returns its JSON key file as Google Cloud hands it out."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        email = f"agent-{uuid.uuid4().hex[:8]}@project.iam.gserviceaccount.com"
        self.public_keys[email] = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "project",
                "private_key_id": uuid.uuid4().hex,
                "private_key": pem,
                "client_email": email,
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )

    def share_calendar(self, key_json: str) -> str:
        calendar_id = f"team-{uuid.uuid4().hex[:8]}@group.calendar.google.com"
        self.calendars[calendar_id] = {json.loads(key_json)["client_email"]}
        self.events[calendar_id] = []
        return calendar_id

    def _token(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != GRANT:
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(form.get("assertion", ""), options={"verify_signature": False})
            key = self.public_keys[claims["iss"]]
            jwt.decode(form["assertion"], key, algorithms=["RS256"], audience=self.token_url)
        except (KeyError, jwt.PyJWTError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        token = secrets.token_urlsafe(24)
        self.access_tokens[token] = claims["iss"]
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3599}

    def _account(self, request: Request) -> str | None:
        return self.access_tokens.get(
            request.headers.get("authorization", "").removeprefix("Bearer ")
        )

    def _calendar(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        account = self._account(request)
        if account is None:
            return 401, {"error": {"code": 401, "message": "Invalid Credentials"}}
        calendar_id = unquote(match["id"])
        if account not in self.calendars.get(calendar_id, set()):
            return 404, {"error": {"code": 404, "message": "Not Found"}}
        return 200, {"kind": "calendar#calendar", "id": calendar_id}

    def _free_busy(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        account = self._account(request)
        if account is None:
            return 401, {"error": {"code": 401, "message": "Invalid Credentials"}}
        body = request.json()
        start = datetime.fromisoformat(body["timeMin"])
        end = datetime.fromisoformat(body["timeMax"])
        calendars: dict[str, Any] = {}
        for item in body.get("items", []):
            calendar_id = item["id"]
            if account not in self.calendars.get(calendar_id, set()):
                calendars[calendar_id] = {"errors": [{"domain": "global", "reason": "notFound"}]}
                continue
            busy = [
                {"start": e["start"]["dateTime"], "end": e["end"]["dateTime"]}
                for e in self.events[calendar_id]
                if datetime.fromisoformat(e["start"]["dateTime"]) < end
                and datetime.fromisoformat(e["end"]["dateTime"]) > start
            ]
            calendars[calendar_id] = {"busy": busy}
        return 200, {"kind": "calendar#freeBusy", "calendars": calendars}

    def _insert(self, request: Request, match: re.Match[str]) -> tuple[int, Any]:
        account = self._account(request)
        calendar_id = unquote(match["id"])
        if account is None or account not in self.calendars.get(calendar_id, set()):
            return 404, {"error": {"code": 404, "message": "Not Found"}}
        event = {"kind": "calendar#event", "id": uuid.uuid4().hex, **request.json()}
        event["htmlLink"] = f"https://www.google.com/calendar/event?eid={event['id']}"
        self.events[calendar_id].append(event)
        return 200, event
