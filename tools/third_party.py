"""Lay out third-party .proto files from installed packages under build/third_party.

No third-party contract is committed: googleapis' annotations, HttpBody and rich-error protos come
from `googleapis-common-protos`, and PGV's `validate.proto` from `protoc-gen-validate` (which
installs it as data under `<prefix>/data/validate.proto`). buf and protoc both read this folder.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path

GOOGLEAPIS_FILES = (
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/api/httpbody.proto",
    "google/api/field_behavior.proto",
    "google/api/resource.proto",
    "google/rpc/status.proto",
    "google/rpc/code.proto",
    "google/rpc/error_details.proto",
)


def _validate_proto() -> Path:
    candidates = [
        Path(sys.prefix) / "data" / "validate.proto",
        Path(sysconfig.get_paths()["data"]) / "data" / "validate.proto",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SystemExit("validate.proto not found: is protoc-gen-validate installed in this venv?")


def main(out_dir: str = "build/third_party") -> None:
    out = Path(out_dir)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for relative in GOOGLEAPIS_FILES:
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(site_packages / relative, target)
    validate_target = out / "validate" / "validate.proto"
    validate_target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_validate_proto(), validate_target)


if __name__ == "__main__":
    main(*sys.argv[1:])
