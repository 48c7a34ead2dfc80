"""Secrets of one state folder: generated once, kept in `secrets.json` (mode 600), reused."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from services.stack.files import read_json, write_json_atomic

_AUTH_FIELD = "auth_key_encryption_key"
_SOCIAL_FIELD = "social_token_encryption_keys"
_AGENT_FIELD = "agent_secret_encryption_keys"


def new_key() -> str:
    """32 random bytes, URL-safe base64 without padding."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Secrets:
    key_encryption_key: str
    """auth: encrypts the JWT signing keys at rest."""
    token_encryption_keys: str
    """social: `k1:<key>` list of keys for platform tokens (first one encrypts)."""
    secret_encryption_keys: str
    """agent: `k1:<key>` list of keys for tool secrets (API tokens, signing secrets)."""


def load_or_create(path: Path) -> Secrets:
    """The secrets in `path`; missing ones are generated and the file rewritten (mode 600)."""
    data = read_json(path)
    stored: dict[str, str] = (
        {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
    )
    wanted = {
        _AUTH_FIELD: stored.get(_AUTH_FIELD) or new_key(),
        _SOCIAL_FIELD: stored.get(_SOCIAL_FIELD) or f"k1:{new_key()}",
        _AGENT_FIELD: stored.get(_AGENT_FIELD) or f"k1:{new_key()}",
    }
    if {**stored, **wanted} != stored:
        write_json_atomic(path, {**stored, **wanted}, mode=0o600)
    elif path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return Secrets(
        key_encryption_key=wanted[_AUTH_FIELD],
        token_encryption_keys=wanted[_SOCIAL_FIELD],
        secret_encryption_keys=wanted[_AGENT_FIELD],
    )
