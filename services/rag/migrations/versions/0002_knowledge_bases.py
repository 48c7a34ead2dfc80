"""rag: knowledge bases, documents, chunks (full-text), Q&A pairs, pgvector embeddings.

Revision ID: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The local default model's dimension gets its HNSW index here; other dimensions get theirs
# from the pgvector store when a model of that size is first configured.
DEFAULT_DIMS = 384

# `tsv` is written by the service from text it lower-cased itself: a cluster initialised with
# the C locale does not lower-case Cyrillic, and Russian stemming needs lower case.

UPGRADE = [
    "CREATE EXTENSION IF NOT EXISTS vector",
    """
    CREATE TABLE knowledge_bases (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        display_name text NOT NULL,
        description text NOT NULL DEFAULT '',
        agent_id uuid,
        embedding_model text NOT NULL,
        request_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX knowledge_bases_owner ON knowledge_bases (owner_id, created_at DESC, id DESC)",
    """CREATE UNIQUE INDEX knowledge_bases_request ON knowledge_bases (owner_id, request_id)
       WHERE request_id IS NOT NULL""",
    """
    CREATE TABLE documents (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
        file_name text NOT NULL,
        content_type text NOT NULL,
        client_content_type text NOT NULL DEFAULT '',
        size_bytes bigint NOT NULL,
        sha256 text NOT NULL,
        storage_key text NOT NULL,
        status smallint NOT NULL,
        failure_reason smallint NOT NULL DEFAULT 0,
        failure_message text NOT NULL DEFAULT '',
        chunks_done integer NOT NULL DEFAULT 0,
        chunks_total integer NOT NULL DEFAULT 0,
        chunk_count integer NOT NULL DEFAULT 0,
        embedding_model text NOT NULL DEFAULT '',
        revision bigint NOT NULL DEFAULT 1,
        live_revision bigint,
        uploaded_at timestamptz NOT NULL,
        index_time timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (knowledge_base_id, file_name)
    )
    """,
    "CREATE INDEX documents_list ON documents (knowledge_base_id, uploaded_at DESC, id DESC)",
    "CREATE INDEX documents_owner ON documents (owner_id)",
    """
    CREATE TABLE chunks (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        knowledge_base_id uuid NOT NULL,
        document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        revision bigint NOT NULL,
        chunk_index integer NOT NULL,
        text text NOT NULL,
        heading text NOT NULL DEFAULT '',
        char_start integer NOT NULL,
        char_end integer NOT NULL,
        page_number integer NOT NULL DEFAULT 0,
        language regconfig NOT NULL,
        tsv tsvector NOT NULL
    )
    """,
    "CREATE INDEX chunks_document ON chunks (document_id, revision)",
    "CREATE INDEX chunks_owner_kb ON chunks (owner_id, knowledge_base_id)",
    "CREATE INDEX chunks_tsv ON chunks USING gin (tsv)",
    """
    CREATE TABLE qa_pairs (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
        question text NOT NULL,
        question_norm text NOT NULL,
        answer text NOT NULL,
        language regconfig NOT NULL,
        tsv tsvector NOT NULL,
        embedding_model text NOT NULL,
        request_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (knowledge_base_id, question_norm)
    )
    """,
    "CREATE INDEX qa_pairs_list ON qa_pairs (knowledge_base_id, created_at DESC, id DESC)",
    "CREATE INDEX qa_pairs_owner_norm ON qa_pairs (owner_id, question_norm)",
    "CREATE INDEX qa_pairs_tsv ON qa_pairs USING gin (tsv)",
    """CREATE UNIQUE INDEX qa_pairs_request ON qa_pairs (owner_id, request_id)
       WHERE request_id IS NOT NULL""",
    """
    CREATE TABLE embeddings (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        knowledge_base_id uuid NOT NULL,
        source_id uuid NOT NULL,
        kind text NOT NULL,
        model text NOT NULL,
        dims integer NOT NULL,
        embedding vector NOT NULL
    )
    """,
    "CREATE INDEX embeddings_source ON embeddings (source_id)",
    "CREATE INDEX embeddings_owner_model ON embeddings (owner_id, model, knowledge_base_id)",
    f"""CREATE INDEX embeddings_hnsw_{DEFAULT_DIMS} ON embeddings
       USING hnsw ((embedding::vector({DEFAULT_DIMS})) vector_cosine_ops)
       WHERE dims = {DEFAULT_DIMS}""",
]

DOWNGRADE = [
    "DROP TABLE embeddings",
    "DROP TABLE qa_pairs",
    "DROP TABLE chunks",
    "DROP TABLE documents",
    "DROP TABLE knowledge_bases",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
