"""Writing one reply: the agent's model through its endpoint, guarded by the endpoint's circuit
breaker, with the offline provider as the default (no endpoint) and the fallback (endpoint
failing or its circuit open)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inbetwin.rag.v1 import search_pb2

from services.llm.context import citation_of
from services.llm.drafts import Draft, Observer
from services.llm.model_loop import Caps, ModelError, Sampling, ToolRunner, run_model_loop
from services.llm.models import ModelRegistry
from services.llm.offline import OfflineThresholds, answer_offline
from services.llm.profiles import AgentProfile
from services.llm.settings import LlmSettings

log = logging.getLogger("inbetwin.llm.generation")


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    profile: AgentProfile
    messages: list[dict[str, Any]]
    question: str
    hits: Sequence[search_pb2.SearchHit]
    runner: ToolRunner
    stream: bool
    call_prefix: str
    model_override: str = ""


class ReplyGenerator:
    def __init__(self, registry: ModelRegistry, settings: LlmSettings) -> None:
        self._registry = registry
        self._settings = settings
        self._caps = Caps(
            max_steps=settings.max_steps,
            max_tool_calls=settings.max_tool_calls,
            max_reply_tokens=settings.max_reply_tokens,
        )
        self._thresholds = OfflineThresholds(
            qa_min_score=settings.offline_qa_min_score,
            passage_min_score=settings.offline_passage_min_score,
            passage_min_overlap=settings.offline_passage_min_overlap,
        )

    def offline(self, request: ReplyRequest, *, fallback: bool) -> Draft:
        return answer_offline(request.question, request.hits, self._thresholds, fallback=fallback)

    async def generate(self, request: ReplyRequest, observer: Observer) -> Draft:
        """A finished draft. Raises ModelError only when the endpoint fails and the offline
        fallback is switched off."""
        endpoint = self._registry.resolve(request.model_override or request.profile.model)
        if endpoint is None:
            return self.offline(request, fallback=False)
        breaker = self._registry.breaker(endpoint)
        if not breaker.allow():
            log.warning("model circuit open; answering offline", extra={"model": endpoint.id})
            if self._settings.offline_fallback:
                return self.offline(request, fallback=True)
            raise ModelError("MODEL_UNAVAILABLE", "the model endpoint is failing", retryable=True)
        profile = request.profile
        sampling = Sampling(
            temperature=(
                profile.temperature
                if profile.temperature is not None
                else self._settings.default_temperature
            ),
            top_p=profile.top_p,
            max_output_tokens=profile.max_output_tokens or self._settings.default_max_output_tokens,
        )
        try:
            draft = await run_model_loop(
                client=self._registry.client(endpoint),
                model=endpoint.id,
                messages=request.messages,
                tools=profile.openai_tools() if endpoint.supports_tools else [],
                runner=request.runner,
                caps=self._caps,
                sampling=sampling,
                observer=observer,
                stream=request.stream,
                call_prefix=request.call_prefix,
            )
        except ModelError as error:
            breaker.record_failure()
            log.warning(
                "model failed",
                extra={"model": endpoint.id, "reason": error.reason, "error": str(error)},
            )
            if not self._settings.offline_fallback:
                raise
            return self.offline(request, fallback=True)
        breaker.record_success()
        draft.citations = [citation_of(hit) for hit in request.hits]
        return draft
