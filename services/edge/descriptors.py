"""What the edge needs from the contracts, read from the compiled descriptor set.

Only the serialized `FileDescriptorSet` that Envoy's transcoder loads is read, so the rendered
routes and the transcoder always agree. The custom option `(inbetwin.common.v1.access)` and
`google.api.http` are MethodOptions extensions: importing their generated modules registers them,
so parsing the set fills `options.Extensions[...]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2
from inbetwin.common.v1 import options_pb2

# Services the edge fronts: package `inbetwin.<svc>.v1`, service `<Svc>Service`.
_PACKAGE = re.compile(r"^inbetwin\.([a-z][a-z0-9_]*)\.v1$")
_SERVICE = re.compile(r"^[A-Z][A-Za-z0-9]*Service$")

ACCESS_AUTHENTICATED = "authenticated"
ACCESS_PUBLIC = "public"
ACCESS_INTERNAL = "internal"

_HTTP_BODY = ".google.api.HttpBody"


@dataclass(frozen=True, slots=True)
class HttpBinding:
    """One `google.api.http` rule (the main one or an additional binding)."""

    verb: str  # GET, POST, PUT, PATCH, DELETE or a custom verb
    template: str  # e.g. /api/v1/auth/oauth/{provider}:start
    body: str  # "", "*" or a field name


@dataclass(frozen=True, slots=True)
class Method:
    service: str  # fully qualified, e.g. inbetwin.auth.v1.AuthService
    name: str
    access: str
    bindings: tuple[HttpBinding, ...]
    server_streaming: bool
    client_streaming: bool
    read_only: bool  # idempotency_level = NO_SIDE_EFFECTS
    upload: bool  # the HTTP body carries raw bytes (google.api.HttpBody or bytes)

    @property
    def grpc_path(self) -> str:
        return f"/{self.service}/{self.name}"


@dataclass(frozen=True, slots=True)
class Service:
    full_name: str  # inbetwin.auth.v1.AuthService
    svc: str  # auth: the cluster that serves it
    methods: tuple[Method, ...]

    @property
    def grpc_prefix(self) -> str:
        return f"/{self.full_name}/"


def load_services(descriptor_path: Path) -> list[Service]:
    """Every `inbetwin.<svc>.v1.<Svc>Service` in the set, in a stable order."""
    fds = descriptor_pb2.FileDescriptorSet.FromString(Path(descriptor_path).read_bytes())
    messages: dict[str, descriptor_pb2.DescriptorProto] = {}
    for file in fds.file:
        prefix = f".{file.package}" if file.package else ""
        for message in file.message_type:
            _index_messages(messages, prefix, message)
    services: list[Service] = []
    for file in fds.file:
        match = _PACKAGE.match(file.package)
        if match is None:
            continue
        for service in file.service:
            if not _SERVICE.match(service.name):
                continue
            full_name = f"{file.package}.{service.name}"
            methods = tuple(_method(full_name, m, messages) for m in service.method)
            services.append(Service(full_name=full_name, svc=match.group(1), methods=methods))
    return sorted(services, key=lambda s: s.full_name)


def _index_messages(
    out: dict[str, descriptor_pb2.DescriptorProto],
    prefix: str,
    message: descriptor_pb2.DescriptorProto,
) -> None:
    name = f"{prefix}.{message.name}"
    out[name] = message
    for nested in message.nested_type:
        _index_messages(out, name, nested)


def _extensions(options: Any) -> Any:
    """protobuf's stubs type custom extensions loosely; read them untyped."""
    return options.Extensions


def _access(options: descriptor_pb2.MethodOptions) -> str:
    value = cast(int, _extensions(options)[options_pb2.access])
    if value == options_pb2.ACCESS_PUBLIC:
        return ACCESS_PUBLIC
    if value == options_pb2.ACCESS_INTERNAL:
        return ACCESS_INTERNAL
    return ACCESS_AUTHENTICATED


def _bindings(options: descriptor_pb2.MethodOptions) -> tuple[HttpBinding, ...]:
    if not options.HasExtension(annotations_pb2.http):
        return ()
    rule = cast(http_pb2.HttpRule, _extensions(options)[annotations_pb2.http])
    return tuple(b for r in (rule, *rule.additional_bindings) if (b := _binding(r)) is not None)


def _binding(rule: http_pb2.HttpRule) -> HttpBinding | None:
    pattern = rule.WhichOneof("pattern")
    if pattern is None:
        return None
    if pattern == "custom":
        return HttpBinding(verb=rule.custom.kind.upper(), template=rule.custom.path, body=rule.body)
    return HttpBinding(verb=pattern.upper(), template=getattr(rule, pattern), body=rule.body)


def _is_raw(field: descriptor_pb2.FieldDescriptorProto) -> bool:
    if field.type == descriptor_pb2.FieldDescriptorProto.TYPE_BYTES:
        return True
    return field.type_name == _HTTP_BODY


def _upload(
    bindings: tuple[HttpBinding, ...],
    request: descriptor_pb2.DescriptorProto | None,
    messages: dict[str, descriptor_pb2.DescriptorProto],
) -> bool:
    """Whether a binding's body carries raw bytes: HttpBody/bytes in the body, one level deep."""
    if request is None:
        return False
    for binding in bindings:
        if not binding.body:
            continue
        if binding.body == "*":
            if any(_is_raw(f) for f in request.field):
                return True
            continue
        field = next((f for f in request.field if f.name == binding.body), None)
        if field is None:
            continue
        if _is_raw(field):
            return True
        inner = messages.get(field.type_name)
        if inner is not None and any(_is_raw(f) for f in inner.field):
            return True
    return False


def _method(
    service: str,
    method: descriptor_pb2.MethodDescriptorProto,
    messages: dict[str, descriptor_pb2.DescriptorProto],
) -> Method:
    bindings = _bindings(method.options)
    return Method(
        service=service,
        name=method.name,
        access=_access(method.options),
        bindings=bindings,
        server_streaming=method.server_streaming,
        client_streaming=method.client_streaming,
        read_only=(
            method.options.idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
        ),
        upload=_upload(bindings, messages.get(method.input_type), messages),
    )


# --- google.api.http path templates -------------------------------------------------------------
#
# Template = "/" Segments [ ":" Verb ] ; Segment = "*" | "**" | LITERAL | Variable ;
# Variable = "{" FieldPath [ "=" Segments ] "}"   (see google/api/http.proto)

_RE_SPECIAL = set(".^$|?*+()[]{}\\")


def _re_literal(text: str) -> str:
    return "".join(f"\\{c}" if c in _RE_SPECIAL else c for c in text)


def _split_template(template: str) -> tuple[list[str], str]:
    """Segments (variables expanded to their sub-patterns) and the verb ("" if none)."""
    if not template.startswith("/"):
        raise ValueError(f"http template must start with '/': {template!r}")
    depth = 0
    verb_at = -1
    for i, c in enumerate(template):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "/" and depth == 0:
            verb_at = -1
        elif c == ":" and depth == 0 and verb_at < 0:
            verb_at = i
    if depth != 0:
        raise ValueError(f"unbalanced braces in http template {template!r}")
    path, verb = (template, "") if verb_at < 0 else (template[:verb_at], template[verb_at + 1 :])
    segments: list[str] = []
    for raw in re.split(r"/(?![^{]*\})", path[1:]):
        if raw.startswith("{") and raw.endswith("}"):
            inner = raw[1:-1]
            sub = inner.split("=", 1)[1] if "=" in inner else "*"
            segments.extend(sub.split("/"))
        else:
            segments.append(raw)
    return segments, verb


def template_regex(template: str, *, strict: bool = True) -> str:
    """An RE2 pattern that fully matches the paths of `template`.

    Strict (for rules that open a path without a token): variables match one segment without ':'
    (`[^/:]+`) and `**` any rest without ':', so a public template can never swallow another
    method's `:verb` suffix; an odd path falls through to the rules that require a token (fail
    closed). Loose (for routes that only carry per-route settings): `[^/]+` and `.*`.
    """
    one, many = ("[^/:]+", "[^:]*") if strict else ("[^/]+", ".*")
    segments, verb = _split_template(template)
    parts = []
    for segment in segments:
        if segment == "*":
            parts.append(one)
        elif segment == "**":
            parts.append(many)
        else:
            parts.append(_re_literal(segment))
    regex = "/" + "/".join(parts)
    if verb:
        regex += ":" + _re_literal(verb)
    return regex


def template_literal_prefix(template: str) -> str:
    """The literal start of `template`, up to its first variable or wildcard.

    Every path of the template starts with it, so a prefix rule on it covers the template.
    """
    segments, verb = _split_template(template)
    literal: list[str] = []
    for segment in segments:
        if segment in ("*", "**"):
            return "/" + "/".join(literal) + ("/" if literal else "")
        literal.append(segment)
    return "/" + "/".join(literal) + (f":{verb}" if verb else "")
