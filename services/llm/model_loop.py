"""The model with function calling, through the official `openai` SDK.

Each step sends the conversation to the endpoint; tool calls go to the tool runner (the agent
service's ExecuteTool), their results are added, and the model is called again. Hard caps stop
the loop: steps, tool calls and tokens per reply, and an identical repeated call. Malformed
tool-call JSON is told to the model as a rejected call (it may retry within the caps). After a
call that hands the conversation to a human, one last step without tools lets the model tell
the contact; nothing after it is sent.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import openai
from inbetwin.llm.v1 import chat_pb2

from services.llm.drafts import Draft, Observer, ToolCallRecord

log = logging.getLogger("inbetwin.llm.model")


class ModelError(Exception):
    """The endpoint failed; `reason` is an llm ErrorReason name."""

    def __init__(self, reason: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.reason = reason
        self.retryable = retryable


class ToolRunner(Protocol):
    async def run(self, record: ToolCallRecord) -> bool:
        """Run the call, filling in its outcome; True when it handed the conversation over."""
        ...


@dataclass(frozen=True, slots=True)
class Caps:
    max_steps: int
    max_tool_calls: int
    max_reply_tokens: int


@dataclass(frozen=True, slots=True)
class Sampling:
    temperature: float
    top_p: float | None
    max_output_tokens: int


@dataclass(slots=True)
class _Step:
    text: str = ""
    finish_reason: str = ""
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0


def _classify(error: openai.OpenAIError) -> ModelError:
    if isinstance(error, openai.APITimeoutError):
        return ModelError(
            "MODEL_TIMEOUT", "the model endpoint did not answer in time", retryable=True
        )
    if isinstance(error, openai.RateLimitError):
        return ModelError(
            "MODEL_RATE_LIMITED", "the model endpoint kept answering 429", retryable=True
        )
    if isinstance(error, openai.APIStatusError):
        return ModelError(
            "MODEL_UNAVAILABLE",
            f"the model endpoint answered {error.status_code}",
            retryable=error.status_code >= 500,
        )
    return ModelError(
        "MODEL_UNAVAILABLE", f"the model endpoint failed: {type(error).__name__}", retryable=True
    )


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def canonical_arguments(arguments_json: str) -> str:
    try:
        return json.dumps(json.loads(arguments_json or "{}"), sort_keys=True, ensure_ascii=False)
    except ValueError:
        return arguments_json


async def run_model_loop(
    *,
    client: openai.AsyncOpenAI,
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    runner: ToolRunner,
    caps: Caps,
    sampling: Sampling,
    observer: Observer,
    stream: bool,
    call_prefix: str,
) -> Draft:
    """Run the loop to a finished Draft; raises ModelError when the endpoint fails."""
    draft = Draft(
        text="",
        finish=chat_pb2.FINISH_REASON_UNSPECIFIED,
        provider=chat_pb2.PROVIDER_OPENAI_COMPATIBLE,
        model=model,
    )
    conversation = list(messages)
    seen_calls: set[tuple[str, str]] = set()
    handed_over = False
    for step in range(1, caps.max_steps + 1):
        remaining = caps.max_reply_tokens - draft.input_tokens - draft.output_tokens
        if remaining <= 0:
            return _stop(draft, chat_pb2.FINISH_REASON_LIMIT, "TOKEN_LIMIT_REACHED")
        offered = [] if handed_over else tools
        result = await _complete(
            client,
            model,
            conversation,
            offered,
            sampling,
            max_tokens=min(sampling.max_output_tokens, remaining),
            stream=stream,
            observer=observer,
            step=step,
        )
        draft.model_calls += 1
        draft.input_tokens += result.input_tokens
        draft.output_tokens += result.output_tokens
        if handed_over or not result.tool_calls:
            draft.text = result.text.strip()
            if handed_over:
                return _stop(draft, chat_pb2.FINISH_REASON_ESCALATED, "OPERATOR_REQUESTED")
            finish = (
                chat_pb2.FINISH_REASON_LENGTH
                if result.finish_reason == "length"
                else chat_pb2.FINISH_REASON_STOP
            )
            return _stop(draft, finish, "")
        if draft.input_tokens + draft.output_tokens >= caps.max_reply_tokens:
            return _stop(draft, chat_pb2.FINISH_REASON_LIMIT, "TOKEN_LIMIT_REACHED")
        conversation.append(
            {
                "role": "assistant",
                "content": result.text or None,
                "tool_calls": [
                    {
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": call["arguments"]},
                    }
                    for call in result.tool_calls
                ],
            }
        )
        for call in result.tool_calls:
            if len(draft.tool_calls) >= caps.max_tool_calls:
                return _stop(draft, chat_pb2.FINISH_REASON_LIMIT, "TOOL_CALL_LIMIT_REACHED")
            key = (call["name"], canonical_arguments(call["arguments"]))
            if key in seen_calls:
                log.warning("repeated identical tool call", extra={"tool": call["name"]})
                return _stop(draft, chat_pb2.FINISH_REASON_LIMIT, "REPEATED_TOOL_CALL")
            seen_calls.add(key)
            record = ToolCallRecord(
                call_id=call["id"] or f"s{step}-{len(draft.tool_calls)}",
                name=call["name"],
                arguments_json=call["arguments"],
                step=step,
            )
            draft.tool_calls.append(record)
            await observer.tool_call(record)
            if not _is_json_object(record.arguments_json):
                record.status = chat_pb2.TOOL_CALL_STATUS_REJECTED
                record.error_reason = "MALFORMED_TOOL_CALL"
                record.error_message = (
                    "the arguments are not a valid JSON object; call again with valid JSON"
                )
            elif await runner.run(record):
                handed_over = True
                draft.handoff_opened = True
            await observer.tool_result(record)
            conversation.append(
                {"role": "tool", "tool_call_id": call["id"], "content": record.content_for_model()}
            )
    if handed_over:
        return _stop(draft, chat_pb2.FINISH_REASON_ESCALATED, "OPERATOR_REQUESTED")
    return _stop(draft, chat_pb2.FINISH_REASON_LIMIT, "STEP_LIMIT_REACHED")


def _stop(draft: Draft, finish: int, reason: str) -> Draft:
    draft.finish = finish
    draft.escalation_reason = reason
    if finish == chat_pb2.FINISH_REASON_LIMIT:
        draft.text = ""  # a reply cut short by a cap is never sent; the conversation escalates
    return draft


def _is_json_object(arguments_json: str) -> bool:
    if not arguments_json.strip():
        return True
    try:
        return isinstance(json.loads(arguments_json), dict)
    except ValueError:
        return False


async def _complete(
    client: openai.AsyncOpenAI,
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    sampling: Sampling,
    *,
    max_tokens: int,
    stream: bool,
    observer: Observer,
    step: int,
) -> _Step:
    options: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": sampling.temperature,
    }
    if sampling.top_p is not None:
        options["top_p"] = sampling.top_p
    if tools:
        options["tools"] = tools
    try:
        if stream:
            return await _complete_streaming(client, options, observer, step)
        response = await client.chat.completions.create(**options)
    except openai.OpenAIError as error:
        raise _classify(error) from error
    if not response.choices:
        raise ModelError(
            "MODEL_UNAVAILABLE", "the model endpoint answered no choices", retryable=True
        )
    choice = response.choices[0]
    message = choice.message
    result = _Step(text=message.content or "", finish_reason=choice.finish_reason or "")
    for call in message.tool_calls or ():
        function = getattr(call, "function", None)
        if function is None:
            continue
        result.tool_calls.append(
            {"id": call.id, "name": function.name, "arguments": function.arguments or ""}
        )
    if response.usage is not None:
        result.input_tokens = response.usage.prompt_tokens
        result.output_tokens = response.usage.completion_tokens
    else:
        result.input_tokens = _estimate_tokens(json.dumps(messages, ensure_ascii=False))
        result.output_tokens = _estimate_tokens(result.text)
    if result.text:
        await observer.delta(result.text, step)
    return result


async def _complete_streaming(
    client: openai.AsyncOpenAI, options: dict[str, Any], observer: Observer, step: int
) -> _Step:
    result = _Step()
    calls: dict[int, dict[str, str]] = {}
    chunks = await client.chat.completions.create(
        **options, stream=True, stream_options={"include_usage": True}
    )
    async for chunk in chunks:
        if chunk.usage is not None:
            result.input_tokens = chunk.usage.prompt_tokens
            result.output_tokens = chunk.usage.completion_tokens
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                result.text += delta.content
                await observer.delta(delta.content, step)
            for call in delta.tool_calls or ():
                slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                if call.id:
                    slot["id"] = call.id
                if call.function is not None:
                    slot["name"] += call.function.name or ""
                    slot["arguments"] += call.function.arguments or ""
            if choice.finish_reason:
                result.finish_reason = choice.finish_reason
    result.tool_calls = [calls[index] for index in sorted(calls)]
    if not result.input_tokens:
        result.input_tokens = _estimate_tokens(json.dumps(options["messages"], ensure_ascii=False))
    if not result.output_tokens:
        result.output_tokens = _estimate_tokens(result.text)
    return result
