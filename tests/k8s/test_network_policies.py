"""The network-policies component: deny all, then exactly the paths the platform uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.edge.params import SERVICES
from tests.k8s.manifests import GRPC_PORT, Manifest, Rendered, labels_match, pod_labels

# Who calls whom over gRPC, from the contracts (proto/inbetwin/*/v1/*_service.proto):
# auth.GetEntitlements is "for services that enforce" plan limits (social: accounts, agent:
# agents, llm: messages, rag: knowledge-base size); social.GetConversationContext is llm's;
# social.BatchGetContacts is leads' and agent's; agent's GetAgentToolset, ExecuteTool,
# CreateAgentAction and GetConversationControl are llm's, RequestHandoff llm's and social's;
# rag checks the agent a knowledge base belongs to (AGENT_NOT_FOUND); rag.Search is llm's.
PEER_CALLS = {
    "auth": set(),
    "social": {"auth", "agent"},
    "agent": {"auth", "social"},
    "llm": {"auth", "social", "agent", "rag"},
    "rag": {"auth", "agent"},
    "leads": {"social"},
}
STORE_PORTS = {"postgres": 5432, "redis": 6379, "nats": 4222}
METRICS_PORT = 9464


def _with_policies(overlays: dict[str, Rendered]) -> Iterator[Rendered]:
    for rendered in overlays.values():
        assert rendered.of_kind("NetworkPolicy"), f"{rendered.name} has no network policies"
        yield rendered


def _pods(rendered: Rendered) -> dict[str, dict[str, str]]:
    """Pod labels by workload name."""
    return {w["metadata"]["name"]: pod_labels(w) for w in rendered.workloads()}


def _selects(policy: Manifest, labels: dict[str, str]) -> bool:
    return labels_match(policy["spec"]["podSelector"], labels)


def _port_numbers(rule: Manifest, named: dict[str, int]) -> set[int]:
    """A rule's ports as numbers (a named port is looked up in `named`; unknown names fail)."""
    numbers: set[int] = set()
    for port in rule.get("ports") or []:
        value = port["port"]
        numbers.add(named[value] if isinstance(value, str) else int(value))
    return numbers


def allowed(rendered: Rendered, source: str, target: str, port: int, direction: str) -> bool:
    """Whether some policy selecting `source` (egress) or `target` (ingress) lets it through."""
    pods = _pods(rendered)
    named = {"grpc": GRPC_PORT, "http": 8080, "metrics": METRICS_PORT}
    subject, peer = (source, target) if direction == "egress" else (target, source)
    key, peers_key = ("egress", "to") if direction == "egress" else ("ingress", "from")
    for policy in rendered.of_kind("NetworkPolicy"):
        if not _selects(policy, pods[subject]):
            continue
        for rule in policy["spec"].get(key) or []:
            if port not in _port_numbers(rule, named) and rule.get("ports"):
                continue
            peers = rule.get(peers_key)
            if peers is None:
                return True
            for entry in peers:
                same_namespace = "podSelector" in entry and "namespaceSelector" not in entry
                if same_namespace and labels_match(entry["podSelector"], pods[peer]):
                    return True
    return False


def test_everything_is_denied_by_default(overlays: dict[str, Rendered]) -> None:
    for rendered in _with_policies(overlays):
        deny = rendered.get("NetworkPolicy", "default-deny")
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_every_pod_may_resolve_names(overlays: dict[str, Rendered]) -> None:
    for rendered in _with_policies(overlays):
        dns = rendered.get("NetworkPolicy", "allow-dns")
        assert dns["spec"]["podSelector"] == {}
        ports = {(p["port"], p["protocol"]) for p in dns["spec"]["egress"][0]["ports"]}
        assert ports == {(53, "UDP"), (53, "TCP")}


@pytest.mark.parametrize("svc", SERVICES)
def test_the_edge_reaches_every_service(overlays: dict[str, Rendered], svc: str) -> None:
    for rendered in _with_policies(overlays):
        assert allowed(rendered, "edge", svc, GRPC_PORT, "egress")
        assert allowed(rendered, "edge", svc, GRPC_PORT, "ingress")


def test_peer_calls_are_allowed_exactly_where_the_contracts_say(
    overlays: dict[str, Rendered],
) -> None:
    for rendered in _with_policies(overlays):
        for caller in SERVICES:
            for callee in SERVICES:
                if caller == callee:
                    continue
                expected = callee in PEER_CALLS[caller]
                for direction in ("egress", "ingress"):
                    got = allowed(rendered, caller, callee, GRPC_PORT, direction)
                    assert got == expected, f"{rendered.name}: {caller} -> {callee} {direction}"


@pytest.mark.parametrize("svc", SERVICES)
def test_services_reach_their_stores_and_the_bus(dev: Rendered, svc: str) -> None:
    for store, port in STORE_PORTS.items():
        assert allowed(dev, svc, store, port, "egress"), f"{svc} -> {store}"
        assert allowed(dev, svc, store, port, "ingress"), f"{svc} -> {store}"


def test_the_edge_reaches_no_store(dev: Rendered) -> None:
    for store, port in STORE_PORTS.items():
        assert not allowed(dev, "edge", store, port, "egress")


def test_migrations_reach_postgres_only(dev: Rendered) -> None:
    for svc in SERVICES:
        job = f"{svc}-migrate"
        assert allowed(dev, job, "postgres", 5432, "egress")
        assert allowed(dev, job, "postgres", 5432, "ingress")
        assert not allowed(dev, job, "nats", 4222, "egress")
        assert not allowed(dev, job, svc, GRPC_PORT, "egress")


def test_nats_servers_route_to_each_other_and_the_stream_job_reaches_them(
    prod: Rendered,
) -> None:
    assert allowed(prod, "nats", "nats", 6222, "egress")
    assert allowed(prod, "nats", "nats", 6222, "ingress")
    assert allowed(prod, "nats-streams", "nats", 4222, "egress")
    assert allowed(prod, "nats-streams", "nats", 4222, "ingress")


def test_prod_services_reach_the_managed_stores(prod: Rendered) -> None:
    policy = prod.get("NetworkPolicy", "managed-stores")
    for svc in SERVICES:
        assert _selects(policy, pod_labels(prod.service_deployment(svc)))
        assert _selects(policy, pod_labels(prod.migration_job(svc)))
    ports = {p["port"] for p in policy["spec"]["egress"][0]["ports"]}
    assert {5432, 6379} <= ports


def test_prometheus_in_the_monitoring_namespace_scrapes_the_metrics_port_only(
    overlays: dict[str, Rendered],
) -> None:
    for rendered in _with_policies(overlays):
        policy = rendered.get("NetworkPolicy", "allow-metrics-scrape")
        for workload in ("edge", *SERVICES):
            assert _selects(policy, pod_labels(rendered.service_deployment(workload)))
        [rule] = policy["spec"]["ingress"]
        assert rule["from"] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ]
        assert _port_numbers(rule, {"metrics": METRICS_PORT}) == {METRICS_PORT}
        for name in ("edge", *SERVICES):
            deployment = rendered.service_deployment(name)
            ports = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
            metrics = {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}
            assert metrics in ports, name
