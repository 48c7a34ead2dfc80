"""Document changes as they commit: one LISTEN connection per process on the channel that
migration 0004's trigger notifies, waking the watchers of that document.

If the connection drops, it is re-opened; watchers re-read the document on a slow timer as
well, so a notification lost meanwhile only delays an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import asyncpg
from sqlalchemy.engine import make_url

CHANNEL = "rag_document_changed"
RECONNECT_SECONDS = 1.0

log = logging.getLogger("inbetwin.rag.document_changes")


def asyncpg_dsn(database_url: str) -> str:
    """A SQLAlchemy `postgresql+asyncpg://` URL as a plain libpq-style DSN for asyncpg."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


class DocumentChanges:
    def __init__(self, database_url: str) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        """Listen in the background; returns once the first connection listens (or failed)."""
        self._task = asyncio.create_task(self._run(), name="rag-document-changes")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout=10)

    @contextlib.contextmanager
    def subscribe(self, document_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever the document changes (clear it after each wake-up)."""
        event = asyncio.Event()
        self._waiters.setdefault(document_id, set()).add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(document_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[document_id]

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        for event in self._waiters.get(payload, ()):
            event.set()

    async def _run(self) -> None:
        while True:
            try:
                await self._listen_until_lost()
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("cannot listen for document changes", extra={"error": str(error)})
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_until_lost(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _conn: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._notified)
            self._listening.set()
            # Changes may have been missed while not listening: everyone re-reads.
            for waiters in self._waiters.values():
                for event in waiters:
                    event.set()
            await lost.wait()
        finally:
            self._listening.clear()
            if not connection.is_closed():
                await connection.close(timeout=2)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
