"""auth's migrations build exactly the schema its tables declare (no drift either way)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from services.auth import tables
from services.kit.db import upgrade_to_head_async
from services.kit.tables import inbox_table, outbox_table
from services.stack import Stack

MIGRATIONS = Path(tables.__file__).parent / "migrations"


def _declared() -> sa.MetaData:
    declared = sa.MetaData()
    for table in tables.metadata.tables.values():
        table.to_metadata(declared)
    outbox_table(declared)
    inbox_table(declared)
    return declared


async def test_the_migrated_schema_is_the_declared_one(infra: Stack) -> None:
    connection = await asyncpg.connect(infra.postgres_dsn())
    try:
        await connection.execute("DROP DATABASE IF EXISTS auth_schema_check")
        await connection.execute("CREATE DATABASE auth_schema_check")
    finally:
        await connection.close()
    url = infra.database_url("auth").rsplit("/", 1)[0] + "/auth_schema_check"
    await upgrade_to_head_async(url, MIGRATIONS)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:

            def differences(sync: sa.Connection) -> list[object]:
                context = MigrationContext.configure(
                    sync, opts={"compare_type": True, "compare_server_default": True}
                )
                found: list[object] = compare_metadata(context, _declared())
                return [d for d in found if not _is_alembic_version(d)]

            found = await connection.run_sync(differences)
            assert found == []
    finally:
        await engine.dispose()


def _is_alembic_version(difference: object) -> bool:
    return isinstance(difference, tuple) and "alembic_version" in repr(difference)
