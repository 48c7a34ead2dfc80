"""Pure pieces of the pipeline: reply splitting, the circuit breaker, the offline provider's
confidence rules, agent choice by description."""

from __future__ import annotations

from inbetwin.agent.v1 import agent_pb2
from inbetwin.llm.v1 import chat_pb2

from services.llm.breaker import CircuitBreaker
from services.llm.offline import OfflineThresholds, answer_offline
from services.llm.selection import best_match
from services.llm.splitting import split_reply, units
from tests.llm.fakes import passage_hit, qa_hit

THRESHOLDS = OfflineThresholds(qa_min_score=0.8, passage_min_score=0.75, passage_min_overlap=0.6)


def test_split_prefers_paragraphs_then_sentences() -> None:
    text = "First paragraph. " * 100 + "\n\n" + "Second one here. " * 100
    parts = split_reply(text, 2000, 3)
    assert len(parts) == 2
    assert parts[0].startswith("First")
    assert parts[1].startswith("Second")
    assert all(units(p) <= 2000 for p in parts)
    assert split_reply("short", 4096, 3) == ["short"]
    assert split_reply("   ", 4096, 3) == []
    assert split_reply("x" * 9000, None, 3) == ["x" * 9000]


def test_split_cuts_giant_words_and_trims_with_an_ellipsis() -> None:
    parts = split_reply("y" * 10000, 4096, 2)
    assert len(parts) == 2
    assert all(units(p) <= 4096 for p in parts)
    assert parts[-1].endswith("…")


def test_split_counts_utf16_units_like_telegram() -> None:
    emoji = "😀" * 3000  # 6000 UTF-16 units
    parts = split_reply(emoji, 4096, 3)
    assert all(units(p) <= 4096 for p in parts)
    assert "".join(parts) == emoji


def test_circuit_breaker_opens_half_opens_and_closes() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, open_seconds=30, clock=lambda: now[0])
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    now[0] = 31.0
    assert breaker.state == "half-open"
    assert breaker.allow()  # one trial
    assert not breaker.allow()  # and only one
    breaker.record_failure()
    assert breaker.state == "open"
    now[0] = 62.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.allow()


def test_offline_answers_exact_qa_pairs_and_confident_passages_only() -> None:
    exact = answer_offline(
        "price?", [qa_hit("How much?", "1500", score=0.3, exact=True)], THRESHOLDS
    )
    assert (exact.text, exact.finish) == ("1500", chat_pb2.FINISH_REASON_STOP)
    assert exact.citations[0].question == "How much?"
    weak_qa = answer_offline("price?", [qa_hit("How much?", "1500", score=0.5)], THRESHOLDS)
    assert (weak_qa.text, weak_qa.escalation_reason) == ("", "OFFLINE_NOT_CONFIDENT")
    passage = passage_hit("Parking is free for clients behind the salon.", score=0.8)
    assert answer_offline("Is parking free?", [passage], THRESHOLDS).text == passage.text
    off_topic = answer_offline("Do you sell gift cards?", [passage], THRESHOLDS)
    assert off_topic.finish == chat_pb2.FINISH_REASON_ESCALATED
    assert answer_offline("anything", [], THRESHOLDS).escalation_reason == "OFFLINE_NOT_CONFIDENT"


def test_agent_choice_by_description_then_age() -> None:
    support = agent_pb2.Agent(id="1", description="Complaints, refunds and delivery problems")
    sales = agent_pb2.Agent(id="2", description="Sales: prices of courses and discounts")
    blank = agent_pb2.Agent(id="3")
    assert best_match([support, sales], "What are the prices of your courses?").id == "2"
    assert best_match([support, sales], "My delivery is late, I want a refund").id == "1"
    assert best_match([blank, sales], "hello").id == "3"
