"""Render Envoy's bootstrap for the inBeTwin edge from EdgeParams and the proto descriptor set.

`render_envoy_config(params)` returns the bootstrap as text (indented JSON, which is valid YAML,
after a `#` header); `build_envoy_config(params)` returns the same document as a dict. The static
skeleton is `envoy/envoy.yaml.tmpl`; everything that follows from the contracts is derived here:

* JWT rules (first match wins): `/healthz`, the JWKS path and every ACCESS_PUBLIC method (its exact
  native gRPC path, and each REST binding as a full-match regex plus a `:method` matcher) have no
  `requires`; then every other method's REST bindings (by their literal prefix), `/api/v1/`, each
  `/inbetwin.<svc>.v1.<Svc>Service/`, any `/inbetwin.` and `/grpc.` path require the provider.
* Routes: the transcoder rewrites a REST request to `/pkg.Service/Method` and clears the route
  cache, so the router matches the native path. Every non-internal method gets an exact-path route
  to its service's cluster (timeout, retries on NO_SIDE_EFFECTS reads, `timeout: 0s` for server
  streaming); ACCESS_INTERNAL methods get a 404 direct response; any other path is 404. Routes
  matched on REST paths before transcoding only carry per-route settings: the transcoder config
  (SSE/NDJSON by `Accept`, larger bodies for uploads) and CORS, which skips direct responses.
* Envoy's own error replies to REST clients become JSON shaped like `google.rpc.Status` plus a
  top-level `reason` (`local_reply_config`); native gRPC replies are left alone.
* gRPC server reflection (`grpc.reflection.v1alpha` and `v1`) is public at the edge, so that a
  client such as grpcurl can discover the contracts before it signs in. Each service's
  reflection describes that service only, and the service a reflection stream is about is inside
  its messages, where no route can see it: the client names it in the `x-inbetwin-service` header
  (`auth` or `inbetwin.auth.v1.AuthService`) and the stream goes to that service. Without the
  header (or with an unknown name) the edge answers with an error that lists the names.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import string
import sys
from pathlib import Path
from typing import Any

from services.edge.descriptors import (
    ACCESS_INTERNAL,
    ACCESS_PUBLIC,
    Method,
    Service,
    load_services,
    template_literal_prefix,
    template_regex,
)
from services.edge.params import SERVICES, EdgeParams, Upstream

JSON = dict[str, Any]

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "envoy" / "envoy.yaml.tmpl"

JWT_PROVIDER = "inbetwin_auth"
JWKS_CLUSTER = "jwks_self"
JWKS_PATH = "/.well-known/jwks.json"
HEALTH_PATH = "/healthz"
NOT_FOUND_BODY = "no route for this path"
ERROR_DOMAIN = "edge.inbetwin.app"
# Requests other than uploads: a JSON body the gRPC server's default 4 MiB limit would take.
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
STREAM_IDLE_TIMEOUT = "3600s"

SSE = "text/event-stream"
NDJSON = "application/x-ndjson"

# gRPC server reflection through the edge (see the module docstring).
REFLECTION_HEADER = "x-inbetwin-service"
REFLECTION_PATHS = {
    "v1alpha": "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "v1": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
}
# A reflection stream lives as long as the client's session (grpcurl: one command; a GUI: longer).
REFLECTION_IDLE_TIMEOUT = "300s"
# The edge's answer to a reflection stream without a known `x-inbetwin-service`: a native gRPC
# request gets the body as grpc-message and, from HTTP 400, the status INTERNAL. (404 would give
# UNIMPLEMENTED, which reflection clients report as "no reflection" without the message.)
REFLECTION_NO_SERVICE_STATUS = 400

_FILTER_TYPES = {
    "envoy.filters.http.header_mutation": (
        "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"
    ),
    "envoy.filters.http.cors": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors",
    "envoy.filters.http.jwt_authn": (
        "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
    ),
    "envoy.filters.http.grpc_json_transcoder": (
        "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"
    ),
    "envoy.filters.http.router": (
        "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
    ),
}
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"
CORS = "envoy.filters.http.cors"

# HTTP status of Envoy's own replies -> (google.rpc.Code, reason) in the JSON error body.
_STATUS_ERRORS: dict[int, tuple[int, str]] = {
    400: (3, "BAD_REQUEST"),
    401: (16, "UNAUTHENTICATED"),
    403: (7, "PERMISSION_DENIED"),
    404: (5, "NOT_FOUND"),
    405: (12, "METHOD_NOT_ALLOWED"),
    408: (4, "REQUEST_TIMEOUT"),
    413: (8, "PAYLOAD_TOO_LARGE"),
    429: (8, "RATE_LIMITED"),
    431: (3, "HEADERS_TOO_LARGE"),
    500: (13, "INTERNAL"),
    501: (12, "NOT_IMPLEMENTED"),
    502: (14, "UPSTREAM_UNAVAILABLE"),
    503: (14, "UPSTREAM_UNAVAILABLE"),
    504: (4, "UPSTREAM_TIMEOUT"),
}

# jwt_authn failures: a fragment of the response code details
# (`jwt_authn_access_denied{Jwt_is_expired}`) -> (google.rpc.Code, reason).
_JWT_ERRORS: tuple[tuple[str, int, str], ...] = (
    ("Jwt_is_missing", 16, "TOKEN_MISSING"),
    ("Jwt_is_expired", 16, "TOKEN_EXPIRED"),
    ("Jwt_not_yet_valid", 16, "TOKEN_NOT_YET_VALID"),
    ("Jwt_verification_fail", 16, "TOKEN_SIGNATURE_INVALID"),
    ("Jwt_issuer_is_not_configured", 16, "TOKEN_ISSUER_INVALID"),
    ("Audiences_in_Jwt_are_not_allowed", 7, "TOKEN_AUDIENCE_INVALID"),
    ("Jwks_doesn't_have_key_to_match_kid_or_alg", 16, "TOKEN_KEY_UNKNOWN"),
    ("Jwks_remote_fetch_is_failed", 16, "JWKS_UNAVAILABLE"),
    ("Jwks_doesn't_have_any_valid_public_key", 16, "JWKS_UNAVAILABLE"),
    ("Jwt_header", 16, "TOKEN_MALFORMED"),
    ("Jwt_payload", 16, "TOKEN_MALFORMED"),
    ("Jwt_signature", 16, "TOKEN_MALFORMED"),
    ("Jwt_is_not_in_the_form", 16, "TOKEN_MALFORMED"),
    ("jwt_authn_access_denied", 16, "TOKEN_INVALID"),
)


def _duration(seconds: float) -> str:
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _typed(name: str, config: JSON) -> JSON:
    return {"name": name, "typed_config": {"@type": _FILTER_TYPES[name], **config}}


# --- Filters ---------------------------------------------------------------------------------


def _header_mutation() -> JSON:
    """Drop what only the edge may set, before jwt_authn adds the trusted `x-user-id`."""
    return {
        "mutations": {
            "request_mutations": [
                {"remove": "x-user-id"},
                {"remove": "x-session-id"},
                # Set by the transcoder (the REST path and method); the access log reads them.
                {"remove": "x-envoy-original-path"},
                {"remove": "x-envoy-original-method"},
                # gRPC base64-decodes `-bin` metadata and fails the call (500) on bad input.
                {"remove_on_match": {"key_matcher": {"suffix": "-bin"}}},
                # HTTP allows header names gRPC refuses (`a*b`): the upstream would answer 500.
                {
                    "remove_on_match": {
                        "key_matcher": {"safe_regex": {"regex": "[0-9a-z_.-]*[^0-9a-z_.:-].*"}}
                    }
                },
            ]
        }
    }


def _cors_policy(origins: tuple[str, ...]) -> JSON:
    matchers = [{"prefix": ""} if o == "*" else {"exact": o} for o in origins]
    return {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": matchers,
        "allow_methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "allow_headers": (
            "authorization, content-type, accept, x-request-id, x-grpc-web, grpc-timeout"
        ),
        "expose_headers": "x-request-id, grpc-status, grpc-message, www-authenticate",
        "max_age": "600",
    }


def _rule(match: JSON, *, requires: bool) -> JSON:
    rule: JSON = {"match": match}
    if requires:
        rule["requires"] = {"provider_name": JWT_PROVIDER}
    return rule


def _method_match(regex: str, verb: str) -> JSON:
    return {
        "safe_regex": {"regex": regex},
        "headers": [{"name": ":method", "string_match": {"exact": verb}}],
    }


def jwt_rules(services: list[Service]) -> list[JSON]:
    """First match wins: public paths first, then everything the contracts expose needs a token."""
    rules: list[JSON] = [
        _rule({"path": HEALTH_PATH}, requires=False),
        _rule(_method_match(template_regex(JWKS_PATH), "GET"), requires=False),
    ]
    methods = [m for s in services for m in s.methods]
    for method in methods:
        if method.access == ACCESS_PUBLIC:
            rules.append(_rule({"path": method.grpc_path}, requires=False))
            for binding in method.bindings:
                regex = template_regex(binding.template)
                rules.append(_rule(_method_match(regex, binding.verb), requires=False))
    prefixes: list[str] = []
    for method in methods:
        if method.access != ACCESS_PUBLIC:
            for binding in method.bindings:
                prefix = template_literal_prefix(binding.template)
                if not prefix.startswith("/api/v1/") and prefix not in prefixes:
                    prefixes.append(prefix)
    prefixes.append("/api/v1/")
    prefixes.extend(s.grpc_prefix for s in services)
    # Reflection is public (a client discovers the contracts before it signs in); the rest of
    # `/grpc.` (health) is not exposed at the edge, and native paths the descriptor does not know
    # fail closed: a probe needs a token.
    rules.extend(_rule({"path": path}, requires=False) for path in REFLECTION_PATHS.values())
    prefixes.extend(["/inbetwin.", "/grpc."])
    rules.extend(_rule({"prefix": p}, requires=True) for p in prefixes)
    return rules


def _jwt_authn(params: EdgeParams, services: list[Service]) -> JSON:
    return {
        "providers": {
            JWT_PROVIDER: {
                "issuer": params.jwt_issuer,
                "audiences": [params.jwt_audience],
                "remote_jwks": {
                    "http_uri": {
                        "uri": f"http://{params.jwks_host}:{params.jwks_port}{JWKS_PATH}",
                        "cluster": JWKS_CLUSTER,
                        "timeout": "2s",
                    },
                    "cache_duration": _duration(params.jwks_cache_seconds),
                    # Refetch in the background: the last good JWKS survives an auth outage.
                    "async_fetch": {"fast_listener": False, "failed_refetch_duration": "1s"},
                },
                "forward": False,
                "claim_to_headers": [
                    {"header_name": "x-user-id", "claim_name": "sub"},
                    {"header_name": "x-session-id", "claim_name": "sid"},
                ],
                "jwt_cache_config": {"jwt_cache_size": 1000},
            }
        },
        "rules": jwt_rules(services),
        "bypass_cors_preflight": True,
    }


def _transcoder(
    params: EdgeParams,
    services: list[Service],
    *,
    stream: str = "",
    max_request_bytes: int | None = None,
) -> JSON:
    """The transcoder's whole config. A per-route config replaces the filter's: repeat it all."""
    print_options: JSON = {
        "add_whitespace": False,
        "always_print_primitive_fields": True,
        "always_print_enums_as_ints": False,
        # Responses use the .proto names (`display_name`), like requests and error field paths.
        "preserve_proto_field_names": True,
    }
    if stream == SSE:
        print_options["stream_sse_style_delimited"] = True
    elif stream == NDJSON:
        print_options["stream_newline_delimited"] = True
    if max_request_bytes is None:
        max_request_bytes = min(DEFAULT_MAX_REQUEST_BYTES, params.max_upload_bytes)
    return {
        "proto_descriptor": str(params.descriptor_path),
        "services": [s.full_name for s in services],
        "print_options": print_options,
        "convert_grpc_status": True,
        "query_param_unescape_plus": True,
        "request_validation_options": {
            "reject_unknown_method": True,
            "reject_unknown_query_parameters": True,
        },
        "max_request_body_size": max_request_bytes,
        "max_response_body_size": params.max_upload_bytes,
    }


def http_filters(params: EdgeParams, services: list[Service]) -> list[JSON]:
    filters = [_typed("envoy.filters.http.header_mutation", _header_mutation())]
    if params.cors_allowed_origins:
        filters.append(_typed(CORS, {}))
    filters.append(_typed("envoy.filters.http.jwt_authn", _jwt_authn(params, services)))
    filters.append(_typed(TRANSCODER, _transcoder(params, services)))
    filters.append(_typed("envoy.filters.http.router", {}))
    return filters


# --- Routes ----------------------------------------------------------------------------------


def _per_route_transcoder(config: JSON) -> JSON:
    return {TRANSCODER: {"@type": _FILTER_TYPES[TRANSCODER], **config}}


def _route_action(params: EdgeParams, svc: str, method: Method) -> JSON:
    action: JSON = {"cluster": svc}
    if method.server_streaming:
        action["timeout"] = "0s"
        action["idle_timeout"] = STREAM_IDLE_TIMEOUT
    else:
        action["timeout"] = _duration(params.upstream_timeout_seconds)
    if method.read_only:
        action["retry_policy"] = {
            "retry_on": "unavailable,cancelled,reset,connect-failure",
            "num_retries": 2,
            "retry_back_off": {"base_interval": "0.025s", "max_interval": "0.25s"},
        }
    return action


def _direct(status: int, body: str) -> JSON:
    return {"status": status, "body": {"inline_string": body}}


def _rest_routes(params: EdgeParams, services: list[Service]) -> list[JSON]:
    """Routes matched on REST paths before transcoding.

    They only carry per-route settings: the transcoder then rewrites the path to
    `/pkg.Service/Method` and the router matches again. Variants pick a transcoder config (SSE or
    NDJSON by `Accept`, a larger body for uploads); every binding also gets a plain route so that
    the CORS filter, which ignores direct responses, applies to it (preflights included).
    """
    variants: list[JSON] = []
    carriers: list[JSON] = []
    seen: set[str] = set()
    for service in services:
        for method in service.methods:
            if method.access == ACCESS_INTERNAL:
                continue
            action = _route_action(params, service.svc, method)
            kinds: list[tuple[str, str]] = []  # (name suffix, stream style = Accept fragment)
            if method.server_streaming:
                kinds += [("sse", SSE), ("ndjson", NDJSON)]
            if method.upload:
                kinds.append(("upload", ""))
            max_request = params.max_upload_bytes if method.upload else None
            for i, binding in enumerate(method.bindings):
                # Variants use the strict pattern so that they never catch another method's
                # `:verb` path; carriers the loose one so that every path of the binding gets CORS.
                regex = template_regex(binding.template, strict=False)
                for suffix, style in kinds:
                    config = _transcoder(
                        params, services, stream=style, max_request_bytes=max_request
                    )
                    match = _method_match(template_regex(binding.template), binding.verb)
                    if style:
                        match["headers"].append(
                            {"name": "accept", "string_match": {"contains": style}}
                        )
                    variants.append(
                        {
                            "name": f"rest:{method.service}.{method.name}:{i}:{suffix}",
                            "match": match,
                            "route": action,
                            "typed_per_filter_config": _per_route_transcoder(config),
                        }
                    )
                if regex not in seen:
                    seen.add(regex)
                    carriers.append(
                        {
                            "name": f"rest:{method.service}.{method.name}:{i}",
                            "match": {"safe_regex": {"regex": regex}},
                            "route": action,
                        }
                    )
    return variants + carriers


def routes(params: EdgeParams, services: list[Service]) -> list[JSON]:
    """Native paths first (the router sees transcoded requests as `/pkg.Service/Method`)."""
    result: list[JSON] = [
        {
            "name": "healthz",
            "match": {"path": HEALTH_PATH},
            "direct_response": _direct(200, '{"status":"SERVING"}'),
            "response_headers_to_add": [
                {
                    "header": {"key": "content-type", "value": "application/json"},
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                }
            ],
            "typed_per_filter_config": {
                TRANSCODER: {
                    "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig",
                    "disabled": True,
                }
            },
        }
    ]
    for service in services:
        for method in service.methods:
            if method.access == ACCESS_INTERNAL:
                # Inside the mesh only: the edge answers as for an unknown method.
                result.append(
                    {
                        "name": f"internal:{method.service}.{method.name}",
                        "match": {"path": method.grpc_path},
                        "direct_response": _direct(404, NOT_FOUND_BODY),
                    }
                )
    for service in services:
        for method in service.methods:
            if method.access != ACCESS_INTERNAL:
                result.append(
                    {
                        "name": f"grpc:{method.service}.{method.name}",
                        "match": {"path": method.grpc_path},
                        "route": _route_action(params, service.svc, method),
                    }
                )
    result.extend(reflection_routes(services))
    # Native gRPC to a method the descriptor does not know: never routed (it may be internal).
    result.append(
        {
            "name": "grpc_not_found",
            "match": {"prefix": "/", "grpc": {}},
            "direct_response": _direct(404, NOT_FOUND_BODY),
        }
    )
    result.extend(_rest_routes(params, services))
    result.append(
        {
            "name": "not_found",
            "match": {"prefix": "/"},
            "direct_response": _direct(404, NOT_FOUND_BODY),
        }
    )
    return result


def reflection_service_names(services: list[Service]) -> dict[str, list[str]]:
    """Each cluster with the `x-inbetwin-service` values that select it: `auth`, then the full
    names of the services it serves (`inbetwin.auth.v1.AuthService`)."""
    names: dict[str, list[str]] = {}
    for service in services:
        names.setdefault(service.svc, [service.svc]).append(service.full_name)
    return names


def reflection_routes(services: list[Service]) -> list[JSON]:
    """Native gRPC reflection streams, routed by `x-inbetwin-service` to one service.

    Only native gRPC requests match (a REST request to the same path gets the plain 404). The
    cluster's reflection answers for that service alone; `v1` goes through as well, so a client
    that tries it first gets the server's own UNIMPLEMENTED and falls back to `v1alpha`.
    """
    names = reflection_service_names(services)
    known = ", ".join(names)
    result: list[JSON] = []
    for version, path in REFLECTION_PATHS.items():
        for svc, values in names.items():
            regex = "|".join(_re_escape(value) for value in values)
            result.append(
                {
                    "name": f"reflection:{version}:{svc}",
                    "match": {
                        "path": path,
                        "grpc": {},
                        "headers": [
                            {
                                "name": REFLECTION_HEADER,
                                "string_match": {"safe_regex": {"regex": f"(?:{regex})"}},
                            }
                        ],
                    },
                    "route": {
                        "cluster": svc,
                        "timeout": "0s",
                        "idle_timeout": REFLECTION_IDLE_TIMEOUT,
                    },
                }
            )
        result.append(
            {
                "name": f"reflection:{version}:no_service",
                "match": {"path": path, "grpc": {}},
                "direct_response": _direct(
                    REFLECTION_NO_SERVICE_STATUS,
                    f"reflection at the edge is per service: send the header "
                    f"{REFLECTION_HEADER} with one of {known} (or a full service name)",
                ),
            }
        )
    return result


def _re_escape(text: str) -> str:
    """An RE2 literal (`re.escape` would also escape characters RE2 takes as they are)."""
    return "".join(f"\\{c}" if c in ".^$|?*+()[]{}\\" else c for c in text)


def route_config(params: EdgeParams, services: list[Service]) -> JSON:
    virtual_host: JSON = {"name": "edge", "domains": ["*"], "routes": routes(params, services)}
    if params.cors_allowed_origins:
        virtual_host["typed_per_filter_config"] = {CORS: _cors_policy(params.cors_allowed_origins)}
    return {"name": "edge", "virtual_hosts": [virtual_host]}


# --- Local replies and access log --------------------------------------------------------------


def _not_grpc() -> JSON:
    """Envoy's reply goes to a REST client: not native gRPC, or transcoded.

    Native gRPC local replies are left alone: a JSON body would end up in grpc-message. A request
    the transcoder already rewrote carries `content-type: application/grpc`, yet Envoy still
    answers it as HTTP; the transcoder's `x-envoy-original-path` marks it (header_mutation drops
    a client-sent copy).
    """
    return {
        "or_filter": {
            "filters": [
                {
                    "header_filter": {
                        "header": {
                            "name": "content-type",
                            "string_match": {"prefix": "application/grpc"},
                            "invert_match": True,
                            "treat_missing_header_as_empty": True,
                        }
                    }
                },
                {
                    "header_filter": {
                        "header": {"name": "x-envoy-original-path", "present_match": True}
                    }
                },
            ]
        }
    }


def _error_body(code: int, reason: str) -> JSON:
    return {
        "json_format": {
            "code": code,
            "message": "%LOCAL_REPLY_BODY%",
            "reason": reason,
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": ERROR_DOMAIN,
                }
            ],
            "request_id": "%REQ(X-REQUEST-ID)%",
        }
    }


def _cel(expression: str) -> JSON:
    return {
        "extension_filter": {
            "name": "envoy.access_loggers.extension_filters.cel",
            "typed_config": {
                "@type": (
                    "type.googleapis.com/"
                    "envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter"
                ),
                "expression": expression,
            },
        }
    }


def local_reply_config() -> JSON:
    mappers: list[JSON] = []
    for fragment, code, reason in _JWT_ERRORS:
        details = fragment.replace("\\", "\\\\").replace("'", "\\'")
        mappers.append(
            {
                "filter": {
                    "and_filter": {
                        "filters": [
                            _not_grpc(),
                            _cel(f"response.code_details.contains('{details}')"),
                        ]
                    }
                },
                "body_format_override": _error_body(code, reason),
            }
        )
    for status, (code, reason) in _STATUS_ERRORS.items():
        status_filter = {
            "status_code_filter": {
                "comparison": {"op": "EQ", "value": {"default_value": status, "runtime_key": ""}}
            }
        }
        mappers.append(
            {
                "filter": {"and_filter": {"filters": [_not_grpc(), status_filter]}},
                "body_format_override": _error_body(code, reason),
            }
        )
    any_error = {
        "status_code_filter": {
            "comparison": {"op": "GE", "value": {"default_value": 400, "runtime_key": ""}}
        }
    }
    mappers.append(
        {
            "filter": {"and_filter": {"filters": [_not_grpc(), any_error]}},
            "body_format_override": _error_body(2, "EDGE_ERROR"),
        }
    )
    return {"mappers": mappers}


def access_log(params: EdgeParams) -> list[JSON]:
    return [
        {
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": (
                    "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
                ),
                "path": params.access_log_path,
                "log_format": {
                    "json_format": {
                        "time": "%START_TIME%",
                        "method": "%REQ(X-ENVOY-ORIGINAL-METHOD?:METHOD)%",
                        "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
                        "grpc_method": "%REQ(:PATH)%",
                        "protocol": "%PROTOCOL%",
                        "status": "%RESPONSE_CODE%",
                        "grpc_status": "%GRPC_STATUS_NUMBER%",
                        "duration_ms": "%DURATION%",
                        "upstream_ms": "%RESPONSE_DURATION%",
                        "user": "%REQ(X-USER-ID)%",
                        "request_id": "%REQ(X-REQUEST-ID)%",
                        "upstream_cluster": "%UPSTREAM_CLUSTER%",
                        "upstream_host": "%UPSTREAM_HOST%",
                        "response_flags": "%RESPONSE_FLAGS%",
                        "details": "%RESPONSE_CODE_DETAILS%",
                        "bytes_in": "%BYTES_RECEIVED%",
                        "bytes_out": "%BYTES_SENT%",
                        "client": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
                        "user_agent": "%REQ(USER-AGENT)%",
                    }
                },
            },
        }
    ]


# --- Clusters --------------------------------------------------------------------------------


def _endpoint_type(host: str) -> str:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "STRICT_DNS"
    return "STATIC"


def _load_assignment(name: str, upstream: Upstream) -> JSON:
    return {
        "cluster_name": name,
        "endpoints": [
            {
                "lb_endpoints": [
                    {
                        "endpoint": {
                            "address": {
                                "socket_address": {
                                    "address": upstream.host,
                                    "port_value": upstream.port,
                                }
                            }
                        }
                    }
                ]
            }
        ],
    }


def _service_cluster(name: str, upstream: Upstream) -> JSON:
    return {
        "name": name,
        "type": _endpoint_type(upstream.host),
        "dns_lookup_family": "V4_PREFERRED",
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": (
                    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
                ),
                "explicit_http_config": {
                    "http2_protocol_options": {
                        "connection_keepalive": {"interval": "30s", "timeout": "5s"}
                    }
                },
            }
        },
        "circuit_breakers": {
            "thresholds": [
                {"max_connections": 10000, "max_pending_requests": 10000, "max_requests": 10000}
            ]
        },
        "health_checks": [
            {
                "timeout": "1s",
                "interval": "2s",
                "no_traffic_interval": "2s",
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "grpc_health_check": {"service_name": ""},
            }
        ],
        "outlier_detection": {
            "consecutive_5xx": 5,
            "consecutive_gateway_failure": 3,
            "enforcing_consecutive_gateway_failure": 100,
            "interval": "2s",
            "base_ejection_time": "10s",
        },
        "load_assignment": _load_assignment(name, upstream),
    }


def clusters(params: EdgeParams, services: list[Service]) -> list[JSON]:
    missing = sorted({s.svc for s in services} - params.upstreams.keys())
    if missing:
        raise ValueError(f"no upstream for service(s) {', '.join(missing)} in EdgeParams.upstreams")
    names = [n for n in SERVICES if n in params.upstreams]
    names += sorted(n for n in params.upstreams if n not in SERVICES)
    result = [_service_cluster(n, params.upstreams[n]) for n in names]
    jwks = Upstream(host=params.jwks_host, port=params.jwks_port)
    result.append(
        {
            "name": JWKS_CLUSTER,
            "type": _endpoint_type(jwks.host),
            "dns_lookup_family": "V4_PREFERRED",
            "connect_timeout": "1s",
            "load_assignment": _load_assignment(JWKS_CLUSTER, jwks),
        }
    )
    return result


# --- Rendering -------------------------------------------------------------------------------


def _fill_template(params: EdgeParams, services: list[Service], template: str) -> str:
    values: dict[str, Any] = {
        "admin_port": params.admin_port,
        "listen_host": params.listen_host,
        "listen_port": params.listen_port,
        "access_log": access_log(params),
        "local_reply_config": local_reply_config(),
        "http_filters": http_filters(params, services),
        "route_config": route_config(params, services),
        "clusters": clusters(params, services),
    }
    return string.Template(template).substitute({k: json.dumps(v) for k, v in values.items()})


def _split_header(text: str) -> tuple[list[str], str]:
    lines = text.splitlines()
    n = 0
    while n < len(lines) and (lines[n].startswith("#") or not lines[n].strip()):
        n += 1
    return lines[:n], "\n".join(lines[n:])


STATS_PATH = "/stats/prometheus"
ADMIN_CLUSTER = "envoy_admin"


def stats_listener(params: EdgeParams, stats_port: int) -> JSON:
    """`GET /stats/prometheus` proxied to the loopback admin; every other path is a 404, so
    the admin's mutating endpoints (`/quitquitquit`, `/drain_listeners`, ...) stay private."""
    route_config = {
        "virtual_hosts": [
            {
                "name": "stats",
                "domains": ["*"],
                "routes": [
                    {
                        "match": {"path": STATS_PATH, "headers": [_method_is("GET")]},
                        "route": {"cluster": ADMIN_CLUSTER, "timeout": "5s"},
                    },
                    {"match": {"prefix": "/"}, "direct_response": {"status": 404}},
                ],
            }
        ]
    }
    return {
        "name": "stats",
        "address": {"socket_address": {"address": params.listen_host, "port_value": stats_port}},
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": {
                            "@type": (
                                "type.googleapis.com/envoy.extensions.filters.network."
                                "http_connection_manager.v3.HttpConnectionManager"
                            ),
                            "stat_prefix": "stats",
                            "codec_type": "HTTP1",
                            "route_config": route_config,
                            "http_filters": [
                                {
                                    "name": "envoy.filters.http.router",
                                    "typed_config": {
                                        "@type": (
                                            "type.googleapis.com/"
                                            "envoy.extensions.filters.http.router.v3.Router"
                                        )
                                    },
                                }
                            ],
                        },
                    }
                ]
            }
        ],
    }


def _method_is(method: str) -> JSON:
    return {"name": ":method", "string_match": {"exact": method}}


def admin_cluster(params: EdgeParams) -> JSON:
    admin = Upstream(host="127.0.0.1", port=params.admin_port)
    return {
        "name": ADMIN_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": _load_assignment(ADMIN_CLUSTER, admin),
    }


def build_envoy_config(params: EdgeParams, template_path: Path = TEMPLATE_PATH) -> JSON:
    """The bootstrap as a dict (what `render_envoy_config` writes)."""
    services = load_services(params.descriptor_path)
    _, body = _split_header(template_path.read_text())
    config: JSON = json.loads(_fill_template(params, services, body))
    if params.stats_port is not None:
        resources = config["static_resources"]
        resources["listeners"].append(stats_listener(params, params.stats_port))
        resources["clusters"].append(admin_cluster(params))
    return config


def render_envoy_config(params: EdgeParams, template_path: Path = TEMPLATE_PATH) -> str:
    """The full Envoy bootstrap: indented JSON (valid YAML) after a `#` comment header."""
    header = (
        "# Generated by services/edge/render.py from envoy/envoy.yaml.tmpl and "
        f"{Path(params.descriptor_path).name}; do not edit.\n"
    )
    return header + json.dumps(build_envoy_config(params, template_path), indent=2) + "\n"


# --- CLI -------------------------------------------------------------------------------------


def _upstream(text: str) -> tuple[str, Upstream]:
    name, _, address = text.partition("=")
    host, _, port = address.rpartition(":")
    if not name or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=HOST:PORT, got {text!r}")
    return name, Upstream(host=host.strip("[]"), port=int(port))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.edge.render",
        description="Render the inBeTwin Envoy bootstrap from the proto descriptor set.",
    )
    parser.add_argument("--descriptor", type=Path, default=Path("gen/descriptor/inbetwin.pb"))
    parser.add_argument("--listen-host", default="127.0.0.1")
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--admin-port", type=int, required=True)
    parser.add_argument(
        "--stats-port", type=int, help="serve only /stats/prometheus on the listen host here"
    )
    parser.add_argument(
        "--upstream",
        type=_upstream,
        action="append",
        default=[],
        metavar="NAME=HOST:PORT",
        help="a service's gRPC address; repeat for each service",
    )
    parser.add_argument("--jwt-issuer", required=True)
    parser.add_argument("--jwt-audience", required=True)
    parser.add_argument("--jwks-host", default="127.0.0.1")
    parser.add_argument("--jwks-port", type=int, help="default: the listen port")
    parser.add_argument("--jwks-cache-seconds", type=int, default=5)
    parser.add_argument("--cors-origin", action="append", default=[])
    parser.add_argument("--max-upload-bytes", type=int, default=32 * 1024 * 1024)
    parser.add_argument("--access-log", default="/dev/stdout")
    parser.add_argument("--upstream-timeout", type=float, default=15.0)
    parser.add_argument("-o", "--output", type=Path, help="default: stdout")
    args = parser.parse_args(argv)
    params = EdgeParams(
        listen_host=args.listen_host,
        listen_port=args.listen_port,
        admin_port=args.admin_port,
        stats_port=args.stats_port,
        upstreams=dict(args.upstream),
        descriptor_path=args.descriptor.resolve(),
        jwt_issuer=args.jwt_issuer,
        jwt_audience=args.jwt_audience,
        jwks_host=args.jwks_host,
        jwks_port=args.jwks_port if args.jwks_port is not None else args.listen_port,
        jwks_cache_seconds=args.jwks_cache_seconds,
        cors_allowed_origins=tuple(args.cors_origin),
        max_upload_bytes=args.max_upload_bytes,
        access_log_path=args.access_log,
        upstream_timeout_seconds=args.upstream_timeout,
    )
    text = render_envoy_config(params)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
