"""rag's tables (its own database). Migration 0002 creates them; keep the two in step.

The `embedding` vector column is left out here: the pgvector store writes and reads it in SQL.
`tsv` is written from text lower-cased by the service (see `language.py`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR, UUID

metadata = sa.MetaData()

_uuid = UUID(as_uuid=False)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


knowledge_bases = sa.Table(
    "knowledge_bases",
    metadata,
    sa.Column("id", _uuid, primary_key=True),
    sa.Column("owner_id", _uuid, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("agent_id", _uuid, nullable=True),
    sa.Column("embedding_model", sa.Text, nullable=False),
    sa.Column("request_id", _uuid, nullable=True),
    *_timestamps(),
)

# A document's `revision` grows with every upload and re-index; its chunks carry the revision
# that made them, and only the `live_revision`'s chunks are searched.
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", _uuid, primary_key=True),
    sa.Column("owner_id", _uuid, nullable=False),
    sa.Column(
        "knowledge_base_id",
        _uuid,
        sa.ForeignKey("knowledge_bases.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("client_content_type", sa.Text, nullable=False, server_default=""),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("storage_key", sa.Text, nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("failure_reason", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("failure_message", sa.Text, nullable=False, server_default=""),
    sa.Column("chunks_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("chunks_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("embedding_model", sa.Text, nullable=False, server_default=""),
    sa.Column("revision", sa.BigInteger, nullable=False, server_default="1"),
    sa.Column("live_revision", sa.BigInteger, nullable=True),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("index_time", sa.DateTime(timezone=True), nullable=True),
    *_timestamps(),
)

chunks = sa.Table(
    "chunks",
    metadata,
    sa.Column("id", _uuid, primary_key=True),
    sa.Column("owner_id", _uuid, nullable=False),
    sa.Column("knowledge_base_id", _uuid, nullable=False),
    sa.Column(
        "document_id", _uuid, sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("chunk_index", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("heading", sa.Text, nullable=False, server_default=""),
    sa.Column("char_start", sa.Integer, nullable=False),
    sa.Column("char_end", sa.Integer, nullable=False),
    sa.Column("page_number", sa.Integer, nullable=False, server_default="0"),
    sa.Column("language", REGCONFIG, nullable=False),
    sa.Column("tsv", TSVECTOR, nullable=False),
)

qa_pairs = sa.Table(
    "qa_pairs",
    metadata,
    sa.Column("id", _uuid, primary_key=True),
    sa.Column("owner_id", _uuid, nullable=False),
    sa.Column(
        "knowledge_base_id",
        _uuid,
        sa.ForeignKey("knowledge_bases.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("question_norm", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("language", REGCONFIG, nullable=False),
    sa.Column("tsv", TSVECTOR, nullable=False),
    sa.Column("embedding_model", sa.Text, nullable=False),
    sa.Column("request_id", _uuid, nullable=True),
    *_timestamps(),
)

# pgvector's store. `embedding` has no fixed dimension so that any model fits; each dimension
# in use gets its own partial HNSW index over `embedding::vector(dims)`.
embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("id", _uuid, primary_key=True),
    sa.Column("owner_id", _uuid, nullable=False),
    sa.Column("knowledge_base_id", _uuid, nullable=False),
    sa.Column("source_id", _uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("dims", sa.Integer, nullable=False),
)


def without_tsv(table: sa.Table) -> list[sa.Column[Any]]:
    """A table's columns for reading rows back: all but the bulky `tsv`."""
    return [column for column in table.c if column.name != "tsv"]
