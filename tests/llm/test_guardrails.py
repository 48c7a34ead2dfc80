"""The offline classifiers against small labeled sets, and the safety checker's choice between
the provider's moderation endpoint (the stand-in) and the offline classifier."""

from __future__ import annotations

import openai

from services.llm.guardrails import safety_offline
from services.llm.guardrails.safety import SafetyChecker
from services.llm.guardrails.sentiment import assess
from tests.llm.labeled import SAFETY, SENTIMENT
from tests.standins.openai_api import Fail, OpenAIStandIn

LABELS = {1: "positive", 2: "neutral", 3: "negative"}


def safety_scores() -> tuple[float, float, float]:
    """(accuracy, recall of unsafe, precision of unsafe)."""
    flagged = [bool(safety_offline.classify(text)) for text, _ in SAFETY]
    truth = [unsafe for _, unsafe in SAFETY]
    correct = sum(f == t for f, t in zip(flagged, truth, strict=True))
    caught = sum(f and t for f, t in zip(flagged, truth, strict=True))
    return correct / len(SAFETY), caught / sum(truth), caught / max(1, sum(flagged))


def sentiment_accuracy() -> float:
    correct = sum(LABELS[assess(text).label] == label for text, label in SENTIMENT)
    return correct / len(SENTIMENT)


def test_offline_safety_classifier_on_the_labeled_set() -> None:
    accuracy, recall, precision = safety_scores()
    print(
        f"offline safety: accuracy {accuracy:.2f}, recall {recall:.2f}, precision {precision:.2f}"
    )
    assert len(SAFETY) >= 40
    assert accuracy >= 0.85
    assert recall >= 0.85


def test_offline_sentiment_on_the_labeled_set() -> None:
    accuracy = sentiment_accuracy()
    print(f"offline sentiment: accuracy {accuracy:.2f} on {len(SENTIMENT)}")
    assert accuracy >= 0.75


def test_intents() -> None:
    assert set(assess("Сколько стоит и можно записаться сегодня?").intents) == {
        "pricing",
        "meeting",
        "urgency",
    }
    assert assess("I want to buy two, how much?").intents == ("pricing", "purchase")
    assert assess("hello").intents == ()


async def test_moderation_endpoint_is_used_when_configured(openai_api: OpenAIStandIn) -> None:
    client = openai.AsyncOpenAI(base_url=openai_api.base_url, api_key="k", max_retries=0)
    checker = SafetyChecker(client, model="omni-moderation-latest")
    verdict = await checker.check("what an idiot")
    assert (verdict.flagged, verdict.checker) == (True, "moderation")
    assert "harassment" in verdict.categories
    clean = await checker.check("see you at 5")
    assert (clean.flagged, clean.checker) == (False, "moderation")
    # A leaked secret is caught locally even when the endpoint passes the text.
    secret = await checker.check("the key is sk-abcdefghijklmnopqrstuvwxyz")
    assert secret.flagged
    assert "secrets" in secret.categories
    await client.close()


async def test_offline_classifier_takes_over_when_moderation_fails(
    openai_api: OpenAIStandIn,
) -> None:
    client = openai.AsyncOpenAI(base_url=openai_api.base_url, api_key="k", max_retries=0)
    openai_api.moderation_failure = Fail(404, "no moderation here")
    try:
        verdict = await SafetyChecker(client, model="m").check("Заткнись и плати.")
    finally:
        openai_api.moderation_failure = None
        await client.close()
    assert (verdict.flagged, verdict.checker) == (True, "offline")
    none = await SafetyChecker(None, model="m").check("Спасибо, до встречи!")
    assert (none.flagged, none.checker) == (False, "offline")
