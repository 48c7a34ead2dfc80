"""The chat models this deployment serves: one `AsyncOpenAI` client and one circuit breaker per
endpoint, and the ListModels view of them (the offline provider always included)."""

from __future__ import annotations

import logging

import openai
from inbetwin.llm.v1 import chat_pb2, model_pb2

from services.llm.breaker import CircuitBreaker
from services.llm.settings import OFFLINE_MODEL, LlmSettings, ModelEndpoint

log = logging.getLogger("inbetwin.llm.models")


class ModelRegistry:
    def __init__(self, settings: LlmSettings) -> None:
        self._settings = settings
        self._endpoints = {endpoint.id: endpoint for endpoint in settings.endpoints()}
        self._clients: dict[tuple[str, str], openai.AsyncOpenAI] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self.default_model = settings.default_model if self._endpoints else OFFLINE_MODEL

    def knows(self, model: str) -> bool:
        return model == OFFLINE_MODEL or model in self._endpoints

    def resolve(self, model: str) -> ModelEndpoint | None:
        """The endpoint for an agent's model (empty: the default); None means offline. A model
        this deployment does not serve falls back to the default, logged."""
        name = model or self.default_model
        if name == OFFLINE_MODEL:
            return None
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            log.warning("model not configured; using the default", extra={"model": name})
            return self._endpoints.get(self.default_model)
        return endpoint

    def client(self, endpoint: ModelEndpoint) -> openai.AsyncOpenAI:
        key = (endpoint.base_url, endpoint.api_key)
        if key not in self._clients:
            self._clients[key] = openai.AsyncOpenAI(
                base_url=endpoint.base_url,
                api_key=endpoint.api_key or "unused",
                timeout=self._settings.model_timeout_seconds,
                max_retries=self._settings.model_max_retries,
            )
        return self._clients[key]

    def breaker(self, endpoint: ModelEndpoint) -> CircuitBreaker:
        if endpoint.base_url not in self._breakers:
            self._breakers[endpoint.base_url] = CircuitBreaker(
                threshold=self._settings.breaker_failure_threshold,
                open_seconds=self._settings.breaker_open_seconds,
            )
        return self._breakers[endpoint.base_url]

    def moderation_client(self) -> openai.AsyncOpenAI | None:
        if not self._settings.moderation_enabled:
            return None
        endpoint = self._endpoints.get(self._settings.default_model)
        return self.client(endpoint) if endpoint is not None else None

    def models(self) -> list[model_pb2.Model]:
        """Every model, the default first, then by id."""
        found = [
            model_pb2.Model(
                id=endpoint.id,
                display_name=endpoint.display_name or endpoint.id,
                provider=chat_pb2.PROVIDER_OPENAI_COMPATIBLE,
                is_default=endpoint.id == self.default_model,
                supports_tools=endpoint.supports_tools,
                context_window_tokens=endpoint.context_window_tokens,
            )
            for endpoint in self._endpoints.values()
        ]
        found.append(
            model_pb2.Model(
                id=OFFLINE_MODEL,
                display_name="Offline (Q&A pairs and knowledge base only)",
                provider=chat_pb2.PROVIDER_OFFLINE,
                is_default=self.default_model == OFFLINE_MODEL,
                supports_tools=False,
            )
        )
        return sorted(found, key=lambda m: (not m.is_default, m.id))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
