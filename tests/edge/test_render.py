"""The rendered Envoy edge: static checks on the config, then real Envoy processes.

The contracts grow while this runs elsewhere, so the checks walk whatever the descriptor holds,
and a synthetic `inbetwin.edgetest.v1.EdgeTestService` (added to a copy of the descriptor set)
covers what the real services may not have yet: server streaming, uploads, a public path outside
`/api/v1/` and an authenticated one.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.api import annotations_pb2, http_pb2, httpbody_pb2
from google.protobuf import descriptor_pb2
from inbetwin.common.v1 import options_pb2

from services.edge.descriptors import (
    ACCESS_INTERNAL,
    ACCESS_PUBLIC,
    load_services,
    template_literal_prefix,
    template_regex,
)
from services.edge.params import SERVICES, EdgeParams, Upstream
from services.edge.render import build_envoy_config, render_envoy_config

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTOR = ROOT / "gen" / "descriptor" / "inbetwin.pb"
ENVOY = Path(sys.executable).parent / "envoy"
ISSUER = "https://auth.inbetwin.test"
AUDIENCE = "inbetwin-api"
TEST_SERVICE = "inbetwin.edgetest.v1.EdgeTestService"
UPLOAD_LIMIT = 8 * 1024 * 1024
JSONDict = dict[str, Any]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- A synthetic service added to the real descriptor set ------------------------------------


def _method(
    name: str,
    request: str,
    response: str,
    *,
    http: http_pb2.HttpRule | None = None,
    access: int = options_pb2.ACCESS_UNSPECIFIED,
    read_only: bool = False,
    streaming: bool = False,
) -> descriptor_pb2.MethodDescriptorProto:
    method = descriptor_pb2.MethodDescriptorProto(
        name=name,
        input_type=f".inbetwin.edgetest.v1.{request}",
        output_type=f".inbetwin.edgetest.v1.{response}",
        server_streaming=streaming,
    )
    if http is not None:
        method.options.Extensions[annotations_pb2.http].CopyFrom(http)
    if access:
        extensions: Any = method.options.Extensions
        extensions[options_pb2.access] = access
    if read_only:
        method.options.idempotency_level = descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
    return method


def _message(name: str, *fields: tuple[str, str]) -> descriptor_pb2.DescriptorProto:
    message = descriptor_pb2.DescriptorProto(name=name)
    for number, (field_name, kind) in enumerate(fields, start=1):
        f = message.field.add(name=field_name, number=number, json_name=field_name)
        f.label = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
        if kind == "string":
            f.type = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
        else:
            f.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
            f.type_name = kind
    return message


def _test_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="inbetwin/edgetest/v1/edgetest_service.proto",
        package="inbetwin.edgetest.v1",
        syntax="proto3",
        dependency=[
            "google/api/annotations.proto",
            "google/api/httpbody.proto",
            "inbetwin/common/v1/options.proto",
        ],
    )
    file.message_type.extend(
        [
            _message("Thing", ("id", "string"), ("display_name", "string")),
            _message("GetThingRequest", ("id", "string")),
            _message("WatchThingsRequest", ("filter", "string")),
            _message("UploadRequest", ("body", ".google.api.HttpBody")),
            _message("HookRequest", ("platform", "string"), ("body", ".google.api.HttpBody")),
            _message("Empty"),
        ]
    )
    service = file.service.add(name="EdgeTestService")
    service.method.extend(
        [
            _method(
                "GetThing",
                "GetThingRequest",
                "Thing",
                http=http_pb2.HttpRule(get="/api/v1/edgetest/things/{id}"),
                read_only=True,
            ),
            _method(
                "WatchThings",
                "WatchThingsRequest",
                "Thing",
                http=http_pb2.HttpRule(get="/api/v1/edgetest/things:watch"),
                read_only=True,
                streaming=True,
            ),
            _method(
                "Upload",
                "UploadRequest",
                "Empty",
                http=http_pb2.HttpRule(post="/api/v1/edgetest/uploads", body="body"),
            ),
            _method(
                "Hook",
                "HookRequest",
                "Empty",
                http=http_pb2.HttpRule(post="/hooks/edgetest/{platform}", body="body"),
                access=options_pb2.ACCESS_PUBLIC,
            ),
            _method(
                "GetSecret",
                "GetThingRequest",
                "Thing",
                http=http_pb2.HttpRule(get="/edgetest/secrets/{id}"),
            ),
            _method("Purge", "Empty", "Empty", access=options_pb2.ACCESS_INTERNAL),
        ]
    )
    return file


@pytest.fixture(scope="module")
def descriptor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real descriptor set plus EdgeTestService."""
    fds = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes())
    fds.file.append(_test_file())
    path = tmp_path_factory.mktemp("descriptor") / "inbetwin_edgetest.pb"
    path.write_bytes(fds.SerializeToString())
    return path


def _params(descriptor: Path, **overrides: Any) -> EdgeParams:
    listen_port = overrides.pop("listen_port", _free_port())
    upstream = Upstream(host="127.0.0.1", port=overrides.pop("upstream_port", _free_port()))
    names = [*SERVICES, "edgetest"]
    values: dict[str, Any] = {
        "listen_host": "127.0.0.1",
        "listen_port": listen_port,
        "admin_port": _free_port(),
        "upstreams": {n: upstream for n in names},
        "descriptor_path": descriptor,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "jwks_host": "127.0.0.1",
        "jwks_port": listen_port,
        "jwks_cache_seconds": 5,
        "access_log_path": "/dev/null",
        **overrides,
    }
    return EdgeParams(**values)


def _hcm(config: JSONDict) -> JSONDict:
    listener = config["static_resources"]["listeners"][0]
    hcm: JSONDict = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return hcm


def _filter(config: JSONDict, name: str) -> JSONDict:
    found: JSONDict = next(f for f in _hcm(config)["http_filters"] if f["name"] == name)
    return found["typed_config"]  # type: ignore[no-any-return]


def _routes(config: JSONDict) -> list[JSONDict]:
    routes: list[JSONDict] = _hcm(config)["route_config"]["virtual_hosts"][0]["routes"]
    return routes


# --- Static checks on the rendered config ----------------------------------------------------


@pytest.mark.parametrize("template", ["/a/{x}", "/a/{x=**}", "/a/{x=b/*}/c:verb", "/a:do"])
def test_template_regexes(template: str) -> None:
    cases = {
        "/a/{x}": (["/a/1"], ["/a/1/2", "/a/1:delete", "/a/"]),
        "/a/{x=**}": (["/a/1/2/3", "/a/"], ["/a/1:do", "/b/1"]),
        "/a/{x=b/*}/c:verb": (["/a/b/1/c:verb"], ["/a/b/1/c", "/a/x/1/c:verb"]),
        "/a:do": (["/a:do"], ["/a", "/a:done"]),
    }
    good, bad = cases[template]
    strict = template_regex(template)
    for path in good:
        assert re.fullmatch(strict, path), (strict, path)
        assert path.startswith(template_literal_prefix(template))
    for path in bad:
        assert not re.fullmatch(strict, path), (strict, path)
    assert re.fullmatch(template_regex("/a/{x}", strict=False), "/a/1:delete")


def test_render_is_the_built_config_and_validates(descriptor: Path, tmp_path: Path) -> None:
    params = _params(DESCRIPTOR, cors_allowed_origins=("http://localhost:3000",))
    text = render_envoy_config(params)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert json.loads(body) == build_envoy_config(params)
    for p in (params, _params(descriptor)):
        path = tmp_path / "envoy.yaml"
        path.write_text(render_envoy_config(p))
        result = subprocess.run(
            [str(ENVOY), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("origins", [(), ("http://localhost:3000",)])
def test_filter_order(descriptor: Path, origins: tuple[str, ...]) -> None:
    config = build_envoy_config(_params(descriptor, cors_allowed_origins=origins))
    names = [f["name"] for f in _hcm(config)["http_filters"]]
    cors = ["envoy.filters.http.cors"] if origins else []
    assert names == [
        "envoy.filters.http.header_mutation",
        *cors,
        "envoy.filters.http.jwt_authn",
        "envoy.filters.http.grpc_json_transcoder",
        "envoy.filters.http.router",
    ]
    mutations = _filter(config, "envoy.filters.http.header_mutation")["mutations"]
    assert {"remove": "x-user-id"} in mutations["request_mutations"]
    assert {"remove": "x-session-id"} in mutations["request_mutations"]
    vhost = _hcm(config)["route_config"]["virtual_hosts"][0]
    assert ("typed_per_filter_config" in vhost) == bool(origins)


def _requires(rules: list[JSONDict], method: str, path: str) -> bool:
    """Evaluate jwt_authn rules (first match wins) the way Envoy does; no match: no token."""
    bare = path.split("?", 1)[0]
    for rule in rules:
        match = rule["match"]
        if "path" in match and bare != match["path"]:
            continue
        if "prefix" in match and not path.startswith(match["prefix"]):
            continue
        if "safe_regex" in match and not re.fullmatch(match["safe_regex"]["regex"], bare):
            continue
        headers = {h["name"]: h["string_match"]["exact"] for h in match.get("headers", [])}
        if headers.get(":method", method) != method:
            continue
        return "requires" in rule
    return False


def test_jwt_rules_follow_the_access_option(descriptor: Path) -> None:
    config = build_envoy_config(_params(descriptor))
    jwt_config = _filter(config, "envoy.filters.http.jwt_authn")
    rules = jwt_config["rules"]
    provider = jwt_config["providers"][next(iter(jwt_config["providers"]))]
    assert provider["claim_to_headers"] == [
        {"header_name": "x-user-id", "claim_name": "sub"},
        {"header_name": "x-session-id", "claim_name": "sid"},
    ]
    assert provider["forward"] is False
    assert provider["jwt_cache_config"]["jwt_cache_size"] > 0
    assert provider["remote_jwks"]["async_fetch"]["fast_listener"] is False
    services = load_services(descriptor)
    assert {s.full_name for s in services} >= {"inbetwin.auth.v1.AuthService", TEST_SERVICE}
    for service in services:
        for method in service.methods:
            public = method.access == ACCESS_PUBLIC
            assert _requires(rules, "POST", method.grpc_path) is not public, method.grpc_path
            if public:
                literal = [r for r in rules if r["match"].get("path") == method.grpc_path]
                assert literal, method.grpc_path
                assert all("requires" not in r for r in literal)
            for binding in method.bindings:
                example = re.sub(r"\{[^}]*\}", "x", binding.template)
                assert _requires(rules, binding.verb, example) is not public, example
    cases = [
        ("POST", "/api/v1/auth/login", False),
        ("GET", "/api/v1/auth/login", True),
        ("POST", "/api/v1/auth/oauth/google:start", False),
        ("GET", "/api/v1/auth/oauth/google/callback?code=1&state=2", False),
        ("GET", "/api/v1/auth/me", True),
        ("GET", "/.well-known/jwks.json", False),
        ("GET", "/healthz", False),
        ("GET", "/api/v1/agent/agents", True),
        ("POST", "/hooks/edgetest/telegram", False),
        ("GET", "/edgetest/secrets/1", True),
        ("POST", "/inbetwin.auth.v1.AuthService/GetMe", True),
        ("POST", "/inbetwin.auth.v1.AuthService/Login", False),
        ("POST", "/inbetwin.auth.v1.AuthService/GetEntitlements", True),
        ("POST", "/inbetwin.unknown.v1.UnknownService/Call", True),
        ("POST", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", False),
        ("POST", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", False),
        ("POST", "/grpc.health.v1.Health/Check", True),
    ]
    for verb, path, needs_token in cases:
        assert _requires(rules, verb, path) is needs_token, (verb, path)


def test_routes(descriptor: Path) -> None:
    params = _params(descriptor, upstream_timeout_seconds=7)
    config = build_envoy_config(params)
    routes = _routes(config)
    by_path: dict[str, list[JSONDict]] = {}
    for route in routes:
        if "path" in route["match"]:
            by_path.setdefault(route["match"]["path"], []).append(route)
    for service in load_services(descriptor):
        for method in service.methods:
            (route,) = by_path[method.grpc_path]
            if method.access == ACCESS_INTERNAL:
                assert route["direct_response"]["status"] == 404
                continue
            action = route["route"]
            assert action["cluster"] == service.svc
            if method.server_streaming:
                assert action["timeout"] == "0s"
            else:
                assert action["timeout"] == "7s"
            assert ("retry_policy" in action) is method.read_only
            if method.read_only:
                assert "unavailable" in action["retry_policy"]["retry_on"]
    assert routes[-1]["match"] == {"prefix": "/"}
    assert routes[-1]["direct_response"]["status"] == 404
    assert by_path["/healthz"][0]["direct_response"]["status"] == 200
    # Native paths come before any route matched on a REST path.
    first_rest = next(i for i, r in enumerate(routes) if r["name"].startswith("rest:"))
    assert all(not r["name"].startswith(("grpc:", "internal:")) for r in routes[first_rest:])


def test_streaming_and_upload_transcoder_configs(descriptor: Path) -> None:
    params = _params(descriptor, max_upload_bytes=5_000_000)
    config = build_envoy_config(params)
    transcoder = _filter(config, "envoy.filters.http.grpc_json_transcoder")
    assert transcoder["convert_grpc_status"] is True
    assert transcoder["request_validation_options"] == {
        "reject_unknown_method": True,
        "reject_unknown_query_parameters": True,
    }
    assert TEST_SERVICE in transcoder["services"]
    per_route = {
        r["name"]: r["typed_per_filter_config"]["envoy.filters.http.grpc_json_transcoder"]
        for r in _routes(config)
        if r["name"].startswith("rest:") and "typed_per_filter_config" in r
    }
    for route_config in per_route.values():
        # A per-route config replaces the filter's: every field is repeated.
        assert set(transcoder) <= set(route_config)
    prefix = f"rest:{TEST_SERVICE}."
    sse = per_route[f"{prefix}WatchThings:0:sse"]["print_options"]
    ndjson = per_route[f"{prefix}WatchThings:0:ndjson"]["print_options"]
    assert sse.get("stream_sse_style_delimited") is True
    assert ndjson.get("stream_newline_delimited") is True
    upload = per_route[f"{prefix}Upload:0:upload"]
    assert upload["max_request_body_size"] == 5_000_000
    assert transcoder["max_request_body_size"] < 5_000_000


def test_missing_upstream_is_an_error(descriptor: Path) -> None:
    params = _params(descriptor)
    upstreams = {k: v for k, v in params.upstreams.items() if k != "edgetest"}
    with pytest.raises(ValueError, match="edgetest"):
        build_envoy_config(replace(params, upstreams=upstreams))


# --- Real Envoy ------------------------------------------------------------------------------


@dataclass
class Edge:
    params: EdgeParams
    process: subprocess.Popen[bytes]
    log: Path
    access_log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.params.listen_port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _wait(condition: Callable[[], bool], what: str, edge: Edge | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if edge is not None and edge.process.poll() is not None:
            pytest.fail(f"envoy exited ({edge.process.returncode}):\n{edge.output()}")
        try:
            if condition():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}" + (f":\n{edge.output()}" if edge else ""))


def _start_edge(params: EdgeParams, folder: Path) -> Edge:
    folder.mkdir(parents=True, exist_ok=True)
    access_log = folder / "access.log"
    params = replace(params, access_log_path=str(access_log))
    config = folder / "envoy.yaml"
    config.write_text(render_envoy_config(params))
    log = folder / "envoy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(ENVOY),
                "-c",
                str(config),
                "--base-id",
                str(random.randrange(1_000, 4_000_000_000)),
                "--disable-hot-restart",
                "--file-flush-interval-msec",
                "100",
                "--log-level",
                "warning",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    edge = Edge(params=params, process=process, log=log, access_log=access_log)
    admin = f"http://127.0.0.1:{params.admin_port}/ready"
    _wait(lambda: httpx.get(admin, timeout=2).text.strip() == "LIVE", "envoy /ready", edge)
    return edge


def _stop(edge: Edge) -> None:
    if edge.process.poll() is None:
        edge.process.send_signal(signal.SIGTERM)
        try:
            edge.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            edge.process.kill()
            edge.process.wait()


def _assert_json_error(response: httpx.Response, status: int, code: int, reason: str) -> JSONDict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: JSONDict = response.json()
    assert body["code"] == code, body
    assert body["reason"] == reason, body
    assert body["message"], body
    return body


@pytest.fixture(scope="module")
def bare_edge(descriptor: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """Envoy with no upstream running at all."""
    params = _params(descriptor, stats_port=_free_port())
    edge = _start_edge(params, tmp_path_factory.mktemp("bare_edge"))
    yield edge
    _stop(edge)


def test_edge_answers_by_itself(bare_edge: Edge) -> None:
    with httpx.Client(base_url=bare_edge.url, timeout=30) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "SERVING"}
        _assert_json_error(client.get("/no/such/route"), 404, 5, "NOT_FOUND")
        _assert_json_error(client.get("/api/v1/agent/agents"), 401, 16, "TOKEN_MISSING")
        garbage = {"authorization": "Bearer not.a.token"}
        _assert_json_error(
            client.get("/api/v1/agent/agents", headers=garbage), 401, 16, "TOKEN_MALFORMED"
        )
        _assert_json_error(client.get("/api/v1/auth/plans?nope=1"), 400, 3, "BAD_REQUEST")
        login = client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x"})
        _assert_json_error(login, 503, 14, "UPSTREAM_UNAVAILABLE")


def test_stats_listener_serves_only_prometheus_stats(bare_edge: Edge) -> None:
    assert bare_edge.params.stats_port is not None
    with httpx.Client(base_url=f"http://127.0.0.1:{bare_edge.params.stats_port}") as client:
        stats = client.get("/stats/prometheus", timeout=30)
        assert stats.status_code == 200, stats.text
        assert "envoy_cluster_upstream_rq_total" in stats.text
        for method, path in (
            ("POST", "/quitquitquit"),
            ("POST", "/drain_listeners"),
            ("GET", "/config_dump"),
            ("POST", "/stats/prometheus"),
            ("GET", "/stats/prometheus/../config_dump"),
        ):
            refused = client.request(method, path, timeout=30)
            assert refused.status_code == 404, (method, path, refused.text)
    admin = httpx.get(f"http://127.0.0.1:{bare_edge.params.admin_port}/ready", timeout=30)
    assert admin.text.strip() == "LIVE"  # the admin still runs, on loopback only


def _identity(raw: bytes) -> bytes:
    return raw


def _grpc_call(edge: Edge, path: str, metadata: tuple[tuple[str, str], ...] = ()) -> grpc.RpcError:
    with grpc.insecure_channel(f"127.0.0.1:{edge.params.listen_port}") as channel:
        call = channel.unary_unary(path, _identity, _identity)
        with pytest.raises(grpc.RpcError) as raised:
            call(b"", metadata=metadata, timeout=30)
    return raised.value


def test_native_grpc_replies_stay_grpc(bare_edge: Edge) -> None:
    internal = _grpc_call(bare_edge, "/inbetwin.auth.v1.AuthService/GetEntitlements")
    assert internal.code() == grpc.StatusCode.UNAUTHENTICATED
    assert internal.details() == "Jwt is missing"  # not a JSON body in grpc-message
    public = _grpc_call(bare_edge, "/inbetwin.auth.v1.AuthService/Login")
    assert public.code() == grpc.StatusCode.UNAVAILABLE
    unknown = _grpc_call(bare_edge, "/some.Other/Method")
    assert unknown.code() == grpc.StatusCode.UNIMPLEMENTED


# --- Envoy in front of a fake upstream that answers every service ----------------------------


@dataclass
class FakeUpstream:
    key: ec.EllipticCurvePrivateKey
    calls: list[tuple[str, dict[str, Any], bytes]] = field(default_factory=list)

    def jwks(self) -> bytes:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid="k1", alg="ES256", use="sig")
        body: bytes = httpbody_pb2.HttpBody(
            content_type="application/jwk-set+json", data=json.dumps({"keys": [jwk]}).encode()
        ).SerializeToString()
        return b"\x0a" + _varint(len(body)) + body  # GetJwksResponse{body = 1}

    def token(
        self,
        *,
        sub: str = "user-1",
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        ttl: int = 600,
        kid: str = "k1",
    ) -> str:
        now = int(time.time())
        claims = {"sub": sub, "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl}
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": kid})


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _thing(thing_id: str) -> bytes:
    raw = thing_id.encode()
    return b"\x0a" + _varint(len(raw)) + raw


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        method: str = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata)
        upstream = self.upstream

        if method == "/grpc.health.v1.Health/Check":
            return grpc.unary_unary_rpc_method_handler(lambda request, context: b"\x08\x01")
        if method == f"/{TEST_SERVICE}/WatchThings":

            def watch(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
                upstream.calls.append((method, metadata, request))
                yield _thing("a")
                yield _thing("b")

            return grpc.unary_stream_rpc_method_handler(watch)

        def unary(request: bytes, context: grpc.ServicerContext) -> bytes:
            upstream.calls.append((method, metadata, request))
            if method == "/inbetwin.auth.v1.AuthService/GetJwks":
                return upstream.jwks()
            if method == f"/{TEST_SERVICE}/GetThing":
                return _thing("t-1")
            return b""

        return grpc.unary_unary_rpc_method_handler(unary)


@pytest.fixture(scope="module")
def upstream_edge(
    descriptor: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Edge, FakeUpstream]]:
    upstream = FakeUpstream(key=ec.generate_private_key(ec.SECP256R1()))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 64 << 20)],
    )
    server.add_generic_rpc_handlers((_Handler(upstream),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    params = _params(
        descriptor,
        upstream_port=port,
        cors_allowed_origins=("http://localhost:3000",),
        max_upload_bytes=UPLOAD_LIMIT,
    )
    edge = _start_edge(params, tmp_path_factory.mktemp("upstream_edge"))
    token = upstream.token()

    def jwks_loaded() -> bool:
        response = httpx.get(
            f"{edge.url}/api/v1/edgetest/things/1",
            headers={"authorization": f"Bearer {token}"},
            timeout=5,
        )
        return response.status_code == 200

    try:
        _wait(jwks_loaded, "the JWKS fetched through the edge", edge)
        yield edge, upstream
    finally:
        _stop(edge)
        server.stop(grace=None)


def test_token_becomes_x_user_id(upstream_edge: tuple[Edge, FakeUpstream]) -> None:
    edge, upstream = upstream_edge
    spoof = {"x-user-id": "attacker", "x-evil-bin": "!!not base64!!"}
    with httpx.Client(base_url=edge.url, timeout=30) as client:
        upstream.calls.clear()
        headers = {"authorization": f"Bearer {upstream.token(sub='user-42')}", **spoof}
        response = client.get("/api/v1/edgetest/things/abc", headers=headers)
        assert response.status_code == 200, response.text
        # Proto field names, and unset primitives printed.
        assert response.json() == {"id": "t-1", "display_name": ""}
        hook = client.post("/hooks/edgetest/telegram", headers=spoof, content=b"{raw")
        assert hook.status_code == 200, hook.text
    jwks = "/inbetwin.auth.v1.AuthService/GetJwks"  # the edge refetches it in the background
    (get_call, hook_call) = [c for c in upstream.calls if c[0] != jwks]
    assert get_call[0] == f"/{TEST_SERVICE}/GetThing"
    assert get_call[1]["x-user-id"] == "user-42"
    assert "x-evil-bin" not in get_call[1]
    assert hook_call[0] == f"/{TEST_SERVICE}/Hook"
    assert "x-user-id" not in hook_call[1]
    assert "x-evil-bin" not in hook_call[1]

    def logged() -> list[JSONDict]:  # Envoy flushes its access log about once a second
        entries = [json.loads(line) for line in edge.access_log.read_text().splitlines()]
        return [e for e in entries if e["path"] == "/api/v1/edgetest/things/abc"]

    _wait(lambda: bool(logged()), "the access log entry", edge)
    (entry,) = logged()
    assert entry["method"] == "GET"
    assert entry["user"] == "user-42"
    assert entry["status"] == 200
    assert entry["upstream_cluster"] == "edgetest"


def test_native_grpc_with_token(upstream_edge: tuple[Edge, FakeUpstream]) -> None:
    edge, upstream = upstream_edge
    upstream.calls.clear()
    metadata = (("authorization", f"Bearer {upstream.token(sub='user-7')}"), ("x-user-id", "x"))
    with grpc.insecure_channel(f"127.0.0.1:{edge.params.listen_port}") as channel:
        reply = channel.unary_unary(f"/{TEST_SERVICE}/GetThing", _identity, _identity)(
            b"", metadata=metadata, timeout=30
        )
    assert reply == _thing("t-1")
    assert upstream.calls[-1][1]["x-user-id"] == "user-7"
    internal = _grpc_call(edge, f"/{TEST_SERVICE}/Purge", metadata)
    assert internal.code() == grpc.StatusCode.UNIMPLEMENTED
    assert all(call[0] != f"/{TEST_SERVICE}/Purge" for call in upstream.calls)


@pytest.mark.parametrize(
    ("token_kwargs", "status", "reason"),
    [
        ({"ttl": -3600}, 401, "TOKEN_EXPIRED"),
        ({"issuer": "https://evil.test"}, 401, "TOKEN_ISSUER_INVALID"),
        ({"audience": "someone-else"}, 403, "TOKEN_AUDIENCE_INVALID"),
        ({"kid": "unpublished"}, 401, "TOKEN_KEY_UNKNOWN"),
    ],
)
def test_bad_tokens(
    upstream_edge: tuple[Edge, FakeUpstream],
    token_kwargs: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    edge, upstream = upstream_edge
    headers = {"authorization": f"Bearer {upstream.token(**token_kwargs)}"}
    response = httpx.get(f"{edge.url}/api/v1/edgetest/things/1", headers=headers, timeout=30)
    _assert_json_error(response, status, 16 if status == 401 else 7, reason)
    forged = FakeUpstream(key=ec.generate_private_key(ec.SECP256R1())).token()
    response = httpx.get(
        f"{edge.url}/api/v1/edgetest/things/1",
        headers={"authorization": f"Bearer {forged}"},
        timeout=30,
    )
    _assert_json_error(response, 401, 16, "TOKEN_SIGNATURE_INVALID")


@pytest.mark.parametrize(
    ("accept", "content_type", "expected"),
    [
        ("text/event-stream", "text/event-stream", 'data: {"id":"a","display_name":""}'),
        ("application/x-ndjson", "", '{"id":"a","display_name":""}\n{"id":"b"'),
        ("application/json", "application/json", '[{"id":"a","display_name":""}'),
    ],
)
def test_streaming_format_follows_accept(
    upstream_edge: tuple[Edge, FakeUpstream], accept: str, content_type: str, expected: str
) -> None:
    edge, upstream = upstream_edge
    headers = {"authorization": f"Bearer {upstream.token()}", "accept": accept}
    response = httpx.get(f"{edge.url}/api/v1/edgetest/things:watch", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(content_type)
    assert response.text.startswith(expected), response.text


def test_upload_limit_is_per_route(upstream_edge: tuple[Edge, FakeUpstream]) -> None:
    edge, upstream = upstream_edge
    assert edge.params.max_upload_bytes == UPLOAD_LIMIT
    headers = {
        "authorization": f"Bearer {upstream.token()}",
        "content-type": "application/octet-stream",
    }
    with httpx.Client(base_url=edge.url, timeout=60) as client:
        # Above the filter's default (4 MiB), within the upload route's limit.
        upload = client.post("/api/v1/edgetest/uploads", headers=headers, content=b"x" * 6_000_000)
        assert upload.status_code == 200, upload.text[:300]
        assert upstream.calls[-1][0] == f"/{TEST_SERVICE}/Upload"
        too_big = client.post(
            "/api/v1/edgetest/uploads", headers=headers, content=b"x" * (UPLOAD_LIMIT + 1)
        )
        _assert_json_error(too_big, 413, 8, "PAYLOAD_TOO_LARGE")


def test_cors(upstream_edge: tuple[Edge, FakeUpstream]) -> None:
    edge, upstream = upstream_edge
    origin = "http://localhost:3000"
    preflight = httpx.options(
        f"{edge.url}/api/v1/edgetest/things/1",
        headers={
            "origin": origin,
            "access-control-request-method": "GET",
            "access-control-request-headers": "authorization",
        },
        timeout=30,
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    response = httpx.get(
        f"{edge.url}/api/v1/edgetest/things/1",
        headers={"origin": origin, "authorization": f"Bearer {upstream.token()}"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    other = httpx.get(
        f"{edge.url}/api/v1/edgetest/things/1",
        headers={"origin": "http://evil.test", "authorization": f"Bearer {upstream.token()}"},
        timeout=30,
    )
    assert "access-control-allow-origin" not in other.headers


def test_envoy_runs_in_its_own_session(bare_edge: Edge) -> None:
    assert bare_edge.process.poll() is None
    assert os.getpgid(bare_edge.process.pid) == bare_edge.process.pid  # own session (setsid)
