"""CalDAV (RFC 4791): free/busy by a calendar-query REPORT over the slot, booking by PUT of a new
iCalendar object (If-None-Match: *)."""

from __future__ import annotations

import base64
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC
from typing import Any

from icalendar import Calendar, Event

from services.agent.tools.outcome import ToolFailure
from services.agent.workspaces.common import Check, Http, Slot, check_of, require, unreachable

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>'
)


def _query(start: str, end: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        "<d:prop><d:getetag/></d:prop>"
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
        f'<c:time-range start="{start}" end="{end}"/>'
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
    ).encode()


def _stamp(slot_time: Any) -> str:
    return str(slot_time.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))


class CalDav:
    def __init__(self, http: Http) -> None:
        self._http = http

    @staticmethod
    def _headers(username: str, password: str, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if username:
            pair = base64.b64encode(f"{username}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        return headers

    async def check(self, url: str, username: str, password: str) -> Check:
        try:
            answer = await self._http.call(
                "PROPFIND",
                url,
                headers=self._headers(
                    username, password, Depth="0", **{"Content-Type": "application/xml"}
                ),
                content=PROPFIND,
            )
        except ToolFailure as failure:
            return unreachable(failure)
        return check_of(answer, ok=(207,))

    async def busy(self, url: str, username: str, password: str, slot: Slot) -> bool:
        answer = await self._http.call(
            "REPORT",
            url,
            headers=self._headers(
                username, password, Depth="1", **{"Content-Type": "application/xml"}
            ),
            content=_query(_stamp(slot.start), _stamp(slot.end)),
        )
        require(answer, (207,), "reading the calendar")
        try:
            root = ET.fromstring(answer.body)  # noqa: S314 - see the import
        except ET.ParseError:
            raise ToolFailure(
                "TOOL_UPSTREAM_ERROR", "the calendar answered malformed XML"
            ) from None
        for response in root.iter(f"{DAV}response"):
            href = response.findtext(f"{DAV}href") or ""
            statuses = [s.text or "" for s in response.iter(f"{DAV}status")]
            if href.endswith(".ics") and any(" 200 " in s for s in statuses):
                return True
        return False

    async def book(self, url: str, username: str, password: str, slot: Slot) -> dict[str, Any]:
        uid = str(uuid.uuid4())
        event = Event()
        event.add("uid", uid)
        event.add("summary", slot.title)
        event.add("dtstart", slot.start.astimezone(UTC))
        event.add("dtend", slot.end.astimezone(UTC))
        event.add("dtstamp", slot.start.astimezone(UTC))
        if slot.description:
            event.add("description", slot.description)
        if slot.attendee_email:
            event.add("attendee", f"mailto:{slot.attendee_email}")
        calendar = Calendar()
        calendar.add("prodid", "-//inBeTwin//agent//EN")
        calendar.add("version", "2.0")
        calendar.add_component(event)
        target = url.rstrip("/") + f"/{uid}.ics"
        answer = await self._http.call(
            "PUT",
            target,
            headers=self._headers(
                username,
                password,
                **{"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
            ),
            content=calendar.to_ical(),
        )
        require(answer, (200, 201, 204), "adding the event")
        return {"provider": "caldav", "event_id": uid}
