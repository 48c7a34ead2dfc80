"""Rows to contract messages."""

from __future__ import annotations

from typing import Any

from inbetwin.rag.v1 import document_pb2, knowledge_base_pb2, qa_pair_pb2
from sqlalchemy.engine import Row


def knowledge_base(row: Row[Any]) -> knowledge_base_pb2.KnowledgeBase:
    message = knowledge_base_pb2.KnowledgeBase(
        id=str(row.id),
        display_name=row.display_name,
        description=row.description,
        agent_id=str(row.agent_id) if row.agent_id else "",
        embedding_model=row.embedding_model,
        size_bytes=int(row.size_bytes),
        document_count=int(row.document_count),
        qa_pair_count=int(row.qa_pair_count),
    )
    message.create_time.FromDatetime(row.created_at)
    message.update_time.FromDatetime(row.updated_at)
    return message


def document(row: Row[Any]) -> document_pb2.Document:
    message = document_pb2.Document(
        id=str(row.id),
        knowledge_base_id=str(row.knowledge_base_id),
        file_name=row.file_name,
        content_type=row.content_type,
        size_bytes=int(row.size_bytes),
        sha256=row.sha256,
        status=row.status,
        failure_reason=row.failure_reason,
        failure_message=row.failure_message,
        progress=document_pb2.IndexingProgress(
            chunks_done=row.chunks_done, chunks_total=row.chunks_total
        ),
        chunk_count=row.chunk_count,
        embedding_model=row.embedding_model,
    )
    message.create_time.FromDatetime(row.created_at)
    message.update_time.FromDatetime(row.updated_at)
    if row.index_time is not None:
        message.index_time.FromDatetime(row.index_time)
    return message


def qa_pair(row: Row[Any]) -> qa_pair_pb2.QaPair:
    message = qa_pair_pb2.QaPair(
        id=str(row.id),
        knowledge_base_id=str(row.knowledge_base_id),
        question=row.question,
        answer=row.answer,
    )
    message.create_time.FromDatetime(row.created_at)
    message.update_time.FromDatetime(row.updated_at)
    return message
