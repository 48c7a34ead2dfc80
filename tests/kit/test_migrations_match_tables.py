"""Each service's migrations build the schema its `tables.py` declares: the queries are written
against the declaration, the database is built by the migrations, so they must not drift.

Every declared table, column (type, nullability, server default), foreign key, index and unique
constraint must exist as declared, and the database may have no table or column the declaration
lacks. A declaration may leave out indexes and unique constraints that only a migration needs
(queries do not name them), and columns of types SQLAlchemy cannot reflect (pgvector's
`vector`, which rag queries in SQL)."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from services.edge.params import SERVICES
from services.kit.db import upgrade_to_head_async
from services.kit.tables import inbox_table, outbox_table
from services.stack import Stack


def _declared(svc: str) -> sa.MetaData:
    declared = sa.MetaData()
    tables = importlib.import_module(f"services.{svc}.tables")
    for table in tables.metadata.tables.values():
        table.to_metadata(declared)
    outbox_table(declared)
    inbox_table(declared)
    return declared


@pytest.mark.parametrize("svc", SERVICES)
async def test_the_migrated_schema_is_the_declared_one(infra: Stack, svc: str) -> None:
    database = f"{svc}_schema_check"
    connection = await asyncpg.connect(infra.postgres_dsn())
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {database}")
        await connection.execute(f"CREATE DATABASE {database}")
    finally:
        await connection.close()
    url = infra.database_url(svc).rsplit("/", 1)[0] + f"/{database}"
    if svc == "rag":
        await _create_vector_extension(url)
    await upgrade_to_head_async(url, Path("services", svc, "migrations"))
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:

            def differences(sync: sa.Connection) -> list[object]:
                context = MigrationContext.configure(
                    sync, opts={"compare_type": True, "compare_server_default": True}
                )
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Did not recognize type 'vector'")
                    found: list[object] = compare_metadata(context, _declared(svc))
                return [d for d in found if not _is_alembic_version(d) and not _may_omit(d)]

            found = await connection.run_sync(differences)
            assert found == []
    finally:
        await engine.dispose()


def _may_omit(difference: object) -> bool:
    if not isinstance(difference, tuple):
        return False
    kind = difference[0]
    if kind in ("remove_index", "remove_constraint"):
        return True
    return kind == "remove_column" and isinstance(difference[3].type, sa.types.NullType)


def _is_alembic_version(difference: object) -> bool:
    return isinstance(difference, tuple) and "alembic_version" in repr(difference)


async def _create_vector_extension(url: str) -> None:
    """The stack creates pgvector in rag's database before its migrations run; so does this."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    finally:
        await connection.close()
