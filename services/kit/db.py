"""Postgres through SQLAlchemy 2 (async, asyncpg) and per-service Alembic migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(database_url: str, *, pool_size: int = 10, pre_ping: bool = True) -> AsyncEngine:
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
    )


def _alembic_config(database_url: str, migrations_dir: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str, migrations_dir: Path) -> None:
    """Apply every migration of one service's database (idempotent)."""
    command.upgrade(_alembic_config(database_url, migrations_dir), "head")


async def upgrade_to_head_async(database_url: str, migrations_dir: Path) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url, migrations_dir)
