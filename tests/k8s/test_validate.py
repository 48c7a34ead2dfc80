"""`make k8s-validate`: every overlay renders and every object passes Kubernetes' strict schemas."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.k8s.manifests import Rendered
from tools import k8s_validate


def test_every_overlay_renders_and_validates_strictly(capsys: pytest.CaptureFixture[str]) -> None:
    assert k8s_validate.main([]) == 0
    out = capsys.readouterr().out
    for overlay in ("dev", "prod", "prod-pinecone"):
        assert f"ok   k8s/overlays/{overlay}:" in out


def test_the_validator_pins_an_old_and_the_newest_schema_version() -> None:
    assert len(k8s_validate.KUBERNETES_VERSIONS) >= 2
    for version in k8s_validate.KUBERNETES_VERSIONS:
        # A version without schemas would silently validate nothing.
        assert k8s_validate.validate_object(_config_map(), version) is None


def _config_map() -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}


def test_strict_mode_rejects_an_unknown_field(dev: Rendered) -> None:
    deployment = copy.deepcopy(dev.get("Deployment", "auth"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # typo
    reason = k8s_validate.validate_object(deployment, k8s_validate.KUBERNETES_VERSIONS[-1])
    assert reason is not None
    assert "readinesProbe" in reason


def test_a_wrong_type_and_an_unknown_kind_are_errors(dev: Rendered) -> None:
    version = k8s_validate.KUBERNETES_VERSIONS[0]
    hpa = copy.deepcopy(dev.get("HorizontalPodAutoscaler", "auth"))
    hpa["spec"]["minReplicas"] = "two"
    assert k8s_validate.validate_object(hpa, version) is not None
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    reason = k8s_validate.validate_object(unknown, version)
    assert reason is not None
    assert "Widget" in reason


def test_an_object_defined_twice_is_reported(dev: Rendered) -> None:
    objects = [*dev.objects, dev.get("Service", "auth")]
    problems = k8s_validate.check(objects, overlay="dev", versions=())
    assert [p.message for p in problems] == ["defined twice"]


def test_a_kustomization_that_does_not_build_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    assert k8s_validate.main([str(tmp_path)]) == 1
    assert "FAIL" in capsys.readouterr().out
