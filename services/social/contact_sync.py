"""Contact synchronisation: on demand (SyncContacts) and hourly, for every active integration.

A run reads what the platform lists (VK `messages.getConversations`, X DM events, MAX
`GET /chats`; for Telegram, which cannot list a bot's users, the known contacts are refreshed
with `getChat`), creates the contacts the service did not know and refreshes the profiles of
those it did, without touching the owner's own choices (display name, allow/deny). At most one
run per integration is in progress; a run renews a lease as it goes, so a run whose process died
is taken over by the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from services.social import contact_repository, errors, repository, sync_repository
from services.social.access_tokens import AccessTokens
from services.social.crypto import CryptoError
from services.social.models import ContactSync, Integration
from services.social.platforms.adapter import PlatformAdapter
from services.social.platforms.types import InvalidPayloadError, PlatformError

log = logging.getLogger("inbetwin.social.contact_sync")

LEASE = timedelta(minutes=2)
PROGRESS_EVERY = 50
KNOWN_CONTACTS_LIMIT = 1000


class ContactSyncer:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        adapters: Mapping[str, PlatformAdapter],
        tokens: AccessTokens,
    ) -> None:
        self._engine = engine
        self._adapters = adapters
        self._tokens = tokens
        self._running: set[asyncio.Task[None]] = set()

    async def request(self, *, owner_id: str, integration_id: str) -> ContactSync:
        """Start a run in the background (or return the one in progress)."""
        async with self._engine.begin() as connection:
            integration = await repository.get_integration(
                connection, owner_id=owner_id, integration_id=integration_id
            )
            if integration is None:
                raise errors.integration_not_found()
            if integration.status != "active" or integration.platform not in self._adapters:
                raise errors.integration_not_active()
            sync, started = await sync_repository.start_sync(
                connection, owner_id=owner_id, integration_id=integration_id, lease=LEASE
            )
        if started:
            self._spawn(integration, sync)
        return sync

    async def run_due(self, *, interval: timedelta, limit: int = 20) -> int:
        """Start runs for integrations whose last one started more than `interval` ago."""
        async with self._engine.connect() as connection:
            due = await sync_repository.due_for_sync(
                connection, platforms=tuple(self._adapters), interval=interval, limit=limit
            )
        started = 0
        for integration in due:
            async with self._engine.begin() as connection:
                sync, fresh = await sync_repository.start_sync(
                    connection,
                    owner_id=integration.owner_id,
                    integration_id=integration.id,
                    lease=LEASE,
                )
            if fresh:
                self._spawn(integration, sync)
                started += 1
        return started

    async def wait_idle(self) -> None:
        """Wait for the runs this process started (shutdown, tests)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*list(self._running), return_exceptions=True)

    def _spawn(self, integration: Integration, sync: ContactSync) -> None:
        task = asyncio.create_task(self._run(integration, sync))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, integration: Integration, sync: ContactSync) -> None:
        adapter = self._adapters[integration.platform]
        owner_id = integration.owner_id
        counts = {"seen": 0, "created": 0, "updated": 0}
        error = ""
        try:
            async with self._engine.connect() as connection:
                known = await contact_repository.known_user_ids(
                    connection,
                    owner_id=owner_id,
                    integration_id=integration.id,
                    limit=KNOWN_CONTACTS_LIMIT,
                )
            token = await self._tokens.token_for(integration)
            profiles = adapter.contacts(
                token, account_id=integration.platform_account_id, known_user_ids=known
            )
            async for profile in profiles:
                async with self._engine.begin() as connection:
                    outcome = await contact_repository.upsert_synced_contact(
                        connection,
                        owner_id=owner_id,
                        integration_id=integration.id,
                        profile=profile,
                    )
                    counts["seen"] += 1
                    if outcome != "unchanged":
                        counts[outcome] += 1
                    if counts["seen"] % PROGRESS_EVERY == 0:
                        await sync_repository.record_progress(
                            connection, owner_id=owner_id, sync_id=sync.id, lease=LEASE, **counts
                        )
        except (PlatformError, InvalidPayloadError) as failure:
            error = getattr(failure, "description", str(failure)) or type(failure).__name__
        except CryptoError:
            error = "stored credentials cannot be read"
        except asyncio.CancelledError:
            error = "interrupted"
        except Exception:
            log.exception("contact sync failed", extra={"integration_id": integration.id})
            error = "internal error"
        with contextlib.suppress(Exception):
            async with self._engine.begin() as connection:
                await sync_repository.finish_sync(
                    connection, owner_id=owner_id, sync_id=sync.id, error=error, **counts
                )
        log.info(
            "contact sync finished",
            # `created` is a LogRecord attribute, so the counts get their own names here.
            extra={
                "integration_id": integration.id,
                "error": error,
                **{f"contacts_{name}": value for name, value in counts.items()},
            },
        )


class Maintenance:
    """Periodic background work of one instance: hourly contact syncs, OAuth token refresh and
    pruning of abandoned OAuth states. Safe to run on every instance at once."""

    def __init__(
        self,
        *,
        jobs: list[Callable[[], Awaitable[object]]],
        interval_seconds: float,
    ) -> None:
        self._jobs = jobs
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            for job in self._jobs:
                try:
                    await job()
                except Exception:
                    log.exception("maintenance job failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
