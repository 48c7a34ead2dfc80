"""`inbetwin up | down | status | url`: the local stack from the command line (`make up` runs `up`)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from services.edge.params import SERVICES
from services.stack import control
from services.stack.paths import StatePaths, resolve_state_dir
from services.stack.stack import DEFAULT_TIMEOUT_SECONDS, Stack, StackError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _say(message: str) -> None:
    print(message, flush=True)


def _parse_services(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _summary(stack: Stack, infra_only: bool) -> str:
    topology = stack.topology
    lines = [f"inBeTwin is up in {stack.elapsed or 0:.1f} s (state: {stack.paths.root})"]
    if not infra_only and stack.edge:
        lines += [
            f"  REST      {topology.public_url}",
            f"  gRPC      {topology.edge_address}  (Envoy; admin {topology.envoy_admin_url})",
            f"  stats     {topology.envoy_stats_url}  (Envoy, Prometheus format)",
        ]
    for name in [] if infra_only else stack.services:
        lines.append(
            f"  {name:<9} {topology.service_address(name)}  (direct gRPC; "
            f"metrics {topology.metrics_url(name)})"
        )
    lines += [
        f"  Postgres  {topology.postgres_dsn('<service>')}",
        f"  Redis     {topology.redis_url}",
        f"  NATS      {topology.nats_url}  (monitor {topology.nats_monitor_url})",
        f"  logs      {stack.logs_dir}",
        "Ctrl-C (or `inbetwin down` / `make down` elsewhere) stops everything.",
    ]
    return "\n".join(lines)


def _up(args: argparse.Namespace) -> int:
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            return  # already stopping: let the clean stop finish
        stopping.set()
        raise KeyboardInterrupt

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    stack = Stack(
        args.state_dir,
        services=_parse_services(args.services),
        edge=not args.no_edge,
        timeout=args.timeout,
        on_event=lambda message: _say(f"  {message}"),
    )
    code = 0
    try:
        _say(f"starting inBeTwin from {stack.paths.root} ...")
        if args.infra_only:
            stack.start_infra()
        else:
            stack.start()
        _say(_summary(stack, args.infra_only))
        reported: set[str] = set()
        while not stopping.wait(1.0):
            for name, alive in stack.running().items():
                if not alive and name not in reported:
                    reported.add(name)
                    _say(f"warning: {name} exited; see {stack.paths.log(name)}")
    except KeyboardInterrupt:
        _say("stopping ...")
    except (StackError, OSError) as error:
        print(f"inbetwin up failed: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        stopping.set()
        stack.stop()
    return code


def _down(args: argparse.Namespace) -> int:
    paths = StatePaths(resolve_state_dir(args.state_dir))
    stopped = control.down(paths)
    _say(f"stopped: {', '.join(stopped)}" if stopped else f"nothing was running in {paths.root}")
    return 0


def _status(args: argparse.Namespace) -> int:
    paths = StatePaths(resolve_state_dir(args.state_dir))
    current = control.status(paths)
    if not current.processes:
        _say(f"not running ({paths.root})")
        return 3
    owner = f"owner pid {current.owner_pid}" if current.owner_pid else "no owner process"
    _say(f"state {paths.root} ({owner})")
    for name, (pid, alive) in sorted(current.processes.items()):
        _say(f"  {name:<9} pid {pid:<8} {'running' if alive else 'DEAD'}")
    for key, value in current.endpoints.items():
        _say(f"  {key:<16} {value}")
    return 0 if current.running else 3


def _url(args: argparse.Namespace) -> int:
    """Print one endpoint of the running stack, for scripts: `API=$(inbetwin url rest)`."""
    paths = StatePaths(resolve_state_dir(args.state_dir))
    value = control.status(paths).endpoints.get(args.name)
    if value is None:
        print(f"no endpoint {args.name!r}: is the stack up?", file=sys.stderr)
        return 3
    print(value)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inbetwin", description="inBeTwin local stack")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="all data, logs and pid files (default: $INBETWIN_STATE_DIR or <repo>/.state)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start everything and stay in the foreground")
    up.add_argument(
        "--services", help=f"comma-separated subset of {','.join(SERVICES)} (default: all)"
    )
    up.add_argument("--infra-only", action="store_true", help="only Postgres, Redis and NATS")
    up.add_argument("--no-edge", action="store_true", help="do not start Envoy")
    up.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds each component may take to become ready",
    )
    up.set_defaults(handler=_up)
    commands.add_parser("down", help="stop the stack of the state folder").set_defaults(
        handler=_down
    )
    commands.add_parser("status", help="show what is running").set_defaults(handler=_status)
    url = commands.add_parser(
        "url", help="print one endpoint (rest, grpc, service.auth, metrics.auth, envoy_stats, ...)"
    )
    url.add_argument("name", nargs="?", default="rest")
    url.set_defaults(handler=_url)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sys.exit(args.handler(args))


if __name__ == "__main__":
    main()
