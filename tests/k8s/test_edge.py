"""The edge's Envoy config in each overlay: rendered by the init container's own command from the
image's /app tree, then accepted by Envoy 1.40 itself (`envoy --mode validate`)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.edge.params import SERVICES
from services.edge.render import ADMIN_CLUSTER, JWKS_CLUSTER
from services.stack.envoy import binary as envoy_binary
from tests.k8s.image import image_env
from tests.k8s.manifests import GRPC_PORT, Rendered, container, environment, expand, pod_spec

OVERLAYS = ("dev", "prod", "prod-pinecone")


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    rendered: Rendered
    path: Path
    config: dict[str, Any]


def _remap(arg: str, app: Path, etc: Path) -> str:
    """The pod's absolute paths, mapped into the test's folders."""
    for prefix, folder in (("/app/", app), ("/etc/envoy/", etc)):
        if prefix in arg:
            return arg.replace(prefix, f"{folder}/")
    return arg


def _render(rendered: Rendered, app: Path, out: Path) -> EdgeConfig:
    spec = pod_spec(rendered.get("Deployment", "edge"))
    init = container(spec, "render-config")
    env = environment(rendered, init)
    command = [expand(a, env) for a in [*init["command"], *init.get("args", [])]]
    assert command[0] == "python"
    etc = out / "etc-envoy"
    etc.mkdir(parents=True)
    argv = [sys.executable, *(_remap(a, app, etc) for a in command[1:])]
    for arg in argv[1:]:
        assert not arg.startswith(("/app", "/etc")), f"unmapped path {arg}"
    result = subprocess.run(
        argv,
        cwd=app,
        env=image_env(app),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    path = etc / "envoy.yaml"
    text = path.read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return EdgeConfig(rendered, path, json.loads(body))


@pytest.fixture(scope="module", params=OVERLAYS)
def edge(
    request: pytest.FixtureRequest,
    overlays: dict[str, Rendered],
    image_app: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> EdgeConfig:
    name: str = request.param
    return _render(overlays[name], image_app, tmp_path_factory.mktemp(f"edge-{name}"))


def test_envoy_accepts_the_rendered_config(edge: EdgeConfig, image_app: Path) -> None:
    envoy = container(pod_spec(edge.rendered.get("Deployment", "edge")), "envoy")
    assert envoy["command"] == ["envoy"]
    args: list[str] = envoy["args"]
    config = args.index("--config-path") + 1
    assert args[config] == "/etc/envoy/envoy.yaml"
    args = [*args[:config], str(edge.path), *args[config + 1 :]]
    result = subprocess.run(
        [str(envoy_binary()), "--mode", "validate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "OK" in result.stdout


def test_every_service_is_an_upstream_at_its_kubernetes_service(edge: EdgeConfig) -> None:
    clusters = {c["name"]: c for c in edge.config["static_resources"]["clusters"]}
    assert set(clusters) == {*SERVICES, JWKS_CLUSTER, ADMIN_CLUSTER}
    for svc in SERVICES:
        cluster = clusters[svc]
        assert cluster["type"] == "STRICT_DNS"  # every ready pod of the headless Service
        [endpoint] = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        address = endpoint["endpoint"]["address"]["socket_address"]
        service = edge.rendered.get("Service", svc)
        assert service["spec"]["clusterIP"] == "None"
        assert address["address"] == svc
        assert address["port_value"] == service["spec"]["ports"][0]["port"] == GRPC_PORT


def test_the_listener_is_the_pods_http_port_and_jwks_comes_through_it(edge: EdgeConfig) -> None:
    spec = pod_spec(edge.rendered.get("Deployment", "edge"))
    envoy = container(spec, "envoy")
    port, metrics = envoy["ports"]
    listener, stats = edge.config["static_resources"]["listeners"]
    stats_socket = stats["address"]["socket_address"]
    assert (stats_socket["address"], stats_socket["port_value"], metrics["name"]) == (
        "0.0.0.0",
        metrics["containerPort"],
        "metrics",
    )
    socket = listener["address"]["socket_address"]
    assert (socket["address"], socket["port_value"]) == ("0.0.0.0", port["containerPort"])
    service = edge.rendered.get("Service", "edge")
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert envoy[probe]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    clusters = {c["name"]: c for c in edge.config["static_resources"]["clusters"]}
    jwks = clusters[JWKS_CLUSTER]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    jwks_socket = jwks["endpoint"]["address"]["socket_address"]
    assert (jwks_socket["address"], jwks_socket["port_value"]) == (
        "127.0.0.1",
        socket["port_value"],
    )
    admin = edge.config["admin"]["address"]["socket_address"]
    assert admin["address"] == "127.0.0.1"  # never reachable from outside the pod
    pre_stop = envoy["lifecycle"]["preStop"]["exec"]["command"][2]
    assert f"127.0.0.1:{admin['port_value']}/drain_listeners" in pre_stop


def test_the_edge_verifies_what_auth_signs(edge: EdgeConfig) -> None:
    rendered = edge.rendered
    auth = environment(rendered, container(pod_spec(rendered.service_deployment("auth")), "auth"))
    filters = edge.config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
    http_filters = filters[0]["typed_config"]["http_filters"]
    [jwt] = [f for f in http_filters if f["name"] == "envoy.filters.http.jwt_authn"]
    [provider] = jwt["typed_config"]["providers"].values()
    assert provider["issuer"] == auth["INBETWIN_AUTH_JWT_ISSUER"].value
    assert provider["audiences"] == [auth["INBETWIN_AUTH_JWT_AUDIENCE"].value]
    social = environment(
        rendered, container(pod_spec(rendered.service_deployment("social")), "social")
    )
    # Webhook URLs and the issuer name the same public origin.
    assert social["INBETWIN_SOCIAL_PUBLIC_BASE_URL"].value == provider["issuer"]
