"""The outgoing-reply safety check: the provider's moderation endpoint when configured and
reachable, the offline classifier otherwise (and always for leaked secrets)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import openai

from services.llm.guardrails import safety_offline

log = logging.getLogger("inbetwin.llm.safety")


@dataclass(frozen=True, slots=True)
class SafetyVerdict:
    flagged: bool
    categories: tuple[str, ...]
    checker: str  # "moderation" or "offline"


class SafetyChecker:
    def __init__(self, client: openai.AsyncOpenAI | None, *, model: str) -> None:
        self._client = client
        self._model = model

    async def check(self, text: str) -> SafetyVerdict:
        if not text.strip():
            return SafetyVerdict(False, (), "offline")
        offline = safety_offline.classify(text)
        # Secrets are never the moderation endpoint's business: always checked locally.
        secrets = ("secrets",) if "secrets" in offline else ()
        if self._client is not None:
            try:
                result = await self._client.moderations.create(input=text, model=self._model)
            except openai.OpenAIError as error:
                log.warning(
                    "moderation endpoint failed; using the offline classifier",
                    extra={"error": repr(error)[:300]},
                )
            else:
                categories: list[str] = []
                flagged = False
                for item in result.results:
                    flagged = flagged or bool(item.flagged)
                    for name, hit in item.categories.model_dump(by_alias=True).items():
                        if hit and name not in categories:
                            categories.append(name)
                categories.extend(secrets)
                return SafetyVerdict(flagged or bool(secrets), tuple(categories), "moderation")
        return SafetyVerdict(bool(offline), tuple(offline), "offline")
