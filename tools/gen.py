"""Generate Python messages, gRPC stubs, .pyi stubs and Envoy's descriptor set into gen/.

`python tools/gen.py [OUT_DIR]` writes a complete tree; `make check-gen` writes one to a temporary
folder and diffs it with the committed gen/ to catch drift.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path("proto")
THIRD_PARTY = Path("build/third_party")
# PGV's validate.proto has no Python package on PyPI, so its module is generated here too.
EXTRA_PYTHON_PROTOS = ("validate/validate.proto",)
# Envoy's transcoder needs error_details in the set, or rich errors reach REST clients empty.
EXTRA_DESCRIPTOR_PROTOS = ("google/rpc/error_details.proto",)
DESCRIPTOR_SET = Path("descriptor") / "inbetwin.pb"


def _run_protoc(args: list[str]) -> None:
    include = str(Path(protoc.__file__).parent / "_proto")
    code = protoc.main(["grpc_tools.protoc", *args, f"-I{include}"])
    if code != 0:
        raise SystemExit(f"protoc failed ({code}): {' '.join(args)}")


def _project_protos() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))


def generate(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    protos = _project_protos()
    includes = [f"-I{PROTO_ROOT}", f"-I{THIRD_PARTY}"]
    _run_protoc(
        [
            *includes,
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            *protos,
            *EXTRA_PYTHON_PROTOS,
        ]
    )
    (out / DESCRIPTOR_SET).parent.mkdir(parents=True)
    _run_protoc(
        [
            *includes,
            "--include_imports",
            f"--descriptor_set_out={out / DESCRIPTOR_SET}",
            *protos,
            *EXTRA_DESCRIPTOR_PROTOS,
        ]
    )
    for package_dir in sorted({p.parent for p in out.rglob("*_pb2.py")}):
        for parent in [package_dir, *package_dir.parents]:
            if parent == out:
                break
            (parent / "__init__.py").touch()


if __name__ == "__main__":
    generate(Path(sys.argv[1] if len(sys.argv) > 1 else "gen"))
