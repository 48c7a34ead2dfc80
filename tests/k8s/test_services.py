"""Each service is complete (Deployment, Service, ServiceAccount, HPA, PDB, migration Job) and gets
exactly the configuration the local stack gives it (services/stack/environment.py)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic_settings import BaseSettings

from services.agent.settings import AgentSettings
from services.auth.keys import KeyCipher
from services.auth.settings import AuthSettings
from services.edge.params import SERVICES
from services.leads.settings import LeadsSettings
from services.llm.settings import LlmSettings
from services.rag.settings import RagSettings
from services.social.crypto import parse_keys
from services.social.settings import SocialSettings
from services.stack.environment import service_environment
from services.stack.secret_store import Secrets
from services.stack.topology import Topology, port_names
from tests.k8s.manifests import (
    GRPC_PORT,
    EnvValue,
    Manifest,
    Rendered,
    container,
    environment,
    labels_match,
    pod_labels,
    pod_spec,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS: dict[str, type[BaseSettings]] = {
    "auth": AuthSettings,
    "social": SocialSettings,
    "agent": AgentSettings,
    "llm": LlmSettings,
    "rag": RagSettings,
    "leads": LeadsSettings,
}
STATELESS = (*SERVICES, "edge")
# The Secrets prod expects to exist (k8s/overlays/prod/kustomization.yaml lists their keys).
PROD_SECRETS = {f"{svc}-secrets" for svc in SERVICES} | {"rag-pinecone"}


def _contract(svc: str) -> set[str]:
    """The variable names the local stack sets for `svc`."""
    topology = Topology.from_ports(
        {name: 1 for name in port_names()},
        Secrets(
            key_encryption_key="k", token_encryption_keys="k1:k", secret_encryption_keys="k1:k"
        ),
    )
    return set(service_environment(svc, topology))


def _workload_env(rendered: Rendered, workload: Manifest, name: str) -> dict[str, EnvValue]:
    return environment(rendered, container(pod_spec(workload), name))


@pytest.mark.parametrize("name", STATELESS)
def test_every_stateless_workload_has_its_objects(overlays: dict[str, Rendered], name: str) -> None:
    for rendered in overlays.values():
        deployment = rendered.get("Deployment", name)
        labels = pod_labels(deployment)
        assert labels_match(deployment["spec"]["selector"], labels)
        assert pod_spec(deployment)["serviceAccountName"] == name
        rendered.get("ServiceAccount", name)
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"

        service = rendered.get("Service", name)
        assert labels_match({"matchLabels": service["spec"]["selector"]}, labels)

        hpa = rendered.get("HorizontalPodAutoscaler", name)
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]

        pdb = rendered.get("PodDisruptionBudget", name)
        assert labels_match(pdb["spec"]["selector"], labels)


def test_prod_keeps_two_replicas_of_everything_stateless(prod: Rendered) -> None:
    for name in STATELESS:
        hpa = prod.get("HorizontalPodAutoscaler", name)
        assert hpa["spec"]["minReplicas"] >= 2, name
        pdb = prod.get("PodDisruptionBudget", name)
        assert pdb["spec"].get("maxUnavailable") == 1, name


@pytest.mark.parametrize("svc", SERVICES)
def test_the_service_exposes_grpc_and_selects_only_the_servers(
    overlays: dict[str, Rendered], svc: str
) -> None:
    for rendered in overlays.values():
        service = rendered.get("Service", svc)
        assert service["spec"]["ports"] == [
            {
                "name": "grpc",
                "port": GRPC_PORT,
                "targetPort": "grpc",
                "protocol": "TCP",
                "appProtocol": "kubernetes.io/h2c",
            }
        ]
        job_labels = pod_labels(rendered.migration_job(svc))
        assert not labels_match({"matchLabels": service["spec"]["selector"]}, job_labels)
        pdb = rendered.get("PodDisruptionBudget", svc)
        assert not labels_match(pdb["spec"]["selector"], job_labels)


@pytest.mark.parametrize("svc", SERVICES)
def test_the_migration_job_runs_migrate_with_the_servers_settings(
    overlays: dict[str, Rendered], svc: str
) -> None:
    for rendered in overlays.values():
        job = rendered.migration_job(svc)
        spec = pod_spec(job)
        assert spec["restartPolicy"] in ("Never", "OnFailure")
        migrate = container(spec, "migrate")
        assert migrate["command"] == ["python", "-m", f"services.{svc}", "migrate"]
        server = container(pod_spec(rendered.service_deployment(svc)), svc)
        assert server["command"] == ["python", "-m", f"services.{svc}", "serve"]
        assert migrate["image"] == server["image"]
        # The settings class validates every setting before migrating: same variables.
        assert environment(rendered, migrate) == environment(rendered, server)


@pytest.mark.parametrize("svc", SERVICES)
def test_every_variable_of_the_environment_contract_is_set(
    overlays: dict[str, Rendered], svc: str
) -> None:
    for rendered in overlays.values():
        env = _workload_env(rendered, rendered.service_deployment(svc), svc)
        missing = _contract(svc) - set(env)
        assert not missing, f"{rendered.name} {svc}: {sorted(missing)}"
        for name, value in env.items():
            assert name.startswith(f"INBETWIN_{svc.upper()}_"), f"{svc}: {name}"
            if value.source == "secret":
                continue
            assert value.value is not None, f"{rendered.name} {svc}: {name}"


@pytest.mark.parametrize("svc", SERVICES)
def test_credentials_come_only_from_secrets(overlays: dict[str, Rendered], svc: str) -> None:
    for rendered in overlays.values():
        env = _workload_env(rendered, rendered.service_deployment(svc), svc)
        for name, value in env.items():
            if re.search(r"(DATABASE_URL|REDIS_URL|_KEY|_KEYS|SECRET|PASSWORD)$", name):
                assert value.source == "secret", f"{rendered.name} {svc}: {name}"
        for data in (rendered.config_data(n) for n in _config_maps(rendered)):
            for key, text in data.items():
                assert "dev-only" not in text, key
                assert not re.search(r"://[^/@\s]*:[^/@\s]+@", text), f"credentials in {key}"


def _config_maps(rendered: Rendered) -> list[str]:
    return [c["metadata"]["name"] for c in rendered.of_kind("ConfigMap")]


@pytest.mark.parametrize("svc", SERVICES)
def test_peer_addresses_name_the_peers_grpc_services(
    overlays: dict[str, Rendered], svc: str
) -> None:
    for rendered in overlays.values():
        env = _workload_env(rendered, rendered.service_deployment(svc), svc)
        for peer in SERVICES:
            if peer == svc:
                continue
            address = env[f"INBETWIN_{svc.upper()}_{peer.upper()}_ADDR"].value
            assert address == f"{peer}:{GRPC_PORT}"
            rendered.get("Service", peer)


@pytest.mark.parametrize("svc", SERVICES)
def test_dev_settings_are_accepted_by_the_service(dev: Rendered, svc: str) -> None:
    env = _workload_env(dev, dev.service_deployment(svc), svc)
    values = {name: v.value for name, v in env.items() if v.value is not None}
    settings_type = SETTINGS[svc]
    prefix = f"INBETWIN_{svc.upper()}_"
    # Built from exactly these variables, as in the pod (nothing read from this process).
    fields = {name.removeprefix(prefix).lower(): value for name, value in values.items()}
    settings = settings_type.model_validate(fields)
    assert settings.model_dump()["grpc_port"] == GRPC_PORT


def test_dev_secrets_are_valid_keys_for_the_services(dev: Rendered) -> None:
    auth = dev.secret_data(_generated(dev, "Secret", "auth-secrets"))
    assert auth is not None
    cipher = KeyCipher(auth["KEY_ENCRYPTION_KEY"])
    assert cipher.decrypt(cipher.encrypt(b"pem", b"kid"), b"kid") == b"pem"
    social = dev.secret_data(_generated(dev, "Secret", "social-secrets"))
    assert social is not None
    assert parse_keys(social["TOKEN_ENCRYPTION_KEYS"])
    agent = dev.secret_data(_generated(dev, "Secret", "agent-secrets"))
    assert agent is not None
    assert parse_keys(agent["SECRET_ENCRYPTION_KEYS"])


def _generated(rendered: Rendered, kind: str, base_name: str) -> str:
    """The hashed name kustomize gave a generated object."""
    names: list[str] = [
        o["metadata"]["name"]
        for o in rendered.of_kind(kind)
        if re.fullmatch(rf"{re.escape(base_name)}-[a-z0-9]{{10}}", o["metadata"]["name"])
    ]
    assert len(names) == 1, f"{rendered.name}: {kind} {base_name}: {names}"
    return names[0]


def test_dev_database_urls_reach_the_dev_postgres(dev: Rendered) -> None:
    postgres = dev.get("StatefulSet", "postgres")
    pg_env = environment(dev, container(pod_spec(postgres), "postgres"))
    user = pg_env["POSTGRES_USER"].value
    password = pg_env["POSTGRES_PASSWORD"].value
    service = dev.get("Service", "postgres")
    port = service["spec"]["ports"][0]["port"]
    initdb = (REPO_ROOT / "k8s/stores/postgres/initdb.sql").read_text()
    created = set(re.findall(r"^CREATE DATABASE (\w+);", initdb, flags=re.MULTILINE))
    assert created == set(SERVICES)
    for svc in SERVICES:
        env = _workload_env(dev, dev.service_deployment(svc), svc)
        url = urlsplit(env[f"INBETWIN_{svc.upper()}_DATABASE_URL"].value or "")
        assert url.scheme == "postgresql+asyncpg"
        assert (url.username, url.password) == (user, password)
        assert (url.hostname, url.port, url.path) == ("postgres", port, f"/{svc}")
        redis = urlsplit(env[f"INBETWIN_{svc.upper()}_REDIS_URL"].value or "")
        redis_env = environment(dev, container(pod_spec(dev.get("StatefulSet", "redis")), "redis"))
        assert (redis.hostname, redis.port) == ("redis", 6379)
        assert redis.password == redis_env["REDIS_PASSWORD"].value


def test_dev_runs_its_stores_as_stateful_sets_with_volumes(dev: Rendered) -> None:
    for name in ("postgres", "redis", "nats"):
        statefulset = dev.get("StatefulSet", name)
        claims = statefulset["spec"]["volumeClaimTemplates"]
        mounted = {m["name"] for m in container(pod_spec(statefulset), name)["volumeMounts"]}
        assert {c["metadata"]["name"] for c in claims} <= mounted
    image = container(pod_spec(dev.get("StatefulSet", "postgres")), "postgres")["image"]
    assert image.startswith("pgvector/pgvector:")
    nats = dev.config_data(_generated(dev, "ConfigMap", "nats-config"))["nats.conf"]
    assert "jetstream" in nats


def test_prod_generates_no_secret_and_uses_managed_stores(prod: Rendered) -> None:
    assert prod.of_kind("Secret") == []
    assert {o["metadata"]["name"] for o in prod.of_kind("StatefulSet")} == {"nats"}
    referenced = set()
    for workload in prod.workloads():
        for c in pod_spec(workload).get("containers") or []:
            for value in environment(prod, c).values():
                if value.source == "secret":
                    referenced.add(value.ref)
    assert referenced <= PROD_SECRETS
    assert referenced >= {f"{svc}-secrets" for svc in SERVICES}


def test_prod_runs_nats_as_a_cluster_of_three_with_replicated_streams(prod: Rendered) -> None:
    nats = prod.get("StatefulSet", "nats")
    assert nats["spec"]["replicas"] == 3
    conf = prod.config_data(_generated(prod, "ConfigMap", "nats-config"))["nats.conf"]
    routes = re.findall(r"nats://(nats-\d)\.nats-headless:6222", conf)
    assert sorted(routes) == ["nats-0", "nats-1", "nats-2"]
    assert "jetstream" in conf
    job = prod.get("Job", "nats-streams")
    assert container(pod_spec(job), "nats-streams")["command"] == [
        "python",
        "tools/k8s_nats_streams.py",
        "--replicas=3",
    ]
    assert prod.get("PodDisruptionBudget", "nats")["spec"]["maxUnavailable"] == 1


def test_the_pinecone_option_configures_rag(overlays: dict[str, Rendered]) -> None:
    rendered = overlays["prod-pinecone"]
    env = _workload_env(rendered, rendered.service_deployment("rag"), "rag")
    assert env["INBETWIN_RAG_VECTOR_STORE"].value == "pinecone"
    assert env["INBETWIN_RAG_PINECONE_INDEX_HOST"].value
    key = env["INBETWIN_RAG_PINECONE_API_KEY"]
    assert (key.source, key.ref) == ("secret", "rag-pinecone")
    job_env = _workload_env(rendered, rendered.migration_job("rag"), "migrate")
    assert job_env == env
    # rag accepts it once the operator's Secret holds the key.
    fields = {
        name.removeprefix("INBETWIN_RAG_").lower(): value.value or "key-from-the-secret"
        for name, value in env.items()
    }
    assert RagSettings.model_validate(fields).vector_store == "pinecone"
