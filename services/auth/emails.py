"""Email normalisation: one account per mailbox whatever the case, spaces or IDN spelling."""

from __future__ import annotations


def normalise_email(raw: str) -> str:
    local, _, domain = raw.strip().rpartition("@")
    try:
        ascii_domain = domain.strip().encode("idna").decode("ascii")
    except UnicodeError:
        ascii_domain = domain.strip()
    return f"{local}@{ascii_domain}".lower()
