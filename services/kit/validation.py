"""Evaluate the PGV (`validate.rules`) annotations of a message and list every violation.

The rules live in the contracts; this module reads them from the message descriptors, compiles
one checker per message type (cached) and reports each failure with its field path, so the
server answers INVALID_ARGUMENT with `google.rpc.BadRequest` field violations. A rule this module
does not implement raises `UnsupportedRuleError` when its message is first compiled: the contract
tests compile every message, so a new rule in a .proto cannot be silently ignored.
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from validate import validate_pb2

from services.kit.options import field_rules, message_validation_disabled, oneof_required

# A check takes a field value (already read from the message) and yields failure descriptions.
ValueCheck = Callable[[Any], Iterable[str]]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
# Every string of every request: C0 controls (NUL first: Postgres text and jsonb cannot hold it)
# and DEL are refused; tab, newline and carriage return are ordinary text.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTER_VIOLATION = "must not contain control characters (only tab, newline and CR)"
_WELL_KNOWN_REGEX = {
    validate_pb2.HTTP_HEADER_NAME: re.compile(r"^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$"),
    validate_pb2.HTTP_HEADER_VALUE: re.compile(r"^[^\x00-\x08\x0A-\x1F\x7F]*$"),
}


class UnsupportedRuleError(Exception):
    """A .proto uses a PGV rule that this validator does not evaluate."""


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One broken rule: `field` is the path (`user.display_name`, `items[2]`)."""

    field: str
    description: str


def validate(message: Message) -> list[FieldViolation]:
    """Return every rule the message breaks; empty when it is valid."""
    return list(_checker_for(message.DESCRIPTOR)(message, ""))


def compile_rules(descriptor: Descriptor) -> None:
    """Compile the checker of a message type, raising UnsupportedRuleError on an unknown rule."""
    _checker_for(descriptor)


MessageCheck = Callable[[Message, str], Iterable[FieldViolation]]


@cache
def _checker_for(descriptor: Descriptor) -> MessageCheck:
    if message_validation_disabled(descriptor):
        return lambda _message, _prefix: ()
    field_checks = [_field_checker(field) for field in descriptor.fields]
    oneof_checks = [oneof for oneof in descriptor.oneofs if oneof_required(oneof)]

    def check(message: Message, prefix: str) -> Iterable[FieldViolation]:
        for oneof in oneof_checks:
            if message.WhichOneof(oneof.name) is None:
                yield FieldViolation(prefix + oneof.name, "exactly one field must be set")
        for field_check in field_checks:
            yield from field_check(message, prefix)

    return check


def _is_message(field: FieldDescriptor) -> bool:
    return field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP)


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _field_checker(field: FieldDescriptor) -> MessageCheck:
    rules = field_rules(field)
    name = field.name

    if _is_map(field):
        map_check = _map_checker(field, rules)
        return lambda message, prefix: map_check(getattr(message, name), prefix + name)
    if _is_repeated(field):
        repeated_check = _repeated_checker(field, rules)
        return lambda message, prefix: repeated_check(getattr(message, name), prefix + name)
    if _is_message(field):
        return _message_field_checker(field, rules)
    value_check = _scalar_checker(field, rules)
    if value_check is None:
        return lambda _message, _prefix: ()

    def check(message: Message, prefix: str) -> Iterable[FieldViolation]:
        if field.has_presence and not message.HasField(name):
            return
        for description in value_check(getattr(message, name)):
            yield FieldViolation(prefix + name, description)

    return check


def _message_field_checker(
    field: FieldDescriptor, rules: validate_pb2.FieldRules | None
) -> MessageCheck:
    name = field.name
    required = bool(rules and rules.message.required)
    skip = bool(rules and rules.message.skip)
    kind = rules.WhichOneof("type") if rules else None
    wkt_check: ValueCheck | None = None
    if kind == "timestamp":
        wkt_check = _timestamp_rules(rules.timestamp)  # type: ignore[union-attr]
        required = required or rules.timestamp.required  # type: ignore[union-attr]
    elif kind == "duration":
        wkt_check = _duration_rules(rules.duration)  # type: ignore[union-attr]
        required = required or rules.duration.required  # type: ignore[union-attr]
    elif kind == "any":
        required = required or rules.any.required  # type: ignore[union-attr]
        wkt_check = _any_rules(rules.any)  # type: ignore[union-attr]
    elif kind is not None:
        raise UnsupportedRuleError(f"{field.full_name}: rule {kind!r} on a message field")
    if rules is not None:
        _reject_unknown(rules.message, {"required", "skip"}, field)

    def check(message: Message, prefix: str) -> Iterable[FieldViolation]:
        path = prefix + name
        if not message.HasField(name):
            if required:
                yield FieldViolation(path, "is required")
            return
        value = getattr(message, name)
        if wkt_check is not None:
            for description in wkt_check(value):
                yield FieldViolation(path, description)
        if not skip:
            yield from _checker_for(field.message_type)(value, path + ".")

    return check


def _repeated_checker(field: FieldDescriptor, rules: validate_pb2.FieldRules | None) -> Any:
    repeated = rules.repeated if rules and rules.WhichOneof("type") == "repeated" else None
    if rules is not None and rules.WhichOneof("type") not in (None, "repeated"):
        raise UnsupportedRuleError(f"{field.full_name}: repeated field needs repeated rules")
    item_rules = repeated.items if repeated is not None and repeated.HasField("items") else None
    if repeated is not None:
        _reject_unknown(
            repeated, {"min_items", "max_items", "unique", "items", "ignore_empty"}, field
        )
    item_check = _item_checker(field, item_rules)

    def check(values: Any, path: str) -> Iterable[FieldViolation]:
        count = len(values)
        if repeated is not None and not (repeated.ignore_empty and count == 0):
            if repeated.HasField("min_items") and count < repeated.min_items:
                yield FieldViolation(path, f"must have at least {repeated.min_items} items")
            if repeated.HasField("max_items") and count > repeated.max_items:
                yield FieldViolation(path, f"must have at most {repeated.max_items} items")
            if repeated.unique and len(set(values)) != count:
                yield FieldViolation(path, "items must be unique")
        for index, value in enumerate(values):
            yield from item_check(value, f"{path}[{index}]")

    return check


def _item_checker(
    field: FieldDescriptor, rules: validate_pb2.FieldRules | None
) -> Callable[[Any, str], Iterable[FieldViolation]]:
    if _is_message(field):
        skip = bool(rules and rules.message.skip)
        nested = _checker_for(field.message_type)

        def check_message(value: Any, path: str) -> Iterable[FieldViolation]:
            if not skip:
                yield from nested(value, path + ".")

        return check_message
    value_check = _scalar_checker(field, rules)

    def check_scalar(value: Any, path: str) -> Iterable[FieldViolation]:
        if value_check is not None:
            for description in value_check(value):
                yield FieldViolation(path, description)

    return check_scalar


def _map_checker(field: FieldDescriptor, rules: validate_pb2.FieldRules | None) -> Any:
    map_rules = rules.map if rules and rules.WhichOneof("type") == "map" else None
    if rules is not None and rules.WhichOneof("type") not in (None, "map"):
        raise UnsupportedRuleError(f"{field.full_name}: map field needs map rules")
    entry: Any = field.message_type
    key_field = entry.fields_by_name["key"]
    value_field = entry.fields_by_name["value"]
    key_check = _item_checker(
        key_field, map_rules.keys if map_rules and map_rules.HasField("keys") else None
    )
    value_check = _item_checker(
        value_field, map_rules.values if map_rules and map_rules.HasField("values") else None
    )
    if map_rules is not None:
        _reject_unknown(
            map_rules, {"min_pairs", "max_pairs", "keys", "values", "ignore_empty"}, field
        )

    def check(values: Any, path: str) -> Iterable[FieldViolation]:
        count = len(values)
        if map_rules is not None and not (map_rules.ignore_empty and count == 0):
            if map_rules.HasField("min_pairs") and count < map_rules.min_pairs:
                yield FieldViolation(path, f"must have at least {map_rules.min_pairs} entries")
            if map_rules.HasField("max_pairs") and count > map_rules.max_pairs:
                yield FieldViolation(path, f"must have at most {map_rules.max_pairs} entries")
        for key in values:
            yield from key_check(key, f"{path}[{key}]")
            yield from value_check(values[key], f"{path}[{key}]")

    return check


_NUMERIC_KINDS = {
    "int32",
    "int64",
    "uint32",
    "uint64",
    "sint32",
    "sint64",
    "fixed32",
    "fixed64",
    "sfixed32",
    "sfixed64",
    "float",
    "double",
}


def _scalar_checker(
    field: FieldDescriptor, rules: validate_pb2.FieldRules | None
) -> ValueCheck | None:
    rules_check = _scalar_rules_checker(field, rules)
    if field.type != FieldDescriptor.TYPE_STRING:
        return rules_check
    return _with_plain_text(rules_check)


def _with_plain_text(rules_check: ValueCheck | None) -> ValueCheck:
    def check(value: str) -> Iterable[str]:
        if _CONTROL_CHARACTER.search(value):
            yield CONTROL_CHARACTER_VIOLATION
        if rules_check is not None:
            yield from rules_check(value)

    return check


def _scalar_rules_checker(
    field: FieldDescriptor, rules: validate_pb2.FieldRules | None
) -> ValueCheck | None:
    if rules is None or rules.WhichOneof("type") is None:
        if rules is not None and rules.HasField("message"):
            raise UnsupportedRuleError(f"{field.full_name}: message rules on a scalar field")
        return None
    kind = rules.WhichOneof("type")
    if kind == "string":
        return _string_rules(rules.string, field)
    if kind == "bytes":
        return _bytes_rules(rules.bytes, field)
    if kind == "enum":
        return _enum_rules(rules.enum, field)
    if kind == "bool":
        _reject_unknown(rules.bool, {"const"}, field)
        expected = rules.bool.const
        return lambda value: () if value == expected else (f"must be {str(expected).lower()}",)
    if kind in _NUMERIC_KINDS:
        return _numeric_rules(getattr(rules, kind), field)
    raise UnsupportedRuleError(f"{field.full_name}: rule kind {kind!r}")


def _reject_unknown(rules: Message, supported: set[str], field: FieldDescriptor) -> None:
    for descriptor, _value in rules.ListFields():
        if descriptor.name not in supported:
            raise UnsupportedRuleError(f"{field.full_name}: rule {descriptor.name!r}")


def _numeric_rules(rules: Any, field: FieldDescriptor) -> ValueCheck:
    _reject_unknown(
        rules, {"const", "lt", "lte", "gt", "gte", "in", "not_in", "ignore_empty"}, field
    )
    has = rules.HasField
    allowed = set(rules.__getattribute__("in"))
    forbidden = set(rules.not_in)

    def check(value: Any) -> Iterable[str]:
        if rules.ignore_empty and value == 0:
            return
        if isinstance(value, float) and math.isnan(value):
            yield "must be a number"
            return
        if has("const") and value != rules.const:
            yield f"must equal {rules.const}"
        if allowed and value not in allowed:
            yield f"must be one of {sorted(allowed)}"
        if value in forbidden:
            yield f"must not be one of {sorted(forbidden)}"
        yield from _range(value, rules)

    return check


def _range(value: Any, rules: Any) -> Iterable[str]:
    has = rules.HasField
    low = ("gt", rules.gt) if has("gt") else ("gte", rules.gte) if has("gte") else None
    high = ("lt", rules.lt) if has("lt") else ("lte", rules.lte) if has("lte") else None

    def above(bound: tuple[str, Any]) -> bool:
        return bool(value > bound[1] if bound[0] == "gt" else value >= bound[1])

    def below(bound: tuple[str, Any]) -> bool:
        return bool(value < bound[1] if bound[0] == "lt" else value <= bound[1])

    words = {"gt": "greater than", "gte": "at least", "lt": "less than", "lte": "at most"}
    if low and high and low[1] > high[1]:
        # PGV: a lower bound above the upper bound means "outside the range".
        if not (above(low) or below(high)):
            yield f"must be {words[high[0]]} {high[1]} or {words[low[0]]} {low[1]}"
        return
    if low and not above(low):
        yield f"must be {words[low[0]]} {low[1]}"
    if high and not below(high):
        yield f"must be {words[high[0]]} {high[1]}"


_STRING_RULES = {
    "const",
    "len",
    "min_len",
    "max_len",
    "len_bytes",
    "min_bytes",
    "max_bytes",
    "pattern",
    "prefix",
    "suffix",
    "contains",
    "not_contains",
    "in",
    "not_in",
    "email",
    "hostname",
    "ip",
    "ipv4",
    "ipv6",
    "uri",
    "uri_ref",
    "address",
    "uuid",
    "well_known_regex",
    "strict",
    "ignore_empty",
}


def _string_rules(rules: validate_pb2.StringRules, field: FieldDescriptor) -> ValueCheck:
    _reject_unknown(rules, _STRING_RULES, field)
    has = rules.HasField
    pattern = re.compile(rules.pattern) if has("pattern") else None
    allowed = list(getattr(rules, "in"))
    forbidden = set(rules.not_in)
    well_known = rules.WhichOneof("well_known")
    known_check = _string_format_check(well_known, rules) if well_known else None

    def check(value: str) -> Iterable[str]:
        if rules.ignore_empty and value == "":
            return
        chars = len(value)
        if has("const") and value != rules.const:
            yield f"must equal {rules.const!r}"
        if has("len") and chars != rules.len:
            yield f"must be exactly {rules.len} characters"
        if has("min_len") and chars < rules.min_len:
            yield f"must be at least {rules.min_len} characters"
        if has("max_len") and chars > rules.max_len:
            yield f"must be at most {rules.max_len} characters"
        if has("len_bytes") or has("min_bytes") or has("max_bytes"):
            size = len(value.encode())
            if has("len_bytes") and size != rules.len_bytes:
                yield f"must be exactly {rules.len_bytes} bytes"
            if has("min_bytes") and size < rules.min_bytes:
                yield f"must be at least {rules.min_bytes} bytes"
            if has("max_bytes") and size > rules.max_bytes:
                yield f"must be at most {rules.max_bytes} bytes"
        if pattern is not None and not pattern.search(value):
            yield f"must match {rules.pattern!r}"
        if has("prefix") and not value.startswith(rules.prefix):
            yield f"must start with {rules.prefix!r}"
        if has("suffix") and not value.endswith(rules.suffix):
            yield f"must end with {rules.suffix!r}"
        if has("contains") and rules.contains not in value:
            yield f"must contain {rules.contains!r}"
        if has("not_contains") and rules.not_contains in value:
            yield f"must not contain {rules.not_contains!r}"
        if allowed and value not in allowed:
            yield f"must be one of {allowed}"
        if value in forbidden:
            yield f"must not be one of {sorted(forbidden)}"
        if known_check is not None:
            problem = known_check(value)
            if problem:
                yield problem

    return check


def _string_format_check(
    well_known: str, rules: validate_pb2.StringRules
) -> Callable[[str], str | None]:
    checks: dict[str, Callable[[str], str | None]] = {
        "email": lambda v: None if is_email(v) else "must be a valid email address",
        "hostname": lambda v: None if _is_hostname(v) else "must be a valid hostname",
        "ip": lambda v: None if _ip_version(v) else "must be a valid IP address",
        "ipv4": lambda v: None if _ip_version(v) == 4 else "must be a valid IPv4 address",
        "ipv6": lambda v: None if _ip_version(v) == 6 else "must be a valid IPv6 address",
        "address": lambda v: (
            None if _ip_version(v) or _is_hostname(v) else "must be a valid hostname or IP address"
        ),
        "uri": lambda v: None if _is_absolute_uri(v) else "must be an absolute URI",
        "uri_ref": lambda v: None if " " not in v else "must be a valid URI reference",
        "uuid": lambda v: None if _UUID.match(v) else "must be a UUID",
    }
    if well_known == "well_known_regex":
        regex = _WELL_KNOWN_REGEX.get(rules.well_known_regex)
        if regex is None:
            raise UnsupportedRuleError(f"well_known_regex {rules.well_known_regex}")
        return lambda v: None if regex.match(v) else "must be a valid HTTP header"
    if not getattr(rules, well_known):
        return lambda _v: None
    return checks[well_known]


def is_email(value: str) -> bool:
    """A practical address check: `local@domain`, lengths per RFC 5321, IDN domains allowed.

    Surrounding whitespace is tolerated: services normalise it away (users paste addresses).
    """
    value = value.strip()
    if len(value) > 254 or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if not local or len(local) > 64 or not _EMAIL_LOCAL.match(local):
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return "." in domain and _is_hostname(domain)


def _is_hostname(value: str) -> bool:
    try:
        ascii_name = value.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    if not ascii_name or len(ascii_name) > 253:
        return False
    labels = ascii_name.rstrip(".").split(".")
    return all(_HOST_LABEL.match(label) for label in labels)


def _ip_version(value: str) -> int | None:
    try:
        return ipaddress.ip_address(value).version
    except ValueError:
        return None


def _is_absolute_uri(value: str) -> bool:
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc or parts.path)


def _bytes_rules(rules: validate_pb2.BytesRules, field: FieldDescriptor) -> ValueCheck:
    _reject_unknown(
        rules, {"const", "len", "min_len", "max_len", "prefix", "suffix", "ignore_empty"}, field
    )
    has = rules.HasField

    def check(value: bytes) -> Iterable[str]:
        if rules.ignore_empty and value == b"":
            return
        if has("const") and value != rules.const:
            yield "must equal the constant"
        if has("len") and len(value) != rules.len:
            yield f"must be exactly {rules.len} bytes"
        if has("min_len") and len(value) < rules.min_len:
            yield f"must be at least {rules.min_len} bytes"
        if has("max_len") and len(value) > rules.max_len:
            yield f"must be at most {rules.max_len} bytes"
        if has("prefix") and not value.startswith(rules.prefix):
            yield "must start with the required prefix"
        if has("suffix") and not value.endswith(rules.suffix):
            yield "must end with the required suffix"

    return check


def _enum_rules(rules: validate_pb2.EnumRules, field: FieldDescriptor) -> ValueCheck:
    _reject_unknown(rules, {"const", "defined_only", "in", "not_in"}, field)
    enum_values: Any = field.enum_type.values if field.enum_type else ()
    defined = {value.number for value in enum_values}
    names = {value.number: value.name for value in enum_values}
    allowed = set(getattr(rules, "in"))
    forbidden = set(rules.not_in)

    def check(value: int) -> Iterable[str]:
        if rules.HasField("const") and value != rules.const:
            yield f"must be {names.get(rules.const, rules.const)}"
        if rules.defined_only and value not in defined:
            yield "must be a defined value"
        if allowed and value not in allowed:
            yield f"must be one of {[names.get(v, v) for v in sorted(allowed)]}"
        if value in forbidden:
            yield f"must not be {names.get(value, value)}"

    return check


def _seconds(message: Any) -> float:
    return float(message.seconds) + float(message.nanos) / 1e9


def _duration_rules(rules: validate_pb2.DurationRules) -> ValueCheck:
    bounds = {
        name: _seconds(getattr(rules, name))
        for name in ("lt", "lte", "gt", "gte")
        if rules.HasField(name)
    }

    def check(value: Any) -> Iterable[str]:
        yield from _bounds(_seconds(value), bounds, unit="s")

    return check


def _timestamp_rules(rules: validate_pb2.TimestampRules) -> ValueCheck:
    bounds = {
        name: _seconds(getattr(rules, name))
        for name in ("lt", "lte", "gt", "gte")
        if rules.HasField(name)
    }
    within = _seconds(rules.within) if rules.HasField("within") else None

    def check(value: Any) -> Iterable[str]:
        seconds = _seconds(value)
        yield from _bounds(seconds, bounds, unit="")
        now = time.time()
        if rules.lt_now and seconds >= now:
            yield "must be in the past"
        if rules.gt_now and seconds <= now:
            yield "must be in the future"
        if within is not None and abs(seconds - now) > within:
            yield f"must be within {within:g}s of now"

    return check


def _bounds(value: float, bounds: dict[str, float], unit: str) -> Iterable[str]:
    if "gt" in bounds and not value > bounds["gt"]:
        yield f"must be greater than {bounds['gt']:g}{unit}"
    if "gte" in bounds and not value >= bounds["gte"]:
        yield f"must be at least {bounds['gte']:g}{unit}"
    if "lt" in bounds and not value < bounds["lt"]:
        yield f"must be less than {bounds['lt']:g}{unit}"
    if "lte" in bounds and not value <= bounds["lte"]:
        yield f"must be at most {bounds['lte']:g}{unit}"


def _any_rules(rules: validate_pb2.AnyRules) -> ValueCheck:
    allowed = set(getattr(rules, "in"))
    forbidden = set(rules.not_in)

    def check(value: Any) -> Iterable[str]:
        if allowed and value.type_url not in allowed:
            yield "has a type that is not allowed"
        if value.type_url in forbidden:
            yield "has a type that is not allowed"

    return check


def validate_request(request: Message) -> list[FieldViolation]:
    """Validate a request; on an update (`update_mask` set) only the masked resource fields.

    AIP-134: a partial update sends the resource with only some fields meaningful, so a rule on
    a field outside the mask must not reject the request.
    """
    violations = validate(request)
    descriptor = request.DESCRIPTOR
    if "update_mask" not in descriptor.fields_by_name or not request.HasField("update_mask"):
        return violations
    paths = list(request.update_mask.paths)  # type: ignore[attr-defined]
    resource_fields = {
        f.name
        for f in descriptor.fields
        if f.name != "update_mask" and f.type == FieldDescriptor.TYPE_MESSAGE
    }

    def in_mask(violation: FieldViolation) -> bool:
        head, _, rest = violation.field.partition(".")
        if head.split("[")[0] not in resource_fields or not rest:
            return True
        return any(rest == p or rest.startswith(p + ".") or rest.startswith(p + "[") for p in paths)

    return [v for v in violations if in_mask(v)]
