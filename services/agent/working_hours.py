"""An agent's weekly working windows: validation, "open now?", the next opening, and whether a
meeting slot fits inside one window."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inbetwin.agent.v1 import agent_pb2

from services.agent import errors
from services.kit.errors import ServiceError


@dataclass(frozen=True, slots=True)
class Window:
    weekday: int  # ISO: Monday 1 .. Sunday 7
    start_minute: int
    end_minute: int  # exclusive; 1440 for midnight


@dataclass(frozen=True, slots=True)
class Schedule:
    zone: ZoneInfo
    windows: tuple[Window, ...]

    def is_open(self, when: datetime) -> bool:
        local = when.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(
            w.weekday == local.isoweekday() and w.start_minute <= minute < w.end_minute
            for w in self.windows
        )

    def fits(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) lies inside one window on one local day."""
        local_start = start.astimezone(self.zone)
        local_end = end.astimezone(self.zone)
        day_start = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
        start_minute = (local_start - day_start) / timedelta(minutes=1)
        end_minute = (local_end - day_start) / timedelta(minutes=1)
        return any(
            w.weekday == local_start.isoweekday()
            and w.start_minute <= start_minute
            and end_minute <= w.end_minute
            for w in self.windows
        )

    def next_start(self, when: datetime) -> datetime | None:
        """The start of the next window after `when` (within two weeks)."""
        local = when.astimezone(self.zone)
        for day_offset in range(15):
            day = (local + timedelta(days=day_offset)).date()
            for window in sorted(self.windows, key=lambda w: w.start_minute):
                if window.weekday != day.isoweekday():
                    continue
                hours, minutes = divmod(window.start_minute, 60)
                start = datetime.combine(day, time(hours, minutes), self.zone)
                if start > local:
                    return start.astimezone(UTC)
        return None


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def schedule_of(hours: agent_pb2.WorkingHours) -> Schedule:
    """Parse and check the windows; INVALID_WORKING_HOURS when they make no sense."""
    zone_name = hours.time_zone or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(f"unknown time zone {zone_name!r}") from None
    windows: list[Window] = []
    for index, window in enumerate(hours.windows):
        start, end = _minutes(window.start_time), _minutes(window.end_time)
        if end <= start:
            raise _invalid(f"windows[{index}] ends before it starts")
        windows.append(Window(int(window.day), start, end))
    by_day = sorted(windows, key=lambda w: (w.weekday, w.start_minute))
    for previous, current in itertools.pairwise(by_day):
        if previous.weekday == current.weekday and current.start_minute < previous.end_minute:
            raise _invalid("windows of one day overlap")
    return Schedule(zone, tuple(windows))


def _invalid(message: str) -> ServiceError:
    return errors.invalid("INVALID_WORKING_HOURS", message)
