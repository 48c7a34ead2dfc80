"""Run every benchmark and write one report, `bench/RESULTS.md`, with the machine described.

    make bench            # all of them (about 12 minutes on 2 cores)
    python -m bench.run_all --only gateway,watch

Each benchmark starts its own platform in a temporary folder and prints markdown tables; this
runner collects their output as it is, so a number in the report is exactly what a run printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS: dict[str, tuple[str, str]] = {
    "gateway": ("bench.gateway", "REST via Envoy vs native gRPC via Envoy vs direct gRPC"),
    "auth_login": ("bench.auth_login", "login latency with the chosen argon2id cost"),
    "webhooks": ("bench.webhooks", "Telegram webhooks through Envoy: ack latency, exactly once"),
    "watch": ("bench.watch", "live activity fan-out: 100 subscribers"),
    "rag": ("bench.rag", "rag search latency at 100k chunks, indexing throughput"),
    "e2e": ("bench.e2e", "webhook in → reply out, end to end"),
}
RESULTS = Path(__file__).with_name("RESULTS.md")


def describe_machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split()[1])
        memory = f", {total_kib / 1024 / 1024:.0f} GiB RAM"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {load:.2f} at the start. "
        "Load generators share the cores with the servers."
    )


def run(module: str) -> tuple[str, int, float]:
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", module], capture_output=True, text=True, check=False
    )
    output = completed.stdout.strip() or completed.stderr.strip()[-2000:]
    return output, completed.returncode, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(BENCHMARKS)
    sections = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M UTC} on {describe_machine()}",
        "",
    ]
    failed = []
    for name in chosen:
        module, title = BENCHMARKS[name]
        print(f"running {module} ...", flush=True)
        output, code, seconds = run(module)
        status = "" if code == 0 else f" — FAILED (exit {code})"
        if code:
            failed.append(name)
        sections += [
            f"## {name}: {title}{status}",
            "",
            f"`python -m {module}`, {seconds:.0f} s",
            "",
            output,
            "",
        ]
        print(output, flush=True)
    RESULTS.write_text("\n".join(sections))
    print(f"wrote {RESULTS}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
