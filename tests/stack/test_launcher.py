"""The launcher's own pieces without servers: environment contract, secrets, Envoy inputs,
process stop by pid."""

from __future__ import annotations

import base64
import json
import signal
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from services.edge.params import SERVICES
from services.stack import Stack, StackError, envoy
from services.stack.environment import service_environment
from services.stack.paths import DESCRIPTOR_PATH, StatePaths
from services.stack.ports import PortBook
from services.stack.processes import is_running, recorded, spawn, stop_all
from services.stack.secret_store import Secrets, load_or_create
from services.stack.topology import Topology, port_names
from services.stack.waiting import StartupError, wait_until

SECRETS = Secrets(
    key_encryption_key="kek", token_encryption_keys="k1:tek", secret_encryption_keys="k1:sek"
)
PORTS = {name: 20000 + index for index, name in enumerate(port_names())}


def _topology() -> Topology:
    return Topology.from_ports(PORTS, SECRETS)


def test_every_service_gets_the_common_variables_and_its_peers() -> None:
    topology = _topology()
    for name in SERVICES:
        env = service_environment(name, topology)
        prefix = f"INBETWIN_{name.upper()}_"
        assert all(key.startswith(prefix) for key in env)
        assert env[prefix + "GRPC_HOST"] == "127.0.0.1"
        assert env[prefix + "GRPC_PORT"] == str(PORTS[name])
        assert env[prefix + "DATABASE_URL"] == (
            f"postgresql+asyncpg://inbetwin@127.0.0.1:{PORTS['postgres']}/{name}"
        )
        assert env[prefix + "REDIS_URL"] == f"redis://127.0.0.1:{PORTS['redis']}/0"
        assert env[prefix + "NATS_URL"] == f"nats://127.0.0.1:{PORTS['nats']}"
        assert env[prefix + "LOG_LEVEL"] == "INFO"
        peers = {key for key in env if key.endswith("_ADDR")}
        assert peers == {f"{prefix}{peer.upper()}_ADDR" for peer in SERVICES if peer != name}
        for peer in SERVICES:
            if peer != name:
                assert env[f"{prefix}{peer.upper()}_ADDR"] == f"127.0.0.1:{PORTS[peer]}"


def test_auth_and_social_get_their_own_settings() -> None:
    topology = _topology()
    edge = f"http://127.0.0.1:{PORTS['envoy']}"
    auth = service_environment("auth", topology)
    assert auth["INBETWIN_AUTH_JWT_ISSUER"] == edge
    assert auth["INBETWIN_AUTH_JWT_AUDIENCE"] == "inbetwin"
    assert auth["INBETWIN_AUTH_KEY_ENCRYPTION_KEY"] == "kek"
    social = service_environment("social", topology)
    assert social["INBETWIN_SOCIAL_PUBLIC_BASE_URL"] == edge
    assert social["INBETWIN_SOCIAL_TOKEN_ENCRYPTION_KEYS"] == "k1:tek"
    llm = service_environment("llm", topology)
    assert not any(key.endswith(("JWT_ISSUER", "PUBLIC_BASE_URL")) for key in llm)
    with pytest.raises(ValueError, match="unknown service"):
        service_environment("nope", topology)


def test_secrets_are_made_once_private_and_well_formed(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.urlsafe_b64decode(first.key_encryption_key + "=")) == 32
    assert "=" not in first.key_encryption_key
    label, _, key = first.token_encryption_keys.partition(":")
    assert label == "k1"
    assert len(base64.urlsafe_b64decode(key + "=")) == 32
    assert load_or_create(path) == first
    assert first != load_or_create(tmp_path / "other.json")
    assert set(json.loads(path.read_text())) == {
        "auth_key_encryption_key",
        "social_token_encryption_keys",
        "agent_secret_encryption_keys",
    }


def test_port_book_remembers_ports(tmp_path: Path) -> None:
    book = PortBook(tmp_path / "ports.json")
    first = book.allocate(port_names())
    assert len(set(first.values())) == len(first)
    assert PortBook(tmp_path / "ports.json").allocate(port_names()) == first


def test_edge_params_follow_the_topology(tmp_path: Path) -> None:
    topology = _topology()
    params = envoy.edge_params(topology, StatePaths(tmp_path))
    assert (params.listen_host, params.listen_port) == ("127.0.0.1", PORTS["envoy"])
    assert params.admin_port == PORTS["envoy-admin"]
    assert {name: u.port for name, u in params.upstreams.items()} == {
        name: PORTS[name] for name in SERVICES
    }
    assert params.descriptor_path == DESCRIPTOR_PATH
    assert params.jwt_issuer == service_environment("auth", topology)["INBETWIN_AUTH_JWT_ISSUER"]
    assert params.jwt_audience == "inbetwin"
    assert (params.jwks_host, params.jwks_port) == ("127.0.0.1", PORTS["envoy"])
    assert params.cors_allowed_origins == ("http://localhost:5173",)
    assert params.access_log_path == str(tmp_path / "logs" / "envoy-access.log")


STUBBORN = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('sigterm' + ' ignored', flush=True)\n"
    "time.sleep(120)\n"
)


def test_stop_escalates_to_sigkill_and_forgets_the_pid(tmp_path: Path) -> None:
    state = StatePaths(tmp_path)
    state.create()
    process = spawn(
        "stubborn",
        [sys.executable, "-c", STUBBORN],
        env={},
        cwd=tmp_path,
        log_path=state.log("stubborn"),
        pid_dir=state.run,
    )
    wait_until(
        lambda: "sigterm ignored" in state.log("stubborn").read_text(),
        what="stubborn",
        timeout=20,
        cancel=threading.Event(),
        process=process,
    )
    assert set(recorded(state.run, state.logs)) == {"stubborn"}
    started = time.monotonic()
    stop_all([process], grace=0.5)
    assert 0.5 <= time.monotonic() - started < 10
    assert not process.alive()
    assert process.exit_code() == -signal.SIGKILL
    assert recorded(state.run, state.logs) == {}


def test_a_recycled_pid_is_not_ours(tmp_path: Path) -> None:
    state = StatePaths(tmp_path)
    state.create()
    process = spawn(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={},
        cwd=tmp_path,
        log_path=state.log("sleeper"),
        pid_dir=state.run,
    )
    try:
        assert is_running(process.pid, process.record.start_ticks)
        assert not is_running(process.pid, process.record.start_ticks + 1)
    finally:
        process.stop(grace=5)
    assert not is_running(process.pid, process.record.start_ticks)


def test_waiting_fails_fast_when_the_process_exits(tmp_path: Path) -> None:
    state = StatePaths(tmp_path)
    state.create()
    process = spawn(
        "crasher",
        [sys.executable, "-c", "import sys; print('bad config'); sys.exit(3)"],
        env={},
        cwd=tmp_path,
        log_path=state.log("crasher"),
        pid_dir=state.run,
    )
    with pytest.raises(StartupError, match=r"(?s)exited with code 3.*bad config"):
        wait_until(
            lambda: False, what="crasher", timeout=30, cancel=threading.Event(), process=process
        )
    stop_all([process])


def test_extra_env_extends_and_overrides_one_service(tmp_path: Path) -> None:
    stack = Stack(tmp_path, services=())
    stack._topology = _topology()  # as after start(), without starting anything
    extra = {
        "social": {
            "INBETWIN_SOCIAL_TELEGRAM_API_URL": "http://x",
            "INBETWIN_SOCIAL_LOG_LEVEL": "DEBUG",
        }
    }
    social = stack.service_env("social", extra)
    assert social["INBETWIN_SOCIAL_TELEGRAM_API_URL"] == "http://x"
    assert social["INBETWIN_SOCIAL_LOG_LEVEL"] == "DEBUG"
    assert social["INBETWIN_SOCIAL_GRPC_PORT"] == str(PORTS["social"])
    assert social["PYTHONUNBUFFERED"] == "1"
    auth = stack.service_env("auth", extra)
    assert "INBETWIN_SOCIAL_TELEGRAM_API_URL" not in auth
    with pytest.raises(StackError, match="unknown services"):
        stack.start({"nope": {}})
