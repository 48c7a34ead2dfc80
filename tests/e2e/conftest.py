"""One platform for the end-to-end journeys (REST and native gRPC): all six services and Envoy,
social pointed at the Telegram Bot API stand-in, llm at the OpenAI-compatible stand-in. Tests
that break things (chaos, a killed service) start platforms of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.stack import Stack
from tests.conftest import StartStack
from tests.standins.openai_api import OpenAIStandIn
from tests.standins.telegram import TelegramStandIn


@pytest.fixture(scope="session")
def e2e_telegram() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def e2e_model() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def e2e_platform(
    start_stack: StartStack,
    e2e_telegram: TelegramStandIn,
    e2e_model: OpenAIStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Stack:
    return start_stack(
        extra_env={
            "social": {"INBETWIN_SOCIAL_TELEGRAM_API_BASE": e2e_telegram.base_url},
            "llm": {
                "INBETWIN_LLM_MODEL_BASE_URL": e2e_model.base_url,
                "INBETWIN_LLM_COALESCE_WINDOW_SECONDS": "0.2",
            },
            "rag": {"INBETWIN_RAG_STORAGE_DIR": str(tmp_path_factory.mktemp("e2e-objects"))},
        }
    )
