"""Properties every pod of every overlay keeps, so that none of them can regress unnoticed."""

from __future__ import annotations

import pytest

from services.edge.params import SERVICES
from tests.k8s.manifests import (
    GRPC_PORT,
    Manifest,
    Rendered,
    all_containers,
    container,
    environment,
    pod_spec,
)

# services/kit/bus.py bounds the NATS drain at 5 s; the outbox relay and the engine close at once.
KIT_CLOSE_SECONDS = 5


def _workloads(overlays: dict[str, Rendered]) -> list[tuple[str, Manifest]]:
    return [(r.name, w) for r in overlays.values() for w in r.workloads()]


def _name(workload: Manifest) -> str:
    return f"{workload['kind']}/{workload['metadata']['name']}"


def test_every_overlay_has_workloads(overlays: dict[str, Rendered]) -> None:
    for rendered in overlays.values():
        assert len(rendered.workloads()) >= len(SERVICES) * 2 + 1, rendered.name


def test_pods_run_as_non_root_with_the_runtime_default_seccomp_profile(
    overlays: dict[str, Rendered],
) -> None:
    for overlay, workload in _workloads(overlays):
        where = f"{overlay} {_name(workload)}"
        spec = pod_spec(workload)
        security = spec.get("securityContext") or {}
        assert security.get("runAsNonRoot") is True, where
        assert security.get("runAsUser", 0) > 0, where
        assert security.get("seccompProfile") == {"type": "RuntimeDefault"}, where
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(field), where
        for volume in spec.get("volumes") or []:
            assert "hostPath" not in volume, where


def test_containers_are_locked_down(overlays: dict[str, Rendered]) -> None:
    for overlay, workload in _workloads(overlays):
        for c in all_containers(pod_spec(workload)):
            where = f"{overlay} {_name(workload)} container {c['name']}"
            security = c.get("securityContext") or {}
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("readOnlyRootFilesystem") is True, where
            assert security.get("runAsNonRoot") is True, where
            assert not security.get("privileged"), where
            assert security.get("capabilities") == {"drop": ["ALL"]}, where
            assert security.get("runAsUser", 1) != 0, where


def test_containers_have_requests_and_limits(overlays: dict[str, Rendered]) -> None:
    for overlay, workload in _workloads(overlays):
        for c in all_containers(pod_spec(workload)):
            where = f"{overlay} {_name(workload)} container {c['name']}"
            resources = c.get("resources") or {}
            for kind in ("requests", "limits"):
                assert set(resources.get(kind) or {}) >= {"cpu", "memory"}, f"{where}: {kind}"


def test_no_pod_gets_a_service_account_token(overlays: dict[str, Rendered]) -> None:
    for rendered in overlays.values():
        accounts = {sa["metadata"]["name"]: sa for sa in rendered.of_kind("ServiceAccount")}
        for sa in accounts.values():
            assert sa.get("automountServiceAccountToken") is False, sa["metadata"]["name"]
        for workload in rendered.workloads():
            spec = pod_spec(workload)
            where = f"{rendered.name} {_name(workload)}"
            assert spec.get("automountServiceAccountToken") is False, where
            assert spec.get("serviceAccountName") in accounts, where


def test_images_are_tagged_and_the_app_image_is_one_per_overlay(
    overlays: dict[str, Rendered],
) -> None:
    for rendered in overlays.values():
        app_images = set()
        for workload in rendered.workloads():
            for c in all_containers(pod_spec(workload)):
                image: str = c["image"]
                name, _, tag = image.rpartition(":")
                assert name, f"{rendered.name}: untagged {image}"
                assert tag, f"{rendered.name}: untagged {image}"
                assert "/" not in tag, f"{rendered.name}: untagged {image}"
                assert tag != "latest", f"{rendered.name}: {image}"
                if c.get("command", [""])[0] in ("python", "envoy"):
                    app_images.add(image)
        assert len(app_images) == 1, f"{rendered.name}: {app_images}"


def test_prod_runs_a_released_image(prod: Rendered) -> None:
    image = pod_spec(prod.get("Deployment", "auth"))["containers"][0]["image"]
    assert not image.endswith((":dev", ":latest")), image


@pytest.mark.parametrize("svc", SERVICES)
def test_service_pods_probe_grpc_health_on_the_grpc_port(
    overlays: dict[str, Rendered], svc: str
) -> None:
    for rendered in overlays.values():
        c = container(pod_spec(rendered.service_deployment(svc)), svc)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports == {"grpc": GRPC_PORT, "metrics": 9464}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["grpc"] == {"port": GRPC_PORT}, f"{rendered.name} {svc} {probe}"
        env = environment(rendered, c)
        port = env[f"INBETWIN_{svc.upper()}_GRPC_PORT"].value
        assert port == str(GRPC_PORT)
        # Reachable from other pods, not only on loopback.
        assert env[f"INBETWIN_{svc.upper()}_GRPC_HOST"].value in ("0.0.0.0", "[::]")


@pytest.mark.parametrize("svc", SERVICES)
def test_termination_grace_covers_pre_stop_and_the_kit_shutdown(
    overlays: dict[str, Rendered], svc: str
) -> None:
    for rendered in overlays.values():
        spec = pod_spec(rendered.service_deployment(svc))
        c = container(spec, svc)
        pre_stop = c["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep"
        sleep = int(pre_stop[1])
        grace_value = environment(rendered, c)[f"INBETWIN_{svc.upper()}_SHUTDOWN_GRACE_SECONDS"]
        assert grace_value.value is not None
        grace = float(grace_value.value)
        assert sleep > 0
        assert grace > 0
        needed = sleep + grace + KIT_CLOSE_SECONDS
        assert spec["terminationGracePeriodSeconds"] >= needed, f"{rendered.name} {svc}"


def test_the_edge_pre_stop_hook_is_valid_python(overlays: dict[str, Rendered]) -> None:
    for rendered in overlays.values():
        envoy = container(pod_spec(rendered.get("Deployment", "edge")), "envoy")
        command = envoy["lifecycle"]["preStop"]["exec"]["command"]
        assert command[:2] == ["python", "-c"]
        compile(command[2], "preStop", "exec")
        assert "drain_listeners" in command[2]
