"""Typed access to the custom options in the contracts (protobuf's stubs type extensions
loosely, so the casts live here once)."""

from __future__ import annotations

from typing import Any, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from inbetwin.common.v1 import options_pb2
from validate import validate_pb2


def _extensions(options: Any) -> Any:
    return options.Extensions


def method_access(method: MethodDescriptor) -> int:
    return cast(int, _extensions(method.GetOptions())[options_pb2.access])


def event_subject(message: Descriptor) -> str:
    return cast(str, _extensions(message.GetOptions())[options_pb2.event_subject])


def field_rules(field: FieldDescriptor) -> validate_pb2.FieldRules | None:
    options: Any = field.GetOptions()
    if not options.HasExtension(validate_pb2.rules):
        return None
    return cast(validate_pb2.FieldRules, options.Extensions[validate_pb2.rules])


def message_validation_disabled(message: Descriptor) -> bool:
    extensions = _extensions(message.GetOptions())
    return bool(extensions[validate_pb2.disabled] or extensions[validate_pb2.ignored])


def oneof_required(oneof: Any) -> bool:
    return bool(_extensions(oneof.GetOptions())[validate_pb2.required])
