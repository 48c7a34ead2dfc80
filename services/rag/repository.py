"""rag's SQL for knowledge bases, documents and Q&A pairs: keyword-only functions over a
connection, returning rows or None. Every read and write names the owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from inbetwin.rag.v1 import document_pb2
from sqlalchemy.dialects.postgresql import REGCONFIG, insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.rag.pagination import Cursor
from services.rag.tables import chunks, documents, knowledge_bases, qa_pairs, without_tsv

PENDING = document_pb2.DOCUMENT_STATUS_PENDING
INDEXING = document_pb2.DOCUMENT_STATUS_INDEXING
READY = document_pb2.DOCUMENT_STATUS_READY
FAILED = document_pb2.DOCUMENT_STATUS_FAILED

QA_COLUMNS = without_tsv(qa_pairs)

_qa_bytes = sa.func.octet_length(qa_pairs.c.question) + sa.func.octet_length(qa_pairs.c.answer)


async def lock_owner(conn: AsyncConnection, *, owner_id: str) -> None:
    """Serialise an owner's quota-checked writes until the transaction ends."""
    await conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"rag-owner:{owner_id}"},
    )


async def owner_usage_bytes(conn: AsyncConnection, *, owner_id: str) -> int:
    documents_bytes = sa.select(sa.func.coalesce(sa.func.sum(documents.c.size_bytes), 0)).where(
        documents.c.owner_id == owner_id
    )
    qa_bytes = sa.select(sa.func.coalesce(sa.func.sum(_qa_bytes), 0)).where(
        qa_pairs.c.owner_id == owner_id
    )
    row = (
        await conn.execute(sa.select(documents_bytes.scalar_subquery(), qa_bytes.scalar_subquery()))
    ).one()
    return int(row[0]) + int(row[1])


# ---- knowledge bases ---------------------------------------------------------------------


def _knowledge_base_select() -> sa.Select[Any]:
    kb = knowledge_bases.c
    doc_bytes = (
        sa.select(sa.func.coalesce(sa.func.sum(documents.c.size_bytes), 0))
        .where(documents.c.knowledge_base_id == kb.id)
        .scalar_subquery()
    )
    doc_count = (
        sa.select(sa.func.count()).where(documents.c.knowledge_base_id == kb.id).scalar_subquery()
    )
    qa_bytes = (
        sa.select(sa.func.coalesce(sa.func.sum(_qa_bytes), 0))
        .where(qa_pairs.c.knowledge_base_id == kb.id)
        .scalar_subquery()
    )
    qa_count = (
        sa.select(sa.func.count()).where(qa_pairs.c.knowledge_base_id == kb.id).scalar_subquery()
    )
    return sa.select(
        knowledge_bases,
        (doc_bytes + qa_bytes).label("size_bytes"),
        doc_count.label("document_count"),
        qa_count.label("qa_pair_count"),
    )


async def knowledge_base(
    conn: AsyncConnection, *, owner_id: str, knowledge_base_id: str
) -> Row[Any] | None:
    row: Row[Any] | None = (
        await conn.execute(
            _knowledge_base_select().where(
                knowledge_bases.c.owner_id == owner_id, knowledge_bases.c.id == knowledge_base_id
            )
        )
    ).first()
    return row


async def knowledge_base_exists(
    conn: AsyncConnection, *, owner_id: str, knowledge_base_id: str, lock: bool = False
) -> bool:
    statement = sa.select(knowledge_bases.c.id).where(
        knowledge_bases.c.owner_id == owner_id, knowledge_bases.c.id == knowledge_base_id
    )
    if lock:
        statement = statement.with_for_update()
    return (await conn.execute(statement)).first() is not None


async def knowledge_base_by_request(
    conn: AsyncConnection, *, owner_id: str, request_id: str
) -> Row[Any] | None:
    row: Row[Any] | None = (
        await conn.execute(
            _knowledge_base_select().where(
                knowledge_bases.c.owner_id == owner_id,
                knowledge_bases.c.request_id == request_id,
            )
        )
    ).first()
    return row


async def count_knowledge_bases(conn: AsyncConnection, *, owner_id: str) -> int:
    return int(
        (
            await conn.execute(
                sa.select(sa.func.count()).where(knowledge_bases.c.owner_id == owner_id)
            )
        ).scalar_one()
    )


async def insert_knowledge_base(
    conn: AsyncConnection,
    *,
    owner_id: str,
    display_name: str,
    description: str,
    agent_id: str | None,
    embedding_model: str,
    request_id: str | None,
) -> str:
    knowledge_base_id = str(uuid.uuid4())
    await conn.execute(
        sa.insert(knowledge_bases).values(
            id=knowledge_base_id,
            owner_id=owner_id,
            display_name=display_name,
            description=description,
            agent_id=agent_id,
            embedding_model=embedding_model,
            request_id=request_id,
        )
    )
    return knowledge_base_id


def _visible_to_agent(agent_id: str) -> sa.ColumnElement[bool]:
    """Knowledge bases scoped to this agent or shared with every agent of the owner."""
    return sa.or_(knowledge_bases.c.agent_id.is_(None), knowledge_bases.c.agent_id == agent_id)


async def list_knowledge_bases(
    conn: AsyncConnection, *, owner_id: str, agent_id: str, after: Cursor | None, limit: int
) -> Sequence[Row[Any]]:
    """A page of the owner's knowledge bases; with `agent_id`, only those that agent may search."""
    statement = _knowledge_base_select().where(knowledge_bases.c.owner_id == owner_id)
    if agent_id:
        statement = statement.where(_visible_to_agent(agent_id))
    if after is not None:
        statement = statement.where(
            sa.tuple_(knowledge_bases.c.created_at, knowledge_bases.c.id)
            < sa.tuple_(sa.literal(after.time), sa.cast(after.id, knowledge_bases.c.id.type))
        )
    statement = statement.order_by(
        knowledge_bases.c.created_at.desc(), knowledge_bases.c.id.desc()
    ).limit(limit)
    rows: Sequence[Row[Any]] = (await conn.execute(statement)).all()
    return rows


async def update_knowledge_base(
    conn: AsyncConnection, *, owner_id: str, knowledge_base_id: str, values: dict[str, Any]
) -> bool:
    result = await conn.execute(
        sa.update(knowledge_bases)
        .where(knowledge_bases.c.owner_id == owner_id, knowledge_bases.c.id == knowledge_base_id)
        .values(**values, updated_at=sa.func.now())
    )
    return bool(result.rowcount)


async def touch_knowledge_base(conn: AsyncConnection, *, knowledge_base_id: str) -> None:
    await conn.execute(
        sa.update(knowledge_bases)
        .where(knowledge_bases.c.id == knowledge_base_id)
        .values(updated_at=sa.func.now())
    )


async def delete_knowledge_base(
    conn: AsyncConnection, *, owner_id: str, knowledge_base_id: str
) -> list[str]:
    """Delete it (its documents, chunks and Q&A pairs cascade); the originals' storage keys."""
    keys = (
        await conn.execute(
            sa.select(documents.c.storage_key).where(
                documents.c.owner_id == owner_id,
                documents.c.knowledge_base_id == knowledge_base_id,
            )
        )
    ).scalars()
    stored = list(keys)
    await conn.execute(
        sa.delete(knowledge_bases).where(
            knowledge_bases.c.owner_id == owner_id, knowledge_bases.c.id == knowledge_base_id
        )
    )
    return stored


async def knowledge_bases_with_model_other_than(
    conn: AsyncConnection, *, model: str
) -> Sequence[Row[Any]]:
    return (
        await conn.execute(
            sa.select(knowledge_bases).where(knowledge_bases.c.embedding_model != model)
        )
    ).all()


async def settle_knowledge_base_model(
    conn: AsyncConnection, *, knowledge_base_id: str, model: str
) -> bool:
    """Set the knowledge base's model once nothing in it is embedded with another one."""
    stale_documents = sa.select(documents.c.id).where(
        documents.c.knowledge_base_id == knowledge_base_id,
        documents.c.live_revision.is_not(None),
        documents.c.embedding_model != model,
    )
    pending_documents = sa.select(documents.c.id).where(
        documents.c.knowledge_base_id == knowledge_base_id,
        documents.c.status.in_((PENDING, INDEXING)),
    )
    stale_pairs = sa.select(qa_pairs.c.id).where(
        qa_pairs.c.knowledge_base_id == knowledge_base_id, qa_pairs.c.embedding_model != model
    )
    result = await conn.execute(
        sa.update(knowledge_bases)
        .where(
            knowledge_bases.c.id == knowledge_base_id,
            knowledge_bases.c.embedding_model != model,
            ~sa.exists(stale_documents),
            ~sa.exists(pending_documents),
            ~sa.exists(stale_pairs),
        )
        .values(embedding_model=model, updated_at=sa.func.now())
    )
    return bool(result.rowcount)


async def searchable_knowledge_base_ids(
    conn: AsyncConnection, *, owner_id: str, requested: Sequence[str], agent_id: str
) -> tuple[list[str], list[str]]:
    """(the owner's knowledge bases to search, requested ids that are not the owner's).

    With `agent_id`, knowledge bases scoped to another agent are left out, requested or not:
    to that agent they do not exist, and an agent still naming one after the owner moved it
    keeps answering from the rest.
    """
    statement = sa.select(knowledge_bases.c.id).where(knowledge_bases.c.owner_id == owner_id)
    if requested:
        statement = statement.where(knowledge_bases.c.id.in_(list(requested)))
    if agent_id:
        statement = statement.where(_visible_to_agent(agent_id))
    found = [str(value) for value in (await conn.execute(statement)).scalars()]
    if not requested:
        return found, []
    owned = set(
        str(value)
        for value in (
            await conn.execute(
                sa.select(knowledge_bases.c.id).where(
                    knowledge_bases.c.owner_id == owner_id,
                    knowledge_bases.c.id.in_(list(requested)),
                )
            )
        ).scalars()
    )
    return found, [kb for kb in requested if kb not in owned]


# ---- documents ---------------------------------------------------------------------------


async def document(
    conn: AsyncConnection, *, owner_id: str, document_id: str, lock: bool = False
) -> Row[Any] | None:
    statement = sa.select(documents).where(
        documents.c.owner_id == owner_id, documents.c.id == document_id
    )
    if lock:
        statement = statement.with_for_update()
    return (await conn.execute(statement)).first()


async def document_by_name(
    conn: AsyncConnection, *, knowledge_base_id: str, file_name: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.select(documents)
            .where(
                documents.c.knowledge_base_id == knowledge_base_id,
                documents.c.file_name == file_name,
            )
            .with_for_update()
        )
    ).first()


async def insert_document(conn: AsyncConnection, **values: Any) -> Row[Any]:
    return (
        await conn.execute(
            insert(documents)
            .values(id=str(uuid.uuid4()), uploaded_at=sa.func.now(), **values)
            .returning(*documents.c)
        )
    ).one()


async def requeue_document(
    conn: AsyncConnection, *, document_id: str, keep_live: bool, **values: Any
) -> Row[Any]:
    """Next revision, PENDING. `keep_live` leaves the current chunks searchable (re-index);
    otherwise they stop being searchable at once (a replaced file)."""
    extra: dict[str, Any] = {} if keep_live else {"live_revision": None, "chunk_count": 0}
    return (
        await conn.execute(
            sa.update(documents)
            .where(documents.c.id == document_id)
            .values(
                revision=documents.c.revision + 1,
                status=PENDING,
                failure_reason=0,
                failure_message="",
                chunks_done=0,
                chunks_total=0,
                updated_at=sa.func.now(),
                **extra,
                **values,
            )
            .returning(*documents.c)
        )
    ).one()


async def list_documents(
    conn: AsyncConnection,
    *,
    owner_id: str,
    knowledge_base_id: str,
    statuses: Sequence[int],
    name_contains: str,
    after: Cursor | None,
    limit: int,
) -> Sequence[Row[Any]]:
    statement = sa.select(documents).where(
        documents.c.owner_id == owner_id, documents.c.knowledge_base_id == knowledge_base_id
    )
    if statuses:
        statement = statement.where(documents.c.status.in_(list(statuses)))
    if name_contains:
        pattern = "%" + name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(documents.c.file_name.ilike(pattern + "%", escape="\\"))
    if after is not None:
        statement = statement.where(
            sa.tuple_(documents.c.uploaded_at, documents.c.id)
            < sa.tuple_(sa.literal(after.time), sa.cast(after.id, documents.c.id.type))
        )
    statement = statement.order_by(documents.c.uploaded_at.desc(), documents.c.id.desc()).limit(
        limit
    )
    return (await conn.execute(statement)).all()


async def delete_document(
    conn: AsyncConnection, *, owner_id: str, document_id: str
) -> Row[Any] | None:
    """Delete it (its chunks cascade); the deleted row, or None."""
    return (
        await conn.execute(
            sa.delete(documents)
            .where(documents.c.owner_id == owner_id, documents.c.id == document_id)
            .returning(*documents.c)
        )
    ).first()


async def chunk_ids(
    conn: AsyncConnection, *, document_id: str, revisions: Sequence[int] | None = None
) -> list[str]:
    statement = sa.select(chunks.c.id).where(chunks.c.document_id == document_id)
    if revisions is not None:
        statement = statement.where(chunks.c.revision.in_(list(revisions)))
    return [str(value) for value in (await conn.execute(statement)).scalars()]


async def delete_chunks(
    conn: AsyncConnection, *, document_id: str, except_revision: int | None = None
) -> list[str]:
    """Delete a document's chunks (all, or all but one revision's); their ids."""
    statement = sa.delete(chunks).where(chunks.c.document_id == document_id)
    if except_revision is not None:
        statement = statement.where(chunks.c.revision != except_revision)
    result = await conn.execute(statement.returning(chunks.c.id))
    return [str(value) for value in result.scalars()]


async def documents_to_reembed(conn: AsyncConnection, *, model: str) -> Sequence[Row[Any]]:
    """Searchable documents whose chunks were embedded with another model, not queued yet."""
    return (
        await conn.execute(
            sa.select(documents)
            .where(
                documents.c.live_revision.is_not(None),
                documents.c.embedding_model != model,
                documents.c.status.in_((READY, FAILED)),
            )
            .with_for_update(skip_locked=True)
        )
    ).all()


# ---- Q&A pairs ---------------------------------------------------------------------------


async def qa_pair(
    conn: AsyncConnection, *, owner_id: str, qa_pair_id: str, lock: bool = False
) -> Row[Any] | None:
    statement = sa.select(*QA_COLUMNS).where(
        qa_pairs.c.owner_id == owner_id, qa_pairs.c.id == qa_pair_id
    )
    if lock:
        statement = statement.with_for_update()
    return (await conn.execute(statement)).first()


async def qa_pair_by_request(
    conn: AsyncConnection, *, owner_id: str, request_id: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.select(*QA_COLUMNS).where(
                qa_pairs.c.owner_id == owner_id, qa_pairs.c.request_id == request_id
            )
        )
    ).first()


async def qa_pair_by_question(
    conn: AsyncConnection, *, knowledge_base_id: str, question_norm: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.select(*QA_COLUMNS).where(
                qa_pairs.c.knowledge_base_id == knowledge_base_id,
                qa_pairs.c.question_norm == question_norm,
            )
        )
    ).first()


def tsvector(language: str, weighted: str, rest: str) -> sa.ColumnElement[Any]:
    """`weighted` (a heading, a question) ranks above `rest`; both already lower-cased."""
    config = sa.cast(sa.literal(language), REGCONFIG)
    return sa.func.setweight(sa.func.to_tsvector(config, weighted), sa.literal_column("'A'")).op(
        "||"
    )(sa.func.to_tsvector(config, rest))


async def insert_qa_pair(
    conn: AsyncConnection,
    *,
    qa_pair_id: str,
    owner_id: str,
    knowledge_base_id: str,
    question: str,
    question_norm: str,
    answer: str,
    language: str,
    search_question: str,
    search_answer: str,
    embedding_model: str,
    request_id: str | None,
) -> Row[Any] | None:
    """None when the knowledge base already has the question."""
    return (
        await conn.execute(
            insert(qa_pairs)
            .values(
                id=qa_pair_id,
                owner_id=owner_id,
                knowledge_base_id=knowledge_base_id,
                question=question,
                question_norm=question_norm,
                answer=answer,
                language=language,
                tsv=tsvector(language, search_question, search_answer),
                embedding_model=embedding_model,
                request_id=request_id,
            )
            .on_conflict_do_nothing(index_elements=["knowledge_base_id", "question_norm"])
            .returning(*QA_COLUMNS)
        )
    ).first()


async def update_qa_pair(
    conn: AsyncConnection,
    *,
    qa_pair_id: str,
    question: str,
    question_norm: str,
    answer: str,
    language: str,
    search_question: str,
    search_answer: str,
    embedding_model: str,
) -> Row[Any]:
    return (
        await conn.execute(
            sa.update(qa_pairs)
            .where(qa_pairs.c.id == qa_pair_id)
            .values(
                question=question,
                question_norm=question_norm,
                answer=answer,
                language=language,
                tsv=tsvector(language, search_question, search_answer),
                embedding_model=embedding_model,
                updated_at=sa.func.now(),
            )
            .returning(*QA_COLUMNS)
        )
    ).one()


async def list_qa_pairs(
    conn: AsyncConnection,
    *,
    owner_id: str,
    knowledge_base_id: str,
    query: str,
    after: Cursor | None,
    limit: int,
) -> Sequence[Row[Any]]:
    statement = sa.select(*QA_COLUMNS).where(
        qa_pairs.c.owner_id == owner_id, qa_pairs.c.knowledge_base_id == knowledge_base_id
    )
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            sa.or_(
                qa_pairs.c.question.ilike(pattern, escape="\\"),
                qa_pairs.c.answer.ilike(pattern, escape="\\"),
            )
        )
    if after is not None:
        statement = statement.where(
            sa.tuple_(qa_pairs.c.created_at, qa_pairs.c.id)
            < sa.tuple_(sa.literal(after.time), sa.cast(after.id, qa_pairs.c.id.type))
        )
    statement = statement.order_by(qa_pairs.c.created_at.desc(), qa_pairs.c.id.desc()).limit(limit)
    return (await conn.execute(statement)).all()


async def delete_qa_pair(
    conn: AsyncConnection, *, owner_id: str, qa_pair_id: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.delete(qa_pairs)
            .where(qa_pairs.c.owner_id == owner_id, qa_pairs.c.id == qa_pair_id)
            .returning(*QA_COLUMNS)
        )
    ).first()


async def qa_pairs_with_model_other_than(
    conn: AsyncConnection, *, model: str, limit: int
) -> Sequence[Row[Any]]:
    return (
        await conn.execute(
            sa.select(*QA_COLUMNS)
            .where(qa_pairs.c.embedding_model != model)
            .order_by(qa_pairs.c.id)
            .limit(limit)
        )
    ).all()


async def set_qa_pair_model(
    conn: AsyncConnection, *, qa_pair_id: str, question_norm: str, model: str
) -> bool:
    """Record the new model, unless the question changed meanwhile."""
    result = await conn.execute(
        sa.update(qa_pairs)
        .where(qa_pairs.c.id == qa_pair_id, qa_pairs.c.question_norm == question_norm)
        .values(embedding_model=model)
    )
    return bool(result.rowcount)
