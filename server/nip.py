"""NIP (Polish tax id): normalise what people type, and check the checksum.

Symfonia stores NIP as typed ("PL 526-025-09-95", "526 025 09 95", "5260250995");
shops keep whatever the checkout plugin took. Pairing compares normalised numbers.
"""

from __future__ import annotations

import re

WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
_SEPARATORS = re.compile(r"[\s\-./]")


def normalize_nip(raw: str | None) -> str:
    """Strip a PL prefix, spaces, dashes, dots and slashes. May still be invalid."""
    if not raw:
        return ""
    s = _SEPARATORS.sub("", str(raw)).upper()
    if s.startswith("PL"):
        s = s[2:]
    return s


def is_valid_nip(nip10: str) -> bool:
    """Ten digits whose weighted sum mod 11 equals the last digit (10 is never valid)."""
    if len(nip10) != 10 or not nip10.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(nip10, WEIGHTS))
    return total % 11 == int(nip10[9])


def valid_nip_or_none(raw: str | None) -> str | None:
    """The normalised NIP when valid, else None."""
    nip = normalize_nip(raw)
    return nip if is_valid_nip(nip) else None


def check_digit(first9: str) -> int | None:
    """The tenth digit for nine digits, or None when no digit makes them valid."""
    d = sum(int(c) * w for c, w in zip(first9, WEIGHTS)) % 11
    return None if d == 10 else d
