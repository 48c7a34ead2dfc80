"""The model's context for one reply: the agent's instructions, what is known about the contact,
the knowledge-base passages (numbered, so the reply can cite them) and the recent conversation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inbetwin.llm.v1 import chat_pb2
from inbetwin.rag.v1 import search_pb2

from services.llm.guardrails.sentiment import Assessment
from services.llm.profiles import TONE_INSTRUCTIONS, AgentProfile

SNIPPET_CHARS = 500
PASSAGE_CHARS = 1500
GROUNDING = (
    "Answer only from these instructions, the knowledge-base passages and the conversation. "
    "When they do not contain the answer, say that you will check with a colleague; never "
    "invent prices, dates, addresses or promises. Cite passages you use as [1], [2]."
)


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of the conversation: `user` (the contact) or `assistant` (the agent/owner)."""

    role: str
    text: str


def citation_of(hit: search_pb2.SearchHit) -> chat_pb2.Citation:
    snippet = hit.text if len(hit.text) <= SNIPPET_CHARS else hit.text[: SNIPPET_CHARS - 1] + "…"
    citation = chat_pb2.Citation(
        score=hit.score, knowledge_base_id=hit.knowledge_base_id, snippet=snippet
    )
    if hit.HasField("qa_pair"):
        citation.qa_pair_id = hit.qa_pair.qa_pair_id
        citation.question = hit.qa_pair.question
    elif hit.HasField("citation"):
        source = hit.citation
        citation.document_id = source.document_id
        citation.file_name = source.file_name
        citation.chunk_id = source.chunk_id
        citation.char_start = source.char_start
        citation.char_end = source.char_end
        citation.page_number = source.page_number
    return citation


def _source_label(hit: search_pb2.SearchHit) -> str:
    if hit.HasField("qa_pair"):
        return f"Q&A: {hit.qa_pair.question}"
    if hit.HasField("citation"):
        page = f", p. {hit.citation.page_number}" if hit.citation.page_number else ""
        return f"{hit.citation.file_name}{page}"
    return "knowledge base"


def system_prompt(
    profile: AgentProfile,
    *,
    facts: Mapping[str, str],
    hits: Sequence[search_pb2.SearchHit],
    assessment: Assessment | None,
    contact_name: str = "",
    contact_language: str = "",
) -> str:
    sections = [profile.system_prompt.strip()]
    if profile.tone in TONE_INSTRUCTIONS:
        sections.append(TONE_INSTRUCTIONS[profile.tone])
    language = profile.language or contact_language
    sections.append(
        f"Reply in the language with BCP 47 tag `{language}`."
        if language
        else "Reply in the language the contact writes in."
    )
    about = [f"- name: {contact_name}"] if contact_name else []
    about.extend(f"- {key}: {value}" for key, value in sorted(facts.items()) if value)
    if about:
        sections.append("What is known about the contact:\n" + "\n".join(about))
    if assessment is not None and assessment.label == chat_pb2.SENTIMENT_NEGATIVE:
        sections.append("The contact seems upset: acknowledge it and be especially careful.")
    if hits:
        passages = "\n".join(
            f"[{index}] ({_source_label(hit)}) {hit.text[:PASSAGE_CHARS]}"
            for index, hit in enumerate(hits, start=1)
        )
        sections.append("Knowledge-base passages:\n" + passages)
    sections.append(GROUNDING)
    return "\n\n".join(section for section in sections if section)


def chat_messages(system: str, turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """The chat completions `messages`: the system prompt, then the conversation."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    messages.extend({"role": turn.role, "content": turn.text} for turn in turns if turn.text)
    return messages
