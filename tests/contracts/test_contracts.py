"""The contracts' own rules, checked over every generated service, message and event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from inbetwin.common.v1 import options_pb2

from services.kit.contracts import contract_files, services
from services.kit.options import event_subject, method_access
from services.kit.validation import compile_rules

SERVICE_PACKAGES = ("auth", "social", "agent", "llm", "rag", "leads")


def _methods() -> list[MethodDescriptor]:
    return [m for s in services() for m in s.methods]


def _method_id(method: MethodDescriptor) -> str:
    return method.full_name


def _http_rule(method: MethodDescriptor) -> http_pb2.HttpRule | None:
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return None
    rule: http_pb2.HttpRule = options.Extensions[annotations_pb2.http]
    return rule


def _paths(rule: http_pb2.HttpRule) -> Iterator[str]:
    for binding in (rule, *rule.additional_bindings):
        pattern = binding.WhichOneof("pattern")
        assert pattern is not None
        yield getattr(binding, pattern) if pattern != "custom" else binding.custom.path


def _access(method: MethodDescriptor) -> int:
    return method_access(method)


def test_every_service_package_has_a_service() -> None:
    packages = {s.full_name.split(".")[1] for s in services()}
    assert set(SERVICE_PACKAGES) <= packages
    for service in services():
        package = service.full_name.split(".")[1]
        assert service.name == f"{package.capitalize()}Service", service.full_name


@pytest.mark.parametrize("method", _methods(), ids=_method_id)
def test_rpc_has_http_rule_unless_internal(method: MethodDescriptor) -> None:
    rule = _http_rule(method)
    if _access(method) == options_pb2.ACCESS_INTERNAL:
        assert rule is None, "internal RPCs must not be reachable over REST"
        return
    assert rule is not None, "public RPCs need a google.api.http rule (or mark them internal)"
    package = method.containing_service.full_name.split(".")[1]
    for path in _paths(rule):
        prefixes = (f"/api/v1/{package}/", f"/api/v1/{package}:", "/webhooks/")
        exact = (f"/api/v1/{package}", "/.well-known/jwks.json")
        assert path.startswith(prefixes) or path in exact, path


@pytest.mark.parametrize(
    "method", [m for m in _methods() if m.name.startswith("List")], ids=_method_id
)
def test_list_rpcs_paginate(method: MethodDescriptor) -> None:
    request = method.input_type.fields_by_name
    response = method.output_type.fields_by_name
    assert request["page_size"].type == FieldDescriptor.TYPE_INT32
    assert request["page_token"].type == FieldDescriptor.TYPE_STRING
    assert response["next_page_token"].type == FieldDescriptor.TYPE_STRING


@pytest.mark.parametrize(
    "method", [m for m in _methods() if m.name.startswith("Update")], ids=_method_id
)
def test_update_rpcs_take_a_field_mask(method: MethodDescriptor) -> None:
    mask = method.input_type.fields_by_name.get("update_mask")
    assert mask is not None
    assert mask.message_type is not None
    assert mask.message_type.full_name == "google.protobuf.FieldMask"


@pytest.mark.parametrize(
    "method", [m for m in _methods() if m.name.startswith(("Get", "List"))], ids=_method_id
)
def test_reads_have_no_side_effects(method: MethodDescriptor) -> None:
    assert method.GetOptions().idempotency_level == method.GetOptions().NO_SIDE_EFFECTS


@pytest.mark.parametrize("method", _methods(), ids=_method_id)
def test_each_rpc_has_its_own_request_and_response(method: MethodDescriptor) -> None:
    assert method.input_type.name == f"{method.name}Request"
    assert method.output_type.name == f"{method.name}Response"


@pytest.mark.parametrize("method", [m for m in _methods() if m.server_streaming], ids=_method_id)
def test_streams_have_explicit_end_and_error_events(method: MethodDescriptor) -> None:
    # An error mid-stream is invisible to an HTTP/1.1 client, so the stream says it in-band.
    names = _all_field_names(method.output_type)
    assert any("end" in name for name in names), names
    assert any("error" in name for name in names), names


def _all_field_names(descriptor: Descriptor, depth: int = 0) -> set[str]:
    names = {f.name for f in descriptor.fields}
    if depth < 1:
        for field in descriptor.fields:
            if field.message_type is not None:
                names |= _all_field_names(field.message_type, depth + 1)
    return names


def _event_messages() -> list[Descriptor]:
    return [
        m
        for f in contract_files()
        if f.package == "inbetwin.events.v1"
        for m in f.message_types_by_name.values()
    ]


def test_there_are_events_for_the_whole_flow() -> None:
    subjects = {event_subject(m) for m in _event_messages()}
    for required in (
        "inbetwin.social.message.received",
        "inbetwin.social.message.sent",
        "inbetwin.social.integration.connected",
        "inbetwin.auth.user.registered",
        "inbetwin.auth.subscription.updated",
        "inbetwin.llm.reply.requested",
        "inbetwin.agent.action.logged",
        "inbetwin.agent.handoff.requested",
        "inbetwin.agent.handoff.resolved",
        "inbetwin.rag.document.indexed",
        "inbetwin.leads.lead.updated",
    ):
        assert required in subjects


@pytest.mark.parametrize("event", _event_messages(), ids=lambda d: d.name)
def test_event_carries_id_owner_time_and_subject(event: Descriptor) -> None:
    fields = event.fields_by_name
    assert fields["event_id"].number == 1
    assert fields["event_id"].type == FieldDescriptor.TYPE_STRING
    assert fields["owner_id"].type == FieldDescriptor.TYPE_STRING
    occur_time = fields["occur_time"].message_type
    assert occur_time is not None
    assert occur_time.full_name == "google.protobuf.Timestamp"
    subject = event_subject(event)
    assert subject.startswith("inbetwin."), subject
    assert subject == subject.lower()


def test_event_subjects_are_unique() -> None:
    subjects = [event_subject(m) for m in _event_messages()]
    assert len(subjects) == len(set(subjects))


def _all_messages() -> list[Descriptor]:
    def walk(descriptor: Descriptor) -> Iterator[Descriptor]:
        yield descriptor
        for nested in descriptor.nested_types:
            yield from walk(nested)

    return [d for f in contract_files() for m in f.message_types_by_name.values() for d in walk(m)]


def test_validator_understands_every_rule_in_the_contracts() -> None:
    for descriptor in _all_messages():
        compile_rules(descriptor)
