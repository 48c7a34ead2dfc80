"""Local stack launcher: Postgres+pgvector, Redis, NATS JetStream, the services and Envoy.

Everything runs from pip packages in the project's venv, on free loopback ports, with all data
under one state folder. `Stack` is used by the `inbetwin` command and by the pytest fixtures, so
development and tests start the platform the same way.
"""

from services.stack.stack import Stack, StackError

__all__ = ["Stack", "StackError"]
