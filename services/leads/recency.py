"""Recency decay: leads whose engagement would drop with time alone are recomputed when it does.

Each lead stores when its recency value next changes (`recency_check_at`, a whole day after the
contact's last message). The sweeper wakes periodically, recomputes the leads that are due under
their contact's lock and announces the ones whose score or breakdown moved (cause RECENCY).
Several instances may sweep at once: the lock serialises them and a lead already recomputed is
no longer due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.outbox import OutboxRelay
from services.leads import repository
from services.leads.changes import Cause, refresh_contact

log = logging.getLogger("inbetwin.leads.recency")

SWEEP_BATCH = 200


class RecencySweeper:
    def __init__(
        self,
        engine: AsyncEngine,
        relay: OutboxRelay,
        *,
        interval: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._interval = interval
        self._clock = clock
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sweep()
            except Exception:
                log.exception("recency sweep failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)

    async def sweep(self) -> int:
        """Recompute every lead that is due now; returns how many changed."""
        changed = 0
        while not self._stop.is_set():
            now = self._clock()
            async with self._engine.connect() as conn:
                due = await repository.leads_due_for_recency(conn, now=now, limit=SWEEP_BATCH)
            if not due:
                break
            for row in due:
                changed += await self._refresh(row.owner_id, row.contact_id, now)
            if len(due) < SWEEP_BATCH:
                break
        if changed:
            self._relay.notify()
        return changed

    async def _refresh(self, owner_id: str, contact_id: str, now: datetime) -> int:
        async with self._engine.begin() as conn:
            await repository.lock_contact(conn, owner_id=owner_id, contact_id=contact_id)
            lead = await repository.lead_by_contact(conn, owner_id=owner_id, contact_id=contact_id)
            if lead is None or lead.recency_check_at is None or lead.recency_check_at > now:
                return 0  # another instance got there first
            change = await refresh_contact(
                conn, owner_id=owner_id, contact_id=contact_id, cause=Cause.RECENCY, now=now
            )
        return 0 if change is None else 1
