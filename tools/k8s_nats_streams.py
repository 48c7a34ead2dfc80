"""Replicate the platform's JetStream streams on N servers (`python tools/k8s_nats_streams.py`).

The services create their streams on first connect (services/kit/bus.py, `EventBus.ensure_streams`)
with one replica. In a NATS cluster this Job, run at every deploy of k8s/overlays/prod, creates
any missing stream with the kit's own configuration at N replicas and scales every existing stream
below N up to N (JetStream moves the data online), so it works whichever starts first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from services.kit.bus import DEAD_LETTER_STREAM, EVENTS_STREAM, EventBus

log = logging.getLogger("inbetwin.nats_streams")

DEFAULT_TIMEOUT_SECONDS = 120.0


async def replicate_streams(url: str, replicas: int) -> dict[str, int]:
    """Ensure the kit's streams exist and every stream has `replicas` replicas or more.

    Returns each stream's name with its replica count afterwards.
    """
    bus = await EventBus.connect(url, name="nats-streams", replicas=replicas)
    try:
        js = bus.jetstream
        # The kit's streams by name (a cluster's listing can lag a moment behind a creation).
        names = {EVENTS_STREAM, DEAD_LETTER_STREAM}
        names.update(info.config.name or "" for info in await js.streams_info())
        result: dict[str, int] = {}
        for name in sorted(names - {""}):
            info = await js.stream_info(name)
            config = info.config
            current = config.num_replicas or 1
            if current < replicas:
                log.info("scaling stream %s from %d to %d replicas", name, current, replicas)
                info = await js.update_stream(config, num_replicas=replicas)
            result[name] = info.config.num_replicas or 1
        return result
    finally:
        await bus.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/k8s_nats_streams.py", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS)
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    streams = asyncio.run(
        asyncio.wait_for(replicate_streams(args.url, args.replicas), timeout=args.timeout)
    )
    for name, count in sorted(streams.items()):
        print(f"{name}: {count} replicas")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
