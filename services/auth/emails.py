"""Email normalisation: one account per mailbox whatever the case, spaces or IDN spelling."""

from __future__ import annotations

import unicodedata

import idna


def normalise_email(raw: str) -> str:
    """`  Ann@Пример.РФ. ` -> `ann@xn--e1afmkfd.xn--p1ai`.

    The domain goes through UTS #46 (IDNA 2008, non-transitional), as mail servers resolve it:
    width and case folded, `ß` kept (so `faß.de` and `fass.de` stay different domains). A domain
    IDNA 2008 refuses but IDNA 2003 takes (symbols) keeps the older encoding; the local part is
    NFC-normalised and lower-cased.
    """
    local, _, domain = raw.strip().rpartition("@")
    return f"{unicodedata.normalize('NFC', local).lower()}@{_ascii_domain(domain)}"


def _ascii_domain(domain: str) -> str:
    name = domain.strip().rstrip(".")
    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        pass
    try:
        return name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return name.lower()
