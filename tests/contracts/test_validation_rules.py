"""Drive the validator over generated messages: every field rule rejects a bad value."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from validate import validate_pb2

from services.kit.contracts import services
from services.kit.options import field_rules
from services.kit.validation import validate


@dataclass(frozen=True)
class RuleCase:
    message: Descriptor
    field: FieldDescriptor
    rule: str
    bad_values: tuple[Any, ...]

    @property
    def id(self) -> str:
        return f"{self.message.full_name}.{self.field.name}:{self.rule}"


def _request_messages() -> list[Descriptor]:
    seen: dict[str, Descriptor] = {}

    def walk(descriptor: Descriptor) -> None:
        if descriptor.full_name in seen or descriptor.full_name.startswith("google."):
            return
        seen[descriptor.full_name] = descriptor
        for field in descriptor.fields:
            if field.message_type is not None and not field.message_type.GetOptions().map_entry:
                walk(field.message_type)

    for service in services():
        for method in service.methods:
            walk(method.input_type)
    return list(seen.values())


def _string_bad_values(rules: validate_pb2.StringRules) -> Iterator[tuple[str, tuple[Any, ...]]]:
    if rules.HasField("min_len") and rules.min_len > 0:
        yield "min_len", ("x" * (rules.min_len - 1),)
    if rules.HasField("max_len"):
        yield "max_len", ("x" * (rules.max_len + 1),)
    if rules.HasField("max_bytes"):
        yield "max_bytes", ("я" * (rules.max_bytes // 2 + 1),)
    if rules.email:
        yield "email", ("not-an-email", "a@", "@b.c", "a b@c.d")
    if rules.uuid:
        yield "uuid", ("not-a-uuid", "1234")
    if rules.uri:
        yield "uri", ("no scheme", "/relative")
    if rules.hostname:
        yield "hostname", ("bad host!",)
    if rules.HasField("pattern"):
        yield "pattern", ("\x00", " ", "!!!", "Z" * 3)
    if list(getattr(rules, "in")):
        yield "in", ("zz-not-allowed",)
    if rules.HasField("prefix"):
        yield "prefix", ("zz" + rules.prefix[1:] if rules.prefix else "zz",)


def _number_bad_values(rules: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    if rules.HasField("gte"):
        yield "gte", (rules.gte - 1,)
    if rules.HasField("gt"):
        yield "gt", (rules.gt,)
    if rules.HasField("lte"):
        yield "lte", (rules.lte + 1,)
    if rules.HasField("lt"):
        yield "lt", (rules.lt,)
    if list(getattr(rules, "in")):
        yield "in", (max(getattr(rules, "in")) + 1,)
    if list(rules.not_in):
        yield "not_in", (rules.not_in[0],)


def _cases() -> list[RuleCase]:
    cases: list[RuleCase] = []
    for message in _request_messages():
        for field in message.fields:
            rules = field_rules(field)
            if rules is None:
                continue
            kind = rules.WhichOneof("type")
            found: list[tuple[str, tuple[Any, ...]]] = []
            if rules.message.required:
                found.append(("required", (None,)))
            if kind == "string" and not field.is_repeated:
                found.extend(_string_bad_values(rules.string))
            elif (
                kind in ("int32", "int64", "uint32", "uint64", "double", "float")
                and not field.is_repeated
            ):
                found.extend(_number_bad_values(getattr(rules, kind)))
            elif kind == "enum" and not field.is_repeated:
                if rules.enum.defined_only:
                    found.append(("defined_only", (99991,)))
                if list(rules.enum.not_in):
                    found.append(("not_in", (rules.enum.not_in[0],)))
                if list(getattr(rules.enum, "in")):
                    found.append(("in", (99991,)))
            elif kind == "repeated":
                if rules.repeated.HasField("max_items"):
                    found.append(("max_items", ("__many__",)))
                if rules.repeated.min_items > 0:
                    found.append(("min_items", ("__empty__",)))
            elif kind == "map" and rules.map.HasField("max_pairs"):
                found.append(("max_pairs", ("__many__",)))
            cases.extend(RuleCase(message, field, rule, bad) for rule, bad in found)
    return cases


CASES = _cases()


def _set(message: Message, field: FieldDescriptor, value: Any, max_items: int) -> None:
    if value is None:
        return
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        target = getattr(message, field.name)
        key_field = field.message_type.fields_by_name["key"]
        value_field = field.message_type.fields_by_name["value"]
        for index in range(max_items + 1):
            key = f"k{index}" if key_field.type == FieldDescriptor.TYPE_STRING else index
            if value_field.message_type is None:
                target[key] = "" if value_field.type == FieldDescriptor.TYPE_STRING else 0
            else:
                target[key].SetInParent()
        return
    if field.is_repeated:
        target = getattr(message, field.name)
        if value == "__empty__":
            return
        for _ in range(max_items + 1):
            if field.message_type is None:
                target.append("" if field.type == FieldDescriptor.TYPE_STRING else 0)
            else:
                target.add()
        return
    setattr(message, field.name, value)


def test_there_are_rules_to_check() -> None:
    assert len(CASES) > 100


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_rejects_a_bad_value(case: RuleCase) -> None:
    message_class = GetMessageClass(case.message)
    rules = field_rules(case.field)
    assert rules is not None
    limit = rules.repeated.max_items if case.rule == "max_items" else rules.map.max_pairs
    rejected = []
    for bad in case.bad_values:
        message = message_class()
        _set(message, case.field, bad, int(limit))
        fields = {v.field.split("[")[0] for v in validate(message)}
        rejected.append(
            case.field.name in fields
            or (
                case.field.containing_oneof is not None
                and case.field.containing_oneof.name in fields
            )
        )
    assert any(rejected), f"no bad value for {case.rule} was rejected: {case.bad_values}"
