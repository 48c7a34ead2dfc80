"""Read rendered overlays: find objects, walk pod templates, resolve a container's environment."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from services.edge.params import SERVICES

Manifest = dict[str, Any]

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "DaemonSet", "CronJob", "Pod")
GRPC_PORT = 50051


@dataclass(frozen=True, slots=True)
class Rendered:
    """One overlay, rendered by `kubectl kustomize`."""

    name: str
    objects: Sequence[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def find(self, kind: str, name: str) -> Manifest | None:
        for obj in self.of_kind(kind):
            if obj["metadata"]["name"] == name:
                return obj
        return None

    def get(self, kind: str, name: str) -> Manifest:
        obj = self.find(kind, name)
        assert obj is not None, f"{self.name}: no {kind}/{name}"
        return obj

    def workloads(self) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] in WORKLOAD_KINDS]

    def service_deployment(self, svc: str) -> Manifest:
        return self.get("Deployment", svc)

    def migration_job(self, svc: str) -> Manifest:
        return self.get("Job", f"{svc}-migrate")

    def config_data(self, name: str) -> dict[str, str]:
        """A ConfigMap's data by its generated name (kustomize has already rewritten refs)."""
        data: dict[str, str] = self.get("ConfigMap", name).get("data") or {}
        return data

    def secret_data(self, name: str) -> dict[str, str] | None:
        """A Secret's decoded data, or None when the overlay does not define the Secret."""
        secret = self.find("Secret", name)
        if secret is None:
            return None
        decoded = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        decoded.update(secret.get("stringData") or {})
        return decoded


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]
    if workload["kind"] == "Pod":
        return spec
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template: Manifest = spec["template"]["spec"]
    return template


def pod_labels(workload: Manifest) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"].get("labels") or {}
    return labels


def all_containers(spec: Manifest) -> Iterator[Manifest]:
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def container(spec: Manifest, name: str) -> Manifest:
    for c in all_containers(spec):
        if c["name"] == name:
            return c
    raise AssertionError(f"no container {name}")


@dataclass(frozen=True, slots=True)
class EnvValue:
    """Where one variable comes from, and its value when the overlay can tell."""

    source: str  # "value", "configmap", "secret", "field"
    ref: str  # the ConfigMap or Secret name (or field path)
    key: str
    value: str | None
    optional: bool = False


def environment(rendered: Rendered, c: Manifest) -> dict[str, EnvValue]:
    """A container's variables as the kubelet would set them (envFrom first, env overrides).

    `$(VAR)` references inside values are expanded from earlier variables, as the kubelet does.
    """
    result: dict[str, EnvValue] = {}
    for source in c.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            for key, value in rendered.config_data(name).items():
                result[prefix + key] = EnvValue("configmap", name, key, value)
        elif "secretRef" in source:
            name = source["secretRef"]["name"]
            for key, value in (rendered.secret_data(name) or {}).items():
                result[prefix + key] = EnvValue("secret", name, key, value)
    for var in c.get("env") or []:
        result[var["name"]] = _env_var(rendered, var, result)
    return result


def _env_var(rendered: Rendered, var: Manifest, earlier: dict[str, EnvValue]) -> EnvValue:
    if "value" in var:
        text: str = var["value"]
        for name, known in earlier.items():
            if known.value is not None:
                text = text.replace(f"$({name})", known.value)
        return EnvValue("value", "", "", text)
    source = var["valueFrom"]
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        data = rendered.config_data(ref["name"])
        assert ref["key"] in data, f"{rendered.name}: ConfigMap {ref['name']} has no {ref['key']}"
        return EnvValue("configmap", ref["name"], ref["key"], data[ref["key"]])
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        optional = bool(ref.get("optional", False))
        secret = rendered.secret_data(ref["name"])
        value = None if secret is None else secret.get(ref["key"])
        if secret is not None and not optional:
            assert value is not None, f"{rendered.name}: Secret {ref['name']} has no {ref['key']}"
        return EnvValue("secret", ref["name"], ref["key"], value, optional)
    if "fieldRef" in source:
        return EnvValue("field", source["fieldRef"]["fieldPath"], "", None)
    raise AssertionError(f"unsupported valueFrom: {source}")


def expand(text: str, env: dict[str, EnvValue]) -> str:
    """`$(VAR)` in a command or argument, as the kubelet expands it."""
    for name, value in env.items():
        if value.value is not None:
            text = text.replace(f"$({name})", value.value)
    assert "$(" not in text, f"unresolved reference in {text!r}"
    return text


def labels_match(selector: Manifest, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a set of labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def service_names() -> tuple[str, ...]:
    return SERVICES
