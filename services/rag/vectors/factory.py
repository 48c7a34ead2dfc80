"""The vector store the settings name."""

from __future__ import annotations

from services.kit.db import create_engine
from services.rag.settings import RagSettings
from services.rag.vectors.base import VectorStore
from services.rag.vectors.pgvector import PgVectorStore
from services.rag.vectors.pinecone import PineconeStore


def create_vector_store(settings: RagSettings) -> VectorStore:
    if settings.vector_store == "pinecone":
        return PineconeStore(api_key=settings.pinecone_api_key, host=settings.pinecone_index_host)
    # Its own small pool: its connections carry the HNSW session settings.
    return PgVectorStore(
        create_engine(settings.database_url, pool_size=5), ef_search=settings.hnsw_ef_search
    )
