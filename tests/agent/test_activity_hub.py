"""The hub's in-process fast path: an action committed here reaches local watchers at once, and
its copy coming back through NATS is not delivered twice; other owners never see it."""

from __future__ import annotations

from inbetwin.agent.v1 import action_pb2

from services.agent.activity_hub import ActivityHub


def _action(status: int) -> action_pb2.AgentAction:
    return action_pb2.AgentAction(
        id="3f0c1a9e-0000-4000-8000-000000000001",
        kind=action_pb2.ACTION_KIND_TOOL_CALL,
        status=status,  # type: ignore[arg-type]
    )


async def test_local_delivery_is_not_repeated_by_the_bus_copy() -> None:
    hub = ActivityHub(queue_size=10)
    mine, theirs = hub.subscribe("owner-a"), hub.subscribe("owner-b")
    started = _action(action_pb2.ACTION_STATUS_STARTED)
    assert hub.deliver_local("owner-a", started) == 1
    assert hub.deliver("owner-a", started) == 0  # the NATS copy of the same event
    finished = _action(action_pb2.ACTION_STATUS_SUCCEEDED)
    assert hub.deliver("owner-a", finished) == 1  # committed on another instance
    assert mine.queue.qsize() == 2
    assert theirs.queue.qsize() == 0
