"""llm's settings (env prefix INBETWIN_LLM_)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings

OFFLINE_MODEL = "offline"


class ModelEndpoint(BaseModel):
    """One chat model and the OpenAI-compatible endpoint that serves it."""

    model_config = {"frozen": True}

    id: str
    base_url: str
    api_key: str = "unused"
    display_name: str = ""
    supports_tools: bool = True
    context_window_tokens: int = 0


class LlmSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_LLM_", extra="ignore", frozen=True)

    # Peers (the stack sets them); empty means the peer is not deployed and its step degrades.
    agent_addr: str = ""
    rag_addr: str = ""
    social_addr: str = ""
    auth_addr: str = ""
    peer_timeout_seconds: float = Field(default=5.0, gt=0)

    # The deployment's model endpoint. Empty base URL: no endpoint, the offline provider answers.
    model_base_url: str = ""
    model_api_key: SecretStr = SecretStr("unused")
    default_model: str = "gpt-4o-mini"
    # More models, each with its own endpoint: a JSON list of ModelEndpoint objects.
    extra_models: str = "[]"
    model_timeout_seconds: float = Field(default=30.0, gt=0)
    model_max_retries: int = Field(default=2, ge=0, le=10)
    # The provider's moderation endpoint checks outgoing replies when true and an endpoint is set.
    moderation_enabled: bool = True
    moderation_model: str = "omni-moderation-latest"

    # Fallback to the offline provider: after this many consecutive endpoint failures the
    # circuit opens and the endpoint is not tried for `breaker_open_seconds`.
    offline_fallback: bool = True
    breaker_failure_threshold: int = Field(default=3, ge=1)
    breaker_open_seconds: float = Field(default=30.0, gt=0)
    # Offline provider confidence: a Q&A pair at or above this score (or an exact match), or a
    # passage at or above `offline_passage_min_score` that covers most of the question's words.
    offline_qa_min_score: float = Field(default=0.8, ge=0, le=1)
    offline_passage_min_score: float = Field(default=0.75, ge=0, le=1)
    offline_passage_min_overlap: float = Field(default=0.6, ge=0, le=1)

    # Every reply makes a handful of small queries on a pool that is in constant use; a
    # restarted Postgres fails one delivery per stale connection, which the bus retries.
    database_pool_pre_ping: bool = False

    # Reply pipeline.
    coalesce_window_seconds: float = Field(default=1.5, ge=0)
    # A burst is answered at the latest this long after its first message, however chatty the
    # contact (each new message would otherwise push the answer back by another window), and
    # a reply to a burst that long is not superseded: newer messages start the next burst.
    max_burst_seconds: float = Field(default=10.0, gt=0)
    consumer_ack_wait_seconds: float = Field(default=60.0, gt=0)
    consumer_concurrency: int = Field(default=64, ge=1)
    # nats-py's fetch, when nothing is waiting, holds its pull request open until the batch is
    # full or the fetch times out (1 s): at a few messages a second every message waited up to
    # a second. One message per fetch returns as soon as one arrives (~0.2 ms per fetch).
    consumer_batch: int = Field(default=1, ge=1, le=256)
    history_messages: int = Field(default=20, ge=0, le=100)
    kb_top_k: int = Field(default=4, ge=0, le=50)
    max_steps: int = Field(default=4, ge=1)
    max_tool_calls: int = Field(default=6, ge=0)
    max_reply_tokens: int = Field(default=8000, ge=1)
    default_max_output_tokens: int = Field(default=1024, ge=1)
    default_temperature: float = Field(default=0.7, ge=0, le=2)
    max_reply_parts: int = Field(default=3, ge=1)
    # Agents, toolsets and conversation control are cached in-process and dropped by the bus
    # events that change them (services/llm/invalidation.py); these only bound a missed event.
    agent_cache_seconds: float = Field(default=30.0, ge=0)
    control_cache_seconds: float = Field(default=30.0, ge=0)
    # Whether an agent has a knowledge base to search; dropped when a document is indexed, but
    # new knowledge bases and Q&A pairs have no event: they are seen within this time.
    knowledge_cache_seconds: float = Field(default=10.0, ge=0)
    entitlements_cache_seconds: float = Field(default=10.0, ge=0)
    playground_chats_per_minute: int = Field(default=20, ge=1)

    @field_validator("model_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    def endpoints(self) -> list[ModelEndpoint]:
        """Every configured model with its endpoint, the default first."""
        found: list[ModelEndpoint] = []
        if self.model_base_url:
            found.append(
                ModelEndpoint(
                    id=self.default_model,
                    base_url=self.model_base_url,
                    api_key=self.model_api_key.get_secret_value(),
                )
            )
        raw: Any = json.loads(self.extra_models or "[]")
        for item in raw if isinstance(raw, list) else []:
            endpoint = ModelEndpoint.model_validate(item)
            if all(e.id != endpoint.id for e in found):
                found.append(endpoint)
        return found
