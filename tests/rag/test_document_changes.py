"""Document changes announced by Postgres as they commit (the trigger of migration 0004) wake
exactly the watchers of that document, survive the listening connection being killed, and
never announce a rolled-back change."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.rag.document_changes import CHANNEL, DocumentChanges
from services.stack import Stack
from tests.rag.conftest import WAIT_SECONDS, new_database


@pytest.fixture
async def database(platform: Stack) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A migrated database with one knowledge base, and a connection to it."""
    url = await new_database(platform, "changes")
    connection = await asyncpg.connect(platform.postgres_dsn(url.rsplit("/", 1)[1]))
    await connection.execute(
        "INSERT INTO knowledge_bases (id, owner_id, display_name, embedding_model) "
        "VALUES ($1, $2, 'kb', 'm')",
        KB,
        OWNER,
    )
    try:
        yield url, connection
    finally:
        await connection.close()


OWNER, KB = str(uuid.uuid4()), str(uuid.uuid4())


async def insert_document(connection: asyncpg.Connection) -> str:
    document_id = str(uuid.uuid4())
    await connection.execute(
        "INSERT INTO documents (id, owner_id, knowledge_base_id, file_name, content_type, "
        "size_bytes, sha256, storage_key, status, uploaded_at) "
        "VALUES ($1, $2, $3, $4, 'text/plain', 0, '', '', 1, now())",
        document_id,
        OWNER,
        KB,
        f"{document_id}.txt",
    )
    return document_id


async def woken(event: asyncio.Event) -> None:
    """Wait for the event (the timeout only stops a hung test)."""
    await asyncio.wait_for(event.wait(), timeout=WAIT_SECONDS)
    event.clear()


async def test_each_watcher_is_woken_by_its_own_document(
    database: tuple[str, asyncpg.Connection],
) -> None:
    url, connection = database
    first, second, third = [await insert_document(connection) for _ in range(3)]
    changes = DocumentChanges(url)
    await changes.start()
    try:
        with (
            changes.subscribe(first) as first_changed,
            changes.subscribe(second) as second_changed,
            changes.subscribe(third) as third_changed,
        ):
            # A rolled-back change is never announced; the ones after it arrive in order.
            transaction = connection.transaction()
            await transaction.start()
            await connection.execute("UPDATE documents SET chunks_done = 9 WHERE id = $1", third)
            await transaction.rollback()
            await connection.execute("UPDATE documents SET chunks_done = 1 WHERE id = $1", first)
            await connection.execute("UPDATE documents SET chunks_done = 1 WHERE id = $1", second)
            await woken(second_changed)
            assert first_changed.is_set()
            assert not third_changed.is_set()
            first_changed.clear()

            await connection.execute("DELETE FROM documents WHERE id = $1", first)
            await connection.execute("UPDATE documents SET chunks_done = 2 WHERE id = $1", third)
            await woken(third_changed)
            assert first_changed.is_set()
            assert not second_changed.is_set()
    finally:
        await changes.close()


async def test_the_listener_comes_back_after_its_connection_is_killed(
    database: tuple[str, asyncpg.Connection],
) -> None:
    url, connection = database
    document = await insert_document(connection)
    changes = DocumentChanges(url)
    await changes.start()
    try:
        with changes.subscribe(document) as changed:
            killed = await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND query ILIKE $1",
                f"%LISTEN%{CHANNEL}%",
            )
            assert killed == 1
            # Re-listening wakes every watcher once (changes may have been missed) ...
            await woken(changed)
            # ... and later changes arrive again.
            await connection.execute("UPDATE documents SET chunks_done = 3 WHERE id = $1", document)
            await woken(changed)
    finally:
        await changes.close()
